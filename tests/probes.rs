//! What issue 27's probe found, each as a test that failed before its fix: a metrics blow-up
//! by made-up methods, encodings sharing an ETag, tiles empty at the widest zooms, contract
//! slips in negotiation and conditions, and an activation race.

mod common;

use common::*;

/// The series in the Prometheus text at /metrics (sample lines, comments left out).
async fn series(app: &TestApp) -> (usize, usize) {
    let text = app.get_text("/metrics").await;
    (text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).count(), text.len())
}

/// A request with any method token and path, as a client may write it.
async fn send_raw(app: &TestApp, method: &str, path: &str) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let r = app.client.request(method, format!("{}{path}", app.address)).send().await.unwrap();
    assert!(r.status().is_client_error(), "{path}: {}", r.status());
}

/// Each made-up method was a series of its own for good: 500 of them grew /metrics from 62 KB
/// to 7.6 MB. Methods are now a closed set, and paths were patterns already.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_methods_and_paths_do_not_grow_the_metrics() {
    let (_db, app) = spawn_demo_app().await;
    // every route's usual answers once, so that what follows can only add odd ones
    for path in ["/v1/areas", "/nope", "/v1/areas/NOPE"] {
        app.get(path).await;
        send_raw(&app, "POST", path).await;
    }
    let (before, bytes_before) = series(&app).await;
    for i in 0..1000 {
        let method = if i == 0 { "M".repeat(8000) } else { format!("PROBE{i}") };
        let path = match i % 4 {
            0 => format!("/nope/{i}"),
            1 => format!("/v1/areas/X{i}"),
            2 => format!("/ogc/collections/c{i}/items"),
            _ => format!("/v1/{}", "z".repeat(i)),
        };
        send_raw(&app, &method, &path).await;
    }
    let (after, bytes_after) = series(&app).await;
    // (the latency histogram's buckets and the status of each odd answer: a few series)
    assert!(after <= before + 40, "{before} series before, {after} after");
    assert!(bytes_after < bytes_before + 8_000, "{bytes_before} bytes before, {bytes_after} after");
    let text = app.get_text("/metrics").await;
    assert!(text.contains("method=\"other\""), "the odd methods are counted, as other");
    assert!(!text.contains("PROBE"), "no made-up method is a label value");
}
