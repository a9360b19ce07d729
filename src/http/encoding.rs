//! Content codings for the answers the response cache does not make (the dataset list, the
//! OpenAPI document, the documentation, the metrics): brotli or gzip as the client accepts,
//! `Vary: Accept-Encoding` on every answer whose body could differ by it (the uncompressed one
//! too, or a shared cache would hand it to everybody), and a strong ETag of its own per coding
//! (RFC 9110 8.8.3: two codings are two representations).
//!
//! Not actix-web's `Compress`: it leaves a handler's ETag on every coding it makes, names
//! `Accept-Encoding` in `Vary` only on a compressed answer, and offers `deflate`, which then
//! reached answers that had chosen to go out uncompressed.
//! An answer that chose its coding itself (a `Content-Encoding`, or `Accept-Encoding` in its
//! `Vary`: the map page's files, made once per coding) goes out as it is.

use std::io::Write;

use actix_web::HttpResponse;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::web::Bytes;
use futures_util::future::LocalBoxFuture;

use super::negotiate::Coding;

/// Bodies smaller than this are not worth compressing in the response cache (and are never
/// compressed there, so they do not vary).
pub const MIN_COMPRESS_BYTES: usize = 512;

/// The level of an answer compressed on the worker as it is sent: brotli at 4 is a third of
/// 6's time for a few per cent more bytes; gzip at 6 is quick.
pub fn per_request_level(coding: Coding) -> u32 {
    if coding == Coding::Brotli { 4 } else { 6 }
}

/// `data` in a coding at a level (gzip 1–9, brotli 0–11).
#[expect(clippy::expect_used, reason = "writing to memory does not fail")]
pub fn compress(coding: Coding, data: &[u8], level: u32) -> Bytes {
    match coding {
        Coding::Identity => Bytes::copy_from_slice(data),
        Coding::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 4), flate2::Compression::new(level));
            e.write_all(data).expect("writing to memory");
            Bytes::from(e.finish().expect("writing to memory"))
        }
        Coding::Brotli => {
            let mut out = Vec::with_capacity(data.len() / 5);
            {
                let mut w = brotli::CompressorWriter::new(&mut out, 64 * 1024, level, 22);
                w.write_all(data).expect("writing to memory");
            }
            Bytes::from(out)
        }
    }
}

/// A strong ETag `"x"` for a coding: `"x-gz"`, `"x-br"`, or as it is uncompressed.
pub fn coded_etag(etag: &str, coding: Coding) -> String {
    match etag.strip_suffix('"') {
        Some(open) if coding != Coding::Identity => format!("{open}{}\"", coding.suffix()),
        _ => etag.to_string(),
    }
}

/// Whether a body of this media type gains from compression (see `formats`).
pub fn compressible(content_type: Option<&HeaderValue>) -> bool {
    super::formats::compressible(content_type.and_then(|v| v.to_str().ok()).unwrap_or(""))
}

/// Whether an answer decided its coding itself.
fn coded_already(headers: &HeaderMap) -> bool {
    headers.contains_key(header::CONTENT_ENCODING)
        || headers.get_all(header::VARY).filter_map(|v| v.to_str().ok()).any(|v| v.to_ascii_lowercase().contains("accept-encoding"))
}

/// The layer: [`compress`] by the negotiated coding (these answers are made per request; none
/// is large but the documentation's script and the OpenAPI document, which revalidate).
pub struct Encode;

impl<S, B> Transform<S, ServiceRequest> for Encode
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Transform = EncodeService<S>;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(EncodeService { service }))
    }
}

pub struct EncodeService<S> {
    service: S,
}

impl<S, B> Service<ServiceRequest> for EncodeService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<ServiceResponse<BoxBody>, actix_web::Error>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let coding = Coding::negotiate(req.headers().get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()));
        // (a handler's ETag is the uncompressed body's: the condition is decided here, on the
        // tag of the coding sent)
        let if_none_match: Vec<HeaderValue> = req.headers().get_all(header::IF_NONE_MATCH).cloned().collect();
        let answer = self.service.call(req);
        Box::pin(async move {
            let res = answer.await?.map_into_boxed_body();
            let headers = res.headers();
            if res.status() != StatusCode::OK || coded_already(headers) || !compressible(headers.get(header::CONTENT_TYPE)) {
                return Ok(res);
            }
            let (req, res) = res.into_parts();
            let (mut res, body) = res.into_parts();
            let body = match body.try_into_bytes() {
                Ok(body) => body,
                // (a stream: none of the answers this layer sees is one)
                Err(body) => return Ok(ServiceResponse::new(req, res.set_body(body))),
            };
            if body.is_empty() {
                return Ok(ServiceResponse::new(req, res.set_body(BoxBody::new(body))));
            }
            let headers = res.headers_mut();
            headers.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
            let tag = headers.get(header::ETAG).and_then(|v| v.to_str().ok()).map(|t| coded_etag(t, coding));
            if let Some(tag) = &tag
                && let Ok(value) = HeaderValue::from_str(tag)
            {
                headers.insert(header::ETAG, value);
            }
            if tag.is_some_and(|t| super::cache::none_match_in(if_none_match.iter(), &t) != super::cache::NoneMatch::Absent) {
                let mut not_modified = HttpResponse::NotModified().finish();
                for name in [header::ETAG, header::VARY, header::CACHE_CONTROL] {
                    for v in res.headers().get_all(&name) {
                        not_modified.headers_mut().append(name.clone(), v.clone());
                    }
                }
                return Ok(ServiceResponse::new(req, not_modified));
            }
            let Some(name) = coding.header() else {
                return Ok(ServiceResponse::new(req, res.set_body(BoxBody::new(body))));
            };
            let level = per_request_level(coding);
            res.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static(name));
            Ok(ServiceResponse::new(req, res.set_body(BoxBody::new(compress(coding, &body, level)))))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_coding_has_its_own_tag() {
        assert_eq!(coded_etag("\"abc\"", Coding::Gzip), "\"abc-gz\"");
        assert_eq!(coded_etag("\"abc\"", Coding::Brotli), "\"abc-br\"");
        assert_eq!(coded_etag("\"abc\"", Coding::Identity), "\"abc\"");
        assert_eq!(coded_etag("W/\"abc\"", Coding::Gzip), "W/\"abc-gz\"");
    }

    #[test]
    fn deflated_media_are_left_alone() {
        let t = |v: &'static str| compressible(Some(&HeaderValue::from_static(v)));
        assert!(t("application/json") && t("text/html; charset=utf-8") && t("image/svg+xml") && t("application/vnd.mapbox-vector-tile"));
        assert!(!t("application/zip") && !t("image/png") && !t("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"));
        assert!(compressible(None));
    }

    #[test]
    fn compresses_reversibly() {
        use std::io::Read;
        let data = b"boligsocial ".repeat(200);
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&compress(Coding::Gzip, &data, 6)[..]).read_to_end(&mut out).unwrap();
        assert_eq!(out, data);
        let mut out = Vec::new();
        brotli::Decompressor::new(&compress(Coding::Brotli, &data, 6)[..], 4096).read_to_end(&mut out).unwrap();
        assert_eq!(out, data);
    }
}
