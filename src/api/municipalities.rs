//! `/v1/municipalities`: the municipalities of the dataset and their areas.

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::params::data_json;
use crate::domain::model::{MunicipalityCode, region_name};
use crate::error::{ApiError, ProblemDetails};
use crate::http::extract::QueryParams;
use crate::http::offload::render;
use crate::snapshot::{Delimitation, Municipality, Snapshot};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MunicipalitiesQuery {
    /// Delimitation whose areas are listed; default the dataset's.
    #[param(example = "2024-09")]
    pub boundary: Option<String>,
    /// Only municipalities with at least one area (`true`), or all (default).
    pub with_areas: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Region {
    #[schema(example = "1082")]
    pub code: String,
    #[schema(example = "Region Midtjylland")]
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AreaRef {
    pub area_id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MunicipalityView {
    /// Danmarks Statistik's code, without leading zero.
    #[schema(example = "751")]
    pub code: String,
    /// The four-digit form used by DAGI and DAWA.
    #[schema(example = "0751")]
    pub code_four_digit: String,
    #[schema(example = "Aarhus")]
    pub name: String,
    pub region: Option<Region>,
    /// The areas in this municipality under the delimitation.
    pub areas: Vec<AreaRef>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MunicipalityList {
    pub dataset_version: i64,
    pub boundary_version: String,
    pub count: usize,
    pub items: Vec<MunicipalityView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MunicipalityDetail {
    pub dataset_version: i64,
    pub boundary_version: String,
    #[serde(flatten)]
    pub municipality: MunicipalityView,
}

fn view(snapshot: &Snapshot, d: &Delimitation, m: &Municipality) -> MunicipalityView {
    MunicipalityView {
        code: m.code.to_string(),
        code_four_digit: m.code.four_digit(),
        name: m.name.clone(),
        region: m.region_code.as_ref().map(|c| Region { code: c.clone(), name: region_name(c).map(str::to_string) }),
        areas: d
            .areas()
            .filter(|&a| snapshot.areas[a].municipality == m.code)
            .map(|a| AreaRef { area_id: snapshot.areas[a].area_id.clone(), name: snapshot.areas[a].name.clone() })
            .collect(),
    }
}

/// The municipalities of the served dataset.
///
/// By code (Danmarks Statistik's three digits, and the four-digit form), with name and region; `with_areas=true` lists
/// their areas too.
#[utoipa::path(
    tag = "municipalities",
    params(MunicipalitiesQuery),
    responses(
        (status = 200, description = "The municipalities", body = MunicipalityList),
        (status = 400, description = "An unknown delimitation", body = ProblemDetails, content_type = "application/problem+json"),
        super::responses::Unloaded,
    )
)]
#[get("/v1/municipalities")]
pub async fn list_municipalities(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: QueryParams<MunicipalitiesQuery>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    render(&req, move || {
        let crate::query::Unit { boundary_version, delimitation: d, .. } =
            crate::query::Unit::areas_of(&snapshot, query.boundary.as_deref())?;
        let items: Vec<MunicipalityView> = snapshot
            .municipalities
            .values()
            .map(|m| view(&snapshot, d, m))
            .filter(|m| query.with_areas != Some(true) || !m.areas.is_empty())
            .collect();
        let body = MunicipalityList {
            dataset_version: snapshot.dataset.version,
            boundary_version: boundary_version.to_string(),
            count: items.len(),
            items,
        };
        data_json(&snapshot, None, &body)
    })
    .await
}

/// One municipality.
///
/// Its name, region and areas; `101` and `0101` both name København.
#[utoipa::path(
    tag = "municipalities",
    params(("code" = String, Path, description = "Municipality code, three- or four-digit form", example = "0751"), MunicipalitiesQuery),
    responses(
        (status = 200, description = "The municipality and its areas", body = MunicipalityDetail),
        (status = 404, description = "No such municipality in the dataset", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 400, description = "An unknown delimitation", body = ProblemDetails, content_type = "application/problem+json"),
        super::responses::Unloaded,
    )
)]
#[get("/v1/municipalities/{code}")]
pub async fn get_municipality(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: QueryParams<MunicipalitiesQuery>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    render(&req, move || {
        let crate::query::Unit { boundary_version, delimitation: d, .. } =
            crate::query::Unit::areas_of(&snapshot, query.boundary.as_deref())?;
        let not_found = || ApiError::NotFound(format!("no municipality {:?} in the dataset; see /v1/municipalities", path.as_str()));
        let code: MunicipalityCode = path.parse().map_err(|_| not_found())?;
        let m = snapshot.municipalities.get(&code).ok_or_else(not_found)?;
        let body = MunicipalityDetail {
            dataset_version: snapshot.dataset.version,
            boundary_version: boundary_version.to_string(),
            municipality: view(&snapshot, d, m),
        };
        data_json(&snapshot, None, &body)
    })
    .await
}
