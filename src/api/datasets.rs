//! `/v1/datasets`: the stored dataset versions.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::params::NoParameters;
use crate::error::{ApiError, ProblemDetails};
use crate::http::extract::QueryParams;

#[derive(Debug, Serialize, ToSchema)]
pub struct DatasetView {
    pub version: i64,
    pub title: String,
    /// Attribution: where the data come from.
    pub source: String,
    /// The default delimitation.
    pub boundary_version: String,
    /// SHA-256 of the extract's files.
    pub content_hash: String,
    /// RFC 3339, UTC.
    pub imported_at: String,
    /// The version this instance serves (the one activated, within `dataset.refresh_seconds`);
    /// exactly one is, and every data answer given meanwhile names it.
    pub active: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DatasetList {
    /// The version this instance serves (it follows the active one within
    /// `dataset.refresh_seconds`).
    pub served_version: Option<i64>,
    /// Newest first.
    pub items: Vec<DatasetView>,
}

/// The stored dataset versions, newest first.
///
/// Every imported version with its title, source, delimitation, content hash and import time; exactly one is
/// active, and `served_version` is the one this instance serves now. Every data answer names its version
/// (`x-dataset-version`).
#[utoipa::path(
    tag = "datasets",
    responses(
        (status = 200, description = "The versions", body = DatasetList),
        super::responses::TakesNoParameters,
        (status = 503, description = "The database has not been reached yet", body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
#[get("/v1/datasets")]
pub async fn list_datasets(state: web::Data<AppState>, _query: QueryParams<NoParameters>) -> Result<HttpResponse, ApiError> {
    let datasets = state
        .snapshot
        .datasets()
        .ok_or_else(|| ApiError::Unavailable("the dataset versions have not been read yet; try again shortly".into()))?;
    // What is served says which is active: the list is read before a newly activated version
    // is loaded, and said so meanwhile while the data answers came from the one before.
    let served = state.snapshot.version();
    let items = datasets
        .iter()
        .map(|d| DatasetView {
            version: d.version,
            title: d.title.clone(),
            source: d.source.clone(),
            boundary_version: d.boundary_version.clone(),
            content_hash: d.content_hash.clone(),
            imported_at: d.imported_at.clone(),
            active: served.map_or(d.active, |v| v == d.version),
        })
        .collect();
    let mut r = HttpResponse::Ok();
    if let Some(v) = served {
        r.insert_header((crate::http::DATASET_VERSION_HEADER, v));
    }
    Ok(r.json(DatasetList { served_version: served, items }))
}
