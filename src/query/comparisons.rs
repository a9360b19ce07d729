//! Comparisons (comparisons.md): the areas of a unit against a reference between two years,
//! and one area against a reference on every indicator.

use std::cmp::Ordering;
use std::str::FromStr;

use super::Unit;
use super::reference::{ReferenceChoice, Resolver};
use crate::domain::comparisons::{Comparison, ComparisonInputs, Summary, compare, summarise};
use crate::snapshot::{Snapshot, figure_in};

/// A comparison of every area of a unit: one indicator, two years, a reference.
#[derive(Debug, Clone)]
pub struct ComparisonRequest<'s> {
    pub indicator: usize,
    pub from: u16,
    pub to: u16,
    pub reference: ReferenceChoice,
    pub unit: Unit<'s>,
    pub threshold: f64,
    /// The items' order; `None`: the unit's.
    pub order: Option<Order>,
}

/// One area's comparison, and for twins the twins it was made with.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaComparison {
    pub area: usize,
    pub comparison: Comparison,
    /// For twins: the twins' area indexes, nearest first.
    pub twins: Option<Vec<usize>>,
    /// The area's departments its figures are made of, and those `covered_years` left out.
    pub departments_used: usize,
    pub departments_left_out: usize,
}

/// What items can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    AreaId,
    Name,
    Municipality,
    Difference,
    RelativeDifference,
}

/// An order of items: a key, ascending or descending; items without the number sorted on go
/// last either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    pub key: SortKey,
    pub descending: bool,
}

impl Order {
    pub const BY_DIFFERENCE: Order = Order { key: SortKey::Difference, descending: false };
}

/// `difference`, `-name`, …: a key with an optional leading `-` for descending.
impl FromStr for Order {
    type Err = ();
    fn from_str(s: &str) -> Result<Order, ()> {
        let (descending, key) = match s.strip_prefix('-') {
            Some(k) => (true, k),
            None => (false, s),
        };
        let key = match key {
            "difference" => SortKey::Difference,
            "relative_difference" => SortKey::RelativeDifference,
            "area_id" | "area" => SortKey::AreaId,
            "name" => SortKey::Name,
            "municipality" => SortKey::Municipality,
            _ => return Err(()),
        };
        Ok(Order { key, descending })
    }
}

/// Every area of the request's unit, in its order or the one asked for.
pub fn compare_areas(snapshot: &Snapshot, r: &ComparisonRequest) -> Vec<AreaComparison> {
    let resolver = Resolver::new(snapshot, r.unit.delimitation, r.indicator, (r.from, r.to), &r.reference);
    let mut items: Vec<AreaComparison> =
        r.unit.areas().map(|a| compare_with(snapshot, &resolver, r.unit, a, r.indicator, (r.from, r.to), r.threshold)).collect();
    if let Some(order) = r.order {
        sort(snapshot, &mut items, order);
    }
    items
}

impl ComparisonRequest<'_> {
    /// The `covered_years` the request's unit is restricted by (0: none).
    pub fn covered_years(&self) -> u16 {
        self.unit.covered_years()
    }
}

/// The summary of a request's comparisons (whatever their order); apart, as a map layer
/// needs none.
pub fn summary(snapshot: &Snapshot, r: &ComparisonRequest, items: &[AreaComparison]) -> Summary {
    summarise(snapshot.indicators[r.indicator].direction, r.threshold, items.iter().map(|i| &i.comparison))
}

/// One area against a reference on every indicator, between the years asked for or each
/// indicator's first and last year with data.
#[derive(Debug, Clone)]
pub struct AreaProfileRequest<'s> {
    pub area: usize,
    pub from: Option<u16>,
    pub to: Option<u16>,
    pub reference: ReferenceChoice,
    pub unit: Unit<'s>,
    pub threshold: f64,
}

/// One indicator's comparison of an area: the years compared (none when the indicator has no
/// two years to compare), the comparison, and for twins the twins.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorOutcome {
    pub indicator: usize,
    pub years: Option<(u16, u16)>,
    pub comparison: Comparison,
    pub twins: Option<Vec<usize>>,
}

/// The area's comparison on every indicator, in the catalogue's order.
pub fn area_profile(snapshot: &Snapshot, r: &AreaProfileRequest) -> Vec<IndicatorOutcome> {
    let twins = r.reference.reference == crate::domain::model::Reference::Twins;
    snapshot
        .indicators
        .iter()
        .enumerate()
        .map(|(i, indicator)| {
            let years = match (r.from.or(indicator.years.first().copied()), r.to.or(indicator.years.last().copied())) {
                (Some(f), Some(t)) if f < t => Some((f, t)),
                _ => None,
            };
            let (comparison, twins) = match years {
                Some(years) => {
                    let resolver = Resolver::new(snapshot, r.unit.delimitation, i, years, &r.reference);
                    let c = compare_with(snapshot, &resolver, r.unit, r.area, i, years, r.threshold);
                    (c.comparison, c.twins)
                }
                None => (compare(indicator.direction, r.threshold, ComparisonInputs::default()), twins.then(Vec::new)),
            };
            IndicatorOutcome { indicator: i, years, comparison, twins }
        })
        .collect()
}

fn compare_with(
    snapshot: &Snapshot,
    resolver: &Resolver,
    unit: Unit,
    area: usize,
    indicator: usize,
    (from, to): (u16, u16),
    threshold: f64,
) -> AreaComparison {
    // (what the unit keeps of the area, worked out once for its figures and its counts)
    let kept = unit.restriction(area);
    let own = unit.series_of(area, indicator, kept.kept);
    let reference = resolver.resolve(area);
    let inputs = ComparisonInputs {
        area_from: figure_in(own, from).map(|p| p.figure),
        area_to: figure_in(own, to).map(|p| p.figure),
        reference_from: reference.from,
        reference_to: reference.to,
    };
    // (an area none of whose departments qualify is missing, whatever its reference is)
    let inputs = if kept.kept == crate::snapshot::Kept::Nothing { ComparisonInputs::default() } else { inputs };
    AreaComparison {
        area,
        comparison: compare(snapshot.indicators[indicator].direction, threshold, inputs),
        twins: reference.twins,
        departments_used: kept.used,
        departments_left_out: kept.left_out,
    }
}

/// Sorts items (stably) by an order; items without the number sorted on go last.
pub fn sort(snapshot: &Snapshot, items: &mut [AreaComparison], order: Order) {
    let directed = |o: Ordering| if order.descending { o.reverse() } else { o };
    let by_number = |f: fn(&Comparison) -> Option<f64>| {
        move |a: &AreaComparison, b: &AreaComparison| match (f(&a.comparison), f(&b.comparison)) {
            (Some(x), Some(y)) => directed(x.total_cmp(&y)),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    };
    let area = |i: &AreaComparison| &snapshot.areas[i.area];
    match order.key {
        SortKey::Difference => items.sort_by(by_number(|c| c.difference)),
        SortKey::RelativeDifference => items.sort_by(by_number(|c| c.relative_difference)),
        SortKey::AreaId => items.sort_by(|a, b| directed(area(a).area_id.cmp(&area(b).area_id))),
        SortKey::Name => items.sort_by(|a, b| directed(area(a).name.to_lowercase().cmp(&area(b).name.to_lowercase()))),
        SortKey::Municipality => items.sort_by(|a, b| directed(area(a).municipality.cmp(&area(b).municipality))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_are_spelt_as_the_query_spells_them() {
        assert_eq!("difference".parse(), Ok(Order::BY_DIFFERENCE));
        assert_eq!("-name".parse(), Ok(Order { key: SortKey::Name, descending: true }));
        assert_eq!("area".parse(), Ok(Order { key: SortKey::AreaId, descending: false }));
        for bad in ["size", "--name", "", "-"] {
            assert_eq!(bad.parse::<Order>(), Err(()), "{bad}");
        }
    }

    /// Sorted by a number, the items without it come last in either direction; by name,
    /// regardless of case; the summary is of every item whatever the order.
    #[test]
    fn sorts_with_missing_numbers_last() {
        use crate::domain::figures::Disclosure;
        use crate::store::StoredDataset;
        let extract = crate::demo::bundled_extract().unwrap();
        let s = Snapshot::build(StoredDataset::from_extract(&extract, 1, "x"), &Disclosure::default()).unwrap();
        let unit = Unit::areas_of(&s, None).unwrap();
        let request = |indicator, order| ComparisonRequest {
            indicator,
            from: 2015,
            to: 2023,
            reference: ReferenceChoice::default(),
            unit,
            threshold: 5.0,
            order,
        };
        // an indicator with areas compared and areas without figures (withheld or missing)
        let indicator = (0..s.indicators.len())
            .find(|&i| {
                let items = compare_areas(&s, &request(i, None));
                items.iter().any(|c| c.comparison.difference.is_none()) && items.iter().any(|c| c.comparison.difference.is_some())
            })
            .expect("the demo has an indicator with areas without figures");
        let request = |order| request(indicator, order);
        let unordered = compare_areas(&s, &request(None));
        for descending in [false, true] {
            let sorted = compare_areas(&s, &request(Some(Order { key: SortKey::Difference, descending })));
            assert_eq!(summary(&s, &request(None), &sorted), summary(&s, &request(None), &unordered));
            let d: Vec<Option<f64>> = sorted.iter().map(|i| i.comparison.difference).collect();
            let numbers = d.iter().take_while(|x| x.is_some()).count();
            assert!(d[numbers..].iter().all(Option::is_none), "no number after the first missing one");
            assert!(d[..numbers].windows(2).all(|w| if descending { w[0] >= w[1] } else { w[0] <= w[1] }), "{d:?}");
        }
        let by_name = compare_areas(&s, &request(Some(Order { key: SortKey::Name, descending: false })));
        let names: Vec<String> = by_name.iter().map(|i| s.areas[i.area].name.to_lowercase()).collect();
        assert!(names.windows(2).all(|w| w[0] <= w[1]));
    }
}
