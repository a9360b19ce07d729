//! The scheme and authority that absolute links (the OGC API's) are written with.
//!
//! `server.public_url` wins when set. Otherwise `Forwarded` / `X-Forwarded-Host` /
//! `X-Forwarded-Proto` are believed only from a peer in `server.trusted_proxies`, and else
//! the request's own `Host`: any client can write a forwarded header, and a link it chose
//! must never reach a cached answer that others are served.

use std::net::IpAddr;

use actix_web::dev::RequestHead;
use actix_web::http::header::{self, HeaderMap, HeaderName};
use std::borrow::Cow;

use actix_web::HttpRequest;

use super::client_address::IpNet;

pub const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
pub const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// How this instance finds the base URL of its links (by default, from the request's own
/// `Host`, believing no proxy).
#[derive(Debug, Clone, Default)]
pub struct PublicBase {
    configured: Option<String>,
    trusted: Vec<IpNet>,
}

impl PublicBase {
    /// `public_url` is `http(s)://host[:port][/prefix]`; a trailing slash is dropped.
    pub fn new(public_url: Option<&str>, trusted: Vec<IpNet>) -> Result<PublicBase, String> {
        let configured = match public_url.map(str::trim).filter(|u| !u.is_empty()) {
            None => None,
            Some(url) => Some(parse_public_url(url)?),
        };
        Ok(PublicBase { configured, trusted })
    }

    /// Whether answers depend on forwarded headers (no public URL, and proxies are trusted),
    /// so that `Vary` must name them.
    pub fn uses_forwarded_headers(&self) -> bool {
        self.configured.is_none() && !self.trusted.is_empty()
    }

    /// `scheme://authority[/prefix]` for a request from `peer`.
    pub fn resolve(&self, head: &RequestHead, peer: Option<IpAddr>) -> String {
        let (a, b) = self.resolve_parts(head, peer);
        format!("{a}{b}")
    }

    /// The base URL in two parts to be joined (`http://` and the host, say), borrowed where
    /// it can be: the cache keys every request by it.
    pub fn resolve_parts<'a>(&'a self, head: &'a RequestHead, peer: Option<IpAddr>) -> (Cow<'a, str>, Cow<'a, str>) {
        if let Some(url) = &self.configured {
            return (Cow::Borrowed(url), Cow::Borrowed(""));
        }
        let trusted = peer.is_some_and(|p| self.trusted.iter().any(|n| n.contains(&p.to_canonical())));
        if trusted && let Some((scheme, host)) = forwarded(&head.headers) {
            return (Cow::Owned(format!("{scheme}://")), Cow::Owned(host));
        }
        // the service itself speaks plain HTTP; TLS ends at a proxy, which says so above
        let host = head
            .uri
            .authority()
            .map(|a| a.as_str())
            .or_else(|| head.headers.get(header::HOST).and_then(|h| h.to_str().ok()))
            .filter(|h| is_authority(h))
            .unwrap_or("localhost");
        let host = if host.bytes().any(|b| b.is_ascii_uppercase()) { Cow::Owned(host.to_ascii_lowercase()) } else { Cow::Borrowed(host) };
        (Cow::Borrowed("http://"), host)
    }
}

/// The base URL of links in the answer to `req` (as the cache keys it).
pub fn of(req: &HttpRequest) -> String {
    let peer = req.peer_addr().map(|a| a.ip());
    match req.app_data::<actix_web::web::Data<PublicBase>>() {
        Some(base) => base.resolve(req.head(), peer),
        // (an app without one, as in unit tests: the request's own Host)
        None => PublicBase::default().resolve(req.head(), peer),
    }
}

fn parse_public_url(url: &str) -> Result<String, String> {
    let bad = || format!("{url:?} is not a URL such as https://kort.example.dk or https://example.dk/boligsocial");
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    if !matches!(scheme, "http" | "https") {
        return Err(bad());
    }
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    let path = path.trim_end_matches('/');
    let path_ok = path.bytes().all(|b| b.is_ascii_alphanumeric() || b"/-._~".contains(&b));
    if !is_authority(authority) || !path_ok || path.contains("//") {
        return Err(bad());
    }
    Ok(format!("{scheme}://{}{path}", authority.to_ascii_lowercase()))
}

/// A host with an optional port: letters, digits, `-`, `.`, and an IPv6 literal's brackets
/// and colons; no user information, path or spaces.
fn is_authority(s: &str) -> bool {
    !s.is_empty() && s.len() <= 255 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
}

/// The scheme and host a trusted proxy reports: the last element of `Forwarded` (RFC 7239),
/// else the last values of `X-Forwarded-Proto` and `X-Forwarded-Host`. The last is what our
/// own peer wrote; earlier ones came from further away.
fn forwarded(headers: &HeaderMap) -> Option<(String, String)> {
    let all = |name: &HeaderName| -> Vec<String> {
        headers.get_all(name).filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).map(|s| s.trim().to_string()).collect()
    };
    let (mut scheme, mut host) = (None, None);
    if let Some(last) = all(&header::FORWARDED).last() {
        for pair in last.split(';') {
            let Some((k, v)) = pair.split_once('=') else { continue };
            let v = v.trim().trim_matches('"').to_string();
            match k.trim().to_ascii_lowercase().as_str() {
                "proto" => scheme = Some(v),
                "host" => host = Some(v),
                _ => {}
            }
        }
    }
    if host.is_none() {
        host = all(&X_FORWARDED_HOST).pop();
    }
    if scheme.is_none() {
        scheme = all(&X_FORWARDED_PROTO).pop();
    }
    let host = host.filter(|h| is_authority(h))?.to_ascii_lowercase();
    let scheme = scheme.map(|s| s.to_ascii_lowercase()).filter(|s| s == "http" || s == "https").unwrap_or_else(|| "http".into());
    Some((scheme, host))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn head(headers: &[(&str, &str)]) -> RequestHead {
        let mut r = TestRequest::get().uri("/ogc");
        for (k, v) in headers {
            r = r.insert_header((*k, *v));
        }
        r.to_srv_request().head().clone()
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn forwarded_headers_are_believed_only_from_trusted_proxies() {
        let trusted = crate::http::client_address::parse_networks("10.0.0.0/8").unwrap();
        let base = PublicBase::new(None, trusted).unwrap();
        let h = head(&[("host", "svc:8080"), ("x-forwarded-host", "evil.example"), ("x-forwarded-proto", "https")]);
        assert_eq!(base.resolve(&h, ip("203.0.113.9")), "http://svc:8080", "an untrusted client");
        assert_eq!(base.resolve(&h, ip("10.1.2.3")), "https://evil.example", "the proxy says so");
        let h = head(&[("host", "svc"), ("forwarded", "for=1.2.3.4;host=a.example, for=10.0.0.2;proto=https;host=kort.example.dk")]);
        assert_eq!(base.resolve(&h, ip("10.1.2.3")), "https://kort.example.dk");
        assert!(base.uses_forwarded_headers());
        // nothing to trust: the own Host, lower case
        let base = PublicBase::new(None, vec![]).unwrap();
        assert_eq!(base.resolve(&h, ip("10.1.2.3")), "http://svc");
        assert!(!base.uses_forwarded_headers());
        let h = head(&[("host", "EXAMPLE.dk")]);
        assert_eq!(base.resolve(&h, None), "http://example.dk");
    }

    #[test]
    fn a_configured_public_url_wins() {
        let trusted = crate::http::client_address::parse_networks("10.0.0.0/8").unwrap();
        let base = PublicBase::new(Some("https://Kort.Example.dk/boligsocial/"), trusted).unwrap();
        let h = head(&[("host", "svc"), ("x-forwarded-host", "evil.example")]);
        assert_eq!(base.resolve(&h, ip("10.0.0.1")), "https://kort.example.dk/boligsocial");
        assert!(!base.uses_forwarded_headers());
        for bad in ["kort.example.dk", "ftp://x", "https://user@host", "https://a b", "https://h/x?y", "https://"] {
            assert!(PublicBase::new(Some(bad), vec![]).is_err(), "{bad}");
        }
    }

    #[test]
    fn odd_hosts_are_not_written_into_links() {
        let base = PublicBase::new(None, vec![]).unwrap();
        let h = head(&[("host", "evil.example/\"><script>")]);
        assert_eq!(base.resolve(&h, None), "http://localhost");
    }
}
