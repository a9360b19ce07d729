//! `/v1/me`: a signed-in housing organisation's or municipality's own departments
//! (access.md). The caller comes verified from `http::auth` ([`SignedIn`]); what it may see of
//! its departments is its view (`query::me`), worked out once per grant and dataset version.
//! Every answer is audited and private (`http::audit`, the scope's middleware).

use std::sync::{Arc, OnceLock};

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::areas::SeriesPoint;
use super::csv::{self, Format, Representation, Table};
use super::params::{Threshold, Year, data_json, indicator_param, required};
use crate::domain::comparisons::{Comparison, Summary, summarise};
use crate::domain::model::{Direction, Kind, Reference};
use crate::error::ApiError;
use crate::http::audit::touched;
use crate::http::auth::{Caller, SignedIn};
use crate::http::encoding::{MIN_COMPRESS_BYTES, compress, compressible, per_request_level};
use crate::http::extract::QueryParams;
use crate::http::negotiate::Coding;
use crate::http::negotiate::Lang;
use crate::http::offload::{Rendered, rendered};
use crate::query::me::{CallerView, DepartmentComparisonRequest, DepartmentReference, MAX_SELECTION, compare_departments};
use crate::snapshot::{Grant, Point, Snapshot};

/// Registers the routes of the `/v1/me` scope.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_me)
        .service(list_departments)
        .service(department_series)
        .service(department_series_csv)
        .service(department_series_xlsx)
        .service(selection_series)
        .service(department_comparisons)
        .service(department_comparisons_csv)
        .service(department_comparisons_xlsx);
}

/// The served snapshot and what the caller's CVR number opens in it; noted for the audit.
fn grant_of(state: &AppState, req: &HttpRequest, caller: &Caller) -> Result<(Arc<Snapshot>, Grant), ApiError> {
    let snapshot = state.snapshot()?;
    touched(req, snapshot.dataset.version, []);
    let grant = snapshot.access.grant(&caller.cvr).ok_or_else(|| {
        ApiError::Forbidden(format!(
            "the CVR number {} is neither a housing organisation's nor a municipality's in dataset version {}",
            caller.cvr, snapshot.dataset.version
        ))
    })?;
    Ok((snapshot, grant))
}

/// The caller's view of the snapshot.
async fn view_of(state: &AppState, snapshot: &Arc<Snapshot>, grant: Grant) -> Result<Arc<CallerView>, ApiError> {
    state.views.view(snapshot.clone(), state.pool.clone(), state.settings.disclosure, grant).await
}

/// Signed-in answers kept per grant and request: access.md allows it (callers of one grant see
/// the same thing), and asked again an answer then costs a lookup instead of a rendering and
/// a compression. Only a grant's own requests reach its answers (the grant is in the key, and
/// each request is authorised before the lookup); the dataset version is in the key too, and
/// all are dropped when another version is served.
pub struct Answers {
    cache: moka::sync::Cache<(i64, Grant, String), Arc<Kept>>,
}

/// An answer, and its body in each coding, compressed on first use.
struct Kept {
    rendered: Rendered,
    gzip: OnceLock<Bytes>,
    brotli: OnceLock<Bytes>,
}

impl Answers {
    pub fn new(max_bytes: u64) -> Answers {
        let cache = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            // (the compressed copies are a fraction of the body)
            .weigher(|k: &(i64, Grant, String), v: &Arc<Kept>| {
                u32::try_from(k.2.len() + 2 * v.rendered.body.len() + 256).unwrap_or(u32::MAX)
            })
            .build();
        Answers { cache }
    }

    /// Drops every answer: called when another version is served.
    pub fn forget_all(&self) {
        self.cache.invalidate_all();
    }
}

impl Kept {
    /// The answer in the coding the request accepts; compressed once per coding, and marked so
    /// that `http::encoding` leaves it as it is.
    fn response(&self, req: &HttpRequest) -> HttpResponse {
        let body = &self.rendered.body;
        let coding = Coding::negotiate(req.headers().get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()));
        let cell = match coding {
            Coding::Gzip => &self.gzip,
            Coding::Brotli => &self.brotli,
            Coding::Identity => return self.rendered.clone().into_response(),
        };
        if body.len() < MIN_COMPRESS_BYTES || !compressible(Some(&self.rendered.content_type)) {
            return self.rendered.clone().into_response();
        }
        let coded = cell.get_or_init(|| compress(coding, body, per_request_level(coding))).clone();
        let mut r = Rendered { body: coded, ..self.rendered.clone() }.into_response();
        if let Some(name) = coding.header() {
            r.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static(name));
        }
        r.headers_mut().append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        r
    }
}

/// The grant's answer to `request` (its parsed, canonical form): kept, or rendered and kept.
async fn kept<F>(state: &AppState, req: &HttpRequest, version: i64, grant: Grant, request: String, job: F) -> Result<HttpResponse, ApiError>
where
    F: FnOnce() -> Result<Rendered, ApiError> + Send + 'static,
{
    let key = (version, grant, request);
    if let Some(answer) = state.answers.cache.get(&key) {
        return Ok(answer.response(req));
    }
    let answer = Arc::new(Kept { rendered: rendered(req, job).await?, gzip: OnceLock::new(), brotli: OnceLock::new() });
    state.answers.cache.insert(key, answer.clone());
    Ok(answer.response(req))
}

/// The one answer for a department that is not the caller's and one that does not exist: the
/// same bytes (it does not even repeat the id).
fn no_department() -> ApiError {
    ApiError::NotFound("no such department among yours; see /v1/me/departments".into())
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallerKind {
    Organisation,
    Municipality,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub dataset_version: i64,
    /// The token's subject.
    pub sub: String,
    #[schema(example = "12345678")]
    pub cvr: String,
    pub kind: CallerKind,
    /// The organisation's or the municipality's name.
    pub name: String,
    /// How many departments the caller sees.
    pub departments: usize,
}

/// Who the caller is, and what it sees.
///
/// The token's subject and CVR number, whether that number is a housing organisation's or a
/// municipality's in the served dataset version, its name, and how many departments it opens:
/// an organisation's own, or every department in a municipality whichever organisation owns it.
#[utoipa::path(
    tag = "me",
    security(("access_token" = [])),
    responses(
        (status = 200, description = "The caller", body = Me),
        super::responses::SignedInRefusals,
    )
)]
#[get("")]
pub async fn get_me(state: web::Data<AppState>, req: HttpRequest, caller: SignedIn) -> Result<HttpResponse, ApiError> {
    let SignedIn(caller) = caller;
    super::params::no_parameters(&req)?;
    let (snapshot, grant) = grant_of(&state, &req, &caller)?;
    let access = &snapshot.access;
    let (kind, name) = match grant {
        Grant::Organisation(i) => (CallerKind::Organisation, access.organisations[i].name.clone()),
        Grant::Municipality(code) => {
            (CallerKind::Municipality, snapshot.municipalities.get(&code).map_or_else(|| code.to_string(), |m| m.name.clone()))
        }
    };
    let body = Me {
        dataset_version: snapshot.dataset.version,
        sub: caller.sub,
        cvr: caller.cvr,
        kind,
        name,
        departments: access.departments_of(grant).count(),
    };
    Ok(data_json(&snapshot, None, &body)?.into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentSummary {
    pub department_id: String,
    pub name: String,
    pub organisation_id: Option<String>,
    #[schema(example = "751")]
    pub municipality_code: String,
    /// Its plan area in the dataset's delimitation; null outside every area.
    pub area_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentList {
    pub dataset_version: i64,
    pub items: Vec<DepartmentSummary>,
}

/// The caller's departments.
///
/// Every department the caller sees, by id: its name, organisation, municipality and plan area
/// (in the dataset's delimitation).
#[utoipa::path(
    tag = "me",
    security(("access_token" = [])),
    responses(
        (status = 200, description = "The departments, by id", body = DepartmentList),
        super::responses::SignedInRefusals,
    )
)]
#[get("/departments")]
pub async fn list_departments(state: web::Data<AppState>, req: HttpRequest, caller: SignedIn) -> Result<HttpResponse, ApiError> {
    super::params::no_parameters(&req)?;
    let (snapshot, grant) = grant_of(&state, &req, &caller.0)?;
    let delimitation = snapshot.default_delimitation();
    let mut area_by_department = std::collections::HashMap::new();
    for a in delimitation.areas() {
        for m in &delimitation.departments[a] {
            area_by_department.insert(m.department_id.as_str(), a);
        }
    }
    let items: Vec<DepartmentSummary> = snapshot
        .access
        .departments_of(grant)
        .map(|d| DepartmentSummary {
            department_id: d.department_id.clone(),
            name: d.name.clone(),
            organisation_id: d.organisation.clone(),
            municipality_code: d.municipality.to_string(),
            area_id: area_by_department.get(d.department_id.as_str()).map(|&a| snapshot.areas[a].area_id.clone()),
        })
        .collect();
    touched(&req, snapshot.dataset.version, items.iter().map(|d| d.department_id.clone()));
    Ok(data_json(&snapshot, None, &DepartmentList { dataset_version: snapshot.dataset.version, items })?.into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DepartmentSeriesQuery {
    /// Indicator code; see /v1/indicators.
    #[param(required = true, example = "outside_work_education")]
    pub indicator: Option<String>,
    /// `json` (default) or `csv`; `Accept: text/csv` also selects CSV.
    #[param(value_type = Option<Format>, example = "csv")]
    pub format: Option<String>,
    /// Label language; default from `Accept-Language`, else Danish.
    #[param(value_type = Option<Lang>)]
    pub lang: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentSeries {
    /// The department's figures, as the caller may see them.
    pub department: Vec<SeriesPoint>,
    /// Its plan area's (in the dataset's delimitation); null outside every area.
    pub area: Option<Vec<SeriesPoint>>,
    pub municipality: Vec<SeriesPoint>,
    pub social_housing: Vec<SeriesPoint>,
    pub country: Vec<SeriesPoint>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentSeriesResponse {
    pub dataset_version: i64,
    pub department_id: String,
    pub department_name: String,
    pub organisation_id: Option<String>,
    pub municipality_code: String,
    pub area_id: Option<String>,
    pub indicator: String,
    pub indicator_name: String,
    pub kind: Kind,
    pub unit: String,
    pub direction: Direction,
    pub lang: Lang,
    pub series: DepartmentSeries,
}

representation! {
    /// One of the caller's departments year by year, with its references.
    ///
    /// The department's figures for one indicator, beside its plan area's, its municipality's, the
    /// social-housing sector's in its municipality and Denmark's. A figure the disclosure rules withhold
    /// from this caller — the primary rules, or because, with what the caller sees, it would let it work
    /// out a figure withheld from it — is `suppressed`. A department that is not the caller's answers as
    /// one that does not exist.
    #[utoipa::path(
        tag = "me",
        security(("access_token" = [])),
        params(("department_id" = String, Path, description = "One of the caller's departments"), DepartmentSeriesQuery),
        responses(
            (status = 200, description = "The series", body = DepartmentSeriesResponse),
            super::responses::BadQuery,
            super::responses::SignedInRefusals,
            super::responses::NoSuchDepartment,
        )
    )]
    #[get("/departments/{department_id}/series")]
    department_series(caller, path: String, query: DepartmentSeriesQuery) => department_series_answer
}

representation! {
    /// One of the caller's departments year by year, as a table for Danish spreadsheets.
    ///
    /// The figures of `/v1/me/departments/{department_id}/series`, one row per series and year.
    #[utoipa::path(
        tag = "me",
        security(("access_token" = [])),
        params(("department_id" = String, Path, description = "One of the caller's departments"), DepartmentSeriesQuery),
        responses(
            (status = 200, description = "`;`-separated, decimal commas, UTF-8 with a byte-order mark", content_type = "text/csv", body = String),
            super::responses::BadQuery,
            super::responses::SignedInRefusals,
            super::responses::NoSuchDepartment,
        )
    )]
    #[get("/departments/{department_id}/series.csv")]
    department_series_csv(caller, path: String, query: DepartmentSeriesQuery) => department_series_answer
}

representation! {
    /// One of the caller's departments year by year, as an Excel workbook.
    ///
    /// The table of `/v1/me/departments/{department_id}/series.csv` with numbers as numbers.
    #[utoipa::path(
        tag = "me",
        security(("access_token" = [])),
        params(("department_id" = String, Path, description = "One of the caller's departments"), DepartmentSeriesQuery),
        responses(
            (status = 200, description = "An XLSX workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
            super::responses::BadQuery,
            super::responses::SignedInRefusals,
            super::responses::NoSuchDepartment,
        )
    )]
    #[get("/departments/{department_id}/series.xlsx")]
    department_series_xlsx(caller, path: String, query: DepartmentSeriesQuery) => department_series_answer
}

async fn department_series_answer(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedIn(caller): SignedIn,
    path: web::Path<String>,
    query: QueryParams<DepartmentSeriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let (snapshot, grant) = grant_of(&state, &req, &caller)?;
    let id = path.into_inner();
    touched(&req, snapshot.dataset.version, [id.clone()]);
    let lang = Lang::negotiate(&req, query.lang.as_deref())?;
    let representation = Representation::of(&req, query.format.as_deref())?;
    let (indicator, _) = indicator_param(&snapshot, required(&query.indicator, "indicator", "an indicator code; see /v1/indicators")?)?;
    let view = view_of(&state, &snapshot, grant).await?;
    let position = view.position(&snapshot, &id).ok_or_else(no_department)?;
    let request = format!("series {id} {indicator} {representation:?} {lang:?}");
    kept(&state, &req, snapshot.dataset.version, grant, request, move || {
        let body = DepartmentSeriesResponse::new(&snapshot, &view, position, indicator, lang);
        match representation {
            Representation::Json => data_json(&snapshot, Some(lang), &body),
            Representation::Csv | Representation::Xlsx => {
                let filename = format!("department-series-{}-{}", body.department_id, body.indicator);
                department_table(&body, snapshot.dataset.version).download(&snapshot, lang, representation, &filename)
            }
            Representation::JsonStat => Err(ApiError::NotAcceptable("signed-in answers are JSON, CSV or XLSX".into())),
        }
    })
    .await
}

impl DepartmentSeriesResponse {
    fn new(snapshot: &Snapshot, view: &CallerView, position: usize, indicator: usize, lang: Lang) -> Self {
        let entry = &snapshot.access.departments[view.departments[position]];
        let info = &snapshot.indicators[indicator];
        let delimitation = snapshot.default_delimitation();
        let area = view.area(position);
        let points = |ps: &[Point]| ps.iter().map(SeriesPoint::new).collect::<Vec<_>>();
        let reference = |r: Reference| points(snapshot.reference_series(r, delimitation, entry.municipality, indicator));
        DepartmentSeriesResponse {
            dataset_version: snapshot.dataset.version,
            department_id: entry.department_id.clone(),
            department_name: entry.name.clone(),
            organisation_id: entry.organisation.clone(),
            municipality_code: entry.municipality.to_string(),
            area_id: area.map(|a| snapshot.areas[a].area_id.clone()),
            indicator: info.code.clone(),
            indicator_name: lang.pick(&info.name_da, &info.name_en).to_string(),
            kind: info.kind,
            unit: info.kind.unit().to_string(),
            direction: info.direction,
            lang,
            series: DepartmentSeries {
                department: points(&view.series(snapshot, position, indicator)),
                area: area.map(|a| points(delimitation.series(a, indicator))),
                municipality: reference(Reference::Municipality),
                social_housing: reference(Reference::SocialHousing),
                country: reference(Reference::Country),
            },
        }
    }
}

const DEPARTMENT_CSV_COLUMNS: [&str; 11] = [
    "department_id",
    "department_name",
    "municipality_code",
    "area_id",
    "indicator",
    "series",
    "year",
    "status",
    "value",
    "numerator",
    "denominator",
];

fn department_table(s: &DepartmentSeriesResponse, dataset_version: i64) -> Table {
    use csv::{number, text};
    let mut table = Table::described(&DEPARTMENT_CSV_COLUMNS, vec![("dataset_version", dataset_version.into())]);
    let series = [
        ("department", Some(&s.series.department)),
        ("area", s.series.area.as_ref()),
        ("municipality", Some(&s.series.municipality)),
        ("social_housing", Some(&s.series.social_housing)),
        ("country", Some(&s.series.country)),
    ];
    for (name, points) in series {
        for p in points.into_iter().flatten() {
            table.row(vec![
                text(&s.department_id),
                text(&s.department_name),
                text(&s.municipality_code),
                text(s.area_id.as_deref().unwrap_or("")),
                text(&s.indicator),
                name.into(),
                p.year.into(),
                p.status.as_str().into(),
                number(p.value),
                number(p.numerator),
                number(p.denominator),
            ]);
        }
    }
    table
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SelectionQuery {
    /// The caller's departments to sum, comma-separated, each once, at most 500.
    #[param(required = true, example = "AAR-01-A,AAR-01-B")]
    pub departments: Option<String>,
    /// Indicator code; see /v1/indicators.
    #[param(required = true, example = "outside_work_education")]
    pub indicator: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SelectionSeries {
    /// The sum of the departments; a year is `suppressed` where the sum is too small, or where
    /// one of them is withheld from the caller. `coverage` is the share of them with data.
    pub selection: Vec<SeriesPoint>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SelectionResponse {
    pub dataset_version: i64,
    pub departments: Vec<String>,
    pub indicator: String,
    pub kind: Kind,
    pub unit: String,
    pub series: SelectionSeries,
}

/// The sum of several of the caller's departments year by year.
///
/// Up to 500 of the caller's departments summed, one indicator, every year. The request is refused
/// whole if one of them is not the caller's (404, as for one that does not exist), named twice or
/// too many (400).
#[utoipa::path(
    tag = "me",
    security(("access_token" = [])),
    params(SelectionQuery),
    responses(
        (status = 200, description = "The selection's series", body = SelectionResponse),
        super::responses::BadQuery,
        super::responses::SignedInRefusals,
        super::responses::NoSuchDepartment,
    )
)]
#[get("/selection/series")]
pub async fn selection_series(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: SignedIn,
    query: QueryParams<SelectionQuery>,
) -> Result<HttpResponse, ApiError> {
    let (snapshot, grant) = grant_of(&state, &req, &caller.0)?;
    let ids = selection_ids(required(&query.departments, "departments", "the departments to sum, comma-separated")?)?;
    touched(&req, snapshot.dataset.version, ids.iter().cloned());
    let (indicator, _) = indicator_param(&snapshot, required(&query.indicator, "indicator", "an indicator code; see /v1/indicators")?)?;
    let view = view_of(&state, &snapshot, grant).await?;
    // every one is looked up before any answer: the first that is not the caller's refuses all
    let positions: Vec<usize> = ids.iter().map(|id| view.position(&snapshot, id).ok_or_else(no_department)).collect::<Result<_, _>>()?;
    let disclosure = state.settings.disclosure;
    let request = format!("selection {} {indicator}", ids.join(","));
    kept(&state, &req, snapshot.dataset.version, grant, request, move || {
        let info = &snapshot.indicators[indicator];
        let points = view.selection(&snapshot, &disclosure, &positions, indicator);
        let body = SelectionResponse {
            dataset_version: snapshot.dataset.version,
            departments: ids,
            indicator: info.code.clone(),
            kind: info.kind,
            unit: info.kind.unit().to_string(),
            series: SelectionSeries { selection: points.iter().map(SeriesPoint::new).collect() },
        };
        data_json(&snapshot, None, &body)
    })
    .await
}

/// The ids of `departments=`: at least one, at most [`MAX_SELECTION`], none twice.
fn selection_ids(text: &str) -> Result<Vec<String>, ApiError> {
    let ids: Vec<String> = text.split(',').map(|s| s.trim().to_string()).collect();
    if ids.iter().any(String::is_empty) {
        return Err(ApiError::invalid("departments", "departments lists department ids separated by commas, none empty"));
    }
    if ids.len() > MAX_SELECTION {
        return Err(ApiError::invalid("departments", format!("at most {MAX_SELECTION} departments, not {}", ids.len())));
    }
    let mut sorted: Vec<&str> = ids.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(ApiError::invalid("departments", format!("{:?} is named twice", w[0])));
    }
    Ok(ids)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DepartmentComparisonsQuery {
    /// Indicator code; see /v1/indicators.
    #[param(required = true, example = "outside_work_education")]
    pub indicator: Option<String>,
    /// First year, before `to`.
    #[param(required = true, inline, example = 2015)]
    pub from: Option<Year>,
    /// Last year, after `from`.
    #[param(required = true, inline, example = 2023)]
    pub to: Option<Year>,
    /// What each department is compared with: `area` (its own plan area), `municipality`
    /// (default), `social_housing`, `social_housing_rest` or `country`.
    #[param(pattern = "^(area|municipality|social_housing|social_housing_rest|country)$", example = "area")]
    pub reference: Option<String>,
    /// A number ≥ 0 in the indicator's unit (percentage points for a share); default 5.
    #[param(inline, example = 5.0)]
    pub threshold: Option<Threshold>,
    /// `json` (default) or `csv`; `Accept: text/csv` also selects CSV.
    #[param(value_type = Option<Format>, example = "csv")]
    pub format: Option<String>,
    /// Label language; default from `Accept-Language`, else Danish.
    #[param(value_type = Option<Lang>)]
    pub lang: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentComparisonItem {
    pub department_id: String,
    pub department_name: String,
    pub municipality_code: String,
    pub area_id: Option<String>,
    #[serde(flatten)]
    pub comparison: Comparison,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentComparisonsResponse {
    pub dataset_version: i64,
    pub indicator: String,
    pub indicator_name: String,
    pub kind: Kind,
    pub unit: String,
    pub direction: Direction,
    pub lang: Lang,
    pub from: u16,
    pub to: u16,
    /// `area`, or a reference of the `Reference` schema.
    pub reference: String,
    pub threshold: f64,
    pub items: Vec<DepartmentComparisonItem>,
    /// Over the items (its `areas` counts departments).
    pub summary: Summary,
}

representation! {
    /// Every department of the caller against a reference.
    ///
    /// As `/v1/comparisons` is for areas, for each of the caller's departments: its change between two
    /// years beside the reference's, their difference and whether it is stronger. `reference=area` compares a
    /// department with its own plan area. Figures withheld from the caller leave a comparison `suppressed`.
    #[utoipa::path(
        tag = "me",
        security(("access_token" = [])),
        params(DepartmentComparisonsQuery),
        responses(
            (status = 200, description = "The comparisons, by department id", body = DepartmentComparisonsResponse),
            super::responses::BadQuery,
            super::responses::SignedInRefusals,
        )
    )]
    #[get("/comparisons")]
    department_comparisons(caller, query: DepartmentComparisonsQuery) => department_comparisons_answer
}

representation! {
    /// Every department of the caller against a reference, as a table for Danish spreadsheets.
    ///
    /// The items of `/v1/me/comparisons`, one row each.
    #[utoipa::path(
        tag = "me",
        security(("access_token" = [])),
        params(DepartmentComparisonsQuery),
        responses(
            (status = 200, description = "`;`-separated, decimal commas, UTF-8 with a byte-order mark", content_type = "text/csv", body = String),
            super::responses::BadQuery,
            super::responses::SignedInRefusals,
        )
    )]
    #[get("/comparisons.csv")]
    department_comparisons_csv(caller, query: DepartmentComparisonsQuery) => department_comparisons_answer
}

representation! {
    /// Every department of the caller against a reference, as an Excel workbook.
    ///
    /// The table of `/v1/me/comparisons.csv` with numbers as numbers.
    #[utoipa::path(
        tag = "me",
        security(("access_token" = [])),
        params(DepartmentComparisonsQuery),
        responses(
            (status = 200, description = "An XLSX workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
            super::responses::BadQuery,
            super::responses::SignedInRefusals,
        )
    )]
    #[get("/comparisons.xlsx")]
    department_comparisons_xlsx(caller, query: DepartmentComparisonsQuery) => department_comparisons_answer
}

async fn department_comparisons_answer(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedIn(caller): SignedIn,
    query: QueryParams<DepartmentComparisonsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (snapshot, grant) = grant_of(&state, &req, &caller)?;
    let lang = Lang::negotiate(&req, query.lang.as_deref())?;
    let representation = Representation::of(&req, query.format.as_deref())?;
    let (indicator, _) = indicator_param(&snapshot, required(&query.indicator, "indicator", "an indicator code; see /v1/indicators")?)?;
    let Year(from) = query.from.ok_or_else(|| ApiError::invalid("from", "from is required: the first year, such as 2015"))?;
    let Year(to) = query.to.ok_or_else(|| ApiError::invalid("to", "to is required: the last year, such as 2023"))?;
    super::comparisons::before(from, to)?;
    let reference_text = query.reference.clone().unwrap_or_else(|| "municipality".into());
    let reference = DepartmentReference::parse(&reference_text).ok_or_else(|| {
        ApiError::invalid(
            "reference",
            format!("reference {reference_text:?} must be area, municipality, social_housing, social_housing_rest or country"),
        )
    })?;
    let threshold = Threshold::or_default(query.threshold);
    let view = view_of(&state, &snapshot, grant).await?;
    touched(&req, snapshot.dataset.version, view.departments.iter().map(|&d| snapshot.access.departments[d].department_id.clone()));
    let request = format!("comparisons {indicator} {from} {to} {reference:?} {threshold:?} {representation:?} {lang:?}");
    kept(&state, &req, snapshot.dataset.version, grant, request, move || {
        let request = DepartmentComparisonRequest { indicator, from, to, reference, threshold };
        let compared = compare_departments(&snapshot, &view, &request);
        let info = &snapshot.indicators[indicator];
        let summary = summarise(info.direction, threshold, compared.iter().map(|c| &c.comparison));
        let items: Vec<DepartmentComparisonItem> = compared
            .into_iter()
            .map(|c| {
                let entry = &snapshot.access.departments[view.departments[c.position]];
                DepartmentComparisonItem {
                    department_id: entry.department_id.clone(),
                    department_name: entry.name.clone(),
                    municipality_code: entry.municipality.to_string(),
                    area_id: c.area.map(|a| snapshot.areas[a].area_id.clone()),
                    comparison: c.comparison,
                }
            })
            .collect();
        let body = DepartmentComparisonsResponse {
            dataset_version: snapshot.dataset.version,
            indicator: info.code.clone(),
            indicator_name: lang.pick(&info.name_da, &info.name_en).to_string(),
            kind: info.kind,
            unit: info.kind.unit().to_string(),
            direction: info.direction,
            lang,
            from,
            to,
            reference: reference_text,
            threshold,
            items,
            summary,
        };
        match representation {
            Representation::Json => data_json(&snapshot, Some(lang), &body),
            Representation::Csv | Representation::Xlsx => {
                let filename = format!("department-comparisons-{}-{from}-{to}-{}", body.indicator, body.reference);
                comparisons_table(&body).download(&snapshot, lang, representation, &filename)
            }
            Representation::JsonStat => Err(ApiError::NotAcceptable("signed-in answers are JSON, CSV or XLSX".into())),
        }
    })
    .await
}

fn comparisons_table(body: &DepartmentComparisonsResponse) -> Table {
    use csv::{flag, number, text};
    let context = vec![
        ("indicator", text(&body.indicator)),
        ("from", body.from.into()),
        ("to", body.to.into()),
        ("reference", text(&body.reference)),
        ("threshold", number(Some(body.threshold))),
        ("dataset_version", body.dataset_version.into()),
    ];
    let columns = [
        "department_id",
        "department_name",
        "municipality_code",
        "area_id",
        "status",
        "department_from",
        "department_to",
        "department_change",
        "reference_from",
        "reference_to",
        "reference_change",
        "difference",
        "stronger",
        "beyond_threshold",
    ];
    let mut table = Table::described(&columns, context);
    for i in &body.items {
        let c = &i.comparison;
        table.row(vec![
            text(&i.department_id),
            text(&i.department_name),
            text(&i.municipality_code),
            text(i.area_id.as_deref().unwrap_or("")),
            c.status.as_str().into(),
            number(c.area_from),
            number(c.area_to),
            number(c.area_change),
            number(c.reference_from),
            number(c.reference_to),
            number(c.reference_change),
            number(c.difference),
            flag(c.stronger),
            flag(c.beyond_threshold),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selections_are_refused_whole() {
        assert_eq!(selection_ids("A, B").unwrap(), ["A", "B"]);
        assert!(selection_ids("A,,B").is_err());
        assert!(selection_ids("A,B,A").is_err());
        let many: Vec<String> = (0..=MAX_SELECTION).map(|i| format!("D{i}")).collect();
        assert!(selection_ids(&many.join(",")).is_err());
        assert!(selection_ids(&many[..MAX_SELECTION].join(",")).is_ok());
    }
}
