//! openapi/openapi.json is what the code generates. After changing the API, run
//! `UPDATE_OPENAPI=1 cargo test --test openapi` and commit the file.

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
        "openapi/openapi.json is out of date; run `UPDATE_OPENAPI=1 cargo test --test openapi` and commit it"
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
