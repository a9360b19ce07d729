//! Area geometry in WGS 84 longitude/latitude, as RFC 7946 wants it.

use serde::{Deserialize, Serialize};

/// A closed ring of [longitude, latitude] positions; the first equals the last.
pub type Ring = Vec<[f64; 2]>;
/// An exterior ring followed by its holes.
pub type Polygon = Vec<Ring>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiPolygon(pub Vec<Polygon>);

/// Twice the signed area of a ring (shoelace); positive when counterclockwise.
pub fn signed_area2(ring: &[[f64; 2]]) -> f64 {
    ring.windows(2).map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1]).sum()
}

/// [min_lon, min_lat, max_lon, max_lat].
pub type BBox = [f64; 4];

impl MultiPolygon {
    /// Orients rings by RFC 7946's right-hand rule: exteriors counterclockwise, holes clockwise.
    pub fn orient(&mut self) {
        for polygon in &mut self.0 {
            for (i, ring) in polygon.iter_mut().enumerate() {
                let ccw = signed_area2(ring) > 0.0;
                if ccw != (i == 0) {
                    ring.reverse();
                }
            }
        }
    }

    pub fn bbox(&self) -> Option<BBox> {
        let mut positions = self.0.iter().flatten().flatten();
        let first = positions.next()?;
        let mut b = [first[0], first[1], first[0], first[1]];
        for p in positions {
            b[0] = b[0].min(p[0]);
            b[1] = b[1].min(p[1]);
            b[2] = b[2].max(p[0]);
            b[3] = b[3].max(p[1]);
        }
        Some(b)
    }

    /// A GeoJSON geometry object: a Polygon when there is one, else a MultiPolygon.
    pub fn to_geojson(&self) -> serde_json::Value {
        match &self.0[..] {
            [one] => serde_json::json!({"type": "Polygon", "coordinates": one}),
            many => serde_json::json!({"type": "MultiPolygon", "coordinates": many}),
        }
    }

    /// Reads back what [`MultiPolygon::to_geojson`] wrote.
    pub fn from_geojson(value: &serde_json::Value) -> Option<Self> {
        let coordinates = value.get("coordinates")?.clone();
        match value.get("type")?.as_str()? {
            "Polygon" => Some(MultiPolygon(vec![serde_json::from_value(coordinates).ok()?])),
            "MultiPolygon" => Some(MultiPolygon(serde_json::from_value(coordinates).ok()?)),
            _ => None,
        }
    }
}

/// Merges bounding boxes.
pub fn union_bbox(a: Option<BBox>, b: Option<BBox>) -> Option<BBox> {
    match (a, b) {
        (Some(a), Some(b)) => Some([a[0].min(b[0]), a[1].min(b[1]), a[2].max(b[2]), a[3].max(b[3])]),
        (a, None) => a,
        (None, b) => b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(clockwise: bool) -> Ring {
        let mut r = vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]];
        if clockwise {
            r.reverse();
        }
        r
    }

    #[test]
    fn orients_by_the_right_hand_rule() {
        let hole = vec![[0.2, 0.2], [0.4, 0.2], [0.4, 0.4], [0.2, 0.4], [0.2, 0.2]]; // ccw
        let mut mp = MultiPolygon(vec![vec![square(true), hole]]);
        mp.orient();
        assert!(signed_area2(&mp.0[0][0]) > 0.0, "exterior counterclockwise");
        assert!(signed_area2(&mp.0[0][1]) < 0.0, "hole clockwise");
        assert_eq!(mp.0[0][0].first(), mp.0[0][0].last());
    }

    #[test]
    fn bbox_and_geojson_round_trip() {
        let mp = MultiPolygon(vec![vec![square(false)]]);
        assert_eq!(mp.bbox(), Some([0.0, 0.0, 1.0, 1.0]));
        let g = mp.to_geojson();
        assert_eq!(g["type"], "Polygon");
        assert_eq!(MultiPolygon::from_geojson(&g), Some(mp.clone()));
        let two = MultiPolygon(vec![vec![square(false)], vec![square(false)]]);
        assert_eq!(two.to_geojson()["type"], "MultiPolygon");
        assert_eq!(MultiPolygon::from_geojson(&two.to_geojson()), Some(two));
        assert_eq!(union_bbox(Some([0.0, 0.0, 1.0, 1.0]), Some([-1.0, 0.5, 0.5, 2.0])), Some([-1.0, 0.0, 1.0, 2.0]));
    }
}
