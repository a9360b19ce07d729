//! Web caching and transport on the read endpoints: ETags and 304s, Cache-Control, gzip and
//! brotli, HEAD, CORS.

use std::collections::BTreeSet;
use std::io::Read;

use crate::common::*;

const PATHS: [&str; 6] = [
    "/v1/comparisons?indicator=udenfor&from=2015&to=2023",
    "/v1/areas",
    "/v1/areas/KBH-1/series?indicator=udenfor",
    "/v1/indicators",
    "/v1/map/areas?indicator=udenfor&year=2023",
    "/ogc/collections/areas/items",
];

/// The request headers an answer says it depends on (`Vary`), lower-cased.
fn vary(r: &reqwest::Response) -> BTreeSet<String> {
    r.headers()
        .get_all("vary")
        .iter()
        .flat_map(|v| v.to_str().unwrap().split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

async fn etags_compression_head_and_cors(db: TestDb) {
    assert!(import(&db, &fixture("spec-extract")).status.success());
    let app = TestApp::on(&db)
        .with(move |s| {
            s.http.cache_max_age_seconds = 123;
        })
        .spawn()
        .await;
    for path in PATHS {
        let url = format!("{}{path}", app.address);
        let plain = app.client.get(&url).send().await.unwrap();
        assert_eq!(plain.status(), 200, "{path}");
        let etag = plain.headers()["etag"].to_str().unwrap().to_string();
        assert!(etag.starts_with("\"1-") && !etag.starts_with("W/"), "a strong ETag naming version 1: {etag}");
        assert_eq!(plain.headers()["cache-control"], "public, max-age=123");
        assert!(plain.headers().get("content-encoding").is_none());
        // what a shared cache (a CDN in front of the service) must key the answer on: the
        // coding, the labels' language, CSV or JSON, and the CORS headers (sent only when
        // the request has an Origin)
        let varies = vary(&plain);
        for header in ["accept", "accept-language", "accept-encoding", "origin"] {
            assert!(varies.contains(header), "{path}: Vary lacks {header}: {varies:?}");
        }
        let body = plain.bytes().await.unwrap();

        // revalidation
        let r = app.client.get(&url).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(r.status(), 304, "{path}");
        assert_eq!(r.headers()["etag"], etag.as_str());
        assert_eq!(vary(&r), varies, "{path}: a 304 says what the 200 would (RFC 9110, 15.4.5)");
        assert!(r.bytes().await.unwrap().is_empty());
        let r = app.client.get(&url).header("if-none-match", "\"0-stale\"").send().await.unwrap();
        assert_eq!(r.status(), 200);

        // gzip and brotli: other bytes, other ETags, same content
        let r = app.client.get(&url).header("accept-encoding", "gzip").send().await.unwrap();
        assert_eq!(r.headers()["content-encoding"], "gzip", "{path}");
        let gz_etag = r.headers()["etag"].to_str().unwrap().to_string();
        assert_ne!(gz_etag, etag);
        assert_eq!(vary(&r), varies, "{path}");
        let compressed = r.bytes().await.unwrap();
        assert!(compressed.len() < body.len(), "{path}: {} ≥ {}", compressed.len(), body.len());
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&compressed[..]).read_to_end(&mut unzipped).unwrap();
        assert_eq!(unzipped, body, "{path}");
        let r = app.client.get(&url).header("accept-encoding", "gzip").header("if-none-match", &gz_etag).send().await.unwrap();
        assert_eq!(r.status(), 304);
        let r = app.client.get(&url).header("accept-encoding", "gzip, deflate, br").send().await.unwrap();
        assert_eq!(r.headers()["content-encoding"], "br");
        let mut unbrotli = Vec::new();
        brotli::Decompressor::new(&r.bytes().await.unwrap()[..], 4096).read_to_end(&mut unbrotli).unwrap();
        assert_eq!(unbrotli, body);

        // HEAD: the same headers, no body
        let r = app.client.head(&url).send().await.unwrap();
        assert_eq!(r.status(), 200, "HEAD {path}");
        assert_eq!(r.headers()["etag"], etag.as_str());
        assert_eq!(r.headers()["content-length"], body.len().to_string().as_str());
        assert!(r.bytes().await.unwrap().is_empty());

        // CORS for browser clients
        let r = app.client.get(&url).header("origin", "https://kort.example.dk").send().await.unwrap();
        assert_eq!(r.headers()["access-control-allow-origin"], "*");
        let exposed = r.headers()["access-control-expose-headers"].to_str().unwrap().to_ascii_lowercase();
        assert!(exposed.contains("etag") && exposed.contains("x-dataset-version"));
    }
    // the ETag follows what the answer depends on, not how the headers are spelled
    let etag = |accept: Option<&'static str>, language: Option<&'static str>| {
        let mut r = app.client.get(format!("{}/v1/indicators", app.address));
        if let Some(a) = accept {
            r = r.header("accept", a);
        }
        if let Some(l) = language {
            r = r.header("accept-language", l);
        }
        async move { r.send().await.unwrap().headers()["etag"].to_str().unwrap().to_string() }
    };
    assert_eq!(etag(None, None).await, etag(Some("*/*"), Some("da-DK")).await);
    assert_eq!(etag(None, Some("en")).await, etag(Some("application/json"), Some("en-GB,en;q=0.9")).await);
    assert_ne!(etag(None, Some("en")).await, etag(None, None).await);

    // a preflight
    let r = app
        .client
        .request(reqwest::Method::OPTIONS, format!("{}{}", app.address, PATHS[0]))
        .header("origin", "https://kort.example.dk")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert!(r.headers()["access-control-allow-methods"].to_str().unwrap().contains("GET"));
    // HEAD of an unknown path is a 404 like GET
    assert_eq!(app.client.head(format!("{}/v1/nowhere", app.address)).send().await.unwrap().status(), 404);

    // a new dataset version changes every ETag, and old ones no longer match
    let url = format!("{}{}", app.address, PATHS[1]);
    let old = app.client.get(&url).send().await.unwrap().headers()["etag"].to_str().unwrap().to_string();
    let changed = copy_fixture("spec-extract");
    let text = std::fs::read_to_string(changed.path().join("areas.csv")).unwrap().replace("Vestparken", "Vestparken Nord");
    std::fs::write(changed.path().join("areas.csv"), text).unwrap();
    assert!(import(&db, changed.path()).status.success());
    let mut new = old.clone();
    for _ in 0..40 {
        new = app.client.get(&url).send().await.unwrap().headers()["etag"].to_str().unwrap().to_string();
        if new != old {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(new.starts_with("\"2-"), "{new}");
    let r = app.client.get(&url).header("if-none-match", &old).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Vestparken Nord"));
}

on_both_backends!(etags_compression_head_and_cors);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_can_be_limited_to_given_origins() {
    let db = TestDb::sqlite();
    assert!(import(&db, &fixture("spec-extract")).status.success());
    let app = TestApp::on(&db)
        .with(move |s| {
            s.http.cors_origins = "https://kort.example.dk, https://gis.kommune.dk".into();
        })
        .spawn()
        .await;
    let url = format!("{}/v1/areas", app.address);
    let r = app.client.get(&url).header("origin", "https://gis.kommune.dk").send().await.unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "https://gis.kommune.dk");
    assert!(vary(&r).contains("origin"), "the allowed origin is echoed, so caches must key on it");
    let r = app.client.get(&url).header("origin", "https://evil.example").send().await.unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    assert!(vary(&r).contains("origin"));
    let r = app.client.get(&url).send().await.unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    assert!(vary(&r).contains("origin") && vary(&r).contains("accept-encoding"));
}

/// Answers larger than half the response cache are served as any other (compressed on
/// request, revalidated by ETag) but not kept; what the cache never keeps (the dataset list,
/// the OpenAPI document) is still compressed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_too_large_to_keep_and_uncached_ones_are_still_compressed() {
    let db = TestDb::sqlite();
    assert!(import(&db, &fixture("spec-extract")).status.success());
    let app = TestApp::on(&db)
        .with(move |s| {
            s.http.response_cache_bytes = 2_000;
        })
        .spawn()
        .await;
    let url = format!("{}/v1/map/areas?indicator=udenfor&year=2023", app.address);
    let plain = app.get_text("/v1/map/areas?indicator=udenfor&year=2023").await;
    assert!(plain.len() > 1_000, "larger than half the cache: {}", plain.len());
    for _ in 0..2 {
        let r = app.client.get(&url).header("accept-encoding", "gzip").send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-encoding"], "gzip");
        let etag = r.headers()["etag"].to_str().unwrap().to_string();
        let mut unzipped = String::new();
        flate2::read::GzDecoder::new(&r.bytes().await.unwrap()[..]).read_to_string(&mut unzipped).unwrap();
        assert_eq!(unzipped, plain);
        let r = app.client.get(&url).header("accept-encoding", "gzip").header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(r.status(), 304);
    }
    for path in ["/openapi.json", "/v1/datasets"] {
        let r = app.client.get(format!("{}{path}", app.address)).header("accept-encoding", "br").send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-encoding"], "br", "{path}");
    }
}

/// The reference map page and its assets: the page, its script and its style are revalidated
/// on every load, so that after an upgrade no browser runs an old script against the new page
/// for an hour; the vendored files may be kept; all carry the page's security headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_map_page_is_revalidated_and_its_vendored_files_kept() {
    let app = TestApp::demo().spawn().await;
    for (path, revalidated) in [
        ("/map", true),
        ("/map/map.js", true),
        ("/map/map.css", true),
        ("/map/vendor/leaflet/leaflet.js", false),
        ("/map/vendor/natural-earth/land.geojson", false),
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        let cache = r.headers()["cache-control"].to_str().unwrap().to_string();
        assert_eq!(cache == "no-cache", revalidated, "{path}: {cache}");
        assert!(r.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'self'"), "{path}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        let etag = r.headers()["etag"].to_str().unwrap().to_string();
        let again = app.client.get(format!("{}{path}", app.address)).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(again.status(), 304, "{path}");
    }
}

/// Without a client for it (`auth.map_client_id`), the map page offers no sign-in and may
/// reach nothing off the service; with one, its policy names the issuer's origin alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_map_page_reaches_the_issuer_only_when_it_signs_in_there() {
    let app = TestApp::demo().spawn().await;
    let (status, config) = app.get_json("/map/config.json").await;
    assert_eq!((status, config), (200, serde_json::json!({ "sign_in": null })));
    let r = app.get("/map").await;
    assert!(r.headers()["content-security-policy"].to_str().unwrap().contains("connect-src 'self';"));

    let app = TestApp::demo()
        .with(|s| {
            s.auth.issuer = Some("https://login.example.dk/realms/kommune".into());
            s.auth.map_client_id = Some("boligsocial-map".into());
            s.auth.map_resource = Some("https://api.boligsocial.test/".into());
        })
        .spawn()
        .await;
    let (_, config) = app.get_json("/map/config.json").await;
    assert_eq!(
        config["sign_in"],
        serde_json::json!({
            "issuer": "https://login.example.dk/realms/kommune",
            "client_id": "boligsocial-map",
            "scope": "openid boligsocial:departments",
            "resource": "https://api.boligsocial.test/",
        })
    );
    for path in ["/map", "/map/map.js"] {
        let csp = app.get(path).await.headers()["content-security-policy"].to_str().unwrap().to_string();
        assert!(csp.contains("connect-src 'self' https://login.example.dk;"), "{path}: {csp}");
    }
}
