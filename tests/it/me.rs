//! `/v1/me` over HTTP with tokens of a real OpenID Provider (tests/oidc): what a housing
//! organisation and a municipality of the demo see, that nothing else is reachable, that answers
//! are private and audited (on both backends), and what hostile tokens get.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::auth::Provider;
use crate::common::{TestApp, TestDb};

const SCOPE: &str = "boligsocial:departments";
const ADMIN_TOKEN: &str = "audit-reader-0123456789";
const INDICATOR: &str = "outside_work_education";

/// The demo's departments: id → organisation, municipality.
fn demo_departments() -> BTreeMap<String, (String, String)> {
    let bytes = boligsocial::demo::BUNDLED.iter().find(|(n, _)| *n == "departments.csv").unwrap().1;
    let mut r = csv::Reader::from_reader(bytes);
    r.records().map(|r| r.unwrap()).map(|r| (r[0].to_string(), (r[3].to_string(), r[2].to_string()))).collect()
}

/// The demo's department observations of an indicator: (department, year) → (numerator, denominator).
fn demo_observations(indicator: &str) -> BTreeMap<(String, u16), (f64, f64)> {
    let bytes = boligsocial::demo::BUNDLED.iter().find(|(n, _)| *n == "observations.csv").unwrap().1;
    let mut r = csv::Reader::from_reader(bytes);
    r.records()
        .map(|r| r.unwrap())
        .filter(|r| &r[0] == "department" && &r[2] == indicator)
        .map(|r| ((r[1].to_string(), r[3].parse().unwrap()), (r[4].parse().unwrap(), r[5].parse().unwrap())))
        .collect()
}

/// The demo imported into the test's database, so that the test can read and break it.
fn with_demo(db: TestDb) -> TestDb {
    let extract = boligsocial::demo::bundled_extract().unwrap();
    let url = boligsocial::store::DatabaseUrl::parse(db.url()).unwrap();
    boligsocial::query::datasets::import(&mut db.connect(), &|| boligsocial::store::connect(&url), &extract).unwrap();
    db
}

async fn signed_in_app(db: &TestDb, provider: &Provider, edit: impl FnOnce(&mut boligsocial::settings::Settings) + 'static) -> TestApp {
    let issuer = provider.issuer.clone();
    TestApp::on(db)
        .with(move |s| {
            s.auth.issuer = Some(issuer);
            s.admin.token = Some(ADMIN_TOKEN.into());
            edit(s);
        })
        .spawn()
        .await
}

async fn get(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut r = app.client.get(format!("{}{path}", app.address));
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    r.send().await.unwrap()
}

async fn json(app: &TestApp, path: &str, token: Option<&str>) -> (u16, Value) {
    let r = get(app, path, token).await;
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}")))
}

async fn audit(app: &TestApp) -> Vec<Value> {
    let r = app.client.get(format!("{}/v1/admin/audit", app.address)).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

crate::on_both_backends! {
    organisations_and_municipalities_see_their_own_departments,
    an_unaudited_read_is_no_read,
    audit_records_are_kept_for_their_retention,
}

/// Records of many instances land in one table, and those past the retention go.
async fn audit_records_are_kept_for_their_retention(db: TestDb) {
    use boligsocial::store::audit::{AuditRecord, insert, stamp};
    let url = boligsocial::store::DatabaseUrl::parse(db.url()).unwrap();
    let pool = boligsocial::store::pool(&url, 4, boligsocial::store::Timeouts::default()).unwrap();
    boligsocial::store::migrate(&mut pool.get().unwrap()).unwrap();
    let record = |at: String, sub: &str| AuditRecord {
        at,
        sub: Some(sub.into()),
        cvr: Some("91000000".into()),
        client_id: None,
        jti: None,
        route: "/v1/me".into(),
        departments: String::new(),
        dataset_version: Some(1),
        status: 200,
    };
    let now = time::OffsetDateTime::now_utc();
    insert(&mut pool.get().unwrap(), &record(stamp(now - time::Duration::days(181)), "old")).unwrap();
    insert(&mut pool.get().unwrap(), &record(stamp(now - time::Duration::days(179)), "kept")).unwrap();
    // two instances writing at once: every record lands
    std::thread::scope(|s| {
        for i in 0..2 {
            let pool = pool.clone();
            s.spawn(move || {
                for _ in 0..20 {
                    boligsocial::query::audit::record(&pool, record(String::new(), &format!("instance-{i}"))).unwrap();
                }
            });
        }
    });
    assert_eq!(boligsocial::query::audit::prune(&pool, 180).unwrap(), 1);
    let all = boligsocial::query::audit::read(&mut pool.get().unwrap(), &boligsocial::query::audit::Since::all()).unwrap();
    assert_eq!(all.len(), 41);
    assert_eq!(all[0].sub.as_deref(), Some("kept"), "oldest first");
    assert!(all.windows(2).all(|w| w[0].at <= w[1].at));

    // a batch as the audit's writer sends it (more than one statement's worth on SQLite, one
    // statement of arrays on PostgreSQL): every field lands as it was, absent ones absent
    let batch: Vec<AuditRecord> = (0..250)
        .map(|i| AuditRecord {
            at: String::new(),
            sub: (i % 3 != 0).then(|| format!("batch-{i}")),
            cvr: (i % 5 != 0).then(|| "91000000".into()),
            client_id: (i % 2 == 0).then(|| format!("client-{i}")),
            jti: (i % 7 != 0).then(|| format!("jti-{i}")),
            route: if i % 4 == 0 { "/v1/me/departments/{department_id}/series".into() } else { format!("/v1/me/odd/{i}") },
            departments: if i % 6 == 0 { String::new() } else { format!("0101-{i:04},0101-0002") },
            dataset_version: (i % 8 != 0).then_some(i64::from(i) * 1_000_000_007),
            status: [200, 400, 401, 403, 404, 503][i as usize % 6],
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(2)); // (after the records above)
    let since = stamp(time::OffsetDateTime::now_utc());
    boligsocial::query::audit::record_all(&pool, batch.clone()).unwrap();
    let since: boligsocial::query::audit::Since = since.parse().unwrap();
    let read = boligsocial::query::audit::read(&mut pool.get().unwrap(), &since).unwrap();
    let stamped = read[0].at.clone();
    assert!(read.iter().all(|r| r.at == stamped), "one batch, one time");
    let unstamped: Vec<AuditRecord> = read.into_iter().map(|r| AuditRecord { at: String::new(), ..r }).collect();
    assert_eq!(unstamped, batch, "in order, field for field");
}

async fn organisations_and_municipalities_see_their_own_departments(db: TestDb) {
    let Some(provider) = Provider::start().await else { return };
    let db = with_demo(db);
    let app = signed_in_app(&db, &provider, |_| {}).await;
    let departments = demo_departments();
    let organisation = provider.token("demo-almenbo", Some(SCOPE)).await;
    let municipality = provider.token("demo-aarhus", Some(SCOPE)).await;

    // who
    let (status, me) = json(&app, "/v1/me", Some(&organisation)).await;
    assert_eq!(status, 200, "{me}");
    let own: BTreeSet<String> = departments.iter().filter(|(_, (o, _))| o == "ALMENBO").map(|(d, _)| d.clone()).collect();
    assert_eq!(
        (me["kind"].as_str(), me["name"].as_str(), me["cvr"].as_str()),
        (Some("organisation"), Some("Almenbo Danmark"), Some("91000000"))
    );
    assert_eq!(me["departments"], own.len());
    let (_, list) = json(&app, "/v1/me/departments", Some(&organisation)).await;
    let listed: BTreeSet<String> =
        list["items"].as_array().unwrap().iter().map(|d| d["department_id"].as_str().unwrap().to_string()).collect();
    assert_eq!(listed, own);
    let (_, list) = json(&app, "/v1/me/departments", Some(&municipality)).await;
    let in_aarhus: BTreeSet<String> = departments.iter().filter(|(_, (_, m))| m == "751").map(|(d, _)| d.clone()).collect();
    let listed: BTreeSet<String> =
        list["items"].as_array().unwrap().iter().map(|d| d["department_id"].as_str().unwrap().to_string()).collect();
    assert_eq!(listed, in_aarhus, "a municipality sees every department in it, whichever organisation's");
    assert!(in_aarhus.iter().any(|d| own.contains(d)) && in_aarhus.iter().any(|d| !own.contains(d)));

    // a department's series: its own figures exactly where shown, and the primary rules hold
    let observations = demo_observations(INDICATOR);
    let mut shown = 0;
    let mut withheld = 0;
    for d in &own {
        let r = get(&app, &format!("/v1/me/departments/{d}/series?indicator={INDICATOR}"), Some(&organisation)).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "private, no-store");
        assert!(r.headers().get_all("vary").iter().any(|v| v.to_str().unwrap().contains("Authorization")));
        assert!(r.headers().get("etag").is_none());
        let body: Value = r.json().await.unwrap();
        assert!(body["series"]["area"].is_array() && body["series"]["municipality"].is_array());
        for p in body["series"]["department"].as_array().unwrap() {
            let year = p["year"].as_u64().unwrap() as u16;
            let (n, den) = observations[&(d.clone(), year)];
            if p["status"] == "ok" {
                shown += 1;
                assert_eq!((p["numerator"].as_f64(), p["denominator"].as_f64()), (Some(n), Some(den)), "{d} {year}");
                assert!(den >= 20.0 && n >= 5.0 && den - n >= 5.0, "{d} {year}: {n}/{den} is below the primary rules");
            } else {
                withheld += 1;
                assert!(p["value"].is_null() && p["numerator"].is_null());
            }
        }
    }
    assert!(shown > 0, "{shown} shown, {withheld} withheld");

    // another organisation's department answers as one that does not exist, byte for byte
    let others = departments.iter().find(|(d, (o, _))| o != "ALMENBO" && !own.contains(*d)).unwrap().0.clone();
    let theirs = get(&app, &format!("/v1/me/departments/{others}/series?indicator={INDICATOR}"), Some(&organisation)).await;
    let (theirs_status, theirs_body) = (theirs.status(), theirs.bytes().await.unwrap());
    let none = get(&app, &format!("/v1/me/departments/NOPE-0000/series?indicator={INDICATOR}"), Some(&organisation)).await;
    assert_eq!((theirs_status, theirs_body), (none.status(), none.bytes().await.unwrap()));
    assert_eq!(theirs_status, 404);
    // the municipality sees that one if it is in Aarhus; not one elsewhere
    let elsewhere = departments.iter().find(|(_, (_, m))| m != "751").unwrap().0;
    let (status, _) = json(&app, &format!("/v1/me/departments/{elsewhere}/series?indicator={INDICATOR}"), Some(&municipality)).await;
    assert_eq!(status, 404);

    // selections: refused whole
    let picks: Vec<&String> = own.iter().take(3).collect();
    let list = picks.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",");
    let (status, sel) = json(&app, &format!("/v1/me/selection/series?departments={list}&indicator={INDICATOR}"), Some(&organisation)).await;
    assert_eq!(status, 200, "{sel}");
    assert!(!sel["series"]["selection"].as_array().unwrap().is_empty());
    for (query, expected) in [
        (format!("departments={list},{others}"), 404),
        (format!("departments={list},{}", picks[0]), 400),
        (format!("departments={}", (0..501).map(|i| format!("X{i}")).collect::<Vec<_>>().join(",")), 400),
        ("departments=".to_string(), 400),
    ] {
        let (status, problem) = json(&app, &format!("/v1/me/selection/series?{query}&indicator={INDICATOR}"), Some(&organisation)).await;
        assert_eq!(status, expected, "{query}: {problem}");
        assert!(problem["type"].as_str().unwrap().starts_with("/problems/"));
    }

    // comparisons in three representations
    let (status, cmp) =
        json(&app, &format!("/v1/me/comparisons?indicator={INDICATOR}&from=2015&to=2023&reference=area"), Some(&municipality)).await;
    assert_eq!(status, 200, "{cmp}");
    assert_eq!(cmp["items"].as_array().unwrap().len(), in_aarhus.len());
    for (suffix, media) in [(".csv", "text/csv"), (".xlsx", "application/vnd.openxmlformats")] {
        let r = get(&app, &format!("/v1/me/comparisons{suffix}?indicator={INDICATOR}&from=2015&to=2023"), Some(&municipality)).await;
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with(media));
        assert_eq!(r.headers()["cache-control"], "private, no-store");
    }
    // the documented bounds of the years and threshold are enforced (the public operations' types)
    for (query, parameter) in [("from=1899&to=2023", "from"), ("from=2015&to=2023&threshold=-0.5", "threshold")] {
        let (status, problem) = json(&app, &format!("/v1/me/comparisons?indicator={INDICATOR}&{query}"), Some(&municipality)).await;
        assert_eq!((status, problem["parameter"].as_str()), (400, Some(parameter)), "{query}: {problem}");
    }
    let r = get(&app, &format!("/v1/me/departments/{}/series.csv?indicator={INDICATOR}", picks[0]), Some(&organisation)).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains(picks[0].as_str()));

    // every answer is what the document says
    let doc: Value = serde_json::from_str(boligsocial::api::openapi::openapi_json_text()).unwrap();
    for (operation, url, token) in [
        ("/v1/me", "/v1/me".to_string(), &organisation),
        ("/v1/me/departments", "/v1/me/departments".to_string(), &municipality),
        (
            "/v1/me/departments/{department_id}/series",
            format!("/v1/me/departments/{}/series?indicator={INDICATOR}", picks[0]),
            &organisation,
        ),
        ("/v1/me/selection/series", format!("/v1/me/selection/series?departments={list}&indicator={INDICATOR}"), &organisation),
        ("/v1/me/comparisons", format!("/v1/me/comparisons?indicator={INDICATOR}&from=2015&to=2023&reference=area"), &municipality),
    ] {
        let validator = jsonschema::validator_for(&crate::clients::answer_schema(&doc, operation)).unwrap();
        let (status, answer) = json(&app, &url, Some(token)).await;
        assert_eq!(status, 200, "{url}");
        let errors: Vec<String> = validator.iter_errors(&answer).take(5).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{url} is not what the document says: {errors:?}");
    }

    // two callers on one path, however spelt, each get their own answer (no shared cache)
    for path in ["/v1/me", "/v1/m%65"] {
        let (_, a) = json(&app, path, Some(&organisation)).await;
        let (_, b) = json(&app, path, Some(&municipality)).await;
        assert_eq!((a["kind"].as_str(), b["kind"].as_str()), (Some("organisation"), Some("municipality")), "{path}");
    }

    // public answers: the same bytes with a token, a bad one, or none
    let public = format!("/v1/areas/751-1/series?indicator={INDICATOR}");
    let plain = get(&app, &public, None).await.bytes().await.unwrap();
    assert_eq!(get(&app, &public, Some(&organisation)).await.bytes().await.unwrap(), plain);
    assert_eq!(get(&app, &public, Some("not-a-token")).await.bytes().await.unwrap(), plain);

    // nothing private in the data package: no organisation, no CVR number, no department's
    // figure (a department is named only where the plans that covered it are listed, as
    // /v1/areas/{area_id}/plans names it, comparisons.md: no figure beside it)
    let zip = get(&app, "/v1/datapackage.zip", None).await.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).unwrap();
    for i in 0..archive.len() {
        use std::io::Read;
        let mut file = archive.by_index(i).unwrap();
        let name = file.name().unwrap_or_default().to_string();
        let mut text = String::new();
        file.read_to_string(&mut text).unwrap();
        for secret in ["ALMENBO", "91000000", "90007510"] {
            assert!(!text.contains(secret), "{secret} in the data package's {name}");
        }
        if name.ends_with("plan_departments.csv") {
            assert!(text.lines().all(|l| l.split(',').count() == 2), "plans and departments, nothing beside them");
        } else {
            assert!(!text.contains(picks[0].as_str()), "{} in the data package's {name}", picks[0]);
        }
    }

    // refusals
    let unscoped = provider.token("no-scope", None).await;
    let r = get(&app, "/v1/me", Some(&unscoped)).await;
    assert_eq!(r.status(), 403);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().contains("insufficient_scope"));
    let stranger = provider.token("kommune-it", Some(SCOPE)).await;
    let (status, problem) = json(&app, "/v1/me", Some(&stranger)).await;
    assert_eq!((status, problem["type"].as_str()), (403, Some("/problems/forbidden")), "a CVR number that is neither");
    let r = get(&app, "/v1/me", None).await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"boligsocial\", error=\"invalid_token\"");
    let (status, problem) = json(&app, &format!("/v1/me?access_token={organisation}"), None).await;
    assert_eq!((status, problem["parameter"].as_str()), (400, Some("access_token")));
    assert!(!problem.to_string().contains(&organisation), "a token is never echoed");

    // every request above is in the audit log, granted or denied, with who and what
    let records = audit(&app).await;
    let statuses: BTreeSet<u64> = records.iter().map(|r| r["status"].as_u64().unwrap()).collect();
    assert!([200, 400, 401, 403, 404].iter().all(|s| statuses.contains(s)), "{statuses:?}");
    let series_of_others = records
        .iter()
        .find(|r| r["status"] == 404 && r["departments"] == others.as_str() && r["sub"] == "demo-almenbo")
        .unwrap_or_else(|| panic!("the refused read of {others} is recorded"));
    assert_eq!(series_of_others["route"], "/v1/me/departments/{department_id}/series");
    assert_eq!(series_of_others["cvr"], "91000000");
    assert!(series_of_others["jti"].as_str().is_some_and(|j| !j.is_empty()));
    assert_eq!(series_of_others["dataset_version"], 1);
    let selection = records.iter().find(|r| r["route"] == "/v1/me/selection/series" && r["status"] == 200).unwrap();
    assert_eq!(selection["departments"], list.as_str());
    assert!(records.iter().any(|r| r["status"] == 401 && r["sub"].is_null()));
    assert!(records.iter().all(|r| !r.to_string().contains(&organisation)), "no token in the audit");
    // the command line reads the same records
    let out = crate::common::cli(&["--database-url", db.url(), "audit", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let from_cli: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(from_cli.len() >= records.len());
    let out = crate::common::cli(&["--database-url", db.url(), "audit", "--since", "2999-01-01"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "at,sub,cvr,client_id,jti,route,departments,dataset_version,status");
}

async fn an_unaudited_read_is_no_read(db: TestDb) {
    let Some(provider) = Provider::start().await else { return };
    let db = with_demo(db);
    let app = signed_in_app(&db, &provider, |_| {}).await;
    let token = provider.token("demo-almenbo", Some(SCOPE)).await;
    assert_eq!(get(&app, "/v1/me", Some(&token)).await.status(), 200);
    use diesel::RunQueryDsl;
    diesel::sql_query("DROP TABLE audit_log").execute(&mut db.connect()).unwrap();
    let (status, problem) = json(&app, "/v1/me/departments", Some(&token)).await;
    assert_eq!(status, 503, "{problem}");
    assert!(problem.get("items").is_none());
    // the public routes do not depend on it
    assert_eq!(get(&app, "/v1/areas", None).await.status(), 200);
}

#[tokio::test]
async fn callers_and_failed_sign_ins_are_limited() {
    let Some(provider) = Provider::start().await else { return };
    let db = with_demo(TestDb::sqlite());
    let app = signed_in_app(&db, &provider, |s| {
        s.auth.requests_per_minute = 3;
        s.admin.anonymous_requests_per_minute = 2;
    })
    .await;
    let token = provider.token("demo-almenbo", Some(SCOPE)).await;
    let statuses: Vec<u16> = futures_statuses(&app, &token, 4).await;
    assert_eq!(statuses, [200, 200, 200, 429]);
    let other = provider.token("demo-aarhus", Some(SCOPE)).await;
    assert_eq!(get(&app, "/v1/me", Some(&other)).await.status(), 200, "the allowance is the caller's");
    let bad: Vec<u16> = futures_statuses(&app, "garbage", 3).await;
    assert_eq!(bad, [401, 401, 429]);
}

async fn futures_statuses(app: &TestApp, token: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(get(app, "/v1/me", Some(token)).await.status().as_u16());
    }
    out
}

/// Tokens an attacker makes from a real one: each is refused with a problem, never a 5xx.
#[tokio::test]
async fn hostile_tokens_are_refused() {
    let Some(provider) = Provider::start().await else { return };
    let db = with_demo(TestDb::sqlite());
    let app = signed_in_app(&db, &provider, |s| s.admin.anonymous_requests_per_minute = 1000).await;
    let token = provider.token("demo-almenbo", Some(SCOPE)).await;
    let parts: Vec<&str> = token.split('.').collect();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let encode = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    let with_header = |edit: &dyn Fn(&mut Value)| {
        let mut h = header.clone();
        edit(&mut h);
        format!("{}.{}.{}", encode(&h), parts[1], parts[2])
    };
    let with_claims = |edit: &dyn Fn(&mut Value)| {
        let mut c = claims.clone();
        edit(&mut c);
        format!("{}.{}.{}", parts[0], encode(&c), parts[2])
    };
    let mut hostile = vec![
        ("alg none", format!("{}.{}.", encode(&serde_json::json!({"alg": "none", "typ": "at+jwt"})), parts[1])),
        ("HS256", with_header(&|h| h["alg"] = "HS256".into())),
        ("unknown kid", with_header(&|h| h["kid"] = "not-a-key".into())),
        ("an ID token's typ", with_header(&|h| h["typ"] = "JWT".into())),
        ("another CVR", with_claims(&|c| c["cvr"] = "90007510".into())),
        ("expired", with_claims(&|c| c["exp"] = 1_000_000.into())),
        ("another issuer", with_claims(&|c| c["iss"] = "https://evil.example".into())),
        ("another audience", with_claims(&|c| c["aud"] = "other".into())),
        ("exp as a string", with_claims(&|c| c["exp"] = "9999999999".into())),
        ("no signature", format!("{}.{}", parts[0], parts[1])),
        ("not base64", "@@@.@@@.@@@".to_string()),
    ];
    hostile.push(("64 KB", format!("{}.{}.{}", parts[0], "A".repeat(64 << 10), parts[2])));
    for (what, t) in &hostile {
        let r = get(&app, "/v1/me", Some(t)).await;
        let status = r.status().as_u16();
        assert!((400..500).contains(&status) && status != 404, "{what}: {status}");
        if status == 401 {
            assert!(r.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"), "{what}");
        }
        let body = r.text().await.unwrap();
        assert!(body.contains("/problems/"), "{what}: {body}");
        assert!(!body.contains(parts[2]), "{what}: the token is not echoed");
    }
    assert_eq!(get(&app, "/v1/me", Some(&token)).await.status(), 200, "the real one still is taken");
}

#[tokio::test]
async fn signed_in_access_is_off_without_an_issuer() {
    let app = TestApp::demo().spawn().await;
    let (status, problem) = app.get_json("/v1/me/departments").await;
    assert_eq!(status, 404, "{problem}");
}

/// Signed-in answers are kept per grant (access.md allows it): asked again, in any coding, an
/// answer is the same bytes as the first time; another grant asking the same thing gets its
/// own; and a new dataset version answers anew.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_answers_are_each_grants_own_and_go_with_their_version() {
    use std::io::Read;
    let Some(provider) = Provider::start().await else { return };
    let db = with_demo(TestDb::sqlite());
    let app = signed_in_app(&db, &provider, |_| {}).await;
    let municipality = provider.token("demo-aarhus", Some(SCOPE)).await;
    let organisation = provider.token("demo-bf-aarhus", Some(SCOPE)).await;
    let departments = demo_departments();
    let own: BTreeSet<&String> = departments.iter().filter(|(_, (o, _))| o == "BF-751").map(|(d, _)| d).collect();
    let in_aarhus = departments.iter().filter(|(_, (_, m))| m == "751").count();
    assert!(!own.is_empty() && own.len() < in_aarhus, "the demo's Boligforeningen Aarhus owns some of Aarhus' departments");

    // the same question from the municipality, then from the organisation: each its own
    let comparisons = format!("/v1/me/comparisons?indicator={INDICATOR}&from=2015&to=2023&reference=area");
    for _ in 0..2 {
        let (_, m) = json(&app, &comparisons, Some(&municipality)).await;
        assert_eq!(m["items"].as_array().unwrap().len(), in_aarhus);
        let (_, o) = json(&app, &comparisons, Some(&organisation)).await;
        let listed: BTreeSet<&str> = o["items"].as_array().unwrap().iter().map(|i| i["department_id"].as_str().unwrap()).collect();
        assert_eq!(listed, own.iter().map(|d| d.as_str()).collect(), "the organisation got another grant's answer");
    }

    // the same bytes again, and in each coding
    // (the largest: its figures are shown)
    let observations = demo_observations(INDICATOR);
    let department = own
        .iter()
        .max_by(|a, b| observations[&((**a).clone(), 2020)].1.total_cmp(&observations[&((**b).clone(), 2020)].1))
        .unwrap()
        .as_str();
    let series = format!("/v1/me/departments/{department}/series?indicator={INDICATOR}");
    let fetch = |coding: &'static str| {
        let (app, token, series) = (&app, &organisation, &series);
        async move {
            let r = app
                .client
                .get(format!("{}{series}", app.address))
                .bearer_auth(token)
                .header("accept-encoding", coding)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let encoding = r.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_string());
            assert_eq!(r.headers()["cache-control"], "private, no-store");
            let body = r.bytes().await.unwrap().to_vec();
            match encoding.as_deref() {
                Some("gzip") => {
                    let mut out = Vec::new();
                    flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut out).unwrap();
                    out
                }
                Some("br") => {
                    let mut out = Vec::new();
                    brotli::Decompressor::new(&body[..], 4096).read_to_end(&mut out).unwrap();
                    out
                }
                None => body,
                Some(other) => panic!("coded as {other}"),
            }
        }
    };
    let first = fetch("identity").await;
    for coding in ["gzip", "br", "identity", "gzip", "br"] {
        assert_eq!(fetch(coding).await, first, "{coding}");
    }
    let answer: Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(answer["dataset_version"], 1);

    // a new version, with this department's figures changed: answered from it
    let dir = tempfile::tempdir().unwrap();
    boligsocial::demo::write_demo(dir.path()).unwrap();
    let path = dir.path().join("observations.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let changed: Vec<String> = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            if f.len() == 6 && f[0] == "department" && f[1] == department && f[2] == INDICATOR {
                let n: f64 = f[4].parse().unwrap();
                format!("{},{},{},{},{},{}", f[0], f[1], f[2], f[3], if n >= 5.0 { n - 5.0 } else { n + 5.0 }, f[5])
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&path, changed.join("\n") + "\n").unwrap();
    let out = crate::common::import(&db, dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut served = Value::Null;
    for _ in 0..100 {
        served = serde_json::from_slice(&fetch("gzip").await).unwrap();
        if served["dataset_version"] == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(served["dataset_version"], 2, "the new version is served");
    assert_ne!(served["series"]["department"], answer["series"]["department"], "answered from the new version's figures");
}
