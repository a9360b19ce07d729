//! The OpenAPI document as clients use it: real answers validate against the schemas it
//! gives (members it does not name refused), and the clients that openapi-python-client and
//! openapi-typescript generate from it run programs over every /v1 operation.

use crate::common::*;
use serde_json::{Value, json};

/// The document's schemas made strict for the test: an object that names its members takes
/// no other (the document leaves objects open, as clients should read them). An `allOf` of
/// objects (a flattened struct) becomes the one object it describes first, so that its
/// members are all named in one place.
fn strict(schema: &mut Value) {
    let components = schema["components"]["schemas"].clone();
    let resolve = |s: &Value| -> Value {
        match s["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
            Some(name) => components[name].clone(),
            None => s.clone(),
        }
    };
    let mut stack = vec![&mut *schema];
    while let Some(s) = stack.pop() {
        if let Some(parts) = s.get("allOf").and_then(Value::as_array).cloned() {
            let parts: Vec<Value> = parts.iter().map(resolve).collect();
            if parts.iter().all(|p| p["type"] == "object") {
                let mut merged = json!({"type": "object", "properties": {}, "required": []});
                for p in &parts {
                    for (k, v) in p["properties"].as_object().into_iter().flatten() {
                        merged["properties"][k] = v.clone();
                    }
                    merged["required"].as_array_mut().unwrap().extend(p["required"].as_array().into_iter().flatten().cloned());
                }
                *s = merged;
            }
        }
        match s {
            Value::Object(o) => stack.extend(o.values_mut()),
            Value::Array(a) => stack.extend(a.iter_mut()),
            _ => {}
        }
    }
    let mut stack = vec![schema];
    while let Some(s) = stack.pop() {
        match s {
            Value::Object(o) => {
                if o.contains_key("properties") && !o.contains_key("additionalProperties") {
                    o.insert("additionalProperties".into(), Value::Bool(false));
                }
                stack.extend(o.values_mut());
            }
            Value::Array(a) => stack.extend(a.iter_mut()),
            _ => {}
        }
    }
}

/// The 200 answer's schema of an operation, as a schema that resolves the document's `$ref`s.
pub(crate) fn answer_schema(doc: &Value, path: &str) -> Value {
    let content = doc["paths"][path]["get"]["responses"]["200"]["content"].as_object().unwrap_or_else(|| panic!("{path}: no 200 content"));
    assert_eq!(content.len(), 1, "{path}: one representation");
    let (_, media) = content.iter().next().unwrap();
    strict_schema(doc, &media["schema"])
}

/// A schema of the document, strict, with the document's components for its `$ref`s.
fn strict_schema(doc: &Value, schema: &Value) -> Value {
    let mut schema = schema.clone();
    schema["components"] = doc["components"].clone();
    strict(&mut schema);
    schema
}

/// A request for every operation answering JSON, in each of its modes: (operation, URL).
pub(crate) async fn json_requests(app: &TestApp) -> Vec<(&'static str, String)> {
    let (_, areas) = app.get_json("/v1/areas").await;
    let area = areas["items"][0]["area_id"].as_str().unwrap().to_string();
    let municipality = areas["items"][0]["municipality_code"].as_str().unwrap().to_string();
    let (_, rules) = app.get_json("/v1/rules").await;
    let rule_set = rules["items"][0]["id"].as_str().unwrap().to_string();
    let year = rules["years"].as_array().unwrap().last().unwrap().as_u64().unwrap();
    let i = "indicator=outside_work_education";
    let c = format!("{i}&from=2015&to=2023");
    vec![
        ("/v1/indicators", "/v1/indicators".into()),
        ("/v1/indicators/{code}", "/v1/indicators/outside_work_education".into()),
        ("/v1/municipalities", "/v1/municipalities?with_areas=true".into()),
        ("/v1/municipalities/{code}", format!("/v1/municipalities/{municipality}")),
        ("/v1/areas", "/v1/areas".into()),
        ("/v1/areas/{area_id}", format!("/v1/areas/{area}")),
        ("/v1/areas/{area_id}/series", format!("/v1/areas/{area}/series?{i}")),
        ("/v1/areas/{area_id}/series.jsonstat", format!("/v1/areas/{area}/series.jsonstat?{i}")),
        ("/v1/areas/{area_id}/comparisons", format!("/v1/areas/{area}/comparisons?reference=country")),
        ("/v1/areas/{area_id}/plans", format!("/v1/areas/{area}/plans?{i}")),
        ("/v1/comparisons/coverage", format!("/v1/comparisons/coverage?{c}")),
        ("/v1/comparisons", format!("/v1/comparisons?{c}&covered_years=5")),
        ("/v1/areas/{area_id}/criteria", format!("/v1/areas/{area}/criteria")),
        ("/v1/comparisons", format!("/v1/comparisons?{c}&reference=municipality")),
        ("/v1/comparisons", format!("/v1/comparisons?{c}&reference=twins")),
        ("/v1/comparisons.jsonstat", format!("/v1/comparisons.jsonstat?{c}")),
        ("/v1/rules", "/v1/rules".into()),
        ("/v1/rules/{id}", format!("/v1/rules/{rule_set}")),
        ("/v1/criteria", format!("/v1/criteria?year={year}")),
        ("/v1/criteria.jsonstat", format!("/v1/criteria.jsonstat?year={year}")),
        ("/v1/datasets", "/v1/datasets".into()),
        ("/v1/map/areas", "/v1/map/areas".into()),
        ("/v1/map/areas", format!("/v1/map/areas?{i}&year=2023")),
        ("/v1/map/areas", format!("/v1/map/areas?{c}&reference=twins&geometry=false")),
        ("/v1/map/areas", format!("/v1/map/areas?criteria_year={year}")),
        ("/v1/map/municipalities", "/v1/map/municipalities".into()),
        ("/v1/map/municipalities", format!("/v1/map/municipalities?{i}&year=2023&level=social_housing_rest")),
        ("/ogc", "/ogc".into()),
        ("/ogc/conformance", "/ogc/conformance".into()),
        ("/ogc/collections", "/ogc/collections".into()),
        ("/ogc/collections/{collection_id}", "/ogc/collections/areas".into()),
        ("/ogc/collections/{collection_id}/queryables", "/ogc/collections/municipalities/queryables".into()),
        ("/ogc/collections/{collection_id}/items", "/ogc/collections/areas/items?limit=5&offset=5".into()),
        ("/ogc/collections/{collection_id}/items", "/ogc/collections/municipalities/items".into()),
        ("/ogc/collections/{collection_id}/items/{feature_id}", format!("/ogc/collections/areas/items/{area}")),
        ("/ogc/collections/{collection_id}/items/{feature_id}", format!("/ogc/collections/municipalities/items/{municipality}")),
        ("/tiles/areas.json", "/tiles/areas.json".into()),
        ("/healthz", "/healthz".into()),
        ("/readyz", "/readyz".into()),
    ]
}

/// Every JSON answer, in each of its modes, is what the document's schema for it says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_what_the_document_says() {
    let doc: Value = serde_json::from_str(boligsocial::api::openapi::openapi_json_text()).unwrap();
    let app = TestApp::demo().spawn().await;
    let asked = json_requests(&app).await;
    let mut checked = std::collections::BTreeSet::new();
    for (operation, url) in &asked {
        let schema = answer_schema(&doc, operation);
        let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{operation}: the schema compiles: {e}"));
        let (status, answer) = app.get_json(url).await;
        assert_eq!(status, 200, "{url}: {answer}");
        let errors: Vec<String> = validator.iter_errors(&answer).take(5).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{url} is not what the document says:\n{}", errors.join("\n"));
        checked.insert(*operation);
    }
    // every operation answering JSON is among them
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(content) = item["get"]["responses"]["200"]["content"].as_object() else { continue };
        // (signed-in and administration answers need a token: me.rs asks for them)
        let needs_token = path.starts_with("/v1/me") || path.starts_with("/v1/admin");
        if content.keys().any(|t| t.ends_with("json")) && path != "/openapi.json" && !needs_token {
            assert!(checked.contains(path.as_str()), "{path} answers JSON and is not checked here");
            for media in content.values() {
                let schema = &media["schema"];
                assert!(schema["$ref"].is_string() || schema["properties"].is_object(), "{path}: a typed answer, not {schema}");
            }
        }
    }
    // and the check can fail: a member the schema does not name, a wrong type
    let schema = answer_schema(&doc, "/v1/map/areas");
    let validator = jsonschema::validator_for(&schema).unwrap();
    let (_, mut layer) = app.get_json("/v1/map/areas?geometry=false").await;
    assert!(validator.is_valid(&layer));
    layer["features"][0]["geometry"] = json!({"type": "Point", "coordinates": [12.0, 55.0]});
    assert!(!validator.is_valid(&layer), "a Point is no outline");
    layer["features"][0]["geometry"] = Value::Null;
    layer["surprise"] = json!(1);
    assert!(!validator.is_valid(&layer), "a member not named");
}

const TOKEN: &str = "generated-clients-token-0123456789";

/// The service for a client program: the demo, the administration on, and an extract to
/// import (the demo's under another title: a new version).
/// The demo for a generated client's program, with signed-in access against the test
/// provider and an access token of a demo organisation; `None` without the provider.
async fn app_for_a_program() -> Option<(TestDb, TestApp, tempfile::TempDir, crate::auth::Provider, String)> {
    let provider = crate::auth::Provider::start().await?;
    let access = provider.token("demo-almenbo", Some("boligsocial:departments")).await;
    let issuer = provider.issuer.clone();
    let db = TestDb::sqlite();
    let app = TestApp::on(&db)
        .with(move |s| {
            s.dataset.load_demo = true;
            s.admin.token = Some(TOKEN.into());
            s.auth.issuer = Some(issuer);
        })
        .spawn()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let extract = dir.path().join("extract");
    std::fs::create_dir(&extract).unwrap();
    for e in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src/demo/extract")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, extract.join(p.file_name().unwrap())).unwrap();
    }
    let manifest = extract.join("manifest.json");
    let mut m: Value = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    m["title"] = json!("The demo, imported by a generated client");
    std::fs::write(&manifest, m.to_string()).unwrap();
    std::fs::write(dir.path().join("extract.zip"), zip_dir(&extract, None)).unwrap();
    Some((db, app, dir, provider, access))
}

/// After a program ran: every /v1 operation of the document was answered 2xx at least once
/// (the service's own request counter says so, by route), and problem details were answered.
async fn every_v1_operation_was_used(app: &TestApp, program: &str) {
    let doc: Value = serde_json::from_str(boligsocial::api::openapi::openapi_json_text()).unwrap();
    let metrics = app.get_text("/metrics").await;
    let answered = |method: &str, route: &str, class: char| {
        metrics.lines().filter(|l| l.starts_with("boligsocial_http_requests_total{")).any(|l| {
            l.contains(&format!("method=\"{method}\""))
                && l.contains(&format!("route=\"{route}\""))
                && l.contains(&format!("status=\"{class}"))
                && l.rsplit(' ').next().and_then(|n| n.parse::<u64>().ok()).is_some_and(|n| n > 0)
        })
    };
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/") {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            let method = method.to_uppercase();
            assert!(answered(&method, path, '2'), "{program}: {method} {path} was not used");
            operations += 1;
        }
    }
    assert!(operations >= 29, "{operations} operations");
    for (method, route) in [("GET", "/v1/comparisons"), ("GET", "/v1/areas/{area_id}"), ("POST", "/v1/admin/imports")] {
        assert!(answered(method, route, '4'), "{program}: no problem details from {method} {route}");
    }
}

fn run(command: &mut std::process::Command, what: &str) -> String {
    let out = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(out.status.success(), "{what} failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// openapi-python-client (PyPI) generates a client from the committed document, and a program
/// with it uses every /v1 operation: typed answers, CSV as text, the downloads as bytes,
/// problem details as the typed error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_python_client_uses_every_operation() {
    if !std::process::Command::new("openapi-python-client").arg("--version").output().is_ok_and(|o| o.status.success()) {
        return absent("BOLIGSOCIAL_TEST_REQUIRE_CLIENTS", "openapi-python-client is not installed (PyPI openapi-python-client)");
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let Some((_db, app, dir, _provider, access)) = app_for_a_program().await else { return };
    let generated = dir.path().join("client");
    run(
        std::process::Command::new("openapi-python-client").args(["generate", "--meta", "none", "--fail-on-warning"]).args([
            "--path",
            &format!("{root}/openapi/openapi.json"),
            "--config",
            &format!("{root}/tests/clients/openapi-python-client.yml"),
            "--output-path",
            generated.join("boligsocial_client").to_str().unwrap(),
        ]),
        "openapi-python-client generate",
    );
    let out = run(
        std::process::Command::new("python3").arg(format!("{root}/tests/clients/python_program.py")).args([
            generated.to_str().unwrap(),
            &app.address,
            TOKEN,
            dir.path().join("extract.zip").to_str().unwrap(),
            &access,
        ]),
        "the Python program",
    );
    assert!(out.contains("\"answers\""), "{out}");
    every_v1_operation_was_used(&app, "the Python program").await;
}

/// openapi-typescript (npm) generates the types from the committed document, `tsc --strict`
/// compiles a program with them and openapi-fetch, and it uses every /v1 operation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_typescript_client_uses_every_operation() {
    let root = env!("CARGO_MANIFEST_DIR");
    let project = format!("{root}/tests/clients/typescript");
    let bin = |name: &str| format!("{project}/node_modules/.bin/{name}");
    if !std::path::Path::new(&bin("tsc")).exists() || !std::path::Path::new(&bin("openapi-typescript")).exists() {
        return absent("BOLIGSOCIAL_TEST_REQUIRE_CLIENTS", "tests/clients/typescript has no node_modules (npm ci there)");
    }
    let Some((_db, app, dir, _provider, access)) = app_for_a_program().await else { return };
    let work = dir.path().join("typescript");
    std::fs::create_dir(&work).unwrap();
    for file in ["program.ts", "tsconfig.json", "package.json"] {
        std::fs::copy(format!("{project}/{file}"), work.join(file)).unwrap();
    }
    std::os::unix::fs::symlink(format!("{project}/node_modules"), work.join("node_modules")).unwrap();
    run(
        std::process::Command::new(bin("openapi-typescript"))
            .arg(format!("{root}/openapi/openapi.json"))
            .args(["-o", "schema.d.ts"])
            .current_dir(&work),
        "openapi-typescript",
    );
    // tsconfig.json has "strict": true; said here again so that the check cannot drift
    run(std::process::Command::new(bin("tsc")).args(["-p", "tsconfig.json", "--strict"]).current_dir(&work), "tsc --strict");
    let out = run(
        std::process::Command::new("node")
            .args(["out/program.js", &app.address, TOKEN, dir.path().join("extract.zip").to_str().unwrap(), &access])
            .current_dir(&work),
        "the TypeScript program",
    );
    assert!(out.contains("\"answers\""), "{out}");
    every_v1_operation_was_used(&app, "the TypeScript program").await;
}

/// An answer cut down to an example: lists to two items, an outline's rings to a triangle,
/// numbers to six decimals; a JSON-stat dataset whole (its values must fill its dimensions).
pub(crate) fn shortened(v: &Value) -> Value {
    match v {
        Value::Object(o) if o.get("class").is_some_and(|c| c == "dataset") => rounded(v),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), shortened(v))).collect()),
        Value::Array(a)
            if a.len() > 3 && a.iter().all(|p| p.as_array().is_some_and(|p| p.len() == 2 && p.iter().all(Value::is_number))) =>
        {
            Value::Array(vec![a[0].clone(), a[1].clone(), a[2].clone(), a[0].clone()])
        }
        Value::Array(a) => Value::Array(a.iter().take(2).map(shortened).collect()),
        // (to six decimals: a number of fewer than 16 digits parses to the same double with
        // or without serde_json's float_roundtrip, which a test dependency turns on for tests)
        other => rounded(other),
    }
}

/// Numbers to six decimals, throughout.
fn rounded(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), rounded(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(rounded).collect()),
        Value::Number(n) if n.is_f64() => json!((n.as_f64().unwrap() * 1e6).round() / 1e6),
        other => other.clone(),
    }
}

/// Every answer with a body has an example in the document (a download of bytes excepted),
/// and each is what the answer's schema says. `UPDATE_OPENAPI=1` remakes openapi/examples.json
/// from the demo's answers (then `UPDATE_OPENAPI=1 cargo test --test it openapi::` puts them in the
/// document).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_has_an_example_of_its_schema() {
    let root = env!("CARGO_MANIFEST_DIR");
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        let Some((_db, app, dir, _provider, _)) = app_for_a_program().await else {
            panic!("remaking the examples needs the test provider (npm ci in tests/oidc)")
        };
        let mut examples = serde_json::Map::new();
        for (operation, url) in json_requests(&app).await {
            let key = format!("GET {operation} 200");
            if !examples.contains_key(&key) {
                examples.insert(key, shortened(&app.get_json(&url).await.1));
            }
        }
        let zip = std::fs::read(dir.path().join("extract.zip")).unwrap();
        let post = |path: &str, body: Vec<u8>| {
            app.client.post(format!("{}{path}", app.address)).bearer_auth(TOKEN).header("Content-Type", "application/zip").body(body).send()
        };
        for status in ["201", "200"] {
            let answer: Value = post("/v1/admin/imports", zip.clone()).await.unwrap().json().await.unwrap();
            examples.insert(format!("POST /v1/admin/imports {status}"), answer);
        }
        let answer: Value = post("/v1/admin/datasets/1/activate", Vec::new()).await.unwrap().json().await.unwrap();
        examples.insert("POST /v1/admin/datasets/{version}/activate 200".into(), answer);
        let chart = app.get_text("/v1/comparisons/chart.svg?indicator=outside_work_education&from=2015&to=2023&lang=en").await;
        examples.insert("GET /v1/comparisons/chart.svg 200".into(), json!(chart));
        let metrics = app.get_text("/metrics").await;
        let lines: Vec<&str> = metrics.lines().filter(|l| l.contains("dataset_version") || l.contains("cache_lookups_total")).collect();
        examples.insert("GET /metrics 200".into(), json!(lines.join("\n") + "\n"));
        // (links name the address asked: a public one in the document)
        let text = serde_json::to_string_pretty(&examples).unwrap().replace(&app.address, "https://boligsocial.example.org");
        std::fs::write(format!("{root}/openapi/examples.json"), text + "\n").unwrap();
    }
    let doc: Value = serde_json::from_str(boligsocial::api::openapi::openapi_json_text()).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                for (media_type, content) in response["content"].as_object().into_iter().flatten() {
                    let what = format!("{method} {path} {status} {media_type}");
                    // (the examples are answers of the demo without a token; the signed-in and
                    // administration ones are described by their schemas alone)
                    let needs_token = path.starts_with("/v1/me") || path.starts_with("/v1/admin");
                    if content["schema"]["format"] == "binary" || path == "/openapi.json" || (needs_token && status == "200") {
                        continue;
                    }
                    let example = content.get("example").unwrap_or_else(|| panic!("{what} has no example"));
                    let schema = strict_schema(&doc, &content["schema"]);
                    let validator = jsonschema::validator_for(&schema).unwrap();
                    let errors: Vec<String> =
                        validator.iter_errors(example).take(5).map(|e| format!("{e} at {}", e.instance_path())).collect();
                    assert!(errors.is_empty(), "{what}: the example is not of its schema:\n{}", errors.join("\n"));
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "{checked} examples");
}
