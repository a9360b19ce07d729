//! Whether a polygon is one the service can draw and reason about: no ring without area, no
//! two edges crossing or running along each other (within a ring or between its rings), and
//! every hole inside its exterior. Rings may touch at a point, as OGC Simple Features allow
//! between rings (and real outlines do within one).
//!
//! The edges are swept in order of their smallest longitude, and only pairs that overlap in
//! both extents are compared. That is fast for any outline made of short edges; a ring built
//! to make most pairs overlap is refused as too complex once the comparisons exceed a budget
//! linear in its size, rather than let an import run for hours.

use super::geometry::{Polygon, signed_area2};

/// Comparisons of edge pairs allowed per edge, and to begin with.
const PAIRS_PER_EDGE: usize = 64;
const PAIRS_BASE: usize = 1_000_000;

#[derive(Debug, Clone, PartialEq)]
pub enum Invalid {
    /// Ring `ring` (0 the exterior) encloses no area.
    NoArea { ring: usize },
    /// Edge `edge` (from position `edge` to `edge + 1`) of ring `ring` crosses, or runs
    /// along, edge `other_edge` of ring `other_ring`, near `at`.
    Crossing { ring: usize, edge: usize, other_ring: usize, other_edge: usize, at: [f64; 2] },
    /// Hole `ring` lies outside the exterior.
    HoleOutside { ring: usize },
    /// Too many overlapping edges to check in bounded time.
    TooComplex { edges: usize },
}

impl Invalid {
    /// The ring the problem is about, to locate it in the file.
    pub fn ring(&self) -> usize {
        match self {
            Invalid::NoArea { ring } | Invalid::HoleOutside { ring } | Invalid::Crossing { ring, .. } => *ring,
            Invalid::TooComplex { .. } => 0,
        }
    }

    pub fn message(&self) -> String {
        let name = |r: usize| if r == 0 { "the exterior ring".to_string() } else { format!("hole {r}") };
        match self {
            Invalid::NoArea { ring } => format!("{} encloses no area", name(*ring)),
            Invalid::Crossing { ring, edge, other_ring, other_edge, at } if ring == other_ring => format!(
                "{} crosses itself: its edges from position {} and from position {} meet near [{}, {}]",
                name(*ring),
                edge + 1,
                other_edge + 1,
                at[0],
                at[1]
            ),
            Invalid::Crossing { ring, edge, other_ring, other_edge, at } => format!(
                "{} and {} cross: edges from their positions {} and {} meet near [{}, {}]",
                name(*ring),
                name(*other_ring),
                edge + 1,
                other_edge + 1,
                at[0],
                at[1]
            ),
            Invalid::HoleOutside { ring } => format!("{} lies outside the exterior ring", name(*ring)),
            Invalid::TooComplex { edges } => {
                format!("the polygon's {edges} edges overlap too much to check in reasonable time; simplify it")
            }
        }
    }
}

fn orient(a: [f64; 2], b: [f64; 2], c: [f64; 2]) -> f64 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

/// Whether two segments cross at a point inside both, or overlap along a stretch; touching
/// at a point is not counted.
fn crosses(p1: [f64; 2], p2: [f64; 2], q1: [f64; 2], q2: [f64; 2]) -> bool {
    let (o1, o2) = (orient(p1, p2, q1), orient(p1, p2, q2));
    let (o3, o4) = (orient(q1, q2, p1), orient(q1, q2, p2));
    if o1 * o2 < 0.0 && o3 * o4 < 0.0 {
        return true;
    }
    if o1 == 0.0 && o2 == 0.0 {
        // on one line: along the longer axis, do they share more than a point?
        let axis = usize::from((p2[1] - p1[1]).abs() > (p2[0] - p1[0]).abs());
        let (a0, a1) = (p1[axis].min(p2[axis]), p1[axis].max(p2[axis]));
        let (b0, b1) = (q1[axis].min(q2[axis]), q1[axis].max(q2[axis]));
        return a0.max(b0) < a1.min(b1);
    }
    false
}

/// Whether `p` lies inside the ring (even-odd rule), `None` when it is on the ring.
fn inside(p: [f64; 2], ring: &[[f64; 2]]) -> Option<bool> {
    let mut inside = false;
    for w in ring.windows(2) {
        let (a, b) = (w[0], w[1]);
        if orient(a, b, p) == 0.0 && p[0] >= a[0].min(b[0]) && p[0] <= a[0].max(b[0]) && p[1] >= a[1].min(b[1]) && p[1] <= a[1].max(b[1]) {
            return None;
        }
        if (a[1] > p[1]) != (b[1] > p[1]) && p[0] < a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1]) {
            inside = !inside;
        }
    }
    Some(inside)
}

/// Whether a ring's area is nothing next to its extent: zero, or what rounding leaves of zero.
/// (Check rings as delivered too: one along a line in UTM is no line in degrees.)
pub fn encloses_no_area(ring: &[[f64; 2]]) -> bool {
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in ring {
        for k in 0..2 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    let extent2 = (hi[0] - lo[0]).powi(2) + (hi[1] - lo[1]).powi(2);
    signed_area2(ring).abs() <= 1e-10 * extent2
}

/// Checks a polygon (closed rings of at least four positions, exterior first).
pub fn check(polygon: &Polygon) -> Result<(), Invalid> {
    // every edge, with its ring and index, in order of its smallest longitude
    struct Edge {
        ring: usize,
        index: usize,
        a: [f64; 2],
        b: [f64; 2],
        min: [f64; 2],
        max: [f64; 2],
    }
    let mut edges: Vec<Edge> = Vec::with_capacity(polygon.iter().map(|r| r.len()).sum());
    for (r, ring) in polygon.iter().enumerate() {
        for (i, w) in ring.windows(2).enumerate() {
            let (a, b) = (w[0], w[1]);
            if a == b {
                continue; // a repeated position is no edge
            }
            edges.push(Edge { ring: r, index: i, a, b, min: [a[0].min(b[0]), a[1].min(b[1])], max: [a[0].max(b[0]), a[1].max(b[1])] });
        }
    }
    edges.sort_unstable_by(|x, y| x.min[0].total_cmp(&y.min[0]));
    let ring_edges: Vec<usize> = polygon.iter().map(|r| r.len() - 1).collect();
    // neighbours along one ring share a position by construction (and so do the last and the
    // first); they are not compared
    let adjacent = |x: &Edge, y: &Edge| {
        let n = ring_edges[x.ring];
        x.ring == y.ring && (x.index.abs_diff(y.index) == 1 || x.index.abs_diff(y.index) == n - 1)
    };
    let budget = PAIRS_BASE + PAIRS_PER_EDGE * edges.len();
    let mut compared = 0usize;
    for (k, x) in edges.iter().enumerate() {
        for y in &edges[k + 1..] {
            if y.min[0] > x.max[0] {
                break;
            }
            compared += 1;
            if compared > budget {
                return Err(Invalid::TooComplex { edges: edges.len() });
            }
            if y.min[1] > x.max[1] || x.min[1] > y.max[1] || adjacent(x, y) {
                continue;
            }
            if crosses(x.a, x.b, y.a, y.b) {
                let (first, second) = if (x.ring, x.index) <= (y.ring, y.index) { (x, y) } else { (y, x) };
                return Err(Invalid::Crossing {
                    ring: first.ring,
                    edge: first.index,
                    other_ring: second.ring,
                    other_edge: second.index,
                    at: [(x.a[0] + x.b[0]) / 2.0, (x.a[1] + x.b[1]) / 2.0],
                });
            }
        }
    }
    for (r, ring) in polygon.iter().enumerate() {
        if encloses_no_area(ring) {
            return Err(Invalid::NoArea { ring: r });
        }
    }
    // no ring crosses another, so a hole is inside the exterior when any of its positions
    // off the exterior is
    let exterior = &polygon[0];
    let mut work = 0usize;
    for (r, hole) in polygon.iter().enumerate().skip(1) {
        work += exterior.len();
        if work > budget {
            return Err(Invalid::TooComplex { edges: edges.len() });
        }
        if hole.iter().find_map(|p| inside(*p, exterior)) == Some(false) {
            return Err(Invalid::HoleOutside { ring: r });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: f64, y: f64, size: f64) -> Vec<[f64; 2]> {
        vec![[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    }

    #[test]
    fn accepts_simple_polygons_with_holes() {
        assert_eq!(check(&vec![square(0.0, 0.0, 10.0)]), Ok(()));
        assert_eq!(check(&vec![square(0.0, 0.0, 10.0), square(2.0, 2.0, 2.0), square(5.0, 5.0, 2.0)]), Ok(()));
        // a hole touching the exterior at a corner
        assert_eq!(check(&vec![square(0.0, 0.0, 10.0), vec![[0.0, 0.0], [3.0, 1.0], [1.0, 3.0], [0.0, 0.0]]]), Ok(()));
        // repeated positions
        assert_eq!(check(&vec![vec![[0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]]), Ok(()));
    }

    #[test]
    fn finds_crossings() {
        let bowtie = vec![vec![[0.0, 0.0], [2.0, 2.0], [2.0, 0.0], [0.0, 2.0], [0.0, 0.0]]];
        assert!(matches!(check(&bowtie), Err(Invalid::Crossing { ring: 0, other_ring: 0, .. })));
        let overlapping_holes = vec![square(0.0, 0.0, 10.0), square(2.0, 2.0, 3.0), square(3.0, 3.0, 3.0)];
        assert!(matches!(check(&overlapping_holes), Err(Invalid::Crossing { ring: 1, other_ring: 2, .. })));
        let hole_over_the_edge = vec![square(0.0, 0.0, 10.0), square(8.0, 2.0, 4.0)];
        assert!(matches!(check(&hole_over_the_edge), Err(Invalid::Crossing { ring: 0, other_ring: 1, .. })));
        // a spike back along its own edge
        let spike = vec![vec![[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [2.0, 4.0], [3.0, 4.0], [0.0, 4.0], [0.0, 0.0]]];
        assert!(matches!(check(&spike), Err(Invalid::Crossing { .. })), "{:?}", check(&spike));
    }

    #[test]
    fn finds_holes_outside_and_rings_without_area() {
        assert_eq!(check(&vec![square(0.0, 0.0, 10.0), square(20.0, 20.0, 1.0)]), Err(Invalid::HoleOutside { ring: 1 }));
        let flat = vec![vec![[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [0.0, 0.0]]];
        assert_eq!(check(&flat), Err(Invalid::NoArea { ring: 0 }));
        assert_eq!(check(&vec![square(0.0, 0.0, 1.0), vec![[0.5, 0.5]; 4]]), Err(Invalid::NoArea { ring: 1 }));
        assert!(Invalid::HoleOutside { ring: 1 }.message().contains("hole 1"));
        // as good as flat, from rounding: still no area; a thin sliver is an area
        let almost = vec![vec![[10.0, 56.0], [10.1, 56.1 + 1e-16], [10.2, 56.2], [10.0, 56.0]]];
        assert_eq!(check(&almost), Err(Invalid::NoArea { ring: 0 }));
        let sliver = vec![vec![[10.0, 56.0], [10.1, 56.1 + 1e-7], [10.2, 56.2], [10.0, 56.0]]];
        assert_eq!(check(&sliver), Ok(()));
    }

    #[test]
    fn a_ring_of_long_overlapping_edges_is_refused_in_bounded_time() {
        // a star of 20,000 spikes through the middle: every edge overlaps every other
        let n = 20_000;
        let mut ring: Vec<[f64; 2]> = (0..n)
            .map(|i| {
                let a = std::f64::consts::TAU * i as f64 / n as f64;
                let r = if i % 2 == 0 { 1000.0 } else { 1.0 };
                [r * a.cos(), r * a.sin()]
            })
            .collect();
        ring.push(ring[0]);
        assert!(matches!(check(&vec![ring]), Err(Invalid::TooComplex { .. })));
        // a sawtooth of a million short edges is checked in full
        let mut saw: Vec<[f64; 2]> = (0..1_000_000).map(|i| [i as f64, (i % 2) as f64]).collect();
        saw.push([1e6, -10.0]);
        saw.push([0.0, -10.0]);
        saw.push(saw[0]);
        assert_eq!(check(&vec![saw]), Ok(()));
    }
}
