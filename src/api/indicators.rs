//! `/v1/indicators`: the catalogue.

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::params::{data_json, indicator_path};
use crate::domain::model::{Direction, Kind};
use crate::error::{ApiError, ProblemDetails};
use crate::http::extract::QueryParams;
use crate::http::negotiate::Lang;
use crate::http::offload::render;
use crate::snapshot::Indicator;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LangQuery {
    /// Label language; default from `Accept-Language`, else Danish.
    #[param(value_type = Option<Lang>, example = "en")]
    pub lang: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorView {
    #[schema(example = "outside_work_education")]
    pub code: String,
    /// The name in the chosen language.
    pub name: String,
    pub name_da: String,
    pub name_en: String,
    pub description: Option<String>,
    pub description_da: Option<String>,
    pub description_en: Option<String>,
    pub kind: Kind,
    /// `percent` for shares, `per_1000` for rates, `mean` for means; differences of shares
    /// are percentage points.
    #[schema(example = "percent")]
    pub unit: String,
    /// Who the figure is about, in the chosen language.
    pub population: String,
    pub population_da: String,
    pub population_en: String,
    pub direction: Direction,
    /// Years with data at any level, ascending.
    pub years: Vec<u16>,
}

impl IndicatorView {
    pub fn new(i: &Indicator, lang: Lang) -> Self {
        IndicatorView {
            code: i.code.clone(),
            name: lang.pick(&i.name_da, &i.name_en).to_string(),
            name_da: i.name_da.clone(),
            name_en: i.name_en.clone(),
            description: lang.pick_opt(i.description_da.as_deref(), i.description_en.as_deref()).map(str::to_string),
            description_da: i.description_da.clone(),
            description_en: i.description_en.clone(),
            kind: i.kind,
            unit: i.kind.unit().to_string(),
            population: lang.pick(&i.population_da, &i.population_en).to_string(),
            population_da: i.population_da.clone(),
            population_en: i.population_en.clone(),
            direction: i.direction,
            years: i.years.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorList {
    pub dataset_version: i64,
    pub lang: Lang,
    pub items: Vec<IndicatorView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorDetail {
    pub dataset_version: i64,
    pub lang: Lang,
    #[serde(flatten)]
    pub indicator: IndicatorView,
}

/// The indicators of the served dataset.
///
/// Employment and education, school grades, income, crime, safety, turnout and the rest, in the extract's order:
/// each with its names and descriptions in Danish and English, who it is about, its kind and unit, which direction
/// is better, and its years.
#[utoipa::path(
    tag = "indicators",
    params(LangQuery),
    responses(
        (status = 200, description = "The catalogue", body = IndicatorList),
        (status = 400, description = "An unknown language", body = ProblemDetails, content_type = "application/problem+json"),
        super::responses::Unloaded,
    )
)]
#[get("/v1/indicators")]
pub async fn list_indicators(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: QueryParams<LangQuery>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    let lang = Lang::negotiate(&req, query.lang.as_deref())?;
    render(&req, move || {
        let items = snapshot.indicators.iter().map(|i| IndicatorView::new(i, lang)).collect();
        data_json(&snapshot, Some(lang), &IndicatorList { dataset_version: snapshot.dataset.version, lang, items })
    })
    .await
}

/// One indicator.
///
/// The indicator's names, description, population, kind, unit, direction and years, as in /v1/indicators.
#[utoipa::path(
    tag = "indicators",
    params(("code" = String, Path, description = "Indicator code", example = "outside_work_education"), LangQuery),
    responses(
        (status = 200, description = "The indicator", body = IndicatorDetail),
        (status = 404, description = "No such indicator", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 400, description = "An unknown language", body = ProblemDetails, content_type = "application/problem+json"),
        super::responses::Unloaded,
    )
)]
#[get("/v1/indicators/{code}")]
pub async fn get_indicator(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: QueryParams<LangQuery>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    let lang = Lang::negotiate(&req, query.lang.as_deref())?;
    render(&req, move || {
        let (_, indicator) = indicator_path(&snapshot, &path)?;
        let body = IndicatorDetail { dataset_version: snapshot.dataset.version, lang, indicator: IndicatorView::new(indicator, lang) };
        data_json(&snapshot, Some(lang), &body)
    })
    .await
}
