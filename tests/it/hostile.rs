//! The service under hostile and varied traffic (issue 16's probes): headers a client writes
//! freely must neither reach the cache key nor the links in a cached answer; a scan of
//! one-off requests must not push out the answers asked for again and again; misses beyond
//! the render queue are shed with 503 while cached and health answers go on; `If-None-Match:
//! *` is a 304 only for something that exists.

use crate::common::*;

/// A sample's value from the Prometheus text at /metrics (0 when the sample is absent).
async fn metric(app: &TestApp, sample: &str) -> f64 {
    let text = app.get_text("/metrics").await;
    text.lines().find_map(|l| l.strip_prefix(sample).and_then(|rest| rest.strip_prefix(' '))).map_or(0.0, |v| v.trim().parse().unwrap())
}

const HITS: &str = "boligsocial_http_cache_lookups_total{result=\"hit\"}";
const MISSES: &str = "boligsocial_http_cache_lookups_total{result=\"miss\"}";

async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut r = app.client.get(format!("{}{path}", app.address));
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.send().await.unwrap()
}

/// Probe 4: `X-Forwarded-Host`, `X-Forwarded-Proto` and `Forwarded` from any client were
/// written into the OGC API's links and served `public`, with a `Vary` that did not name
/// them: a CDN would have handed `https://evil.example/…` links to everyone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_headers_from_a_client_reach_no_link() {
    let app = TestApp::demo().spawn().await;
    let forged = [("x-forwarded-host", "evil.example"), ("x-forwarded-proto", "https"), ("forwarded", "host=evil.example;proto=https")];
    for path in ["/ogc", "/ogc/collections", "/ogc/collections/areas", "/ogc/collections/areas/items?limit=2"] {
        let text = get_with(&app, path, &forged).await.text().await.unwrap();
        assert!(!text.contains("evil.example"), "{path}: {text}");
        assert!(text.contains("http://127.0.0.1:"), "{path}: links name the host the client used: {text}");
        // and what a later, honest client gets from the cache is the same
        assert!(!app.get_text(path).await.contains("evil.example"), "{path}");
    }
}

/// With `server.public_url`, links name it whatever the request says; with a trusted proxy
/// (here the test's own address), its forwarded headers are believed and `Vary` names them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_follow_the_public_url_or_a_trusted_proxy() {
    let db = TestDb::sqlite();
    let app = TestApp::on(&db)
        .with(move |s| {
            s.dataset.load_demo = true;
            s.server.public_url = Some("https://kort.example.dk/boligsocial".into());
            s.server.trusted_proxies = "127.0.0.1".into();
        })
        .spawn()
        .await;
    let r = get_with(&app, "/ogc", &[("x-forwarded-host", "lb.example")]).await;
    let vary = r.headers()["vary"].to_str().unwrap().to_ascii_lowercase();
    assert!(!vary.contains("forwarded"), "a fixed public URL depends on no forwarded header: {vary}");
    let landing: serde_json::Value = r.json().await.unwrap();
    assert_eq!(landing["links"][0]["href"], "https://kort.example.dk/boligsocial/ogc");

    let app = TestApp::demo()
        .with(move |s| {
            s.server.trusted_proxies = "127.0.0.1".into();
        })
        .spawn()
        .await;
    let r = get_with(&app, "/ogc", &[("x-forwarded-host", "kort.example.dk"), ("x-forwarded-proto", "https")]).await;
    let vary = r.headers()["vary"].to_str().unwrap().to_ascii_lowercase();
    for h in ["x-forwarded-host", "x-forwarded-proto", "forwarded"] {
        assert!(vary.contains(h), "the answer depends on {h}: {vary}");
    }
    let landing: serde_json::Value = r.json().await.unwrap();
    assert_eq!(landing["links"][0]["href"], "https://kort.example.dk/ogc");
    // another proxy-reported host is another answer, not the cached one
    let other: serde_json::Value = get_with(&app, "/ogc", &[("x-forwarded-host", "b.example")]).await.json().await.unwrap();
    assert_eq!(other["links"][0]["href"], "http://b.example/ogc");
}

/// Probe 1's forced misses: the key held `Host`, `X-Forwarded-Host` and the query as spelt, so
/// any client could make an identical request miss. Now a header the answer does not depend
/// on, the order of the parameters, their escapes and their spelling all find the one entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spelling_of_a_request_does_not_bypass_the_cache() {
    let app = TestApp::demo().spawn().await;
    let first = "/v1/comparisons?indicator=outside_work_education&from=2015&to=2023&threshold=5";
    // (an answer is kept from the second time it is asked for)
    let body = app.get_text(first).await;
    assert_eq!(app.get_text(first).await, body);
    let (hits, misses) = (metric(&app, HITS).await, metric(&app, MISSES).await);
    let variants: [(&str, &[(&str, &str)]); 6] = [
        (first, &[("x-forwarded-host", "evil.example")]),
        (first, &[("x-forwarded-proto", "https"), ("forwarded", "host=x")]),
        ("/v1/comparisons?to=2023&from=2015&threshold=5&indicator=outside_work_education", &[]),
        ("/v1/comparisons?indicator=outside%5Fwork%5Feducation&from=2015&to=2023&threshold=5", &[]),
        ("/v1/comparisons?indicator=outside_work_education&from=02015&to=2023&threshold=5.000", &[]),
        (first, &[("accept-language", "da-DK,da;q=0.9"), ("accept", "*/*")]),
    ];
    for (path, headers) in variants {
        let r = get_with(&app, path, headers).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.text().await.unwrap(), body, "{path} {headers:?}: the same answer");
    }
    assert_eq!(metric(&app, MISSES).await, misses, "no variant missed");
    assert_eq!(metric(&app, HITS).await, hits + variants.len() as f64);
}

/// Probe 1's flush: a full cache started over, so a scan of one-off requests dropped every
/// hot answer. TinyLFU keeps the answer that is asked for again and again, while one-off
/// answers pass through, though between two requests for it the scan alone would fill the
/// cache several times (plain LRU would lose it too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_does_not_push_out_the_hot_answers() {
    let db = TestDb::sqlite();
    let probe = TestApp::on(&db).with(|s| s.dataset.load_demo = true).spawn().await;
    let hot = "/v1/comparisons?indicator=outside_work_education&from=2015&to=2023";
    let size = probe.get_text(hot).await.len();
    // room for about eight answers of this size
    let app = TestApp::on(&db).with(move |s| s.http.response_cache_bytes = (size * 3 / 2 + 512) * 8).spawn().await;
    let (mut rounds, mut late_misses) = (0, 0);
    for round in 0..40 {
        let misses = metric(&app, MISSES).await;
        assert_eq!(app.get(hot).await.status(), 200);
        let missed = metric(&app, MISSES).await > misses;
        if round >= 3 && missed {
            late_misses += 1;
        }
        // 30 one-off answers: the cache's worth several times over
        for i in 0..30 {
            let r = app.get(&format!("{hot}&threshold={round}.{i:04}1")).await;
            assert_eq!(r.status(), 200);
        }
        rounds += 1;
    }
    assert_eq!(late_misses, 0, "the hot answer missed in {late_misses} of {rounds} rounds of a scan");
    let (bytes, entries) = (metric(&app, "boligsocial_http_cache_bytes").await, metric(&app, "boligsocial_http_cache_entries").await);
    assert!(bytes <= ((size * 3 / 2 + 512) * 8) as f64 && entries <= 10.0, "bounded: {bytes} bytes in {entries} entries");
}

/// Probe 1's slider and panning map: every request a new answer, each rendered, compressed and
/// kept for nobody, so that misses cost more than needed and filled the memory. An answer asked
/// for once is served (compressed fast, under a weak ETag that still revalidates) and not kept;
/// asked again, it is kept, under a strong ETag, and then hit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_asked_for_once_is_not_kept() {
    let app = TestApp::demo().spawn().await;
    let entries = || metric(&app, "boligsocial_http_cache_entries");
    let gzip = [("accept-encoding", "gzip")];
    let before = entries().await;
    let mut tags = Vec::new();
    for i in 0..20 {
        let r =
            get_with(&app, &format!("/v1/comparisons?indicator=outside_work_education&from=2015&to=2023&threshold=0.{i:02}1"), &gzip).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-encoding"], "gzip");
        tags.push(r.headers()["etag"].to_str().unwrap().to_string());
    }
    assert_eq!(entries().await, before, "one-off answers are not kept");
    assert!(tags.iter().all(|t| t.starts_with("W/\"")), "a fast-compressed answer's tag is weak: {tags:?}");
    // the weak tag revalidates
    let once = "/v1/comparisons?indicator=outside_work_education&from=2015&to=2023&threshold=0.001";
    let r = get_with(&app, once, &[("accept-encoding", "gzip"), ("if-none-match", &tags[0])]).await;
    assert_eq!(r.status(), 304);
    // asked again (the revalidation was answered without rendering): kept now, with a strong tag,
    // then hit
    let r = get_with(&app, once, &gzip).await;
    let strong = r.headers()["etag"].to_str().unwrap().to_string();
    let body = r.bytes().await.unwrap();
    assert_eq!(strong, tags[0].trim_start_matches("W/"), "the same representation, now byte for byte");
    assert_eq!(entries().await, before + 1.0);
    let hits = metric(&app, HITS).await;
    let again = get_with(&app, once, &gzip).await;
    assert_eq!(again.headers()["etag"].to_str().unwrap(), strong);
    assert_eq!(again.bytes().await.unwrap(), body);
    assert_eq!(metric(&app, HITS).await, hits + 1.0);
}

/// Probe 7: `If-None-Match: *` was a 304 for unknown areas, invalid queries and unknown
/// routes; RFC 9110 13.1.2 makes it one only when a current representation exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_none_match_star_needs_a_representation() {
    let app = TestApp::demo().spawn().await;
    let star = [("if-none-match", "*")];
    for (path, status) in [
        ("/v1/areas/NO-SUCH-AREA", 404),
        ("/v1/areas/NO-SUCH-AREA/series?indicator=outside_work_education", 404),
        ("/v1/comparisons?indicator=outside_work_education&from=2023&to=2015", 400),
        ("/v1/no-such-route", 404),
        ("/ogc/collections/nothing", 404),
    ] {
        let r = get_with(&app, path, &star).await;
        assert_eq!(r.status(), status, "{path}");
        assert_eq!(r.headers()["content-type"], "application/problem+json", "{path}");
    }
    // an existing answer, fresh or kept
    for _ in 0..2 {
        let r = get_with(&app, "/v1/areas", &star).await;
        assert_eq!(r.status(), 304);
        assert!(r.headers().get("etag").is_some());
    }
}

/// Misses beyond the render queue are answered 503 with `Retry-After`, as problem details,
/// while a kept answer and the health checks are served: they never wait behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn misses_beyond_the_render_queue_are_shed_and_hits_are_not() {
    let app = TestApp::demo()
        .with(move |s| {
            s.http.render_threads = Some(1);
            s.http.render_queue = 1;
            s.server.workers = Some(2);
        })
        .spawn()
        .await;
    let hot = "/v1/map/areas?indicator=outside_work_education&year=2023";
    // (kept from the second time it is asked for)
    let hot_body = app.get_text(hot).await;
    assert_eq!(app.get_text(hot).await, hot_body);
    // many distinct full map layers at once: one renders, one waits, the rest are shed
    let scan: Vec<_> = (0..64)
        .map(|i| {
            let client = app.client.clone();
            let url = format!("{}/v1/map/areas?indicator=outside_work_education&from=2015&to=2023&threshold={i}", app.address);
            tokio::spawn(async move { client.get(url).send().await.unwrap() })
        })
        .collect();
    let (mut ok, mut shed) = (0, 0);
    let hot_during = app.get(hot).await;
    let health = app.get("/healthz").await.status();
    for task in scan {
        let r = task.await.unwrap();
        match r.status().as_u16() {
            200 => ok += 1,
            503 => {
                shed += 1;
                assert_eq!(r.headers()["retry-after"], "1");
                assert_eq!(r.headers()["content-type"], "application/problem+json");
            }
            other => panic!("a scan request got {other}"),
        }
    }
    assert!(ok >= 1 && shed >= 1, "{ok} rendered, {shed} shed");
    assert_eq!(hot_during.status(), 200, "a kept answer is served while misses are shed");
    assert_eq!(hot_during.text().await.unwrap(), hot_body);
    assert_eq!(health, 200);
    assert!(metric(&app, "boligsocial_http_shed_total").await >= shed as f64);
}

/// The fixture extract with area KBH-1 drawn as a sawtooth of `teeth` positions (EPSG:25832,
/// each tooth a little taller than the last: the worst case of the textbook recursion).
fn sawtooth_extract(teeth: usize) -> tempfile::TempDir {
    let dir = copy_fixture("spec-extract");
    let path = dir.path().join("areas.geojson");
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let (x0, y0) = (719_925.0, 6_178_243.0);
    let mut ring: Vec<[f64; 2]> =
        (0..teeth).map(|i| [x0 + i as f64 * 0.1, y0 + if i % 2 == 0 { 0.0 } else { 0.4 + i as f64 * 3e-6 }]).collect();
    ring.push([x0 + teeth as f64 * 0.1, y0 + 300.0]);
    ring.push([x0, y0 + 300.0]);
    ring.push([x0, y0]);
    let feature = v["features"].as_array_mut().unwrap().iter_mut().find(|f| f["properties"]["area_id"] == "KBH-1").unwrap();
    feature["geometry"] = serde_json::json!({"type": "Polygon", "coordinates": [ring]});
    std::fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
    dir
}

/// Probe 2: an extract with a 60,000-position sawtooth ring imported, and then one GET with
/// `simplify=1` overflowed a worker's stack and aborted the whole process; at 100,000
/// positions each request took 5.7 s. Now the simplification keeps no stack per position and
/// takes O(n log² n) once per version, and every request after is linear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sawtooth_ring_is_simplified_without_taking_the_process_down() {
    // just under import.max_vertices_per_area (100,000) with its three closing positions
    let db = TestDb::sqlite();
    let extract = sawtooth_extract(99_990);
    let out = import(&db, extract.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let app = TestApp::on(&db).spawn().await;
    for path in ["/v1/map/areas?simplify=1", "/v1/map/areas?simplify=1&precision=6", "/v1/map/municipalities?simplify=1"] {
        let (status, layer) = app.get_json(path).await;
        assert_eq!(status, 200, "{path}");
        if path.starts_with("/v1/map/areas") {
            let kbh = layer["features"].as_array().unwrap().iter().find(|f| f["id"] == "KBH-1").unwrap();
            let positions = kbh["geometry"]["coordinates"][0].as_array().unwrap().len();
            assert!(positions < 20, "the teeth (under 0.7 m) fall below the tolerance (1 m): {positions} positions left");
        }
    }
    let (status, layer) = app.get_json("/v1/map/areas").await;
    assert_eq!(status, 200);
    let kbh = layer["features"].as_array().unwrap().iter().find(|f| f["id"] == "KBH-1").unwrap();
    assert_eq!(kbh["geometry"]["coordinates"][0].as_array().unwrap().len(), 99_993, "unsimplified, every position");
    assert_eq!(app.get("/healthz").await.status(), 200, "the process lives");
}

/// Runs the binary, watching its peak resident memory (`VmHWM`, read from /proc while it
/// runs: `wait4`'s figure would include the test process it was started from): (output, peak
/// in bytes).
fn cli_with_peak_memory(args: &[&str], env: &[(&str, &str)]) -> (std::process::Output, u64) {
    use std::io::Read;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_boligsocial"));
    cmd.args(args).env_remove("DATABASE_URL").env("BOLIGSOCIAL__LOG__LEVEL", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let readers = [
        std::thread::spawn(move || {
            let mut v = Vec::new();
            out.read_to_end(&mut v).unwrap();
            v
        }),
        std::thread::spawn(move || {
            let mut v = Vec::new();
            err.read_to_end(&mut v).unwrap();
            v
        }),
    ];
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(kb) =
                text.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kb * 1024);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let [stdout, stderr] = readers.map(|r| r.join().unwrap());
    (std::process::Output { status, stdout, stderr }, peak)
}

/// The fixture as a zip whose `file` is replaced by `bytes`.
fn zip_with(file: &str, bytes: &[u8]) -> Vec<u8> {
    let dir = copy_fixture("spec-extract");
    std::fs::write(dir.path().join(file), bytes).unwrap();
    zip_dir(dir.path(), None)
}

/// Probe 3: a 400 KB zip whose areas.geojson is `[0,0,…]` (256 MB inflated) made the JSON
/// tree ask for 10 GB and the process abort. GeoJSON is now streamed into geometry: the
/// extract is refused at once, the rest of the file only hashed, in memory that does not grow
/// with it; over HTTP it is a 422 and the service goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_geojson_bomb_is_refused_in_little_memory() {
    let mut bomb = Vec::with_capacity(256 << 20);
    bomb.push(b'[');
    while bomb.len() < 256 << 20 {
        bomb.extend_from_slice(b"0,");
    }
    bomb.extend_from_slice(b"0]");
    let zip = zip_with("areas.geojson", &bomb);
    drop(bomb);
    assert!(zip.len() < 2 << 20, "{} bytes", zip.len());
    let files = tempfile::tempdir().unwrap();
    let path = files.path().join("bomb.zip");
    std::fs::write(&path, &zip).unwrap();
    let db = TestDb::sqlite();
    let (out, peak) = cli_with_peak_memory(&["import", "--database-url", db.url(), path.to_str().unwrap()], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("areas.geojson:1:1: areas.geojson must be a GeoJSON FeatureCollection"), "{stderr}");
    assert!(peak < 200 << 20, "peak resident memory {} MB", peak >> 20);

    // the same inside one Feature's coordinates, and in a property nobody reads
    let ring_bomb = format!(
        r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"area_id":"KBH-1","junk":[{}0]}},"geometry":{{"type":"Polygon","coordinates":[{}0]}}}}]}}"#,
        "0,".repeat(16 << 20),
        "0,".repeat(32 << 20)
    );
    std::fs::write(&path, zip_with("areas.geojson", ring_bomb.as_bytes())).unwrap();
    drop(ring_bomb);
    let (out, peak) = cli_with_peak_memory(&["import", "--database-url", db.url(), path.to_str().unwrap()], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("invalid geometry for area \"KBH-1\""), "{stderr}");
    assert!(peak < 200 << 20, "peak resident memory {} MB", peak >> 20);

    // over HTTP, inside the serving process
    let app = TestApp::on(&db)
        .with(move |s| {
            s.admin.token = Some("test-token-0123456789abcdef".into());
        })
        .spawn()
        .await;
    let r = app
        .client
        .post(format!("{}/v1/admin/imports", app.address))
        .bearer_auth("test-token-0123456789abcdef")
        .header("content-type", "application/zip")
        .body(zip)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let problem: serde_json::Value = r.json().await.unwrap();
    assert_eq!(problem["problems"][0]["file"], "areas.geojson");
    assert_eq!((problem["problems"][0]["line"].as_u64(), problem["problems"][0]["column"].as_u64()), (Some(1), Some(1)));
    assert_eq!(app.get("/healthz").await.status(), 200, "the process lives");
}

/// Probe 6: a CSV header of 100,000 columns took 7.6 s (each name compared with all before
/// it), and one line of 2 GiB took 2.11 GB. The header is checked in one pass; a row longer
/// than a megabyte stops the reading with a problem naming its line.
#[test]
fn a_csv_of_endless_lines_and_columns_is_read_in_bounded_memory() {
    let db = TestDb::sqlite();
    let dir = copy_fixture("spec-extract");
    let path = dir.path().join("indicators.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let (header, rest) = text.split_once('\n').unwrap();
    let extra: Vec<String> = (0..100_000).map(|i| format!("x{i}")).collect();
    let padding = ";".repeat(extra.len());
    let rows: String = rest.lines().filter(|l| !l.trim().is_empty()).map(|l| format!("{}{padding}\n", l.trim_end())).collect();
    std::fs::write(&path, format!("{};{}\n{rows}", header.trim_end(), extra.join(";"))).unwrap();
    let (out, _) = cli_with_peak_memory(&["import", "--database-url", db.url(), dir.path().to_str().unwrap()], &[]);
    assert!(out.status.success(), "100,000 extra columns are only ignored: {}", String::from_utf8_lossy(&out.stderr));

    let dir = copy_fixture("spec-extract");
    let path = dir.path().join("observations.csv");
    let mut text = std::fs::read(&path).unwrap();
    text.extend_from_slice(b"department;0101-0001;udenfor;2016;");
    text.extend(std::iter::repeat_n(b'7', 256 << 20));
    text.extend_from_slice(b";100\r\n");
    std::fs::write(&path, text).unwrap();
    let (out, peak) = cli_with_peak_memory(&["import", "--database-url", db.url(), dir.path().to_str().unwrap()], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("observations.csv:101: the row is longer than 1048576 bytes"), "{stderr}");
    assert!(peak < 200 << 20, "peak resident memory {} MB", peak >> 20);
}

/// The vertex cap and the memory budget are settings, and an extract beyond either is
/// refused with a problem, never the process.
#[test]
fn geometry_and_memory_beyond_the_settings_are_refused() {
    let db = TestDb::sqlite();
    let fixture = fixture("spec-extract");
    let (out, _) = cli_with_peak_memory(
        &["import", "--database-url", db.url(), fixture.to_str().unwrap()],
        &[("BOLIGSOCIAL__IMPORT__MAX_VERTICES_PER_AREA", "4")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("more than 4 positions (import.max_vertices_per_area)"), "{stderr}");
    let (out, _) = cli_with_peak_memory(
        &["import", "--database-url", db.url(), fixture.to_str().unwrap()],
        &[("BOLIGSOCIAL__IMPORT__MAX_MEMORY_BYTES", "1000")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("observations.csv:") && stderr.contains("(import.max_memory_bytes)"), "{stderr}");
}

/// Probe 5's crash: with no areas in the dataset's default delimitation, `/ogc/collections`
/// panicked (`expect`) and dropped the connection, and `/v1/areas` answered 400 "unknown
/// boundary version" to a request that named none. (Such an extract is refused at import
/// now; a version stored before is served as one without areas.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dataset_without_areas_in_its_default_delimitation_is_served() {
    use diesel::connection::SimpleConnection;
    let db = TestDb::sqlite();
    assert!(import(&db, &fixture("spec-extract")).status.success());
    db.connect().batch_execute("UPDATE datasets SET boundary_version = 'nowhere'").unwrap();
    let app = TestApp::on(&db).spawn().await;
    for path in [
        "/ogc/collections",
        "/ogc/collections/areas",
        "/ogc/collections/areas/items",
        "/ogc/collections/municipalities/items",
        "/v1/map/areas",
    ] {
        let (status, _) = app.get_json(path).await;
        assert_eq!(status, 200, "{path}");
    }
    let (status, areas) = app.get_json("/v1/areas").await;
    assert_eq!(status, 200);
    assert_eq!((areas["count"].as_u64(), areas["boundary_version"].as_str()), (Some(0), Some("nowhere")));
    let (status, areas) = app.get_json("/v1/areas?boundary=2020-01").await;
    assert_eq!((status, areas["count"].as_u64()), (200, Some(2)), "the other delimitation is there as before");
    assert_eq!(app.get("/ogc/collections/areas/items/KBH-1").await.status(), 404);
}

/// A misspelt or made-up parameter is refused with 400 naming it, not ignored: ignored, it
/// was a free way to make any request miss the cache (`&x=1`, `&x=2`, …), and a misspelt
/// filter silently answered something else (`refrence=country` gave the municipality). And
/// each operation's answer carries the headers its document promises, and its 304.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_parameters_are_refused_by_every_data_operation() {
    let app = TestApp::demo().spawn().await;
    let (_, areas) = app.get_json("/v1/areas").await;
    let area = areas["items"][0]["area_id"].as_str().unwrap().to_string();
    let municipality = areas["items"][0]["municipality_code"].as_str().unwrap().to_string();
    // every GET operation under /v1 that the document describes, with its required
    // parameters at their examples (the path's at the demo's own area and municipality)
    let (_, document) = app.get_json("/openapi.json").await;
    let mut checked = Vec::new();
    for (template, item) in document["paths"].as_object().unwrap() {
        // (the signed-in and administration operations need a token: me.rs and operations.rs)
        let public = template.starts_with("/v1/") && !template.starts_with("/v1/me") && !template.starts_with("/v1/admin");
        let Some(get) = item.get("get").filter(|_| public) else { continue };
        let (mut path, mut query) = (template.clone(), Vec::new());
        for p in get["parameters"].as_array().into_iter().flatten().filter(|p| p["required"] == true) {
            let name = p["name"].as_str().unwrap();
            let value = match (name, p["example"].as_str()) {
                ("area_id", _) => area.clone(),
                ("code", _) if template.starts_with("/v1/municipalities") => municipality.clone(),
                (_, Some(text)) => text.to_string(),
                (_, None) => p["example"].to_string(),
            };
            if p["in"] == "path" {
                path = path.replace(&format!("{{{name}}}"), &value);
            } else {
                query.push(format!("{name}={value}"));
            }
        }
        let base = if query.is_empty() { path.clone() } else { format!("{path}?{}", query.join("&")) };
        let r = app.get(&base).await;
        assert_eq!(r.status(), 200, "{base}");
        // the headers the document gives the answer are sent, and its ETag revalidates
        if !template.starts_with("/v1/datasets") {
            assert!(get["responses"]["200"]["headers"]["ETag"].is_object(), "{template} documents its ETag");
        }
        for name in get["responses"]["200"]["headers"].as_object().into_iter().flatten().map(|(n, _)| n) {
            assert!(r.headers().contains_key(name.as_str()), "{base}: the documented {name} is sent");
        }
        if let Some(tag) = r.headers().get("etag").and_then(|t| t.to_str().ok()) {
            assert!(get["responses"]["304"].is_object(), "{base}: its 304 is documented");
            assert_eq!(get_with(&app, &base, &[("if-none-match", tag)]).await.status(), 304, "{base}");
        }
        let (status, problem) = app.get_json(&format!("{base}{}refrence=country", if query.is_empty() { '?' } else { '&' })).await;
        assert_eq!(status, 400, "{base}");
        assert_eq!(problem["parameter"], "refrence", "{base}: {problem}");
        assert!(problem["detail"].as_str().unwrap().contains("this operation takes"), "{base}: {problem}");
        checked.push(template.clone());
    }
    assert!(checked.len() >= 20, "{checked:?}");
}

/// What a raw request on a new connection is answered, whole (the connection closes after
/// a refusal; otherwise after the timeout).
async fn raw_exchange(app: &TestApp, request: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(app.address.trim_start_matches("http://")).await.unwrap();
    socket.write_all(&request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), socket.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// Probe 7: a 100 KB URL got a 400 with an empty body (actix-http refuses it before any
/// handler), and a refused CORS preflight `text/plain`. Every error is problem details now,
/// whichever layer finds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_below_the_handlers_are_problem_details_too() {
    let app = TestApp::demo()
        .with(move |s| {
            s.http.cors_origins = "https://kort.example.dk".into();
        })
        .spawn()
        .await;
    let cases: [(Vec<u8>, &str, &str); 4] = [
        (format!("GET /v1/areas?q={} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(100_000)).into_bytes(), "414", "request line"),
        (format!("GET /v1/areas HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "b".repeat(140_000)).into_bytes(), "431", "header fields"),
        (b"GET /v1/areas HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n".to_vec(), "400", "malformed"),
        (b"POST /v1/admin/imports HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\n\r\n".to_vec(), "400", "Content-Length"),
    ];
    for (request, status, detail) in cases {
        let answer = raw_exchange(&app, request).await;
        assert!(answer.starts_with(&format!("HTTP/1.1 {status} ")), "{answer}");
        assert!(answer.contains("content-type: application/problem+json"), "{answer}");
        let body = &answer[answer.find("\r\n\r\n").unwrap() + 4..];
        let problem: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"));
        assert_eq!(problem["status"].as_u64().unwrap().to_string(), status);
        assert!(problem["detail"].as_str().unwrap().contains(detail), "{problem}");
    }
    // requests before a refused one on the same connection are answered as usual
    let mut pipelined = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
    pipelined.extend_from_slice(b"GET /v1/areas HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n");
    let answer = raw_exchange(&app, pipelined).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK") && answer.contains("HTTP/1.1 400 Bad Request"), "{answer}");

    let r = app
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/v1/areas", app.address))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/problem+json", "a refused preflight");
    let problem: serde_json::Value = r.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("Origin"), "{problem}");
    assert_eq!(app.get("/healthz").await.status(), 200);
}
