//! The reference map page (/map) and its assets, built into the binary: Leaflet, MapLibre GL
//! JS (for front ends drawing the vector tiles) and the land under the map (Natural Earth) are
//! vendored from npm (src/web/vendor, by scripts/vendor-web.sh), so they work on a closed
//! network.

use std::sync::OnceLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};

use crate::http::encoding::{MIN_COMPRESS_BYTES, coded_etag, compress};
use crate::http::negotiate::Coding;
use crate::settings::{AuthSettings, origin_of};

/// The page's Content-Security-Policy: everything from here, nothing inline, no framing.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// What the page is told about signing in (`/map/config.json`), and the security policy that
/// lets it reach the issuer for that (its discovery document and token endpoint) and nothing
/// else off the service. Made once from the settings.
pub struct MapPage {
    csp: String,
    config: Bytes,
}

impl MapPage {
    pub fn from_settings(auth: &AuthSettings) -> Result<MapPage, String> {
        let sign_in = match (&auth.issuer, &auth.map_client_id) {
            (Some(issuer), Some(client_id)) => Some((issuer, client_id, origin_of(issuer)?)),
            _ => None,
        };
        let csp = match &sign_in {
            Some((_, _, origin)) => CSP.replace("connect-src 'self'", &format!("connect-src 'self' {origin}")),
            None => CSP.to_string(),
        };
        let config = serde_json::json!({
            "sign_in": sign_in.map(|(issuer, client_id, _)| serde_json::json!({
                "issuer": issuer,
                "client_id": client_id,
                "scope": format!("openid {}", auth.scope),
                "resource": auth.map_resource,
            })),
        });
        Ok(MapPage { csp, config: Bytes::from(config.to_string()) })
    }
}

impl Default for MapPage {
    fn default() -> Self {
        MapPage { csp: CSP.to_string(), config: Bytes::from_static(br#"{"sign_in":null}"#) }
    }
}

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    /// The page and its own script and style are revalidated on every load (an upgrade
    /// changes them together, and a 304 costs little); the vendored files may be kept.
    cache_control: &'static str,
}

const ASSETS: [Asset; 8] = [
    Asset { path: "/map", content_type: "text/html; charset=utf-8", body: include_bytes!("../web/index.html"), cache_control: "no-cache" },
    Asset {
        path: "/map/map.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../web/map.js"),
        cache_control: "no-cache",
    },
    Asset {
        path: "/map/map.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../web/map.css"),
        cache_control: "no-cache",
    },
    Asset {
        path: "/map/vendor/leaflet/leaflet.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../web/vendor/leaflet/leaflet.js"),
        cache_control: "public, max-age=86400",
    },
    Asset {
        path: "/map/vendor/leaflet/leaflet.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../web/vendor/leaflet/leaflet.css"),
        cache_control: "public, max-age=86400",
    },
    Asset {
        path: "/map/vendor/maplibre-gl/maplibre-gl.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../web/vendor/maplibre-gl/maplibre-gl.js"),
        cache_control: "public, max-age=86400",
    },
    Asset {
        path: "/map/vendor/maplibre-gl/maplibre-gl.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../web/vendor/maplibre-gl/maplibre-gl.css"),
        cache_control: "public, max-age=86400",
    },
    Asset {
        path: "/map/vendor/natural-earth/land.geojson",
        content_type: "application/geo+json",
        body: include_bytes!("../web/vendor/natural-earth/land.geojson"),
        cache_control: "public, max-age=86400",
    },
];

/// Each asset's ETag, and its body in each coding, made on first use.
struct Made {
    etag: String,
    gzip: OnceLock<Bytes>,
    brotli: OnceLock<Bytes>,
}

fn made() -> &'static [Made] {
    static MADE: OnceLock<Vec<Made>> = OnceLock::new();
    MADE.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| Made {
                etag: format!("\"{}\"", &hex::encode(Sha256::digest(a.body))[..16]),
                gzip: OnceLock::new(),
                brotli: OnceLock::new(),
            })
            .collect()
    })
}

/// An asset in a coding, compressed well once (they are a few and never change), off the
/// request workers: brotli takes a while over the megabyte of MapLibre.
async fn body_in(i: usize, coding: Coding) -> Bytes {
    let (a, m) = (&ASSETS[i], &made()[i]);
    let cell = match coding {
        Coding::Identity => return Bytes::from_static(a.body),
        Coding::Gzip => &m.gzip,
        Coding::Brotli => &m.brotli,
    };
    if let Some(b) = cell.get() {
        return b.clone();
    }
    let made = web::block(move || compress(coding, a.body, 9)).await.unwrap_or_else(|_| compress(coding, a.body, 1));
    cell.get_or_init(|| made).clone()
}

/// Headers that keep the page from being framed, sniffed or leaking where it was opened.
pub fn security_headers(r: &mut actix_web::HttpResponseBuilder, csp: &str) {
    if let Ok(csp) = HeaderValue::from_str(csp) {
        r.insert_header((header::CONTENT_SECURITY_POLICY, csp));
    }
    r.insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    r.insert_header((header::X_FRAME_OPTIONS, "DENY"));
    r.insert_header((header::REFERRER_POLICY, "no-referrer"));
}

async fn asset(req: HttpRequest) -> HttpResponse {
    let path = req.path().trim_end_matches('/');
    let path = if path.is_empty() { "/map" } else { path };
    let Some(i) = ASSETS.iter().position(|a| a.path == path) else {
        return crate::error::not_found().await;
    };
    let a = &ASSETS[i];
    // each coding is a representation of its own, with its own strong ETag (RFC 9110 8.8.3)
    let coding = if a.body.len() < MIN_COMPRESS_BYTES {
        Coding::Identity
    } else {
        Coding::negotiate(req.headers().get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()))
    };
    let etag = coded_etag(&made()[i].etag, coding);
    // the page and its files always exist, so `*` matches too
    let unchanged = crate::http::cache::none_match(req.headers(), &etag) != crate::http::cache::NoneMatch::Absent;
    let mut r = if unchanged { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    if let Ok(tag) = HeaderValue::from_str(&etag) {
        r.insert_header((header::ETAG, tag));
    }
    r.insert_header((header::CACHE_CONTROL, a.cache_control));
    if a.body.len() >= MIN_COMPRESS_BYTES {
        r.insert_header((header::VARY, "Accept-Encoding"));
    }
    security_headers(&mut r, page(&req).map_or(CSP, |p| p.csp.as_str()));
    if unchanged {
        return r.finish();
    }
    if let Some(name) = coding.header() {
        r.insert_header((header::CONTENT_ENCODING, name));
    }
    r.content_type(a.content_type).body(body_in(i, coding).await)
}

fn page(req: &HttpRequest) -> Option<&MapPage> {
    req.app_data::<web::Data<MapPage>>().map(|d| d.get_ref())
}

/// Whether and where the page may sign in: `{"sign_in": null}` when it may not.
async fn config(req: HttpRequest) -> HttpResponse {
    let body = page(&req).map_or_else(|| MapPage::default().config, |p| p.config.clone());
    let mut r = HttpResponse::Ok();
    r.insert_header((header::CACHE_CONTROL, "no-cache"));
    security_headers(&mut r, CSP);
    r.content_type("application/json").body(body)
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/map/config.json", web::get().to(config));
    cfg.route("/", web::get().to(|| async { HttpResponse::Found().insert_header((header::LOCATION, "/map")).finish() }));
    for a in &ASSETS {
        cfg.route(a.path, web::get().to(asset));
    }
    cfg.route("/map/", web::get().to(asset));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_client_the_page_signs_in_nowhere() {
        let off = MapPage::from_settings(&AuthSettings::default()).unwrap();
        assert_eq!((off.csp.as_str(), &off.config), (CSP, &MapPage::default().config));
        // an issuer alone (integrations only) does not open the page to it
        let issuer_only = AuthSettings { issuer: Some("https://login.example.dk".into()), ..AuthSettings::default() };
        assert_eq!(MapPage::from_settings(&issuer_only).unwrap().csp, CSP);
        let bad = AuthSettings { map_client_id: Some("map".into()), issuer: Some("login".into()), ..AuthSettings::default() };
        assert!(MapPage::from_settings(&bad).is_err());
    }
}
