//! Secondary suppression against differencing. When an area under one delimitation holds
//! areas of another wholly (an area that grew by a department, or two areas merged), the
//! container's published figure minus its parts' published figures is the figure of the
//! departments that only the container has. That difference leaves the service as surely as
//! a published figure does, so when the disclosure rules would suppress it, one of the figures
//! that make it is suppressed too: the container, unless it belongs to the protected (default)
//! delimitation, and then its part with the smallest denominator; until no such difference is
//! left.
//!
//! What this covers: differences between one area and areas of one other delimitation lying
//! wholly inside it, by membership. Not covered: combinations across three or more
//! delimitations at once, and areas that overlap only where departments lack data in a year.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use super::figures::{AreaSum, Counts, Disclosure};
use super::model::Kind;

/// An area under one delimitation and the areas of one other delimitation that lie wholly
/// inside it (by their departments). The parts are disjoint, as a department belongs to at
/// most one area within a delimitation.
#[derive(Debug, Clone, PartialEq)]
pub struct Containment<N> {
    pub container: N,
    pub parts: Vec<N>,
}

/// The containments among areas given as `(delimitation, area, departments)`: for every area
/// and every other delimitation, the areas of that delimitation whose departments all belong
/// to it. Areas with the same departments as the container are left out (their figures are
/// the container's, so nothing is revealed).
pub fn containments<D, A, Dep>(areas: &[(D, A, Vec<Dep>)]) -> Vec<Containment<(D, A)>>
where
    D: Copy + Eq + Hash + Ord,
    A: Copy + Eq + Hash + Ord,
    Dep: Eq + Hash,
{
    // department → its area, per delimitation
    let mut area_of: HashMap<(D, &Dep), A> = HashMap::new();
    for (d, a, departments) in areas {
        for dep in departments {
            area_of.insert((*d, dep), *a);
        }
    }
    let mut delimitations: Vec<D> = areas.iter().map(|x| x.0).collect();
    delimitations.sort_unstable();
    delimitations.dedup();
    let size: HashMap<(D, A), usize> = areas.iter().map(|(d, a, deps)| ((*d, *a), deps.len())).collect();
    // (container's delimitation, container, the parts' delimitation) → parts
    let mut parts: HashMap<(D, A, D), Vec<(D, A)>> = HashMap::new();
    for (v, s, departments) in areas {
        let Some(first) = departments.first() else { continue };
        for &w in delimitations.iter().filter(|&&w| w != *v) {
            let Some(&t) = area_of.get(&(w, first)) else { continue };
            let inside = departments.iter().all(|dep| area_of.get(&(w, dep)) == Some(&t));
            if inside && size[&(w, t)] > departments.len() {
                parts.entry((w, t, *v)).or_default().push((*v, *s));
            }
        }
    }
    let mut out: Vec<Containment<(D, A)>> = parts
        .into_iter()
        .map(|((w, t, _), mut parts)| {
            parts.sort_unstable();
            Containment { container: (w, t), parts }
        })
        .collect();
    out.sort_unstable_by(|a, b| (a.container, &a.parts).cmp(&(b.container, &b.parts)));
    out
}

/// For one indicator and year: the areas whose figures must be suppressed although the rules
/// pass them, because a difference of published figures would reveal a suppressed one.
/// `sums` holds the areas with data; `protected` says which areas to keep published where
/// another choice exists. Figures the rules suppress anyway are not in the answer.
pub fn secondary_suppressions<N: Copy + Eq + Hash + Ord>(
    kind: Kind,
    disclosure: &Disclosure,
    sums: &HashMap<N, AreaSum>,
    containments: &[Containment<N>],
    protected: impl Fn(N) -> bool,
) -> HashSet<N> {
    let mut withheld: HashSet<N> = sums.iter().filter(|(_, s)| disclosure.suppresses(kind, s.counts)).map(|(n, _)| *n).collect();
    let mut secondary = HashSet::new();
    loop {
        let mut changed = false;
        for c in containments {
            let Some(whole) = sums.get(&c.container).filter(|_| !withheld.contains(&c.container)) else { continue };
            let published: Vec<(N, &AreaSum)> =
                c.parts.iter().filter(|p| !withheld.contains(p)).filter_map(|p| sums.get(p).map(|s| (*p, s))).collect();
            if published.is_empty() {
                continue;
            }
            let mut rest = Counts::new(whole.counts.numerator, whole.counts.denominator);
            let mut departments = whole.departments_with_data;
            for (_, s) in &published {
                rest.numerator -= s.counts.numerator;
                rest.denominator -= s.counts.denominator;
                departments = departments.saturating_sub(s.departments_with_data);
            }
            // no department with data beyond the parts: the difference is empty
            if departments == 0 || !disclosure.suppresses(kind, rest) {
                continue;
            }
            let part = published
                .iter()
                .filter(|(p, _)| !protected(*p))
                .min_by(|a, b| a.1.counts.denominator.total_cmp(&b.1.counts.denominator).then(a.0.cmp(&b.0)))
                .map(|(p, _)| *p);
            let victim = match part {
                Some(p) if protected(c.container) => p,
                _ => c.container,
            };
            withheld.insert(victim);
            secondary.insert(victim);
            changed = true;
        }
        if !changed {
            return secondary;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(n: f64, d: f64, departments: u32) -> AreaSum {
        AreaSum { counts: Counts::new(n, d), departments_with_data: departments }
    }

    /// (delimitation, area): delimitation 0 is the default (protected) one.
    type N = (u8, u8);

    #[test]
    fn finds_areas_wholly_inside_another() {
        let areas: Vec<(u8, u8, Vec<&str>)> = vec![
            (0, 1, vec!["a", "b", "c"]),
            (0, 2, vec!["d", "e"]),
            (1, 1, vec!["a", "b"]),    // grew by c
            (1, 2, vec!["d", "e"]),    // the same: nothing revealed
            (1, 3, vec!["c", "x"]),    // overlaps area 0/1 without lying inside it
            (2, 7, vec!["a"]),         // inside 0/1 and 1/1
            (2, 8, vec!["b"]),         // inside 0/1 and 1/1
        ];
        let found = containments(&areas);
        assert_eq!(
            found,
            vec![
                Containment { container: (0, 1), parts: vec![(1, 1)] },
                Containment { container: (0, 1), parts: vec![(2, 7), (2, 8)] },
                Containment { container: (1, 1), parts: vec![(2, 7), (2, 8)] },
            ]
        );
    }

    #[test]
    fn a_small_difference_withholds_the_container_unless_it_is_protected() {
        let protected = |n: N| n.0 == 0;
        let rules = Disclosure::default();
        // the default area grew by a department of 3 persons: the earlier area goes
        let grew = [Containment { container: (0u8, 1u8), parts: vec![(1, 1)] }];
        let sums: HashMap<N, AreaSum> = [((0, 1), sum(41.0, 203.0, 4)), ((1, 1), sum(40.0, 200.0, 3))].into();
        assert_eq!(secondary_suppressions(Kind::Share, &rules, &sums, &grew, protected), HashSet::from([(1, 1)]));
        // the earlier area was the wider one: it goes as the container
        let shrank = [Containment { container: (1u8, 1u8), parts: vec![(0, 1)] }];
        let sums: HashMap<N, AreaSum> = [((1, 1), sum(41.0, 203.0, 4)), ((0, 1), sum(40.0, 200.0, 3))].into();
        assert_eq!(secondary_suppressions(Kind::Share, &rules, &sums, &shrank, protected), HashSet::from([(1, 1)]));
        // between two unprotected delimitations the container goes
        let sums: HashMap<N, AreaSum> = [((1, 1), sum(41.0, 203.0, 4)), ((2, 1), sum(40.0, 200.0, 3))].into();
        let other = [Containment { container: (1u8, 1u8), parts: vec![(2, 1)] }];
        assert_eq!(secondary_suppressions(Kind::Share, &rules, &sums, &other, protected), HashSet::from([(1, 1)]));
    }

    #[test]
    fn differences_the_rules_pass_are_left_alone() {
        let containment = [Containment { container: (0u8, 1u8), parts: vec![(1, 1)] }];
        let protected = |n: N| n.0 == 0;
        let rules = Disclosure::default();
        for (whole, part) in [
            (sum(60.0, 250.0, 4), sum(40.0, 200.0, 3)), // 20 of 50: publishable
            (sum(40.0, 230.0, 4), sum(40.0, 200.0, 3)), // 0 of 30: publishable
        ] {
            let sums: HashMap<N, AreaSum> = [((0, 1), whole), ((1, 1), part)].into();
            assert!(secondary_suppressions(Kind::Share, &rules, &sums, &containment, protected).is_empty(), "{whole:?} {part:?}");
        }
        // no department with data beyond the parts: the figures are equal, nothing is revealed
        let sums: HashMap<N, AreaSum> = [((0, 1), sum(40.0, 200.0, 3)), ((1, 1), sum(40.0, 200.0, 3))].into();
        assert!(secondary_suppressions(Kind::Share, &rules, &sums, &containment, protected).is_empty());
    }

    #[test]
    fn each_kind_by_its_own_rules() {
        let containment = [Containment { container: (0u8, 1u8), parts: vec![(1, 1)] }];
        let protected = |n: N| n.0 == 0;
        let rules = Disclosure::default();
        // a difference of 25 persons with 2 convictions: suppressed for a rate, fine for a mean
        let sums: HashMap<N, AreaSum> = [((0, 1), sum(12.0, 225.0, 4)), ((1, 1), sum(10.0, 200.0, 3))].into();
        assert_eq!(secondary_suppressions(Kind::Rate, &rules, &sums, &containment, protected), HashSet::from([(1, 1)]));
        assert!(secondary_suppressions(Kind::Mean, &rules, &sums, &containment, protected).is_empty());
        // a mean over 3 pupils is revealed by the difference
        let sums: HashMap<N, AreaSum> = [((0, 1), sum(176.7, 33.0, 4)), ((1, 1), sum(159.0, 30.0, 3))].into();
        assert_eq!(secondary_suppressions(Kind::Mean, &rules, &sums, &containment, protected), HashSet::from([(1, 1)]));
    }

    #[test]
    fn withholding_a_part_is_repeated_until_no_small_difference_is_left() {
        // the default area (0,1) = earlier areas (1,1) + (1,2) + one department of 4 persons;
        // withholding (1,1) (smallest denominator) leaves (0,1) − (1,2) = (1,1) + the small
        // department = 24 persons with 2 in the numerator: still revealing, so (1,2) goes too
        let containment = [Containment { container: (0u8, 1u8), parts: vec![(1, 1), (1, 2)] }];
        let sums: HashMap<N, AreaSum> =
            [((0, 1), sum(52.0, 124.0, 3)), ((1, 1), sum(0.0, 20.0, 1)), ((1, 2), sum(50.0, 100.0, 1))].into();
        let got = secondary_suppressions(Kind::Share, &Disclosure::default(), &sums, &containment, |n: N| n.0 == 0);
        assert_eq!(got, HashSet::from([(1, 1), (1, 2)]));
    }

    #[test]
    fn parts_the_rules_suppress_are_not_subtracted() {
        // (1,1) is suppressed by the rules (15 persons); the published difference is then
        // (0,1) alone, which is published anyway: nothing more to withhold
        let containment = [Containment { container: (0u8, 1u8), parts: vec![(1, 1)] }];
        let sums: HashMap<N, AreaSum> = [((0, 1), sum(9.0, 18.0 + 15.0, 2)), ((1, 1), sum(7.0, 15.0, 1))].into();
        assert!(secondary_suppressions(Kind::Share, &Disclosure::default(), &sums, &containment, |n: N| n.0 == 0).is_empty());
    }
}
