//! Web caching for the read endpoints: strong ETags from the dataset version and the request,
//! `If-None-Match` → 304 without running the handler, `Cache-Control`, HEAD, and the response
//! bytes kept per dataset version with their gzip and brotli variants made once.
//!
//! A response depends only on the served dataset version and the request (path, query,
//! `Accept`, `Accept-Language`), so that pair names it; the content coding is part of the
//! ETag too, as a strong validator must differ between codings.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use sha2::{Digest, Sha256};

use crate::api::params::DATASET_VERSION_HEADER;
use crate::snapshot::SnapshotCell;

/// Bodies smaller than this are not worth compressing.
const MIN_COMPRESS_BYTES: usize = 512;

/// Headers of a cached response that are replayed with it.
const KEPT_HEADERS: [HeaderName; 4] =
    [header::CONTENT_TYPE, header::CONTENT_LANGUAGE, header::CONTENT_DISPOSITION, DATASET_VERSION_HEADER];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Gzip,
    Brotli,
}

impl Coding {
    fn suffix(self) -> &'static str {
        match self {
            Coding::Identity => "",
            Coding::Gzip => "-gz",
            Coding::Brotli => "-br",
        }
    }

    fn header(self) -> Option<&'static str> {
        match self {
            Coding::Identity => None,
            Coding::Gzip => Some("gzip"),
            Coding::Brotli => Some("br"),
        }
    }

    /// The best coding the client accepts: brotli, then gzip, else none.
    pub fn negotiate(accept_encoding: Option<&str>) -> Coding {
        let mut br = false;
        let mut gzip = false;
        for part in accept_encoding.unwrap_or("").split(',') {
            let mut pieces = part.split(';');
            let name = pieces.next().unwrap_or("").trim();
            let q = pieces.filter_map(|p| p.trim().strip_prefix("q=")).find_map(|q| q.trim().parse::<f32>().ok()).unwrap_or(1.0);
            if q <= 0.0 {
                continue;
            }
            if name.eq_ignore_ascii_case("br") {
                br = true;
            } else if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                gzip = true;
            } else if name == "*" {
                br = true;
                gzip = true;
            }
        }
        if br {
            Coding::Brotli
        } else if gzip {
            Coding::Gzip
        } else {
            Coding::Identity
        }
    }
}

/// A response kept for a dataset version, with its compressed variants made on first use.
pub struct Entry {
    headers: Vec<(HeaderName, HeaderValue)>,
    identity: Bytes,
    gzip: OnceLock<Bytes>,
    brotli: OnceLock<Bytes>,
}

impl Entry {
    fn body(&self, coding: Coding) -> Bytes {
        match coding {
            Coding::Identity => self.identity.clone(),
            Coding::Gzip => self.gzip.get_or_init(|| gzip(&self.identity)).clone(),
            Coding::Brotli => self.brotli.get_or_init(|| brotli(&self.identity)).clone(),
        }
    }
}

pub fn gzip(data: &[u8]) -> Bytes {
    let mut e = flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 4), flate2::Compression::new(6));
    e.write_all(data).expect("writing to memory");
    Bytes::from(e.finish().expect("writing to memory"))
}

pub fn brotli(data: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(data.len() / 5);
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 64 * 1024, 6, 22);
        w.write_all(data).expect("writing to memory");
    }
    Bytes::from(out)
}

#[derive(Default)]
struct State {
    version: Option<i64>,
    entries: HashMap<[u8; 16], Arc<Entry>>,
    bytes: usize,
}

/// The kept responses of the served dataset version; emptied when it changes.
pub struct ResponseCache {
    state: Mutex<State>,
    capacity: usize,
    /// `Cache-Control` of every cached answer, made once.
    cache_control: HeaderValue,
    pub snapshot: Arc<SnapshotCell>,
}

impl ResponseCache {
    pub fn new(snapshot: Arc<SnapshotCell>, capacity: usize, max_age: u64) -> Self {
        let cache_control = HeaderValue::from_str(&format!("public, max-age={max_age}")).expect("digits are a valid header value");
        ResponseCache { state: Mutex::new(State::default()), capacity, cache_control, snapshot }
    }

    fn get(&self, version: i64, key: &[u8; 16]) -> Option<Arc<Entry>> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        (state.version == Some(version)).then(|| state.entries.get(key).cloned()).flatten()
    }

    /// Keeps an answer, unless it would take more than half the cache: larger ones are
    /// served but not kept.
    fn put(&self, version: i64, key: [u8; 16], entry: Arc<Entry>) {
        if entry.identity.len() > self.capacity / 2 {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.version != Some(version) {
            *state = State { version: Some(version), ..State::default() };
        }
        let size = entry.identity.len();
        if state.bytes + size > self.capacity {
            // simple and bounded: start over rather than track recency
            state.entries.clear();
            state.bytes = 0;
        }
        state.bytes += size;
        state.entries.insert(key, entry);
    }
}

/// Which paths are answered from a dataset version alone.
fn cacheable(path: &str) -> bool {
    (path.starts_with("/v1/") && !path.starts_with("/v1/datasets") && !path.starts_with("/v1/admin"))
        || path == "/ogc"
        || path.starts_with("/ogc/")
}

fn request_key(req: &ServiceRequest) -> [u8; 16] {
    let mut h = Sha256::new();
    h.update(req.path().as_bytes());
    h.update([0]);
    h.update(req.query_string().as_bytes());
    h.update([0]);
    // what the answer depends on, not the headers' spelling: whether CSV is asked for, and
    // which language the labels are in (so `*/*`, no Accept at all, `en-GB` and `en` share)
    let text = |name: HeaderName| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    h.update([u8::from(text(header::ACCEPT).contains("text/csv"))]);
    h.update(crate::api::lang::from_accept_language(text(header::ACCEPT_LANGUAGE)).code().as_bytes());
    // OGC API links are absolute, so the authority the client used is part of the answer
    const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
    const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
    for name in [header::HOST, header::FORWARDED, X_FORWARDED_HOST, X_FORWARDED_PROTO] {
        h.update([0]);
        h.update(req.headers().get(name).map_or(&b""[..], |v| v.as_bytes()));
    }
    let digest = h.finalize();
    digest[..16].try_into().expect("16 of 32 bytes")
}

/// `"VERSION-HEX16SUFFIX"`, written without `format!`: this runs for every cacheable
/// request, and formatting cost more than the rest of the ETag's work.
fn etag(version: i64, key: &[u8; 16], coding: Coding) -> String {
    let mut hex = [0u8; 16];
    hex::encode_to_slice(&key[..8], &mut hex).expect("8 bytes are 16 hex digits");
    let mut tag = String::with_capacity(40);
    tag.push('"');
    tag.push_str(itoa::Buffer::new().format(version));
    tag.push('-');
    tag.push_str(std::str::from_utf8(&hex).expect("hex digits are ASCII"));
    tag.push_str(coding.suffix());
    tag.push('"');
    tag
}

/// Weak comparison, as If-None-Match uses.
pub fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers.get_all(header::IF_NONE_MATCH).filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|t| {
        let t = t.trim();
        t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag
    })
}

fn caching_headers(r: &mut actix_web::HttpResponseBuilder, etag: &str, cache_control: &HeaderValue) {
    r.insert_header((header::ETAG, HeaderValue::from_str(etag).expect("an ETag is quoted hex digits")));
    r.insert_header((header::CACHE_CONTROL, cache_control.clone()));
    r.insert_header((header::VARY, HeaderValue::from_static("Accept, Accept-Language, Accept-Encoding")));
}

fn respond(entry: &Entry, etag: &str, coding: Coding, cache_control: &HeaderValue) -> HttpResponse {
    let coding = if entry.identity.len() < MIN_COMPRESS_BYTES { Coding::Identity } else { coding };
    let mut r = HttpResponse::Ok();
    for (name, value) in &entry.headers {
        r.insert_header((name.clone(), value.clone()));
    }
    caching_headers(&mut r, etag, cache_control);
    if let Some(c) = coding.header() {
        r.insert_header((header::CONTENT_ENCODING, c));
    }
    let body = entry.body(coding);
    if body.len() <= STREAM_CHUNK {
        return r.body(body);
    }
    // Large bodies go out in slices of the shared bytes: actix-http copies a body chunk into
    // the connection's write buffer, and a whole map layer per slow reader would cost
    // megabytes each; slices bound that to STREAM_CHUNK per connection.
    let len = body.len() as u64;
    let chunks = (0..body.len()).step_by(STREAM_CHUNK).map(move |at| {
        Ok::<_, std::convert::Infallible>(body.slice(at..(at + STREAM_CHUNK).min(body.len())))
    });
    r.body(actix_web::body::SizedStream::new(len, futures_util::stream::iter(chunks)))
}

/// The slice size for sending large cached bodies.
const STREAM_CHUNK: usize = 1024 * 1024;

/// The middleware. HEAD is answered as GET (actix-http leaves out the body).
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let cache = req.app_data::<actix_web::web::Data<ResponseCache>>().cloned();
    let version = cache.as_ref().and_then(|c| c.snapshot.version());
    let (Some(cache), Some(version), true) = (cache, version, req.method() == Method::GET && cacheable(req.path())) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let key = request_key(&req);
    let coding = Coding::negotiate(req.headers().get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()));
    let tag = etag(version, &key, coding);
    if none_match(req.headers(), &tag) {
        let mut r = HttpResponse::NotModified();
        caching_headers(&mut r, &tag, &cache.cache_control);
        return Ok(req.into_response(r.finish()));
    }
    if let Some(entry) = cache.get(version, &key) {
        let res = respond(&entry, &tag, coding, &cache.cache_control);
        return Ok(req.into_response(res));
    }
    // the handler's answer is kept as it is, uncompressed: no coding is negotiated inside
    req.headers_mut().remove(header::ACCEPT_ENCODING);
    let res = next.call(req).await?;
    // only successful answers from the version named in the ETag are kept
    let answered_version = res.headers().get(DATASET_VERSION_HEADER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<i64>().ok());
    if res.status() != StatusCode::OK || answered_version != Some(version) {
        return Ok(res.map_into_boxed_body());
    }
    let (req, res) = res.into_parts();
    let headers: Vec<(HeaderName, HeaderValue)> =
        KEPT_HEADERS.iter().filter_map(|n| res.headers().get(n).map(|v| (n.clone(), v.clone()))).collect();
    // (the handlers' bodies are in memory already: reading one whole costs no more)
    let Ok(body) = body::to_bytes(res.into_body()).await else {
        let problem = crate::error::ApiError::Internal("response body could not be read".into());
        return Ok(ServiceResponse::new(req, actix_web::ResponseError::error_response(&problem)));
    };
    let entry = Arc::new(Entry { headers, identity: body, gzip: OnceLock::new(), brotli: OnceLock::new() });
    let out = respond(&entry, &tag, coding, &cache.cache_control);
    cache.put(version, key, entry);
    Ok(ServiceResponse::new(req, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_codings() {
        assert_eq!(Coding::negotiate(None), Coding::Identity);
        assert_eq!(Coding::negotiate(Some("gzip, deflate")), Coding::Gzip);
        assert_eq!(Coding::negotiate(Some("gzip, deflate, br")), Coding::Brotli);
        assert_eq!(Coding::negotiate(Some("br;q=0, gzip")), Coding::Gzip);
        assert_eq!(Coding::negotiate(Some("identity")), Coding::Identity);
        assert_eq!(Coding::negotiate(Some("*")), Coding::Brotli);
        assert_eq!(Coding::negotiate(Some("GZip, X-GZIP;q=0.5")), Coding::Gzip, "coding names ignore case");
    }

    #[test]
    fn compresses_reversibly() {
        use std::io::Read;
        let data = "{\"a\": 1}".repeat(1000);
        let gz = gzip(data.as_bytes());
        let mut out = String::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_string(&mut out).unwrap();
        assert_eq!(out, data);
        let br = brotli(data.as_bytes());
        let mut out = String::new();
        brotli::Decompressor::new(&br[..], 4096).read_to_string(&mut out).unwrap();
        assert_eq!(out, data);
        assert!(br.len() < data.len() / 10);
    }

    #[test]
    fn etags_are_written_as_format_would() {
        // (as they were before being written by hand: clients' kept ETags stay valid)
        let key: [u8; 16] = [0x00, 0x1f, 0xa0, 0xff, 0x12, 0x34, 0xab, 0xcd, 9, 9, 9, 9, 9, 9, 9, 9];
        for version in [0, 1, 9, 10, 4711, i64::MAX, -1, i64::MIN] {
            for coding in [Coding::Identity, Coding::Gzip, Coding::Brotli] {
                let expected = format!("\"{version}-{:016x}{}\"", u64::from_be_bytes(key[..8].try_into().unwrap()), coding.suffix());
                assert_eq!(etag(version, &key, coding), expected);
            }
        }
    }

    #[test]
    fn if_none_match() {
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"1-ab\", W/\"2-cd\""));
        assert!(none_match(&h, "\"1-ab\""));
        assert!(none_match(&h, "\"2-cd\""));
        assert!(!none_match(&h, "\"3-ef\""));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(none_match(&h, "\"anything\""));
    }
}
