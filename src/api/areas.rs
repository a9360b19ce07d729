//! `/v1/areas`: the helhedsplansområder of a delimitation.

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::csv::{self, Format, Representation, Table};
use super::params::{Municipality, Year, area_path, data_json, indicator_param, required};
use crate::domain::figures::{Figure, Status};
use crate::domain::model::{Direction, Kind, Reference};
use crate::error::{ApiError, ProblemDetails};
use crate::http::extract::QueryParams;
use crate::http::negotiate::Lang;
use crate::http::offload::{Rendered, render};
use crate::query::Unit;
use crate::query::series::{AreaSeries, SeriesRequest, series};
use crate::snapshot::{Point, Snapshot};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AreasQuery {
    /// Only areas in this municipality; `101` and `0101` both mean København.
    #[param(inline, example = "751")]
    pub municipality: Option<Municipality>,
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

/// The areas of a delimitation.
///
/// Every area with a boligsocial helhedsplan (helhedsplansområde) in the delimitation asked for (default the
/// dataset's): its id, name, municipality and how many housing departments (afdelinger) it is made of. Filter by
/// municipality or by a part of the name.
#[utoipa::path(
    tag = "areas",
    params(AreasQuery),
    responses(
        (status = 200, description = "The areas, in the extract's order", body = AreaList),
        (status = 400, description = "An unknown delimitation or a malformed municipality code", body = ProblemDetails, content_type = "application/problem+json"),
        super::responses::Unloaded,
    )
)]
#[get("/v1/areas")]
pub async fn list_areas(state: web::Data<AppState>, req: HttpRequest, query: QueryParams<AreasQuery>) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    render(&req, move || {
        let unit = Unit::areas_of(&snapshot, query.boundary.as_deref())?;
        let needle = query.q.as_deref().map(str::to_lowercase);
        let items: Vec<AreaSummary> = unit
            .areas()
            .map(|i| (i, &snapshot.areas[i]))
            .filter(|(_, a)| query.municipality.is_none_or(|m| a.municipality == m.0))
            .filter(|(_, a)| needle.as_deref().is_none_or(|n| a.name.to_lowercase().contains(n)))
            .map(|(i, a)| AreaSummary {
                area_id: a.area_id.clone(),
                name: a.name.clone(),
                municipality_code: a.municipality.to_string(),
                municipality_name: snapshot.municipalities.get(&a.municipality).map(|m| m.name.clone()),
                department_count: unit.department_count(i),
                bbox: a.bbox,
            })
            .collect();
        let boundary_version = unit.boundary_version.to_string();
        data_json(&snapshot, None, &AreaList { dataset_version: snapshot.dataset.version, boundary_version, count: items.len(), items })
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BoundaryQuery {
    /// Delimitation version; default the dataset's.
    #[param(example = "2024-09")]
    pub boundary: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentView {
    #[schema(example = "0751-0123")]
    pub department_id: String,
    pub name: String,
    pub organisation: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DelimitationView {
    pub boundary_version: String,
    pub department_count: usize,
    /// Whether this is the dataset's default delimitation.
    pub default: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AreaDetail {
    pub dataset_version: i64,
    pub area_id: String,
    pub name: String,
    #[schema(example = "751")]
    pub municipality_code: String,
    pub municipality_name: Option<String>,
    /// The delimitation the departments are listed for.
    pub boundary_version: String,
    /// The area's departments under that delimitation; empty when the area is not part of it.
    pub departments: Vec<DepartmentView>,
    /// Every delimitation the area is part of.
    pub delimitations: Vec<DelimitationView>,
    /// [min_lon, min_lat, max_lon, max_lat] in WGS 84, when the area has geometry.
    pub bbox: Option<[f64; 4]>,
}

/// One area: its municipality, departments and delimitations.
///
/// The area's housing departments in the delimitation asked for, the delimitations it belongs to (an area's
/// departments may differ between them), and its bounding box for a map to zoom to.
#[utoipa::path(
    tag = "areas",
    params(("area_id" = String, Path, description = "Area id", example = "751-1"), BoundaryQuery),
    responses(
        (status = 200, description = "The area", body = AreaDetail),
        super::responses::NoSuchArea,
        (status = 400, description = "An unknown delimitation", body = ProblemDetails, content_type = "application/problem+json"),
        super::responses::Unloaded,
    )
)]
#[get("/v1/areas/{area_id}")]
pub async fn get_area(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: QueryParams<BoundaryQuery>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    render(&req, move || {
        let (index, _) = area_path(&snapshot, &path)?;
        let unit = Unit::areas_of(&snapshot, query.boundary.as_deref())?;
        data_json(&snapshot, None, &AreaDetail::new(&snapshot, index, unit))
    })
    .await
}

impl AreaDetail {
    fn new(snapshot: &Snapshot, index: usize, unit: Unit) -> Self {
        let area = &snapshot.areas[index];
        let department = |x: &crate::snapshot::Department| DepartmentView {
            department_id: x.department_id.clone(),
            name: x.name.clone(),
            organisation: x.organisation.clone(),
        };
        AreaDetail {
            dataset_version: snapshot.dataset.version,
            area_id: area.area_id.clone(),
            name: area.name.clone(),
            municipality_code: area.municipality.to_string(),
            municipality_name: snapshot.municipalities.get(&area.municipality).map(|m| m.name.clone()),
            boundary_version: unit.boundary_version.to_string(),
            departments: unit.delimitation.departments[index].iter().map(department).collect(),
            delimitations: snapshot
                .delimitations
                .iter()
                .filter(|(_, d)| d.contains(index))
                .map(|(v, d)| DelimitationView {
                    boundary_version: v.clone(),
                    department_count: d.departments[index].len(),
                    default: *v == snapshot.dataset.boundary_version,
                })
                .collect(),
            bbox: area.bbox,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SeriesQuery {
    /// Indicator code; see /v1/indicators.
    #[param(required = true, example = "outside_work_education")]
    pub indicator: Option<String>,
    /// Delimitation version; default the dataset's.
    #[param(example = "2024-09")]
    pub boundary: Option<String>,
    /// The first year of the series; default the first with data.
    #[param(inline, example = 2015)]
    pub from: Option<Year>,
    /// The last year of the series; default the last with data.
    #[param(inline, example = 2023)]
    pub to: Option<Year>,
    /// With `from` and `to`: the area made of its departments that plans covered in at least
    /// this many of those years (comparisons.md, "Coverage"); default 0, every department.
    #[param(inline, example = 4)]
    pub covered_years: Option<super::params::CoveredYears>,
    /// `json` (default) or `csv`: one row per series and year (`;`-separated, decimal commas,
    /// UTF-8 with a byte-order mark, for Danish spreadsheets; each row ends with the dataset
    /// version); `Accept: text/csv` also selects CSV.
    #[param(value_type = Option<Format>, example = "csv")]
    pub format: Option<String>,
    /// Label language; default from `Accept-Language`, else Danish.
    #[param(value_type = Option<Lang>)]
    pub lang: Option<String>,
}

/// A published figure of one year. Suppressed figures carry no numbers.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesPoint {
    pub year: u16,
    pub value: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    /// `ok` or `suppressed`.
    pub status: Status,
    /// For the area: the fraction (0 to 1) of its departments with an observation that year.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<f64>,
}

impl SeriesPoint {
    pub fn new(p: &Point) -> Self {
        let (value, numerator, denominator) = match p.figure {
            Figure::Ok { value, numerator, denominator } => (Some(value), Some(numerator), Some(denominator)),
            Figure::Suppressed => (None, None, None),
        };
        SeriesPoint { year: p.year, value, numerator, denominator, status: p.figure.status(), coverage: p.coverage }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Series {
    pub area: Vec<SeriesPoint>,
    pub municipality: Vec<SeriesPoint>,
    pub social_housing: Vec<SeriesPoint>,
    /// The social-housing sector in the municipality without the delimitation's plan areas.
    pub social_housing_rest: Vec<SeriesPoint>,
    pub country: Vec<SeriesPoint>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesResponse {
    pub dataset_version: i64,
    pub area_id: String,
    pub area_name: String,
    pub municipality_code: String,
    pub indicator: String,
    /// The indicator's name in the chosen language.
    pub indicator_name: String,
    pub kind: Kind,
    pub unit: String,
    pub direction: Direction,
    pub lang: Lang,
    pub boundary_version: String,
    /// The area's departments under the delimitation.
    pub department_count: usize,
    /// The `covered_years` asked for (0: every department).
    pub covered_years: u16,
    /// The area's departments its figures are made of (all of them without `covered_years`).
    pub departments_used: usize,
    /// The area's departments `covered_years` left out.
    pub departments_left_out: usize,
    /// One point per year with data (from `from` to `to` when given), years ascending.
    pub series: Series,
}

representation! {
    /// An area's figures year by year, with its references.
    ///
    /// One indicator for one area and every year with data, beside the same figure for its municipality, the
    /// social-housing sector in its municipality, that sector without the delimitation's plan areas, and Denmark: the
    /// time series a chart of the area's development draws. Each point has its value, numerator and denominator, or the
    /// status `suppressed` where disclosure control withholds it; the area's points say what share of its departments
    /// had an observation (coverage).
    #[utoipa::path(
        tag = "areas",
        params(("area_id" = String, Path, description = "Area id", example = "751-1"), SeriesQuery),
        responses(
            (status = 200, description = "The series (with `format=csv` or `Accept: text/csv`, the CSV of /v1/areas/{area_id}/series.csv instead, for links made before that operation)",
                content((SeriesResponse = "application/json"))),
            super::responses::NoSuchArea,
            (status = 400, description = "A missing or unknown indicator, an unknown delimitation or language", body = ProblemDetails, content_type = "application/problem+json"),
            super::responses::Unloaded,
        )
    )]
    #[get("/v1/areas/{area_id}/series")]
    get_series(path: String, query: SeriesQuery) => get_series_answer
}

representation! {
    /// The area's series and its references' as a table for Danish spreadsheets: one row per series and year.
    ///
    /// The same answer as `/v1/areas/{area_id}/series` with `format=csv`, as an operation of its own so that a
    /// generated client types it.
    #[utoipa::path(
        tag = "areas",
        params(("area_id" = String, Path, description = "Area id", example = "751-1"), SeriesQuery),
        responses(
            (status = 200, description = "`;`-separated, decimal commas, UTF-8 with a byte-order mark; booleans as `SAND`/`FALSK` (Danish) or \
                `TRUE`/`FALSE` (English); every row ends with what the table is of", content_type = "text/csv", body = String,
                example = json!("area_id;area_name;municipality_code;indicator;boundary_version;series;year;status;value;numerator;denominator;coverage;dataset_version\r\n751-1;Marguritten;751;outside_work_education;2024-09;area;2015;ok;44,1;512;1161;1;1\r\n")),
            super::responses::BadQuery,
            super::responses::NoSuchArea,
            super::responses::Unloaded,
        )
    )]
    #[get("/v1/areas/{area_id}/series.csv")]
    get_series_csv(path: String, query: SeriesQuery) => get_series_answer
}

representation! {
    /// The area's series and its references' as JSON-stat 2.0 (dimensions indicator × series × year).
    ///
    /// The figures of `/v1/areas/{area_id}/series`, for pyjstat, rjstat and jsonstat-toolkit, with a status
    /// for every cell without a figure and the dataset version as an extension.
    #[utoipa::path(
        tag = "areas",
        params(("area_id" = String, Path, description = "Area id", example = "751-1"), SeriesQuery),
        responses(
            (status = 200, description = "A JSON-stat 2.0 dataset; labels in the chosen language", body = super::jsonstat::JsonStatDataset),
            super::responses::BadQuery,
            super::responses::NoSuchArea,
            super::responses::Unloaded,
        )
    )]
    #[get("/v1/areas/{area_id}/series.jsonstat")]
    get_series_jsonstat(path: String, query: SeriesQuery) => get_series_answer
}

representation! {
    /// The area's series and its references' as an Excel workbook: one row per series and year.
    ///
    /// The table of `/v1/areas/{area_id}/series.csv` with numbers as numbers, yes/no as booleans, headers
    /// in the language, and a second sheet saying what it is (its context, source, dataset
    /// version and disclosure rules).
    #[utoipa::path(
        tag = "areas",
        params(("area_id" = String, Path, description = "Area id", example = "751-1"), SeriesQuery),
        responses(
            (status = 200, description = "An XLSX workbook (Office Open XML)", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
            super::responses::BadQuery,
            super::responses::NoSuchArea,
            super::responses::Unloaded,
        )
    )]
    #[get("/v1/areas/{area_id}/series.xlsx")]
    get_series_xlsx(path: String, query: SeriesQuery) => get_series_answer
}

async fn get_series_answer(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: QueryParams<SeriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    // (negotiated here, where the request is; its errors come in their old order below)
    let lang = Lang::negotiate(&req, query.lang.as_deref());
    let representation = Representation::of(&req, query.format.as_deref());
    render(&req, move || {
        let (area, _) = area_path(&snapshot, &path)?;
        let lang = lang?;
        let (indicator, _) = indicator_param(&snapshot, required(&query.indicator, "indicator", "an indicator code; see /v1/indicators")?)?;
        let unit = Unit::areas_of(&snapshot, query.boundary.as_deref())?;
        let years = match (query.from, query.to) {
            (Some(Year(from)), Some(Year(to))) if from > to => {
                return Err(ApiError::invalid("from", format!("from ({from}) must not be after to ({to})")));
            }
            (Some(Year(from)), Some(Year(to))) => Some((from, to)),
            (Some(Year(from)), None) => Some((from, crate::api::params::MAX_YEAR)),
            (None, Some(Year(to))) => Some((crate::api::params::MIN_YEAR, to)),
            (None, None) => None,
        };
        let covered = query.covered_years.map_or(0, |c| c.0 as u16);
        let unit = match years {
            _ if covered == 0 => unit,
            Some((from, to)) if query.from.is_some() && query.to.is_some() => unit.covered(&snapshot, from, to, covered)?,
            _ => return Err(ApiError::invalid("covered_years", "covered_years needs from and to: the years plans must have covered")),
        };
        let request = SeriesRequest { area, indicator, unit, years };
        let representation = representation?;
        let body = SeriesResponse::new(&snapshot, &request, series(&snapshot, &request), lang);
        match representation {
            Representation::JsonStat => series_jsonstat(&body, &snapshot, lang),
            Representation::Csv | Representation::Xlsx => {
                let filename = format!("series-{}-{}", body.area_id, body.indicator);
                series_table(&body, snapshot.dataset.version).download(&snapshot, lang, representation, &filename)
            }
            Representation::Json => data_json(&snapshot, Some(lang), &body),
        }
    })
    .await
}

impl SeriesResponse {
    fn new(snapshot: &Snapshot, request: &SeriesRequest, s: AreaSeries, lang: Lang) -> Self {
        let area = &snapshot.areas[request.area];
        let indicator = &snapshot.indicators[request.indicator];
        let points = |ps: &[Point]| ps.iter().map(SeriesPoint::new).collect::<Vec<_>>();
        SeriesResponse {
            dataset_version: snapshot.dataset.version,
            area_id: area.area_id.clone(),
            area_name: area.name.clone(),
            municipality_code: area.municipality.to_string(),
            indicator: indicator.code.clone(),
            indicator_name: lang.pick(&indicator.name_da, &indicator.name_en).to_string(),
            kind: indicator.kind,
            unit: indicator.kind.unit().to_string(),
            direction: indicator.direction,
            lang,
            boundary_version: request.unit.boundary_version.to_string(),
            department_count: s.department_count,
            covered_years: request.unit.covered_years(),
            departments_used: s.departments_used,
            departments_left_out: s.departments_left_out,
            series: Series {
                area: points(s.area),
                municipality: points(s.municipality),
                social_housing: points(s.social_housing),
                social_housing_rest: points(s.social_housing_rest),
                country: points(s.country),
            },
        }
    }
}

/// The series as JSON-stat: the indicator (the metric, with its unit) × the five series ×
/// the years; a cell without a point is `missing`, a withheld one `suppressed`.
fn series_jsonstat(s: &SeriesResponse, snapshot: &Snapshot, lang: Lang) -> Result<Rendered, ApiError> {
    use super::jsonstat::{Cube, Dimension, unit_label};
    let series = [
        ("area", lang.pick("Området", "The area"), &s.series.area),
        (Reference::Municipality.as_str(), lang.pick("Kommunen", "The municipality"), &s.series.municipality),
        (
            Reference::SocialHousing.as_str(),
            lang.pick("Almen sektor i kommunen", "Social housing in the municipality"),
            &s.series.social_housing,
        ),
        (
            Reference::SocialHousingRest.as_str(),
            lang.pick("Almen sektor uden helhedsplansområderne", "Social housing without the plan areas"),
            &s.series.social_housing_rest,
        ),
        (Reference::Country.as_str(), lang.pick("Hele landet", "Denmark"), &s.series.country),
    ];
    let mut years: Vec<u16> = series.iter().flat_map(|(_, _, ps)| ps.iter().map(|p| p.year)).collect();
    years.sort_unstable();
    years.dedup();
    let metric = Dimension {
        units: Some(vec![(unit_label(&s.unit, lang), 1)]),
        ..Dimension::new("indicator", lang.pick("Indikator", "Indicator"), vec![(s.indicator.clone(), s.indicator_name.clone())])
    };
    let dimensions = vec![
        metric,
        Dimension::new(
            "series",
            lang.pick("Serie", "Series"),
            series.iter().map(|(id, label, _)| (id.to_string(), label.to_string())).collect(),
        ),
        Dimension::new("year", lang.pick("År", "Year"), years.iter().map(|y| (y.to_string(), y.to_string())).collect()),
    ];
    let roles = serde_json::json!({"time": ["year"], "metric": ["indicator"]});
    let mut cube = Cube::new(format!("{}: {}", s.area_name, s.indicator_name), dimensions, roles);
    for (si, (_, _, points)) in series.iter().enumerate() {
        for (yi, year) in years.iter().enumerate() {
            match points.iter().find(|p| p.year == *year) {
                Some(p) => cube.set(
                    &[0, si, yi],
                    p.value,
                    p.value.is_none().then_some(if p.status == Status::Suppressed { "suppressed" } else { "missing" }),
                ),
                None => cube.set(&[0, si, yi], None, Some("missing")),
            }
        }
    }
    let extension =
        serde_json::json!({"area_id": s.area_id, "municipality_code": s.municipality_code, "boundary_version": s.boundary_version});
    cube.response(snapshot, lang, extension)
}

const SERIES_CSV_COLUMNS: [&str; 12] = [
    "area_id",
    "area_name",
    "municipality_code",
    "indicator",
    "boundary_version",
    "series",
    "year",
    "status",
    "value",
    "numerator",
    "denominator",
    "coverage",
];

/// The series as a spreadsheet table: the area's points, then each reference's.
fn series_table(s: &SeriesResponse, dataset_version: i64) -> Table {
    use csv::{number, text};
    let mut table = Table::described(&SERIES_CSV_COLUMNS, vec![("dataset_version", dataset_version.into())]);
    let series = [
        ("area", &s.series.area),
        ("municipality", &s.series.municipality),
        ("social_housing", &s.series.social_housing),
        ("social_housing_rest", &s.series.social_housing_rest),
        ("country", &s.series.country),
    ];
    for (name, points) in series {
        for p in points {
            table.row(vec![
                text(&s.area_id),
                text(&s.area_name),
                text(&s.municipality_code),
                text(&s.indicator),
                text(&s.boundary_version),
                name.into(),
                p.year.into(),
                p.status.as_str().into(),
                number(p.value),
                number(p.numerator),
                number(p.denominator),
                number(p.coverage),
            ]);
        }
    }
    table
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PlansQuery {
    /// An indicator code: each year then says what share of the area's residents (the
    /// indicator's denominator) the covered departments held.
    #[param(example = "outside_work_education")]
    pub indicator: Option<String>,
}

/// A plan of the area: its grant period and the departments it covered.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanItem {
    pub plan_id: String,
    pub name: String,
    pub from_year: u16,
    pub to_year: u16,
    /// Department ids, ascending.
    pub departments: Vec<String>,
}

/// One year of the area's plans.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanYear {
    pub year: u16,
    /// The area's departments (of the dataset's delimitation) some plan covered that year.
    pub departments_covered: usize,
    /// The area's departments.
    pub departments: usize,
    /// With `indicator`: the share (0 to 1) of the area's residents, by the indicator's
    /// denominator, in the covered departments; null unless `status` is `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub residents_share: Option<Option<f64>>,
    /// With `indicator`: `ok`, `suppressed` (a figure it is made of is withheld) or `missing`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlansResponse {
    pub dataset_version: i64,
    pub area_id: String,
    pub boundary_version: String,
    /// With `indicator`: its code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indicator: Option<String>,
    /// The area's plans, by plan id.
    pub plans: Vec<PlanItem>,
    /// Every year from the first plan's first year to the last plan's last.
    pub years: Vec<PlanYear>,
}

/// An area's plans and, year by year, how much of it they covered.
///
/// The boligsocial helhedsplaner granted for the area (plans.csv), each with its grant period and the departments it
/// covered, and for every year from the first period's start to the last one's end how many of the area's departments
/// a plan covered; with `indicator`, also the share of the area's residents those departments held (as published
/// figures allow: a withheld figure makes the share withheld too). An area without plans has none.
#[utoipa::path(
    tag = "areas",
    params(("area_id" = String, Path, description = "Area id", example = "751-1"), PlansQuery),
    responses(
        (status = 200, description = "The area's plans", body = PlansResponse),
        super::responses::NoSuchArea,
        (status = 400, description = "An unknown indicator", body = ProblemDetails, content_type = "application/problem+json"),
        super::responses::Unloaded,
    )
)]
#[get("/v1/areas/{area_id}/plans")]
pub async fn get_area_plans(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: QueryParams<PlansQuery>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    render(&req, move || {
        let (area, _) = area_path(&snapshot, &path)?;
        let indicator = query.indicator.as_deref().map(|code| indicator_param(&snapshot, code).map(|x| x.0)).transpose()?;
        let body = plans_of(&snapshot, area, indicator);
        data_json(&snapshot, None, &body)
    })
    .await
}

fn plans_of(snapshot: &Snapshot, area: usize, indicator: Option<usize>) -> PlansResponse {
    let unit = Unit::of_dataset(snapshot);
    let departments = &snapshot.access.departments;
    let plans: Vec<PlanItem> = snapshot
        .plans
        .plans
        .iter()
        .filter(|p| p.area == area)
        .map(|p| PlanItem {
            plan_id: p.plan_id.clone(),
            name: p.name.clone(),
            from_year: p.period.from,
            to_year: p.period.to,
            departments: p.departments.iter().map(|&d| departments[d].department_id.clone()).collect(),
        })
        .collect();
    let first = plans.iter().map(|p| p.from_year).min();
    let last = plans.iter().map(|p| p.to_year).max();
    let years = match (first, last) {
        (Some(first), Some(last)) => (first..=last)
            .map(|year| {
                let covered = snapshot.coverage.restrict(area, year, year, 1);
                let share = indicator.map(|i| residents_share(snapshot, &unit, area, i, year, covered));
                PlanYear {
                    year,
                    departments_covered: covered.used,
                    departments: unit.department_count(area),
                    residents_share: share.map(|s| s.1),
                    status: share.map(|s| s.0),
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    PlansResponse {
        dataset_version: snapshot.dataset.version,
        area_id: snapshot.areas[area].area_id.clone(),
        boundary_version: unit.boundary_version.to_string(),
        indicator: indicator.map(|i| snapshot.indicators[i].code.clone()),
        plans,
        years,
    }
}

/// The covered departments' share of the area's denominator in a year, from published
/// figures only.
fn residents_share(
    snapshot: &Snapshot,
    unit: &Unit,
    area: usize,
    indicator: usize,
    year: u16,
    covered: crate::snapshot::Restriction,
) -> (&'static str, Option<f64>) {
    use crate::snapshot::{Kept, figure_in};
    let whole = figure_in(unit.series(area, indicator), year).map(|p| p.figure);
    let part = match covered.kept {
        Kept::All => whole,
        Kept::Set(set) => figure_in(snapshot.coverage.series(set, indicator), year).map(|p| p.figure),
        // no department covered: none of the residents (a year beyond the data's has none)
        Kept::Nothing if covered.used == 0 => return if whole.is_some() { ("ok", Some(0.0)) } else { ("missing", None) },
        Kept::Nothing => None,
    };
    match (part, whole) {
        (Some(Figure::Ok { denominator: d, .. }), Some(Figure::Ok { denominator: all, .. })) if all > 0.0 => ("ok", Some(d / all)),
        (Some(Figure::Suppressed), _) | (_, Some(Figure::Suppressed)) => ("suppressed", None),
        _ => ("missing", None),
    }
}
