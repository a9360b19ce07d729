//! OGC API – Features, Part 1: Core, at /ogc: one collection, `areas`, whose features carry
//! every indicator's published value in a year (`datetime`) as properties.

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::IntoParams;

use super::map::{geometry_text, parse_bbox, parse_shape, write_feature, GEO_JSON};
use super::params::data_response;
use super::AppState;
use crate::domain::geometry::bbox_intersects;
use crate::error::{ApiError, ProblemDetails};
use crate::snapshot::{figure_in, Snapshot};

const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
const COLLECTION: &str = "areas";
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 10_000;

/// The scheme and authority the client used, for absolute links.
fn base(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

fn json_response(snapshot: &Snapshot, content_type: &str, body: &Value) -> HttpResponse {
    data_response(snapshot, None).content_type(content_type).body(body.to_string())
}

fn unknown_collection(id: &str) -> ApiError {
    ApiError::NotFound(format!("no collection {id:?}; the collection is \"areas\""))
}

/// The landing page.
#[utoipa::path(tag = "ogc", responses(
    (status = 200, description = "Links to the API definition, the conformance declaration and the collections", body = Object),
    (status = 503, description = "No dataset is loaded yet", body = ProblemDetails, content_type = "application/problem+json"),
))]
#[get("/ogc")]
pub async fn landing(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    let b = base(&req);
    let body = json!({
        "title": "Boligsocial API – OGC API Features",
        "description": "Helhedsplansområder (areas with a boligsocial helhedsplan) with their indicators' published values",
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
}

/// The conformance declaration.
#[utoipa::path(tag = "ogc", responses((status = 200, description = "The conformance classes implemented", body = Object)))]
#[get("/ogc/conformance")]
pub async fn conformance(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    let body = json!({"conformsTo": [
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"
    ]});
    Ok(json_response(&snapshot, "application/json", &body))
}

fn years(snapshot: &Snapshot) -> Option<(u16, u16)> {
    let all = snapshot.indicators.iter().flat_map(|i| i.years.iter().copied());
    let (min, max) = all.fold((u16::MAX, 0), |(lo, hi), y| (lo.min(y), hi.max(y)));
    (max > 0).then_some((min, max))
}

fn collection(snapshot: &Snapshot, b: &str) -> Value {
    let (_, d) = snapshot.delimitation(None).expect("the default delimitation exists");
    let bbox = snapshot.bbox_of(d.areas());
    let interval = years(snapshot).map(|(lo, hi)| json!([[format!("{lo}-01-01T00:00:00Z"), format!("{hi}-12-31T23:59:59Z")]]));
    json!({
        "id": COLLECTION,
        "title": "Helhedsplansområder",
        "description": format!(
            "Areas with a boligsocial helhedsplan under the delimitation {}, with each indicator's published value in a year \
             (datetime; default the latest) as a property named by the indicator's code; suppressed or missing values are null.",
            snapshot.dataset.boundary_version
        ),
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": {
            "spatial": {"bbox": [bbox.unwrap_or([-180.0, -90.0, 180.0, 90.0])], "crs": CRS84},
            "temporal": {"interval": interval.unwrap_or(json!([[null, null]])), "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
        },
        "links": [
            {"href": format!("{b}/ogc/collections/{COLLECTION}"), "rel": "self", "type": "application/json", "title": "This collection"},
            {"href": format!("{b}/ogc/collections/{COLLECTION}/items"), "rel": "items", "type": GEO_JSON, "title": "The areas"},
            {"href": format!("{b}/ogc/collections/{COLLECTION}/queryables"), "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
             "type": "application/schema+json", "title": "Queryable properties"}
        ]
    })
}

/// The collections: `areas`.
#[utoipa::path(tag = "ogc", responses(
    (status = 200, description = "The collections", body = Object),
    (status = 503, description = "No dataset is loaded yet", body = ProblemDetails, content_type = "application/problem+json"),
))]
#[get("/ogc/collections")]
pub async fn collections(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    let b = base(&req);
    let body = json!({
        "links": [{"href": format!("{b}/ogc/collections"), "rel": "self", "type": "application/json", "title": "This document"}],
        "collections": [collection(&snapshot, &b)]
    });
    Ok(json_response(&snapshot, "application/json", &body))
}

/// One collection.
#[utoipa::path(tag = "ogc", params(("collection_id" = String, Path, example = "areas")), responses(
    (status = 200, description = "The collection", body = Object),
    (status = 404, description = "No such collection", body = ProblemDetails, content_type = "application/problem+json"),
))]
#[get("/ogc/collections/{collection_id}")]
pub async fn get_collection(state: web::Data<AppState>, req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    if path.as_str() != COLLECTION {
        return Err(unknown_collection(&path));
    }
    Ok(json_response(&snapshot, "application/json", &collection(&snapshot, &base(&req))))
}

/// The properties a client may query on (OGC API – Features Part 3's queryables).
#[utoipa::path(tag = "ogc", params(("collection_id" = String, Path, example = "areas")), responses(
    (status = 200, description = "A JSON Schema of the features' properties", body = Object, content_type = "application/schema+json"),
    (status = 404, description = "No such collection", body = ProblemDetails, content_type = "application/problem+json"),
))]
#[get("/ogc/collections/{collection_id}/queryables")]
pub async fn queryables(state: web::Data<AppState>, req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    if path.as_str() != COLLECTION {
        return Err(unknown_collection(&path));
    }
    let mut properties = Map::new();
    properties.insert("area_id".into(), json!({"type": "string", "title": "Area id"}));
    properties.insert("name".into(), json!({"type": "string", "title": "Name"}));
    properties.insert("municipality_code".into(), json!({"type": "string", "title": "Municipality code (Danmarks Statistik)"}));
    properties.insert("municipality_name".into(), json!({"type": "string", "title": "Municipality"}));
    properties.insert("department_count".into(), json!({"type": "integer", "title": "Departments in the area"}));
    properties.insert("year".into(), json!({"type": "integer", "title": "Year of the indicator values"}));
    for i in &snapshot.indicators {
        properties.insert(
            i.code.clone(),
            json!({"type": ["number", "null"], "title": i.name_da, "description": format!("{} ({}; {})", i.name_en, i.kind.unit(), i.population_en)}),
        );
    }
    let body = json!({
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": format!("{}/ogc/collections/{COLLECTION}/queryables", base(&req)),
        "type": "object",
        "title": "Helhedsplansområder",
        "properties": properties
    });
    Ok(json_response(&snapshot, "application/schema+json", &body))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemsQuery {
    /// Features per page; default 100.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 10000, example = 100)]
    pub limit: Option<String>,
    /// Features to skip (the `next` links use it).
    #[param(value_type = Option<u32>, minimum = 0, maximum = 4294967295u32)]
    pub offset: Option<String>,
    /// `minLon,minLat,maxLon,maxLat` (CRS84; six numbers with heights are accepted).
    pub bbox: Option<String>,
    /// The year of the indicator values: `2023`, a date-time, or an interval (`2015/2023`,
    /// whose end is used); default the latest year with data.
    pub datetime: Option<String>,
    /// Only the areas of this municipality (`101` or `0101`).
    pub municipality_code: Option<String>,
    /// Decimals of coordinates; default 7.
    #[param(value_type = Option<u8>, minimum = 0, maximum = 15)]
    pub precision: Option<String>,
    /// Output format; only GeoJSON (`json`, `geojson`) is offered.
    pub f: Option<String>,
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
        .ok_or_else(|| ApiError::invalid("datetime", format!("datetime {text:?} must be a year, an RFC 3339 date-time, or an interval of them")))
}

fn area_properties(snapshot: &Snapshot, a: usize, department_count: usize, year: u16) -> Map<String, Value> {
    let (_, d) = snapshot.delimitation(None).expect("the default delimitation exists");
    let area = &snapshot.areas[a];
    let mut p = Map::new();
    p.insert("area_id".into(), json!(area.area_id));
    p.insert("name".into(), json!(area.name));
    p.insert("municipality_code".into(), json!(area.municipality.to_string()));
    p.insert("municipality_name".into(), json!(snapshot.municipalities.get(&area.municipality).map(|m| &m.name)));
    p.insert("department_count".into(), json!(department_count));
    p.insert("year".into(), json!(year));
    for (i, indicator) in snapshot.indicators.iter().enumerate() {
        let value = figure_in(d.series(a, i), year).and_then(|p| p.figure.value());
        p.insert(indicator.code.clone(), json!(value));
    }
    p
}

/// The areas, a page at a time.
#[utoipa::path(tag = "ogc", params(("collection_id" = String, Path, example = "areas"), ItemsQuery), responses(
    (status = 200, description = "A GeoJSON FeatureCollection with links (next while more remain), numberMatched and numberReturned",
        content_type = "application/geo+json", body = Object),
    (status = 400, description = "An invalid parameter", body = ProblemDetails, content_type = "application/problem+json"),
    (status = 404, description = "No such collection", body = ProblemDetails, content_type = "application/problem+json"),
))]
#[get("/ogc/collections/{collection_id}/items")]
pub async fn items(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<ItemsQuery>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    if path.as_str() != COLLECTION {
        return Err(unknown_collection(&path));
    }
    let q = &*query;
    let limit = super::params::whole("limit", q.limit.as_deref(), DEFAULT_LIMIT, 1..=MAX_LIMIT)?;
    let offset = super::params::whole("offset", q.offset.as_deref(), 0, 0..=u32::MAX as usize)?;
    let bbox = parse_bbox(q.bbox.as_deref())?;
    let year = parse_datetime(q.datetime.as_deref(), &snapshot)?;
    let shape = parse_shape(q.precision.as_deref(), None, None)?;
    let municipality = q.municipality_code.as_deref().map(|m| super::params::municipality("municipality_code", m)).transpose()?;
    let (_, d) = snapshot.delimitation(None).expect("the default delimitation exists");
    let matched: Vec<usize> = d
        .areas()
        .filter(|&a| municipality.is_none_or(|m| snapshot.areas[a].municipality == m))
        .filter(|&a| bbox.is_none_or(|b| snapshot.areas[a].bbox.is_some_and(|ab| bbox_intersects(&ab, &b))))
        .collect();
    let page: Vec<usize> = matched.iter().skip(offset).take(limit).copied().collect();

    let b = base(&req);
    let here = format!("{b}/ogc/collections/{COLLECTION}/items");
    let with_offset = |o: usize| {
        let mut pairs: Vec<(String, String)> = url_pairs(req.query_string()).into_iter().filter(|(k, _)| k != "offset").collect();
        pairs.push(("offset".into(), o.to_string()));
        let qs: Vec<String> = pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        format!("{here}?{}", qs.join("&"))
    };
    let self_href = if req.query_string().is_empty() { here.clone() } else { format!("{here}?{}", req.query_string()) };
    let mut links = vec![
        json!({"href": self_href, "rel": "self", "type": GEO_JSON, "title": "This page"}),
        json!({"href": format!("{b}/ogc/collections/{COLLECTION}"), "rel": "collection", "type": "application/json", "title": "The collection"}),
    ];
    if offset + page.len() < matched.len() {
        links.push(json!({"href": with_offset(offset + page.len()), "rel": "next", "type": GEO_JSON, "title": "Next page"}));
    }
    if offset > 0 {
        links.push(json!({"href": with_offset(offset.saturating_sub(limit)), "rel": "prev", "type": GEO_JSON, "title": "Previous page"}));
    }
    let mut out = String::with_capacity(1024 + page.len() * 2048);
    out.push_str("{\"type\":\"FeatureCollection\",\"features\":[");
    for (k, &a) in page.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        let area = &snapshot.areas[a];
        let p = area_properties(&snapshot, a, d.departments[a].len(), year);
        write_feature(&mut out, &area.area_id, &p, &geometry_text(area, &shape), None);
    }
    out.push_str(&format!(
        "],\"numberMatched\":{},\"numberReturned\":{},\"timeStamp\":{},\"links\":{}}}",
        matched.len(),
        page.len(),
        json!(snapshot.dataset.imported_at),
        Value::Array(links)
    ));
    Ok(data_response(&snapshot, None).content_type(GEO_JSON).body(out))
}

/// One area.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemQuery {
    /// The year of the indicator values, as for the items.
    pub datetime: Option<String>,
    /// Decimals of coordinates; default 7.
    #[param(value_type = Option<u8>, minimum = 0, maximum = 15)]
    pub precision: Option<String>,
    /// Output format; only GeoJSON (`json`, `geojson`) is offered.
    pub f: Option<String>,
}

#[utoipa::path(tag = "ogc", params(("collection_id" = String, Path, example = "areas"), ("feature_id" = String, Path, example = "751-1"),
    ItemQuery), responses(
    (status = 200, description = "A GeoJSON Feature with links", content_type = "application/geo+json", body = Object),
    (status = 400, description = "An invalid parameter", body = ProblemDetails, content_type = "application/problem+json"),
    (status = 404, description = "No such collection or feature", body = ProblemDetails, content_type = "application/problem+json"),
))]
#[get("/ogc/collections/{collection_id}/items/{feature_id}")]
pub async fn item(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    query: web::Query<ItemQuery>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    let (collection_id, feature_id) = path.into_inner();
    if collection_id != COLLECTION {
        return Err(unknown_collection(&collection_id));
    }
    let (_, d) = snapshot.delimitation(None).expect("the default delimitation exists");
    let (a, area) = snapshot
        .area(&feature_id)
        .filter(|(a, _)| d.contains(*a))
        .ok_or_else(|| ApiError::NotFound(format!("no feature {feature_id:?} in the collection")))?;
    let year = parse_datetime(query.datetime.as_deref(), &snapshot)?;
    let shape = parse_shape(query.precision.as_deref(), None, None)?;
    let b = base(&req);
    let links = json!({"links": [
        {"href": format!("{b}/ogc/collections/{COLLECTION}/items/{}", encode(&feature_id)), "rel": "self", "type": GEO_JSON, "title": "This feature"},
        {"href": format!("{b}/ogc/collections/{COLLECTION}"), "rel": "collection", "type": "application/json", "title": "The collection"}
    ]});
    let mut out = String::new();
    write_feature(&mut out, &area.area_id, &area_properties(&snapshot, a, d.departments[a].len(), year), &geometry_text(area, &shape), Some(&links));
    Ok(data_response(&snapshot, None).content_type(GEO_JSON).body(out))
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
    use super::encode;

    #[test]
    fn encodes_query_components() {
        assert_eq!(encode("9.9,56"), "9.9%2C56");
        assert_eq!(encode("a b/æ"), "a%20b%2F%C3%A6");
    }
}
