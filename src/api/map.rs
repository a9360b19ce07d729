//! `/v1/map/areas` and `/v1/map/municipalities`: GeoJSON (RFC 7946) layers for maps, with a
//! chosen indicator's values or a comparison, and class breaks for a choropleth.

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::IntoParams;

use super::AppState;
use super::comparisons::{ComparisonParams, parse_request, reference_choice};
use super::params::{self, Bbox, Classes, Flag, Precision, Threshold, Tolerance, TwinCount, Year, indicator_param};
use crate::domain::classes::Method;
use crate::domain::figures::Figure;
use crate::domain::geometry::BBox;
use crate::domain::model::Reference;
use crate::error::{ApiError, ProblemDetails};
use crate::http::extract::QueryParams;
use crate::http::negotiate::Lang;
use crate::http::offload::render;
use crate::query::Unit;
use crate::query::criteria::year_and_rules;
use crate::query::map::{Content, Layer, LayerRequest, Mode, MunicipalityLayerRequest, municipality_layer};
use crate::snapshot::{Area, DEFAULT_PRECISION, Snapshot};

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
    #[param(inline, example = 2023)]
    pub year: Option<Year>,
    /// First year of a comparison.
    #[param(inline, example = 2015)]
    pub from: Option<Year>,
    /// Last year of a comparison.
    #[param(inline, example = 2023)]
    pub to: Option<Year>,
    /// Reference of a comparison; default `municipality`.
    #[param(value_type = Option<Reference>)]
    pub reference: Option<String>,
    /// With `reference=twins`: how many twin areas, 1 to 20; default 5.
    #[param(inline)]
    pub twins: Option<TwinCount>,
    /// With `reference=twins`: the indicators twins are matched on in the `from` year,
    /// comma-separated, at most 6; default the compared indicator.
    #[serde(rename = "match")]
    pub matching: Option<String>,
    /// A year of the legal criteria (without indicator, year, from and to): each feature
    /// carries its classifications (`yes`, `no` or `undetermined`) by their ids.
    #[param(inline, example = 2024)]
    pub criteria_year: Option<Year>,
    /// With `criteria_year`: a rule set id (see /v1/rules); default the one valid for the year.
    pub rules: Option<String>,
    /// Threshold of a comparison; default 5.
    #[param(inline)]
    pub threshold: Option<Threshold>,
    /// With `from` and `to`: make each area of its departments covered by plans in at least
    /// this many of those years, as /v1/comparisons does; default 0 (every department).
    #[param(inline, example = 4)]
    pub covered_years: Option<super::params::CoveredYears>,
    /// Number of classes; default 5.
    #[param(inline, example = 5)]
    pub classes: Option<Classes>,
    /// Class breaks by quantiles (default) or equal intervals.
    #[param(value_type = Option<Method>)]
    pub classification: Option<String>,
    /// `minLon,minLat,maxLon,maxLat` (WGS 84): only features whose extent meets the box.
    #[param(inline, example = "9.9,56.0,10.4,56.3")]
    pub bbox: Option<Bbox>,
    /// Decimals of coordinates; default 7 (about a centimetre).
    #[param(inline, example = 5)]
    pub precision: Option<Precision>,
    /// Simplification tolerance in metres (Douglas-Peucker) for small zoom levels; default 0.
    #[param(inline, example = 10.0)]
    pub simplify: Option<Tolerance>,
    /// `false` for a layer without geometry (properties only).
    #[param(inline)]
    pub geometry: Option<Flag>,
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

impl Shape {
    /// The shape asked for: each option or its default.
    pub fn of(precision: Option<Precision>, simplify: Option<Tolerance>, geometry: Option<Flag>) -> Shape {
        Shape {
            precision: Precision::or(precision, DEFAULT_PRECISION),
            simplify: simplify.map_or(0.0, |t| t.0),
            geometry: geometry.is_none_or(|g| g.0),
        }
    }
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

fn method(text: Option<&str>) -> Result<Method, ApiError> {
    match text {
        None => Ok(Method::Quantile),
        Some(m) => {
            m.parse().map_err(|_| ApiError::invalid("classification", format!("classification {m:?} must be quantile or equal_interval")))
        }
    }
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

/// A map layer's areas with their properties (and the collection's members): what
/// `/v1/map/areas` and the vector tiles both carry.
pub(super) struct Properties {
    pub areas: Vec<usize>,
    pub properties: Vec<Map<String, Value>>,
    pub collection: Map<String, Value>,
}

impl MapQuery {
    /// The layer asked for, within a box when one is given. What it shows is decided from
    /// which parameters are given; every parameter given is checked, also those the mode
    /// does not use.
    pub(super) fn request<'s>(&self, snapshot: &'s Snapshot, within: Option<BBox>) -> Result<LayerRequest<'s>, ApiError> {
        let unit = Unit::areas_of(snapshot, self.boundary.as_deref())?;
        let comparison = ComparisonParams {
            indicator: self.indicator.as_deref(),
            from: self.from,
            to: self.to,
            reference: self.reference.as_deref(),
            twins: self.twins,
            matching: self.matching.as_deref(),
            boundary: self.boundary.as_deref(),
            threshold: self.threshold,
            covered_years: self.covered_years,
        };
        if self.covered_years.is_some() && (self.from.is_none() || self.to.is_none()) {
            return Err(ApiError::invalid("covered_years", "covered_years applies only to a comparison: with indicator, from and to"));
        }
        reference_choice(snapshot, comparison.reference, comparison.twins, comparison.matching)?;
        let method = method(self.classification.as_deref())?;
        if self.rules.is_some() && self.criteria_year.is_none() {
            return Err(ApiError::invalid("rules", "rules applies only to criteria_year"));
        }
        if self.criteria_year.is_some() && (self.indicator.is_some() || self.year.is_some() || self.from.is_some() || self.to.is_some()) {
            return Err(ApiError::invalid("criteria_year", "give criteria_year alone: without indicator, year, from or to"));
        }
        let mode = match (&self.indicator, self.year, self.from, self.to, self.criteria_year) {
            (None, None, None, None, Some(Year(year))) => {
                Mode::Criteria(year_and_rules(&snapshot.criteria, "criteria_year", year, self.rules.as_deref())?)
            }
            (None, None, None, None, None) => Mode::Areas,
            (Some(code), Some(Year(year)), None, None, _) => Mode::Values { indicator: indicator_param(snapshot, code)?.0, year },
            (Some(_), None, Some(_), Some(_), _) => Mode::Comparison(parse_request(snapshot, comparison)?),
            _ => {
                let parameter = if self.indicator.is_none() { "indicator" } else { "year" };
                return Err(ApiError::invalid(
                    parameter,
                    "give no indicator (areas only), or indicator with year (values), or indicator with from and to (a comparison)",
                ));
            }
        };
        Ok(LayerRequest { unit, mode, within, classes: Classes::or(self.classes, 5), method })
    }
}

/// The collection's members naming an indicator.
fn indicator_members(collection: &mut Map<String, Value>, indicator: &crate::snapshot::Indicator, lang: Lang) {
    collection.insert("indicator".into(), json!(indicator.code));
    collection.insert("indicator_name".into(), json!(lang.pick(&indicator.name_da, &indicator.name_en)));
    collection.insert("unit".into(), json!(indicator.kind.unit()));
    collection.insert("direction".into(), json!(indicator.direction));
}

/// A layer's areas as features' properties, and the collection's members.
pub(super) fn properties(snapshot: &Snapshot, layer: Layer, boundary_version: &str, lang: Lang) -> Result<Properties, ApiError> {
    let Layer { areas, content, classes } = layer;
    let mut properties: Vec<Map<String, Value>> = areas.iter().map(|&a| area_identity(snapshot, &snapshot.areas[a])).collect();
    let mut collection = Map::new();
    collection.insert("dataset_version".into(), json!(snapshot.dataset.version));
    collection.insert("boundary_version".into(), json!(boundary_version));
    match content {
        Content::Criteria { year, rules: r, evaluations } => {
            collection.insert("mode".into(), json!("criteria"));
            collection.insert("criteria_year".into(), json!(year));
            collection.insert("rules".into(), json!(r.id));
            collection.insert("note".into(), json!(super::criteria::NOT_OFFICIAL));
            collection.insert(
                "classifications".into(),
                json!(r.classifications.iter().map(|x| json!({"id": x.id, "name": lang.pick(&x.name_da, &x.name_en)})).collect::<Vec<_>>()),
            );
            for (p, e) in properties.iter_mut().zip(&evaluations) {
                for (i, x) in r.classifications.iter().enumerate() {
                    p.insert(x.id.clone(), json!(e.map(|e| e.classifications[i].status)));
                }
            }
        }
        Content::Areas => {
            collection.insert("mode".into(), json!("areas"));
        }
        Content::Values { indicator, year, points } => {
            collection.insert("mode".into(), json!("values"));
            indicator_members(&mut collection, &snapshot.indicators[indicator], lang);
            collection.insert("year".into(), json!(year));
            for (p, point) in properties.iter_mut().zip(&points) {
                p.insert("year".into(), json!(year));
                figure_properties(p, point.map(|p| (p.figure, p.coverage)));
            }
        }
        Content::Comparison { request: r, items } => {
            collection.insert("mode".into(), json!("comparison"));
            indicator_members(&mut collection, &snapshot.indicators[r.indicator], lang);
            collection.insert("from".into(), json!(r.from));
            collection.insert("to".into(), json!(r.to));
            collection.insert("reference".into(), json!(r.reference.reference));
            collection.insert("threshold".into(), json!(r.threshold));
            collection.insert("covered_years".into(), json!(r.covered_years()));
            for (p, c) in properties.iter_mut().zip(&items) {
                p.insert("departments_used".into(), json!(c.departments_used));
                p.insert("departments_left_out".into(), json!(c.departments_left_out));
                if let Value::Object(fields) = serde_json::to_value(c.comparison).map_err(|e| ApiError::Internal(e.to_string()))? {
                    p.extend(fields);
                }
                if let Some(twins) = &c.twins {
                    let ids: Vec<&str> = twins.iter().map(|&t| snapshot.areas[t].area_id.as_str()).collect();
                    p.insert("twins".into(), json!(ids));
                }
            }
        }
    }
    if let Some(c) = classes {
        for (p, class) in properties.iter_mut().zip(&c.of_area) {
            p.insert("class".into(), json!(class));
        }
        let breaks = c.classification.as_ref();
        collection.insert(
            "classification".into(),
            json!({"field": c.field, "method": c.method, "classes_requested": c.requested,
                   "classes": breaks.map(|c| c.classes), "breaks": breaks.map(|c| &c.breaks)}),
        );
    }
    Ok(Properties { areas, properties, collection })
}

/// The layer a query asks for, within a box, as properties.
pub(super) fn layer(snapshot: &Snapshot, q: &MapQuery, lang: Lang, within: Option<BBox>) -> Result<Properties, ApiError> {
    let request = q.request(snapshot, within)?;
    let boundary_version = request.unit.boundary_version;
    properties(snapshot, crate::query::map::layer(snapshot, request), boundary_version, lang)
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
pub async fn map_areas(state: web::Data<AppState>, req: HttpRequest, query: QueryParams<MapQuery>) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    let lang = Lang::negotiate(&req, query.lang.as_deref())?;
    render(&req, move || {
        let q = &*query;
        let shape = Shape::of(q.precision, q.simplify, q.geometry);
        let layer = layer(&snapshot, q, lang, q.bbox.map(|b| b.0))?;
        Ok(params::data_body(&snapshot, Some(lang), GEO_JSON, feature_collection(&snapshot, &layer, &shape)))
    })
    .await
}

/// The layer as GeoJSON text: the collection's members, then a feature per area.
fn feature_collection(snapshot: &Snapshot, layer: &Properties, shape: &Shape) -> String {
    let Properties { areas, properties, collection } = layer;
    let extent = snapshot.bbox_of(areas.iter().copied());
    let mut out = String::with_capacity(1024 + areas.len() * 2048);
    out.push_str("{\"type\":\"FeatureCollection\"");
    if let Some(b) = extent.filter(|_| shape.geometry) {
        out.push_str(&format!(",\"bbox\":{}", json!(b)));
    }
    for (k, v) in collection {
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
        write_feature(&mut out, &area.area_id, &properties[k], &geometry_text(area, shape), None);
    }
    out.push_str("]}");
    out
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
    #[param(inline, example = 2023)]
    pub year: Option<Year>,
    /// `municipality` (default), `social_housing` or `social_housing_rest` (the sector
    /// without the delimitation's plan areas): which level's values.
    #[param(pattern = "^(municipality|social_housing|social_housing_rest)$")]
    pub level: Option<String>,
    /// Decimals of coordinates; default 7.
    #[param(inline)]
    pub precision: Option<Precision>,
    /// Simplification tolerance in metres (Douglas-Peucker); default 0.
    #[param(inline, example = 100.0)]
    pub simplify: Option<Tolerance>,
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
    query: QueryParams<MunicipalityMapQuery>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    let lang = Lang::negotiate(&req, query.lang.as_deref())?;
    render(&req, move || {
        let q = &*query;
        let shape = Shape::of(q.precision, q.simplify, None);
        let request = q.request(&snapshot)?;
        let (version, boundary) = (snapshot.dataset.version, json!(request.unit.boundary_version));
        let mut out =
            format!("{{\"type\":\"FeatureCollection\",\"dataset_version\":{version},\"boundary_version\":{boundary},\"features\":[");
        for (k, m) in municipality_layer(&snapshot, &request).iter().enumerate() {
            let mut p = Map::new();
            p.insert("code".into(), json!(m.municipality.code.to_string()));
            p.insert("name".into(), json!(m.municipality.name));
            p.insert("region_code".into(), json!(m.municipality.region_code));
            p.insert("area_count".into(), json!(m.outline.areas.len()));
            p.insert("geometry_source".into(), json!(m.outline.source));
            if let Some((_, year)) = request.values {
                p.insert("level".into(), json!(request.level.as_str()));
                p.insert("year".into(), json!(year));
                figure_properties(&mut p, m.figure.map(|p| (p.figure, None)));
            }
            if k > 0 {
                out.push(',');
            }
            write_feature(&mut out, &m.municipality.code.to_string(), &p, &m.outline.geometry_text(shape.precision), None);
        }
        out.push_str("]}");
        Ok(params::data_body(&snapshot, Some(lang), GEO_JSON, out))
    })
    .await
}

impl MunicipalityMapQuery {
    fn request<'s>(&self, snapshot: &'s Snapshot) -> Result<MunicipalityLayerRequest<'s>, ApiError> {
        let unit = Unit::areas_of(snapshot, self.boundary.as_deref())?;
        let level = self.level()?;
        let values = match (&self.indicator, self.year) {
            (None, None) => None,
            (Some(code), Some(Year(year))) => Some((indicator_param(snapshot, code)?.0, year)),
            _ => {
                let parameter = if self.indicator.is_none() { "indicator" } else { "year" };
                return Err(ApiError::invalid(parameter, "give indicator and year together"));
            }
        };
        Ok(MunicipalityLayerRequest { unit, level, values, simplify: self.simplify.map_or(0.0, |t| t.0) })
    }

    fn level(&self) -> Result<Reference, ApiError> {
        match self.level.as_deref() {
            None | Some("municipality") => Ok(Reference::Municipality),
            Some("social_housing") => Ok(Reference::SocialHousing),
            Some("social_housing_rest") => Ok(Reference::SocialHousingRest),
            Some(other) => {
                Err(ApiError::invalid("level", format!("level {other:?} must be municipality, social_housing or social_housing_rest")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::extract::parse;

    #[test]
    fn bboxes() {
        let bbox = |text: &str| parse::<MapQuery>(&format!("bbox={text}")).map(|q| q.bbox.map(|b| b.0));
        assert_eq!(bbox("9.9,56.0,10.4,56.3").unwrap(), Some([9.9, 56.0, 10.4, 56.3]));
        assert_eq!(bbox("9.9,56.0,0,10.4,56.3,100").unwrap(), Some([9.9, 56.0, 10.4, 56.3]));
        for bad in ["1,2,3", "10.4,56,9.9,56.3", "a,b,c,d", "0,0,200,1", "0,-91,1,1", "NaN,0,1,1"] {
            let e = bbox(bad).unwrap_err().problem();
            assert_eq!(e.parameter.as_deref(), Some("bbox"), "{bad}");
            assert_eq!(e.detail, format!("bbox {bad:?} must be minLon,minLat,maxLon,maxLat in WGS 84"));
        }
    }

    #[test]
    fn shapes() {
        let shape = |query: &str| parse::<MapQuery>(query).map(|q| Shape::of(q.precision, q.simplify, q.geometry));
        let s = shape("").unwrap();
        assert_eq!((s.precision, s.simplify, s.geometry), (7, 0.0, true));
        assert!(shape("precision=16").is_err());
        assert!(shape("simplify=-1").is_err());
        assert!(shape("geometry=no").is_err());
        assert!(!shape("geometry=false").unwrap().geometry);
    }
}
