//! The HTTP service against SQLite and PostgreSQL: the demo on first start, /v1/areas,
//! health, the OpenAPI document, problem details.

use std::collections::BTreeSet;

use crate::common::*;

/// `serve` on an empty embedded database imports the demo and answers with its 48 areas
/// in 36 municipalities.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_embedded_database_gets_the_demo() {
    let app = TestApp::demo().spawn().await;
    let (status, body) = app.get_json("/v1/areas").await;
    assert_eq!(status, 200);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 48);
    assert_eq!(body["count"], 48);
    let municipalities: BTreeSet<&str> = items.iter().map(|i| i["municipality_code"].as_str().unwrap()).collect();
    assert_eq!(municipalities.len(), 36);
    assert_eq!(body["boundary_version"], "2024-09");
    assert_eq!(body["dataset_version"], 1);
    let (_, ready) = app.get_json("/readyz").await;
    assert_eq!(ready["dataset_version"], 1);
}

/// A PostgreSQL database is not given the demo: it serves what was imported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_database_serves_what_was_imported() {
    let Some(db) = TestDb::postgres() else { return };
    let app = TestApp::on(&db)
        .with(move |s| {
            s.dataset.load_demo = true;
        })
        .spawn()
        .await;
    let (status, problem) = app.get_json("/v1/areas").await;
    assert_eq!(status, 503, "{problem}");
    assert_eq!(app.get("/readyz").await.status(), 503);
    let dir = tempfile::tempdir().unwrap();
    assert!(cli(&["demo-extract", dir.path().to_str().unwrap()]).status.success());
    let out = import(&db, dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // the refresher notices the new version within dataset.refresh_seconds (1 s here)
    let mut body = serde_json::Value::Null;
    for _ in 0..50 {
        let (status, b) = app.get_json("/v1/areas").await;
        if status == 200 {
            body = b;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(body["count"], 48, "{body}");
}

async fn areas_filter_by_municipality_in_both_forms(db: TestDb) {
    let out = import(&db, &fixture("spec-extract"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let app = TestApp::on(&db).spawn().await;
    let (_, all) = app.get_json("/v1/areas").await;
    assert_eq!(all["count"], 3);
    let ids: Vec<&str> = all["items"].as_array().unwrap().iter().map(|i| i["area_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["KBH-1", "AAR-1", "BOR-1"], "the extract's order");
    for code in ["751", "0751"] {
        let (status, body) = app.get_json(&format!("/v1/areas?municipality={code}")).await;
        assert_eq!(status, 200);
        assert_eq!(body["count"], 1);
        assert_eq!(body["items"][0]["area_id"], "AAR-1");
        assert_eq!(body["items"][0]["municipality_code"], "751");
        assert_eq!(body["items"][0]["municipality_name"], "Aarhus");
        assert_eq!(body["items"][0]["department_count"], 2);
    }
    let (_, body) = app.get_json("/v1/areas?q=PARKEN").await;
    assert_eq!(body["count"], 2);
    // the earlier delimitation has fewer departments, and no BOR-1
    let (_, body) = app.get_json("/v1/areas?boundary=2020-01").await;
    assert_eq!(body["boundary_version"], "2020-01");
    assert_eq!(body["count"], 2);
    assert_eq!(body["items"][0]["department_count"], 1);
    // geometry delivered in EPSG:25832 comes back in WGS 84 within 1e-6 degrees
    let bbox: Vec<f64> = all["items"][0]["bbox"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    for (got, want) in bbox.iter().zip([12.500, 55.700, 12.505, 55.703]) {
        assert!((got - want).abs() < 1e-6, "{bbox:?}");
    }
}

async fn bad_parameters_are_problem_details(db: TestDb) {
    assert!(import(&db, &fixture("spec-extract")).status.success());
    let app = TestApp::on(&db).spawn().await;
    for (path, parameter) in [
        ("/v1/areas?boundary=1999-01", "boundary"),
        ("/v1/areas?municipality=abc", "municipality"),
        ("/v1/areas?municipality=10101", "municipality"),
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status(), 400, "{path}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["status"], 400);
        assert_eq!(body["parameter"], parameter, "{body}");
        assert!(body["type"].is_string() && body["title"].is_string() && body["detail"].is_string());
    }
    let r = app.get("/v1/nothing-here").await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], 404);
}

async fn health_and_request_ids(db: TestDb) {
    assert!(import(&db, &fixture("spec-extract")).status.success());
    let app = TestApp::on(&db).spawn().await;
    let (status, body) = app.get_json("/healthz").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (status, body) = app.get_json("/readyz").await;
    assert_eq!(status, 200);
    assert_eq!(body["dataset_version"], 1);
    let r = app.get("/v1/areas").await;
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 36, "a fresh UUID: {id}");
    // a caller's id is kept
    let r = app.client.get(format!("{}/healthz", app.address)).header("x-request-id", "trace-42").send().await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "trace-42");
}

on_both_backends!(areas_filter_by_municipality_in_both_forms, bad_parameters_are_problem_details, health_and_request_ids);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_openapi_document_is_the_committed_one() {
    let db = TestDb::sqlite();
    let app = TestApp::on(&db).spawn().await;
    let served = app.get_text("/openapi.json").await;
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json")).unwrap();
    assert_eq!(served, committed);
    let out = cli(&["openapi"]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), committed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_while_no_dataset_is_loaded() {
    let db = TestDb::sqlite();
    let app = TestApp::on(&db).spawn().await;
    let r = app.get("/readyz").await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert_eq!(app.get("/healthz").await.status(), 200);
}

/// The container health check needs no curl: `boligsocial probe URL`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_probe_command_checks_a_url() {
    let db = TestDb::sqlite();
    let app = TestApp::on(&db).spawn().await;
    let ok = tokio::task::spawn_blocking({
        let a = app.address.clone();
        move || (cli(&["probe", &format!("{a}/healthz")]), cli(&["probe", &format!("{a}/readyz")]))
    })
    .await
    .unwrap();
    assert!(ok.0.status.success(), "{}", String::from_utf8_lossy(&ok.0.stderr));
    assert_eq!(ok.1.status.code(), Some(2), "no dataset yet: not ready");
}

/// The raw answer to `GET /healthz` (with extra header lines) from a binary started on `port`,
/// once it answers; waits up to 5 s for the port.
fn healthz_when_up(port: u16, extra_headers: &str) -> String {
    use std::io::{Read, Write};
    for _ in 0..100 {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            write!(stream, "GET /healthz HTTP/1.1\r\nHost: x\r\n{extra_headers}Connection: close\r\n\r\n").unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).unwrap();
            return response;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("nothing listens on port {port}")
}

/// SIGTERM (as Kubernetes sends) and SIGINT stop the service cleanly: exit status 0.
#[test]
fn the_binary_stops_gracefully_on_sigterm_and_sigint() {
    for signal in ["TERM", "INT"] {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_boligsocial"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("BOLIGSOCIAL__DATASET__LOAD_DEMO", "false")
            .env("BOLIGSOCIAL__SERVER__SHUTDOWN_TIMEOUT_SECONDS", "2")
            .env_remove("DATABASE_URL")
            .current_dir(dir.path())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // answering HTTP, not just a bound port: a signal before the server runs is no
        // graceful stop to test
        let answer = healthz_when_up(port, "");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        let sent = std::process::Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
        assert!(sent.success());
        let mut status = None;
        for _ in 0..100 {
            if let Some(s) = child.try_wait().unwrap() {
                status = Some(s);
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let status = status.unwrap_or_else(|| {
            let _ = child.kill();
            panic!("SIG{signal}: still running after 5 s")
        });
        assert!(status.success(), "SIG{signal}: {status}");
    }
}

/// Off a terminal the log is JSON lines; each request is logged with method, path, status,
/// latency and its request id.
#[test]
fn requests_are_logged_as_json_lines_with_their_span() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_boligsocial"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("BOLIGSOCIAL__DATASET__LOAD_DEMO", "false")
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .current_dir(dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let response = healthz_when_up(port, "x-request-id: log-test-7\r\n");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap();
    let mut log = String::new();
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    let line = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["span"]["request_id"] == "log-test-7")
        .unwrap_or_else(|| panic!("no JSON line for the request in:\n{log}"));
    assert_eq!(line["span"]["method"], "GET");
    assert_eq!(line["span"]["path"], "/healthz");
    assert_eq!(line["status"], 200);
    assert!(line["latency_ms"].as_f64().is_some());
}

/// A number compared to within a few units in the last place.
#[derive(Debug)]
struct Close(f64);

impl PartialEq for Close {
    fn eq(&self, other: &Close) -> bool {
        (self.0 - other.0).abs() <= 1e-12 * self.0.abs().max(other.0.abs())
    }
}

/// The tables of a data package, read from its zip: name → rows of field → text.
fn package_tables(
    zip_bytes: &[u8],
) -> (serde_json::Value, std::collections::BTreeMap<String, Vec<std::collections::BTreeMap<String, String>>>) {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).unwrap();
    let mut descriptor = String::new();
    zip.by_name("datapackage.json").unwrap().read_to_string(&mut descriptor).unwrap();
    let descriptor: serde_json::Value = serde_json::from_str(&descriptor).unwrap();
    let mut tables = std::collections::BTreeMap::new();
    for resource in descriptor["resources"].as_array().unwrap() {
        let mut text = String::new();
        zip.by_name(resource["path"].as_str().unwrap()).unwrap().read_to_string(&mut text).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let names: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
        let fields: Vec<&str> = resource["schema"]["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
        assert_eq!(names, fields, "{}: the header is the schema's fields", resource["name"]);
        let rows = reader.records().map(|r| names.iter().cloned().zip(r.unwrap().iter().map(str::to_string)).collect()).collect();
        tables.insert(resource["name"].as_str().unwrap().to_string(), rows);
    }
    (descriptor, tables)
}

/// `/v1/datapackage.zip` is the whole published dataset: every area's and every reference's
/// figures equal the series the API serves (withheld ones withheld), the criteria equal the
/// criteria answers, the same version gives the same bytes, and frictionless validates it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_package_holds_what_the_api_serves() {
    let app = TestApp::demo().spawn().await;
    let r = app.get("/v1/datapackage.zip").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    assert_eq!(r.headers()["content-disposition"], "attachment; filename=\"boligsocial-dataset-1.zip\"");
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let bytes = r.bytes().await.unwrap();
    assert_eq!(app.get("/v1/datapackage.zip").await.bytes().await.unwrap(), bytes, "one version, one package");
    let again = app.client.get(format!("{}/v1/datapackage.zip", app.address)).header("If-None-Match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    // deflated already: not compressed again for a client that takes br or gzip
    let coded = app.client.get(format!("{}/v1/datapackage.zip", app.address)).header("Accept-Encoding", "br, gzip").send().await.unwrap();
    assert_eq!(coded.headers().get("content-encoding"), None);
    assert_eq!(coded.bytes().await.unwrap(), bytes);
    let (status, problem) = app.get_json("/v1/datapackage.zip?boundary=2024-09").await;
    assert_eq!((status, problem["parameter"].as_str()), (400, Some("boundary")));

    let (descriptor, tables) = package_tables(&bytes);
    assert_eq!(descriptor["profile"], "tabular-data-package");
    assert_eq!(descriptor["boligsocial:dataset_version"], 1);
    let figure = |row: &std::collections::BTreeMap<String, String>, field: &str| -> serde_json::Value {
        let text = &row[field];
        if text.is_empty() { serde_json::Value::Null } else { serde_json::json!(text.parse::<f64>().unwrap()) }
    };
    // (serde_json's default float parsing may be one unit in the last place off; the
    // package's text is parsed exactly)
    let as_f64 = |v: &serde_json::Value| v.as_f64().map(Close);
    // the series of every area of the default delimitation, and its references', for every indicator
    let (_, areas) = app.get_json("/v1/areas").await;
    let (_, indicators) = app.get_json("/v1/indicators").await;
    let boundary = areas["boundary_version"].as_str().unwrap();
    let (mut compared, mut withheld) = (0, 0);
    let find = |table: &str, key: &[(&str, &str)]| -> Vec<std::collections::BTreeMap<String, String>> {
        tables[table].iter().filter(|row| key.iter().all(|(k, v)| row[*k] == *v)).cloned().collect()
    };
    for area in areas["items"].as_array().unwrap() {
        let id = area["area_id"].as_str().unwrap();
        let municipality = area["municipality_code"].as_str().unwrap();
        for indicator in indicators["items"].as_array().unwrap() {
            let code = indicator["code"].as_str().unwrap();
            let (_, series) = app.get_json(&format!("/v1/areas/{id}/series?indicator={code}")).await;
            let key = [("indicator", code)];
            let of = |table: &str, more: &[(&str, &str)]| find(table, &[key.as_slice(), more].concat());
            for (name, rows) in [
                ("area", of("area_figures", &[("boundary_version", boundary), ("area_id", id)])),
                ("municipality", of("reference_figures", &[("level", "municipality"), ("unit_code", municipality)])),
                ("social_housing", of("reference_figures", &[("level", "social_housing"), ("unit_code", municipality)])),
                (
                    "social_housing_rest",
                    of("social_housing_rest_figures", &[("boundary_version", boundary), ("municipality_code", municipality)]),
                ),
                ("country", of("reference_figures", &[("level", "country"), ("unit_code", "DK")])),
            ] {
                let points = series["series"][name].as_array().unwrap();
                assert_eq!(rows.len(), points.len(), "{id} {code} {name}: a row per point");
                for (row, point) in rows.iter().zip(points) {
                    assert_eq!(row["year"], point["year"].to_string(), "{id} {code} {name}");
                    assert_eq!(row["status"], point["status"].as_str().unwrap(), "{id} {code} {name}");
                    for field in ["value", "numerator", "denominator"] {
                        assert_eq!(as_f64(&figure(row, field)), as_f64(&point[field]), "{id} {code} {name} {} {field}", row["year"]);
                    }
                    compared += 1;
                    withheld += usize::from(row["status"] == "suppressed");
                }
            }
        }
    }
    assert!(compared > 10_000 && withheld > 100, "{compared} figures compared, {withheld} withheld");
    // the plans of every area, as /v1/areas/{area_id}/plans gives them
    let mut plans = 0;
    for area in areas["items"].as_array().unwrap() {
        let id = area["area_id"].as_str().unwrap();
        let (_, answer) = app.get_json(&format!("/v1/areas/{id}/plans")).await;
        let rows = find("plans", &[("area_id", id)]);
        assert_eq!(rows.len(), answer["plans"].as_array().unwrap().len(), "{id}");
        for (row, plan) in rows.iter().zip(answer["plans"].as_array().unwrap()) {
            assert_eq!((row["plan_id"].as_str(), row["boundary_version"].as_str()), (plan["plan_id"].as_str().unwrap(), boundary));
            assert_eq!((row["from_year"].clone(), row["to_year"].clone()), (plan["from_year"].to_string(), plan["to_year"].to_string()));
            let covered: Vec<String> =
                find("plan_departments", &[("plan_id", &row["plan_id"])]).iter().map(|r| r["department_id"].clone()).collect();
            assert_eq!(serde_json::json!(covered), plan["departments"], "{id} {}", row["plan_id"]);
            plans += 1;
        }
    }
    assert_eq!(plans, tables["plans"].len());
    assert!(plans > 100, "the demo's plans: {plans}");
    // the criteria of each rule set, for a few areas
    for area in areas["items"].as_array().unwrap().iter().step_by(7) {
        let id = area["area_id"].as_str().unwrap();
        for rules in ["almenboligloven-2021", "ghettokriterier-2013"] {
            let (_, answer) = app.get_json(&format!("/v1/areas/{id}/criteria?rules={rules}")).await;
            for year in answer["years"].as_array().unwrap() {
                let y = year["year"].to_string();
                for c in year["criteria"].as_array().unwrap() {
                    let row = find(
                        "criteria",
                        &[
                            ("boundary_version", boundary),
                            ("rules", rules),
                            ("area_id", id),
                            ("year", &y),
                            ("id", c["id"].as_str().unwrap()),
                        ],
                    );
                    assert_eq!(row.len(), 1, "{id} {rules} {y} {}", c["id"]);
                    assert_eq!(row[0]["status"], c["status"].as_str().unwrap());
                    assert_eq!(as_f64(&figure(&row[0], "value")), as_f64(&c["value"]), "{id} {rules} {y} {}", c["id"]);
                    assert_eq!(as_f64(&figure(&row[0], "threshold")), as_f64(&c["threshold"]));
                }
                for c in year["classifications"].as_array().unwrap() {
                    let row = find(
                        "criteria",
                        &[
                            ("boundary_version", boundary),
                            ("rules", rules),
                            ("area_id", id),
                            ("year", &y),
                            ("item", "classification"),
                            ("id", c["id"].as_str().unwrap()),
                        ],
                    );
                    assert_eq!(row.len(), 1);
                    assert_eq!(row[0]["status"], c["status"].as_str().unwrap());
                    assert_eq!(row[0]["criteria_met"], c["criteria_met"].to_string());
                }
            }
        }
    }

    if !std::process::Command::new("python3").args(["-c", "import frictionless"]).output().is_ok_and(|o| o.status.success()) {
        return absent("BOLIGSOCIAL_TEST_REQUIRE_CLIENTS", "frictionless is not usable (PyPI frictionless)");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("package.zip");
    std::fs::write(&file, &bytes).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/frictionless_read.py");
    let out = std::process::Command::new("python3").args([script, file.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let read: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(read["valid"], true, "frictionless validate: {}", read["errors"]);
    // frictionless's typed rows are the CSV's: numbers as numbers, a withheld figure as null
    for (name, rows) in &tables {
        let typed = read["tables"][name].as_array().unwrap();
        assert_eq!(typed.len(), rows.len(), "{name}");
        for (t, row) in typed.iter().zip(rows) {
            for (field, text) in row {
                match &t[field] {
                    serde_json::Value::Null => assert!(text.is_empty(), "{name}.{field}: {text:?} read as missing"),
                    serde_json::Value::Number(n) => {
                        assert_eq!(n.as_f64().map(Close), text.parse::<f64>().ok().map(Close), "{name}.{field}")
                    }
                    serde_json::Value::String(s) => assert_eq!(s, text, "{name}.{field}"),
                    other => panic!("{name}.{field}: {other}"),
                }
            }
        }
    }
}
