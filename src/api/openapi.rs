//! The OpenAPI document, generated from the handlers' annotations.

use std::sync::OnceLock;

use actix_web::{HttpResponse, get};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Boligsocial API",
        description = "Areas with a boligsocial helhedsplan (social-housing comprehensive plan) in Denmark, \
their indicators, and how each area develops against its municipality, the social-housing sector in that \
municipality and Denmark. Figures about few people are suppressed (disclosure control), and so is a figure \
whose difference with the published figures inside it (an earlier delimitation's areas, or a municipality's areas \
inside its social-housing sector) would reveal such a figure (secondary suppression). Errors are RFC 9457 \
problem details.",
        license(name = "MIT", identifier = "MIT"),
    ),
    tags(
        (name = "comparisons", description = "How each area developed against its municipality, the social-housing sector there, or Denmark"),
        (name = "areas", description = "Helhedsplansområder, their delimitations and time series"),
        (name = "map", description = "GeoJSON layers for maps, with class breaks for choropleths"),
        (name = "ogc", description = "OGC API – Features, Part 1: Core"),
        (name = "indicators", description = "The indicator catalogue"),
        (name = "municipalities", description = "Municipalities and their areas"),
        (name = "datasets", description = "Stored dataset versions"),
        (name = "me", description = "A signed-in housing organisation's or municipality's own departments (access.md): an access token of the operator's OpenID Provider with the scope boligsocial:departments; private answers, every request audited"),
        (name = "admin", description = "Importing and activating dataset versions, reading the audit log; needs the bearer token admin.token"),
        (name = "health", description = "Liveness, readiness and this document"),
    ),
    components(schemas(
        crate::api::csv::Format,
        crate::domain::classes::Method,
        crate::domain::model::Reference,
        crate::http::negotiate::Lang
    )),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

/// The administration endpoints' bearer token, and the signed-in callers' access tokens.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        let mut access = Http::new(HttpAuthScheme::Bearer);
        access.bearer_format = Some("JWT".into());
        access.description = Some(
            "An OAuth 2.0 access token (RFC 9068 JWT) of the operator's OpenID Provider, with the scope boligsocial:departments \
             and the caller's CVR number (auth.* settings)"
                .into(),
        );
        components.add_security_scheme("access_token", SecurityScheme::Http(access));
    }
}

/// The document as the running service would describe itself.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut api) = actix_web::App::new().into_utoipa_app().openapi(ApiDoc::openapi()).configure(super::configure).split_for_parts();
    without_format(&mut api);
    with_caching_headers(&mut api);
    public_unless_said(&mut api);
    binary_bodies(&mut api);
    with_examples(&mut api);
    parameters_described(&mut api);
    // (relative: the document is served by the instance it describes, at whatever address)
    api.servers = Some(vec![utoipa::openapi::Server::new("/")]);
    api
}

/// What the response cache adds to every answer from a dataset version (the read operations
/// of /v1, /ogc and /tiles): its headers on the 200 (and Content-Disposition on the downloads),
/// the 304 of a revalidation, and Retry-After on a 503.
fn with_caching_headers(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::header::Header;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::{RefOr, Response};
    let header = |kind: Type, description: &str| {
        let mut h = Header::new(ObjectBuilder::new().schema_type(kind).build());
        h.description = Some(description.to_string());
        RefOr::T(h)
    };
    for (path, item) in api.paths.paths.iter_mut() {
        if path.starts_with("/v1/me") {
            if let Some(RefOr::T(ok)) = item.get.as_mut().and_then(|g| g.responses.responses.get_mut("200")) {
                ok.headers.insert("Cache-Control".into(), header(Type::String, "private, no-store: for this caller alone"));
                ok.headers.insert("x-dataset-version".into(), header(Type::Integer, "The dataset version the answer comes from"));
            }
            continue;
        }
        let read = (path.starts_with("/v1/") && !path.starts_with("/v1/admin") && !path.starts_with("/v1/datasets"))
            || path.starts_with("/ogc")
            || path.starts_with("/tiles/");
        let Some(get) = item.get.as_mut().filter(|_| read) else { continue };
        let etag =
            header(Type::String, "Names this representation (dataset version, request, coding); sent back in If-None-Match, a 304 answers");
        if let Some(RefOr::T(ok)) = get.responses.responses.get_mut("200") {
            ok.headers.insert("ETag".into(), etag.clone());
            ok.headers.insert("x-dataset-version".into(), header(Type::Integer, "The dataset version the answer comes from"));
            ok.headers.insert("Cache-Control".into(), header(Type::String, "public, max-age=… (http.max_age_seconds)"));
            if crate::http::formats::ALL.iter().any(|f| f.download && f.suffix.is_some_and(|s| path.ends_with(s))) {
                ok.headers.insert(
                    "Content-Disposition".into(),
                    header(Type::String, "attachment; filename=\"…\": a download, named for what it holds"),
                );
            }
        }
        if let Some(RefOr::T(busy)) = get.responses.responses.get_mut("503") {
            busy.headers.insert("Retry-After".into(), header(Type::Integer, "Seconds to wait before asking again"));
        }
        let mut not_modified = Response::new("Not modified: the representation named in If-None-Match is still the current one");
        not_modified.headers.insert("ETag".into(), etag);
        get.responses.responses.insert("304".into(), RefOr::T(not_modified));
    }
}

/// A download that is bytes (a zip, a workbook, a vector tile) is a binary string to the
/// generators (openapi-python-client reads it as bytes, openapi-typescript as a string or a
/// Blob), not the array of integers a `Vec<u8>` body would say.
fn binary_bodies(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaFormat, Type};
    for item in api.paths.paths.values_mut() {
        for op in [&mut item.get, &mut item.post].into_iter().flatten() {
            for response in op.responses.responses.values_mut() {
                let utoipa::openapi::RefOr::T(response) = response else { continue };
                for (media_type, content) in response.content.iter_mut() {
                    if let utoipa::openapi::RefOr::T(content) = content
                        && crate::http::formats::of_media_type(media_type).is_some_and(|f| f.binary)
                    {
                        let schema = ObjectBuilder::new()
                            .schema_type(Type::String)
                            .format(Some(SchemaFormat::Custom("binary".into())))
                            .content_media_type(media_type.clone());
                        content.schema = Some(schema.into());
                    }
                }
            }
        }
    }
}

/// Real answers as examples, so that a reader (and a mock server) sees what comes back: the
/// JSON answers of the demo (openapi/examples.json, its lists cut to two items, made by
/// `UPDATE_OPENAPI=1 cargo test --test it clients::`, which also validates every example against
/// its schema), and every problem as the service words it for that status.
#[expect(clippy::expect_used, reason = "the committed examples are JSON, as a test checks; the document is made at startup")]
fn with_examples(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    let answers: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(include_str!("../../openapi/examples.json")).expect("openapi/examples.json is JSON");
    for (path, item) in api.paths.paths.iter_mut() {
        for (method, op) in [("GET", &mut item.get), ("POST", &mut item.post)] {
            let Some(op) = op else { continue };
            for (status, response) in op.responses.responses.iter_mut() {
                let RefOr::T(response) = response else { continue };
                for (media_type, content) in response.content.iter_mut() {
                    let RefOr::T(content) = content else { continue };
                    if content.example.is_some() || !content.examples.is_empty() {
                        continue;
                    }
                    content.example = if media_type == "application/problem+json" {
                        problem_example(path, status).and_then(|p| serde_json::to_value(p).ok())
                    } else {
                        answers.get(&format!("{method} {path} {status}")).cloned()
                    };
                }
            }
        }
    }
}

/// The problem the service answers with `status`, worded for the operation at `path`.
fn problem_example(path: &str, status: &str) -> Option<crate::error::ProblemDetails> {
    use crate::error::ApiError;
    let error = match status {
        "400" if path.starts_with("/ogc") => {
            ApiError::invalid("limit", "limit \"0\" must be a whole number ≥ 1 (pages hold at most 10000)")
        }
        "400" if path.starts_with("/v1/admin/") => {
            ApiError::invalid("force", "unknown parameter `force`; this operation takes no parameters")
        }
        "400" if path.contains("criteria") => ApiError::invalid("rules", "unknown rule set \"x\"; see /v1/rules"),
        "400" => ApiError::invalid("indicator", "unknown indicator \"x\"; see /v1/indicators"),
        "404" if path.contains("{code}") && path.contains("indicators") => {
            ApiError::NotFound("no indicator \"x\"; see /v1/indicators".into())
        }
        "401" if path.starts_with("/v1/me") => ApiError::InvalidToken,
        "401" => ApiError::Unauthorized,
        "403" => ApiError::InsufficientScope("boligsocial:departments".into()),
        "404" if path.contains("{department_id}") || path.starts_with("/v1/me/selection") => {
            ApiError::NotFound("no such department among yours; see /v1/me/departments".into())
        }
        "404" if path.starts_with("/v1/me") => ApiError::NotFound("signed-in access is off: the setting auth.issuer is not set".into()),
        "404" if path.contains("{area_id}") => ApiError::NotFound("no area \"751-99\"; see /v1/areas".into()),
        "404" if path.contains("{version}") => ApiError::NotFound("no dataset version 99; see /v1/datasets".into()),
        "404" if path.contains("{feature_id}") => ApiError::NotFound("no feature \"x\" in the collection \"areas\"".into()),
        "404" if path.contains("{collection_id}") => {
            ApiError::NotFound("no collection \"x\"; the collections are \"areas\" and \"municipalities\"".into())
        }
        "404" if path.contains("municipalities/{code}") => {
            ApiError::NotFound("no municipality \"999\" in the dataset; see /v1/municipalities".into())
        }
        "404" if path.contains("rules/{id}") => ApiError::NotFound("no rule set \"x\"; see /v1/rules".into()),
        "404" if path.contains("tiles") => ApiError::NotFound("no tile 3/9/9: z from 0 to 18, x and y below 2^z".into()),
        "404" => ApiError::NotFound("no such resource".into()),
        "408" => ApiError::RequestTimeout("the upload took longer than 60 s".into()),
        "413" => ApiError::PayloadTooLarge("the extract is larger than 268435456 bytes".into()),
        "415" => ApiError::UnsupportedMediaType("send the extract as application/zip".into()),
        "422" => ApiError::Rejected(crate::ingest::Rejection {
            problems: vec![crate::ingest::Problem {
                file: "observations.csv".into(),
                line: Some(12),
                column: Some(5),
                message: "numerator \"12,5\" is not a number (use a decimal point)".into(),
            }],
            total: 1,
        }),
        "429" => ApiError::TooManyRequests { retry_after_seconds: 12 },
        "503" => ApiError::Unavailable("no dataset is loaded yet; try again shortly".into()),
        _ => return None,
    };
    Some(error.problem())
}

/// A parameter whose schema is built by hand (`schema_with`, which takes no doc comment) says
/// what it is in its schema: the parameter says it too, where readers and generators look.
fn parameters_described(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{RefOr, Schema};
    for item in api.paths.paths.values_mut() {
        for op in [&mut item.get, &mut item.post].into_iter().flatten() {
            for p in op.parameters.iter_mut().flatten() {
                let RefOr::T(p) = p else { continue };
                if p.description.is_none()
                    && let Some(RefOr::T(Schema::Object(schema))) = &p.schema
                {
                    p.description = schema.description.clone();
                }
            }
        }
    }
}

/// Every operation says what it needs: the administration's the bearer token (annotated),
/// every other one nothing (`security: []`, as Redocly recommends for a public operation;
/// `[{}]` would say the same, but openapi-python-client then asks for a token).
fn public_unless_said(api: &mut utoipa::openapi::OpenApi) {
    for item in api.paths.paths.values_mut() {
        for op in [&mut item.get, &mut item.post, &mut item.put, &mut item.delete, &mut item.patch].into_iter().flatten() {
            op.security.get_or_insert_with(Vec::new);
        }
    }
}

/// `format` is left out of the document: a `.csv`, `.jsonstat`, `.xlsx` or `.svg` operation
/// shares its query with the JSON one and takes none (the path says it), and on the JSON one
/// `format=csv` still answers the CSV for links made before the `.csv` operations, but
/// documented there it would give one operation two representations, which generated clients
/// cannot type.
fn without_format(api: &mut utoipa::openapi::OpenApi) {
    let with_csv: Vec<String> = api.paths.paths.keys().filter_map(|p| p.strip_suffix(".csv")).map(str::to_string).collect();
    for (path, item) in api.paths.paths.iter_mut() {
        let suffixed = crate::http::formats::ALL.iter().filter_map(|f| f.suffix).any(|s| path.ends_with(s));
        let sibling = suffixed || with_csv.contains(path);
        if let (true, Some(get)) = (sibling, item.get.as_mut())
            && let Some(parameters) = get.parameters.as_mut()
        {
            parameters.retain(|p| !matches!(p, utoipa::openapi::RefOr::T(p) if p.name == "format"));
        }
    }
    // (the schema of `format`, which no operation documents now)
    if let Some(components) = api.components.as_mut() {
        components.schemas.remove("Format");
    }
}

/// The document as pretty JSON, the form committed as openapi/openapi.json.
#[expect(clippy::expect_used, reason = "a document of strings and maps serialises; it is made at startup")]
pub fn openapi_json_text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let mut text = openapi().to_pretty_json().expect("the OpenAPI document serialises");
        text.push('\n');
        text
    })
}

/// This document.
///
/// The OpenAPI 3.1 description of the service, the same as `boligsocial openapi` prints and openapi/openapi.json in
/// the repository.
#[utoipa::path(tag = "health", responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
#[get("/openapi.json")]
pub async fn openapi_json() -> HttpResponse {
    static ETAG: OnceLock<String> = OnceLock::new();
    let etag = ETAG.get_or_init(|| {
        use sha2::Digest;
        format!("\"{}\"", &hex::encode(sha2::Sha256::digest(openapi_json_text()))[..16])
    });
    // (a conditional request is answered by the encoding layer, on the tag of the coding sent)
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((actix_web::http::header::ETAG, etag.as_str()))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-cache"))
        .body(openapi_json_text())
}
