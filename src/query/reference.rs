//! A reference, resolved to the figures an area is compared with.

use crate::domain::figures::{Figure, pooled};
use crate::domain::model::Reference;
use crate::domain::twins::{Candidate, Twins};
use crate::snapshot::{Delimitation, Snapshot, figure_in};

/// How many twins, by default and at most (comparisons.md).
pub const DEFAULT_TWINS: usize = 5;
pub const MAX_TWINS: usize = 20;
/// How many indicators a twin profile may match on.
pub const MAX_MATCH: usize = 6;

/// A reference as a request gives it: for twins, how many and on what.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceChoice {
    pub reference: Reference,
    /// How many twins (1 to 20).
    pub twins: usize,
    /// The indicators twins are matched on; empty: the compared indicator itself.
    pub matching: Vec<usize>,
}

impl Default for ReferenceChoice {
    fn default() -> Self {
        ReferenceChoice { reference: Reference::Municipality, twins: DEFAULT_TWINS, matching: Vec::new() }
    }
}

impl ReferenceChoice {
    pub fn of(reference: Reference) -> Self {
        ReferenceChoice { reference, ..ReferenceChoice::default() }
    }
}

/// A reference's figures for one area, in `from` and `to`; `None` means no data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resolved {
    pub from: Option<Figure>,
    pub to: Option<Figure>,
    /// For twins: the twins' area indexes, nearest first.
    pub twins: Option<Vec<usize>>,
}

/// Resolves a reference for the areas of a delimitation, one indicator and two years. For
/// twins it standardises the delimitation once, so that resolving every area costs one pass
/// over the others each.
pub struct Resolver<'s> {
    snapshot: &'s Snapshot,
    delimitation: &'s Delimitation,
    indicator: usize,
    years: (u16, u16),
    choice: &'s ReferenceChoice,
    /// For twins: the delimitation's areas in order, and their z-scores.
    twins: Option<(Vec<usize>, Twins<'s>)>,
}

impl<'s> Resolver<'s> {
    pub fn new(
        snapshot: &'s Snapshot,
        delimitation: &'s Delimitation,
        indicator: usize,
        (from, to): (u16, u16),
        choice: &'s ReferenceChoice,
    ) -> Self {
        let twins = (choice.reference == Reference::Twins).then(|| {
            let matching: Vec<usize> = if choice.matching.is_empty() { vec![indicator] } else { choice.matching.clone() };
            let published = |area: usize, indicator: usize, year: u16| {
                figure_in(delimitation.series(area, indicator), year).and_then(|p| p.figure.value())
            };
            let areas: Vec<usize> = delimitation.areas().collect();
            let candidates = areas
                .iter()
                .map(|&a| Candidate {
                    key: snapshot.areas[a].area_id.as_str(),
                    profile: matching.iter().map(|&j| published(a, j, from)).collect(),
                    comparable: published(a, indicator, from).is_some() && published(a, indicator, to).is_some(),
                })
                .collect();
            (areas, Twins::new(candidates))
        });
        Resolver { snapshot, delimitation, indicator, years: (from, to), choice, twins }
    }

    /// The reference's figures for an area of the delimitation.
    pub fn resolve(&self, area: usize) -> Resolved {
        let (from, to) = self.years;
        match &self.twins {
            Some((areas, twins)) => {
                let found = areas
                    .binary_search(&area)
                    .ok()
                    .and_then(|i| twins.nearest(i, self.choice.twins))
                    .map(|found| found.into_iter().map(|i| areas[i]).collect::<Vec<usize>>())
                    .unwrap_or_default();
                let kind = self.snapshot.indicators[self.indicator].kind;
                let year = |y: u16| {
                    pooled(kind, found.iter().filter_map(|&a| figure_in(self.delimitation.series(a, self.indicator), y).map(|p| p.figure)))
                };
                Resolved { from: year(from), to: year(to), twins: Some(found) }
            }
            None => {
                let municipality = self.snapshot.areas[area].municipality;
                let points = self.snapshot.reference_series(self.choice.reference, self.delimitation, municipality, self.indicator);
                Resolved { from: figure_in(points, from).map(|p| p.figure), to: figure_in(points, to).map(|p| p.figure), twins: None }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::figures::{Counts, Disclosure};
    use crate::domain::model::Level;
    use crate::snapshot::Snapshot;
    use crate::store::StoredDataset;

    fn demo() -> (crate::ingest::Extract, Snapshot) {
        let extract = crate::demo::bundled_extract().expect("the demo extract is valid");
        let s = Snapshot::build(StoredDataset::from_extract(&extract, 1, "2026-01-01T00:00:00Z"), &Disclosure::default()).unwrap();
        (extract, s)
    }

    /// The sector without the plan areas, resolved for every area of the default delimitation,
    /// is the delivered sector's counts minus the observations of the delimitation's
    /// departments in the area's municipality, summed here from the extract's rows.
    #[test]
    fn the_rest_is_the_sector_less_the_departments_of_the_areas() {
        let (x, s) = demo();
        let (boundary, d) = s.delimitation(None).unwrap();
        let (i, indicator) = s.indicator("outside_work_education").unwrap();
        let choice = ReferenceChoice::of(Reference::SocialHousingRest);
        let resolver = Resolver::new(&s, d, i, (2015, 2023), &choice);
        let code = x.indicators.iter().position(|r| r.code == indicator.code).unwrap() as u16;
        let planned: std::collections::HashSet<u32> =
            x.memberships.iter().filter(|m| m.boundary_version == boundary).map(|m| m.department).collect();
        let (mut published, mut withheld) = (0, 0);
        for a in d.areas() {
            let m = s.areas[a].municipality;
            let resolved = resolver.resolve(a);
            assert_eq!(resolved.twins, None);
            for (year, figure) in [(2015, resolved.from), (2023, resolved.to)] {
                let rows = x.observations.iter().filter(|o| o.indicator == code && o.year == year);
                let mut want = Counts::default();
                for o in rows.clone().filter(|o| o.level == Level::SocialHousing && o.municipality() == Some(m)) {
                    want = Counts::new(o.numerator, o.denominator);
                }
                for o in rows.filter(|o| o.level == Level::Department && planned.contains(&o.unit)) {
                    if x.departments[o.unit as usize].municipality == m {
                        want.numerator -= o.numerator;
                        want.denominator -= o.denominator;
                    }
                }
                match figure {
                    Some(Figure::Ok { numerator, denominator, .. }) => {
                        assert_eq!((numerator, denominator), (want.numerator, want.denominator), "{} {year}", s.areas[a].area_id);
                        published += 1;
                    }
                    Some(Figure::Suppressed) => withheld += 1,
                    None => panic!("{} {year}: the demo's sectors hold their areas", s.areas[a].area_id),
                }
            }
        }
        assert!(published > 80, "{published} published, {withheld} withheld");
    }

    /// Twins: k other areas, nearest first, each with published values in both years, and the
    /// reference their pooled figure; fewer twins are the nearest of more.
    #[test]
    fn twins_are_the_nearest_other_areas_pooled() {
        let (_, s) = demo();
        let (_, d) = s.delimitation(None).unwrap();
        let (i, indicator) = s.indicator("outside_work_education").unwrap();
        let five = ReferenceChoice { reference: Reference::Twins, twins: 5, matching: Vec::new() };
        let two = ReferenceChoice { twins: 2, ..five.clone() };
        let (r5, r2) = (Resolver::new(&s, d, i, (2015, 2023), &five), Resolver::new(&s, d, i, (2015, 2023), &two));
        let value = |a: usize, y: u16| figure_in(d.series(a, i), y).and_then(|p| p.figure.value());
        for a in d.areas() {
            let got = r5.resolve(a);
            let twins = got.twins.clone().unwrap();
            if value(a, 2015).is_none() {
                assert!(twins.is_empty() && got.from.is_none(), "no twins without a value of its own");
                continue;
            }
            assert_eq!(twins.len(), 5);
            assert!(!twins.contains(&a), "an area is not its own twin");
            let own = value(a, 2015).unwrap();
            let distances: Vec<f64> = twins.iter().map(|&t| (value(t, 2015).unwrap() - own).abs()).collect();
            assert!(distances.windows(2).all(|w| w[0] <= w[1] + 1e-9), "nearest first: {distances:?}");
            // nobody left out is nearer than the farthest twin
            let farthest = distances[4];
            for b in d.areas().filter(|b| *b != a && !twins.contains(b)) {
                if let (Some(x), Some(_)) = (value(b, 2015), value(b, 2023)) {
                    assert!((x - own).abs() >= farthest - 1e-9, "{} is nearer than the twins", s.areas[b].area_id);
                }
            }
            let sum = |y: u16| {
                twins.iter().fold((0.0, 0.0), |acc, &t| match figure_in(d.series(t, i), y).unwrap().figure {
                    Figure::Ok { numerator, denominator, .. } => (acc.0 + numerator, acc.1 + denominator),
                    Figure::Suppressed => panic!("a twin's figure is published"),
                })
            };
            for (y, figure) in [(2015, got.from), (2023, got.to)] {
                let (n, dd) = sum(y);
                assert_eq!(figure, Some(Figure::Ok { value: indicator.kind.factor() * n / dd, numerator: n, denominator: dd }));
            }
            assert_eq!(r2.resolve(a).twins.unwrap(), twins[..2].to_vec());
        }
    }
}
