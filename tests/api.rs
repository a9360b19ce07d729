//! The HTTP service against SQLite and PostgreSQL: the demo on first start, /v1/areas,
//! health, the OpenAPI document, problem details.

mod common;

use std::collections::BTreeSet;

use common::*;

/// `serve` on an empty embedded database imports the demo and answers with its 48 areas
/// in 36 municipalities.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_embedded_database_gets_the_demo() {
    let (_db, app) = spawn_demo_app().await;
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
    let mut s = settings(&db);
    s.dataset.load_demo = true;
    let app = spawn_app(s).await;
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
    let app = spawn_app(settings(&db)).await;
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
    let app = spawn_app(settings(&db)).await;
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
    let app = spawn_app(settings(&db)).await;
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
    let app = spawn_app(settings(&db)).await;
    let served = app.get_text("/openapi.json").await;
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json")).unwrap();
    assert_eq!(served, committed);
    let out = cli(&["openapi"]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), committed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_while_no_dataset_is_loaded() {
    let db = TestDb::sqlite();
    let app = spawn_app(settings(&db)).await;
    let r = app.get("/readyz").await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert_eq!(app.get("/healthz").await.status(), 200);
}

/// The container health check needs no curl: `boligsocial probe URL`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_probe_command_checks_a_url() {
    let db = TestDb::sqlite();
    let app = spawn_app(settings(&db)).await;
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
