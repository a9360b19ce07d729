//! Comparisons (comparisons.md): areas against a reference between two years.

use super::reference::{ReferenceChoice, Resolver};
use crate::domain::comparisons::{Comparison, ComparisonInputs, compare};
use crate::snapshot::{Delimitation, Snapshot, figure_in};

/// A valid comparison request.
#[derive(Debug, Clone)]
pub struct ComparisonRequest<'s> {
    pub indicator: usize,
    pub from: u16,
    pub to: u16,
    pub reference: ReferenceChoice,
    pub boundary_version: &'s str,
    pub delimitation: &'s Delimitation,
    pub threshold: f64,
}

/// One area's comparison, and for twins the twins it was made with.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaComparison {
    pub area: usize,
    pub comparison: Comparison,
    /// For twins: the twins' area indexes, nearest first.
    pub twins: Option<Vec<usize>>,
}

/// Every area of the request's delimitation, in the extract's order.
pub fn compare_areas(snapshot: &Snapshot, r: &ComparisonRequest) -> Vec<AreaComparison> {
    let resolver = Resolver::new(snapshot, r.delimitation, r.indicator, (r.from, r.to), &r.reference);
    r.delimitation.areas().map(|a| compare_with(snapshot, r.delimitation, &resolver, a, r.indicator, (r.from, r.to), r.threshold)).collect()
}

/// One area of a delimitation against a reference on one indicator.
pub fn compare_area(
    snapshot: &Snapshot,
    delimitation: &Delimitation,
    area: usize,
    indicator: usize,
    years: (u16, u16),
    reference: &ReferenceChoice,
    threshold: f64,
) -> AreaComparison {
    let resolver = Resolver::new(snapshot, delimitation, indicator, years, reference);
    compare_with(snapshot, delimitation, &resolver, area, indicator, years, threshold)
}

fn compare_with(
    snapshot: &Snapshot,
    delimitation: &Delimitation,
    resolver: &Resolver,
    area: usize,
    indicator: usize,
    (from, to): (u16, u16),
    threshold: f64,
) -> AreaComparison {
    let own = delimitation.series(area, indicator);
    let reference = resolver.resolve(area);
    let inputs = ComparisonInputs {
        area_from: figure_in(own, from).map(|p| p.figure),
        area_to: figure_in(own, to).map(|p| p.figure),
        reference_from: reference.from,
        reference_to: reference.to,
    };
    AreaComparison { area, comparison: compare(snapshot.indicators[indicator].direction, threshold, inputs), twins: reference.twins }
}
