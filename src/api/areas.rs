//! `/v1/areas`: the helhedsplansområder of a delimitation.

use actix_web::{get, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use crate::domain::model::MunicipalityCode;
use crate::error::{ApiError, ProblemDetails};
use crate::snapshot::Snapshot;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AreasQuery {
    /// Only areas in this municipality; `101` and `0101` both mean København.
    #[param(example = "751")]
    pub municipality: Option<String>,
    /// Delimitation version; default the dataset's.
    #[param(example = "2024-09")]
    pub boundary: Option<String>,
    /// Only areas whose name contains this text (case-insensitive).
    #[param(example = "parken")]
    pub q: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AreaSummary {
    #[schema(example = "AAR-01")]
    pub area_id: String,
    pub name: String,
    /// Danmarks Statistik's code, without leading zero.
    #[schema(example = "751")]
    pub municipality_code: String,
    pub municipality_name: Option<String>,
    /// Departments in the area under this delimitation.
    pub department_count: usize,
    /// [min_lon, min_lat, max_lon, max_lat] in WGS 84, when the area has geometry.
    pub bbox: Option<[f64; 4]>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AreaList {
    /// The dataset version the data comes from.
    pub dataset_version: i64,
    pub boundary_version: String,
    pub count: usize,
    pub items: Vec<AreaSummary>,
}

/// Resolves `?boundary=` to a delimitation of the snapshot, or a 400 naming the known ones.
pub fn delimitation<'s>(
    snapshot: &'s Snapshot,
    boundary: Option<&str>,
) -> Result<(&'s str, &'s crate::snapshot::Delimitation), ApiError> {
    snapshot.delimitation(boundary).ok_or_else(|| {
        let known: Vec<&str> = snapshot.delimitations.keys().map(String::as_str).collect();
        ApiError::invalid("boundary", format!("unknown boundary version {:?}; known: {}", boundary.unwrap_or(""), known.join(", ")))
    })
}

/// Parses a municipality code in either form, or a 400.
pub fn municipality_param(text: &str) -> Result<MunicipalityCode, ApiError> {
    text.parse()
        .map_err(|_| ApiError::invalid("municipality", format!("{text:?} is not a municipality code such as 101 or 0101")))
}

/// The areas of a delimitation.
#[utoipa::path(
    tag = "areas",
    params(AreasQuery),
    responses(
        (status = 200, description = "The areas, in the extract's order", body = AreaList),
        (status = 400, description = "An unknown delimitation or a malformed municipality code", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 503, description = "No dataset is loaded yet", body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
#[get("/v1/areas")]
pub async fn list_areas(state: web::Data<AppState>, query: web::Query<AreasQuery>) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    let (boundary_version, delimitation) = delimitation(&snapshot, query.boundary.as_deref())?;
    let municipality = query.municipality.as_deref().map(municipality_param).transpose()?;
    let needle = query.q.as_deref().map(str::to_lowercase);
    let items: Vec<AreaSummary> = delimitation
        .areas()
        .map(|i| (i, &snapshot.areas[i]))
        .filter(|(_, a)| municipality.is_none_or(|m| a.municipality == m))
        .filter(|(_, a)| needle.as_deref().is_none_or(|n| a.name.to_lowercase().contains(n)))
        .map(|(i, a)| AreaSummary {
            area_id: a.area_id.clone(),
            name: a.name.clone(),
            municipality_code: a.municipality.to_string(),
            municipality_name: snapshot.municipalities.get(&a.municipality).map(|m| m.name.clone()),
            department_count: delimitation.departments[i].len(),
            bbox: a.bbox,
        })
        .collect();
    Ok(HttpResponse::Ok().json(AreaList {
        dataset_version: snapshot.dataset.version,
        boundary_version: boundary_version.to_string(),
        count: items.len(),
        items,
    }))
}
