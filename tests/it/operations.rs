//! Production: imports and rollbacks over HTTP, several instances on one PostgreSQL, a
//! database that goes away and comes back, an import killed half-way, and /metrics.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::Value;

const TOKEN: &str = "test-token-0123456789abcdef";

fn zip_of(fixture_dir: &std::path::Path) -> Vec<u8> {
    zip_dir(fixture_dir, None)
}

async fn post_zip(app: &TestApp, token: Option<&str>, body: Vec<u8>, content_type: &str) -> reqwest::Response {
    let mut r = app.client.post(format!("{}/v1/admin/imports", app.address)).header("content-type", content_type).body(body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.unwrap()
}

async fn wait_for_version(app: &TestApp, version: i64) -> bool {
    for _ in 0..100 {
        let (_, body) = app.get_json("/v1/areas").await;
        if body["dataset_version"] == version {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn imports_and_rollbacks_over_http(db: TestDb) {
    // disabled without a token
    let app = TestApp::on(&db).spawn().await;
    let r = post_zip(&app, Some(TOKEN), zip_of(&fixture("spec-extract")), "application/zip").await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");

    let app = TestApp::on(&db)
        .with(move |s| {
            s.admin.token = Some(TOKEN.into());
            s.admin.max_upload_bytes = 200_000;
            s.dataset.refresh_seconds = 3600; // only the import itself may wake the refresher
        })
        .spawn()
        .await;
    let zip = zip_of(&fixture("spec-extract"));
    let r = post_zip(&app, None, zip.clone(), "application/zip").await;
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    assert_eq!(post_zip(&app, Some("wrong-token-0123456789"), zip.clone(), "application/zip").await.status(), 401);
    assert_eq!(post_zip(&app, Some(TOKEN), zip.clone(), "text/csv").await.status(), 415);
    let r = post_zip(&app, Some(TOKEN), vec![0u8; 300_000], "application/zip").await;
    assert_eq!(r.status(), 413);
    assert_eq!(r.headers()["content-type"], "application/problem+json");

    // accepted: 201, and this instance serves it at once
    let r = post_zip(&app, Some(TOKEN), zip.clone(), "application/zip").await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!((body["dataset_version"].as_i64(), body["status"].as_str()), (Some(1), Some("imported")));
    assert!(wait_for_version(&app, 1).await);
    let before = app.get_text("/v1/areas").await;

    // identical content: recognised
    let r = post_zip(&app, Some(TOKEN), zip.clone(), "application/zip").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "already_stored");

    // rejected: 422 listing the problems, nothing changed
    let broken = copy_fixture("spec-extract");
    let text = std::fs::read_to_string(broken.path().join("observations.csv")).unwrap();
    std::fs::write(broken.path().join("observations.csv"), text.replacen("udenfor;2015;40;100", "udenfor;2015;140;100", 1)).unwrap();
    let r = post_zip(&app, Some(TOKEN), zip_of(broken.path()), "application/zip").await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: Value = r.json().await.unwrap();
    let p = &problem["problems"][0];
    assert_eq!((p["file"].as_str(), p["line"].as_u64(), p["column"].as_u64()), (Some("observations.csv"), Some(2), Some(5)));
    assert!(p["message"].as_str().unwrap().contains("greater than denominator"));
    let r = post_zip(&app, Some(TOKEN), b"not a zip at all".to_vec(), "application/zip").await;
    assert_eq!(r.status(), 422);
    assert_eq!(app.get_text("/v1/areas").await, before);

    // a second version, then a rollback
    let changed = copy_fixture("spec-extract");
    let text = std::fs::read_to_string(changed.path().join("areas.csv")).unwrap();
    std::fs::write(changed.path().join("areas.csv"), text.replace("Vestparken", "Vestparken II")).unwrap();
    let r = post_zip(&app, Some(TOKEN), zip_of(changed.path()), "application/zip").await;
    assert_eq!(r.status(), 201);
    assert!(wait_for_version(&app, 2).await);
    let activate = |v: &str| app.client.post(format!("{}/v1/admin/datasets/{v}/activate", app.address)).bearer_auth(TOKEN).send();
    let r = activate("1").await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(wait_for_version(&app, 1).await);
    assert_eq!(app.get_text("/v1/areas").await, before);
    assert_eq!(activate("99").await.unwrap().status(), 404);
    assert_eq!(activate("x").await.unwrap().status(), 404);
    let r = app.client.post(format!("{}/v1/admin/datasets/2/activate", app.address)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let (_, datasets) = app.get_json("/v1/datasets").await;
    assert_eq!(datasets["items"].as_array().unwrap().len(), 2);

    // the metrics count what happened
    let metrics = app.get_text("/metrics").await;
    assert!(metrics.contains("boligsocial_imports_total{outcome=\"imported\"} 2"), "{metrics}");
    assert!(metrics.contains("boligsocial_imports_total{outcome=\"rejected\"} 2"));
    assert!(metrics.contains("boligsocial_imports_total{outcome=\"identical\"} 1"));
    assert!(metrics.contains("boligsocial_dataset_version 1"));
    assert!(metrics.contains("boligsocial_http_requests_total{method=\"POST\",route=\"/v1/admin/imports\",status=\"401\"} 2"));
    assert!(metrics.contains("boligsocial_http_request_duration_seconds_bucket{route=\"/v1/areas\""));
    assert!(metrics.contains("boligsocial_snapshot_age_seconds"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_requests_are_rate_limited_per_client() {
    let db = TestDb::sqlite();
    let app = TestApp::on(&db)
        .with(move |s| {
            s.admin.token = Some(TOKEN.into());
            s.admin.anonymous_requests_per_minute = 3;
            s.admin.requests_per_minute = 4;
        })
        .spawn()
        .await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let r = app
            .client
            .post(format!("{}/v1/admin/datasets/1/activate", app.address))
            .bearer_auth("wrong-token-0123456789")
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            assert!(r.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
        }
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
    // probe 7: anonymous requests spent the operator's allowance (6 of 10 requests with the
    // token got 429 beside an anonymous client); the token has an allowance of its own
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let r = app.client.post(format!("{}/v1/admin/datasets/1/activate", app.address)).bearer_auth(TOKEN).send().await.unwrap();
        statuses.push(r.status().as_u16());
        let anonymous = app.client.post(format!("{}/v1/admin/datasets/1/activate", app.address)).send().await.unwrap();
        assert_eq!(anonymous.status(), 429);
    }
    assert_eq!(statuses, [404, 404, 404, 404, 429], "(no version 1 is stored: 404 is an authorised answer)");
    // reading is not limited
    for _ in 0..20 {
        assert_eq!(app.get("/healthz").await.status(), 200);
    }
}

/// Behind a trusted load balancer the client is read from `X-Forwarded-For`: clients keep
/// separate limits though they all come from the balancer's address. From an untrusted peer
/// the header changes nothing, so a client cannot escape its limit by writing one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_knows_clients_behind_a_trusted_proxy() {
    let db = TestDb::sqlite();
    let statuses = |app: &TestApp, forwarded_for: &'static str, n: usize| {
        let app_client = app.client.clone();
        let url = format!("{}/v1/admin/datasets/1/activate", app.address);
        async move {
            let mut out = Vec::new();
            for _ in 0..n {
                let r = app_client
                    .post(&url)
                    .header("x-forwarded-for", forwarded_for)
                    .bearer_auth("wrong-token-0123456789")
                    .send()
                    .await
                    .unwrap();
                out.push(r.status().as_u16());
            }
            out
        }
    };

    let limited = |s: &mut Settings| {
        s.admin.token = Some(TOKEN.into());
        s.admin.anonymous_requests_per_minute = 2;
    };
    let app = TestApp::on(&db).with(limited).with(|s| s.server.trusted_proxies = "127.0.0.0/8, ::1".into()).spawn().await;
    assert_eq!(statuses(&app, "198.51.100.1", 3).await, [401, 401, 429]);
    // another client behind the same balancer has its own allowance
    assert_eq!(statuses(&app, "198.51.100.2", 2).await, [401, 401]);
    // a forged first entry does not make a new client: the balancer appended the real one
    assert_eq!(statuses(&app, "203.0.113.50, 198.51.100.1", 1).await, [429]);

    let app = TestApp::on(&db).with(limited).spawn().await;
    assert_eq!(statuses(&app, "198.51.100.1", 2).await, [401, 401]);
    assert_eq!(statuses(&app, "198.51.100.2", 1).await, [429], "an untrusted peer's header is ignored");
}

/// Two instances on one PostgreSQL: an import through one is served by both within the
/// refresh interval, and no request fails while they swap.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_follow_one_database() {
    let Some(db) = TestDb::postgres() else { return };
    assert!(import(&db, &fixture("spec-extract")).status.success());
    let instance = || TestApp::on(&db).with(|s| s.admin.token = Some(TOKEN.into()));
    let a = Arc::new(instance().spawn().await);
    let b = Arc::new(instance().spawn().await);
    assert!(wait_for_version(&a, 1).await && wait_for_version(&b, 1).await);

    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut load = Vec::new();
    for app in [a.clone(), b.clone(), a.clone(), b.clone()] {
        let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
        load.push(tokio::spawn(async move {
            let paths = ["/v1/areas", "/v1/comparisons?indicator=udenfor&from=2015&to=2023", "/v1/map/areas?indicator=udenfor&year=2023"];
            let mut k = 0;
            while !stop.load(Ordering::Relaxed) {
                let good = match app.client.get(format!("{}{}", app.address, paths[k % paths.len()])).send().await {
                    Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if good {
                    ok.fetch_add(1, Ordering::Relaxed)
                } else {
                    failed.fetch_add(1, Ordering::Relaxed)
                };
                k += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let changed = copy_fixture("spec-extract");
    let text = std::fs::read_to_string(changed.path().join("areas.csv")).unwrap();
    std::fs::write(changed.path().join("areas.csv"), text.replace("Nordområdet", "Nordområdet Syd")).unwrap();
    let started = Instant::now();
    let r = post_zip(&a, Some(TOKEN), zip_of(changed.path()), "application/zip").await;
    assert_eq!(r.status(), 201);
    assert!(wait_for_version(&a, 2).await);
    assert!(wait_for_version(&b, 2).await);
    let lag = started.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for t in load {
        t.await.unwrap();
    }
    assert!(lag < Duration::from_secs(3), "the other instance followed after {lag:?} (refresh_seconds = 1)");
    assert_eq!(failed.load(Ordering::Relaxed), 0, "no request failed during the swap");
    assert!(ok.load(Ordering::Relaxed) > 100, "the load ran: {}", ok.load(Ordering::Relaxed));
    let (_, body) = b.get_json("/v1/areas").await;
    assert_eq!(body["items"][0]["name"], "Nordområdet Syd");
}

/// A TCP proxy in front of PostgreSQL that can be cut and restored, or freeze the
/// connections it has: they stay open, and nothing goes through them any more (a peer gone
/// silent), while new connections pass.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    generation: Arc<AtomicUsize>,
    frozen: Arc<AtomicUsize>,
}

impl Proxy {
    async fn start(target: &str) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (up, generation) = (Arc::new(AtomicBool::new(true)), Arc::new(AtomicUsize::new(0)));
        let frozen = Arc::new(AtomicUsize::new(0));
        let target = target.to_string();
        let (up2, gen2, frozen2) = (up.clone(), generation.clone(), frozen.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else { continue };
                if !up2.load(Ordering::SeqCst) {
                    drop(client); // refused: closed at once
                    continue;
                }
                let (target, up, generation, frozen) = (target.clone(), up2.clone(), gen2.clone(), frozen2.clone());
                let (born, born_frozen) = (generation.load(Ordering::SeqCst), frozen.load(Ordering::SeqCst));
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&target).await else { return };
                    let copy = tokio::io::copy_bidirectional(&mut client, &mut server);
                    let cut = async {
                        while up.load(Ordering::SeqCst) && generation.load(Ordering::SeqCst) == born {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    };
                    let freeze = async {
                        while frozen.load(Ordering::SeqCst) == born_frozen {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    };
                    let silent = tokio::select! { _ = copy => false, _ = cut => false, _ = freeze => true };
                    if silent {
                        // keep both ends open and read nothing, for as long as the test runs
                        let _kept = (client, server);
                        std::future::pending::<()>().await;
                    }
                });
            }
        });
        Proxy { port, up, generation, frozen }
    }

    /// A proxy in front of the test's PostgreSQL, and an app to be spawned that reaches it
    /// through it (and gives up on a connection within a second).
    async fn in_front_of(db: &TestDb) -> (Proxy, Spawn) {
        let url = db.url().to_string();
        let authority = url.split('@').nth(1).unwrap().split('/').next().unwrap().to_string();
        let proxy = Proxy::start(&authority).await;
        let through = url.replacen(&authority, &format!("127.0.0.1:{}", proxy.port), 1);
        let app = TestApp::on(db).with(move |s| {
            s.database.url = through;
            s.database.connect_timeout_seconds = 1;
        });
        (proxy, app)
    }

    fn freeze(&self) {
        self.frozen.fetch_add(1, Ordering::SeqCst);
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// When the database goes away the service keeps serving its snapshot and says it is not
/// ready; when it comes back, the service recovers by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_rides_out_a_database_outage() {
    let Some(db) = TestDb::postgres() else { return };
    assert!(import(&db, &fixture("spec-extract")).status.success());
    let (proxy, app) = Proxy::in_front_of(&db).await;
    let app = app.spawn().await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    let served = app.get_text("/v1/areas").await;

    proxy.cut();
    let mut not_ready = false;
    for _ in 0..50 {
        if app.get("/readyz").await.status() == 503 {
            not_ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(not_ready, "/readyz turns 503 while the database is away");
    tokio::time::sleep(Duration::from_millis(1500)).await; // a refresh or two fail meanwhile
    for path in ["/v1/areas", "/v1/comparisons?indicator=udenfor&from=2015&to=2023", "/v1/map/areas"] {
        assert_eq!(app.get(path).await.status(), 200, "{path} is served from memory");
    }
    assert_eq!(app.get_text("/v1/areas").await, served);
    assert!(app.get_text("/metrics").await.contains("boligsocial_snapshot_loads_total{outcome=\"failed\"}"));

    // back: ready again, and it follows new versions again
    proxy.restore();
    let changed = copy_fixture("spec-extract");
    let text = std::fs::read_to_string(changed.path().join("areas.csv")).unwrap();
    std::fs::write(changed.path().join("areas.csv"), text.replace("Rønneparken", "Rønneparken Vest")).unwrap();
    assert!(import(&db, changed.path()).status.success());
    let mut recovered = false;
    for _ in 0..100 {
        if app.get("/readyz").await.status() == 200 && app.get_text("/v1/areas").await.contains("Rønneparken Vest") {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the service recovered by itself");
}

/// An import killed half-way through writing leaves the served version and no trace.
async fn a_killed_import_leaves_nothing(db: TestDb) {
    assert!(import(&db, &fixture("spec-extract")).status.success());
    let app = TestApp::on(&db).spawn().await;
    let served = app.get_text("/v1/areas").await;
    let listing = String::from_utf8(cli(&["datasets", "--database-url", db.url()]).stdout).unwrap();
    let big = tempfile::tempdir().unwrap();
    assert!(cli(&["national-extract", big.path().to_str().unwrap(), "--scale", "0.25"]).status.success());

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_boligsocial"))
        .args(["import", "--database-url", db.url(), big.path().to_str().unwrap()])
        .env("BOLIGSOCIAL__LOG__LEVEL", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // wait until it is writing: a COPY on PostgreSQL, a growing write-ahead log on SQLite
    let started = Instant::now();
    let writing = || -> bool {
        match &db {
            TestDb::Postgres { name, .. } => {
                let out = std::process::Command::new("psql")
                    .args(["-h", "127.0.0.1", "-U", "postgres", "-d", name, "-tAc"])
                    .arg("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'COPY%' AND state = 'active'")
                    .output();
                out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() != "0")
            }
            TestDb::Sqlite { .. } => {
                let wal = format!("{}-wal", db.url().trim_start_matches("sqlite://"));
                std::fs::metadata(wal).is_ok_and(|m| m.len() > 4 << 20)
            }
        }
    };
    while !writing() {
        assert!(child.try_wait().unwrap().is_none(), "the import finished before it could be killed");
        assert!(started.elapsed() < Duration::from_secs(120), "the import never started writing");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no cleanup of its own
    child.wait().unwrap();

    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(String::from_utf8(cli(&["datasets", "--database-url", db.url()]).stdout).unwrap(), listing);
    assert_eq!(app.get_text("/v1/areas").await, served);
    // and the next import goes through: no lock, table or partition was left behind
    let out = import(&db, big.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("dataset version 2"));
    if let TestDb::Postgres { name, .. } = &db {
        // nor any table a parallel loader made
        let out = std::process::Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", name, "-tAc"])
            .arg("SELECT count(*) FROM pg_tables WHERE tablename LIKE '%\\_load\\_%'")
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");
    }
}

on_both_backends!(imports_and_rollbacks_over_http, a_killed_import_leaves_nothing);

/// An import that died after its parallel loaders committed their tables (between their
/// commits and its own) leaves those tables behind; the next import goes through and removes
/// them.
#[test]
fn an_import_goes_through_what_a_dead_one_left() {
    let Some(db) = TestDb::postgres() else { return };
    let psql = |sql: &str| {
        let TestDb::Postgres { name, .. } = &db else { unreachable!() };
        let out = std::process::Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", name, "-v", "ON_ERROR_STOP=1", "-tAc", sql])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    psql(
        "CREATE TABLE department_observations_load_0 (LIKE department_observations); \
         CREATE TABLE department_observations_load_1 (LIKE department_observations)",
    );
    let out = import(&db, &fixture("spec-extract"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(psql("SELECT count(*) FROM pg_tables WHERE tablename LIKE '%\\_load\\_%'"), "0");
    // the version's observations are all there, in the parts of its partition
    let delivered = std::fs::read_to_string(fixture("spec-extract").join("observations.csv"))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("department;"))
        .count();
    assert_eq!(psql("SELECT count(*) FROM department_observations_v1"), delivered.to_string());
    assert!(psql("SELECT count(*) FROM department_observations_v1_0").parse::<i64>().unwrap() > 0);
    assert!(psql("SELECT count(*) FROM department_observations_v1_1").parse::<i64>().unwrap() > 0);
}

/// Probe 7: with its existing connections gone silent, an instance served the old version for
/// 70 s after a new one was active, its refresher hung and /readyz unaware. The refresher now
/// gives a check up at its deadline and tries again on another connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_whose_connections_go_silent_follows_the_new_version() {
    let Some(db) = TestDb::postgres() else { return };
    assert!(import(&db, &fixture("spec-extract")).status.success());
    let (proxy, app) = Proxy::in_front_of(&db).await;
    let app = app.with(|s| s.database.statement_timeout_seconds = 2).spawn().await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    // the pool holds connections now; they go silent
    proxy.freeze();
    let changed = copy_fixture("spec-extract");
    let text = std::fs::read_to_string(changed.path().join("areas.csv")).unwrap();
    std::fs::write(changed.path().join("areas.csv"), text.replace("Rønneparken", "Rønneparken Vest")).unwrap();
    assert!(import(&db, changed.path()).status.success());
    let started = Instant::now();
    let mut followed = false;
    while started.elapsed() < Duration::from_secs(30) {
        if app.get_text("/v1/areas").await.contains("Rønneparken Vest") {
            followed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(followed, "the new version is served within 30 s");
    assert!(started.elapsed() < Duration::from_secs(15), "within a few deadlines: {:?}", started.elapsed());
}

/// Probe 7: an exclusive lock on `datasets` hung an activation for as long as it was held,
/// with /readyz still 200. Now the activation fails fast with 503 and Retry-After, and (on
/// PostgreSQL, where the lock holds readers too) readiness turns 503 once the refresher has
/// not been able to check for a while.
async fn a_lock_on_the_datasets_fails_fast_and_is_seen_by_readiness(db: TestDb) {
    use diesel::connection::SimpleConnection;
    assert!(import(&db, &fixture("spec-extract")).status.success());
    let quick = |s: &mut Settings| {
        s.admin.token = Some(TOKEN.into());
        s.database.lock_timeout_seconds = 1;
        s.database.statement_timeout_seconds = 2;
        s.database.connect_timeout_seconds = 1;
    };
    let staleness = TestApp::on(&db).with(quick).settings().0.readiness_staleness();
    let app = TestApp::on(&db).with(quick).spawn().await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    // another session takes the table and holds it
    let mut locker = db.connect();
    let lock = if db.is_sqlite() { "BEGIN EXCLUSIVE" } else { "BEGIN; LOCK TABLE datasets IN ACCESS EXCLUSIVE MODE" };
    locker.batch_execute(lock).unwrap();
    let started = Instant::now();
    let r = app.client.post(format!("{}/v1/admin/datasets/1/activate", app.address)).bearer_auth(TOKEN).send().await.unwrap();
    let waited = started.elapsed();
    assert_eq!(r.status(), 503, "{}", r.text().await.unwrap());
    assert!(r.headers().get("retry-after").is_some());
    assert!(waited < Duration::from_secs(5), "failed fast: {waited:?}");
    if db.is_sqlite() {
        // (SQLite's readers are not held by a writer's lock in WAL mode: the refresher goes on)
        locker.batch_execute("ROLLBACK").unwrap();
        return;
    }
    let mut not_ready = false;
    let started = Instant::now();
    while started.elapsed() < staleness + Duration::from_secs(10) {
        if app.get("/readyz").await.status() == 503 {
            not_ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(not_ready, "/readyz turns 503 while the refresher cannot check (within {staleness:?})");
    assert_eq!(app.get("/v1/areas").await.status(), 200, "the snapshot is served meanwhile");
    locker.batch_execute("ROLLBACK").unwrap();
    let mut ready = false;
    for _ in 0..100 {
        if app.get("/readyz").await.status() == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "ready again once the lock is gone");
}

mod locks {
    use super::*;
    crate::on_both_backends!(a_lock_on_the_datasets_fails_fast_and_is_seen_by_readiness);
}

/// Probe 7: an upload could trickle for the whole 10-minute timeout. After a few seconds an
/// upload slower than admin.upload_min_bytes_per_second is cut off with 408 problem details.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_upload_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let db = TestDb::sqlite();
    let app = TestApp::on(&db)
        .with(move |s| {
            s.admin.token = Some(TOKEN.into());
            s.admin.upload_min_bytes_per_second = 10_000;
        })
        .spawn()
        .await;
    let address = app.address.trim_start_matches("http://").to_string();
    let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /v1/admin/imports HTTP/1.1\r\nhost: {address}\r\nauthorization: Bearer {TOKEN}\r\ncontent-type: application/zip\r\ncontent-length: 1000000\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let writer = tokio::spawn(async move {
        let (mut read, mut write) = socket.into_split();
        let trickle = tokio::spawn(async move {
            // 100 bytes a second
            for _ in 0..60 {
                if write.write_all(&[b'P'; 100]).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(30), read.read(&mut buf)).await {
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
            if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
                break;
            }
        }
        trickle.abort();
        String::from_utf8_lossy(&answer).into_owned()
    });
    let answer = writer.await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json") && answer.contains("upload_min_bytes_per_second"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(15), "cut off after {:?}", started.elapsed());
}
