//! Liveness and readiness.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use crate::error::{ApiError, ProblemDetails};

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    #[schema(example = "ready")]
    pub status: String,
    /// The dataset version being served.
    pub dataset_version: i64,
}

/// The process lives.
///
/// Liveness for an orchestrator: answers while the process runs, whatever the database does.
#[utoipa::path(tag = "health", responses((status = 200, description = "Alive", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok".into() })
}

/// Ready to serve: the database answers and a dataset is loaded.
///
/// Readiness for a load balancer: 200 while the database answers, a dataset is loaded and the refresher has checked
/// for a newer version within three refresh intervals; 503 with the reason otherwise.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Ready to serve", body = Readiness),
        (status = 503, description = "The database does not answer, or no dataset is loaded", body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let pool = state.pool.clone();
    let ping = web::block(move || crate::query::datasets::ping(&pool));
    let database_ok = matches!(tokio::time::timeout(Duration::from_secs(3), ping).await, Ok(Ok(true)));
    if !database_ok {
        return Err(ApiError::Unavailable("the database does not answer".into()));
    }
    let version = state.snapshot.version().ok_or_else(|| ApiError::Unavailable("no dataset is loaded yet".into()))?;
    // the database answers this probe, but does it answer the refresher? A served snapshot
    // that nobody could check for a while may be an old version
    let staleness = state.settings.readiness_staleness();
    let checked = state.snapshot.last_checked().and_then(|t| t.elapsed().ok());
    if checked.is_none_or(|age| age > staleness) {
        return Err(ApiError::Unavailable(format!(
            "the active dataset version has not been checked for {} s (at most {} s are allowed): the database does not answer the refresher",
            checked.map_or(0, |a| a.as_secs()),
            staleness.as_secs()
        )));
    }
    Ok(HttpResponse::Ok().json(Readiness { status: "ready".into(), dataset_version: version }))
}

/// Prometheus metrics.
///
/// In Prometheus's text format: `boligsocial_http_requests_total{route,method,status}`,
/// `boligsocial_http_request_duration_seconds{route}`, the response cache's lookups and size,
/// `boligsocial_dataset_version`, `boligsocial_snapshot_age_seconds`, `boligsocial_snapshot_loaded`,
/// `boligsocial_imports_total{outcome}`, `boligsocial_snapshot_loads_total{outcome}` and the figures withheld by
/// disclosure control.
#[utoipa::path(tag = "health", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>, cache: Option<web::Data<crate::http::cache::ResponseCache>>) -> HttpResponse {
    if let Some(cache) = cache {
        let (bytes, entries) = cache.size();
        state.metrics.set_cache_size(bytes, entries);
    }
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(state.metrics.render(&state.snapshot))
}
