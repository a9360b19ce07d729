//! OGC API – Features, Part 1: Core, at /ogc: two collections, `areas` (the
//! helhedsplansområder) and `municipalities` (their outlines), whose features carry every
//! indicator's published value in a year (`datetime`) as properties: the area's aggregate, or
//! the municipality level's figure.

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::map::{GEO_JSON, Shape, area_identity, geometry_text, write_feature};
use super::params::{Bbox, Municipality, Offset, ParamValue, Precision, data_body};
use crate::domain::geometry::union_bbox;
use crate::domain::model::MunicipalityCode;
use crate::error::{ApiError, ProblemDetails};
use crate::http::extract::QueryParams;
use crate::http::offload::{Rendered, render};
use crate::http::public_base;
use crate::query::Unit;
use crate::query::features::{Collection, FeaturesRequest, Member, feature, features, members};
use crate::query::map::Outline;
use crate::snapshot::Snapshot;

const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 10_000;

/// The scheme and authority for absolute links (`server.public_url`, else trusted proxies'
/// forwarded headers, else the request's Host).
fn base(req: &HttpRequest) -> String {
    public_base::of(req)
}

fn json_response(snapshot: &Snapshot, content_type: &'static str, body: &Value) -> Rendered {
    data_body(snapshot, None, content_type, body.to_string())
}

/// Writes a feature: its id, properties (what names it, and each indicator's published value
/// in `year`) and geometry, shaped as asked.
fn write_member(out: &mut String, snapshot: &Snapshot, unit: Unit, member: &Member, year: u16, shape: &Shape, extra: Option<&Value>) {
    let values = member.values(snapshot, unit, year);
    match member {
        Member::Area(a) => {
            let area = &snapshot.areas[*a];
            let p = area_properties(snapshot, unit, *a, year, &values);
            write_feature(out, &member.id(snapshot), &p, &geometry_text(area, shape), extra);
        }
        Member::Municipality(code, outline) => {
            let p = municipality_properties(snapshot, *code, outline, year, &values);
            write_feature(out, &member.id(snapshot), &p, &outline.geometry_text(shape.precision), extra);
        }
    }
}

/// `f`, the output format, which every operation here takes. The OGC API's operations refuse
/// parameters they do not define (OGC API – Features 1.0, /req/core/query-param-unknown), and an
/// `f` they cannot serve (/req/core/query-param-invalid), with 400.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FormatQuery {
    /// Output format: JSON, the only one offered.
    #[param(value_type = Option<JsonFormat>, inline)]
    pub f: Option<String>,
}

// The values of `f`, for the API definition (`check_format` checks the text against the lists
// below).
/// The formats of documents: JSON.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum JsonFormat {
    Json,
}

/// The formats of features: GeoJSON, by either name.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum FeatureFormat {
    Json,
    Geojson,
}

/// `f` is one of `offered` (`json`, and `geojson` for features), or absent.
fn check_format(f: Option<&str>, offered: &[&str]) -> Result<(), ApiError> {
    match f {
        Some(f) if !offered.contains(&f) => {
            Err(ApiError::invalid("f", format!("f {f:?} is not offered; the only format is JSON (f={})", offered.join(" or f="))))
        }
        _ => Ok(()),
    }
}

/// The formats of documents, and of features.
const DOCUMENT_FORMATS: &[&str] = &["json"];
const FEATURE_FORMATS: &[&str] = &["json", "geojson"];

/// The OGC API – Features landing page.
///
/// Links to the API definition, its documentation, the conformance declaration and the collections, as OGC API –
/// Features Part 1: Core requires; GDAL's OAPIF driver, OWSLib and QGIS start here.
#[utoipa::path(tag = "ogc", params(FormatQuery), responses(
    (status = 200, description = "Links to the API definition, the conformance declaration and the collections", body = super::shapes::LandingPage),
    super::responses::InvalidOrUnknown,
    super::responses::Unloaded,
))]
#[get("/ogc")]
pub async fn landing(state: web::Data<AppState>, req: HttpRequest, query: QueryParams<FormatQuery>) -> Result<HttpResponse, ApiError> {
    check_format(query.f.as_deref(), DOCUMENT_FORMATS)?;
    let snapshot = state.snapshot()?;
    let b = base(&req);
    render(&req, move || {
        let body = json!({
            "title": "Boligsocial API – OGC API Features",
            "description": "Helhedsplansområder (areas with a boligsocial helhedsplan) and their municipalities, with the indicators' published values",
            "attribution": snapshot.dataset.source,
            "links": [
                {"href": format!("{b}/ogc"), "rel": "self", "type": "application/json", "title": "This document"},
                {"href": format!("{b}/openapi.json"), "rel": "service-desc", "type": "application/vnd.oai.openapi+json;version=3.1", "title": "The API definition"},
                {"href": format!("{b}/docs/"), "rel": "service-doc", "type": "text/html", "title": "The API documentation"},
                {"href": format!("{b}/ogc/conformance"), "rel": "conformance", "type": "application/json", "title": "Conformance classes"},
                {"href": format!("{b}/ogc/collections"), "rel": "data", "type": "application/json", "title": "Collections"}
            ]
        });
        Ok(json_response(&snapshot, "application/json", &body))
    })
    .await
}

/// The conformance declaration.
///
/// The conformance classes implemented: Core and GeoJSON of OGC API – Features Part 1.
#[utoipa::path(tag = "ogc", params(FormatQuery), responses(
    (status = 200, description = "The conformance classes implemented", body = super::shapes::Conformance),
    super::responses::InvalidOrUnknown,
))]
#[get("/ogc/conformance")]
pub async fn conformance(state: web::Data<AppState>, req: HttpRequest, query: QueryParams<FormatQuery>) -> Result<HttpResponse, ApiError> {
    check_format(query.f.as_deref(), DOCUMENT_FORMATS)?;
    let snapshot = state.snapshot()?;
    render(&req, move || {
        let body = json!({"conformsTo": [
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"
        ]});
        Ok(json_response(&snapshot, "application/json", &body))
    })
    .await
}

fn years(snapshot: &Snapshot) -> Option<(u16, u16)> {
    let all = snapshot.indicators.iter().flat_map(|i| i.years.iter().copied());
    let (min, max) = all.fold((u16::MAX, 0), |(lo, hi), y| (lo.min(y), hi.max(y)));
    (max > 0).then_some((min, max))
}

fn collection_document(snapshot: &Snapshot, b: &str, collection: Collection) -> Value {
    let members = members(snapshot, Unit::of_dataset(snapshot), collection);
    let bbox = members.iter().fold(None, |acc, m| union_bbox(acc, m.bbox(snapshot)));
    let interval = years(snapshot).map(|(lo, hi)| json!([[format!("{lo}-01-01T00:00:00Z"), format!("{hi}-12-31T23:59:59Z")]]));
    let description = match collection {
        Collection::Areas => format!(
            "Areas with a boligsocial helhedsplan under the delimitation {}, with each indicator's published value in a year \
             (datetime; default the latest) as a property named by the indicator's code; suppressed or missing values are null.",
            snapshot.dataset.boundary_version
        ),
        Collection::Municipalities => "The municipalities with areas, or with an outline in the extract: the outline is the \
            municipality's own where the extract carries it (geometry_source extract), else the convex hull of its areas \
            (hull_of_areas). Each indicator's published value at the municipality level in a year (datetime; default the \
            latest) is a property named by the indicator's code; suppressed or missing values are null."
            .to_string(),
    };
    let id = collection.id();
    json!({
        "id": id,
        "title": collection.title(),
        "description": description,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": {
            "spatial": {"bbox": [bbox.unwrap_or([-180.0, -90.0, 180.0, 90.0])], "crs": CRS84},
            "temporal": {"interval": interval.unwrap_or(json!([[null, null]])), "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
        },
        "links": [
            {"href": format!("{b}/ogc/collections/{id}"), "rel": "self", "type": "application/json", "title": "This collection"},
            {"href": format!("{b}/ogc/collections/{id}/items"), "rel": "items", "type": GEO_JSON, "title": "The features"},
            {"href": format!("{b}/ogc/collections/{id}/queryables"), "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
             "type": "application/schema+json", "title": "Queryable properties"}
        ]
    })
}

/// The collections: `areas` and `municipalities`.
///
/// Each with its title, description, extent (the areas' bounding box and the years with data), reference system
/// (CRS84) and links.
#[utoipa::path(tag = "ogc", params(FormatQuery), responses(
    (status = 200, description = "The collections", body = super::shapes::Collections),
    super::responses::InvalidOrUnknown,
    super::responses::Unloaded,
))]
#[get("/ogc/collections")]
pub async fn collections(state: web::Data<AppState>, req: HttpRequest, query: QueryParams<FormatQuery>) -> Result<HttpResponse, ApiError> {
    check_format(query.f.as_deref(), DOCUMENT_FORMATS)?;
    let snapshot = state.snapshot()?;
    let b = base(&req);
    render(&req, move || {
        let all: Vec<Value> = Collection::ALL.into_iter().map(|c| collection_document(&snapshot, &b, c)).collect();
        let body = json!({
            "links": [{"href": format!("{b}/ogc/collections"), "rel": "self", "type": "application/json", "title": "This document"}],
            "collections": all
        });
        Ok(json_response(&snapshot, "application/json", &body))
    })
    .await
}

/// One collection.
///
/// As in /ogc/collections: its description, extent, reference system and links to its items and queryables.
#[utoipa::path(tag = "ogc", params(("collection_id" = String, Path, description = "`areas` or `municipalities`", example = "areas"), FormatQuery), responses(
    (status = 200, description = "The collection", body = super::shapes::CollectionInfo),
    super::responses::InvalidOrUnknown,
    (status = 404, description = "No such collection", body = ProblemDetails, content_type = "application/problem+json"),
))]
#[get("/ogc/collections/{collection_id}")]
pub async fn get_collection(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: QueryParams<FormatQuery>,
) -> Result<HttpResponse, ApiError> {
    check_format(query.f.as_deref(), DOCUMENT_FORMATS)?;
    let snapshot = state.snapshot()?;
    let collection = Collection::parse(&path)?;
    let b = base(&req);
    render(&req, move || Ok(json_response(&snapshot, "application/json", &collection_document(&snapshot, &b, collection)))).await
}

/// The properties a client may query on.
///
/// A JSON Schema of the features' properties (OGC API – Features Part 3's queryables): who a feature is and each
/// indicator's value, with titles and descriptions.
#[utoipa::path(tag = "ogc", params(("collection_id" = String, Path, description = "`areas` or `municipalities`", example = "areas"), FormatQuery), responses(
    (status = 200, description = "A JSON Schema of the features' properties", body = super::shapes::Queryables, content_type = "application/schema+json"),
    super::responses::InvalidOrUnknown,
    (status = 404, description = "No such collection", body = ProblemDetails, content_type = "application/problem+json"),
))]
#[get("/ogc/collections/{collection_id}/queryables")]
pub async fn queryables(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: QueryParams<FormatQuery>,
) -> Result<HttpResponse, ApiError> {
    check_format(query.f.as_deref(), DOCUMENT_FORMATS)?;
    let snapshot = state.snapshot()?;
    let collection = Collection::parse(&path)?;
    let b = base(&req);
    render(&req, move || Ok(json_response(&snapshot, "application/schema+json", &queryables_document(&snapshot, &b, collection)))).await
}

/// The JSON Schema of a collection's features' properties.
fn queryables_document(snapshot: &Snapshot, b: &str, collection: Collection) -> Value {
    let mut properties = Map::new();
    let mut add = |name: &str, schema: Value| properties.insert(name.into(), schema);
    match collection {
        Collection::Areas => {
            add("area_id", json!({"type": "string", "title": "Area id"}));
            add("name", json!({"type": "string", "title": "Name"}));
            add("municipality_code", json!({"type": "string", "title": "Municipality code (Danmarks Statistik)"}));
            add("municipality_name", json!({"type": "string", "title": "Municipality"}));
            add("department_count", json!({"type": "integer", "title": "Departments in the area"}));
        }
        Collection::Municipalities => {
            add("municipality_code", json!({"type": "string", "title": "Municipality code (Danmarks Statistik)"}));
            add("name", json!({"type": "string", "title": "Name"}));
            add("region_code", json!({"type": ["string", "null"], "title": "Region code"}));
            add("area_count", json!({"type": "integer", "title": "Areas in the municipality"}));
            add(
                "geometry_source",
                json!({"type": "string", "enum": ["extract", "hull_of_areas"], "title": "Where the outline comes from"}),
            );
        }
    }
    add("year", json!({"type": "integer", "title": "Year of the indicator values"}));
    for i in &snapshot.indicators {
        add(
            &i.code,
            json!({"type": ["number", "null"], "title": i.name_da, "description": format!("{} ({}; {})", i.name_en, i.kind.unit(), i.population_en)}),
        );
    }
    json!({
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": format!("{b}/ogc/collections/{}/queryables", collection.id()),
        "type": "object",
        "title": collection.title(),
        "properties": properties
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ItemsQuery {
    /// Features per page (described in `limit_schema`, as `schema_with` takes no doc comment).
    #[param(schema_with = limit_schema)]
    pub limit: Option<String>,
    /// Features to skip (the `next` links use it).
    #[param(inline)]
    pub offset: Option<Offset>,
    /// `minLon,minLat,maxLon,maxLat` (CRS84; six numbers with heights are accepted).
    #[param(inline)]
    pub bbox: Option<Bbox>,
    /// The year of the indicator values: `2023`, a date-time, or an interval (`2015/2023`,
    /// whose end is used); default the latest year with data.
    pub datetime: Option<String>,
    /// Only the areas of this municipality, or only this municipality (`101` or `0101`).
    pub municipality_code: Option<String>,
    /// Decimals of coordinates; default 7.
    #[param(inline)]
    pub precision: Option<Precision>,
    /// Output format: GeoJSON (`json` or `geojson`), the only one offered.
    #[param(value_type = Option<FeatureFormat>, inline)]
    pub f: Option<String>,
}

/// `limit`'s schema: an integer ≥ 1 with no maximum and no format (int32 and int64 would imply
/// one), as every larger value is valid too.
fn limit_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Integer)
        .minimum(Some(1))
        .description(Some(format!(
            "Features per page; default {DEFAULT_LIMIT}, at most {MAX_LIMIT}: a larger limit is served as {MAX_LIMIT} \
             (OGC API – Features 1.0.1 forbids an error for it), with `next` links for the rest."
        )))
        .examples([100])
        .build()
}

/// The page size asked for by `limit`: a whole number ≥ 1, where one above MAX_LIMIT, however
/// large, means MAX_LIMIT (OGC API – Features 1.0.1, /req/core/fc-limit-response-1: "this
/// SHALL NOT result in an error").
fn page_limit(text: Option<&str>) -> Result<usize, ApiError> {
    let Some(text) = text else {
        return Ok(DEFAULT_LIMIT);
    };
    let digits = text.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.bytes().all(|b| b == b'0') {
        return Err(ApiError::invalid("limit", format!("limit {text:?} must be a whole number ≥ 1 (pages hold at most {MAX_LIMIT})")));
    }
    // all digits and not zero: only too many digits for usize fails to parse
    Ok(digits.parse::<usize>().map_or(MAX_LIMIT, |n| n.min(MAX_LIMIT)))
}

/// The year asked for by `datetime`.
fn parse_datetime(text: Option<&str>, snapshot: &Snapshot) -> Result<u16, ApiError> {
    let latest = years(snapshot).map_or(2000, |(_, hi)| hi);
    let Some(text) = text else { return Ok(latest) };
    let end = text.rsplit('/').next().unwrap_or(text).trim();
    if end.is_empty() || end == ".." {
        return Ok(latest);
    }
    end.get(..4)
        .filter(|_| end.len() == 4 || end.as_bytes().get(4) == Some(&b'-'))
        .and_then(|y| y.parse::<u16>().ok())
        .filter(|y| (1900..=2100).contains(y))
        .ok_or_else(|| {
            ApiError::invalid("datetime", format!("datetime {text:?} must be a year, an RFC 3339 date-time, or an interval of them"))
        })
}

/// Each indicator's published value in `year`, as properties named by code.
fn indicator_values(p: &mut Map<String, Value>, snapshot: &Snapshot, year: u16, values: &[Option<f64>]) {
    p.insert("year".into(), json!(year));
    for (indicator, value) in snapshot.indicators.iter().zip(values) {
        p.insert(indicator.code.clone(), json!(value));
    }
}

fn area_properties(snapshot: &Snapshot, unit: Unit, a: usize, year: u16, values: &[Option<f64>]) -> Map<String, Value> {
    let mut p = area_identity(snapshot, &snapshot.areas[a]);
    p.insert("department_count".into(), json!(unit.department_count(a)));
    indicator_values(&mut p, snapshot, year, values);
    p
}

fn municipality_properties(
    snapshot: &Snapshot,
    code: MunicipalityCode,
    outline: &Outline,
    year: u16,
    values: &[Option<f64>],
) -> Map<String, Value> {
    let m = &snapshot.municipalities[&code];
    let mut p = Map::new();
    p.insert("municipality_code".into(), json!(code.to_string()));
    p.insert("name".into(), json!(m.name));
    p.insert("region_code".into(), json!(m.region_code));
    p.insert("area_count".into(), json!(outline.areas.len()));
    p.insert("geometry_source".into(), json!(outline.source));
    indicator_values(&mut p, snapshot, year, values);
    p
}

/// A collection's features, a page at a time.
///
/// Areas or municipalities as GeoJSON features with each indicator's published value in a year (`datetime`, default
/// the latest) as a property named by the indicator's code, null where suppressed or missing; filtered by `bbox`
/// and `municipality_code`, paged by `limit` and `offset` with next and prev links.
#[utoipa::path(tag = "ogc", params(("collection_id" = String, Path, description = "`areas` or `municipalities`", example = "areas"), ItemsQuery), responses(
    (status = 200, description = "A GeoJSON FeatureCollection with links (next while more remain), numberMatched and numberReturned",
        content_type = "application/geo+json", body = super::shapes::FeaturePage),
    super::responses::InvalidOrUnknown,
    (status = 404, description = "No such collection", body = ProblemDetails, content_type = "application/problem+json"),
))]
#[get("/ogc/collections/{collection_id}/items")]
pub async fn items(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: QueryParams<ItemsQuery>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    let collection = Collection::parse(&path)?;
    let b = base(&req);
    // the links repeat the query: in its canonical spelling, as the cache keys the answer
    let query_string = crate::http::cache::canonical_query(req.query_string(), super::params::canonical_value);
    render(&req, move || {
        let q = &*query;
        check_format(q.f.as_deref(), FEATURE_FORMATS)?;
        let limit = page_limit(q.limit.as_deref())?;
        let offset = Offset::or(q.offset, 0);
        let year = parse_datetime(q.datetime.as_deref(), &snapshot)?;
        let shape = Shape::of(q.precision, None, None);
        let municipality = q.municipality_code.as_deref().map(|m| Municipality::parse("municipality_code", m)).transpose()?.map(|m| m.0);
        let unit = Unit::of_dataset(&snapshot);
        let matched = features(&snapshot, &FeaturesRequest { collection, unit, municipality, within: q.bbox.map(|b| b.0) });
        let returned = matched.len().saturating_sub(offset).min(limit);
        let links = page_links(&b, &query_string, collection, (offset, limit, returned, matched.len()));
        let mut out = String::with_capacity(1024 + returned * 2048);
        out.push_str("{\"type\":\"FeatureCollection\",\"features\":[");
        for (k, member) in matched.iter().skip(offset).take(limit).enumerate() {
            if k > 0 {
                out.push(',');
            }
            write_member(&mut out, &snapshot, unit, member, year, &shape, None);
        }
        let (count, stamp) = (matched.len(), json!(snapshot.dataset.imported_at));
        out.push_str(&format!("],\"numberMatched\":{count},\"numberReturned\":{returned},\"timeStamp\":{stamp},\"links\":{links}}}"));
        Ok(data_body(&snapshot, None, GEO_JSON, out))
    })
    .await
}

/// A page's links: itself, its collection, and the next and previous pages where there are
/// any, each repeating the query (`query_string`, canonical) with its own offset.
fn page_links(
    b: &str,
    query_string: &str,
    collection: Collection,
    (offset, limit, returned, matched): (usize, usize, usize, usize),
) -> Value {
    let here = format!("{b}/ogc/collections/{}/items", collection.id());
    let with_offset = |o: usize| {
        let mut pairs: Vec<(String, String)> = url_pairs(query_string).into_iter().filter(|(k, _)| k != "offset").collect();
        pairs.push(("offset".into(), o.to_string()));
        let qs: Vec<String> = pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        format!("{here}?{}", qs.join("&"))
    };
    let self_href = if query_string.is_empty() { here.clone() } else { format!("{here}?{query_string}") };
    let mut links = vec![
        json!({"href": self_href, "rel": "self", "type": GEO_JSON, "title": "This page"}),
        json!({"href": format!("{b}/ogc/collections/{}", collection.id()), "rel": "collection", "type": "application/json", "title": "The collection"}),
    ];
    if offset + returned < matched {
        links.push(json!({"href": with_offset(offset + returned), "rel": "next", "type": GEO_JSON, "title": "Next page"}));
    }
    if offset > 0 {
        links.push(json!({"href": with_offset(offset.saturating_sub(limit)), "rel": "prev", "type": GEO_JSON, "title": "Previous page"}));
    }
    Value::Array(links)
}

/// One feature.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ItemQuery {
    /// The year of the indicator values, as for the items.
    pub datetime: Option<String>,
    /// Decimals of coordinates; default 7.
    #[param(inline)]
    pub precision: Option<Precision>,
    /// Output format: GeoJSON (`json` or `geojson`), the only one offered.
    #[param(value_type = Option<FeatureFormat>, inline)]
    pub f: Option<String>,
}

/// One feature of a collection.
///
/// An area, by its area id, or a municipality, by its code, with links to itself and its collection.
#[utoipa::path(tag = "ogc", params(("collection_id" = String, Path, description = "`areas` or `municipalities`", example = "areas"), ("feature_id" = String, Path, description = "An area_id, or a municipality code (`101` or `0101`)", example = "751-1"),
    ItemQuery), responses(
    (status = 200, description = "A GeoJSON Feature with links", content_type = "application/geo+json", body = super::shapes::OgcFeature),
    super::responses::InvalidOrUnknown,
    (status = 404, description = "No such collection or feature", body = ProblemDetails, content_type = "application/problem+json"),
))]
#[get("/ogc/collections/{collection_id}/items/{feature_id}")]
pub async fn item(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    query: QueryParams<ItemQuery>,
) -> Result<HttpResponse, ApiError> {
    check_format(query.f.as_deref(), FEATURE_FORMATS)?;
    let snapshot = state.snapshot()?;
    let b = base(&req);
    render(&req, move || {
        let (collection_id, feature_id) = path.into_inner();
        let collection = Collection::parse(&collection_id)?;
        let unit = Unit::of_dataset(&snapshot);
        let member = feature(&snapshot, unit, collection, &feature_id)
            .ok_or_else(|| ApiError::NotFound(format!("no feature {feature_id:?} in the collection {collection_id:?}")))?;
        let year = parse_datetime(query.datetime.as_deref(), &snapshot)?;
        let shape = Shape::of(query.precision, None, None);
        let links = json!({"links": [
            {"href": format!("{b}/ogc/collections/{}/items/{}", collection.id(), encode(&member.id(&snapshot))), "rel": "self", "type": GEO_JSON, "title": "This feature"},
            {"href": format!("{b}/ogc/collections/{}", collection.id()), "rel": "collection", "type": "application/json", "title": "The collection"}
        ]});
        let mut out = String::new();
        write_member(&mut out, &snapshot, unit, &member, year, &shape, Some(&links));
        Ok(data_body(&snapshot, None, GEO_JSON, out))
    })
    .await
}

/// Decoded key-value pairs of a query string.
fn url_pairs(query: &str) -> Vec<(String, String)> {
    web::Query::<Vec<(String, String)>>::from_query(query).map(|q| q.into_inner()).unwrap_or_default()
}

/// Percent-encodes a query component.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{DEFAULT_LIMIT, MAX_LIMIT, encode, page_limit};

    #[test]
    fn encodes_query_components() {
        assert_eq!(encode("9.9,56"), "9.9%2C56");
        assert_eq!(encode("a b/æ"), "a%20b%2F%C3%A6");
    }

    #[test]
    fn a_limit_above_the_maximum_is_served_as_the_maximum() {
        assert_eq!(page_limit(None).unwrap(), DEFAULT_LIMIT);
        assert_eq!(page_limit(Some("1")).unwrap(), 1);
        assert_eq!(page_limit(Some(" 250 ")).unwrap(), 250);
        assert_eq!(page_limit(Some("10000")).unwrap(), MAX_LIMIT);
        assert_eq!(page_limit(Some("10001")).unwrap(), MAX_LIMIT);
        assert_eq!(page_limit(Some("99999999999999999999999999")).unwrap(), MAX_LIMIT, "more digits than usize holds");
        for bad in ["0", "000", "-1", "", "ten", "1.5", "1e3", "+5"] {
            assert!(page_limit(Some(bad)).is_err(), "{bad:?}");
        }
    }
}
