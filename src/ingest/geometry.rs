//! Reading area geometry from `areas.geojson`: validation, projection to WGS 84, orientation.

use super::json::{Json, Value};
use super::projection::{utm_to_lon_lat, UtmZone};
use crate::domain::geometry::{MultiPolygon, Polygon, Ring};

/// The coordinate reference system a collection is delivered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crs {
    Wgs84,
    Utm(UtmZone),
}

/// A problem at a byte offset of the file.
pub type Located = (usize, String);

/// Reads the legacy `crs` member: absent means WGS 84 (RFC 7946).
pub fn parse_crs(crs: Option<&Json>) -> Result<Crs, Located> {
    let Some(crs) = crs.filter(|c| !c.is_null()) else {
        return Ok(Crs::Wgs84);
    };
    let name = crs
        .get("properties")
        .and_then(|p| p.get("name"))
        .and_then(Json::as_str)
        .ok_or((crs.pos, "crs must be {\"type\": \"name\", \"properties\": {\"name\": …}}".to_string()))?;
    let normalized = name.to_ascii_uppercase();
    let code = normalized.rsplit([':', '/']).next().unwrap_or("");
    let is_epsg = normalized.contains("EPSG");
    match (is_epsg, code) {
        (true, "25832") => Ok(Crs::Utm(UtmZone::Z32)),
        (true, "25833") => Ok(Crs::Utm(UtmZone::Z33)),
        (true, "4326") | (false, "CRS84") => Ok(Crs::Wgs84),
        _ => Err((crs.pos, format!("unsupported crs {name:?}: use WGS 84 (no crs), EPSG:25832 or EPSG:25833"))),
    }
}

/// Validates a Polygon or MultiPolygon and returns it in WGS 84 with RFC 7946 orientation.
pub fn parse_geometry(geometry: &Json, crs: Crs) -> Result<MultiPolygon, Located> {
    let kind = geometry.get("type").and_then(Json::as_str);
    let coordinates =
        geometry.get("coordinates").ok_or((geometry.pos, "geometry has no coordinates".to_string()))?;
    let polygons = match kind {
        Some("Polygon") => vec![polygon(coordinates, crs)?],
        Some("MultiPolygon") => {
            let items = array(coordinates, "MultiPolygon coordinates")?;
            if items.is_empty() {
                return Err((coordinates.pos, "a MultiPolygon needs at least one polygon".into()));
            }
            items.iter().map(|p| polygon(p, crs)).collect::<Result<_, _>>()?
        }
        Some(other) => return Err((geometry.pos, format!("geometry type {other} is not Polygon or MultiPolygon"))),
        None => return Err((geometry.pos, "geometry has no type".into())),
    };
    let mut mp = MultiPolygon(polygons);
    mp.orient();
    Ok(mp)
}

fn array<'a>(j: &'a Json, what: &str) -> Result<&'a [Json], Located> {
    j.as_array().ok_or_else(|| (j.pos, format!("{what} must be an array, not {}", j.type_name())))
}

fn polygon(j: &Json, crs: Crs) -> Result<Polygon, Located> {
    let rings = array(j, "a polygon")?;
    if rings.is_empty() {
        return Err((j.pos, "a polygon needs at least one ring".into()));
    }
    rings.iter().map(|r| ring(r, crs)).collect()
}

fn ring(j: &Json, crs: Crs) -> Result<Ring, Located> {
    let positions = array(j, "a ring")?;
    if positions.len() < 4 {
        return Err((j.pos, format!("a ring needs at least four positions, this one has {}", positions.len())));
    }
    let mut out = Vec::with_capacity(positions.len());
    let mut raw = Vec::with_capacity(positions.len());
    for p in positions {
        let xy = position(p)?;
        raw.push(xy);
        let (lon, lat) = match crs {
            Crs::Wgs84 => (xy[0], xy[1]),
            Crs::Utm(zone) => utm_to_lon_lat(zone, xy[0], xy[1]),
        };
        if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) || !lon.is_finite() || !lat.is_finite() {
            let hint = match crs {
                Crs::Wgs84 => " (metres need a crs member naming EPSG:25832 or EPSG:25833)",
                Crs::Utm(_) => "",
            };
            return Err((p.pos, format!("position [{}, {}] is outside longitude/latitude range{hint}", xy[0], xy[1])));
        }
        out.push([lon, lat]);
    }
    // compare as delivered, before any projection rounding
    if raw.first() != raw.last() {
        return Err((j.pos, "ring is not closed: its first and last positions differ".into()));
    }
    // the closing position must equal the first exactly after projection too
    let first = out[0];
    *out.last_mut().expect("at least four positions") = first;
    Ok(out)
}

fn position(p: &Json) -> Result<[f64; 2], Located> {
    let Value::Array(items) = &p.value else {
        return Err((p.pos, format!("a position must be an array of numbers, not {}", p.type_name())));
    };
    if !(2..=3).contains(&items.len()) {
        return Err((p.pos, format!("a position needs two or three numbers, this one has {}", items.len())));
    }
    let mut xy = [0.0; 2];
    for (i, item) in items.iter().enumerate() {
        let v = item.as_f64().ok_or_else(|| (item.pos, format!("a coordinate must be a number, not {}", item.type_name())))?;
        if i < 2 {
            xy[i] = v; // a third coordinate (height) is dropped
        }
    }
    Ok(xy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::geometry::signed_area2;
    use crate::ingest::json::parse;
    use crate::ingest::projection::lon_lat_to_utm;

    fn geom(text: &str, crs: Crs) -> Result<MultiPolygon, Located> {
        parse_geometry(&parse(text).unwrap(), crs)
    }

    #[test]
    fn reads_polygons_and_orients_them() {
        // clockwise exterior, delivered with heights
        let g = geom(
            r#"{"type":"Polygon","coordinates":[[[10,56,3],[10,56.1,3],[10.1,56.1,3],[10.1,56,3],[10,56,3]]]}"#,
            Crs::Wgs84,
        )
        .unwrap();
        assert_eq!(g.0.len(), 1);
        assert!(signed_area2(&g.0[0][0]) > 0.0);
        assert_eq!(g.bbox(), Some([10.0, 56.0, 10.1, 56.1]));
        let g = geom(
            r#"{"type":"MultiPolygon","coordinates":[[[[10,56],[10.1,56],[10.1,56.1],[10,56]]],[[[11,56],[11.1,56],[11.1,56.1],[11,56]]]]}"#,
            Crs::Wgs84,
        )
        .unwrap();
        assert_eq!(g.0.len(), 2);
    }

    #[test]
    fn projects_utm_to_within_a_millionth_of_a_degree() {
        let (lon, lat) = (12.5683, 55.6761);
        let (e, n) = lon_lat_to_utm(UtmZone::Z32, lon, lat);
        let text = format!(
            r#"{{"type":"Polygon","coordinates":[[[{e},{n}],[{},{n}],[{},{}],[{e},{n}]]]}}"#,
            e + 100.0,
            e + 100.0,
            n + 100.0
        );
        let g = geom(&text, Crs::Utm(UtmZone::Z32)).unwrap();
        let p = g.0[0][0][0];
        assert!((p[0] - lon).abs() < 1e-9 && (p[1] - lat).abs() < 1e-9, "{p:?}");
    }

    #[test]
    fn rejects_invalid_geometry_with_a_position() {
        let cases = [
            (r#"{"type":"Point","coordinates":[10,56]}"#, "not Polygon"),
            (r#"{"type":"Polygon","coordinates":[[[10,56],[10.1,56],[10.1,56.1],[10,56.2]]]}"#, "not closed"),
            (r#"{"type":"Polygon","coordinates":[[[10,56],[10.1,56],[10,56]]]}"#, "four positions"),
            (r#"{"type":"Polygon","coordinates":[]}"#, "at least one ring"),
            (r#"{"type":"Polygon","coordinates":[[[10,56],[10.1,"x"],[10.1,56.1],[10,56]]]}"#, "must be a number"),
            (r#"{"type":"Polygon","coordinates":[[[10],[10.1,56],[10.1,56.1],[10]]]}"#, "two or three"),
            (r#"{"type":"Polygon","coordinates":[[[600000,6200000],[600100,6200000],[600100,6200100],[600000,6200000]]]}"#, "outside longitude/latitude"),
            (r#"{"type":"Polygon"}"#, "no coordinates"),
            (r#"{"type":"MultiPolygon","coordinates":[]}"#, "at least one polygon"),
        ];
        for (text, expected) in cases {
            let (pos, message) = geom(text, Crs::Wgs84).unwrap_err();
            assert!(message.contains(expected), "{text}: {message}");
            assert!(pos < text.len());
        }
    }

    #[test]
    fn reads_crs_names() {
        let crs = |t: &str| parse_crs(Some(&parse(t).unwrap()));
        assert_eq!(crs(r#"{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::25832"}}"#), Ok(Crs::Utm(UtmZone::Z32)));
        assert_eq!(crs(r#"{"type":"name","properties":{"name":"EPSG:25833"}}"#), Ok(Crs::Utm(UtmZone::Z33)));
        assert_eq!(crs(r#"{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}}"#), Ok(Crs::Wgs84));
        assert!(crs(r#"{"type":"name","properties":{"name":"EPSG:3857"}}"#).is_err());
        assert!(crs(r#"{"type":"name"}"#).is_err());
        assert_eq!(parse_crs(None), Ok(Crs::Wgs84));
    }
}
