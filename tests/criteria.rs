//! The legal criteria through HTTP: the rule sets and their availability, the criteria of
//! every area for a year (JSON and CSV), one area's years, the errors, an extract without the
//! indicators they need, and rule sets an operator adds.

mod common;

use common::*;

/// The demo, on either backend: every endpoint answers, and says what it is not.
async fn the_demo_answers(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    assert!(cli(&["demo-extract", dir.path().to_str().unwrap()]).status.success());
    let out = import(&db, dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let app = spawn_app(settings(&db)).await;

    let (status, rules) = app.get_json("/v1/rules").await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = rules["items"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["almenboligloven-2021", "ghettokriterier-2013"]);
    assert!(rules["items"].as_array().unwrap().iter().all(|r| r["available"] == true));
    assert!(rules["note"].as_str().unwrap().contains("not the ministry's official lists"));
    let (status, one) = app.get_json("/v1/rules/almenboligloven-2021").await;
    assert_eq!(status, 200);
    assert_eq!(one["criteria"].as_array().unwrap().len(), 9);
    assert_eq!(one["criteria"][1]["threshold"], serde_json::json!({"times_country": 3.0}));
    assert_eq!(one["classifications"][2]["persists"], serde_json::json!({"classification": "parallelsamfund", "years": 5}));
    assert_eq!(app.get("/v1/rules/nope").await.status(), 404);

    let (status, body) = app.get_json("/v1/criteria?year=2024").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["rules"].as_str(), body["year"].as_u64()), (Some("almenboligloven-2021"), Some(2024)));
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 48);
    for item in items {
        assert_eq!(item["criteria"].as_array().unwrap().len(), 9);
        for c in item["criteria"].as_array().unwrap() {
            let numbers = ["value", "threshold", "margin"].iter().all(|f| c[*f].is_number());
            match c["status"].as_str().unwrap() {
                "met" | "not_met" => assert!(numbers && c["met"].is_boolean(), "{c}"),
                _ => assert!(c["met"].is_null() && c["value"].is_null() && c["margin"].is_null(), "{c}"),
            }
        }
    }
    let summary = &body["summary"];
    assert_eq!(summary["omdannelsesomraade"]["yes"], 2, "{summary}");
    for id in ["udsat_boligomraade", "parallelsamfund", "forebyggelsesomraade"] {
        let s = &summary[id];
        assert_eq!(s["yes"].as_u64().unwrap() + s["no"].as_u64().unwrap() + s["undetermined"].as_u64().unwrap(), 48, "{id}");
        assert!(s["yes"].as_u64().unwrap() >= 1, "{id}: {s}");
    }
    assert!(summary["udsat_boligomraade"]["undetermined"].as_u64().unwrap() >= 1);
    // the earlier rule set by default in its own years, and by name in any
    let (_, then) = app.get_json("/v1/criteria?year=2016").await;
    assert_eq!(then["rules"], "ghettokriterier-2013");
    let (status, _) = app.get_json("/v1/criteria?year=2024&rules=ghettokriterier-2013&boundary=2021-03").await;
    assert_eq!(status, 200);

    // CSV: one row per area, a column per criterion part and classification
    let csv = app.get_text("/v1/criteria?year=2024&format=csv").await;
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 49);
    assert!(lines[0].starts_with("area_id;area_name;municipality_code;population;outside_work_education_40_status;"), "{}", lines[0]);
    assert!(lines[0].ends_with(";forebyggelsesomraade;forebyggelsesomraade_nearest_exit"));
    assert_eq!(lines[1].split(';').count(), lines[0].split(';').count());

    // one area, every year, the rule set valid for each
    let first = items[0]["area_id"].as_str().unwrap();
    let (status, area) = app.get_json(&format!("/v1/areas/{first}/criteria")).await;
    assert_eq!(status, 200);
    let years = area["years"].as_array().unwrap();
    assert_eq!(years.first().unwrap()["year"], 2013);
    assert_eq!(years.first().unwrap()["rules"], "ghettokriterier-2013");
    assert_eq!(years.last().unwrap()["rules"], "almenboligloven-2021");
    let latest = years.last().unwrap();
    assert_eq!(latest["classifications"], items[0]["classifications"]);

    for (query, parameter) in [
        ("/v1/criteria", "year"),
        ("/v1/criteria?year=2030", "year"),
        ("/v1/criteria?year=2024&rules=nope", "rules"),
        ("/v1/criteria?year=2024&boundary=nope", "boundary"),
        ("/v1/criteria?year=2024&threshold=1", "threshold"),
        (&format!("/v1/areas/{first}/criteria?rules=nope"), "rules"),
    ] {
        let (status, body) = app.get_json(query).await;
        assert_eq!((status, body["parameter"].as_str()), (400, Some(parameter)), "{query}: {body}");
    }
    assert_eq!(app.get("/v1/areas/NOPE/criteria").await.status(), 404);

    // the map layer carries each classification per feature, as /v1/criteria has it
    let (status, layer) = app.get_json("/v1/map/areas?criteria_year=2024&geometry=false").await;
    assert_eq!(status, 200, "{layer}");
    assert_eq!((layer["mode"].as_str(), layer["rules"].as_str()), (Some("criteria"), Some("almenboligloven-2021")));
    assert_eq!(layer["classifications"].as_array().unwrap().len(), 4);
    for (feature, item) in layer["features"].as_array().unwrap().iter().zip(items) {
        assert_eq!(feature["id"], item["area_id"]);
        for c in item["classifications"].as_array().unwrap() {
            assert_eq!(feature["properties"][c["id"].as_str().unwrap()], c["status"], "{}", item["area_id"]);
        }
    }
    for (query, parameter) in [
        ("/v1/map/areas?rules=almenboligloven-2021", "rules"),
        ("/v1/map/areas?criteria_year=2024&indicator=non_western", "criteria_year"),
        ("/v1/map/areas?criteria_year=2031", "criteria_year"),
    ] {
        let (status, body) = app.get_json(query).await;
        assert_eq!((status, body["parameter"].as_str()), (400, Some(parameter)), "{query}: {body}");
    }
}

on_both_backends!(the_demo_answers);

/// An extract without the indicators the criteria read imports, and the listing says which
/// roles it lacks; a role mapped to another code and a region figure are taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extract_without_the_roles_says_what_it_lacks() {
    let db = TestDb::sqlite();
    let dir = copy_fixture("spec-extract");
    let manifest = dir.path().join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace(r#""contact": "ignored""#, r#""criteria_indicators": {"convicted": "doemte"}"#)).unwrap();
    let observations = dir.path().join("observations.csv");
    let mut text = std::fs::read_to_string(&observations).unwrap();
    text.push_str("region;1084;karakter;2023;7000;1000\r\n");
    std::fs::write(&observations, text).unwrap();
    let out = import(&db, dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let app = spawn_app(settings(&db)).await;
    let (_, rules) = app.get_json("/v1/rules").await;
    let now = &rules["items"][0];
    assert_eq!(now["available"], false);
    assert_eq!(now["missing_roles"], serde_json::json!(["outside_work_education", "basic_education_only", "gross_income", "non_western"]));
    assert_eq!(now["indicators"], serde_json::json!({"convicted": "doemte"}));
    let (status, body) = app.get_json("/v1/criteria?year=2023&rules=almenboligloven-2021").await;
    assert_eq!(status, 400);
    assert_eq!(body["parameter"], "rules");
    assert!(body["detail"].as_str().unwrap().contains("outside_work_education"), "{body}");
}

/// A rule set an operator adds is served; one with a typo stops the start, naming file and key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_sets_from_a_directory() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let bundled = include_str!("../src/rules/almenboligloven-2021.toml");
    std::fs::write(
        dir.path().join("2018.toml"),
        bundled.replace("almenboligloven-2021", "almenboligloven-2018").replace("years = 5", "years = 4"),
    )
    .unwrap();
    let mut s = settings(&db);
    s.criteria.rules_dir = Some(dir.path().to_path_buf());
    let demo = tempfile::tempdir().unwrap();
    assert!(cli(&["demo-extract", demo.path().to_str().unwrap()]).status.success());
    assert!(import(&db, demo.path()).status.success());
    let app = spawn_app(s).await;
    let (_, body) = app.get_json("/v1/criteria?year=2024&rules=almenboligloven-2018").await;
    assert_eq!(body["rules"], "almenboligloven-2018", "{body}");

    std::fs::write(dir.path().join("typo.toml"), bundled.replace("role = \"convicted\"", "role = \"convictions\"")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_boligsocial"))
        .args(["--database-url", db.url(), "serve", "--listen", "127.0.0.1:0"])
        .env("BOLIGSOCIAL__CRITERIA__RULES_DIR", dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("typo.toml: criteria[1].role: unknown role \"convictions\""), "{err}");
}
