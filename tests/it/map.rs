//! The map feed: GeoJSON layers (RFC 7946), class breaks, shaping options, and OGC API –
//! Features read by real GIS clients (GDAL's ogrinfo, OWSLib, QGIS).

use std::collections::BTreeSet;

use crate::common::*;
use serde_json::Value;

/// Twice the signed area; positive when counterclockwise.
fn signed_area2(ring: &[Value]) -> f64 {
    ring.windows(2)
        .map(|w| {
            let (a, b) = (&w[0], &w[1]);
            a[0].as_f64().unwrap() * b[1].as_f64().unwrap() - b[0].as_f64().unwrap() * a[1].as_f64().unwrap()
        })
        .sum()
}

/// RFC 7946 for the polygons we serve: longitude then latitude (in Denmark here), closed
/// rings of four or more positions, exteriors counterclockwise and holes clockwise.
fn assert_rfc7946_polygons(geometry: &Value, what: &str) {
    let polygons: Vec<&Value> = match geometry["type"].as_str().unwrap() {
        "Polygon" => vec![&geometry["coordinates"]],
        "MultiPolygon" => geometry["coordinates"].as_array().unwrap().iter().collect(),
        other => panic!("{what}: geometry type {other}"),
    };
    for polygon in polygons {
        for (i, ring) in polygon.as_array().unwrap().iter().enumerate() {
            let ring = ring.as_array().unwrap();
            assert!(ring.len() >= 4, "{what}: a ring of {}", ring.len());
            assert_eq!(ring.first(), ring.last(), "{what}: ring not closed");
            for p in ring {
                let (lon, lat) = (p[0].as_f64().unwrap(), p[1].as_f64().unwrap());
                assert!((8.0..15.3).contains(&lon) && (54.5..57.8).contains(&lat), "{what}: [{lon}, {lat}] is not lon/lat in Denmark");
                assert_eq!(p.as_array().unwrap().len(), 2);
            }
            let area = signed_area2(ring);
            if i == 0 {
                assert!(area > 0.0, "{what}: exterior ring is not counterclockwise");
            } else {
                assert!(area < 0.0, "{what}: hole is not clockwise");
            }
        }
    }
}

async fn geojson_layers(db: TestDb) {
    // the hand-written extract, with BOR-1's geometry left out
    let dir = copy_fixture("spec-extract");
    let path = dir.path().join("areas.geojson");
    let mut g: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    g["features"].as_array_mut().unwrap().pop();
    std::fs::write(&path, g.to_string()).unwrap();
    assert!(import(&db, dir.path()).status.success());
    let app = TestApp::on(&db).spawn().await;

    let r = app.get("/v1/map/areas").await;
    assert_eq!(r.headers()["content-type"], "application/geo+json");
    let layer: Value = r.json().await.unwrap();
    assert_eq!(layer["type"], "FeatureCollection");
    let features = layer["features"].as_array().unwrap();
    assert_eq!(features.len(), 3);
    for f in features {
        assert_eq!(f["type"], "Feature");
        assert_eq!(f["id"], f["properties"]["area_id"]);
        if f["id"] == "BOR-1" {
            assert!(f["geometry"].is_null(), "an area without geometry is listed with geometry null");
        } else {
            assert_rfc7946_polygons(&f["geometry"], f["id"].as_str().unwrap());
        }
    }
    // delivered in EPSG:25832, served within 1e-6 degrees of the true corners (by PROJ)
    let kbh = &features[0]["geometry"]["coordinates"][0];
    for (p, (lon, lat)) in kbh.as_array().unwrap().iter().zip([(12.500, 55.700), (12.505, 55.700), (12.505, 55.703), (12.500, 55.703)]) {
        assert!((p[0].as_f64().unwrap() - lon).abs() < 1e-6 && (p[1].as_f64().unwrap() - lat).abs() < 1e-6, "{p} vs {lon},{lat}");
    }
    // the clockwise AAR-1 was delivered with heights; it comes back counterclockwise, in 2D
    assert_rfc7946_polygons(&features[1]["geometry"], "AAR-1");

    // values in a year, with classes
    let (_, layer) = app.get_json("/v1/map/areas?indicator=udenfor&year=2015&classes=2&classification=equal_interval").await;
    assert_eq!(layer["mode"], "values");
    let c = &layer["classification"];
    assert_eq!((c["field"].as_str(), c["method"].as_str(), c["classes"].as_u64()), (Some("value"), Some("equal_interval"), Some(2)));
    let values: Vec<f64> = layer["features"].as_array().unwrap().iter().filter_map(|f| f["properties"]["value"].as_f64()).collect();
    assert_eq!(values.len(), 3);
    let breaks: Vec<f64> = c["breaks"].as_array().unwrap().iter().map(|b| b.as_f64().unwrap()).collect();
    let (min, max) = values.iter().fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    assert_eq!(breaks, vec![min, (min + max) / 2.0, max]);
    for f in layer["features"].as_array().unwrap() {
        let v = f["properties"]["value"].as_f64().unwrap();
        let class = f["properties"]["class"].as_u64().unwrap();
        assert_eq!(class, u64::from(v > (min + max) / 2.0), "{v}");
        assert_eq!(f["properties"]["status"], "ok");
    }
    // a suppressed value has no numbers and no class
    let (_, layer) = app.get_json("/v1/map/areas?indicator=udenfor&year=2023").await;
    let bor = layer["features"].as_array().unwrap().iter().find(|f| f["id"] == "BOR-1").unwrap();
    assert_eq!(bor["properties"]["status"], "suppressed");
    assert!(bor["properties"]["value"].is_null() && bor["properties"]["numerator"].is_null() && bor["properties"]["class"].is_null());
    // a year without data: missing
    let (_, layer) = app.get_json("/v1/map/areas?indicator=udenfor&year=2020").await;
    assert!(layer["features"].as_array().unwrap().iter().all(|f| f["properties"]["status"] == "missing"));

    // a comparison: the item's fields, classes of the difference
    let (_, layer) = app.get_json("/v1/map/areas?indicator=udenfor&from=2015&to=2023&reference=country").await;
    assert_eq!(layer["mode"], "comparison");
    assert_eq!(layer["classification"]["field"], "difference");
    let (_, table) = app.get_json("/v1/comparisons?indicator=udenfor&from=2015&to=2023&reference=country").await;
    for (f, item) in layer["features"].as_array().unwrap().iter().zip(table["items"].as_array().unwrap()) {
        for (k, v) in item.as_object().unwrap() {
            if k != "area_name" {
                assert_eq!(&f["properties"][k], v, "{k}");
            }
        }
    }

    // bbox, geometry-less, precision, simplification
    let (_, layer) = app.get_json("/v1/map/areas?bbox=12.4,55.6,12.6,55.8").await;
    let ids: Vec<&str> = layer["features"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["KBH-1"]);
    let (_, layer) = app.get_json("/v1/map/areas?geometry=false").await;
    assert!(layer["features"].as_array().unwrap().iter().all(|f| f["geometry"].is_null()));
    let (_, layer) = app.get_json("/v1/map/areas?precision=3").await;
    let p = &layer["features"][0]["geometry"]["coordinates"][0][0];
    assert_eq!(p[0].as_f64().unwrap(), 12.5);
    assert_eq!(p[1].as_f64().unwrap(), 55.7);
    let (_, layer) = app.get_json("/v1/map/areas?simplify=50").await;
    assert_rfc7946_polygons(&layer["features"][0]["geometry"], "simplified");
    for (query, parameter) in [
        ("bbox=1,2,3", "bbox"),
        ("precision=20", "precision"),
        ("simplify=-3", "simplify"),
        ("geometry=maybe", "geometry"),
        ("indicator=udenfor", "year"),
        ("year=2015", "indicator"),
        ("indicator=udenfor&year=2015&classes=12", "classes"),
        ("indicator=udenfor&year=2015&classification=jenks", "classification"),
        ("indicator=udenfor&from=2023&to=2015", "from"),
    ] {
        let (status, body) = app.get_json(&format!("/v1/map/areas?{query}")).await;
        assert_eq!((status, body["parameter"].as_str()), (400, Some(parameter)), "{query}: {body}");
    }

    // municipalities: hulls of their areas, with the municipality level's values
    let (_, layer) = app.get_json("/v1/map/municipalities?indicator=udenfor&year=2015").await;
    let features = layer["features"].as_array().unwrap();
    let codes: Vec<&str> = features.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(codes, ["101", "400", "751"]);
    assert_rfc7946_polygons(&features[0]["geometry"], "hull of 101");
    assert!(features[1]["geometry"].is_null(), "Bornholm's only area has no geometry");
    assert!((features[0]["properties"]["value"].as_f64().unwrap() - 20.0).abs() < 1e-12);
}

async fn ogc_api_features(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    assert!(cli(&["demo-extract", dir.path().to_str().unwrap()]).status.success());
    assert!(import(&db, dir.path()).status.success());
    let app = TestApp::on(&db).spawn().await;
    let (_, landing) = app.get_json("/ogc").await;
    let rels: BTreeSet<&str> = landing["links"].as_array().unwrap().iter().map(|l| l["rel"].as_str().unwrap()).collect();
    for rel in ["self", "service-desc", "conformance", "data"] {
        assert!(rels.contains(rel), "{rel}");
    }
    let (_, conf) = app.get_json("/ogc/conformance").await;
    assert!(conf["conformsTo"].as_array().unwrap().iter().any(|c| c == "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"));
    let (_, cols) = app.get_json("/ogc/collections").await;
    let ids: Vec<&str> = cols["collections"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["areas", "municipalities"]);
    assert_eq!(cols["collections"][0]["extent"]["temporal"]["interval"][0][0], "2013-01-01T00:00:00Z");

    // paging by next links reads every area exactly once
    let mut url = format!("{}/ogc/collections/areas/items?limit=10", app.address);
    let mut ids = Vec::new();
    loop {
        let r = app.client.get(&url).send().await.unwrap();
        assert_eq!(r.headers()["content-type"], "application/geo+json");
        let page: Value = r.json().await.unwrap();
        assert_eq!(page["numberMatched"], 48);
        assert_eq!(page["numberReturned"].as_u64().unwrap() as usize, page["features"].as_array().unwrap().len());
        for f in page["features"].as_array().unwrap() {
            assert_rfc7946_polygons(&f["geometry"], "ogc item");
            assert!(f["properties"]["outside_work_education"].is_number() || f["properties"]["outside_work_education"].is_null());
            ids.push(f["id"].as_str().unwrap().to_string());
        }
        match page["links"].as_array().unwrap().iter().find(|l| l["rel"] == "next") {
            Some(next) => url = next["href"].as_str().unwrap().to_string(),
            None => break,
        }
    }
    assert_eq!(ids.len(), 48);
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), 48);
    // a year by datetime, a bbox, one item, and the errors
    let (_, page) = app.get_json("/ogc/collections/areas/items?datetime=2015/2017&limit=1").await;
    assert_eq!(page["features"][0]["properties"]["year"], 2017);
    let (_, page) = app.get_json("/ogc/collections/areas/items?bbox=10.0,56.1,10.3,56.25").await;
    assert_eq!(page["numberMatched"], 5, "Aarhus's five areas");
    let (_, page) = app.get_json("/ogc/collections/areas/items?municipality_code=0751").await;
    assert_eq!(page["numberMatched"], 5);
    let (status, item) = app.get_json("/ogc/collections/areas/items/751-1").await;
    assert_eq!((status, item["id"].as_str()), (200, Some("751-1")));
    assert!(item["links"].as_array().unwrap().iter().any(|l| l["rel"] == "collection"));
    assert_eq!(app.get("/ogc/collections/areas/items/nope").await.status(), 404);
    assert_eq!(app.get("/ogc/collections/roads/items").await.status(), 404);
    assert_eq!(app.get("/ogc/collections/areas/items?limit=0").await.status(), 400);
    assert_eq!(app.get("/ogc/collections/areas/items?limit=ten").await.status(), 400);
    // every operation refuses a parameter it does not define, and a format it cannot serve
    // (OGC API – Features 1.0, /req/core/query-param-unknown and -invalid), and takes f=json
    for path in [
        "/ogc",
        "/ogc/conformance",
        "/ogc/collections",
        "/ogc/collections/areas",
        "/ogc/collections/areas/queryables",
        "/ogc/collections/areas/items",
        "/ogc/collections/areas/items/751-1",
    ] {
        let (status, problem) = app.get_json(&format!("{path}?ooga=booga")).await;
        assert_eq!((status, problem["parameter"].as_str()), (400, Some("ooga")), "{path}: {problem}");
        assert!(problem["detail"].as_str().unwrap().contains("unknown parameter `ooga`; this operation takes"), "{problem}");
        let (status, problem) = app.get_json(&format!("{path}?f=html")).await;
        assert_eq!((status, problem["parameter"].as_str()), (400, Some("f")), "{path}: {problem}");
        assert_eq!(app.get(&format!("{path}?f=json")).await.status(), 200, "{path}");
        let geojson = app.get(&format!("{path}?f=geojson")).await.status();
        assert_eq!(geojson, if path.contains("/items") { 200 } else { 400 }, "{path}: only features are GeoJSON");
    }
    // offset is an int32 in the document, and so in the service
    assert_eq!(app.get("/ogc/collections/areas/items?offset=2147483647").await.status(), 200);
    assert_eq!(app.get("/ogc/collections/areas/items?offset=2147483648").await.status(), 400);
    // above the maximum is no error (OGC API – Features 1.0.1): the maximum is used
    for limit in ["10001", "99999999999999999999999999"] {
        let (status, page) = app.get_json(&format!("/ogc/collections/areas/items?limit={limit}")).await;
        assert_eq!((status, page["numberReturned"].as_u64()), (200, Some(48)), "limit={limit}");
    }
    assert_eq!(app.get("/ogc/collections/areas/items?datetime=yesterday").await.status(), 400);
    let (_, q) = app.get_json("/ogc/collections/areas/queryables").await;
    assert!(q["properties"]["outside_work_education"].is_object());

    // the municipalities: the 36 with areas, outlined by their areas' hull, with the
    // municipality level's published values
    let (status, collection) = app.get_json("/ogc/collections/municipalities").await;
    assert_eq!(status, 200);
    let extent = collection["extent"]["spatial"]["bbox"][0].as_array().unwrap();
    assert!(extent[0].as_f64().unwrap() > 8.0 && extent[2].as_f64().unwrap() < 15.5, "Denmark's extent: {extent:?}");
    let (_, page) = app.get_json("/ogc/collections/municipalities/items?limit=1000&datetime=2023").await;
    assert_eq!(page["numberMatched"], 36);
    let (_, series) = app.get_json("/v1/areas/751-1/series?indicator=outside_work_education").await;
    let aarhus_2023 = series["series"]["municipality"].as_array().unwrap().iter().find(|p| p["year"] == 2023).unwrap()["value"].clone();
    assert!(aarhus_2023.is_number());
    for f in page["features"].as_array().unwrap() {
        assert_rfc7946_polygons(&f["geometry"], "ogc municipality");
        assert_eq!(f["properties"]["geometry_source"], "hull_of_areas");
        assert_eq!(f["id"], f["properties"]["municipality_code"]);
        if f["id"] == "751" {
            assert_eq!(f["properties"]["outside_work_education"], aarhus_2023);
            assert_eq!(f["properties"]["area_count"], 5);
        }
    }
    let (_, page) = app.get_json("/ogc/collections/municipalities/items?bbox=10.0,56.1,10.3,56.25").await;
    let codes: Vec<&str> = page["features"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert!(codes.contains(&"751"), "{codes:?}");
    let (status, item) = app.get_json("/ogc/collections/municipalities/items/0751?datetime=2023").await;
    assert_eq!((status, item["id"].as_str()), (200, Some("751")), "the four-digit form finds the municipality");
    assert_eq!(item["properties"]["outside_work_education"], aarhus_2023);
    let self_link = item["links"].as_array().unwrap().iter().find(|l| l["rel"] == "self").unwrap();
    assert!(self_link["href"].as_str().unwrap().ends_with("/ogc/collections/municipalities/items/751"));
    let (status, problem) = app.get_json("/ogc/collections/municipalities/items/999").await;
    assert_eq!(status, 404, "a municipality without areas or outline is no feature: {problem}");
    assert_eq!(app.get("/ogc/collections/municipalities/items/abc").await.status(), 404);
    let (_, q) = app.get_json("/ogc/collections/municipalities/queryables").await;
    assert!(q["properties"]["geometry_source"].is_object() && q["properties"]["outside_work_education"].is_object());
}

/// Municipality outlines carried by the extract (municipalities.geojson, with DAGI's property
/// name `KOMKODE` and the four-digit code) are the municipality layer's geometry: a
/// municipality's Features joined into one MultiPolygon, in WGS 84 with RFC 7946 orientation,
/// listed though it has no area with geometry; others keep the hull of their areas.
async fn municipality_outlines_from_the_extract(db: TestDb) {
    let dir = copy_fixture("spec-extract");
    // Bornholm: two islands, the first given clockwise
    let bornholm = [
        vec![[14.70, 55.00], [14.70, 55.30], [15.15, 55.30], [15.15, 55.00], [14.70, 55.00]],
        vec![[15.18, 55.31], [15.20, 55.31], [15.20, 55.33], [15.18, 55.33], [15.18, 55.31]],
    ];
    let features: Vec<Value> = bornholm
        .iter()
        .map(|ring| {
            serde_json::json!({"type": "Feature", "properties": {"KOMKODE": "0400", "KOMNAVN": "Bornholm"},
                                        "geometry": {"type": "Polygon", "coordinates": [ring]}})
        })
        .collect();
    let collection = serde_json::json!({"type": "FeatureCollection", "features": features});
    std::fs::write(dir.path().join("municipalities.geojson"), collection.to_string()).unwrap();
    let out = import(&db, dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let app = TestApp::on(&db).spawn().await;

    let (_, layer) = app.get_json("/v1/map/municipalities?indicator=udenfor&year=2015").await;
    let features = layer["features"].as_array().unwrap();
    let by_code = |code: &str| features.iter().find(|f| f["id"] == code).unwrap_or_else(|| panic!("no feature {code}: {layer}"));
    let bor = by_code("400");
    assert_eq!(bor["properties"]["geometry_source"], "extract");
    assert_eq!(bor["geometry"]["type"], "MultiPolygon");
    assert_rfc7946_polygons(&bor["geometry"], "Bornholm");
    let polygons = bor["geometry"]["coordinates"].as_array().unwrap();
    assert_eq!(polygons.len(), 2);
    for (polygon, delivered) in polygons.iter().zip(&bornholm) {
        let served: BTreeSet<String> =
            polygon[0].as_array().unwrap().iter().map(|p| format!("{:.7},{:.7}", p[0].as_f64().unwrap(), p[1].as_f64().unwrap())).collect();
        let delivered: BTreeSet<String> = delivered.iter().map(|p| format!("{:.7},{:.7}", p[0], p[1])).collect();
        assert_eq!(served, delivered, "the outline's positions come back as delivered");
    }
    assert!(bor["properties"]["value"].is_number(), "the municipality level's values as before: {bor}");
    for code in ["101", "751"] {
        assert_eq!(by_code(code)["properties"]["geometry_source"], "hull_of_areas");
    }
    // simplification applies to outlines: at 5 km the small island's ring keeps its corners
    // or is left as delivered, and everything stays valid
    let (status, simplified) = app.get_json("/v1/map/municipalities?simplify=5000&precision=4").await;
    assert_eq!(status, 200);
    for f in simplified["features"].as_array().unwrap().iter().filter(|f| !f["geometry"].is_null()) {
        assert_rfc7946_polygons(&f["geometry"], f["id"].as_str().unwrap());
    }
    let (status, body) = app.get_json("/v1/map/municipalities?simplify=-1").await;
    assert_eq!((status, body["parameter"].as_str()), (400, Some("simplify")));
    // the same outline through OGC API – Features
    let (status, item) = app.get_json("/ogc/collections/municipalities/items/0400?datetime=2015").await;
    assert_eq!(status, 200);
    assert_eq!(item["properties"]["geometry_source"], "extract");
    assert_eq!(item["geometry"], bor["geometry"]);
    assert_eq!(item["properties"]["udenfor"], bor["properties"]["value"]);
}

on_both_backends!(geojson_layers, ogc_api_features, municipality_outlines_from_the_extract);

/// Whether a client tool is here; CI (BOLIGSOCIAL_TEST_REQUIRE_GIS=1) insists.
fn tool(command: &str, args: &[&str]) -> bool {
    let ok = std::process::Command::new(command).args(args).output().is_ok_and(|o| o.status.success());
    if !ok {
        absent("BOLIGSOCIAL_TEST_REQUIRE_GIS", &format!("{command} is not usable (Debian gdal-bin; PyPI OWSLib)"));
    }
    ok
}

/// Runs a client tool off the test's executor and returns what it printed; the test fails,
/// with the tool's errors, when it does.
async fn run_tool(program: &'static str, args: Vec<String>) -> String {
    let out = tokio::task::spawn_blocking(move || std::process::Command::new(program).args(&args).output().unwrap()).await.unwrap();
    assert!(out.status.success(), "{program}: {}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The values of one field in what `ogrinfo -al` printed, e.g. `area_id (String) = `.
fn ogrinfo_values(text: &str, prefix: &str) -> BTreeSet<String> {
    text.lines().filter_map(|l| l.trim().strip_prefix(prefix)).map(str::to_string).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_and_owslib_read_every_feature() {
    let app = TestApp::demo().spawn().await;
    let (_, all) = app.get_json("/v1/areas").await;
    let expected: BTreeSet<String> = all["items"].as_array().unwrap().iter().map(|i| i["area_id"].as_str().unwrap().to_string()).collect();
    assert_eq!(expected.len(), 48);

    let (_, municipalities) = app.get_json("/v1/municipalities").await;
    let with_areas: BTreeSet<String> = municipalities["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| !m["areas"].as_array().unwrap().is_empty())
        .map(|m| m["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(with_areas.len(), 36);
    let url = format!("{}/ogc", app.address);

    if tool("ogrinfo", &["--version"]) {
        let ogrinfo = |source: String, layer: Option<&str>| {
            let args = ["-ro", "-al", "-q"].into_iter().map(str::to_string).chain([source]).chain(layer.map(str::to_string)).collect();
            run_tool("ogrinfo", args)
        };
        for (layer, field, expected) in [("areas", "area_id", &expected), ("municipalities", "municipality_code", &with_areas)] {
            let text = ogrinfo(format!("OAPIF:{url}"), Some(layer)).await;
            assert_eq!(&ogrinfo_values(&text, &format!("{field} (String) = ")), expected, "ogrinfo read every feature of {layer}");
            assert_eq!(text.matches("POLYGON").count(), expected.len(), "with their geometry");
        }
        // the GeoJSON map layer by its URL (GDAL's GeoJSON driver), as `ogr2ogr` would take it
        let text = ogrinfo(format!("{}/v1/map/areas?indicator=outside_work_education&year=2023", app.address), None).await;
        assert_eq!(ogrinfo_values(&text, "area_id (String) = "), expected, "ogrinfo read every area of the map layer");
        assert_eq!(text.matches("  class (Integer) = ").count(), 48, "each with its class");
        assert_eq!(text.matches("POLYGON").count(), 48);
    }
    if tool("python3", &["-c", "import owslib"]) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/gis/owslib_read.py");
        let report: Value = serde_json::from_str(&run_tool("python3", vec![script.to_string(), url]).await).unwrap();
        assert_eq!(report["collections"], serde_json::json!(["areas", "municipalities"]));
        for (collection, expected) in [("areas", &expected), ("municipalities", &with_areas)] {
            let read = report["ids"][collection].as_array().unwrap();
            let ids: BTreeSet<String> = read.iter().map(|i| i.as_str().unwrap().to_string()).collect();
            assert_eq!(&ids, expected, "OWSLib read every feature of {collection}");
            assert_eq!(read.len(), expected.len(), "each once");
        }
    }
}

/// [min x, min y, max x, max y] of every position in a GeoJSON geometry.
fn bbox_of(geometry: &Value) -> [f64; 4] {
    fn walk(v: &Value, b: &mut [f64; 4]) {
        let a = v.as_array().unwrap();
        if a.first().is_some_and(Value::is_number) {
            let (x, y) = (a[0].as_f64().unwrap(), a[1].as_f64().unwrap());
            *b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
        } else {
            a.iter().for_each(|c| walk(c, b));
        }
    }
    let mut b = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    walk(&geometry["coordinates"], &mut b);
    b
}

/// QGIS, through its own OAPIF provider (not GDAL's), as a municipality's GIS desk would add
/// the service: every feature with its name and geometry where the service has it, a map
/// extent asked of the server, a filter on an attribute; and the GeoJSON map layer added by
/// its URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qgis_reads_every_feature() {
    // PyQGIS belongs to the system's Python (Debian python3-qgis), not to one on PATH first
    let Some(python) = ["/usr/bin/python3", "python3"]
        .into_iter()
        .find(|p| std::process::Command::new(p).args(["-c", "import qgis.core"]).output().is_ok_and(|o| o.status.success()))
    else {
        return absent("BOLIGSOCIAL_TEST_REQUIRE_GIS", "PyQGIS is not usable (Debian python3-qgis)");
    };
    let app = TestApp::demo().spawn().await;
    let rect = [12.3, 55.5, 12.7, 55.9]; // Copenhagen and its western suburbs
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/gis/qgis_read.py");
    let layer = "/v1/map/areas?indicator=outside_work_education&year=2023";
    let mut args = vec![script.to_string(), format!("{}/ogc", app.address)];
    args.extend(rect.iter().map(f64::to_string));
    args.push(format!("{}{layer}", app.address));
    let report: Value = serde_json::from_str(&run_tool(python, args).await).unwrap();

    for (collection, key) in [("areas", "area_id"), ("municipalities", "municipality_code")] {
        let (_, items) = app.get_json(&format!("/ogc/collections/{collection}/items?limit=10000")).await;
        let served = items["features"].as_array().unwrap();
        assert_eq!(served.len(), if collection == "areas" { 48 } else { 36 });
        let read = &report[collection];
        assert_eq!(read["crs"], "EPSG:4326", "{collection}: QGIS takes OGC CRS84 as WGS 84");
        assert_eq!(read["feature_count"], served.len(), "{collection}: numberMatched");
        let fields: Vec<&str> = read["fields"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
        for property in served[0]["properties"].as_object().unwrap().keys() {
            assert!(fields.contains(&property.as_str()), "{collection}: QGIS has no field {property}: {fields:?}");
        }
        let features = read["features"].as_object().unwrap();
        assert_eq!(features.len(), served.len(), "{collection}: every feature, over pages of 7");
        assert_eq!(read["read"], served.len(), "{collection}: each once");
        let (mut in_rect, mut subset) = (BTreeSet::new(), BTreeSet::new());
        for feature in served {
            let id = feature["properties"][key].as_str().unwrap();
            let seen = &features[id];
            assert_eq!(seen["name"], feature["properties"]["name"], "{collection} {id}: the name, UTF-8 intact");
            assert_eq!(seen["geometry"], feature["geometry"]["type"], "{collection} {id}");
            let b = bbox_of(&feature["geometry"]);
            for (q, s) in seen["bbox"].as_array().unwrap().iter().zip(b) {
                assert!((q.as_f64().unwrap() - s).abs() < 1e-9, "{collection} {id}: QGIS's extent {} against {b:?}", seen["bbox"]);
            }
            if b[0] <= rect[2] && rect[0] <= b[2] && b[1] <= rect[3] && rect[1] <= b[3] {
                in_rect.insert(id.to_string());
            }
            if feature["properties"]["municipality_code"] == "101" {
                subset.insert(id.to_string());
            }
        }
        let ids =
            |name: &str| -> BTreeSet<String> { read[name].as_array().unwrap().iter().map(|i| i.as_str().unwrap().to_string()).collect() };
        assert!(!in_rect.is_empty() && in_rect.len() < served.len(), "the rectangle picks some: {in_rect:?}");
        assert_eq!(ids("in_rect"), in_rect, "{collection}: the features in a map extent");
        assert!(!subset.is_empty());
        assert_eq!(ids("subset"), subset, "{collection}: a filter on municipality_code");
    }

    // the GeoJSON map layer, by its URL: every area with its value and choropleth class
    let (_, served) = app.get_json(layer).await;
    let read = &report["map_layer"];
    assert_eq!(read["crs"], "EPSG:4326");
    assert_eq!(read["feature_count"], 48);
    for feature in served["features"].as_array().unwrap() {
        let p = &feature["properties"];
        let seen = &read["features"][p["area_id"].as_str().unwrap()];
        assert_eq!(seen["class"], p["class"], "{}", p["area_id"]);
        assert_eq!(seen["value"], p["value"], "{}", p["area_id"]);
    }
    assert_eq!(read["features"].as_object().unwrap().len(), 48);
}

/// The note's figure as SVG: one bar per area with figures, sorted, labelled like the note.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_comparison_chart_is_the_notes_figure() {
    let app = TestApp::demo().spawn().await;
    let q = "indicator=outside_work_education&from=2015&to=2023&reference=municipality";
    let r = app.get(&format!("/v1/comparisons/chart.svg?{q}")).await;
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    let svg = r.text().await.unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_eq!(svg.matches("class=\"bar\"").count(), 48);
    let (_, table) = app.get_json(&format!("/v1/comparisons?{q}&sort=difference")).await;
    // bars in the order of the sorted table, each labelled with its rounded difference
    let order: Vec<&str> = svg.split("data-area=\"").skip(1).map(|s| &s[..s.find('"').unwrap()]).collect();
    let expected: Vec<&str> = table["items"].as_array().unwrap().iter().map(|i| i["area_id"].as_str().unwrap()).collect();
    assert_eq!(order, expected);
    for item in table["items"].as_array().unwrap() {
        let d = item["difference_rounded"].as_f64().unwrap();
        let label = format!("{}{:.1}", if d < 0.0 { "−" } else { "" }, d.abs()).replace('.', ",");
        assert!(svg.contains(&format!(">{label}</text>")), "{label}");
    }
    let english = app.get_text(&format!("/v1/comparisons/chart.svg?{q}&lang=en")).await;
    assert!(english.contains("percentage points") && english.contains("−"));
    assert_eq!(app.get("/v1/comparisons/chart.svg?indicator=nope&from=2015&to=2023").await.status(), 400);
}

/// The vector tiles: a TileJSON 3.0 document; every area in the tile over it at zoom 14, with
/// the GeoJSON layer's properties and its outline within the tile's resolution (decoded by
/// mapbox-vector-tile from PyPI); an empty tile as 204; a tile that cannot exist as 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vector_tiles_carry_the_map_layer() {
    let app = TestApp::demo().spawn().await;
    let (status, tilejson) = app.get_json("/tiles/areas.json").await;
    assert_eq!(status, 200);
    assert_eq!(tilejson["tilejson"], "3.0.0");
    // (a parameter it does not take would be a free cache miss: refused)
    let (status, problem) = app.get_json("/tiles/areas.json?indicator=x").await;
    assert_eq!((status, problem["parameter"].as_str()), (400, Some("indicator")), "{problem}");
    assert_eq!(tilejson["tiles"][0], format!("{}/tiles/areas/{{z}}/{{x}}/{{y}}.mvt", app.address));
    assert_eq!(tilejson["vector_layers"][0]["id"], "areas");
    let empty = app.get("/tiles/areas/7/0/0.mvt").await;
    assert_eq!(empty.status(), 204, "no area in the Pacific");
    for bad in ["/tiles/areas/7/200/0.mvt", "/tiles/areas/19/0/0.mvt", "/tiles/areas/7/1/2.png"] {
        assert_eq!(app.get(bad).await.status(), 404, "{bad}");
    }
    let (status, problem) = app.get_json("/tiles/areas/7/67/39.mvt?indicator=nope&year=2023").await;
    assert_eq!((status, problem["parameter"].as_str()), (400, Some("indicator")));

    let query = "indicator=outside_work_education&year=2023";
    let (_, layer) = app.get_json(&format!("/v1/map/areas?{query}")).await;
    let features = layer["features"].as_array().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut args = Vec::new();
    let mut tiles = BTreeSet::new();
    let z = 14u32;
    for f in features {
        let b = geometry_bbox(&f["geometry"]);
        let (lon, lat) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
        let n = f64::from(1u32 << z);
        let x = ((lon + 180.0) / 360.0 * n) as u32;
        let y = ((1.0 - lat.to_radians().tan().asinh() / std::f64::consts::PI) / 2.0 * n) as u32;
        tiles.insert((x, y));
    }
    for (x, y) in &tiles {
        let r = app.get(&format!("/tiles/areas/{z}/{x}/{y}.mvt?{query}")).await;
        assert_eq!(r.status(), 200, "{z}/{x}/{y}");
        assert_eq!(r.headers()["content-type"], "application/vnd.mapbox-vector-tile");
        assert!(r.headers().contains_key("etag"));
        let path = dir.path().join(format!("{x}-{y}.mvt"));
        std::fs::write(&path, r.bytes().await.unwrap()).unwrap();
        args.push(format!("{z}/{x}/{y}={}", path.display()));
    }
    if !tool("python3", &["-c", "import mapbox_vector_tile"]) {
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/gis/mvt_read.py");
    let decoded: Value = serde_json::from_str(&run_tool("python3", [script.to_string()].into_iter().chain(args).collect()).await).unwrap();
    // a tile is 40,075 km / 2^14 = 2.4 km at the equator, 4,096 units: 0.6 m a unit, and the
    // geometry is simplified by about 3 m at this zoom
    let tolerance = 10.0 / 111_000.0;
    let mut compared = 0;
    for f in features {
        let id = f["id"].as_str().unwrap();
        let found = decoded[id].as_array().unwrap_or_else(|| panic!("{id} is in no tile"));
        let props = &found[0]["properties"];
        for (key, want) in f["properties"].as_object().unwrap() {
            match want {
                Value::Null => assert!(props.get(key).is_none(), "{id} {key}: a null is left out"),
                Value::Number(n) => assert!((props[key].as_f64().unwrap() - n.as_f64().unwrap()).abs() < 1e-9, "{id} {key}"),
                _ => assert_eq!(&props[key], want, "{id} {key}"),
            }
        }
        // the outline, as far as the tiles fetched hold it
        let mut lo = [f64::MAX, f64::MAX];
        let mut hi = [f64::MIN, f64::MIN];
        for part in found {
            let b: Vec<f64> = part["bbox"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
            lo = [lo[0].min(b[0]), lo[1].min(b[1])];
            hi = [hi[0].max(b[2]), hi[1].max(b[3])];
        }
        let want = geometry_bbox(&f["geometry"]);
        // (compared where the area lies within its tile: at an edge the tile holds a part)
        let (cx, cy) = ((want[0] + want[2]) / 2.0, (want[1] + want[3]) / 2.0);
        let n = f64::from(1u32 << z);
        let (tx, ty) = ((cx + 180.0) / 360.0 * n, (1.0 - cy.to_radians().tan().asinh() / std::f64::consts::PI) / 2.0 * n);
        let lon = |x: f64| x / n * 360.0 - 180.0;
        let lat = |y: f64| (std::f64::consts::PI * (1.0 - 2.0 * y / n)).sinh().atan().to_degrees();
        let (w, e, north, south) = (lon(tx.floor()), lon(tx.floor() + 1.0), lat(ty.floor()), lat(ty.floor() + 1.0));
        let within = want[0] > w && want[2] < e && want[1] > south && want[3] < north;
        if within {
            compared += 1;
            for (got, want) in [lo[0], lo[1], hi[0], hi[1]].iter().zip(&want) {
                assert!((got - want).abs() < tolerance, "{id}: the tile's outline {lo:?} {hi:?} against {want:?}");
            }
        }
    }
    assert!(compared > 15, "enough outlines lie within one tile: {compared}");
}

/// The bounding box of a GeoJSON geometry's coordinates (walked without recursion).
fn geometry_bbox(geometry: &Value) -> [f64; 4] {
    let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    let mut stack = vec![&geometry["coordinates"]];
    while let Some(v) = stack.pop() {
        let items = v.as_array().unwrap();
        match (items.first().and_then(Value::as_f64), items.get(1).and_then(Value::as_f64)) {
            (Some(x), Some(y)) => b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)],
            _ => stack.extend(items),
        }
    }
    b
}
