//! A GeoJSON FeatureCollection of Polygons and MultiPolygons, streamed from its file: each
//! Feature's id property and geometry are kept, everything else is skipped as it is read, so
//! that memory follows the geometry, not the file. Positions are kept as delivered until the
//! collection's `crs` is known (JSON does not order an object's members), then projected to
//! WGS 84, oriented and checked.

use std::io::Read;

use super::geometry::{Crs, parse_crs_name};
use super::json_stream::{JsonError, JsonReader, Kind, Pos};
use super::projection::utm_to_lon_lat;
use crate::domain::geometry::{MultiPolygon, Ring};
use crate::domain::validity;

/// A problem at a place in the file.
pub type Located = (Pos, String);

/// Bounds that keep a hostile file from exhausting the process.
#[derive(Debug, Clone, Copy)]
pub struct GeometryLimits {
    /// Positions of one Feature's geometry.
    pub max_positions_per_feature: usize,
    /// Positions of the whole file.
    pub max_positions: usize,
}

/// A ring as delivered: where it starts, and its positions' first two numbers.
#[derive(Debug, Clone)]
struct RawRing {
    pos: Pos,
    xy: Vec<[f64; 2]>,
}

/// A geometry member as read: `None` for `null`, else its polygons' raw rings.
type RawGeometry = Result<Option<Vec<Vec<RawRing>>>, Located>;

/// One Feature as read.
#[derive(Debug)]
pub struct RawFeature {
    pub pos: Pos,
    /// The first of the wanted id properties present, with where its value stands; `Err` when
    /// it is there but not a string.
    pub id: Option<Result<(String, Pos), Pos>>,
    /// `None`: no geometry member; `Some(Ok(None))`: `null`.
    geometry: Option<RawGeometry>,
}

/// What a collection's Features became.
pub struct Feature {
    pub pos: Pos,
    pub id: Option<Result<(String, Pos), Pos>>,
    /// `Ok(None)` for `"geometry": null`.
    pub geometry: Result<Option<MultiPolygon>, Located>,
}

/// Reads a FeatureCollection; `Err` for what makes the whole file unusable (not JSON, not a
/// FeatureCollection, an unknown crs), otherwise the Features and the problems of members
/// that are no Feature.
pub fn read_collection<R: Read>(input: R, id_keys: &[&str], limits: GeometryLimits) -> Result<(Vec<Feature>, Vec<Located>), Located> {
    let json = |e: JsonError| (e.pos, format!("invalid JSON: {}", e.message));
    let mut r = JsonReader::new(input);
    r.skip_bom().map_err(json)?;
    let (kind, start) = r.peek().map_err(json)?;
    if kind != Kind::Object {
        return Err((start, "the file must be a GeoJSON FeatureCollection".into()));
    }
    r.begin_object().map_err(json)?;
    let (mut kind_ok, mut crs, mut features, mut problems) = (false, Crs::Wgs84, None, Vec::new());
    let mut positions = 0usize;
    while let Some((key, _)) = r.next_key().map_err(json)? {
        match key.as_str() {
            "type" => kind_ok = matches!(r.peek().map_err(json)?.0, Kind::String) && r.string().map_err(json)? == "FeatureCollection",
            "crs" => {
                let (kind, at) = r.peek().map_err(json)?;
                crs = match kind {
                    Kind::Null => {
                        r.null().map_err(json)?;
                        Crs::Wgs84
                    }
                    Kind::Object => parse_crs_name(read_crs_name(&mut r).map_err(json)?).map_err(|m| (at, m))?,
                    _ => return Err((at, "crs must be {\"type\": \"name\", \"properties\": {\"name\": …}}".into())),
                };
            }
            "features" => {
                let (kind, at) = r.peek().map_err(json)?;
                if kind != Kind::Array {
                    return Err((at, "\"features\" must be an array".into()));
                }
                let mut list = Vec::new();
                r.begin_array().map_err(json)?;
                while r.next_item().map_err(json)? {
                    let (kind, at) = r.peek().map_err(json)?;
                    if kind != Kind::Object {
                        r.skip_value().map_err(json)?;
                        problems.push((at, "each member of \"features\" must be a Feature".into()));
                        continue;
                    }
                    match read_feature(&mut r, id_keys, limits, &mut positions).map_err(json)? {
                        Some(f) => list.push(f),
                        None => problems.push((at, "each member of \"features\" must be a Feature".into())),
                    }
                }
                features = Some(list);
            }
            _ => r.skip_value().map_err(json)?,
        }
    }
    r.end().map_err(json)?;
    if !kind_ok {
        return Err((start, "the file must be a GeoJSON FeatureCollection".into()));
    }
    let Some(features) = features else {
        return Err((start, "the FeatureCollection has no \"features\" array".into()));
    };
    let features = features
        .into_iter()
        .map(|f| Feature {
            pos: f.pos,
            id: f.id,
            geometry: match f.geometry {
                None => Err((f.pos, "the Feature has no geometry member".into())),
                Some(Err(e)) => Err(e),
                Some(Ok(None)) => Ok(None),
                Some(Ok(Some(polygons))) => finish(polygons, crs).map(Some),
            },
        })
        .collect();
    Ok((features, problems))
}

/// `{"type": "name", "properties": {"name": "…"}}`: the name.
fn read_crs_name<R: Read>(r: &mut JsonReader<R>) -> Result<String, JsonError> {
    let at = r.pos();
    let mut name = None;
    r.begin_object()?;
    while let Some((key, _)) = r.next_key()? {
        if key == "properties" && r.peek()?.0 == Kind::Object {
            r.begin_object()?;
            while let Some((key, _)) = r.next_key()? {
                if key == "name" && r.peek()?.0 == Kind::String {
                    name = Some(r.string()?);
                } else {
                    r.skip_value()?;
                }
            }
        } else {
            r.skip_value()?;
        }
    }
    name.ok_or(JsonError { pos: at, message: "crs must be {\"type\": \"name\", \"properties\": {\"name\": …}}".into() })
}

/// One Feature object (the reader stands at its `{`); `None` when its type is not "Feature".
fn read_feature<R: Read>(
    r: &mut JsonReader<R>,
    id_keys: &[&str],
    limits: GeometryLimits,
    positions: &mut usize,
) -> Result<Option<RawFeature>, JsonError> {
    let pos = r.pos();
    r.begin_object()?;
    let (mut is_feature, mut id, mut geometry) = (false, None, None);
    let mut id_rank = usize::MAX;
    while let Some((key, _)) = r.next_key()? {
        match key.as_str() {
            "type" => is_feature = r.peek()?.0 == Kind::String && r.string()? == "Feature",
            "properties" if r.peek()?.0 == Kind::Object => {
                r.begin_object()?;
                while let Some((key, _)) = r.next_key()? {
                    match id_keys.iter().position(|k| *k == key) {
                        Some(rank) if rank < id_rank => {
                            id_rank = rank;
                            let (kind, at) = r.peek()?;
                            id = Some(if kind == Kind::String { Ok((r.string()?, at)) } else { r.skip_value().map(|()| Err(at))? });
                        }
                        _ => r.skip_value()?,
                    }
                }
            }
            "geometry" => geometry = Some(read_geometry(r, limits, positions)?),
            _ => r.skip_value()?,
        }
    }
    Ok(is_feature.then_some(RawFeature { pos, id, geometry }))
}

/// A coordinate array before its geometry type is known: positions, or arrays of them.
enum Coordinates {
    Position { pos: Pos, numbers: usize, xy: [f64; 2] },
    List { pos: Pos, items: Vec<Coordinates> },
}

impl Coordinates {
    fn pos(&self) -> Pos {
        match self {
            Coordinates::Position { pos, .. } | Coordinates::List { pos, .. } => *pos,
        }
    }
}

/// Reads `coordinates` without recursion, at most four arrays deep (a MultiPolygon's), and
/// counting positions against the limits.
fn read_coordinates<R: Read>(
    r: &mut JsonReader<R>,
    limits: GeometryLimits,
    count: &mut usize,
    total: &mut usize,
) -> Result<Result<Coordinates, Located>, JsonError> {
    // open arrays, innermost last: (where it starts, items so far, numbers so far)
    let mut stack: Vec<(Pos, Vec<Coordinates>, Vec<f64>)> = Vec::new();
    let (kind, at) = r.peek()?;
    if kind != Kind::Array {
        r.skip_value()?;
        return Ok(Err((at, format!("coordinates must be an array, not {}", kind.name()))));
    }
    r.begin_array()?;
    stack.push((at, Vec::new(), Vec::new()));
    loop {
        if !r.next_item()? {
            let Some((pos, items, numbers)) = stack.pop() else { return Ok(Err((at, "unbalanced arrays".into()))) };
            let done = if numbers.is_empty() {
                Coordinates::List { pos, items }
            } else if !items.is_empty() {
                r_skip_open(r, stack.len())?;
                return Ok(Err((pos, "an array mixes numbers and arrays".into())));
            } else {
                *count += 1;
                *total += 1;
                if *count > limits.max_positions_per_feature {
                    r_skip_open(r, stack.len())?;
                    return Ok(Err((
                        pos,
                        format!("the geometry has more than {} positions (import.max_vertices_per_area)", limits.max_positions_per_feature),
                    )));
                }
                if *total > limits.max_positions {
                    r_skip_open(r, stack.len())?;
                    return Ok(Err((pos, format!("the file has more than {} positions", limits.max_positions))));
                }
                Coordinates::Position { pos, numbers: numbers.len(), xy: [numbers[0], numbers.get(1).copied().unwrap_or(f64::NAN)] }
            };
            match stack.last_mut() {
                Some((_, items, _)) => items.push(done),
                None => return Ok(Ok(done)),
            }
            continue;
        }
        let (kind, at) = r.peek()?;
        match kind {
            Kind::Number => {
                let n = r.number()?;
                let Some((_, _, numbers)) = stack.last_mut() else { return Ok(Err((at, "unbalanced arrays".into()))) };
                if numbers.len() < 3 {
                    numbers.push(n);
                } else {
                    r_skip_open(r, stack.len())?;
                    return Ok(Err((at, "a position needs two or three numbers, this one has more".into())));
                }
            }
            Kind::Array if stack.len() < 4 => {
                r.begin_array()?;
                stack.push((at, Vec::new(), Vec::new()));
            }
            Kind::Array => {
                r.skip_value()?;
                r_skip_open(r, stack.len())?;
                return Ok(Err((at, "coordinates nested deeper than a MultiPolygon's".into())));
            }
            other => {
                r.skip_value()?;
                r_skip_open(r, stack.len())?;
                return Ok(Err((at, format!("a coordinate must be a number, not {}", other.name()))));
            }
        }
    }
}

/// Skips the rest of `open` arrays the reader is inside.
fn r_skip_open<R: Read>(r: &mut JsonReader<R>, open: usize) -> Result<(), JsonError> {
    for _ in 0..open {
        while r.next_item()? {
            r.skip_value()?;
        }
    }
    Ok(())
}

/// A geometry member: `null`, or a Polygon or MultiPolygon as raw rings.
fn read_geometry<R: Read>(r: &mut JsonReader<R>, limits: GeometryLimits, total: &mut usize) -> Result<RawGeometry, JsonError> {
    let (kind, at) = r.peek()?;
    match kind {
        Kind::Null => {
            r.null()?;
            return Ok(Ok(None));
        }
        Kind::Object => {}
        other => {
            r.skip_value()?;
            return Ok(Err((at, format!("a geometry must be an object, not {}", other.name()))));
        }
    }
    r.begin_object()?;
    let (mut kind, mut coordinates) = (None, None);
    let mut count = 0;
    while let Some((key, _)) = r.next_key()? {
        match key.as_str() {
            "type" if r.peek()?.0 == Kind::String => kind = Some(r.string()?),
            "coordinates" => coordinates = Some(read_coordinates(r, limits, &mut count, total)?),
            _ => r.skip_value()?,
        }
    }
    let coordinates = match coordinates {
        None => return Ok(Err((at, "geometry has no coordinates".into()))),
        Some(Err(e)) => return Ok(Err(e)),
        Some(Ok(c)) => c,
    };
    Ok(match kind.as_deref() {
        Some("Polygon") => polygon(coordinates).map(|p| Some(vec![p])),
        Some("MultiPolygon") => match coordinates {
            Coordinates::List { items, pos } if items.is_empty() => Err((pos, "a MultiPolygon needs at least one polygon".into())),
            Coordinates::List { items, .. } => items.into_iter().map(polygon).collect::<Result<Vec<_>, _>>().map(Some),
            Coordinates::Position { pos, .. } => Err((pos, "MultiPolygon coordinates must be an array of polygons".into())),
        },
        Some(other) => Err((at, format!("geometry type {other} is not Polygon or MultiPolygon"))),
        None => Err((at, "geometry has no type".into())),
    })
}

fn polygon(c: Coordinates) -> Result<Vec<RawRing>, Located> {
    let Coordinates::List { pos, items } = c else {
        return Err((c.pos(), "a polygon must be an array of rings".into()));
    };
    if items.is_empty() {
        return Err((pos, "a polygon needs at least one ring".into()));
    }
    items.into_iter().map(ring).collect()
}

fn ring(c: Coordinates) -> Result<RawRing, Located> {
    let Coordinates::List { pos, items } = c else {
        return Err((c.pos(), "a ring must be an array of positions".into()));
    };
    if items.len() < 4 {
        return Err((pos, format!("a ring needs at least four positions, this one has {}", items.len())));
    }
    let mut xy = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Coordinates::Position { numbers: 2..=3, xy: p, .. } => xy.push(p), // a third number (height) is dropped
            Coordinates::Position { pos, numbers, .. } => {
                return Err((pos, format!("a position needs two or three numbers, this one has {numbers}")));
            }
            Coordinates::List { pos, .. } => return Err((pos, "a position must be an array of numbers".into())),
        }
    }
    Ok(RawRing { pos, xy })
}

/// Projects, closes, orients and checks the rings of a geometry.
fn finish(polygons: Vec<Vec<RawRing>>, crs: Crs) -> Result<MultiPolygon, Located> {
    let several = polygons.len() > 1;
    let mut out = Vec::with_capacity(polygons.len());
    for (p, rings) in polygons.into_iter().enumerate() {
        let mut polygon: Vec<Ring> = Vec::with_capacity(rings.len());
        let starts: Vec<Pos> = rings.iter().map(|r| r.pos).collect();
        // a ring without area as delivered (in UTM, say) need not be one in degrees
        let mut flat = None;
        for (r, raw) in rings.into_iter().enumerate() {
            if raw.xy.first() != raw.xy.last() {
                return Err((raw.pos, "ring is not closed: its first and last positions differ".into()));
            }
            if flat.is_none() && validity::encloses_no_area(&raw.xy) {
                flat = Some(r);
            }
            let mut ring = Vec::with_capacity(raw.xy.len());
            for (i, xy) in raw.xy.iter().enumerate() {
                let (lon, lat) = match crs {
                    Crs::Wgs84 => (xy[0], xy[1]),
                    Crs::Utm(zone) => utm_to_lon_lat(zone, xy[0], xy[1]),
                };
                if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) || !lon.is_finite() || !lat.is_finite() {
                    let hint = match crs {
                        Crs::Wgs84 => " (metres need a crs member naming EPSG:25832 or EPSG:25833)",
                        Crs::Utm(_) => "",
                    };
                    return Err((
                        raw.pos,
                        format!("position {} of the ring, [{}, {}], is outside longitude/latitude range{hint}", i + 1, xy[0], xy[1]),
                    ));
                }
                ring.push([lon, lat]);
            }
            // the closing position equals the first exactly after projection too
            if let (Some(&first), Some(last)) = (ring.first(), ring.len().checked_sub(1)) {
                ring[last] = first;
            }
            polygon.push(ring);
        }
        let mut mp = MultiPolygon(vec![polygon]);
        mp.orient();
        let Some(polygon) = mp.0.pop() else { continue };
        let checked = validity::check(&polygon).and(flat.map_or(Ok(()), |ring| Err(validity::Invalid::NoArea { ring })));
        if let Err(invalid) = checked {
            let which = if several { format!("polygon {}: ", p + 1) } else { String::new() };
            return Err((starts[invalid.ring()], format!("{which}{}", invalid.message())));
        }
        out.push(polygon);
    }
    Ok(MultiPolygon(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::geometry::signed_area2;
    use crate::ingest::projection::{UtmZone, lon_lat_to_utm};

    const LIMITS: GeometryLimits = GeometryLimits { max_positions_per_feature: 1000, max_positions: 5000 };

    fn collection(geometry: &str, crs: Option<&str>) -> String {
        let crs = crs.map_or(String::new(), |c| format!(r#","crs":{{"type":"name","properties":{{"name":"{c}"}}}}"#));
        format!(
            r#"{{"type":"FeatureCollection"{crs},"features":[{{"type":"Feature","properties":{{"area_id":"A","x":[1,{{"y":2}}]}},"geometry":{geometry}}}]}}"#
        )
    }

    fn geom(geometry: &str, crs: Option<&str>) -> Result<MultiPolygon, Located> {
        let (mut features, problems) = read_collection(collection(geometry, crs).as_bytes(), &["area_id"], LIMITS)?;
        assert!(problems.is_empty());
        let f = features.pop().unwrap();
        assert_eq!(f.id.unwrap().unwrap().0, "A");
        f.geometry.map(|g| g.unwrap())
    }

    #[test]
    fn reads_polygons_and_orients_them() {
        // clockwise exterior, delivered with heights
        let g = geom(r#"{"type":"Polygon","coordinates":[[[10,56,3],[10,56.1,3],[10.1,56.1,3],[10.1,56,3],[10,56,3]]]}"#, None).unwrap();
        assert_eq!(g.0.len(), 1);
        assert!(signed_area2(&g.0[0][0]) > 0.0);
        assert_eq!(g.bbox(), Some([10.0, 56.0, 10.1, 56.1]));
        let g = geom(
            r#"{"coordinates":[[[[10,56],[10.1,56],[10.1,56.1],[10,56]]],[[[11,56],[11.1,56],[11.1,56.1],[11,56]]]],"type":"MultiPolygon"}"#,
            None,
        )
        .unwrap();
        assert_eq!(g.0.len(), 2, "the type may come after the coordinates");
    }

    #[test]
    fn projects_utm_to_within_a_millionth_of_a_degree_wherever_the_crs_stands() {
        let (lon, lat) = (12.5683, 55.6761);
        let (e, n) = lon_lat_to_utm(UtmZone::Z32, lon, lat);
        let g = format!(r#"{{"type":"Polygon","coordinates":[[[{e},{n}],[{},{n}],[{},{}],[{e},{n}]]]}}"#, e + 100.0, e + 100.0, n + 100.0);
        let p = geom(&g, Some("EPSG:25832")).unwrap().0[0][0][0];
        assert!((p[0] - lon).abs() < 1e-9 && (p[1] - lat).abs() < 1e-9, "{p:?}");
        // the crs after the features (JSON does not order members)
        let text = format!(
            r#"{{"features":[{{"type":"Feature","properties":{{"area_id":"A"}},"geometry":{g}}}],"type":"FeatureCollection","crs":{{"type":"name","properties":{{"name":"EPSG:25832"}}}}}}"#
        );
        let (features, _) = read_collection(text.as_bytes(), &["area_id"], LIMITS).unwrap();
        let p = features[0].geometry.as_ref().unwrap().as_ref().unwrap().0[0][0][0];
        assert!((p[0] - lon).abs() < 1e-9 && (p[1] - lat).abs() < 1e-9, "{p:?}");
    }

    #[test]
    fn rejects_invalid_geometry_where_it_is() {
        let cases = [
            (r#"{"type":"Point","coordinates":[10,56]}"#, "not Polygon"),
            (r#"{"type":"Polygon","coordinates":[[[10,56],[10.1,56],[10.1,56.1],[10,56.2]]]}"#, "not closed"),
            (r#"{"type":"Polygon","coordinates":[[[10,56],[10.1,56],[10,56]]]}"#, "four positions"),
            (r#"{"type":"Polygon","coordinates":[]}"#, "at least one ring"),
            (r#"{"type":"Polygon","coordinates":[[[10,56],[10.1,"x"],[10.1,56.1],[10,56]]]}"#, "must be a number"),
            (r#"{"type":"Polygon","coordinates":[[[10],[10.1,56],[10.1,56.1],[10]]]}"#, "two or three"),
            (r#"{"type":"Polygon","coordinates":[[[10,56,1,2],[10.1,56],[10.1,56.1],[10,56,1,2]]]}"#, "two or three"),
            (
                r#"{"type":"Polygon","coordinates":[[[600000,6200000],[600100,6200000],[600100,6200100],[600000,6200000]]]}"#,
                "outside longitude/latitude",
            ),
            (r#"{"type":"Polygon"}"#, "no coordinates"),
            (r#"{"type":"MultiPolygon","coordinates":[]}"#, "at least one polygon"),
            (r#"{"type":"Polygon","coordinates":[[[[[1]]]]]}"#, "deeper"),
            (r#"{"type":"Polygon","coordinates":[[[10,56],[10.2,56.2],[10.2,56],[10,56.2],[10,56]]]}"#, "crosses itself"),
            (
                r#"{"type":"Polygon","coordinates":[[[10,56],[10.1,56],[10.1,56.1],[10,56]],[[11,56],[11.1,56],[11.1,56.1],[11,56]]]}"#,
                "outside the exterior",
            ),
            (r#"{"type":"Polygon","coordinates":[[[0,0],[1,1],[2,2],[0,0]]]}"#, "no area"),
            ("[1,2]", "must be an object"),
        ];
        for (text, expected) in cases {
            let (pos, message) = geom(text, None).unwrap_err();
            assert!(message.contains(expected), "{text}: {message}");
            assert!(pos.line == 1 && pos.column > 1, "{text}: {pos:?}");
        }
    }

    #[test]
    fn whole_files_that_are_no_collection() {
        for (text, expected) in [
            ("[0,0,0]", "must be a GeoJSON FeatureCollection"),
            (r#"{"type":"Feature"}"#, "must be a GeoJSON FeatureCollection"),
            (r#"{"type":"FeatureCollection"}"#, "no \"features\""),
            (r#"{"type":"FeatureCollection","features":[],"crs":{"type":"name","properties":{"name":"EPSG:3857"}}}"#, "unsupported crs"),
            (r#"{"type":"FeatureCollection","features":[] x"#, "invalid JSON"),
        ] {
            match read_collection(text.as_bytes(), &["area_id"], LIMITS) {
                Err((_, message)) => assert!(message.contains(expected), "{text}: {message}"),
                Ok(_) => panic!("{text} was accepted"),
            }
        }
        let (features, problems) =
            read_collection(r#"{"type":"FeatureCollection","features":[1,{"type":"Other"}]}"#.as_bytes(), &["area_id"], LIMITS).unwrap();
        assert!(features.is_empty());
        assert_eq!(problems.len(), 2);
    }

    #[test]
    fn positions_are_bounded_per_feature_and_per_file() {
        let ring = |n: usize| {
            let mut r: Vec<String> =
                (0..n).map(|i| format!("[{},{}]", 10.0 + (i as f64 / n as f64) * 0.1, 56.0 + (i % 2) as f64 * 0.001)).collect();
            r.push("[10.1,55.9]".into());
            r.push("[10,55.9]".into());
            r.push(r[0].clone());
            format!(r#"{{"type":"Polygon","coordinates":[[{}]]}}"#, r.join(","))
        };
        assert!(geom(&ring(900), None).is_ok(), "{:?}", geom(&ring(900), None).err());
        let (_, message) = geom(&ring(2000), None).unwrap_err();
        assert!(message.contains("more than 1000 positions"), "{message}");
        let features: Vec<String> =
            (0..8).map(|i| format!(r#"{{"type":"Feature","properties":{{"area_id":"A{i}"}},"geometry":{}}}"#, ring(900))).collect();
        let text = format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(","));
        let (features, _) = read_collection(text.as_bytes(), &["area_id"], LIMITS).unwrap();
        assert!(features.iter().any(|f| f.geometry.as_ref().is_err_and(|e| e.1.contains("the file has more than 5000"))));
    }

    #[test]
    fn ids_are_taken_by_preference_and_must_be_strings() {
        let text = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"KOMKODE":"0101","municipality_code":"751"},"geometry":null},
            {"type":"Feature","properties":{"KOMKODE":101},"geometry":null},
            {"type":"Feature","properties":null,"geometry":null}]}"#;
        let (f, _) = read_collection(text.as_bytes(), &["municipality_code", "KOMKODE"], LIMITS).unwrap();
        assert_eq!(f[0].id.as_ref().unwrap().as_ref().unwrap().0, "751");
        assert!(f[1].id.as_ref().unwrap().is_err());
        assert!(f[2].id.is_none());
        assert_eq!(f[1].id.as_ref().unwrap().as_ref().unwrap_err().line, 3);
    }
}
