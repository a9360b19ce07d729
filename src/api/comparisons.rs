//! `/v1/comparisons`: every area of a delimitation against a reference (comparisons.md),
//! as JSON or as CSV for spreadsheets.

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::csv::{self, Format, Representation, Table};
use super::params::{self, CoveredYears, Threshold, TwinCount, Year, data_json, indicator_param};
use crate::domain::comparisons::{Comparison, Summary};
use crate::domain::figures::Status;
use crate::domain::model::{Direction, Kind, Reference};
use crate::error::{ApiError, ProblemDetails};
use crate::http::extract::QueryParams;
use crate::http::negotiate::Lang;
use crate::http::offload::{Rendered, render};
use crate::query::{
    Unit,
    comparisons::{AreaComparison, AreaProfileRequest, ComparisonRequest, IndicatorOutcome, Order, area_profile, compare_areas, summary},
    reference::{DEFAULT_TWINS, MAX_MATCH, ReferenceChoice},
};
use crate::snapshot::Snapshot;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ComparisonsQuery {
    /// Indicator code; see /v1/indicators.
    #[param(required = true, example = "outside_work_education")]
    pub indicator: Option<String>,
    /// First year, before `to`.
    #[param(required = true, inline, example = 2015)]
    pub from: Option<Year>,
    /// Last year, after `from`.
    #[param(required = true, inline, example = 2023)]
    pub to: Option<Year>,
    /// What each area is compared with (default `municipality`); see the `Reference` schema.
    #[param(value_type = Option<Reference>, example = "municipality")]
    pub reference: Option<String>,
    /// With `reference=twins`: how many twin areas, 1 to 20; default 5.
    #[param(inline, example = 5)]
    pub twins: Option<TwinCount>,
    /// With `reference=twins`: the indicators twins are matched on in the `from` year,
    /// comma-separated, at most 6; default the compared indicator.
    #[serde(rename = "match")]
    #[param(example = "outside_work_education,basic_education")]
    pub matching: Option<String>,
    /// Delimitation version; default the dataset's.
    #[param(example = "2024-09")]
    pub boundary: Option<String>,
    /// A number ≥ 0 in the indicator's unit (percentage points for a share); default 5.
    #[param(inline, example = 5.0)]
    pub threshold: Option<Threshold>,
    /// Make each area of its departments that plans covered in at least this many of the
    /// years from `from` to `to` (at most `to − from + 1`, which reads "covered throughout");
    /// default 0, every department (the note's method). The reference is unchanged. A dataset
    /// without plans answers a value above 0 with 400.
    #[param(inline, example = 4)]
    pub covered_years: Option<CoveredYears>,
    /// Order of the items: `area_id`, `name`, `municipality`, `difference` or
    /// `relative_difference`, with a leading `-` for descending; items without numbers come
    /// last. Default: the extract's order.
    #[param(pattern = "^-?(area_id|area|name|municipality|difference|relative_difference)$", example = "difference")]
    pub sort: Option<String>,
    /// `json` (default) or `csv` (`;`-separated, decimal commas, UTF-8 with a byte-order mark,
    /// for Danish spreadsheets; booleans as `SAND`/`FALSK` in Danish and `TRUE`/`FALSE` in
    /// English, as those spreadsheets read them; each row ends with the indicator, years,
    /// reference, threshold, delimitation and dataset version); `Accept: text/csv` also selects CSV.
    #[param(value_type = Option<Format>, example = "csv")]
    pub format: Option<String>,
    /// Label language; default from `Accept-Language`, else Danish.
    #[param(value_type = Option<Lang>)]
    pub lang: Option<String>,
}

impl ComparisonsQuery {
    pub fn params(&self) -> ComparisonParams<'_> {
        ComparisonParams {
            indicator: self.indicator.as_deref(),
            from: self.from,
            to: self.to,
            reference: self.reference.as_deref(),
            twins: self.twins,
            matching: self.matching.as_deref(),
            boundary: self.boundary.as_deref(),
            threshold: self.threshold,
            covered_years: self.covered_years,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ComparisonItem {
    pub area_id: String,
    pub area_name: String,
    #[schema(example = "751")]
    pub municipality_code: String,
    pub municipality_name: Option<String>,
    #[serde(flatten)]
    pub comparison: Comparison,
    /// With `reference=twins`: the twin areas' ids, nearest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub twins: Option<Vec<String>>,
    /// The area's departments its figures are made of: all of them, or with `covered_years`
    /// those covered long enough (none: the area is `missing`).
    pub departments_used: usize,
    /// The area's departments `covered_years` left out (0 without it).
    pub departments_left_out: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComparisonsResponse {
    pub dataset_version: i64,
    pub indicator: String,
    /// The indicator's name in the chosen language.
    pub indicator_name: String,
    pub kind: Kind,
    /// The unit of values; changes and differences of shares are percentage points.
    pub unit: String,
    pub direction: Direction,
    pub lang: Lang,
    pub from: u16,
    pub to: u16,
    pub reference: Reference,
    pub boundary_version: String,
    pub threshold: f64,
    /// The `covered_years` asked for (0: every department).
    pub covered_years: u16,
    pub items: Vec<ComparisonItem>,
    pub summary: Summary,
}

/// The comparison parameters of a query, typed; what they name is looked up in the snapshot.
#[derive(Debug, Clone, Copy, Default)]
pub struct ComparisonParams<'q> {
    pub indicator: Option<&'q str>,
    pub from: Option<Year>,
    pub to: Option<Year>,
    pub reference: Option<&'q str>,
    pub twins: Option<TwinCount>,
    pub matching: Option<&'q str>,
    pub boundary: Option<&'q str>,
    pub threshold: Option<Threshold>,
    pub covered_years: Option<CoveredYears>,
}

/// The comparison a query asks for, in the unit's order.
pub fn parse_request<'s>(snapshot: &'s Snapshot, p: ComparisonParams) -> Result<ComparisonRequest<'s>, ApiError> {
    let (indicator, _) =
        indicator_param(snapshot, params::required_str(p.indicator, "indicator", "an indicator code; see /v1/indicators")?)?;
    let Year(from) = p.from.ok_or_else(|| ApiError::invalid("from", "from is required: the first year, such as 2015"))?;
    let Year(to) = p.to.ok_or_else(|| ApiError::invalid("to", "to is required: the last year, such as 2023"))?;
    before(from, to)?;
    let (reference, unit) = reference_and_unit(snapshot, p)?;
    let covered = p.covered_years.map_or(0, |c| c.0 as u16);
    let unit = unit.covered(snapshot, from, to, covered)?;
    Ok(ComparisonRequest { indicator, from, to, reference, unit, threshold: Threshold::or_default(p.threshold), order: None })
}

/// An order of items as `sort` spells it.
pub fn parse_order(sort: Option<&str>) -> Result<Option<Order>, ApiError> {
    sort.map(|text| {
        text.parse().map_err(|()| {
            ApiError::invalid(
                "sort",
                format!(
                    "sort {text:?} must be area_id, name, municipality, difference or relative_difference, optionally with a leading -"
                ),
            )
        })
    })
    .transpose()
}

/// The items of a comparison, named for output.
pub fn items(snapshot: &Snapshot, comparisons: Vec<AreaComparison>) -> Vec<ComparisonItem> {
    comparisons.into_iter().map(|c| item(snapshot, c)).collect()
}

fn item(snapshot: &Snapshot, c: AreaComparison) -> ComparisonItem {
    let area = &snapshot.areas[c.area];
    ComparisonItem {
        area_id: area.area_id.clone(),
        area_name: area.name.clone(),
        municipality_code: area.municipality.to_string(),
        municipality_name: snapshot.municipalities.get(&area.municipality).map(|m| m.name.clone()),
        comparison: c.comparison,
        twins: twin_ids(snapshot, c.twins),
        departments_used: c.departments_used,
        departments_left_out: c.departments_left_out,
    }
}

fn twin_ids(snapshot: &Snapshot, twins: Option<Vec<usize>>) -> Option<Vec<String>> {
    twins.map(|t| t.into_iter().map(|a| snapshot.areas[a].area_id.clone()).collect())
}

/// `from` must come before `to`.
pub(crate) fn before(from: u16, to: u16) -> Result<(), ApiError> {
    if from < to { Ok(()) } else { Err(ApiError::invalid("from", format!("from ({from}) must be before to ({to})"))) }
}

/// What every comparison is made with: the reference (default the municipality; for twins,
/// how many and on what) and the unit (the areas of the delimitation asked for, default the
/// dataset's).
fn reference_and_unit<'s>(snapshot: &'s Snapshot, p: ComparisonParams) -> Result<(ReferenceChoice, Unit<'s>), ApiError> {
    let reference = reference_choice(snapshot, p.reference, p.twins, p.matching)?;
    Ok((reference, Unit::areas_of(snapshot, p.boundary)?))
}

/// The reference and, for twins, their number and profile. `twins` and `match` belong to
/// `reference=twins` alone: elsewhere they are refused rather than ignored.
pub fn reference_choice(
    snapshot: &Snapshot,
    reference: Option<&str>,
    twins: Option<TwinCount>,
    matching: Option<&str>,
) -> Result<ReferenceChoice, ApiError> {
    let reference = reference.map(params::reference).transpose()?.unwrap_or(Reference::Municipality);
    if reference != Reference::Twins {
        for (name, given) in [("twins", twins.is_some()), ("match", matching.is_some())] {
            if given {
                return Err(ApiError::invalid(name, format!("{name} applies only to reference=twins")));
            }
        }
        return Ok(ReferenceChoice::of(reference));
    }
    let count = TwinCount::or(twins, DEFAULT_TWINS);
    let mut profile = Vec::new();
    if let Some(text) = matching {
        for code in text.split(',').map(str::trim) {
            let (i, _) = snapshot
                .indicator(code)
                .ok_or_else(|| ApiError::invalid("match", format!("unknown indicator {code:?} in match; see /v1/indicators")))?;
            if profile.contains(&i) {
                return Err(ApiError::invalid("match", format!("match names {code:?} twice")));
            }
            profile.push(i);
        }
        if profile.len() > MAX_MATCH {
            return Err(ApiError::invalid("match", format!("match may name at most {MAX_MATCH} indicators, not {}", profile.len())));
        }
    }
    Ok(ReferenceChoice { reference, twins: count, matching: profile })
}

representation! {
    /// How every area developed against a reference (comparisons.md).
    ///
    /// For one indicator and two years: each area's change from `from` to `to`, the reference's change (its
    /// municipality, the social-housing sector there, that sector without the plan areas, its statistical twins, or
    /// Denmark), the difference in the indicator's direction, relative changes and gaps, whether the area developed
    /// more strongly, and whether the difference is beyond the threshold; with a summary over all areas. Areas whose
    /// figures are withheld are listed with the status `suppressed` and no numbers.
    #[utoipa::path(
        tag = "comparisons",
        params(ComparisonsQuery),
        responses(
            (status = 200, description = "The items and the summary (with `format=csv` or `Accept: text/csv`, the CSV of /v1/comparisons.csv instead, for links made before that operation)",
             content((ComparisonsResponse = "application/json", example = json!({"dataset_version": 1, "indicator": "outside_work_education", "indicator_name": "Uden for arbejdsmarkedet eller uddannelse",
                "kind": "share", "unit": "percent", "direction": "lower_is_better", "lang": "da", "from": 2015, "to": 2023, "reference": "municipality",
                "boundary_version": "2024-09", "threshold": 5.0, "covered_years": 0,
                "items": [{"area_id": "751-1", "area_name": "Marguritten", "municipality_code": "751", "municipality_name": "Aarhus", "status": "ok",
                    "area_from": 44.1, "area_to": 33.5, "area_change": -10.6, "area_relative_change": -24.04,
                    "reference_from": 17.2, "reference_to": 14.3, "reference_change": -2.9, "reference_relative_change": -16.86,
                    "difference": -7.7, "difference_rounded": -7.7, "relative_difference": -7.18, "gap_from": 26.9, "gap_to": 19.2,
                    "stronger": true, "stronger_relative": true, "beyond_threshold": true,
                    "departments_used": 6, "departments_left_out": 0}],
                "summary": {"areas": 48, "compared": 48, "suppressed": 0, "missing": 0, "improved": 48, "stronger": 48, "stronger_relative": 31,
                    "beyond_threshold": 25, "threshold": 5.0, "median_difference": -5.3}})))),
            super::responses::BadQuery,
            super::responses::Unloaded,
        )
    )]
    #[get("/v1/comparisons")]
    get_comparisons(query: ComparisonsQuery) => get_comparisons_answer
}

representation! {
    /// Every area against the reference as a table for Danish spreadsheets: the items of `/v1/comparisons`, one row each (the summary is left out).
    ///
    /// The same answer as `/v1/comparisons` with `format=csv`, as an operation of its own so that a
    /// generated client types it.
    #[utoipa::path(
        tag = "comparisons",
        params(ComparisonsQuery),
        responses(
            (status = 200, description = "`;`-separated, decimal commas, UTF-8 with a byte-order mark; booleans as `SAND`/`FALSK` (Danish) or \
                `TRUE`/`FALSE` (English); every row ends with what the table is of", content_type = "text/csv", body = String,
                example = json!("area_id;area_name;municipality_code;municipality_name;status;area_from;area_to;area_change;area_relative_change;reference_from;reference_to;reference_change;reference_relative_change;difference;difference_rounded;relative_difference;gap_from;gap_to;stronger;stronger_relative;beyond_threshold;departments_used;departments_left_out;indicator;from;to;reference;threshold;boundary_version;covered_years;dataset_version\r\n751-1;Marguritten;751;Aarhus;ok;44,1;33,5;-10,6;-24,04;17,2;14,3;-2,9;-16,86;-7,7;-7,7;-7,18;26,9;19,2;SAND;SAND;SAND;6;0;outside_work_education;2015;2023;municipality;5;2024-09;0;1\r\n")),
            super::responses::BadQuery,
            super::responses::Unloaded,
        )
    )]
    #[get("/v1/comparisons.csv")]
    get_comparisons_csv(query: ComparisonsQuery) => get_comparisons_answer
}

representation! {
    /// Every area against the reference as JSON-stat 2.0 (dimensions area × measure, the measures with their units).
    ///
    /// The figures of `/v1/comparisons`, for pyjstat, rjstat and jsonstat-toolkit, with a status
    /// for every cell without a figure and the dataset version as an extension.
    #[utoipa::path(
        tag = "comparisons",
        params(ComparisonsQuery),
        responses(
            (status = 200, description = "A JSON-stat 2.0 dataset; labels in the chosen language", body = super::jsonstat::JsonStatDataset),
            super::responses::BadQuery,
            super::responses::Unloaded,
        )
    )]
    #[get("/v1/comparisons.jsonstat")]
    get_comparisons_jsonstat(query: ComparisonsQuery) => get_comparisons_answer
}

representation! {
    /// Every area against the reference as an Excel workbook: the items of `/v1/comparisons`, one row each.
    ///
    /// The table of `/v1/comparisons.csv` with numbers as numbers, yes/no as booleans, headers
    /// in the language, and a second sheet saying what it is (its context, source, dataset
    /// version and disclosure rules).
    #[utoipa::path(
        tag = "comparisons",
        params(ComparisonsQuery),
        responses(
            (status = 200, description = "An XLSX workbook (Office Open XML)", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
            super::responses::BadQuery,
            super::responses::Unloaded,
        )
    )]
    #[get("/v1/comparisons.xlsx")]
    get_comparisons_xlsx(query: ComparisonsQuery) => get_comparisons_answer
}

async fn get_comparisons_answer(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: QueryParams<ComparisonsQuery>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    let lang = Lang::negotiate(&req, query.lang.as_deref())?;
    let representation = Representation::of(&req, query.format.as_deref());
    render(&req, move || {
        let mut request = parse_request(&snapshot, query.params())?;
        let representation = representation?;
        request.order = parse_order(query.sort.as_deref())?;
        let compared = compare_areas(&snapshot, &request);
        let summary = summary(&snapshot, &request, &compared);
        let items = items(&snapshot, compared);
        match representation {
            Representation::JsonStat => comparisons_jsonstat(&snapshot, &request, &items, lang),
            Representation::Csv | Representation::Xlsx => {
                let indicator = &snapshot.indicators[request.indicator].code;
                let reference = request.reference.reference.as_str();
                let filename = format!("comparisons-{indicator}-{}-{}-{reference}", request.from, request.to);
                table(&snapshot, &request, &items).download(&snapshot, lang, representation, &filename)
            }
            Representation::Json => data_json(&snapshot, Some(lang), &ComparisonsResponse::new(&snapshot, &request, lang, items, summary)),
        }
    })
    .await
}

impl ComparisonsResponse {
    fn new(snapshot: &Snapshot, request: &ComparisonRequest, lang: Lang, items: Vec<ComparisonItem>, summary: Summary) -> Self {
        let indicator = &snapshot.indicators[request.indicator];
        ComparisonsResponse {
            dataset_version: snapshot.dataset.version,
            indicator: indicator.code.clone(),
            indicator_name: lang.pick(&indicator.name_da, &indicator.name_en).to_string(),
            kind: indicator.kind,
            unit: indicator.kind.unit().to_string(),
            direction: indicator.direction,
            lang,
            from: request.from,
            to: request.to,
            reference: request.reference.reference,
            boundary_version: request.unit.boundary_version.to_string(),
            threshold: request.threshold,
            covered_years: request.covered_years(),
            items,
            summary,
        }
    }
}

/// The items as a spreadsheet table, every row ending with what the comparison is of.
fn table(snapshot: &Snapshot, request: &ComparisonRequest, items: &[ComparisonItem]) -> Table {
    let context = vec![
        ("indicator", csv::text(&snapshot.indicators[request.indicator].code)),
        ("from", request.from.into()),
        ("to", request.to.into()),
        ("reference", request.reference.reference.as_str().into()),
        ("threshold", csv::number(Some(request.threshold))),
        ("boundary_version", csv::text(request.unit.boundary_version)),
        ("covered_years", request.covered_years().into()),
        ("dataset_version", snapshot.dataset.version.into()),
    ];
    to_table(items, request.reference.reference == Reference::Twins, context)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CoverageQuery {
    /// Indicator code; see /v1/indicators.
    #[param(required = true, example = "outside_work_education")]
    pub indicator: Option<String>,
    /// First year, before `to`.
    #[param(required = true, inline, example = 2015)]
    pub from: Option<Year>,
    /// Last year, after `from`.
    #[param(required = true, inline, example = 2023)]
    pub to: Option<Year>,
    /// What each area is compared with (default `municipality`); see the `Reference` schema.
    #[param(value_type = Option<Reference>, example = "municipality")]
    pub reference: Option<String>,
    /// With `reference=twins`: how many twin areas, 1 to 20; default 5.
    #[param(inline, example = 5)]
    pub twins: Option<TwinCount>,
    /// With `reference=twins`: the indicators twins are matched on, comma-separated, at most 6.
    #[serde(rename = "match")]
    #[param(example = "outside_work_education,basic_education")]
    pub matching: Option<String>,
    /// A number ≥ 0 in the indicator's unit; default 5.
    #[param(inline, example = 5.0)]
    pub threshold: Option<Threshold>,
}

/// The summary under one `covered_years`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageItem {
    pub covered_years: u16,
    /// Exactly the summary of `/v1/comparisons` with this `covered_years`.
    pub summary: Summary,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageResponse {
    pub dataset_version: i64,
    pub indicator: String,
    pub from: u16,
    pub to: u16,
    pub reference: Reference,
    pub boundary_version: String,
    pub threshold: f64,
    /// One per `covered_years` from 0 (every department, the note's method) to `to − from + 1`
    /// (covered throughout).
    pub items: Vec<CoverageItem>,
}

/// The note's headline counts for every `covered_years`, side by side.
///
/// Is the development stronger where the plans have been longer? For one indicator, two years and a reference, the
/// summary of `/v1/comparisons` (areas compared, improved, stronger, beyond the threshold, the median difference) for
/// each `covered_years` from 0 to `to − from + 1`: each area made of its departments that plans covered in at least
/// that many of the years. A dataset without plans answers 400.
#[utoipa::path(
    tag = "comparisons",
    params(CoverageQuery),
    responses(
        (status = 200, description = "One summary per covered_years", body = CoverageResponse),
        super::responses::BadQuery,
        super::responses::Unloaded,
    )
)]
#[get("/v1/comparisons/coverage")]
pub async fn get_comparisons_coverage(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: QueryParams<CoverageQuery>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    render(&req, move || {
        let p = ComparisonParams {
            indicator: query.indicator.as_deref(),
            from: query.from,
            to: query.to,
            reference: query.reference.as_deref(),
            twins: query.twins,
            matching: query.matching.as_deref(),
            boundary: None,
            threshold: query.threshold,
            covered_years: None,
        };
        let all = parse_request(&snapshot, p)?;
        if !snapshot.coverage.has_plans() {
            return Err(ApiError::invalid(
                "covered_years",
                "this dataset version has no plans (plans.csv), so it cannot say which departments were covered",
            ));
        }
        let mut items = Vec::new();
        for n in 0..=(all.to - all.from + 1) {
            let request = ComparisonRequest { unit: all.unit.covered(&snapshot, all.from, all.to, n)?, ..all.clone() };
            let compared = compare_areas(&snapshot, &request);
            items.push(CoverageItem { covered_years: n, summary: summary(&snapshot, &request, &compared) });
        }
        let body = CoverageResponse {
            dataset_version: snapshot.dataset.version,
            indicator: snapshot.indicators[all.indicator].code.clone(),
            from: all.from,
            to: all.to,
            reference: all.reference.reference,
            boundary_version: all.unit.boundary_version.to_string(),
            threshold: all.threshold,
            items,
        };
        data_json(&snapshot, None, &body)
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AreaComparisonsQuery {
    /// First year for every indicator; default each indicator's first year with data.
    #[param(inline, example = 2015)]
    pub from: Option<Year>,
    /// Last year for every indicator; default each indicator's last year with data.
    #[param(inline, example = 2023)]
    pub to: Option<Year>,
    /// What the area is compared with (default `municipality`); see the `Reference` schema.
    #[param(value_type = Option<Reference>, example = "municipality")]
    pub reference: Option<String>,
    /// With `reference=twins`: how many twin areas, 1 to 20; default 5.
    #[param(inline, example = 5)]
    pub twins: Option<TwinCount>,
    /// With `reference=twins`: the indicators twins are matched on in the `from` year,
    /// comma-separated, at most 6; default each compared indicator itself.
    #[serde(rename = "match")]
    #[param(example = "outside_work_education,basic_education")]
    pub matching: Option<String>,
    /// Delimitation version; default the dataset's.
    #[param(example = "2024-09")]
    pub boundary: Option<String>,
    /// A number ≥ 0, applied in each indicator's own unit; default 5.
    #[param(inline, example = 5.0)]
    pub threshold: Option<Threshold>,
    /// Label language; default from `Accept-Language`, else Danish.
    #[param(value_type = Option<Lang>)]
    pub lang: Option<String>,
}

/// One indicator's comparison for the area.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorComparison {
    pub indicator: String,
    /// The indicator's name in the chosen language.
    pub indicator_name: String,
    pub kind: Kind,
    pub unit: String,
    pub direction: Direction,
    /// The years compared; null when the indicator has fewer than two years with data.
    pub from: Option<u16>,
    pub to: Option<u16>,
    #[serde(flatten)]
    pub comparison: Comparison,
    /// With `reference=twins`: the twin areas' ids on this indicator, nearest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub twins: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AreaComparisonsResponse {
    pub dataset_version: i64,
    pub area_id: String,
    pub area_name: String,
    pub municipality_code: String,
    pub municipality_name: Option<String>,
    pub lang: Lang,
    pub reference: Reference,
    pub boundary_version: String,
    pub threshold: f64,
    /// One per indicator, in the catalogue's order.
    pub items: Vec<IndicatorComparison>,
}

/// One area against a reference on every indicator.
///
/// The area's page on a map in one request: for each indicator with data, its comparison with the reference (as
/// /v1/comparisons computes it) between the years asked for, or each indicator's first and last year with data.
#[utoipa::path(
    tag = "comparisons",
    params(("area_id" = String, Path, description = "Area id", example = "751-1"), AreaComparisonsQuery),
    responses(
        (status = 200, description = "Every indicator's comparison for the area", body = AreaComparisonsResponse),
        (status = 400, description = "An invalid parameter: the problem names it", body = ProblemDetails, content_type = "application/problem+json"),
        super::responses::NoSuchArea,
        super::responses::Unloaded,
    )
)]
#[get("/v1/areas/{area_id}/comparisons")]
pub async fn get_area_comparisons(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: QueryParams<AreaComparisonsQuery>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    let lang = Lang::negotiate(&req, query.lang.as_deref());
    render(&req, move || {
        let (area, _) = params::area_path(&snapshot, &path)?;
        let lang = lang?;
        let request = query.request(&snapshot, area)?;
        let items = area_profile(&snapshot, &request).into_iter().map(|o| IndicatorComparison::new(&snapshot, o, lang)).collect();
        data_json(&snapshot, Some(lang), &AreaComparisonsResponse::new(&snapshot, &request, lang, items))
    })
    .await
}

impl AreaComparisonsQuery {
    fn request<'s>(&self, snapshot: &'s Snapshot, area: usize) -> Result<AreaProfileRequest<'s>, ApiError> {
        let (from, to) = (self.from.map(|y| y.0), self.to.map(|y| y.0));
        if let (Some(f), Some(t)) = (from, to) {
            before(f, t)?;
        }
        let p = ComparisonParams {
            reference: self.reference.as_deref(),
            twins: self.twins,
            matching: self.matching.as_deref(),
            boundary: self.boundary.as_deref(),
            threshold: self.threshold,
            ..ComparisonParams::default()
        };
        let (reference, unit) = reference_and_unit(snapshot, p)?;
        Ok(AreaProfileRequest { area, from, to, reference, unit, threshold: Threshold::or_default(self.threshold) })
    }
}

impl IndicatorComparison {
    fn new(snapshot: &Snapshot, o: IndicatorOutcome, lang: Lang) -> Self {
        let indicator = &snapshot.indicators[o.indicator];
        IndicatorComparison {
            indicator: indicator.code.clone(),
            indicator_name: lang.pick(&indicator.name_da, &indicator.name_en).to_string(),
            kind: indicator.kind,
            unit: indicator.kind.unit().to_string(),
            direction: indicator.direction,
            from: o.years.map(|y| y.0),
            to: o.years.map(|y| y.1),
            comparison: o.comparison,
            twins: twin_ids(snapshot, o.twins),
        }
    }
}

impl AreaComparisonsResponse {
    fn new(snapshot: &Snapshot, request: &AreaProfileRequest, lang: Lang, items: Vec<IndicatorComparison>) -> Self {
        let area = &snapshot.areas[request.area];
        AreaComparisonsResponse {
            dataset_version: snapshot.dataset.version,
            area_id: area.area_id.clone(),
            area_name: area.name.clone(),
            municipality_code: area.municipality.to_string(),
            municipality_name: snapshot.municipalities.get(&area.municipality).map(|m| m.name.clone()),
            lang,
            reference: request.reference.reference,
            boundary_version: request.unit.boundary_version.to_string(),
            threshold: request.threshold,
            items,
        }
    }
}

const CSV_COLUMNS: [&str; 23] = [
    "area_id",
    "area_name",
    "municipality_code",
    "municipality_name",
    "status",
    "area_from",
    "area_to",
    "area_change",
    "area_relative_change",
    "reference_from",
    "reference_to",
    "reference_change",
    "reference_relative_change",
    "difference",
    "difference_rounded",
    "relative_difference",
    "gap_from",
    "gap_to",
    "stronger",
    "stronger_relative",
    "beyond_threshold",
    "departments_used",
    "departments_left_out",
];

/// The items as JSON-stat: area × measure, each measure with its unit; an item without
/// figures has its status (`suppressed`, `missing`) on each of its cells.
fn comparisons_jsonstat(
    snapshot: &Snapshot,
    request: &ComparisonRequest,
    items: &[ComparisonItem],
    lang: Lang,
) -> Result<Rendered, ApiError> {
    use super::jsonstat::{Cube, Dimension, unit_label};
    let indicator = &snapshot.indicators[request.indicator];
    let level = indicator.kind.unit();
    // a change in a share is in percentage points; relative changes are percentages
    let change = if indicator.kind == Kind::Share { "percentage_points" } else { level };
    // (id, Danish label, English label, unit, the figure)
    type Measure = (&'static str, &'static str, &'static str, &'static str, fn(&Comparison) -> Option<f64>);
    let measures: [Measure; 13] = [
        ("area_from", "Området, fra", "The area, from", level, |c| c.area_from),
        ("area_to", "Området, til", "The area, to", level, |c| c.area_to),
        ("area_change", "Områdets udvikling", "The area's change", change, |c| c.area_change),
        ("area_relative_change", "Områdets relative udvikling", "The area's relative change", "percent", |c| c.area_relative_change),
        ("reference_from", "Referencen, fra", "The reference, from", level, |c| c.reference_from),
        ("reference_to", "Referencen, til", "The reference, to", level, |c| c.reference_to),
        ("reference_change", "Referencens udvikling", "The reference's change", change, |c| c.reference_change),
        ("reference_relative_change", "Referencens relative udvikling", "The reference's relative change", "percent", |c| {
            c.reference_relative_change
        }),
        ("difference", "Forskel i udvikling", "Difference in change", change, |c| c.difference),
        ("difference_rounded", "Forskel i udvikling, afrundet", "Difference in change, rounded", change, |c| c.difference_rounded),
        ("relative_difference", "Forskel i relativ udvikling", "Difference in relative change", "percent", |c| c.relative_difference),
        ("gap_from", "Afstand, fra", "Gap, from", change, |c| c.gap_from),
        ("gap_to", "Afstand, til", "Gap, to", change, |c| c.gap_to),
    ];
    // (counts of departments, whole numbers)
    type Count = (&'static str, &'static str, &'static str, fn(&ComparisonItem) -> usize);
    let counts: [Count; 2] = [
        ("departments_used", "Afdelinger med", "Departments used", |i| i.departments_used),
        ("departments_left_out", "Afdelinger udeladt", "Departments left out", |i| i.departments_left_out),
    ];
    let areas = items.iter().map(|i| (i.area_id.clone(), i.area_name.clone())).collect();
    let measure = Dimension {
        units: Some(
            measures
                .iter()
                .map(|m| (unit_label(m.3, lang), 2))
                .chain(counts.iter().map(|_| (lang.pick("afdelinger", "departments").into(), 0)))
                .collect(),
        ),
        ..Dimension::new(
            "measure",
            lang.pick("Mål", "Measure"),
            measures
                .iter()
                .map(|m| (m.0.to_string(), lang.pick(m.1, m.2).to_string()))
                .chain(counts.iter().map(|m| (m.0.to_string(), lang.pick(m.1, m.2).to_string())))
                .collect(),
        )
    };
    let dimensions = vec![Dimension::new("area", lang.pick("Område", "Area"), areas), measure];
    let label = format!(
        "{} {}–{}, {} {}",
        lang.pick(&indicator.name_da, &indicator.name_en),
        request.from,
        request.to,
        lang.pick("mod", "against"),
        request.reference.reference.label(lang == Lang::Da)
    );
    let mut cube = Cube::new(label, dimensions, serde_json::json!({"geo": ["area"], "metric": ["measure"]}));
    for (a, item) in items.iter().enumerate() {
        let c = &item.comparison;
        for (m, (.., get)) in measures.iter().enumerate() {
            let value = get(c);
            let status = match (value, c.status) {
                (Some(_), _) => None,
                (None, Status::Ok) => Some("missing"),
                (None, other) => Some(other.as_str()),
            };
            cube.set(&[a, m], value, status);
        }
        for (m, (.., get)) in counts.iter().enumerate() {
            cube.set(&[a, measures.len() + m], Some(get(item) as f64), None);
        }
    }
    let extension = serde_json::json!({
        "indicator": indicator.code, "from": request.from, "to": request.to, "reference": request.reference.reference.as_str(),
        "threshold": request.threshold, "boundary_version": request.unit.boundary_version, "covered_years": request.covered_years(),
    });
    cube.response(snapshot, lang, extension)
}

/// The items as a spreadsheet table; for twins, with a column naming them (space between
/// ids); every row ends with what the table is of (`context`).
pub fn to_table(items: &[ComparisonItem], with_twins: bool, context: Vec<(&str, csv::Cell)>) -> Table {
    use csv::{flag, number, text};
    let mut columns = CSV_COLUMNS.to_vec();
    if with_twins {
        columns.push("twins");
    }
    let mut table = Table::described(&columns, context);
    for i in items {
        let c = &i.comparison;
        let mut row = vec![
            text(&i.area_id),
            text(&i.area_name),
            text(&i.municipality_code),
            text(i.municipality_name.as_deref().unwrap_or("")),
            c.status.as_str().into(),
            number(c.area_from),
            number(c.area_to),
            number(c.area_change),
            number(c.area_relative_change),
            number(c.reference_from),
            number(c.reference_to),
            number(c.reference_change),
            number(c.reference_relative_change),
            number(c.difference),
            number(c.difference_rounded),
            number(c.relative_difference),
            number(c.gap_from),
            number(c.gap_to),
            flag(c.stronger),
            flag(c.stronger_relative),
            flag(c.beyond_threshold),
        ];
        row.push((i.departments_used as i64).into());
        row.push((i.departments_left_out as i64).into());
        if with_twins {
            row.push(text(&i.twins.as_deref().unwrap_or_default().join(" ")));
        }
        table.row(row);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, name: &str, difference: Option<f64>) -> ComparisonItem {
        let mut c = crate::domain::comparisons::compare(
            Direction::LowerIsBetter,
            5.0,
            crate::domain::comparisons::ComparisonInputs { area_from: None, area_to: None, reference_from: None, reference_to: None },
        );
        if let Some(d) = difference {
            c.status = Status::Ok;
            c.difference = Some(d);
            c.area_from = Some(12.5);
        }
        ComparisonItem {
            area_id: id.into(),
            area_name: name.into(),
            municipality_code: "101".into(),
            municipality_name: None,
            comparison: c,
            twins: None,
            departments_used: 3,
            departments_left_out: 0,
        }
    }

    #[test]
    fn csv_for_danish_spreadsheets() {
        let mut b = item("b", "Nord; Syd", None);
        (b.comparison.stronger, b.comparison.beyond_threshold) = (Some(true), Some(false));
        let context = vec![("indicator", csv::text("x")), ("dataset_version", 7i64.into())];
        let width = context.len();
        let csv = to_table(&[item("a", "=HYPERLINK(\"x\")", Some(-2.5)), b], false, context).csv(Lang::Da);
        assert!(csv.starts_with("\u{feff}area_id;area_name;"));
        let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[1].starts_with("a;\"'=HYPERLINK(\"\"x\"\")\";101;;ok;12,5;"), "{}", lines[1]);
        assert!(lines[1].contains(";-2,5;"));
        assert!(lines[2].starts_with("b;\"Nord; Syd\";101;;missing;"));
        assert_eq!(lines[1].matches(';').count(), CSV_COLUMNS.len() + width - 1);
        // booleans as Danish spreadsheets read them, and every row says what it is of
        assert!(
            lines[0]
                .ends_with(";stronger;stronger_relative;beyond_threshold;departments_used;departments_left_out;indicator;dataset_version"),
            "{}",
            lines[0]
        );
        assert!(lines[2].ends_with(";SAND;;FALSK;3;0;x;7"), "{}", lines[2]);
    }
}
