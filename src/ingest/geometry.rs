//! The coordinate reference systems `areas.geojson` may be delivered in.

use super::projection::UtmZone;

/// The coordinate reference system a collection is delivered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crs {
    Wgs84,
    Utm(UtmZone),
}

/// A `crs` member's name: `EPSG:25832`, `urn:ogc:def:crs:EPSG::25833`, CRS84 or EPSG:4326.
pub fn parse_crs_name(name: String) -> Result<Crs, String> {
    let normalized = name.to_ascii_uppercase();
    let code = normalized.rsplit([':', '/']).next().unwrap_or("");
    let is_epsg = normalized.contains("EPSG");
    match (is_epsg, code) {
        (true, "25832") => Ok(Crs::Utm(UtmZone::Z32)),
        (true, "25833") => Ok(Crs::Utm(UtmZone::Z33)),
        (true, "4326") | (false, "CRS84") => Ok(Crs::Wgs84),
        _ => Err(format!("unsupported crs {name:?}: use WGS 84 (no crs), EPSG:25832 or EPSG:25833")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_crs_names() {
        let crs = |t: &str| parse_crs_name(t.to_string());
        assert_eq!(crs("urn:ogc:def:crs:EPSG::25832"), Ok(Crs::Utm(UtmZone::Z32)));
        assert_eq!(crs("EPSG:25833"), Ok(Crs::Utm(UtmZone::Z33)));
        assert_eq!(crs("urn:ogc:def:crs:OGC:1.3:CRS84"), Ok(Crs::Wgs84));
        assert!(crs("EPSG:3857").is_err());
    }
}
