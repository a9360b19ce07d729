//! Secondary suppression against differencing. Figures of groups of departments minus the
//! published figures of groups wholly inside them are the figure of the departments left over,
//! and that leaves the service as surely as a published one. It happens where areas under one
//! delimitation hold areas of another (an area that grew by a department, areas merged or
//! redrawn), and where a municipality's, its social-housing sector's or the country's figure
//! holds the municipality's (or all) areas. When the disclosure rules would suppress what is
//! left over, one more of the figures that make it is withheld, the cheapest by a ranking the
//! caller gives (a non-default delimitation's areas before a reference level, the default
//! delimitation's areas last), until no such difference is left.
//!
//! What this covers: any combination of one delimitation's areas (within a connected group of
//! up to MAX_JOINT of them) or one reference figure, minus the published areas of one other
//! delimitation inside it; a property test checks that against every combination. Not
//! covered: equations mixing three or more delimitations, or a reference figure with areas of
//! two delimitations at once; areas that overlap only where departments lack data in a year;
//! and differences between the delivered reference levels themselves (taken as delivered). An
//! area counts as inside a municipality's figures when all its departments lie there.

use std::collections::HashMap;
use std::hash::Hash;

use super::figures::{Counts, Disclosure};
use super::model::Kind;

/// Figures whose groups together hold the groups of other figures wholly: an area under one
/// delimitation and areas of another inside it; several areas of one delimitation whose
/// departments hold several of another's; or a reference level's figure and one delimitation's
/// areas in it. The containers are disjoint, and so are the parts, as a department belongs to
/// at most one area within a delimitation.
#[derive(Debug, Clone, PartialEq)]
pub struct Containment<N> {
    pub containers: Vec<N>,
    pub parts: Vec<N>,
}

/// An area as given to `containments`: (delimitation, area, departments).
type Members<D, A, Dep> = (D, A, Vec<Dep>);

/// Beyond this many areas of one delimitation in one connected group, only each area alone and
/// the whole group are tried as containers, not every combination of them.
const MAX_JOINT: usize = 12;

/// The containments among areas given as `(delimitation, area, departments)`. For every two
/// delimitations, their areas fall into connected groups (linked where they share a
/// department); within a group, every combination of one delimitation's areas is a container
/// for the other's areas that lie wholly inside it. (An area alone holding areas of another
/// delimitation is the common case: one that grew; several together are areas redrawn.) Parts
/// with all the container's departments still count: while one of them is suppressed, the
/// others' difference from the container reveals it. Only one part equal to the container is
/// left out, as its figure is the container's.
pub fn containments<D, A, Dep>(areas: &[Members<D, A, Dep>]) -> Vec<Containment<(D, A)>>
where
    D: Copy + Eq + Hash + Ord,
    A: Copy + Eq + Hash + Ord,
    Dep: Eq + Hash,
{
    let mut delimitations: Vec<D> = areas.iter().map(|x| x.0).collect();
    delimitations.sort_unstable();
    delimitations.dedup();
    let mut out = Vec::new();
    for (i, &v) in delimitations.iter().enumerate() {
        for &w in &delimitations[i + 1..] {
            let pair: Vec<&Members<D, A, Dep>> = areas.iter().filter(|x| x.0 == v || x.0 == w).collect();
            for group in connected_groups(&pair) {
                for (outer, inner) in [(w, v), (v, w)] {
                    let side = |d: D| -> Vec<&Members<D, A, Dep>> { group.iter().copied().filter(|x| x.0 == d).collect() };
                    out.extend(held(&side(outer), &side(inner)));
                }
            }
        }
    }
    out.sort_unstable_by(|a, b| (&a.containers, &a.parts).cmp(&(&b.containers, &b.parts)));
    out
}

/// The areas of two delimitations in groups linked by shared departments.
fn connected_groups<'a, D, A, Dep>(areas: &[&'a Members<D, A, Dep>]) -> Vec<Vec<&'a Members<D, A, Dep>>>
where
    D: Copy + Eq + Hash,
    Dep: Eq + Hash,
{
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut parent: Vec<usize> = (0..areas.len()).collect();
    // the first area seen with each department (of the other delimitation, or its own)
    let mut seen: HashMap<&Dep, usize> = HashMap::new();
    for (i, area) in areas.iter().enumerate() {
        for dep in &area.2 {
            match seen.get(dep) {
                Some(&j) => {
                    let (x, y) = (root(&mut parent, i), root(&mut parent, j));
                    parent[x] = y;
                }
                None => {
                    seen.insert(dep, i);
                }
            }
        }
    }
    let mut groups: HashMap<usize, Vec<&Members<D, A, Dep>>> = HashMap::new();
    for (i, area) in areas.iter().enumerate() {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(area);
    }
    groups.into_values().collect()
}

/// Within one connected group: each combination of `outer`'s areas with `inner`'s areas
/// wholly inside it (unless that is one area with the combination's very departments).
fn held<D, A, Dep>(outer: &[&Members<D, A, Dep>], inner: &[&Members<D, A, Dep>]) -> Vec<Containment<(D, A)>>
where
    D: Copy + Ord,
    A: Copy + Ord,
    Dep: Eq + Hash,
{
    if outer.is_empty() || inner.is_empty() {
        return Vec::new();
    }
    let combinations: Vec<Vec<usize>> = if outer.len() <= MAX_JOINT {
        (1u32..1 << outer.len()).map(|mask| (0..outer.len()).filter(|i| mask & (1 << i) != 0).collect()).collect()
    } else {
        (0..outer.len()).map(|i| vec![i]).chain([(0..outer.len()).collect()]).collect()
    };
    let mut out = Vec::new();
    for combination in combinations {
        let departments: std::collections::HashSet<&Dep> = combination.iter().flat_map(|&i| &outer[i].2).collect();
        let parts: Vec<&&Members<D, A, Dep>> = inner.iter().filter(|x| x.2.iter().all(|dep| departments.contains(dep))).collect();
        // one part with all the combination's departments has the same figure: nothing to learn
        let same = parts.len() == 1 && parts[0].2.len() == departments.len();
        if !parts.is_empty() && !same {
            let mut containers: Vec<(D, A)> = combination.iter().map(|&i| (outer[i].0, outer[i].1)).collect();
            let mut parts: Vec<(D, A)> = parts.iter().map(|x| (x.0, x.1)).collect();
            containers.sort_unstable();
            parts.sort_unstable();
            out.push(Containment { containers, parts });
        }
    }
    out
}

/// For one indicator and year: the figures that must be withheld although the rules pass
/// them, because a difference of published figures would reveal one the rules suppress.
/// Figures are numbered `0..counts.len()`; `counts[f]` is None for a figure without data.
/// `rank` orders the candidates for withholding (lower goes first; among equals a container
/// before a part, and the largest denominator first, whose withholding leaves the biggest
/// remainder, then the lower number). The answer is sorted, and holds no figure the rules suppress anyway.
pub fn secondary_suppressions(
    kind: Kind,
    disclosure: &Disclosure,
    counts: &[Option<Counts>],
    containments: &[Containment<usize>],
    rank: impl Fn(usize) -> u8,
) -> Vec<usize> {
    let mut published: Vec<bool> = counts.iter().map(|c| c.is_some_and(|c| !disclosure.suppresses(kind, c))).collect();
    let mut secondary = Vec::new();
    let mut containers: Vec<(usize, Counts)> = Vec::new();
    let mut parts: Vec<(usize, Counts)> = Vec::new();
    loop {
        let mut changed = false;
        for c in containments {
            // a published figure's counts (published implies it has data)
            let shown = |f: usize| counts[f].filter(|_| published[f]).map(|x| (f, x));
            // the containers' sum is known only while all of them are published
            containers.clear();
            containers.extend(c.containers.iter().map_while(|&f| shown(f)));
            if containers.len() < c.containers.len() {
                continue;
            }
            parts.clear();
            parts.extend(c.parts.iter().filter_map(|&p| shown(p)));
            if parts.is_empty() {
                continue;
            }
            let mut rest = Counts::new(0.0, 0.0);
            for (_, x) in &containers {
                rest.numerator += x.numerator;
                rest.denominator += x.denominator;
            }
            for (_, part) in &parts {
                rest.numerator -= part.numerator;
                rest.denominator -= part.denominator;
            }
            // nothing left over (every department with data has a positive denominator), or a
            // remainder that is no group's figure, as when a delivered level and the areas'
            // departments disagree
            let inconsistent = rest.denominator < 0.0 || (kind != Kind::Mean && rest.numerator < 0.0);
            if rest.denominator == 0.0 || inconsistent || !disclosure.suppresses(kind, rest) {
                continue;
            }
            let victim = containers
                .iter()
                .map(|(f, x)| (rank(*f), 0, -x.denominator, *f))
                .chain(parts.iter().map(|(p, part)| (rank(*p), 1, -part.denominator, *p)))
                .reduce(|best, x| {
                    if (x.0, x.1).cmp(&(best.0, best.1)).then(x.2.total_cmp(&best.2)).then(x.3.cmp(&best.3)).is_lt() { x } else { best }
                })
                .expect("a containment has a container")
                .3;
            published[victim] = false;
            secondary.push(victim);
            changed = true;
        }
        if !changed {
            secondary.sort_unstable();
            return secondary;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn counts(n: f64, d: f64) -> Counts {
        Counts::new(n, d)
    }

    /// (delimitation, area): delimitation 0 is the default one, ranked last; 9 stands for a
    /// reference level, ranked between.
    type N = (u8, u8);
    fn rank(n: N) -> u8 {
        match n.0 {
            0 => 2,
            9 => 1,
            _ => 0,
        }
    }

    /// Numbers the figures in their order, as the service does, and answers with the names.
    fn withheld(kind: Kind, containment: &[Containment<N>], figures: &[(N, Counts)]) -> HashSet<N> {
        let mut names: Vec<N> =
            figures.iter().map(|f| f.0).chain(containment.iter().flat_map(|c| c.parts.iter().chain(&c.containers).copied())).collect();
        names.sort_unstable();
        names.dedup();
        let number = |n: &N| names.binary_search(n).unwrap();
        let mut counts = vec![None; names.len()];
        for (n, c) in figures {
            counts[number(n)] = Some(*c);
        }
        let containment: Vec<Containment<usize>> = containment
            .iter()
            .map(|c| Containment { containers: c.containers.iter().map(number).collect(), parts: c.parts.iter().map(number).collect() })
            .collect();
        let got = secondary_suppressions(kind, &Disclosure::default(), &counts, &containment, |f| rank(names[f]));
        got.into_iter().map(|f| names[f]).collect()
    }

    #[test]
    fn finds_areas_wholly_inside_another() {
        let areas: Vec<(u8, u8, Vec<&str>)> = vec![
            (0, 1, vec!["a", "b", "c"]),
            (0, 2, vec!["d", "e"]),
            (1, 1, vec!["a", "b"]), // grew by c
            (1, 2, vec!["d", "e"]), // the same: nothing revealed
            (1, 3, vec!["c", "x"]), // overlaps area 0/1 without lying inside it
            (2, 7, vec!["a"]),      // inside 0/1 and 1/1
            (2, 8, vec!["b"]),      // inside 0/1 and 1/1
        ];
        assert_eq!(
            containments(&areas),
            vec![
                Containment { containers: vec![(0, 1)], parts: vec![(1, 1)] },
                Containment { containers: vec![(0, 1)], parts: vec![(2, 7), (2, 8)] },
                // together the same departments: while one part is suppressed, the other reveals it
                Containment { containers: vec![(1, 1)], parts: vec![(2, 7), (2, 8)] },
                // redrawn: two areas of delimitation 1 together hold area 0/1, and x besides
                Containment { containers: vec![(1, 1), (1, 3)], parts: vec![(0, 1)] },
            ]
        );
    }

    #[test]
    fn a_small_difference_withholds_the_lower_ranked_figure() {
        // the default area grew by a department of 3 persons: the earlier area goes
        let grew = [Containment { containers: vec![(0, 1)], parts: vec![(1, 1)] }];
        let got = withheld(Kind::Share, &grew, &[((0, 1), counts(41.0, 203.0)), ((1, 1), counts(40.0, 200.0))]);
        assert_eq!(got, HashSet::from([(1, 1)]));
        // the earlier area was the wider one: it goes as the container
        let shrank = [Containment { containers: vec![(1, 1)], parts: vec![(0, 1)] }];
        let got = withheld(Kind::Share, &shrank, &[((1, 1), counts(41.0, 203.0)), ((0, 1), counts(40.0, 200.0))]);
        assert_eq!(got, HashSet::from([(1, 1)]));
        // between equals the container goes
        let other = [Containment { containers: vec![(1, 1)], parts: vec![(2, 1)] }];
        let got = withheld(Kind::Share, &other, &[((1, 1), counts(41.0, 203.0)), ((2, 1), counts(40.0, 200.0))]);
        assert_eq!(got, HashSet::from([(1, 1)]));
        // a reference level holding the default delimitation's areas goes itself; holding an
        // earlier delimitation's areas, those go first
        let sector = [Containment { containers: vec![(9, 1)], parts: vec![(0, 1), (0, 2)] }];
        let figures = [((9, 1), counts(83.0, 460.0)), ((0, 1), counts(40.0, 200.0)), ((0, 2), counts(40.0, 250.0))];
        assert_eq!(withheld(Kind::Rate, &sector, &figures), HashSet::from([(9, 1)]));
        let sector = [Containment { containers: vec![(9, 1)], parts: vec![(1, 1), (1, 2)] }];
        let figures = [((9, 1), counts(83.0, 460.0)), ((1, 1), counts(40.0, 200.0)), ((1, 2), counts(40.0, 250.0))];
        assert_eq!(withheld(Kind::Rate, &sector, &figures), HashSet::from([(1, 2)]), "the largest part, leaving 43 in 260");
    }

    #[test]
    fn differences_the_rules_pass_are_left_alone() {
        let containment = [Containment { containers: vec![(0, 1)], parts: vec![(1, 1)] }];
        for (whole, part) in [
            (counts(60.0, 250.0), counts(40.0, 200.0)), // 20 of 50
            (counts(40.0, 230.0), counts(40.0, 200.0)), // 0 of 30
            (counts(40.0, 200.0), counts(40.0, 200.0)), // nothing left over
            (counts(30.0, 190.0), counts(40.0, 200.0)), // a remainder that is no group's figure
        ] {
            let got = withheld(Kind::Share, &containment, &[((0, 1), whole), ((1, 1), part)]);
            assert!(got.is_empty(), "{whole:?} {part:?}");
        }
    }

    #[test]
    fn each_kind_by_its_own_rules() {
        let containment = [Containment { containers: vec![(0, 1)], parts: vec![(1, 1)] }];
        // a difference of 25 persons with 2 convictions: suppressed for a rate, fine for a mean
        let figures = [((0, 1), counts(12.0, 225.0)), ((1, 1), counts(10.0, 200.0))];
        assert_eq!(withheld(Kind::Rate, &containment, &figures), HashSet::from([(1, 1)]));
        assert!(withheld(Kind::Mean, &containment, &figures).is_empty());
        // a mean over 3 pupils is revealed by the difference; a negative sum is a mean's right
        let figures = [((0, 1), counts(176.7, 33.0)), ((1, 1), counts(180.0, 30.0))];
        assert_eq!(withheld(Kind::Mean, &containment, &figures), HashSet::from([(1, 1)]));
    }

    #[test]
    fn withholding_is_repeated_until_no_small_difference_is_left() {
        // the default area holds two earlier ones and a department of 30 persons with 2 in the
        // numerator: whichever parts stay published, what is left over has 2 in the numerator
        let containment = [Containment { containers: vec![(0, 1)], parts: vec![(1, 1), (1, 2)] }];
        let figures = [((0, 1), counts(7.0, 75.0)), ((1, 1), counts(5.0, 20.0)), ((1, 2), counts(0.0, 25.0))];
        assert_eq!(withheld(Kind::Share, &containment, &figures), HashSet::from([(1, 1), (1, 2)]));
        // one withheld part can be enough: then the other stays
        let figures = [((0, 1), counts(52.0, 124.0)), ((1, 1), counts(0.0, 20.0)), ((1, 2), counts(50.0, 100.0))];
        assert_eq!(withheld(Kind::Share, &containment, &figures), HashSet::from([(1, 2)]));
    }

    #[test]
    fn parts_the_rules_suppress_are_not_subtracted() {
        // (1,1) is suppressed by the rules (15 persons); the difference of published figures
        // is then (0,1) alone, which is published anyway
        let containment = [Containment { containers: vec![(0, 1)], parts: vec![(1, 1)] }];
        let got = withheld(Kind::Share, &containment, &[((0, 1), counts(9.0, 33.0)), ((1, 1), counts(7.0, 15.0))]);
        assert!(got.is_empty());
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// Counts of a group with data: small and large denominators, numerators near the rules'
        /// edges.
        fn group() -> impl Strategy<Value = Counts> {
            (prop_oneof![1u32..25, 25u32..400], 0u32..8, any::<bool>()).prop_map(|(d, n, high)| {
                let n = if high { d.saturating_sub(n) } else { n.min(d) };
                Counts::new(n as f64, d as f64)
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

            /// Departments are grouped into areas of three delimitations (0, the protected one,
            /// and 1, 2) and a sector holding them all; after secondary suppression no
            /// combination of one delimitation's published areas (or the sector) minus another
            /// delimitation's published areas inside it is a figure the rules suppress, only
            /// figures the rules pass are withheld, each once, and the protected delimitation
            /// keeps every figure the rules pass.
            #[test]
            fn no_revealing_difference_is_left(
                departments in proptest::collection::vec(group(), 2..9),
                cuts in proptest::collection::vec(proptest::collection::vec(any::<bool>(), 8), 3),
                kind in prop_oneof![Just(Kind::Share), Just(Kind::Rate), Just(Kind::Mean)],
            ) {
                // each delimitation cuts the departments into runs: a true starts a new area
                let mut areas: Vec<(u8, u8, Vec<usize>)> = Vec::new();
                for (delimitation, cut) in cuts.iter().enumerate() {
                    let mut area = 0u8;
                    for (dep, &starts) in cut.iter().enumerate().take(departments.len()) {
                        if dep > 0 && starts {
                            area += 1;
                        }
                        match areas.last_mut() {
                            Some((d, a, deps)) if *d == delimitation as u8 && *a == area => deps.push(dep),
                            _ => areas.push((delimitation as u8, area, vec![dep])),
                        }
                    }
                }
                let mut names: Vec<(u8, u8)> = areas.iter().map(|(d, a, _)| (*d, *a)).collect();
                names.push((9, 0)); // the sector
                names.sort_unstable();
                let number = |n: (u8, u8)| names.binary_search(&n).unwrap();
                let sum = |deps: &[usize]| deps.iter().fold(Counts::new(0.0, 0.0), |acc, &i| {
                    Counts::new(acc.numerator + departments[i].numerator, acc.denominator + departments[i].denominator)
                });
                let mut counts = vec![None; names.len()];
                for (d, a, deps) in &areas {
                    counts[number((*d, *a))] = Some(sum(deps));
                }
                let all: Vec<usize> = (0..departments.len()).collect();
                counts[number((9, 0))] = Some(sum(&all));
                let mut containments: Vec<Containment<usize>> = super::containments(&areas)
                    .into_iter()
                    .map(|c| Containment { containers: c.containers.into_iter().map(number).collect(), parts: c.parts.into_iter().map(number).collect() })
                    .collect();
                for delimitation in 0..3u8 {
                    let parts = areas.iter().filter(|x| x.0 == delimitation).map(|x| number((x.0, x.1))).collect();
                    containments.push(Containment { containers: vec![number((9, 0))], parts });
                }
                let rules = Disclosure::default();
                let rank = |f: usize| match names[f].0 { 0 => 2, 9 => 1, _ => 0 };
                let withheld = secondary_suppressions(kind, &rules, &counts, &containments, rank);
                let published = |f: usize| counts[f].is_some_and(|c| !rules.suppresses(kind, c)) && withheld.binary_search(&f).is_err();
                prop_assert!(withheld.windows(2).all(|w| w[0] < w[1]), "each figure is withheld once: {withheld:?}");
                for f in &withheld {
                    prop_assert!(!rules.suppresses(kind, counts[*f].unwrap()), "only figures the rules pass are withheld");
                    prop_assert!(names[*f].0 != 0, "the protected delimitation keeps its figures");
                }
                // independently of how the containments were found: every combination of one
                // delimitation's published areas (or the sector) minus the other's published
                // areas wholly inside it leaves nothing the rules suppress
                let mask = |deps: &[usize]| deps.iter().fold(0u32, |m, &d| m | 1 << d);
                let sector = (number((9, 0)), mask(&all));
                for outer in 0..3u8 {
                    let mine: Vec<(usize, u32)> = areas.iter().filter(|x| x.0 == outer).map(|x| (number((x.0, x.1)), mask(&x.2))).collect();
                    let mut combinations: Vec<Vec<(usize, u32)>> =
                        (1u32..1 << mine.len()).map(|m| (0..mine.len()).filter(|i| m & (1 << i) != 0).map(|i| mine[i]).collect()).collect();
                    combinations.push(vec![sector]);
                    for combination in combinations {
                        if !combination.iter().all(|(f, _)| published(*f)) {
                            continue;
                        }
                        let held = combination.iter().fold(0, |m, (_, x)| m | x);
                        for inner in (0..3u8).filter(|&d| d != outer) {
                            let mut rest = combination.iter().fold(Counts::new(0.0, 0.0), |acc, (f, _)| {
                                let x = counts[*f].unwrap();
                                Counts::new(acc.numerator + x.numerator, acc.denominator + x.denominator)
                            });
                            let mut any = false;
                            for x in areas.iter().filter(|x| x.0 == inner) {
                                let f = number((x.0, x.1));
                                if published(f) && mask(&x.2) & !held == 0 {
                                    let c = counts[f].unwrap();
                                    rest = Counts::new(rest.numerator - c.numerator, rest.denominator - c.denominator);
                                    any = true;
                                }
                            }
                            prop_assert!(!any || rest.denominator == 0.0 || !rules.suppresses(kind, rest),
                                "{combination:?} minus delimitation {inner}'s areas inside leaves {rest:?}");
                        }
                    }
                }
            }
        }
    }
}
