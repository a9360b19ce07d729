//! Douglas–Peucker simplification of rings, computed once per ring and then applied at any
//! tolerance in linear time.
//!
//! Douglas–Peucker with tolerance t keeps a position when it is the farthest of its span from
//! the span's chord by more than t, and so is every position that split the spans above it.
//! The spans do not depend on t, so one pass with no tolerance gives each position its
//! *significance*: the smallest of those distances along its chain of splits. Simplifying at
//! t then keeps exactly the positions whose significance exceeds t.
//!
//! The pass runs with an explicit stack (no recursion, whatever the ring), and finds each
//! span's farthest position from the convex hulls of blocks of the ring: the farthest point
//! from a line is an extreme point of a hull in the line's normal direction, found by binary
//! search. That bounds the pass by O(n log² n) for any input, where the textbook recursion
//! needs O(n²) on a sawtooth (and as deep a stack).

/// Positions per leaf block; spans no longer than this are scanned directly.
const BLOCK: usize = 32;

fn cross(o: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
}

fn dot(n: [f64; 2], p: [f64; 2]) -> f64 {
    n[0] * p[0] + n[1] * p[1]
}

/// A convex hull as its upper and lower chains, left to right, as indices into the points.
#[derive(Debug, Default)]
struct Hull {
    upper: Vec<u32>,
    lower: Vec<u32>,
}

impl Hull {
    /// Andrew's monotone chain over indices sorted by (x, y); collinear points are dropped.
    fn of_sorted(points: &[[f64; 2]], sorted: &[u32]) -> Hull {
        let chain = |iter: &mut dyn Iterator<Item = u32>| {
            let mut out: Vec<u32> = Vec::new();
            for i in iter {
                while out.len() >= 2
                    && cross(points[out[out.len() - 2] as usize], points[out[out.len() - 1] as usize], points[i as usize]) <= 0.0
                {
                    out.pop();
                }
                out.push(i);
            }
            out
        };
        // both chains are built turning left: the lower one left to right, the upper one right
        // to left (and then reversed, to run left to right too)
        let lower = chain(&mut sorted.iter().copied());
        let mut upper = chain(&mut sorted.iter().rev().copied());
        upper.reverse();
        Hull { upper, lower }
    }

    /// Every vertex once, sorted by (x, y), for building the parent's hull.
    fn vertices(&self, points: &[[f64; 2]]) -> Vec<u32> {
        let key = |i: &u32| (points[*i as usize][0], points[*i as usize][1], *i);
        let mut all: Vec<u32> = self.upper.iter().chain(&self.lower).copied().collect();
        all.sort_unstable_by(|a, b| {
            let (ka, kb) = (key(a), key(b));
            ka.0.total_cmp(&kb.0).then(ka.1.total_cmp(&kb.1)).then(ka.2.cmp(&kb.2))
        });
        all.dedup();
        all
    }

    /// The vertex maximising dot(n, p): on the upper chain when n points up, on the lower when
    /// down, along either at its ends when sideways. Along a chain dot(n, edge) changes sign
    /// once, from positive to not, so the first vertex after the positive edges is the one.
    fn extreme(&self, points: &[[f64; 2]], n: [f64; 2]) -> u32 {
        let chain = if n[1] > 0.0 {
            &self.upper
        } else if n[1] < 0.0 {
            &self.lower
        } else if n[0] >= 0.0 {
            // (a hull has a vertex: the upper chain ends at the rightmost point)
            return self.upper.last().copied().unwrap_or_default();
        } else {
            return self.upper[0];
        };
        let edge_rises = |k: usize| {
            let (a, b) = (points[chain[k] as usize], points[chain[k + 1] as usize]);
            dot(n, [b[0] - a[0], b[1] - a[1]]) > 0.0
        };
        let edges = chain.len() - 1;
        // partition_point over the edges
        let (mut lo, mut hi) = (0, edges);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if edge_rises(mid) { lo = mid + 1 } else { hi = mid }
        }
        chain[lo]
    }
}

/// Hulls of the ring's blocks of [`BLOCK`] positions, and of every aligned run of 2^k blocks.
struct HullTree {
    /// levels[k][j]: the hull of blocks j·2^k … (j+1)·2^k − 1
    levels: Vec<Vec<Hull>>,
}

impl HullTree {
    fn new(points: &[[f64; 2]]) -> HullTree {
        let by_xy = |a: &u32, b: &u32| {
            let (p, q) = (points[*a as usize], points[*b as usize]);
            p[0].total_cmp(&q[0]).then(p[1].total_cmp(&q[1])).then(a.cmp(b))
        };
        let blocks = points.len().div_ceil(BLOCK);
        let mut level: Vec<Hull> = (0..blocks)
            .map(|j| {
                let mut idx: Vec<u32> = ((j * BLOCK) as u32..((j + 1) * BLOCK).min(points.len()) as u32).collect();
                idx.sort_unstable_by(by_xy);
                Hull::of_sorted(points, &idx)
            })
            .collect();
        let mut levels = Vec::new();
        while level.len() > 1 {
            let next: Vec<Hull> = level
                .chunks(2)
                .map(|pair| {
                    let mut idx: Vec<u32> = pair.iter().flat_map(|h| h.vertices(points)).collect();
                    idx.sort_unstable_by(by_xy);
                    Hull::of_sorted(points, &idx)
                })
                .collect();
            levels.push(level);
            level = next;
        }
        levels.push(level);
        HullTree { levels }
    }

    /// The aligned hulls that cover blocks `from..to` exactly, as few as the alignment allows.
    fn cover(&self, mut from: usize, to: usize, out: &mut Vec<(usize, usize)>) {
        while from < to {
            let mut k = 0;
            while k + 1 < self.levels.len() && from.is_multiple_of(1 << (k + 1)) && from + (1 << (k + 1)) <= to {
                k += 1;
            }
            out.push((k, from >> k));
            from += 1 << k;
        }
    }
}

/// Finds the position of `first+1 .. last` farthest from the line through `first` and `last`.
struct Farthest<'a> {
    points: &'a [[f64; 2]],
    tree: Option<HullTree>,
    cover: Vec<(usize, usize)>,
}

impl<'a> Farthest<'a> {
    fn new(points: &'a [[f64; 2]]) -> Self {
        let tree = (points.len() > 4 * BLOCK).then(|| HullTree::new(points));
        Farthest { points, tree, cover: Vec::new() }
    }

    /// (index, distance); on a tie the first index, as a scan from `first` finds it.
    fn find(&mut self, first: usize, last: usize) -> (usize, f64) {
        let (a, b) = (self.points[first], self.points[last]);
        let d = [b[0] - a[0], b[1] - a[1]];
        let len = (d[0] * d[0] + d[1] * d[1]).sqrt();
        let mut best = (first, -1.0);
        let consider = |i: usize, dist: f64, best: &mut (usize, f64)| {
            if dist > best.1 || (dist == best.1 && i < best.0) {
                *best = (i, dist);
            }
        };
        let distance = |q: [f64; 2]| {
            if len == 0.0 {
                ((q[0] - a[0]).powi(2) + (q[1] - a[1]).powi(2)).sqrt()
            } else {
                (d[0] * (a[1] - q[1]) - (a[0] - q[0]) * d[1]).abs() / len
            }
        };
        let (lo, hi) = (first + 1, last); // the span's inner positions: lo..hi
        let tree = match &self.tree {
            Some(t) if len > 0.0 && hi - lo > 2 * BLOCK => t,
            _ => {
                for i in lo..hi {
                    consider(i, distance(self.points[i]), &mut best);
                }
                return best;
            }
        };
        // the partial blocks at either end are scanned; the whole ones between asked of hulls
        let (first_full, last_full) = (lo.div_ceil(BLOCK), hi / BLOCK);
        for i in (lo..first_full * BLOCK).chain(last_full * BLOCK..hi) {
            consider(i, distance(self.points[i]), &mut best);
        }
        self.cover.clear();
        tree.cover(first_full, last_full, &mut self.cover);
        let normal = [-d[1], d[0]];
        for &(k, j) in &self.cover {
            let hull = &tree.levels[k][j];
            for n in [normal, [-normal[0], -normal[1]]] {
                let i = hull.extreme(self.points, n) as usize;
                consider(i, distance(self.points[i]), &mut best);
            }
        }
        best
    }
}

/// Each position's significance (see the module): `f64::INFINITY` for the positions every
/// simplification keeps (the first, the last, and the one farthest from the first), 0 for
/// those none keeps. `plane` is the ring in metres.
pub fn ring_significance(plane: &[[f64; 2]]) -> Vec<f64> {
    let mut significance = vec![0.0; plane.len()];
    if plane.len() <= 4 {
        significance.fill(f64::INFINITY);
        return significance;
    }
    let dist2 = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
    // split the closed ring at its first point and the point farthest from it
    let n = plane.len() - 1;
    // (n > 4 here, so there is one)
    let far = (1..n).max_by(|&a, &b| dist2(plane[0], plane[a]).total_cmp(&dist2(plane[0], plane[b]))).unwrap_or(1);
    for i in [0, far, n] {
        significance[i] = f64::INFINITY;
    }
    let mut farthest = Farthest::new(plane);
    let mut spans = vec![(0, far, f64::INFINITY), (far, n, f64::INFINITY)];
    while let Some((first, last, bound)) = spans.pop() {
        if last <= first + 1 {
            continue;
        }
        let (i, distance) = farthest.find(first, last);
        let s = distance.min(bound);
        significance[i] = s;
        // below a span whose split counts for nothing, nothing counts
        if s > 0.0 {
            spans.push((first, i, s));
            spans.push((i, last, s));
        }
    }
    significance
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook recursion, as the service had it, for comparison.
    fn reference(ring: &[[f64; 2]], tolerance: f64) -> Vec<usize> {
        fn dp(p: &[[f64; 2]], first: usize, last: usize, tolerance: f64, keep: &mut [bool]) {
            if last <= first + 1 {
                return;
            }
            let (a, b) = (p[first], p[last]);
            let len = ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
            let distance = |q: [f64; 2]| {
                if len == 0.0 {
                    ((a[0] - q[0]).powi(2) + (a[1] - q[1]).powi(2)).sqrt()
                } else {
                    ((b[0] - a[0]) * (a[1] - q[1]) - (a[0] - q[0]) * (b[1] - a[1])).abs() / len
                }
            };
            let (index, max) = (first + 1..last).map(|i| (i, distance(p[i]))).fold((first, -1.0), |m, x| if x.1 > m.1 { x } else { m });
            if max > tolerance {
                keep[index] = true;
                dp(p, first, index, tolerance, keep);
                dp(p, index, last, tolerance, keep);
            }
        }
        let n = ring.len() - 1;
        let dist2 = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
        let far = (1..n).max_by(|&a, &b| dist2(ring[0], ring[a]).total_cmp(&dist2(ring[0], ring[b]))).unwrap();
        let mut keep = vec![false; ring.len()];
        keep[0] = true;
        keep[far] = true;
        keep[n] = true;
        dp(ring, 0, far, tolerance, &mut keep);
        dp(ring, far, n, tolerance, &mut keep);
        (0..ring.len()).filter(|&i| keep[i]).collect()
    }

    fn kept(significance: &[f64], tolerance: f64) -> Vec<usize> {
        (0..significance.len()).filter(|&i| significance[i] > tolerance).collect()
    }

    /// A pseudo-random closed ring of `n` positions: a wobbly circle, in metres.
    fn ring(n: usize, seed: u64) -> Vec<[f64; 2]> {
        let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mut next = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut r: Vec<[f64; 2]> = (0..n)
            .map(|i| {
                let a = std::f64::consts::TAU * i as f64 / n as f64;
                let radius = 1000.0 * (1.0 + 0.3 * next()) + if next() < 0.05 { 400.0 * next() } else { 0.0 };
                [radius * a.cos(), radius * a.sin()]
            })
            .collect();
        r.push(r[0]);
        r
    }

    #[test]
    fn agrees_with_the_recursion_at_every_tolerance() {
        for (n, seed) in [(5, 1), (12, 2), (40, 3), (129, 4), (300, 5), (1000, 6), (4097, 7)] {
            let r = ring(n, seed);
            let s = ring_significance(&r);
            for tolerance in [0.01, 1.0, 5.0, 20.0, 80.0, 300.0, 2000.0] {
                assert_eq!(kept(&s, tolerance), reference(&r, tolerance), "n={n} tolerance={tolerance}");
            }
        }
    }

    #[test]
    fn a_sawtooth_of_300_000_positions_needs_no_deep_stack() {
        // each tooth a little higher than the last: the recursion's worst case, n deep
        let n = 300_000;
        let mut r: Vec<[f64; 2]> = (0..n).map(|i| [i as f64, if i % 2 == 0 { 0.0 } else { 1.0 + i as f64 * 1e-6 }]).collect();
        r.push([n as f64 / 2.0, -1000.0]);
        r.push(r[0]);
        let s = ring_significance(&r);
        assert_eq!(s.len(), r.len());
        assert!(kept(&s, 0.5).len() > n / 2, "every tooth stands out by more than 0.5");
        assert!(kept(&s, 2.0).len() < 10, "none by more than 2");
    }

    #[test]
    fn hull_extremes() {
        let points: [[f64; 2]; 6] = [[0.0, 0.0], [1.0, 2.0], [2.0, 0.5], [3.0, 3.0], [4.0, 0.0], [2.0, -1.0]];
        let mut idx: Vec<u32> = (0..points.len() as u32).collect();
        idx.sort_by(|a, b| {
            points[*a as usize][0].total_cmp(&points[*b as usize][0]).then(points[*a as usize][1].total_cmp(&points[*b as usize][1]))
        });
        let hull = Hull::of_sorted(&points, &idx);
        assert_eq!(hull.extreme(&points, [0.0, 1.0]), 3);
        assert_eq!(hull.extreme(&points, [0.0, -1.0]), 5);
        assert_eq!(hull.extreme(&points, [1.0, 0.0]), 4);
        assert_eq!(hull.extreme(&points, [-1.0, 0.0]), 0);
        assert_eq!(hull.extreme(&points, [-1.0, 1.0]), 1);
        assert!(!hull.upper.contains(&2) && !hull.lower.contains(&2), "an inner point is no vertex");
    }
}
