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

/// Runs a script of tests/browser against the service with its expectations (screenshots go
/// to target/test-artifacts/), and gives back its report; its output when it fails.
async fn run_script(name: &str, address: &str, expected: String) -> serde_json::Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (script, artifacts, address) = (root.join("tests/browser").join(name), root.join("target/test-artifacts"), address.to_string());
    let out =
        tokio::task::spawn_blocking(move || Command::new("node").arg(script).arg(&address).arg(&artifacts).arg(expected).output().unwrap())
            .await
            .unwrap();
    assert!(
        out.status.success(),
        "the browser test {name} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
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
    let report = run_script("map.test.mjs", &app.address, "48".into()).await;
    assert_eq!(report["areas"], 48);
    assert_eq!(report["tableRows"], 48, "the comparison table as CSV, from the page's link");
    let (_, indicators) = app.get_json("/v1/indicators").await;
    assert_eq!(report["scorecardRows"], indicators["items"].as_array().unwrap().len(), "the area on every indicator");
    assert!(report["seriesRows"].as_u64().unwrap() >= 4 * 10, "the chart's series as CSV: {report}");
    assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts/map.png").exists());
}

/// Signed in on the map page (tests/browser/sign_in.test.mjs): at the test provider's login,
/// by authorization code with PKCE as the public client "map", back on the page with the
/// caller's departments in an area's panel, the token in no address and no storage, by keyboard,
/// axe-clean signed in on a laptop and a phone, and signed out again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_map_page_signs_in_at_the_provider() {
    if !ready() {
        return;
    }
    // (the provider must know the page's address before the service starts, and the service
    // the provider's: the service's port is chosen first)
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let Some(provider) = crate::auth::Provider::start_for_map(&format!("http://127.0.0.1:{port}/map")).await else {
        return;
    };
    let issuer = provider.issuer.clone();
    let app = TestApp::demo()
        .with(move |s| {
            s.server.listen = format!("127.0.0.1:{port}");
            s.auth.issuer = Some(issuer);
            s.auth.map_client_id = Some("map".into());
            s.admin.token = Some(ADMIN.into());
        })
        .spawn()
        .await;
    // the page may reach the issuer, and nothing else off the service
    let r = app.get("/map").await;
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains(&format!("connect-src 'self' {}", provider.issuer)), "{csp}");
    let (_, config) = app.get_json("/map/config.json").await;
    assert_eq!(config["sign_in"]["client_id"], "map");
    assert_eq!(config["sign_in"]["scope"], "openid boligsocial:departments");

    // what the browser must find: the areas holding the organisation's departments, and one without
    let token = provider.token("demo-almenbo", Some("boligsocial:departments")).await;
    let mine: serde_json::Value =
        app.client.get(format!("{}/v1/me/departments", app.address)).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let items = mine["items"].as_array().unwrap();
    let area = items.iter().find_map(|d| d["area_id"].as_str()).expect("Almenbo has a department in an area").to_string();
    let here: Vec<&str> = items.iter().filter(|d| d["area_id"] == area.as_str()).map(|d| d["department_id"].as_str().unwrap()).collect();
    let (_, areas) = app.get_json("/v1/areas").await;
    let areas = areas["items"].as_array().unwrap();
    let name_of = |id: &str| areas.iter().find(|a| a["area_id"] == id).unwrap()["name"].as_str().unwrap().to_string();
    let elsewhere = areas
        .iter()
        .map(|a| a["area_id"].as_str().unwrap())
        .find(|id| !items.iter().any(|d| d["area_id"] == *id))
        .expect("an area without Almenbo");
    let series: serde_json::Value = app
        .client
        .get(format!("{}/v1/me/departments/{}/series?indicator=outside_work_education", app.address, here[0]))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let expect = serde_json::json!({
        "user": "almenbo",
        "name": "Almenbo Danmark",
        "area": name_of(&area),
        "departments": here,
        "first": series["series"]["department"],
        "elsewhere": name_of(elsewhere),
        "issuer": provider.issuer,
    });
    let report = run_script("sign_in.test.mjs", &app.address, expect.to_string()).await;
    assert_eq!(report["tables"], here.len(), "{report}");
    assert!(report["rows"].as_u64().unwrap() >= 5, "{report}");
    // the audit saw the page's reads as the user's, through the map's client, and the
    // department series of the area among them
    let r = app.client.get(format!("{}/v1/admin/audit", app.address)).bearer_auth(ADMIN).send().await.unwrap();
    let log: serde_json::Value = r.json().await.unwrap();
    let by_page: Vec<&serde_json::Value> = log["items"].as_array().unwrap().iter().filter(|e| e["client_id"] == "map").collect();
    assert!(by_page.iter().all(|e| e["sub"] == "almenbo" && e["cvr"] == "91000000"), "{by_page:?}");
    assert!(
        by_page
            .iter()
            .any(|e| e["route"] == "/v1/me/departments/{department_id}/series" && e["departments"] == here[0] && e["status"] == 200),
        "{by_page:?}"
    );
}

const ADMIN: &str = "an-admin-token-for-the-browser-test";
