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

/// What simplifying a MultiPolygon at any tolerance needs, computed once: each position's
/// Douglas–Peucker significance in metres (see `simplify`), per polygon and ring.
#[derive(Debug, Clone, PartialEq)]
pub struct Simplification {
    rings: Vec<Vec<Vec<f64>>>,
}

impl MultiPolygon {
    /// The significances of every ring's positions, measured in a local equirectangular plane
    /// around the ring's first position (fine at the scale of an area). O(n log² n).
    pub fn simplification(&self) -> Simplification {
        let rings = self
            .0
            .iter()
            .map(|polygon| {
                polygon
                    .iter()
                    .map(|ring| {
                        let lat0 = ring.first().map_or(0.0, |p| p[1].to_radians());
                        let k = 111_320.0;
                        let plane: Vec<[f64; 2]> = ring.iter().map(|p| [p[0] * k * lat0.cos(), p[1] * k]).collect();
                        crate::domain::simplify::ring_significance(&plane)
                    })
                    .collect()
            })
            .collect();
        Simplification { rings }
    }

    /// Douglas-Peucker simplification of every ring with a tolerance in metres. A hole that
    /// would collapse is dropped; an exterior that would collapse is kept as it was.
    pub fn simplified(&self, tolerance_m: f64) -> MultiPolygon {
        if tolerance_m <= 0.0 {
            return self.clone();
        }
        self.simplified_by(&self.simplification(), tolerance_m)
    }

    /// [`MultiPolygon::simplified`] from significances made before, in linear time.
    pub fn simplified_by(&self, s: &Simplification, tolerance_m: f64) -> MultiPolygon {
        if tolerance_m <= 0.0 {
            return self.clone();
        }
        let polygons = self
            .0
            .iter()
            .zip(&s.rings)
            .map(|(polygon, significance)| {
                polygon
                    .iter()
                    .zip(significance)
                    .enumerate()
                    .filter_map(|(i, (ring, significance))| match simplify_ring(ring, significance, tolerance_m) {
                        Some(r) => Some(r),
                        None if i == 0 => Some(ring.clone()),
                        None => None,
                    })
                    .collect()
            })
            .collect();
        let mut mp = MultiPolygon(polygons);
        mp.orient();
        mp
    }

    /// Writes the GeoJSON geometry with coordinates rounded to `decimals` places.
    pub fn write_geojson(&self, out: &mut String, decimals: usize) {
        use std::fmt::Write;
        let polygon = |out: &mut String, p: &Polygon| {
            out.push('[');
            for (i, ring) in p.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('[');
                for (j, [x, y]) in ring.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "[{},{}]", Rounded(*x, decimals), Rounded(*y, decimals));
                }
                out.push(']');
            }
            out.push(']');
        };
        match &self.0[..] {
            [one] => {
                out.push_str("{\"type\":\"Polygon\",\"coordinates\":");
                polygon(out, one);
            }
            many => {
                out.push_str("{\"type\":\"MultiPolygon\",\"coordinates\":[");
                for (i, p) in many.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    polygon(out, p);
                }
                out.push(']');
            }
        }
        out.push('}');
    }

    pub fn positions(&self) -> impl Iterator<Item = &[f64; 2]> {
        self.0.iter().flatten().flatten()
    }
}

/// A coordinate rounded for output: at most `decimals` places, no trailing zeros.
struct Rounded(f64, usize);

impl std::fmt::Display for Rounded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scale = 10f64.powi(self.1 as i32);
        let v = (self.0 * scale).round() / scale;
        // shortest representation of the rounded value (no 12.500000 padding)
        write!(f, "{}", if v == 0.0 { 0.0 } else { v })
    }
}

fn simplify_ring(ring: &[[f64; 2]], significance: &[f64], tolerance_m: f64) -> Option<Ring> {
    if ring.len() <= 4 {
        return Some(ring.to_vec());
    }
    let out: Ring = ring.iter().zip(significance).filter(|(_, s)| **s > tolerance_m).map(|(p, _)| *p).collect();
    (out.len() >= 4 && signed_area2(&out).abs() > 0.0).then_some(out)
}

/// The convex hull of points, counterclockwise and closed; `None` for fewer than three
/// distinct points not on one line.
pub fn convex_hull(points: impl IntoIterator<Item = [f64; 2]>) -> Option<Ring> {
    let mut pts: Vec<[f64; 2]> = points.into_iter().collect();
    pts.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    pts.dedup();
    if pts.len() < 3 {
        return None;
    }
    let cross = |o: [f64; 2], a: [f64; 2], b: [f64; 2]| (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
    let mut hull: Vec<[f64; 2]> = Vec::with_capacity(pts.len() * 2);
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &[f64; 2]>> = if pass == 0 { Box::new(pts.iter()) } else { Box::new(pts.iter().rev()) };
        for &p in iter {
            while hull.len() >= start + 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0 {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    if hull.len() < 3 {
        return None;
    }
    hull.push(hull[0]);
    Some(hull)
}

/// Whether two bounding boxes overlap (touching counts).
pub fn bbox_intersects(a: &BBox, b: &BBox) -> bool {
    a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3]
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
    fn simplification_keeps_valid_oriented_rings() {
        // a 200-vertex circle of about 300 m around Aarhus
        let ring: Ring = (0..=200)
            .map(|i| {
                let a = std::f64::consts::TAU * (i % 200) as f64 / 200.0;
                [10.2 + 0.0048 * a.cos(), 56.15 + 0.0027 * a.sin()]
            })
            .collect();
        let mp = MultiPolygon(vec![vec![ring.clone()]]);
        let s = mp.simplified(5.0);
        let r = &s.0[0][0];
        assert!(r.len() < 60 && r.len() >= 4, "{}", r.len());
        assert_eq!(r.first(), r.last());
        assert!(signed_area2(r) > 0.0);
        assert_eq!(mp.simplified(0.0), mp);
        // a huge tolerance keeps the exterior rather than collapsing it
        assert!(mp.simplified(100_000.0).0[0][0].len() >= 4);
    }

    #[test]
    fn hulls_and_boxes() {
        let hull = convex_hull([[0.0, 0.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]).unwrap();
        assert_eq!(hull.len(), 5);
        assert!(signed_area2(&hull) > 0.0);
        assert!(!hull.contains(&[0.5, 0.5]));
        assert_eq!(convex_hull([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]), None);
        assert!(bbox_intersects(&[0.0, 0.0, 1.0, 1.0], &[1.0, 1.0, 2.0, 2.0]));
        assert!(!bbox_intersects(&[0.0, 0.0, 1.0, 1.0], &[1.1, 0.0, 2.0, 2.0]));
    }

    #[test]
    fn writes_geojson_with_a_precision() {
        let mp = MultiPolygon(vec![vec![vec![[10.123456789, 56.0], [10.2, 56.0], [10.2, 56.1], [10.123456789, 56.0]]]]);
        let mut out = String::new();
        mp.write_geojson(&mut out, 3);
        assert_eq!(out, r#"{"type":"Polygon","coordinates":[[[10.123,56],[10.2,56],[10.2,56.1],[10.123,56]]]}"#);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["type"], "Polygon");
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
