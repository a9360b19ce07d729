//! Administration over HTTP (api-contract.md, "Administration"): importing an extract and
//! activating a stored version. Disabled unless `admin.token` is set; then every request needs
//! that bearer token (compared in constant time), and each client address is rate limited.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use crate::error::{ApiError, ProblemDetails};
pub use crate::http::limits::{ClientLimits as AdminLimits, Limiter, limiter};
use crate::http::limits::{bearer, client_of, same_secret};
use crate::ingest;
use crate::query::{
    self,
    datasets::{ImportOutcome, ImportReport},
};

/// The token, then the allowance it draws on.
fn authorize(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let Some(token) = state.settings.admin.token.as_deref() else {
        return Err(ApiError::NotFound("administration is disabled: the setting admin.token is not set".into()));
    };
    let client = client_of(req, &state.trusted_proxies);
    let presented = bearer(req);
    let valid = presented.is_some_and(|p| same_secret(p, token));
    // the allowance first, so that guessing tokens is slow too
    if let Err(wait) = state.admin_limiter.check(client, valid) {
        return Err(ApiError::TooManyRequests { retry_after_seconds: wait.as_secs().max(1) });
    }
    if valid { Ok(()) } else { Err(ApiError::Unauthorized) }
}

/// The bytes of a zip file.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ZipBody(#[allow(dead_code)] Vec<u8>);

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    pub dataset_version: i64,
    /// `imported` (a new version, now active) or `already_stored` (identical content).
    #[schema(example = "imported")]
    pub status: String,
    /// What the import noticed in the extract, one sentence each (absent when nothing).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Imports an extract as a new dataset version.
///
/// The body is a zip of an extract (extract-format.md), validated exactly as `boligsocial import` does: accepted,
/// it is stored as a new version and served by every instance within `dataset.refresh_seconds`; rejected, nothing
/// changes and the answer lists each problem with its file, line and column. The same content imported again
/// changes nothing (200). Needs the bearer token `admin.token`; limited in size (`admin.max_upload_bytes`), time
/// and rate.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    request_body(
        description = "A zip of an extract (extract-format.md); sent as application/octet-stream it is taken too",
        content((ZipBody = "application/zip"))
    ),
    responses(
        (status = 201, description = "Imported as a new version, now served", body = ImportResult),
        (status = 200, description = "The same content is already stored; nothing changed", body = ImportResult),
        super::responses::TakesNoParameters,
        (status = 401, description = "No or a wrong bearer token", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "Administration is disabled (no admin.token)", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 408, description = "The upload took longer than admin.upload_timeout_seconds, or came slower than admin.upload_min_bytes_per_second", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 413, description = "Larger than admin.max_upload_bytes", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 415, description = "Not application/zip", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "Rejected: `problems` lists file, line, column and message of each; nothing changed",
            body = ProblemDetails, content_type = "application/problem+json"),
        (status = 429, description = "Too many administration requests from this client", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 503, description = "The database does not answer; nothing changed", body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
#[post("/v1/admin/imports")]
pub async fn import(state: web::Data<AppState>, req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state)?;
    super::params::no_parameters(&req)?;
    let limit = state.settings.admin.max_upload_bytes;
    upload_declared(&req, limit)?;
    let a = &state.settings.admin;
    let bytes = read_upload(payload, limit, Duration::from_secs(a.upload_timeout_seconds), a.upload_min_bytes_per_second).await?;
    let pool = state.pool.clone();
    let url = state.settings.database_url();
    let limits = state.settings.import.limits();
    // (on a thread of its own at a lower priority: reading and writing a national extract
    // takes seconds of CPU that the request workers should not lose)
    let outcome = crate::http::offload::run_in_background(move || -> Result<ImportReport, ApiError> {
        let extract = ingest::read_zip_bytes(&bytes, "upload.zip", &limits).map_err(ApiError::Rejected)?;
        drop(bytes);
        let report = query::datasets::import_pooled(&pool, &url, &extract);
        drop(extract);
        crate::memory::release_free();
        report
    })
    .await?;
    let (label, response) = match outcome {
        Ok(report @ ImportReport { outcome: ImportOutcome::Imported { version }, .. }) => {
            state.refresh_now.notify_one();
            tracing::info!(version, "imported an extract over HTTP");
            let body = ImportResult { dataset_version: version, status: "imported".into(), warnings: report.warnings() };
            ("imported", HttpResponse::Created().insert_header((header::LOCATION, "/v1/datasets")).json(body))
        }
        Ok(report @ ImportReport { outcome: ImportOutcome::AlreadyStored { version }, .. }) => {
            let body = ImportResult { dataset_version: version, status: "already_stored".into(), warnings: report.warnings() };
            ("identical", HttpResponse::Ok().json(body))
        }
        Err(e @ ApiError::Rejected(_)) => {
            state.metrics.count_import("rejected");
            return Err(e);
        }
        Err(e) => {
            state.metrics.count_import("failed");
            return Err(e);
        }
    };
    state.metrics.count_import(label);
    Ok(response)
}

/// An upload declared as a zip, and not larger than `limit` when it says its length.
fn upload_declared(req: &HttpRequest, limit: usize) -> Result<(), ApiError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !["application/zip", "application/x-zip-compressed", "application/octet-stream"].contains(&essence.as_str()) {
        return Err(ApiError::UnsupportedMediaType(format!("send the extract as application/zip, not {content_type:?}")));
    }
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge(format!("an extract may be at most {limit} bytes (admin.max_upload_bytes)")));
    }
    Ok(())
}

/// Seconds an upload may take to get going before its rate counts.
const UPLOAD_GRACE: Duration = Duration::from_secs(5);

/// Reads an upload of at most `limit` bytes within `timeout`, and never slower on average
/// than `min_rate` bytes a second after the first [`UPLOAD_GRACE`].
async fn read_upload(mut payload: web::Payload, limit: usize, timeout: Duration, min_rate: u64) -> Result<actix_web::web::Bytes, ApiError> {
    use futures_util::StreamExt;
    let started = tokio::time::Instant::now();
    let mut body = actix_web::web::BytesMut::new();
    loop {
        let by_rate = started + UPLOAD_GRACE + Duration::from_secs_f64(body.len() as f64 / min_rate.max(1) as f64);
        let deadline = by_rate.min(started + timeout);
        match tokio::time::timeout_at(deadline, payload.next()).await {
            Err(_) if deadline >= started + timeout => {
                return Err(ApiError::RequestTimeout("the upload took longer than admin.upload_timeout_seconds".into()));
            }
            Err(_) => {
                return Err(ApiError::RequestTimeout(format!(
                    "the upload came slower than {min_rate} bytes a second (admin.upload_min_bytes_per_second): {} bytes in {} s",
                    body.len(),
                    started.elapsed().as_secs()
                )));
            }
            Ok(None) => return Ok(body.freeze()),
            Ok(Some(Err(e))) => {
                return Err(ApiError::invalid("body", format!("the upload broke off: {e}")));
            }
            Ok(Some(Ok(chunk))) => {
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge(format!("an extract may be at most {limit} bytes (admin.max_upload_bytes)")));
                }
                body.extend_from_slice(&chunk);
            }
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Activated {
    pub dataset_version: i64,
    pub active: bool,
}

/// Serves an earlier dataset version again (a rollback).
///
/// Makes a stored version the active one; every instance serves it within `dataset.refresh_seconds`, whichever
/// instance was asked. Versions are never deleted, so a bad import is undone by activating the one before it. Needs
/// the bearer token.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("version" = i64, Path, description = "A stored dataset version", example = 1)),
    responses(
        (status = 200, description = "The version is active", body = Activated),
        super::responses::TakesNoParameters,
        (status = 401, description = "No or a wrong bearer token", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "No such version, or administration is disabled", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 429, description = "Too many administration requests from this client", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 503, description = "The database does not answer", body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
#[post("/v1/admin/datasets/{version}/activate")]
pub async fn activate(state: web::Data<AppState>, req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state)?;
    super::params::no_parameters(&req)?;
    let version: i64 = path.parse().map_err(|_| ApiError::NotFound(format!("no dataset version {:?}; see /v1/datasets", path.as_str())))?;
    let pool = state.pool.clone();
    let found = web::block(move || -> Result<bool, ApiError> { query::datasets::activate_pooled(&pool, version) })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    if !found {
        return Err(ApiError::NotFound(format!("no dataset version {version}; see /v1/datasets")));
    }
    state.refresh_now.notify_one();
    Ok(HttpResponse::Ok().json(Activated { dataset_version: version, active: true }))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only records at or after this date (`2026-12-01`, midnight UTC) or RFC 3339 time.
    #[param(example = "2026-12-01")]
    pub since: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditLog {
    pub count: usize,
    /// Oldest first, at most 10,000: ask again with `since` the last one's `at`.
    pub items: Vec<crate::store::audit::AuditRecord>,
}

/// The audit log of signed-in reads.
///
/// One record per `/v1/me` request, granted or denied (access.md): when, who (`sub`, CVR, `client_id`,
/// `jti`), which route and departments, from which dataset version, and the status answered. Records are
/// kept `audit.retention_days`. Needs the bearer token.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "The records", body = AuditLog),
        (status = 400, description = "A `since` that is neither a date nor an RFC 3339 time", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 401, description = "No or a wrong bearer token", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "Administration is disabled", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 429, description = "Too many administration requests from this client", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 503, description = "The database does not answer", body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
#[get("/v1/admin/audit")]
pub async fn audit(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: crate::http::extract::QueryParams<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state)?;
    let since = match query.since.as_deref() {
        Some(text) => text.parse::<query::audit::Since>().map_err(|e| ApiError::invalid("since", e))?,
        None => query::audit::Since::all(),
    };
    let pool = state.pool.clone();
    let items = web::block(move || query::audit::read_pooled(&pool, &since)).await.map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(AuditLog { count: items.len(), items }))
}
