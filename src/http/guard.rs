//! A guard on each connection's incoming bytes, so that a request actix-http's parser would
//! refuse before any of our code runs — a request line too long for a URI, a head beyond its
//! buffer, a malformed header — is answered with problem details like every other error,
//! not with an empty 400 or 431.
//!
//! The guard holds each request head back until it is complete, checks it as actix-http
//! would (httparse, `http::Uri`), and passes it on; a body goes through as it comes (by
//! Content-Length; a chunked one ends the guarding for that connection, as nothing after it
//! can be framed without parsing the chunks). A head it refuses is replaced by a request for
//! [`REFUSED_PATH`], which the application answers with the problem, and the connection then
//! closes.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::web::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Longer request lines are answered 414 (nginx refuses beyond 8 KB, actix-http's URI type
/// beyond 64 KB).
pub const MAX_REQUEST_LINE: usize = 16 << 10;
/// Longer request heads are answered 431 (actix-http's own buffer is 128 KB).
pub const MAX_HEAD: usize = 64 << 10;
/// As many headers as actix-http takes.
const MAX_HEADERS: usize = 96;

/// Where a refused request is sent instead: `?status=…&reason=…`.
pub const REFUSED_PATH: &str = "/.well-known/boligsocial/refused";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Reading a request head.
    Head,
    /// This many bytes of a body still to pass.
    Body(u64),
    /// Past what can be framed: everything passes.
    Through,
    /// A refusal was handed on; nothing more is read.
    Refused,
}

pub struct Guarded<T> {
    io: T,
    mode: Mode,
    /// Bytes of a head not complete yet.
    head: BytesMut,
    /// Bytes checked and ready for the reader.
    ready: BytesMut,
    eof: bool,
    /// Where the request line of the head held back ends, once seen.
    line_end: Option<usize>,
}

impl<T> Guarded<T> {
    pub fn new(io: T) -> Self {
        Guarded { io, mode: Mode::Head, head: BytesMut::new(), ready: BytesMut::new(), eof: false, line_end: None }
    }

    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// Looks at bytes that follow what was passed so far (with no head held back): how many
    /// of them may pass, and a refusal when the request after those is refused. Bytes after
    /// the ones that pass, when there is no refusal, are the start of a head to hold back.
    fn scan(&mut self, bytes: &[u8]) -> (usize, Option<(u16, &'static str)>) {
        let mut i = 0;
        while i < bytes.len() {
            match self.mode {
                Mode::Through => return (bytes.len(), None),
                Mode::Refused => return (i, None),
                Mode::Body(left) => {
                    let n = (bytes.len() - i).min(usize::try_from(left).unwrap_or(usize::MAX));
                    i += n;
                    self.mode = if left == n as u64 { Mode::Head } else { Mode::Body(left - n as u64) };
                }
                Mode::Head => match find_head_end(&bytes[i..]) {
                    Some(at) => match check(&bytes[i..i + at + 4]) {
                        Ok(next) => {
                            i += at + 4;
                            self.mode = next;
                        }
                        Err(refusal) => return (i, Some(refusal)),
                    },
                    None => return (i, too_long(&bytes[i..])),
                },
            }
        }
        (i, None)
    }

    /// Takes in bytes from the connection, after a head was held back.
    fn take_in(&mut self, bytes: &[u8]) {
        if self.mode == Mode::Head && !self.head.is_empty() {
            // still the same head? look at the new bytes only, so that a head arriving a byte
            // at a time costs no more than one arriving whole
            let from = self.head.len().saturating_sub(3);
            self.head.extend_from_slice(bytes);
            if find_head_end(&self.head[from..]).is_none() {
                if let Some((status, reason)) = self.held_too_long(from) {
                    self.refuse(status, reason);
                }
                return;
            }
        } else {
            self.head.extend_from_slice(bytes);
        }
        let held = self.head.split();
        let (pass, refusal) = self.scan(&held);
        self.ready.extend_from_slice(&held[..pass]);
        match refusal {
            Some((status, reason)) => self.refuse(status, reason),
            None if self.mode == Mode::Head => self.hold(&held[pass..]),
            None => {}
        }
    }

    /// Holds back the start of a head (nothing is held yet).
    fn hold(&mut self, partial: &[u8]) {
        self.head.extend_from_slice(partial);
        let start = partial.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
        self.line_end = partial[start..].iter().position(|&b| b == b'\n');
    }

    /// [`too_long`] for the head held back, looking for its line's end from `from` only.
    fn held_too_long(&mut self, from: usize) -> Option<(u16, &'static str)> {
        // (the part held before was searched when it was held)
        if self.line_end.is_none() {
            let start = self.head.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
            self.line_end = self.head[from.max(start)..].iter().position(|&b| b == b'\n').map(|p| p + from.max(start) - start);
        }
        limits(self.head.len(), self.line_end)
    }

    fn refuse(&mut self, status: u16, reason: &str) {
        self.head.clear();
        self.line_end = None;
        let reason: String = form_urlencoded::byte_serialize(reason.as_bytes()).collect();
        self.ready.extend_from_slice(
            format!("GET {REFUSED_PATH}?status={status}&reason={reason} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
                .as_bytes(),
        );
        self.mode = Mode::Refused;
    }
}

/// Whether a head that is not complete yet is already too long.
fn too_long(partial: &[u8]) -> Option<(u16, &'static str)> {
    let start = partial.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
    limits(partial.len(), partial[start..].iter().position(|&b| b == b'\n'))
}

fn limits(head_len: usize, line_end: Option<usize>) -> Option<(u16, &'static str)> {
    if line_end.is_none_or(|l| l > MAX_REQUEST_LINE) && (line_end.is_some() || head_len > MAX_REQUEST_LINE) {
        Some((414, "the request line is longer than 16 KB"))
    } else if head_len > MAX_HEAD {
        Some((431, "the request's header fields are longer than 64 KB"))
    } else {
        None
    }
}

/// Where the end of a head (`\r\n\r\n`) starts; the searcher is built once, not per head.
fn find_head_end(haystack: &[u8]) -> Option<usize> {
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\r\n\r\n"));
    FINDER.find(haystack)
}

/// The bytes of an origin-form request target that need no further look: every head is
/// checked, and a table is a tenth of the cost of searching a list for each byte.
const PLAIN_TARGET: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let others = b"/?&=%-._~,;:+*!$'()@";
    let mut i = 0;
    while i < others.len() {
        table[others[i] as usize] = true;
        i += 1;
    }
    table
};

/// Checks a complete head as actix-http will parse it; what follows it.
fn check(head: &[u8]) -> Result<Mode, (u16, &'static str)> {
    // (uninitialised: httparse writes each header it finds, and this runs for every request)
    let mut headers = [const { std::mem::MaybeUninit::<httparse::Header>::uninit() }; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    match req.parse_with_uninit_headers(head, &mut headers) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err((400, "the request head is malformed")),
        Err(httparse::Error::TooManyHeaders) => return Err((431, "the request has more than 96 header fields")),
        Err(_) => return Err((400, "the request head is malformed")),
    }
    let line_end = head.iter().skip_while(|b| matches!(b, b'\r' | b'\n')).position(|&b| b == b'\n').unwrap_or(head.len());
    if line_end > MAX_REQUEST_LINE {
        return Err((414, "the request line is longer than 16 KB"));
    }
    let path = req.path.unwrap_or("");
    // (an origin-form target of these characters is a URI; anything else is parsed as
    // actix-http will)
    let plain = path.starts_with('/') && path.bytes().all(|b| PLAIN_TARGET[usize::from(b)]);
    if !plain && path.parse::<actix_web::http::Uri>().is_err() {
        return Err((400, "the request target is no valid URI"));
    }
    let mut length = None;
    for h in req.headers.iter() {
        if h.name.eq_ignore_ascii_case("transfer-encoding") {
            return Ok(Mode::Through);
        }
        if h.name.eq_ignore_ascii_case("content-length") {
            match std::str::from_utf8(h.value).ok().and_then(|v| v.trim().parse::<u64>().ok()) {
                Some(n) if length.is_none_or(|m| m == n) => length = Some(n),
                _ => return Err((400, "the request's Content-Length is invalid")),
            }
        }
    }
    Ok(match length {
        Some(n) if n > 0 => Mode::Body(n),
        _ => Mode::Head,
    })
}

impl<T: AsyncRead + Unpin> AsyncRead for Guarded<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if !this.ready.is_empty() {
                let n = this.ready.len().min(buf.remaining());
                buf.put_slice(&this.ready.split_to(n));
                return Poll::Ready(Ok(()));
            }
            if this.mode == Mode::Refused {
                // the refusal's answer closes the connection; nothing more is read
                return Poll::Pending;
            }
            if this.eof {
                return Poll::Ready(Ok(()));
            }
            if this.head.is_empty() {
                // the usual case: read into the reader's buffer and look at the bytes there
                let start = buf.filled().len();
                match Pin::new(&mut this.io).poll_read(cx, buf) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Ready(Ok(())) if buf.filled().len() == start => {
                        this.eof = true;
                        return Poll::Ready(Ok(()));
                    }
                    Poll::Ready(Ok(())) => {}
                }
                let (pass, refusal) = this.scan(&buf.filled()[start..]);
                match refusal {
                    Some((status, reason)) => this.refuse(status, reason),
                    None if this.mode == Mode::Head => {
                        let partial = buf.filled()[start + pass..].to_vec();
                        this.hold(&partial);
                    }
                    None => {}
                }
                buf.set_filled(start + pass);
                if pass > 0 {
                    return Poll::Ready(Ok(()));
                }
                continue;
            }
            let mut chunk = [std::mem::MaybeUninit::<u8>::uninit(); 16 << 10];
            let mut read = ReadBuf::uninit(&mut chunk);
            match Pin::new(&mut this.io).poll_read(cx, &mut read) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) if read.filled().is_empty() => {
                    // the peer is done: a partial head goes to actix-http as it is
                    this.eof = true;
                    let partial = this.head.split();
                    this.ready.extend_from_slice(&partial);
                }
                Poll::Ready(Ok(())) => {
                    let filled = read.filled().to_vec();
                    this.take_in(&filled);
                }
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Guarded<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the guard passes on for input delivered in the given pieces.
    fn through(pieces: &[&[u8]]) -> (Vec<u8>, Mode) {
        let mut g = Guarded::new(());
        for p in pieces {
            g.take_in(p);
        }
        (g.ready.to_vec(), g.mode)
    }

    /// The same through the reader, as actix-http reads it, in pieces of `size`.
    async fn read_through(input: &[u8], size: usize) -> Vec<u8> {
        use tokio::io::AsyncReadExt;
        let (mut client, server) = tokio::io::duplex(1 << 20);
        let input = input.to_vec();
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            for piece in input.chunks(size) {
                client.write_all(piece).await.unwrap();
                tokio::task::yield_now().await;
            }
        });
        let mut g = Guarded::new(server);
        let mut out = Vec::new();
        let mut buf = [0u8; 7];
        while let Ok(Ok(n)) = tokio::time::timeout(std::time::Duration::from_millis(200), g.read(&mut buf)).await {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    #[tokio::test]
    async fn the_reader_passes_what_take_in_does() {
        let input = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\ncontent-length: 5\r\n\r\nhelloGET /c HTTP/1.1\r\n\r\n";
        for size in [1, 2, 5, 16, 1000] {
            assert_eq!(read_through(input, size).await, input, "pieces of {size}");
        }
        let refused = b"GET /a HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nBad Header\r\n\r\nGET /after HTTP/1.1\r\n\r\n";
        for size in [1, 3, 1000] {
            let out = read_through(refused, size).await;
            assert!(
                out.starts_with(b"GET /a HTTP/1.1\r\n\r\nGET /.well-known/boligsocial/refused?status=400"),
                "{size}: {}",
                String::from_utf8_lossy(&out)
            );
            assert!(!String::from_utf8_lossy(&out).contains("/after"));
        }
    }

    #[test]
    fn a_large_head_in_pieces_is_431_not_414() {
        let mut g = Guarded::new(());
        g.take_in(b"GET / HTTP/1.1\r\nX-Big: ");
        g.take_in("b".repeat(70_000).as_bytes());
        assert!(String::from_utf8_lossy(&g.ready).contains("status=431"), "{}", String::from_utf8_lossy(&g.ready));
    }

    #[test]
    fn a_head_a_byte_at_a_time_is_looked_at_once() {
        // (quadratic rescanning would take minutes here)
        let mut g = Guarded::new(());
        for &b in format!("GET /{} HTTP/1.1\r\n", "a".repeat(10_000)).as_bytes() {
            g.take_in(&[b]);
        }
        g.take_in(b"X-A: ");
        for _ in 0..60_000 {
            g.take_in(b"a");
        }
        assert!(String::from_utf8_lossy(&g.ready).contains("status=431"), "a head beyond 64 KB is refused as it grows");
    }

    #[test]
    fn passes_requests_bodies_and_pipelines_as_they_are() {
        let two = b"GET /v1/areas HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_eq!(through(&[two]).0, two);
        // in any pieces
        let pieces: Vec<&[u8]> = two.chunks(3).collect();
        assert_eq!(through(&pieces).0, two);
        let post = b"POST /v1/admin/imports HTTP/1.1\r\nContent-Length: 10\r\n\r\n\r\n\r\n\r\n\r\nabGET / HTTP/1.1\r\n\r\n";
        let (out, mode) = through(&[post]);
        assert_eq!(out, post, "a body that looks like heads is a body");
        assert_eq!(mode, Mode::Head);
        let chunked = b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
        assert_eq!(through(&[chunked]), (chunked.to_vec(), Mode::Through));
        // an incomplete head is held back
        assert_eq!(through(&[b"GET /v1/areas HTTP/1.1\r\nHo"]).0, b"");
    }

    fn refusal(out: &[u8]) -> String {
        let text = String::from_utf8_lossy(out);
        assert!(text.starts_with(&format!("GET {REFUSED_PATH}?status=")), "{text}");
        text.into_owned()
    }

    #[test]
    fn refuses_what_actix_http_would_answer_without_a_body() {
        let long = format!("GET /v1/areas?q={} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(100_000));
        let (out, mode) = through(&[long.as_bytes()]);
        assert!(refusal(&out).contains("status=414"));
        assert_eq!(mode, Mode::Refused);
        // refused before the line ends, without holding it all
        let (out, _) = through(&[format!("GET /{}", "a".repeat(20_000)).as_bytes()]);
        assert!(refusal(&out).contains("status=414"));
        let big = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n", "a".repeat(70_000));
        assert!(refusal(&through(&[big.as_bytes()]).0).contains("status=431"));
        let many: String = (0..100).map(|i| format!("X-{i}: y\r\n")).collect();
        assert!(refusal(&through(&[format!("GET / HTTP/1.1\r\n{many}\r\n").as_bytes()]).0).contains("status=431"));
        assert!(refusal(&through(&[b"GET / HTTP/1.1\r\nBad Header\r\n\r\n"]).0).contains("status=400"));
        assert!(refusal(&through(&[b"GET /\x7f HTTP/1.1\r\n\r\n"]).0).contains("status=400"));
        assert!(refusal(&through(&[b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"]).0).contains("status=400"));
        // what came before a refused request passes
        let (out, _) = through(&[b"GET /a HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nBad Header\r\n\r\n"]);
        assert!(out.starts_with(b"GET /a HTTP/1.1\r\n\r\nGET /.well-known/"));
    }
}
