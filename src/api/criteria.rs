//! `/v1/rules` and `/v1/criteria`: the legal criteria of almenboligloven § 61 a and § 61 b
//! (criteria.md) applied to this service's areas and figures. They are not the ministry's
//! official lists, which use its own delimitation and register definitions; every answer
//! says so.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::csv::{self, Format, Representation, Table};
use super::params::{self, Year, data_json};
use crate::domain::criteria::{Classification, ClassificationResult, Criterion, CriterionResult, CriterionStatus, Evaluation, RuleSet};
use crate::error::{ApiError, ProblemDetails};
use crate::http::extract::QueryParams;
use crate::http::negotiate::Lang;
use crate::http::offload::{Rendered, render};
use crate::query::Unit;
pub use crate::query::criteria::VerdictCounts;
use crate::query::criteria::{AreaCriteriaRequest, AreasCriteria, CriteriaRequest, area_years, areas_criteria, rule_set, year_and_rules};
use crate::snapshot::Snapshot;

/// What every answer says of itself.
pub const NOT_OFFICIAL: &str = "The criteria of almenboligloven § 61 a and § 61 b applied to this service's areas and figures; \
     not the ministry's official lists, which use its own area delimitation and register definitions.";

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleSetSummary {
    pub id: String,
    pub title_da: String,
    pub title_en: String,
    pub legal_basis: String,
    pub from_year: u16,
    pub to_year: Option<u16>,
    /// Whether the served dataset has an indicator for every role the rule set reads.
    pub available: bool,
    /// The roles it reads that the dataset lacks (by code, or by the manifest's
    /// criteria_indicators).
    pub missing_roles: Vec<String>,
    /// The indicator playing each role, where the dataset has one.
    pub indicators: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RulesResponse {
    pub dataset_version: i64,
    pub note: String,
    /// The data years the criteria are evaluated for.
    pub years: Vec<u16>,
    pub items: Vec<RuleSetSummary>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleSetResponse {
    pub dataset_version: i64,
    pub note: String,
    #[serde(flatten)]
    pub summary: RuleSetSummary,
    pub criteria: Vec<Criterion>,
    pub classifications: Vec<Classification>,
}

fn summary(snapshot: &Snapshot, i: usize) -> RuleSetSummary {
    let c = &snapshot.criteria;
    let r = &c.rules[i];
    let indicators = r
        .roles()
        .into_iter()
        .filter_map(|role| snapshot.role_indicator(role).map(|x| (role.to_string(), snapshot.indicators[x].code.clone())))
        .collect();
    RuleSetSummary {
        id: r.id.clone(),
        title_da: r.title_da.clone(),
        title_en: r.title_en.clone(),
        legal_basis: r.legal_basis.clone(),
        from_year: r.from_year,
        to_year: r.to_year,
        available: c.roles[i].is_ok(),
        missing_roles: c.roles[i].as_ref().err().map(|m| m.iter().map(|x| x.to_string()).collect()).unwrap_or_default(),
        indicators,
    }
}

/// The rule sets of almenboligloven § 61 a and § 61 b.
///
/// The legal criteria as the service knows them, one rule set per version of the law (criteria.md), the years each
/// applies to, and whether the served dataset has the indicators each one needs.
#[utoipa::path(
    tag = "criteria",
    responses(
        (status = 200, description = "The rule sets",
         content((RulesResponse = "application/json", example = json!({"dataset_version": 1, "note": NOT_OFFICIAL,
            "years": [2013, 2014, 2015, 2016, 2017, 2018, 2019, 2020, 2021, 2022, 2023, 2024],
            "items": [{"id": "almenboligloven-2021", "title_da": "Almenboligloven § 61 a og § 61 b",
                "title_en": "The Social Housing Act, sections 61 a and 61 b", "legal_basis": "Almenboligloven § 61 a, stk. 1-4, og § 61 b",
                "from_year": 2018, "to_year": null, "available": true, "missing_roles": [],
                "indicators": {"convicted": "convicted", "outside_work_education": "outside_work_education"}}]})))),
        super::responses::TakesNoParameters,
        super::responses::Unloaded,
    )
)]
#[get("/v1/rules")]
pub async fn list_rules(
    state: web::Data<AppState>,
    req: HttpRequest,
    _query: QueryParams<params::NoParameters>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    render(&req, move || {
        let items = (0..snapshot.criteria.rules.len()).map(|i| summary(&snapshot, i)).collect();
        let years = snapshot.criteria.years.clone();
        data_json(&snapshot, None, &RulesResponse { dataset_version: snapshot.dataset.version, note: NOT_OFFICIAL.into(), years, items })
    })
    .await
}

/// One rule set: its criteria and classifications.
///
/// Each criterion's role, test, threshold and years, and each classification (udsat boligområde, parallelsamfund,
/// omdannelsesområde, forebyggelsesområde, …) with the criteria it takes and how many of them must be met.
#[utoipa::path(
    tag = "criteria",
    params(("id" = String, Path, description = "A rule set id", example = "almenboligloven-2021")),
    responses(
        (status = 200, description = "The rule set",
         content((RuleSetResponse = "application/json", example = json!({"dataset_version": 1, "note": NOT_OFFICIAL,
            "id": "almenboligloven-2021", "title_da": "Almenboligloven § 61 a og § 61 b", "title_en": "The Social Housing Act, sections 61 a and 61 b",
            "legal_basis": "Almenboligloven § 61 a, stk. 1-4, og § 61 b", "from_year": 2018, "to_year": null, "available": true,
            "missing_roles": [], "indicators": {},
            "criteria": [{"id": "convicted_3x", "name_da": "Dømte mindst 3 gange landsgennemsnittet (gennemsnit af 2 år)",
                "name_en": "Convicted at least 3 times the national average (2-year average)", "role": "convicted", "test": "at_least",
                "threshold": {"times_country": 3.0}, "years": 2}],
            "classifications": [{"id": "omdannelsesomraade", "name_da": "Omdannelsesområde", "name_en": "Transformation area",
                "persists": {"classification": "parallelsamfund", "years": 5}}]})))),
        super::responses::TakesNoParameters,
        (status = 404, description = "No such rule set", body = ProblemDetails, content_type = "application/problem+json"),
        super::responses::Unloaded,
    )
)]
#[get("/v1/rules/{id}")]
pub async fn get_rules(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    _query: QueryParams<params::NoParameters>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    render(&req, move || {
        let (i, r) = snapshot
            .criteria
            .rule_set(&path)
            .ok_or_else(|| ApiError::NotFound(format!("no rule set {:?}; see /v1/rules", path.as_str())))?;
        let body = RuleSetResponse {
            dataset_version: snapshot.dataset.version,
            note: NOT_OFFICIAL.into(),
            summary: summary(&snapshot, i),
            criteria: r.criteria.clone(),
            classifications: r.classifications.clone(),
        };
        data_json(&snapshot, None, &body)
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CriteriaQuery {
    /// The data year evaluated.
    #[param(required = true, inline, example = 2023)]
    pub year: Option<Year>,
    /// A rule set id; default the one valid for the year. See /v1/rules.
    #[param(example = "almenboligloven-2021")]
    pub rules: Option<String>,
    /// Delimitation version; default the dataset's.
    #[param(example = "2024-09")]
    pub boundary: Option<String>,
    /// `json` (default) or `csv` (a row per area; each row ends with the year, rule set,
    /// delimitation and dataset version); `Accept: text/csv` also selects CSV.
    #[param(value_type = Option<Format>)]
    pub format: Option<String>,
    /// Label language; default from `Accept-Language`, else Danish.
    #[param(value_type = Option<Lang>)]
    pub lang: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AreaCriteria {
    pub area_id: String,
    pub area_name: String,
    #[schema(example = "751")]
    pub municipality_code: String,
    /// The residents counted for the population test; null when not published.
    pub population: Option<f64>,
    pub criteria: Vec<CriterionResult>,
    pub classifications: Vec<ClassificationResult>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CriteriaResponse {
    pub dataset_version: i64,
    pub note: String,
    pub year: u16,
    pub rules: String,
    pub boundary_version: String,
    pub items: Vec<AreaCriteria>,
    /// Per classification id: how many areas are yes, no and undetermined.
    pub summary: BTreeMap<String, VerdictCounts>,
}

impl AreaCriteria {
    fn new(snapshot: &Snapshot, r: &RuleSet, area: usize, e: &Evaluation) -> Self {
        let area = &snapshot.areas[area];
        AreaCriteria {
            area_id: area.area_id.clone(),
            area_name: area.name.clone(),
            municipality_code: area.municipality.to_string(),
            population: e.population,
            criteria: e.criteria_results(r),
            classifications: e.classification_results(r),
        }
    }
}

representation! {
    /// Every area's criteria and classifications for one year.
    ///
    /// The legal criteria applied to the service's areas and figures: per area and criterion whether it is met, not
    /// met, or cannot be said (its figure suppressed or missing), with the value, the threshold and the margin; per
    /// classification yes, no or undetermined (three-valued logic, criteria.md), and a summary. Not the ministry's
    /// official lists.
    #[utoipa::path(
        tag = "criteria",
        params(CriteriaQuery),
        responses(
            (status = 200, description = "Every area of the delimitation: its criteria (value, threshold, margin) and classifications \
                (yes, no or undetermined by three-valued logic, so that none reveals a suppressed figure); with `format=csv` or `Accept: text/csv`, the CSV of /v1/criteria.csv instead",
             content((CriteriaResponse = "application/json", example = json!({"dataset_version": 1, "note": NOT_OFFICIAL, "year": 2023,
                "rules": "almenboligloven-2021", "boundary_version": "2024-09",
                "items": [{"area_id": "751-1", "area_name": "Marguritten", "municipality_code": "751", "population": 2412.0,
                    "criteria": [{"id": "outside_work_education_40", "role": "outside_work_education", "status": "met", "met": true,
                        "value": 43.1, "threshold": 40.0, "margin": 3.1, "years": [2022, 2023]}],
                    "classifications": [{"id": "udsat_boligomraade", "status": "yes", "criteria_met": 2, "criteria_required": 2,
                        "nearest_exit": ["outside_work_education_40"]}]}],
                "summary": {"udsat_boligomraade": {"yes": 9, "no": 36, "undetermined": 3}}})))),
            (status = 400, description = "An unknown or unavailable rule set, or a year outside the dataset's: the problem names the parameter",
             body = ProblemDetails, content_type = "application/problem+json"),
            super::responses::Unloaded,
        )
    )]
    #[get("/v1/criteria")]
    get_criteria(query: CriteriaQuery) => get_criteria_answer
}

representation! {
    /// Every area's criteria and classifications in the year as a table for Danish spreadsheets: one row per area.
    ///
    /// The same answer as `/v1/criteria` with `format=csv`, as an operation of its own so that a
    /// generated client types it.
    #[utoipa::path(
        tag = "criteria",
        params(CriteriaQuery),
        responses(
            (status = 200, description = "`;`-separated, decimal commas, UTF-8 with a byte-order mark; booleans as `SAND`/`FALSK` (Danish) or \
                `TRUE`/`FALSE` (English); every row ends with what the table is of", content_type = "text/csv", body = String,
                example = json!("area_id;area_name;municipality_code;population;outside_work_education_40_status;outside_work_education_40_value;outside_work_education_40_threshold;outside_work_education_40_margin;udsat_boligomraade;udsat_boligomraade_nearest_exit;year;rules;boundary_version;dataset_version\r\n751-1;Marguritten;751;2412;met;43,1;40;3,1;yes;outside_work_education_40;2023;almenboligloven-2021;2024-09;1\r\n")),
            super::responses::BadQuery,
            super::responses::Unloaded,
        )
    )]
    #[get("/v1/criteria.csv")]
    get_criteria_csv(query: CriteriaQuery) => get_criteria_answer
}

representation! {
    /// Every area's criteria in the year as JSON-stat 2.0.
    ///
    /// Dimensions area × criterion × measure (value, threshold, margin), the criterion the metric
    /// with its indicator's unit: the figures of `/v1/criteria`, for pyjstat, rjstat and
    /// jsonstat-toolkit, with a status for every cell without a figure and the dataset version as
    /// an extension.
    #[utoipa::path(
        tag = "criteria",
        params(CriteriaQuery),
        responses(
            (status = 200, description = "A JSON-stat 2.0 dataset; labels in the chosen language", body = super::jsonstat::JsonStatDataset),
            super::responses::BadQuery,
            super::responses::Unloaded,
        )
    )]
    #[get("/v1/criteria.jsonstat")]
    get_criteria_jsonstat(query: CriteriaQuery) => get_criteria_answer
}

representation! {
    /// Every area's criteria and classifications in the year as an Excel workbook: one row per area.
    ///
    /// The table of `/v1/criteria.csv` with numbers as numbers, yes/no as booleans, headers
    /// in the language, and a second sheet saying what it is (its context, source, dataset
    /// version and disclosure rules).
    #[utoipa::path(
        tag = "criteria",
        params(CriteriaQuery),
        responses(
            (status = 200, description = "An XLSX workbook (Office Open XML)", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
            super::responses::BadQuery,
            super::responses::Unloaded,
        )
    )]
    #[get("/v1/criteria.xlsx")]
    get_criteria_xlsx(query: CriteriaQuery) => get_criteria_answer
}

async fn get_criteria_answer(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: QueryParams<CriteriaQuery>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    let lang = Lang::negotiate(&req, query.lang.as_deref())?;
    let representation = Representation::of(&req, query.format.as_deref());
    render(&req, move || {
        let request = query.request(&snapshot)?;
        let representation = representation?;
        let AreasCriteria { year, rules: r, items, summary } = areas_criteria(&snapshot.criteria, &request);
        let items: Vec<AreaCriteria> = items.into_iter().map(|(a, e)| AreaCriteria::new(&snapshot, r, a, e)).collect();
        let boundary_version = request.unit.boundary_version;
        match representation {
            Representation::JsonStat => criteria_jsonstat(&snapshot, r, year, boundary_version, &items, lang),
            Representation::Csv | Representation::Xlsx => {
                let context = vec![
                    ("year", year.into()),
                    ("rules", csv::text(&r.id)),
                    ("boundary_version", csv::text(boundary_version)),
                    ("dataset_version", snapshot.dataset.version.into()),
                ];
                to_table(r, &items, context).download(&snapshot, lang, representation, &format!("criteria-{}-{year}", r.id))
            }
            Representation::Json => {
                let (rules, boundary_version, note) = (r.id.clone(), boundary_version.to_string(), NOT_OFFICIAL.into());
                let body =
                    CriteriaResponse { dataset_version: snapshot.dataset.version, note, year, rules, boundary_version, items, summary };
                data_json(&snapshot, Some(lang), &body)
            }
        }
    })
    .await
}

impl CriteriaQuery {
    fn request<'s>(&self, snapshot: &'s Snapshot) -> Result<CriteriaRequest<'s>, ApiError> {
        let Year(year) = self.year.ok_or_else(|| ApiError::invalid("year", "year is required: the data year, such as 2023"))?;
        let at = year_and_rules(&snapshot.criteria, "year", year, self.rules.as_deref())?;
        Ok(CriteriaRequest { at, unit: Unit::areas_of(snapshot, self.boundary.as_deref())? })
    }
}

/// The criteria as JSON-stat: area × criterion × (value, threshold, margin); a cell without a
/// figure has the criterion's status (`suppressed`, `missing`).
fn criteria_jsonstat(
    snapshot: &Snapshot,
    r: &RuleSet,
    year: u16,
    boundary_version: &str,
    items: &[AreaCriteria],
    lang: Lang,
) -> Result<Rendered, ApiError> {
    use super::jsonstat::{Cube, Dimension, unit_label};
    let unit = |c: &Criterion| {
        let kind = snapshot.role_indicator(&c.role).map(|i| snapshot.indicators[i].kind.unit());
        (unit_label(kind.unwrap_or("number"), lang), 1)
    };
    let criterion = Dimension {
        units: Some(r.criteria.iter().map(unit).collect()),
        ..Dimension::new(
            "criterion",
            lang.pick("Kriterium", "Criterion"),
            r.criteria.iter().map(|c| (c.id.clone(), lang.pick(&c.name_da, &c.name_en).to_string())).collect(),
        )
    };
    let parts = [("value", "Værdi", "Value"), ("threshold", "Grænse", "Threshold"), ("margin", "Margin", "Margin")];
    let dimensions = vec![
        Dimension::new("area", lang.pick("Område", "Area"), items.iter().map(|i| (i.area_id.clone(), i.area_name.clone())).collect()),
        criterion,
        Dimension::new(
            "measure",
            lang.pick("Mål", "Measure"),
            parts.iter().map(|p| (p.0.to_string(), lang.pick(p.1, p.2).to_string())).collect(),
        ),
    ];
    let roles = serde_json::json!({"geo": ["area"], "metric": ["criterion"]});
    let mut cube = Cube::new(format!("{} {year}", r.id), dimensions, roles);
    for (a, item) in items.iter().enumerate() {
        for (c, result) in item.criteria.iter().enumerate() {
            for (m, value) in [result.value, result.threshold, result.margin].into_iter().enumerate() {
                let status = value.is_none().then(|| if result.status == CriterionStatus::Suppressed { "suppressed" } else { "missing" });
                cube.set(&[a, c, m], value, status);
            }
        }
    }
    let extension = serde_json::json!({"note": NOT_OFFICIAL, "year": year, "rules": r.id, "boundary_version": boundary_version});
    cube.response(snapshot, lang, extension)
}

/// One row per area: its criteria (status, value, threshold, margin) and classifications,
/// then what the table is of (`context`).
fn to_table(r: &RuleSet, items: &[AreaCriteria], context: Vec<(&str, csv::Cell)>) -> Table {
    use csv::{number, text};
    let mut columns: Vec<String> = ["area_id", "area_name", "municipality_code", "population"].map(String::from).to_vec();
    for c in &r.criteria {
        for part in ["status", "value", "threshold", "margin"] {
            columns.push(format!("{}_{part}", c.id));
        }
    }
    for c in &r.classifications {
        columns.push(c.id.clone());
        columns.push(format!("{}_nearest_exit", c.id));
    }
    let names: Vec<&str> = columns.iter().map(String::as_str).collect();
    let mut table = Table::described(&names, context);
    for item in items {
        let mut row = vec![text(&item.area_id), text(&item.area_name), text(&item.municipality_code), number(item.population)];
        for c in &item.criteria {
            row.extend([c.status.as_str().into(), number(c.value), number(c.threshold), number(c.margin)]);
        }
        for c in &item.classifications {
            row.extend([c.status.as_str().into(), text(&c.nearest_exit.join(" "))]);
        }
        table.row(row);
    }
    table
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AreaCriteriaQuery {
    /// A rule set id; default each year's valid one. See /v1/rules.
    #[param(example = "almenboligloven-2021")]
    pub rules: Option<String>,
    /// Delimitation version; default the dataset's.
    #[param(example = "2024-09")]
    pub boundary: Option<String>,
    /// `json` (default) or `csv` (a row per year and criterion or classification, criteria met
    /// and required as two numbers; each row ends with the delimitation and dataset version);
    /// `Accept: text/csv` also selects CSV.
    #[param(value_type = Option<Format>)]
    pub format: Option<String>,
    /// Label language; default from `Accept-Language`, else Danish.
    #[param(value_type = Option<Lang>)]
    pub lang: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AreaYear {
    pub year: u16,
    /// The rule set applied that year.
    pub rules: String,
    pub population: Option<f64>,
    pub criteria: Vec<CriterionResult>,
    pub classifications: Vec<ClassificationResult>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AreaCriteriaResponse {
    pub dataset_version: i64,
    pub note: String,
    pub area_id: String,
    pub area_name: String,
    pub municipality_code: String,
    pub boundary_version: String,
    /// Every year with data, ascending.
    pub years: Vec<AreaYear>,
}

representation! {
    /// One area's criteria and classifications in every year.
    ///
    /// The area's criteria and classifications year by year, each year under the rule set valid that year unless one is
    /// named: how close the area is to a list, and which met criteria would take it off (nearest_exit).
    #[utoipa::path(
        tag = "criteria",
        params(("area_id" = String, Path, description = "Area id", example = "751-1"), AreaCriteriaQuery),
        responses(
            (status = 200, description = "The area's criteria year by year (with `format=csv` or `Accept: text/csv`, the CSV of /v1/areas/{area_id}/criteria.csv instead)",
             content((AreaCriteriaResponse = "application/json"))),
            (status = 400, description = "An unknown or unavailable rule set: the problem names it", body = ProblemDetails, content_type = "application/problem+json"),
            super::responses::NoSuchArea,
            super::responses::Unloaded,
        )
    )]
    #[get("/v1/areas/{area_id}/criteria")]
    get_area_criteria(path: String, query: AreaCriteriaQuery) => get_area_criteria_answer
}

representation! {
    /// The area's criteria year by year as a table for Danish spreadsheets: a row per year and criterion, then per year and classification.
    ///
    /// The same answer as `/v1/areas/{area_id}/criteria` with `format=csv`, as an operation of its own so that a
    /// generated client types it.
    #[utoipa::path(
        tag = "criteria",
        params(("area_id" = String, Path, description = "Area id", example = "751-1"), AreaCriteriaQuery),
        responses(
            (status = 200, description = "`;`-separated, decimal commas, UTF-8 with a byte-order mark; booleans as `SAND`/`FALSK` (Danish) or \
                `TRUE`/`FALSE` (English); every row ends with what the table is of", content_type = "text/csv", body = String,
                example = json!("area_id;year;rules;item;id;status;value;threshold;margin;criteria_met;criteria_required;nearest_exit;boundary_version;dataset_version\r\n751-1;2023;almenboligloven-2021;criterion;outside_work_education_40;met;43,1;40;3,1;;;;2024-09;1\r\n")),
            super::responses::BadQuery,
            super::responses::NoSuchArea,
            super::responses::Unloaded,
        )
    )]
    #[get("/v1/areas/{area_id}/criteria.csv")]
    get_area_criteria_csv(path: String, query: AreaCriteriaQuery) => get_area_criteria_answer
}

representation! {
    /// The area's criteria year by year as an Excel workbook.
    ///
    /// The table of `/v1/areas/{area_id}/criteria.csv` with numbers as numbers, headers in the language, and a second
    /// sheet saying what it is (its delimitation, source, dataset version and disclosure rules).
    #[utoipa::path(
        tag = "criteria",
        params(("area_id" = String, Path, description = "Area id", example = "751-1"), AreaCriteriaQuery),
        responses(
            (status = 200, description = "An XLSX workbook (Office Open XML)", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
            super::responses::BadQuery,
            super::responses::NoSuchArea,
            super::responses::Unloaded,
        )
    )]
    #[get("/v1/areas/{area_id}/criteria.xlsx")]
    get_area_criteria_xlsx(path: String, query: AreaCriteriaQuery) => get_area_criteria_answer
}

async fn get_area_criteria_answer(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: QueryParams<AreaCriteriaQuery>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    let lang = Lang::negotiate(&req, query.lang.as_deref());
    let representation = Representation::of(&req, query.format.as_deref());
    render(&req, move || {
        let (area, _) = params::area_path(&snapshot, &path)?;
        let lang = lang?;
        let representation = representation?;
        let rules = query.rules.as_deref().map(|id| rule_set(&snapshot.criteria, Some(id), None).map(|(ri, _)| ri)).transpose()?;
        let request = AreaCriteriaRequest { area, rules, unit: Unit::areas_of(&snapshot, query.boundary.as_deref())? };
        let body = AreaCriteriaResponse::new(&snapshot, &request, area_years(&snapshot.criteria, &request));
        if representation.is_table() {
            return area_csv(&body).download(&snapshot, lang, representation, &format!("criteria-{}", body.area_id));
        }
        data_json(&snapshot, Some(lang), &body)
    })
    .await
}

impl AreaCriteriaResponse {
    fn new(snapshot: &Snapshot, request: &AreaCriteriaRequest, years: Vec<(&RuleSet, &Evaluation)>) -> Self {
        let area = &snapshot.areas[request.area];
        let year = |(r, e): (&RuleSet, &Evaluation)| AreaYear {
            year: e.year,
            rules: r.id.clone(),
            population: e.population,
            criteria: e.criteria_results(r),
            classifications: e.classification_results(r),
        };
        AreaCriteriaResponse {
            dataset_version: snapshot.dataset.version,
            note: NOT_OFFICIAL.into(),
            area_id: area.area_id.clone(),
            area_name: area.name.clone(),
            municipality_code: area.municipality.to_string(),
            boundary_version: request.unit.boundary_version.to_string(),
            years: years.into_iter().map(year).collect(),
        }
    }
}

/// An area's years as a table: a row per year and criterion, then per year and classification.
fn area_csv(body: &AreaCriteriaResponse) -> Table {
    use csv::{number, text};
    let context = vec![("boundary_version", text(&body.boundary_version)), ("dataset_version", body.dataset_version.into())];
    let mut table = Table::described(
        &[
            "area_id",
            "year",
            "rules",
            "item",
            "id",
            "status",
            "value",
            "threshold",
            "margin",
            "criteria_met",
            "criteria_required",
            "nearest_exit",
        ],
        context,
    );
    for y in &body.years {
        for c in &y.criteria {
            table.row(vec![
                text(&body.area_id),
                y.year.into(),
                text(&y.rules),
                "criterion".into(),
                text(&c.id),
                c.status.as_str().into(),
                number(c.value),
                number(c.threshold),
                number(c.margin),
                number(None),
                number(None),
                number(None),
            ]);
        }
        for c in &y.classifications {
            table.row(vec![
                text(&body.area_id),
                y.year.into(),
                text(&y.rules),
                "classification".into(),
                text(&c.id),
                c.status.as_str().into(),
                number(None),
                number(None),
                number(None),
                // (two numbers: "3/4" would open as a date in a Danish spreadsheet)
                number(Some(c.criteria_met as f64)),
                number(Some(c.criteria_required as f64)),
                text(&c.nearest_exit.join(" ")),
            ]);
        }
    }
    table
}
