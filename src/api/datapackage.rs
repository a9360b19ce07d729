//! `/v1/datapackage.zip`: the whole published dataset as one Frictionless Data Package — a zip
//! of plain CSV tables and a `datapackage.json` describing every field — for the automated
//! consumers that want everything at once. The figures are the snapshot's, after disclosure
//! control, exactly as the API serves them; the response cache keeps it per dataset version.

use std::io::Write;

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde_json::json;

use super::AppState;
use super::params::{NoParameters, data_body};
use crate::error::ApiError;
use crate::http::extract::QueryParams;
use crate::http::offload::{Rendered, render};
use crate::query::datapackage::{Resource, tables};
use crate::snapshot::Snapshot;

pub const ZIP: &str = crate::http::formats::ZIP.media_type;

/// The whole published dataset of the served version as a Frictionless Data Package.
///
/// A zip of CSV tables (comma-separated, decimal points, UTF-8, `true`/`false`, an empty cell
/// where there is no figure) with `datapackage.json` describing every table and field, their
/// keys and how they refer to each other: the indicators, the municipalities, the areas of
/// every delimitation, every area's figures, the reference levels' figures, the social-housing
/// sector without each delimitation's areas, and every rule set's criteria for every area and
/// year. Figures withheld by disclosure control are withheld here too (status `suppressed`,
/// no value). `frictionless validate` reads it; it changes only with the dataset version.
#[utoipa::path(
    tag = "datasets",
    responses(
        (status = 200, description = "A zip holding `datapackage.json` and the tables under `data/`", content_type = "application/zip", body = Vec<u8>),
        super::responses::TakesNoParameters,
        super::responses::Unloaded,
    )
)]
#[get("/v1/datapackage.zip")]
pub async fn get_datapackage(
    state: web::Data<AppState>,
    req: HttpRequest,
    _query: QueryParams<NoParameters>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    render(&req, move || package_response(&snapshot)).await
}

fn package_response(snapshot: &Snapshot) -> Result<Rendered, ApiError> {
    let zip = package(snapshot)?;
    let name = format!("boligsocial-dataset-{}.zip", snapshot.dataset.version);
    Ok(data_body(snapshot, None, ZIP, zip).attachment(&name))
}

/// The package's zip.
pub fn package(snapshot: &Snapshot) -> Result<Vec<u8>, ApiError> {
    let resources = tables(snapshot);
    let descriptor = json!({
        "profile": "tabular-data-package",
        "name": format!("boligsocial-dataset-{}", snapshot.dataset.version),
        "title": snapshot.dataset.title,
        "description": "The areas with a boligsocial helhedsplan, their figures and their references' as the Boligsocial API publishes \
            them, with disclosure control applied: figures about few people are withheld, and so is a figure whose difference with \
            the published figures inside it would reveal one (secondary suppression).",
        "version": snapshot.dataset.version.to_string(),
        "created": snapshot.dataset.imported_at,
        "sources": [{"title": snapshot.dataset.source}],
        "keywords": ["boligsocial helhedsplan", "almenboligloven", "social housing", "Denmark"],
        "boligsocial:dataset_version": snapshot.dataset.version,
        "boligsocial:content_hash": snapshot.dataset.content_hash,
        "boligsocial:default_boundary_version": snapshot.dataset.boundary_version,
        "resources": resources.iter().map(Resource::description).collect::<Vec<_>>(),
    });
    let fail = |e: &dyn std::fmt::Display| ApiError::Internal(format!("the data package could not be written: {e}"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // a fixed time, so that the same version gives the same bytes on every instance
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    zip.start_file("datapackage.json", options).map_err(|e| fail(&e))?;
    zip.write_all(&serde_json::to_vec_pretty(&descriptor).map_err(|e| fail(&e))?).map_err(|e| fail(&e))?;
    for r in resources {
        zip.start_file(r.path(), options).map_err(|e| fail(&e))?;
        zip.write_all(&r.into_csv().map_err(|e| fail(&e))?).map_err(|e| fail(&e))?;
    }
    Ok(zip.finish().map_err(|e| fail(&e))?.into_inner())
}
