//! Vector tiles of the areas for MapLibre-based front ends and GIS tools: Mapbox Vector Tile
//! 2.1 (encoded with the `mvt` crate), one layer `areas` with the properties of the map layer
//! (`/v1/map/areas`), geometry simplified for the zoom and clipped to the tile (with a
//! buffer), an empty tile as 204; and the TileJSON 3.0 document describing them.

use actix_web::{HttpRequest, HttpResponse, get, web};
use mvt::{GeomEncoder, GeomType, Tile};
use pointy::BBox as TileBox;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::AppState;
use super::map::{MapQuery, Properties, layer};
use super::params::Year;
use crate::domain::geometry::MultiPolygon;
use crate::error::{ApiError, ProblemDetails};
use crate::http::extract::QueryParams;
use crate::http::negotiate::Lang;
use crate::http::offload::{Rendered, render};
use crate::snapshot::Snapshot;

/// Tile coordinates run from 0 to EXTENT; geometry reaches BUFFER beyond, so that outlines
/// meet across tile edges.
const EXTENT: u32 = 4096;
const BUFFER: f64 = 64.0;
const MAX_ZOOM: u8 = 18;
const MVT: &str = crate::http::formats::MVT.media_type;
/// Half the Earth's circumference in Web Mercator metres.
const HALF: f64 = 20_037_508.342_789_244;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TileQuery {
    /// Delimitation version; default the dataset's.
    pub boundary: Option<String>,
    /// An indicator code: with `year` for its values, or with `from` and `to` for a comparison.
    pub indicator: Option<String>,
    /// The year of the values.
    #[param(inline)]
    pub year: Option<Year>,
    /// First year of a comparison.
    #[param(inline)]
    pub from: Option<Year>,
    /// Last year of a comparison.
    #[param(inline)]
    pub to: Option<Year>,
    /// Reference of a comparison; default `municipality`.
    #[param(value_type = Option<crate::domain::model::Reference>)]
    pub reference: Option<String>,
    /// With `from` and `to`: each area made of its departments covered by plans in at least
    /// this many of those years, as /v1/comparisons does; default 0 (every department).
    #[param(inline)]
    pub covered_years: Option<super::params::CoveredYears>,
    /// A year of the legal criteria: each feature carries its classifications.
    #[param(inline)]
    pub criteria_year: Option<Year>,
    /// Label language; default from `Accept-Language`, else Danish.
    #[param(value_type = Option<Lang>)]
    pub lang: Option<String>,
}

impl TileQuery {
    fn map_query(&self) -> MapQuery {
        MapQuery {
            boundary: self.boundary.clone(),
            indicator: self.indicator.clone(),
            year: self.year,
            from: self.from,
            to: self.to,
            reference: self.reference.clone(),
            twins: None,
            matching: None,
            criteria_year: self.criteria_year,
            rules: None,
            threshold: None,
            covered_years: self.covered_years,
            classes: None,
            classification: None,
            bbox: None,
            precision: None,
            simplify: None,
            geometry: None,
            lang: self.lang.clone(),
        }
    }
}

/// Web Mercator metres of a longitude and latitude.
fn mercator(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-85.051_128_78, 85.051_128_78);
    (lon * HALF / 180.0, (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0).tan().ln() * HALF / std::f64::consts::PI)
}

/// A tile's bounds in longitude and latitude: [west, south, east, north].
fn tile_bounds(z: u8, x: u32, y: u32) -> [f64; 4] {
    let n = f64::from(1u32 << z);
    let lon = |x: f64| x / n * 360.0 - 180.0;
    let lat = |y: f64| (std::f64::consts::PI * (1.0 - 2.0 * y / n)).sinh().atan().to_degrees();
    [lon(f64::from(x)), lat(f64::from(y + 1)), lon(f64::from(x + 1)), lat(f64::from(y))]
}

/// A longitude and latitude in the coordinates of tile z/x/y, unrounded.
fn to_tile(z: u8, x: u32, y: u32) -> impl Fn(&[f64; 2]) -> (f64, f64) {
    let size = 2.0 * HALF / f64::from(1u32 << z);
    let (x0, y1) = (-HALF + f64::from(x) * size, HALF - f64::from(y) * size);
    let scale = f64::from(EXTENT) / size;
    move |p: &[f64; 2]| {
        let (mx, my) = mercator(p[0], p[1]);
        ((mx - x0) * scale, (y1 - my) * scale)
    }
}

fn clip_box() -> TileBox<f64> {
    TileBox::new([(-BUFFER, -BUFFER), (f64::from(EXTENT) + BUFFER, f64::from(EXTENT) + BUFFER)])
}

/// A pixel of a 256-pixel tile, in tile coordinates: what an area too small to draw at a
/// zoom is drawn as, so that every area is on the map at every zoom (as tippecanoe keeps
/// tiny polygons).
const PIXEL: f64 = EXTENT as f64 / 256.0;

/// A square of one pixel around a point in tile coordinates (clockwise, y down: an exterior
/// ring); false when that lies beyond the tile's buffer (a neighbouring tile draws it).
fn add_pixel(encoder: &mut GeomEncoder<f64>, (cx, cy): (f64, f64)) -> Option<bool> {
    let limit = f64::from(EXTENT) + BUFFER;
    if !(-BUFFER..limit).contains(&cx) || !(-BUFFER..limit).contains(&cy) {
        return Some(false);
    }
    let (x0, y0) = ((cx - PIXEL / 2.0).floor(), (cy - PIXEL / 2.0).floor());
    for (px, py) in [(x0, y0), (x0 + PIXEL, y0), (x0 + PIXEL, y0 + PIXEL), (x0, y0 + PIXEL)] {
        encoder.add_point(px, py).ok()?;
    }
    encoder.complete_geom().ok()?;
    Some(true)
}

/// An area with nothing left to draw at a zoom (simplified away) as a pixel at the middle of
/// its bounding box.
fn pixel(bbox: &[f64; 4], z: u8, x: u32, y: u32) -> Option<mvt::GeomData> {
    let centre = to_tile(z, x, y)(&[(bbox[0] + bbox[2]) / 2.0, (bbox[1] + bbox[3]) / 2.0]);
    let mut encoder = GeomEncoder::new(GeomType::Polygon);
    if !add_pixel(&mut encoder, centre)? {
        return None;
    }
    encoder.encode().ok()
}

/// A ring in tile coordinates: rounded, repeated points dropped, not closed.
fn ring_points(ring: &[[f64; 2]], project: &impl Fn(&[f64; 2]) -> (f64, f64)) -> Vec<(f64, f64)> {
    let mut points: Vec<(f64, f64)> = Vec::with_capacity(ring.len());
    for p in ring {
        let (px, py) = project(p);
        let t = (px.round(), py.round());
        if points.last() != Some(&t) {
            points.push(t);
        }
    }
    if points.len() > 1 && points.first() == points.last() {
        points.pop();
    }
    points
}

/// The polygons in tile coordinates: rounded, repeated points dropped, holes of fewer than
/// three points left out, and a polygon smaller than a pixel each way drawn as a pixel at its
/// middle (its holes with it); `None` when nothing reaches the tile.
fn encode(geometry: &MultiPolygon, z: u8, x: u32, y: u32) -> Option<mvt::GeomData> {
    let project = to_tile(z, x, y);
    let mut encoder = GeomEncoder::new(GeomType::Polygon).bbox(clip_box());
    let mut any = false;
    for polygon in &geometry.0 {
        let Some(outer) = polygon.first() else { continue };
        let points = ring_points(outer, &project);
        if points.is_empty() {
            continue;
        }
        let (mut low, mut high) = ((f64::MAX, f64::MAX), (f64::MIN, f64::MIN));
        for &(px, py) in &points {
            (low, high) = ((low.0.min(px), low.1.min(py)), (high.0.max(px), high.1.max(py)));
        }
        if points.len() < 3 || (high.0 - low.0 < PIXEL && high.1 - low.1 < PIXEL) {
            any |= add_pixel(&mut encoder, ((low.0 + high.0) / 2.0, (low.1 + high.1) / 2.0))?;
            continue;
        }
        for (k, ring) in polygon.iter().enumerate() {
            let points = if k == 0 { points.clone() } else { ring_points(ring, &project) };
            if points.len() < 3 {
                continue;
            }
            for (px, py) in points {
                encoder.add_point(px, py).ok()?;
            }
            encoder.complete_geom().ok()?;
            any = true;
        }
    }
    if !any {
        return None;
    }
    encoder.encode().ok()
}

/// One tile of the areas.
fn tile(snapshot: &Snapshot, q: &TileQuery, lang: Lang, (z, x, y): (u8, u32, u32)) -> Result<Option<Vec<u8>>, ApiError> {
    let [w, s, e, n] = tile_bounds(z, x, y);
    // (with the buffer, in degrees about enough at any latitude served)
    let margin = (e - w) * BUFFER / f64::from(EXTENT);
    let bbox = [w - margin, s - margin, e + margin, n + margin];
    // (the whole layer, so that class breaks are those of every area, as the GeoJSON layer's;
    // then the areas reaching into the tile)
    let Properties { areas, properties, .. } = layer(snapshot, &q.map_query(), lang, None)?;
    let inside = |a: usize| snapshot.areas[a].bbox.is_some_and(|b| crate::domain::geometry::bbox_intersects(&b, &bbox));
    // about half a pixel of a 256-pixel tile, in metres at Danish latitudes
    let tolerance = 2.0 * HALF / f64::from(1u32 << z) / 512.0 * 0.6;
    let mut out = Tile::new(EXTENT);
    let mut layer_out = out.create_layer("areas");
    for (a, p) in areas.iter().zip(&properties).filter(|(a, _)| inside(**a)) {
        let area = &snapshot.areas[*a];
        let drawn = area.simplified(tolerance).and_then(|g| encode(&g, z, x, y));
        let Some(data) = drawn.or_else(|| area.bbox.and_then(|b| pixel(&b, z, x, y))) else { continue };
        let mut feature = layer_out.into_feature(data);
        feature.set_id(*a as u64 + 1);
        for (key, value) in p {
            match value {
                Value::String(v) => feature.add_tag_string(key, v),
                Value::Bool(v) => feature.add_tag_bool(key, *v),
                Value::Number(v) => match v.as_i64() {
                    Some(i) => feature.add_tag_sint(key, i),
                    None => feature.add_tag_double(key, v.as_f64().unwrap_or(f64::NAN)),
                },
                Value::Array(items) => {
                    let text: Vec<String> = items.iter().map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string)).collect();
                    feature.add_tag_string(key, &text.join(","));
                }
                Value::Null | Value::Object(_) => {}
            }
        }
        layer_out = feature.into_layer();
    }
    if layer_out.num_features() == 0 {
        return Ok(None);
    }
    out.add_layer(layer_out).map_err(|e| ApiError::Internal(format!("cannot encode a tile: {e}")))?;
    out.to_bytes().map(Some).map_err(|e| ApiError::Internal(format!("cannot encode a tile: {e}")))
}

fn coordinates(path: &(String, String, String)) -> Result<(u8, u32, u32), ApiError> {
    let bad = || ApiError::NotFound(format!("no tile {}/{}/{}: z from 0 to {MAX_ZOOM}, x and y below 2^z", path.0, path.1, path.2));
    let z: u8 = path.0.parse().map_err(|_| bad())?;
    let y = path.2.strip_suffix(".mvt").ok_or_else(bad)?;
    let (x, y): (u32, u32) = (path.1.parse().map_err(|_| bad())?, y.parse().map_err(|_| bad())?);
    if z > MAX_ZOOM || x >= 1 << z || y >= 1 << z {
        return Err(bad());
    }
    Ok((z, x, y))
}

/// A vector tile of the areas.
///
/// A Mapbox Vector Tile 2.1 with one layer `areas`: each area reaching into the tile with the properties of the map
/// layer for the same query (an indicator's values, a comparison or the criteria), clipped and simplified for the
/// zoom; 204 when no area reaches into the tile. For MapLibre and other vector-tile clients, from the TileJSON
/// document.
#[utoipa::path(
    tag = "map",
    params(
        ("z" = u8, Path, description = "Zoom, 0 to 18", example = 7),
        ("x" = u32, Path, description = "Column", example = 67),
        ("y" = String, Path, description = "Row, with the suffix `.mvt`", example = "40.mvt"),
        TileQuery
    ),
    responses(
        (status = 200, description = "The tile", content_type = "application/vnd.mapbox-vector-tile", body = Vec<u8>),
        (status = 204, description = "No area reaches into the tile"),
        (status = 400, description = "An invalid parameter: the problem names it", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "No such tile", body = ProblemDetails, content_type = "application/problem+json"),
        super::responses::Unloaded,
    )
)]
#[get("/tiles/areas/{z}/{x}/{y}")]
pub async fn area_tile(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    query: QueryParams<TileQuery>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    let lang = Lang::negotiate(&req, query.lang.as_deref())?;
    render(&req, move || {
        let zxy = coordinates(&path)?;
        match tile(&snapshot, &query, lang, zxy)? {
            Some(bytes) => Ok(Rendered::new(snapshot.dataset.version, MVT, bytes)),
            None => Ok(Rendered::new(snapshot.dataset.version, MVT, Vec::new()).no_content()),
        }
    })
    .await
}

/// The TileJSON 3.0 document of the area tiles.
///
/// The tile URL template, zoom range, bounds and the `areas` layer's fields, for MapLibre's `addSource` or any
/// TileJSON client; the tiles take the map layer's query parameters (`indicator`, `year`, `from`, `to`, `reference`, …).
#[utoipa::path(
    tag = "map",
    responses(
        (status = 200, description = "TileJSON 3.0", content_type = "application/json", body = super::shapes::TileJson),
        super::responses::TakesNoParameters,
        super::responses::Unloaded,
    )
)]
#[get("/tiles/areas.json")]
pub async fn tilejson(
    state: web::Data<AppState>,
    req: HttpRequest,
    _query: QueryParams<super::params::NoParameters>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    let base = crate::http::public_base::of(&req);
    render(&req, move || {
        let bounds = snapshot.bbox_of(snapshot.default_delimitation().areas()).unwrap_or([8.0, 54.5, 15.2, 57.8]);
        let body = json!({
            "tilejson": "3.0.0",
            "name": "areas",
            "description": "Areas with a boligsocial helhedsplan; properties as /v1/map/areas",
            "attribution": snapshot.dataset.source,
            "version": snapshot.dataset.version.to_string(),
            "scheme": "xyz",
            "tiles": [format!("{base}/tiles/areas/{{z}}/{{x}}/{{y}}.mvt")],
            "minzoom": 0,
            "maxzoom": MAX_ZOOM,
            "bounds": bounds,
            "center": [(bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0, 7],
            "vector_layers": [{
                "id": "areas",
                "description": "One feature per area",
                "minzoom": 0,
                "maxzoom": MAX_ZOOM,
                "fields": {
                    "area_id": "String", "name": "String", "municipality_code": "String", "municipality_name": "String",
                    "value": "Number", "status": "String", "class": "Number", "difference": "Number"
                }
            }]
        });
        Rendered::json(snapshot.dataset.version, &body)
    })
    .await
}
