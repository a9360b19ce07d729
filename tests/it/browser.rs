//! The reference map page in headless Chromium (tests/browser/map.test.mjs, playwright-core):
//! it loads, shows every area, draws an area's chart on click, works in English and in the
//! comparison mode. Screenshots go to target/test-artifacts/. Needs Node.js, Debian's
//! chromium and `npm ci` in tests/browser; skipped without them unless
//! BOLIGSOCIAL_TEST_REQUIRE_BROWSER=1 (as in CI).

use std::path::Path;
use std::process::Command;

use crate::common::*;

fn ready() -> bool {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let missing: Vec<&str> = [
        (Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success()), "node"),
        (dir.join("node_modules/playwright-core").exists(), "tests/browser/node_modules (npm ci)"),
        (Path::new(&chromium).exists(), "chromium"),
    ]
    .into_iter()
    .filter(|(ok, _)| !ok)
    .map(|(_, what)| what)
    .collect();
    if missing.is_empty() {
        return true;
    }
    absent("BOLIGSOCIAL_TEST_REQUIRE_BROWSER", &format!("the browser test lacks {missing:?}"));
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_map_page_works_in_chromium() {
    if !ready() {
        return;
    }
    let app = TestApp::demo().spawn().await;
    // the page is served with its security headers
    let r = app.get("/map").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'self'"));
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/map.test.mjs");
    let address = app.address.clone();
    let out =
        tokio::task::spawn_blocking(move || Command::new("node").arg(script).arg(&address).arg(&artifacts).arg("48").output().unwrap())
            .await
            .unwrap();
    assert!(
        out.status.success(),
        "the browser test failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["areas"], 48);
    assert_eq!(report["tableRows"], 48, "the comparison table as CSV, from the page's link");
    let (_, indicators) = app.get_json("/v1/indicators").await;
    assert_eq!(report["scorecardRows"], indicators["items"].as_array().unwrap().len(), "the area on every indicator");
    assert!(report["seriesRows"].as_u64().unwrap() >= 4 * 10, "the chart's series as CSV: {report}");
    assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts/map.png").exists());
}
