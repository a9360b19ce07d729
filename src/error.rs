//! One error type for the HTTP layer, answered as RFC 9457 problem details.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::ingest::Problem as ExtractProblem;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// RFC 9457 problem details.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "/problems/invalid-parameter",
    "title": "Invalid parameter",
    "status": 400,
    "detail": "unknown indicator \"foo\"; see /v1/indicators",
    "parameter": "indicator"
}))]
pub struct ProblemDetails {
    /// A URI reference naming the kind of problem.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The query or path parameter at fault, for 400s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// The problems found in a rejected extract, for 422s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problems: Option<Vec<ExtractProblem>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    InvalidParameter { parameter: String, detail: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Unavailable(String),
    /// Busy (too much work queued, or the database behind a lock); try again after a while.
    #[error("{detail}")]
    Busy { detail: String, retry_after_seconds: u64 },
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// No access token, or one that is not valid (a `/v1/me` route): 401 with RFC 6750's
    /// `invalid_token`. Why is logged, never told.
    #[error("a valid bearer access token is required")]
    InvalidToken,
    /// A valid access token without the scope: 403 `insufficient_scope`.
    #[error("the access token lacks the scope {0}")]
    InsufficientScope(String),
    /// A caller the service knows, refused what it asked.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The client took too long to send its request.
    #[error("{0}")]
    RequestTimeout(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// No representation the request accepts (`Accept`, `Accept-Language` with `q=0`).
    #[error("{0}")]
    NotAcceptable(String),
    /// A condition of the request (`If-Match`) does not hold for the current representation.
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("too many requests")]
    TooManyRequests { retry_after_seconds: u64 },
    #[error("the extract was rejected")]
    Rejected(crate::ingest::Rejection),
    /// Something went wrong inside; the detail is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(parameter: &str, detail: impl Into<String>) -> Self {
        ApiError::InvalidParameter { parameter: parameter.to_string(), detail: detail.into() }
    }

    pub fn problem(&self) -> ProblemDetails {
        let (problem_type, title, detail, parameter) = match self {
            ApiError::InvalidParameter { parameter, detail } => {
                ("/problems/invalid-parameter", "Invalid parameter", detail.clone(), Some(parameter.clone()))
            }
            ApiError::NotFound(detail) => ("/problems/not-found", "Not Found", detail.clone(), None),
            ApiError::Unavailable(detail) => ("/problems/unavailable", "Service unavailable", detail.clone(), None),
            ApiError::Busy { detail, retry_after_seconds } => {
                ("/problems/unavailable", "Service unavailable", format!("{detail}; retry after {retry_after_seconds} s"), None)
            }
            ApiError::Unauthorized => {
                ("/problems/unauthorized", "Unauthorized", "send Authorization: Bearer <admin.token>".to_string(), None)
            }
            ApiError::InvalidToken => (
                "/problems/invalid-token",
                "Unauthorized",
                "send Authorization: Bearer <an access token of the configured issuer>".to_string(),
                None,
            ),
            ApiError::InsufficientScope(scope) => {
                ("/problems/insufficient-scope", "Forbidden", format!("the access token does not grant the scope {scope}"), None)
            }
            ApiError::Forbidden(detail) => ("/problems/forbidden", "Forbidden", detail.clone(), None),
            ApiError::PayloadTooLarge(detail) => ("/problems/payload-too-large", "Payload Too Large", detail.clone(), None),
            ApiError::RequestTimeout(detail) => ("/problems/request-timeout", "Request Timeout", detail.clone(), None),
            ApiError::UnsupportedMediaType(detail) => ("/problems/unsupported-media-type", "Unsupported Media Type", detail.clone(), None),
            ApiError::NotAcceptable(detail) => ("/problems/not-acceptable", "Not Acceptable", detail.clone(), None),
            ApiError::PreconditionFailed(detail) => ("/problems/precondition-failed", "Precondition Failed", detail.clone(), None),
            ApiError::TooManyRequests { retry_after_seconds } => (
                "/problems/too-many-requests",
                "Too Many Requests",
                format!("too many requests from this client; retry after {retry_after_seconds} s"),
                None,
            ),
            ApiError::Rejected(r) => (
                "/problems/extract-rejected",
                "Extract rejected",
                format!("the extract has {} problem(s); nothing was changed", r.total),
                None,
            ),
            ApiError::Internal(_) => {
                ("/problems/internal", "Internal error", "the service could not answer this request".to_string(), None)
            }
        };
        ProblemDetails {
            problem_type: problem_type.into(),
            title: title.into(),
            status: self.status_code().as_u16(),
            detail,
            parameter,
            problems: match self {
                ApiError::Rejected(r) => Some(r.problems.clone()),
                _ => None,
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::InvalidParameter { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unavailable(_) | ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Unauthorized | ApiError::InvalidToken => StatusCode::UNAUTHORIZED,
            ApiError::InsufficientScope(_) | ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Rejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        if let ApiError::Internal(detail) = self {
            tracing::error!(error = %detail, "internal error");
        }
        let mut r = problem_response(&self.problem());
        match self {
            ApiError::Unauthorized => {
                r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"boligsocial-admin\""));
            }
            ApiError::InvalidToken => {
                r.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"boligsocial\", error=\"invalid_token\""));
            }
            ApiError::InsufficientScope(scope) => {
                // (the scope is the operator's setting, not the client's text)
                let value =
                    format!("Bearer realm=\"boligsocial\", error=\"insufficient_scope\", scope=\"{}\"", scope.replace(['"', '\\'], ""));
                if let Ok(v) = HeaderValue::from_str(&value) {
                    r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
            }
            ApiError::TooManyRequests { retry_after_seconds } | ApiError::Busy { retry_after_seconds, .. } => {
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
            }
            _ => {}
        }
        r
    }
}

pub fn problem_response(problem: &ProblemDetails) -> HttpResponse<BoxBody> {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status).content_type(PROBLEM_JSON).body(serde_json::to_string(problem).unwrap_or_default())
}

/// A problem for a status with no more specific story: the reason phrase, and for client
/// errors the error's own text (actix's extractor messages are safe to show).
fn generic_problem(status: StatusCode, detail: Option<String>) -> ProblemDetails {
    let title = status.canonical_reason().unwrap_or("Error").to_string();
    let detail = match (status.is_client_error(), detail) {
        (true, Some(d)) if !d.is_empty() => d,
        (true, _) if status == StatusCode::NOT_FOUND => "no such resource; see /openapi.json".to_string(),
        _ if status.is_server_error() => "the service could not answer this request".to_string(),
        _ => title.clone(),
    };
    let slug = title.to_ascii_lowercase().replace(' ', "-");
    ProblemDetails { problem_type: format!("/problems/{slug}"), title, status: status.as_u16(), detail, parameter: None, problems: None }
}

/// Turns every error response that is not already problem details (actix's own 404s, 405s,
/// 413s, extractor errors) into problem details, and hides the text of server errors.
pub fn to_problem_details<B: MessageBody + 'static>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let detail = res.response().error().map(|e| e.to_string());
    if status.is_server_error() {
        tracing::error!(status = status.as_u16(), error = ?detail, "server error");
    }
    let problem = generic_problem(status, detail);
    let (req, mut old) = res.into_parts();
    let mut new = problem_response(&problem);
    // keep headers the protocol needs (Allow on 405, WWW-Authenticate on 401…)
    for name in [header::ALLOW, header::WWW_AUTHENTICATE, header::RETRY_AFTER] {
        if let Some(v) = old.headers_mut().remove(&name).next() {
            new.headers_mut().insert(name.clone(), v);
        }
    }
    new.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, new).map_into_right_body()))
}

/// The answer to a request the connection guard refused (`http::guard`): problem details
/// with the status it chose (400, 414 or 431); the connection closes after it.
pub async fn refused(query: actix_web::web::Query<std::collections::HashMap<String, String>>) -> HttpResponse<BoxBody> {
    let status = match query.get("status").map(String::as_str) {
        Some("414") => StatusCode::URI_TOO_LONG,
        Some("431") => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    };
    let detail = query.get("reason").cloned().unwrap_or_else(|| "the request could not be read".into());
    let mut r = problem_response(&generic_problem(status, Some(detail)));
    r.head_mut().set_connection_type(actix_web::http::ConnectionType::Close);
    r
}

/// Unknown paths: 404; a known path with another method: 405 with `Allow`.
pub async fn not_found() -> HttpResponse<BoxBody> {
    problem_response(&generic_problem(StatusCode::NOT_FOUND, None))
}

pub async fn no_route(req: actix_web::HttpRequest) -> HttpResponse<BoxBody> {
    if !req.resource_map().has_resource(req.path()) {
        return not_found().await;
    }
    // (the administration's operations are POSTs, but for reading its audit log)
    let allow = if req.path().starts_with("/v1/admin/") && req.path() != "/v1/admin/audit" { "POST" } else { "GET, HEAD" };
    let mut r = problem_response(&generic_problem(
        StatusCode::METHOD_NOT_ALLOWED,
        Some(format!("{} is not allowed here; use {allow}", req.method())),
    ));
    r.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}

/// Extractor failures (malformed query strings and paths) become 400s that name the input.
pub fn query_error(err: actix_web::error::QueryPayloadError, _req: &actix_web::HttpRequest) -> actix_web::Error {
    query_problem(err).into()
}

/// A query string that does not parse into an operation's parameters: 400 naming the parameter.
pub fn query_problem(err: actix_web::error::QueryPayloadError) -> ApiError {
    let detail = err.to_string();
    query_text_problem(detail.strip_prefix("Query deserialize error: ").unwrap_or(&detail))
}

/// A query string serde could not read, in words for the client: the parameter named when
/// serde names one, an unknown one with what the operation takes.
pub fn query_text_problem(detail: &str) -> ApiError {
    let parameter = detail.split('`').nth(1).map(str::to_string).unwrap_or_else(|| "query".to_string());
    // serde's words for a query struct that takes no other parameters (the OGC API's)
    let detail = match detail.strip_prefix("unknown field ") {
        Some(rest) => format!(
            "unknown parameter {}",
            rest.replacen(", expected one of ", "; this operation takes ", 1)
                .replacen(", expected ", "; this operation takes ", 1)
                .replacen(", there are no fields", "; this operation takes no parameters", 1)
        ),
        None => format!("invalid query string: {detail}"),
    };
    ApiError::InvalidParameter { parameter, detail }
}

pub fn path_error(err: actix_web::error::PathError, _req: &actix_web::HttpRequest) -> actix_web::Error {
    ApiError::invalid("path", format!("invalid path: {err}")).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_detail() {
        let p = ApiError::Internal("connection refused to 10.0.0.3".into()).problem();
        assert_eq!(p.status, 500);
        assert!(!p.detail.contains("10.0.0.3"));
        let p = generic_problem(StatusCode::BAD_GATEWAY, Some("secret".into()));
        assert!(!p.detail.contains("secret"));
    }

    #[test]
    fn client_errors_keep_theirs() {
        let p = ApiError::invalid("from", "from must be before to").problem();
        assert_eq!((p.status, p.parameter.as_deref()), (400, Some("from")));
        let p = generic_problem(StatusCode::METHOD_NOT_ALLOWED, None);
        assert_eq!(p.title, "Method Not Allowed");
        assert_eq!(p.problem_type, "/problems/method-not-allowed");
    }

    #[test]
    fn one_type_has_one_title() {
        // RFC 9457 3.1.3: the title belongs to the type. Our own 404s, 413s… share their type
        // with the ones made from actix's errors, so they must share the title too.
        let errors = [
            ApiError::NotFound("no area".into()),
            ApiError::Unauthorized,
            ApiError::PayloadTooLarge("too big".into()),
            ApiError::RequestTimeout("too slow".into()),
            ApiError::UnsupportedMediaType("not a zip".into()),
            ApiError::TooManyRequests { retry_after_seconds: 3 },
        ];
        for e in errors {
            let ours = e.problem();
            let generic = generic_problem(e.status_code(), None);
            assert_eq!(ours.problem_type, generic.problem_type, "{e:?}");
            assert_eq!(ours.title, generic.title, "{e:?}");
        }
    }
}
