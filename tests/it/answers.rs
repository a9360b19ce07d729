//! Every answer the demo gives, pinned (insta): its status, media type and language, the
//! SHA-256 of its bytes, and its shape (JSON with its lists cut to two, as the document's
//! examples; a table's first lines). A change in what any client receives shows here as a
//! snapshot to review (`cargo insta review`), so that a refactoring can prove it changed none.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::clients::{json_requests, shortened};
use crate::common::*;

/// The requests beyond each JSON operation's one: the other representations, languages,
/// references, delimitations, thresholds, orders and tiles.
fn more_requests(area: &str, year: u64) -> Vec<String> {
    let i = "indicator=outside_work_education";
    let c = format!("{i}&from=2015&to=2023");
    let mut out: Vec<String> = vec![
        format!("/v1/comparisons.csv?{c}"),
        format!("/v1/comparisons.csv?{c}&lang=en&sort=-difference"),
        format!("/v1/comparisons.xlsx?{c}"),
        format!("/v1/comparisons?{c}&format=csv"),
        format!("/v1/comparisons?{c}&threshold=2.5&sort=name&lang=en"),
        format!("/v1/comparisons?{c}&boundary=2021-03"),
        format!("/v1/comparisons?{c}&reference=twins&twins=3&match=outside_work_education,basic_education_only"),
        format!("/v1/comparisons/chart.svg?{c}"),
        format!("/v1/areas/{area}/series.csv?{i}"),
        format!("/v1/areas/{area}/series.xlsx?{i}"),
        format!("/v1/areas/{area}/series?{i}&boundary=2021-03"),
        format!("/v1/areas/{area}/criteria.csv"),
        format!("/v1/areas/{area}/criteria.xlsx"),
        format!("/v1/areas/{area}/comparisons?from=2016&to=2022&lang=en"),
        format!("/v1/criteria.csv?year={year}"),
        format!("/v1/criteria.xlsx?year={year}&lang=en"),
        format!("/v1/criteria?year=2015&rules=ghettokriterier-2013"),
        format!("/v1/map/areas?{i}&year=2023&classes=3&classification=equal_interval&precision=4&simplify=50"),
        format!("/v1/map/areas?bbox=12.3,55.6,12.7,55.8&geometry=false"),
        format!("/v1/map/municipalities?{i}&year=2023&level=social_housing&simplify=500"),
        "/v1/areas?municipality=0101&q=park".into(),
        "/v1/municipalities/0101?with_areas=true".into(),
        "/v1/indicators?lang=en".into(),
        "/ogc/collections/areas/items?datetime=2020&bbox=8,54,13,58&limit=3".into(),
        "/ogc/collections/municipalities/items?municipality_code=101".into(),
        "/tiles/areas/0/0/0.mvt".into(),
        format!("/tiles/areas/9/272/159.mvt?{c}&reference=country"),
        "/tiles/areas/8/120/70.mvt".into(),
    ];
    out.push("/v1/datapackage.zip".into());
    // the OpenAPI document, as served (its bytes; the committed file is checked in openapi.rs)
    out.push("/openapi.json".into());
    out
}

/// One answer as pinned: the address of the test's service written as a public one.
async fn pinned(app: &TestApp, url: &str) -> Value {
    let r = app.get(url).await;
    let status = r.status().as_u16();
    let header = |name: &str| r.headers().get(name).map(|v| v.to_str().unwrap().to_string());
    let (content_type, language) = (header("content-type"), header("content-language"));
    let bytes = r.bytes().await.unwrap();
    let public = |b: &[u8]| -> Vec<u8> {
        String::from_utf8(b.to_vec())
            .map_or_else(|e| e.into_bytes(), |t| t.replace(&app.address, "https://boligsocial.example.org").into_bytes())
    };
    let body = public(&bytes);
    let shape = match content_type.as_deref() {
        Some(t) if t.contains("json") => shortened(&serde_json::from_slice(&body).unwrap()),
        Some(t) if t.starts_with("text/csv") => {
            json!(String::from_utf8_lossy(&body).lines().take(3).collect::<Vec<_>>())
        }
        _ => Value::Null,
    };
    let sha256 = hex::encode(Sha256::digest(&body));
    json!({"url": url, "status": status, "content_type": content_type, "content_language": language,
           "bytes": body.len(), "sha256": sha256, "shape": shape})
}

/// The demo, imported at a fixed time (answers name it: the JSON-stat's `updated`, the
/// workbooks' and the data package's dates), on the embedded database.
async fn pinned_demo() -> (TestDb, TestApp) {
    let db = TestDb::sqlite();
    let extract = boligsocial::demo::bundled_extract().unwrap();
    let url = boligsocial::store::DatabaseUrl::parse(db.url()).unwrap();
    let mut conn = db.connect();
    boligsocial::store::migrate(&mut conn).unwrap();
    boligsocial::store::write::import_extract(&mut conn, &|| boligsocial::store::connect(&url), &extract, "2026-01-01T00:00:00Z").unwrap();
    let app = TestApp::on(&db).spawn().await;
    (db, app)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_is_as_pinned() {
    let (db, app) = pinned_demo().await;
    let (_, areas) = app.get_json("/v1/areas").await;
    let area = areas["items"][0]["area_id"].as_str().unwrap().to_string();
    let (_, rules) = app.get_json("/v1/rules").await;
    let year = rules["years"].as_array().unwrap().last().unwrap().as_u64().unwrap();
    let mut urls: Vec<String> = json_requests(&app).await.into_iter().map(|(_, url)| url).collect();
    urls.extend(more_requests(&area, year));
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    let _guard = settings.bind_to_scope();
    // another instance on the same database gives the same bytes under the same strong ETag
    // (a workbook's creation time was the time of rendering)
    let other = TestApp::on(&db).spawn().await;
    for url in urls {
        let name = url.trim_start_matches('/').replace(['/', '?', '&', '=', ',', '{', '}'], "_");
        let answer = pinned(&app, &url).await;
        let theirs = pinned(&other, &url).await;
        assert_eq!(answer["sha256"], theirs["sha256"], "{url}: two instances, other bytes");
        insta::assert_json_snapshot!(name, answer);
    }
}
