//! openapi/openapi.json is what the code generates. After changing the API, run
//! `UPDATE_OPENAPI=1 cargo test --test it openapi::` and commit the file.

#[test]
fn the_committed_document_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let generated = boligsocial::api::openapi::openapi_json_text();
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(path, generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date; run `UPDATE_OPENAPI=1 cargo test --test it openapi::` and commit it"
    );
}

#[test]
fn the_document_describes_the_contract() {
    let doc: serde_json::Value = serde_json::from_str(boligsocial::api::openapi::openapi_json_text()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in ["/v1/areas", "/healthz", "/readyz", "/openapi.json"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} is documented");
    }
    let params: Vec<&str> =
        doc["paths"]["/v1/areas"]["get"]["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(params.contains(&"municipality") && params.contains(&"boundary"));
    assert!(doc["components"]["schemas"]["ProblemDetails"].is_object());
}

/// An integer's `format` bounds it too: a declared maximum beyond int32's or int64's range
/// contradicts the document, and clients (and schemathesis) take the format's.
#[test]
fn integer_bounds_fit_their_format() {
    fn walk(v: &serde_json::Value, at: &str, bad: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                let most = match m.get("format").and_then(|f| f.as_str()) {
                    Some("int32") => Some(i32::MAX as f64),
                    Some("int64") => Some(i64::MAX as f64),
                    _ => None,
                };
                if let (Some(most), Some(max)) = (most, m.get("maximum").and_then(|x| x.as_f64()))
                    && max > most
                {
                    bad.push(format!("{at}: maximum {max} beyond {}", m["format"]));
                }
                m.iter().for_each(|(k, x)| walk(x, &format!("{at}/{k}"), bad));
            }
            serde_json::Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| walk(x, &format!("{at}[{i}]"), bad)),
            _ => {}
        }
    }
    let doc: serde_json::Value = serde_json::from_str(boligsocial::api::openapi::openapi_json_text()).unwrap();
    let mut bad = Vec::new();
    walk(&doc, "", &mut bad);
    assert!(bad.is_empty(), "{bad:#?}");
    // and OGC API – Features 1.0.1: a limit above the maximum is no error, so none is declared
    let items = &doc["paths"]["/ogc/collections/{collection_id}/items"]["get"]["parameters"];
    let limit = items.as_array().unwrap().iter().find(|p| p["name"] == "limit").unwrap();
    assert!(limit["schema"].get("maximum").is_none() && limit["schema"].get("format").is_none(), "{limit}");
}

/// A generated client types an answer by its one media type: a response declaring two (JSON
/// and CSV under one 200) made openapi-python-client parse CSV as JSON and left TypeScript
/// with `Json | string`. CSV has operations of its own (`….csv`), which take no `format`.
#[test]
fn every_response_has_one_representation() {
    let doc: serde_json::Value = serde_json::from_str(boligsocial::api::openapi::openapi_json_text()).unwrap();
    let mut csv_operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                let types: Vec<&String> = response["content"].as_object().map(|c| c.keys().collect()).unwrap_or_default();
                let bodiless = status == "204" || status == "304";
                assert_eq!(types.len(), usize::from(!bodiless), "{method} {path} {status}: {types:?}");
            }
            // (format=csv on the JSON operation still answers CSV, undocumented: two
            // representations would be back)
            let names: Vec<&str> = op["parameters"].as_array().into_iter().flatten().map(|p| p["name"].as_str().unwrap()).collect();
            if doc["paths"].get(format!("{path}.csv")).is_some() {
                assert!(!names.contains(&"format"), "{path} documents no format: {names:?}");
            }
            if path.ends_with(".csv") {
                csv_operations += 1;
                assert_eq!(op["responses"]["200"]["content"].as_object().unwrap().keys().next().unwrap(), "text/csv", "{path}");
                let names: Vec<&str> = op["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
                assert!(!names.contains(&"format"), "{path} takes no format: {names:?}");
            }
        }
    }
    assert_eq!(csv_operations, 6);
}

/// What Redocly's recommended rules ask (CI runs `redocly lint` too): servers, a license with
/// its SPDX identifier, a summary and a declared security on every operation; and what users
/// need besides: a description of every operation and parameter, the bearer token
/// on the administration's and none on the rest.
#[test]
fn every_operation_says_what_it_needs() {
    let doc: serde_json::Value = serde_json::from_str(boligsocial::api::openapi::openapi_json_text()).unwrap();
    assert_eq!(doc["servers"][0]["url"], "/");
    assert_eq!(doc["info"]["license"]["identifier"], "MIT");
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{method} {path} has a summary");
            let description = op["description"].as_str().unwrap_or_default();
            assert!(description.len() > 40, "{method} {path} says what it is for in a description: {description:?}");
            for p in op["parameters"].as_array().into_iter().flatten() {
                assert!(p["description"].as_str().is_some_and(|d| !d.is_empty()), "{method} {path}: parameter {} is described", p["name"]);
            }
            // (`[]`, not `[{}]`: with the latter openapi-python-client types the operation as needing a token)
            let wanted = if path.starts_with("/v1/admin") {
                serde_json::json!([{"bearer": []}])
            } else if path.starts_with("/v1/me") {
                serde_json::json!([{"access_token": []}])
            } else {
                serde_json::json!([])
            };
            assert_eq!(op["security"], wanted, "{method} {path}");
        }
    }
}

/// Every bound the document states for a query parameter is the one the service enforces: at
/// each operation, the value on the bound is not refused as out of range (it may be for what it
/// means: a year without criteria), and the value just beyond it is, with a 400 naming it. (The types of `api::params` hold both; this proves no
/// operation declares a range of its own.)
#[tokio::test]
async fn documented_bounds_are_the_enforced_ones() {
    use crate::common::TestApp;
    let app = TestApp::demo().spawn().await;
    let doc: serde_json::Value = serde_json::from_str(boligsocial::api::openapi::openapi_json_text()).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(params) = item["get"]["parameters"].as_array() else { continue };
        // (signed in only: me.rs checks their bounds, which are the same types', with a token)
        if path.starts_with("/v1/me") {
            continue;
        }
        // path parameters by their examples
        let mut url = path.clone();
        for p in params.iter().filter(|p| p["in"] == "path") {
            let example = p["example"].as_str().map(str::to_string).or_else(|| p["example"].as_i64().map(|n| n.to_string()));
            url = url.replace(&format!("{{{}}}", p["name"].as_str().unwrap()), &example.unwrap_or_else(|| "0".into()));
        }
        for p in params.iter().filter(|p| p["in"] == "query") {
            let name = p["name"].as_str().unwrap();
            let integer = p["schema"]["type"] == "integer";
            let step = if integer { 1.0 } else { 0.5 };
            for (bound, beyond) in [(&p["schema"]["minimum"], -step), (&p["schema"]["maximum"], step)] {
                let Some(bound) = bound.as_f64() else { continue };
                let names = |r: &serde_json::Value| r["parameter"] == name;
                // (the types' words for a value out of their range: "must be a year from …")
                let out_of_range = |r: &serde_json::Value| names(r) && r["detail"].as_str().unwrap_or("").contains("must be a");
                let (status, body) = app.get_json(&format!("{url}?{name}={bound}")).await;
                assert!(!(status == 400 && out_of_range(&body)), "{path}: {name}={bound} is documented, and refused: {body}");
                let (status, body) = app.get_json(&format!("{url}?{name}={}", bound + beyond)).await;
                assert!(
                    status == 400 && out_of_range(&body),
                    "{path}: {name}={} is beyond the document's bound, and not refused: {body}",
                    bound + beyond
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 40, "only {checked} bounds checked");
}
