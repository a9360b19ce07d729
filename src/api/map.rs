//! `/v1/map/areas` and `/v1/map/municipalities`: GeoJSON (RFC 7946) layers for maps, with a
//! chosen indicator's values or a comparison, and class breaks for a choropleth.

use std::borrow::Cow;

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::IntoParams;

use super::AppState;
use super::areas::delimitation;
use super::comparisons::{ComparisonParams, parse_request, reference_choice};
use super::params::{self, indicator_param};
use crate::domain::classes::{Classification, Method};
use crate::domain::figures::Figure;
use crate::domain::geometry::{BBox, MultiPolygon, bbox_intersects, convex_hull};
use crate::domain::model::Reference;
use crate::error::{ApiError, ProblemDetails};
use crate::http::negotiate::Lang;
use crate::http::offload::render;
use crate::snapshot::{Area, DEFAULT_PRECISION, Delimitation, Municipality, Snapshot, figure_in};

pub const GEO_JSON: &str = crate::http::formats::GEO_JSON.media_type;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MapQuery {
    /// Delimitation version; default the dataset's.
    pub boundary: Option<String>,
    /// An indicator code: with `year` for its values, or with `from` and `to` for a comparison.
    #[param(example = "outside_work_education")]
    pub indicator: Option<String>,
    /// The year of the values.
    #[param(value_type = Option<u16>, minimum = 1900, maximum = 2100, example = 2023)]
    pub year: Option<String>,
    /// First year of a comparison.
    #[param(value_type = Option<u16>, minimum = 1900, maximum = 2100, example = 2015)]
    pub from: Option<String>,
    /// Last year of a comparison.
    #[param(value_type = Option<u16>, minimum = 1900, maximum = 2100, example = 2023)]
    pub to: Option<String>,
    /// Reference of a comparison; default `municipality`.
    #[param(value_type = Option<Reference>)]
    pub reference: Option<String>,
    /// With `reference=twins`: how many twin areas, 1 to 20; default 5.
    #[param(value_type = Option<u16>, minimum = 1, maximum = 20)]
    pub twins: Option<String>,
    /// With `reference=twins`: the indicators twins are matched on in the `from` year,
    /// comma-separated, at most 6; default the compared indicator.
    #[serde(rename = "match")]
    pub matching: Option<String>,
    /// A year of the legal criteria (without indicator, year, from and to): each feature
    /// carries its classifications (`yes`, `no` or `undetermined`) by their ids.
    #[param(value_type = Option<u16>, minimum = 1900, maximum = 2100, example = 2024)]
    pub criteria_year: Option<String>,
    /// With `criteria_year`: a rule set id (see /v1/rules); default the one valid for the year.
    pub rules: Option<String>,
    /// Threshold of a comparison; default 5.
    #[param(value_type = Option<f64>, minimum = 0)]
    pub threshold: Option<String>,
    /// Number of classes; default 5.
    #[param(value_type = Option<u8>, minimum = 2, maximum = 9, example = 5)]
    pub classes: Option<String>,
    /// Class breaks by quantiles (default) or equal intervals.
    #[param(value_type = Option<Method>)]
    pub classification: Option<String>,
    /// `minLon,minLat,maxLon,maxLat` (WGS 84): only features whose extent meets the box.
    #[param(example = "9.9,56.0,10.4,56.3")]
    pub bbox: Option<String>,
    /// Decimals of coordinates; default 7 (about a centimetre).
    #[param(value_type = Option<u8>, minimum = 0, maximum = 15, example = 5)]
    pub precision: Option<String>,
    /// Simplification tolerance in metres (Douglas-Peucker) for small zoom levels; default 0.
    #[param(value_type = Option<f64>, minimum = 0, maximum = 100000, example = 10.0)]
    pub simplify: Option<String>,
    /// `false` for a layer without geometry (properties only).
    #[param(value_type = Option<bool>)]
    pub geometry: Option<String>,
    /// Label language; default from `Accept-Language`, else Danish.
    #[param(value_type = Option<Lang>)]
    pub lang: Option<String>,
}

/// Shape options shared with OGC API – Features.
pub struct Shape {
    pub precision: usize,
    pub simplify: f64,
    pub geometry: bool,
}

pub fn parse_bbox(text: Option<&str>) -> Result<Option<BBox>, ApiError> {
    let Some(text) = text else { return Ok(None) };
    let bad = || ApiError::invalid("bbox", format!("bbox {text:?} must be minLon,minLat,maxLon,maxLat in WGS 84"));
    // (non-finite numbers are refused below; -0 is 0)
    let v: Vec<f64> = text.split(',').map(|x| x.trim().parse::<f64>().map(|v| v + 0.0)).collect::<Result<_, _>>().map_err(|_| bad())?;
    // OGC allows six numbers (with heights); the heights are ignored
    let b = match v[..] {
        [a, b, c, d] => [a, b, c, d],
        [a, b, _, c, d, _] => [a, b, c, d],
        _ => return Err(bad()),
    };
    let ok = b.iter().all(|x| x.is_finite())
        && (-180.0..=180.0).contains(&b[0])
        && (-180.0..=180.0).contains(&b[2])
        && (-90.0..=90.0).contains(&b[1])
        && (-90.0..=90.0).contains(&b[3])
        && b[0] <= b[2]
        && b[1] <= b[3];
    if ok { Ok(Some(b)) } else { Err(bad()) }
}

pub fn parse_shape(precision: Option<&str>, simplify: Option<&str>, geometry: Option<&str>) -> Result<Shape, ApiError> {
    let precision = params::whole("precision", precision, DEFAULT_PRECISION, 0..=15)?;
    let simplify = match simplify {
        None => 0.0,
        Some(s) => params::number(s)
            .filter(|t| (0.0..=100_000.0).contains(t))
            .ok_or_else(|| ApiError::invalid("simplify", format!("simplify {s:?} must be a tolerance in metres from 0 to 100000")))?,
    };
    let geometry = match geometry {
        None | Some("true") => true,
        Some("false") => false,
        Some(g) => {
            return Err(ApiError::invalid("geometry", format!("geometry {g:?} must be true or false")));
        }
    };
    Ok(Shape { precision, simplify, geometry })
}

/// An area's geometry as GeoJSON text, shaped as asked; `null` without one.
pub fn geometry_text(area: &Area, shape: &Shape) -> String {
    if !shape.geometry {
        return "null".to_string();
    }
    if let Some(text) = area.geometry_json.as_ref().filter(|_| shape.simplify == 0.0 && shape.precision == DEFAULT_PRECISION) {
        return text.clone();
    }
    let mut s = String::new();
    match area.simplified(shape.simplify) {
        Some(g) => g.write_geojson(&mut s, shape.precision),
        None => s.push_str("null"),
    }
    s
}

/// The properties that name an area on every map layer: its id, name and municipality.
pub fn area_identity(snapshot: &Snapshot, area: &Area) -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("area_id".into(), json!(area.area_id));
    p.insert("name".into(), json!(area.name));
    p.insert("municipality_code".into(), json!(area.municipality.to_string()));
    p.insert("municipality_name".into(), json!(snapshot.municipalities.get(&area.municipality).map(|m| &m.name)));
    p
}

/// Writes a Feature; `id` and the properties as given, the geometry as GeoJSON text.
pub fn write_feature(out: &mut String, id: &str, properties: &Map<String, Value>, geometry: &str, extra: Option<&Value>) {
    out.push_str("{\"type\":\"Feature\",\"id\":");
    out.push_str(&Value::from(id).to_string());
    out.push_str(",\"geometry\":");
    out.push_str(geometry);
    out.push_str(",\"properties\":");
    out.push_str(&Value::Object(properties.clone()).to_string());
    if let Some(Value::Object(members)) = extra {
        for (k, v) in members {
            out.push(',');
            out.push_str(&Value::from(k.as_str()).to_string());
            out.push(':');
            out.push_str(&v.to_string());
        }
    }
    out.push('}');
}

fn classification(values: &[f64], q: &MapQuery) -> Result<(Method, usize, Option<Classification>), ApiError> {
    let classes = params::whole("classes", q.classes.as_deref(), 5, 2..=9)?;
    let method = match q.classification.as_deref() {
        None => Method::Quantile,
        Some(m) => m
            .parse()
            .map_err(|_| ApiError::invalid("classification", format!("classification {m:?} must be quantile or equal_interval")))?,
    };
    Ok((method, classes, Classification::new(values, method, classes)))
}

fn figure_properties(p: &mut Map<String, Value>, figure: Option<(Figure, Option<f64>)>) {
    let (status, value, numerator, denominator) = match figure.map(|f| f.0) {
        None => ("missing", None, None, None),
        Some(Figure::Suppressed) => ("suppressed", None, None, None),
        Some(Figure::Ok { value, numerator, denominator }) => ("ok", Some(value), Some(numerator), Some(denominator)),
    };
    p.insert("status".into(), json!(status));
    p.insert("value".into(), json!(value));
    p.insert("numerator".into(), json!(numerator));
    p.insert("denominator".into(), json!(denominator));
    if let Some((_, Some(coverage))) = figure {
        p.insert("coverage".into(), json!(coverage));
    }
}

/// A map layer's areas and their properties (and the collection's members) for a query,
/// within a box when one is given: what `/v1/map/areas` and the vector tiles both carry.
pub(super) struct Layer {
    pub areas: Vec<usize>,
    pub properties: Vec<Map<String, Value>>,
    pub collection: Map<String, Value>,
}

/// What a layer shows, decided once from its query.
enum Mode<'s> {
    Areas,
    Values {
        indicator: usize,
        year: u16,
    },
    Comparison(crate::query::comparisons::ComparisonRequest<'s>),
    /// The year's index among the criteria's years, and the rule set's.
    Criteria {
        year: usize,
        rules: usize,
    },
}

impl<'s> Mode<'s> {
    /// The mode, from which parameters are given; every parameter given is checked, also those
    /// the mode does not use.
    fn of(snapshot: &'s Snapshot, q: &MapQuery) -> Result<Mode<'s>, ApiError> {
        params::threshold(q.threshold.as_deref())?;
        let comparison = ComparisonParams {
            indicator: q.indicator.as_deref(),
            from: q.from.as_deref(),
            to: q.to.as_deref(),
            reference: q.reference.as_deref(),
            twins: q.twins.as_deref(),
            matching: q.matching.as_deref(),
            boundary: q.boundary.as_deref(),
            threshold: q.threshold.as_deref(),
        };
        reference_choice(snapshot, comparison.reference, comparison.twins, comparison.matching)?;
        classification(&[], q)?;
        if q.rules.is_some() && q.criteria_year.is_none() {
            return Err(ApiError::invalid("rules", "rules applies only to criteria_year"));
        }
        if q.criteria_year.is_some() && (q.indicator.is_some() || q.year.is_some() || q.from.is_some() || q.to.is_some()) {
            return Err(ApiError::invalid("criteria_year", "give criteria_year alone: without indicator, year, from or to"));
        }
        match (&q.indicator, &q.year, &q.from, &q.to, q.criteria_year.as_deref()) {
            (None, None, None, None, Some(text)) => {
                let (year, rules, _) = super::criteria::year_and_rules(&snapshot.criteria, "criteria_year", text, q.rules.as_deref())?;
                Ok(Mode::Criteria { year, rules })
            }
            (None, None, None, None, None) => Ok(Mode::Areas),
            (Some(code), Some(year), None, None, _) => {
                Ok(Mode::Values { indicator: indicator_param(snapshot, code)?.0, year: params::year("year", year)? })
            }
            (Some(_), None, Some(_), Some(_), _) => Ok(Mode::Comparison(parse_request(snapshot, comparison)?)),
            _ => {
                let parameter = if q.indicator.is_none() { "indicator" } else { "year" };
                Err(ApiError::invalid(
                    parameter,
                    "give no indicator (areas only), or indicator with year (values), or indicator with from and to (a comparison)",
                ))
            }
        }
    }
}

/// The collection's members naming an indicator.
fn indicator_members(collection: &mut Map<String, Value>, indicator: &crate::snapshot::Indicator, lang: Lang) {
    collection.insert("indicator".into(), json!(indicator.code));
    collection.insert("indicator_name".into(), json!(lang.pick(&indicator.name_da, &indicator.name_en)));
    collection.insert("unit".into(), json!(indicator.kind.unit()));
    collection.insert("direction".into(), json!(indicator.direction));
}

pub(super) fn layer(snapshot: &Snapshot, q: &MapQuery, lang: Lang, bbox: Option<BBox>) -> Result<Layer, ApiError> {
    let (boundary_version, d) = delimitation(snapshot, q.boundary.as_deref())?;
    let mode = Mode::of(snapshot, q)?;
    let areas: Vec<usize> =
        d.areas().filter(|&a| bbox.is_none_or(|b| snapshot.areas[a].bbox.is_some_and(|ab| bbox_intersects(&ab, &b)))).collect();
    let mut properties: Vec<Map<String, Value>> = areas.iter().map(|&a| area_identity(snapshot, &snapshot.areas[a])).collect();
    let mut collection = Map::new();
    collection.insert("dataset_version".into(), json!(snapshot.dataset.version));
    collection.insert("boundary_version".into(), json!(boundary_version));
    let mut class_values: Vec<Option<f64>> = vec![None; areas.len()];
    let field = match mode {
        Mode::Criteria { year: k, rules: ri } => {
            let c = &snapshot.criteria;
            let r = &c.rules[ri];
            collection.insert("mode".into(), json!("criteria"));
            collection.insert("criteria_year".into(), json!(c.years[k]));
            collection.insert("rules".into(), json!(r.id));
            collection.insert("note".into(), json!(super::criteria::NOT_OFFICIAL));
            collection.insert(
                "classifications".into(),
                json!(r.classifications.iter().map(|x| json!({"id": x.id, "name": lang.pick(&x.name_da, &x.name_en)})).collect::<Vec<_>>()),
            );
            for (p, &a) in properties.iter_mut().zip(&areas) {
                let e = c.of(boundary_version, ri, a).map(|e| &e[k]);
                for (i, x) in r.classifications.iter().enumerate() {
                    p.insert(x.id.clone(), json!(e.map(|e| e.classifications[i].status)));
                }
            }
            None
        }
        Mode::Areas => {
            collection.insert("mode".into(), json!("areas"));
            None
        }
        Mode::Values { indicator: i, year } => {
            collection.insert("mode".into(), json!("values"));
            indicator_members(&mut collection, &snapshot.indicators[i], lang);
            collection.insert("year".into(), json!(year));
            for (k, &a) in areas.iter().enumerate() {
                let point = figure_in(d.series(a, i), year);
                properties[k].insert("year".into(), json!(year));
                figure_properties(&mut properties[k], point.map(|p| (p.figure, p.coverage)));
                class_values[k] = point.and_then(|p| p.figure.value());
            }
            Some("value")
        }
        Mode::Comparison(r) => {
            collection.insert("mode".into(), json!("comparison"));
            indicator_members(&mut collection, &snapshot.indicators[r.indicator], lang);
            collection.insert("from".into(), json!(r.from));
            collection.insert("to".into(), json!(r.to));
            collection.insert("reference".into(), json!(r.reference.reference));
            collection.insert("threshold".into(), json!(r.threshold));
            let all = crate::query::comparisons::compare_areas(snapshot, &r);
            let by_area: std::collections::HashMap<usize, _> = all.into_iter().map(|c| (c.area, c)).collect();
            for (k, a) in areas.iter().enumerate() {
                let c = &by_area[a];
                if let Value::Object(fields) = serde_json::to_value(c.comparison).map_err(|e| ApiError::Internal(e.to_string()))? {
                    properties[k].extend(fields);
                }
                if let Some(twins) = &c.twins {
                    let ids: Vec<&str> = twins.iter().map(|&t| snapshot.areas[t].area_id.as_str()).collect();
                    properties[k].insert("twins".into(), json!(ids));
                }
                class_values[k] = c.comparison.difference;
            }
            Some("difference")
        }
    };
    if let Some(field) = field {
        let values: Vec<f64> = class_values.iter().flatten().copied().collect();
        let (method, wanted, c) = classification(&values, q)?;
        for (k, v) in class_values.iter().enumerate() {
            let class = match (v, &c) {
                (Some(v), Some(c)) => json!(c.class_of(*v)),
                _ => Value::Null,
            };
            properties[k].insert("class".into(), class);
        }
        collection.insert(
            "classification".into(),
            json!({"field": field, "method": method, "classes_requested": wanted,
                   "classes": c.as_ref().map(|c| c.classes), "breaks": c.as_ref().map(|c| &c.breaks)}),
        );
    }
    Ok(Layer { areas, properties, collection })
}

/// The areas as a GeoJSON layer for a map.
///
/// A FeatureCollection (RFC 7946) with an outline per area, for a choropleth: the areas alone; an indicator's
/// values in a year (`indicator`, `year`); a comparison (`indicator`, `from`, `to`, `reference`); or the legal
/// criteria's classifications in a year (`criteria_year`). With values or a comparison, class breaks (`classes`,
/// `classification`) and each area's class. `bbox` keeps the areas reaching into a box, `simplify` and `precision`
/// make the outlines lighter, `geometry=false` leaves them out (a map that has them already). GDAL and QGIS open it
/// by its URL.
#[utoipa::path(
    tag = "map",
    params(MapQuery),
    responses(
        (status = 200, description = "A GeoJSON FeatureCollection (RFC 7946). Foreign members: dataset_version, boundary_version, \
            indicator, mode (areas, values or comparison), classification {method, classes, field, breaks}. Each feature's id is \
            the area_id; its properties hold area_id, name, municipality_code, municipality_name, and for values: year, status, \
            value, numerator, denominator, coverage, class; for a comparison: the comparison item's fields and class (of difference).",
            content_type = "application/geo+json", body = super::shapes::AreaLayer),
        (status = 400, description = "An invalid parameter: the problem names it", body = ProblemDetails, content_type = "application/problem+json"),
        super::responses::Unloaded,
    )
)]
#[get("/v1/map/areas")]
pub async fn map_areas(state: web::Data<AppState>, req: HttpRequest, query: web::Query<MapQuery>) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    let lang = Lang::negotiate(&req, query.lang.as_deref())?;
    render(&req, move || {
        let q = &*query;
        let bbox = parse_bbox(q.bbox.as_deref())?;
        let shape = parse_shape(q.precision.as_deref(), q.simplify.as_deref(), q.geometry.as_deref())?;
        let Layer { areas, properties, collection } = layer(&snapshot, q, lang, bbox)?;
        let extent = snapshot.bbox_of(areas.iter().copied());
        let mut out = String::with_capacity(1024 + areas.len() * 2048);
        out.push_str("{\"type\":\"FeatureCollection\"");
        if let Some(b) = extent.filter(|_| shape.geometry) {
            out.push_str(&format!(",\"bbox\":{}", json!(b)));
        }
        for (k, v) in &collection {
            out.push(',');
            out.push_str(&Value::from(k.as_str()).to_string());
            out.push(':');
            out.push_str(&v.to_string());
        }
        out.push_str(",\"features\":[");
        for (k, &a) in areas.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            let area = &snapshot.areas[a];
            write_feature(&mut out, &area.area_id, &properties[k], &geometry_text(area, &shape), None);
        }
        out.push_str("]}");
        Ok(params::data_body(&snapshot, Some(lang), GEO_JSON, out))
    })
    .await
}

/// A municipality on a map: its areas in a delimitation and its outline.
pub struct Outline<'a> {
    pub areas: Vec<usize>,
    /// None when neither the extract nor the areas give one.
    pub geometry: Option<Cow<'a, MultiPolygon>>,
    /// `extract` (the municipality's own outline) or `hull_of_areas`.
    pub source: &'static str,
}

impl Outline<'_> {
    /// The outline as GeoJSON text with coordinates to `precision` decimals; `null` without one.
    pub fn geometry_text(&self, precision: usize) -> String {
        let mut s = String::new();
        match &self.geometry {
            Some(g) => g.write_geojson(&mut s, precision),
            None => s.push_str("null"),
        }
        s
    }
}

/// The municipality's own outline when the extract carries one, else the convex hull of its
/// areas' geometry; None for a municipality with neither areas in the delimitation nor an
/// outline, which no map shows.
pub fn municipality_outline<'a>(snapshot: &Snapshot, d: &Delimitation, m: &'a Municipality, simplify: f64) -> Option<Outline<'a>> {
    let areas: Vec<usize> = d.areas().filter(|&a| snapshot.areas[a].municipality == m.code).collect();
    let (geometry, source) = match &m.geometry {
        Some(_) if simplify > 0.0 => (m.simplified(simplify).map(Cow::Owned), "extract"),
        Some(own) => (Some(Cow::Borrowed(own)), "extract"),
        None if areas.is_empty() => return None,
        None => {
            let positions = areas.iter().filter_map(|&a| snapshot.areas[a].geometry.as_ref()).flat_map(|g| g.positions().copied());
            (convex_hull(positions).map(|ring| Cow::Owned(MultiPolygon(vec![vec![ring]]))), "hull_of_areas")
        }
    };
    Some(Outline { areas, geometry, source })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MunicipalityMapQuery {
    /// Delimitation whose areas make the outlines; default the dataset's.
    pub boundary: Option<String>,
    /// An indicator code, with `year`, for the municipality level's values.
    pub indicator: Option<String>,
    /// The year of the values, with `indicator`.
    #[param(value_type = Option<u16>, minimum = 1900, maximum = 2100, example = 2023)]
    pub year: Option<String>,
    /// `municipality` (default), `social_housing` or `social_housing_rest` (the sector
    /// without the delimitation's plan areas): which level's values.
    #[param(pattern = "^(municipality|social_housing|social_housing_rest)$")]
    pub level: Option<String>,
    /// Decimals of coordinates; default 7.
    #[param(value_type = Option<u8>, minimum = 0, maximum = 15)]
    pub precision: Option<String>,
    /// Simplification tolerance in metres (Douglas-Peucker); default 0.
    #[param(value_type = Option<f64>, minimum = 0, maximum = 100000, example = 100.0)]
    pub simplify: Option<String>,
    /// Label language; default from `Accept-Language`, else Danish.
    #[param(value_type = Option<Lang>)]
    pub lang: Option<String>,
}

/// The municipalities as a GeoJSON layer for a map.
///
/// Those with areas in the delimitation, and those whose outline the extract carries. The outline is the
/// municipality's own when the extract has one (`municipalities.geojson`; `properties.geometry_source =
/// "extract"`), else the convex hull of its areas (`"hull_of_areas"`). With `indicator` and `year`, the
/// municipality level's figure (or the social-housing sector's, or the sector's without the plan areas, by
/// `level`).
#[utoipa::path(
    tag = "map",
    params(MunicipalityMapQuery),
    responses(
        (status = 200, description = "A GeoJSON FeatureCollection (RFC 7946); feature id is the municipality code",
            content_type = "application/geo+json", body = super::shapes::MunicipalityLayer),
        (status = 400, description = "An invalid parameter", body = ProblemDetails, content_type = "application/problem+json"),
        super::responses::Unloaded,
    )
)]
#[get("/v1/map/municipalities")]
pub async fn map_municipalities(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<MunicipalityMapQuery>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    let lang = Lang::negotiate(&req, query.lang.as_deref())?;
    render(&req, move || {
        let q = &*query;
        let shape = parse_shape(q.precision.as_deref(), q.simplify.as_deref(), None)?;
        let (boundary_version, d) = delimitation(&snapshot, q.boundary.as_deref())?;
        let level = match q.level.as_deref() {
            None | Some("municipality") => Reference::Municipality,
            Some("social_housing") => Reference::SocialHousing,
            Some("social_housing_rest") => Reference::SocialHousingRest,
            Some(other) => {
                return Err(ApiError::invalid(
                    "level",
                    format!("level {other:?} must be municipality, social_housing or social_housing_rest"),
                ));
            }
        };
        let values = match (&q.indicator, &q.year) {
            (None, None) => None,
            (Some(code), Some(year)) => Some((indicator_param(&snapshot, code)?.0, params::year("year", year)?)),
            _ => {
                return Err(ApiError::invalid(
                    if q.indicator.is_none() { "indicator" } else { "year" },
                    "give indicator and year together",
                ));
            }
        };
        let mut out = String::from("{\"type\":\"FeatureCollection\"");
        out.push_str(&format!(
            ",\"dataset_version\":{},\"boundary_version\":{},\"features\":[",
            snapshot.dataset.version,
            json!(boundary_version)
        ));
        let mut first = true;
        for m in snapshot.municipalities.values() {
            let Some(outline) = municipality_outline(&snapshot, d, m, shape.simplify) else { continue };
            let mut p = Map::new();
            p.insert("code".into(), json!(m.code.to_string()));
            p.insert("name".into(), json!(m.name));
            p.insert("region_code".into(), json!(m.region_code));
            p.insert("area_count".into(), json!(outline.areas.len()));
            p.insert("geometry_source".into(), json!(outline.source));
            if let Some((i, year)) = values {
                p.insert("level".into(), json!(level.as_str()));
                p.insert("year".into(), json!(year));
                figure_properties(&mut p, figure_in(snapshot.reference_series(level, d, m.code, i), year).map(|p| (p.figure, None)));
            }
            if !first {
                out.push(',');
            }
            first = false;
            write_feature(&mut out, &m.code.to_string(), &p, &outline.geometry_text(shape.precision), None);
        }
        out.push_str("]}");
        Ok(params::data_body(&snapshot, Some(lang), GEO_JSON, out))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bboxes() {
        assert_eq!(parse_bbox(Some("9.9,56.0,10.4,56.3")).unwrap(), Some([9.9, 56.0, 10.4, 56.3]));
        assert_eq!(parse_bbox(Some("9.9,56.0,0,10.4,56.3,100")).unwrap(), Some([9.9, 56.0, 10.4, 56.3]));
        assert_eq!(parse_bbox(None).unwrap(), None);
        for bad in ["1,2,3", "10.4,56,9.9,56.3", "a,b,c,d", "0,0,200,1", "0,-91,1,1", "NaN,0,1,1"] {
            assert!(parse_bbox(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn shapes() {
        let s = parse_shape(None, None, None).unwrap();
        assert_eq!((s.precision, s.simplify, s.geometry), (7, 0.0, true));
        assert!(parse_shape(Some("16"), None, None).is_err());
        assert!(parse_shape(None, Some("-1"), None).is_err());
        assert!(parse_shape(None, None, Some("no")).is_err());
        assert!(!parse_shape(None, None, Some("false")).unwrap().geometry);
    }
}
