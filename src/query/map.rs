//! A map layer: the areas of a unit reaching into a box, with what the layer shows of each
//! (nothing more, an indicator's figure in a year, a comparison, or the legal criteria in a
//! year) and, for figures and comparisons, class breaks for a choropleth. The GeoJSON layer
//! and the vector tiles are two renderings of it.

use super::Unit;
use super::comparisons::{AreaComparison, ComparisonRequest, compare_areas};
use super::criteria::YearAndRules;
use crate::domain::classes::{Classification, Method};
use crate::domain::criteria::{Evaluation, RuleSet};
use crate::domain::geometry::{BBox, bbox_intersects};
use crate::snapshot::{Point, Snapshot, figure_in};

/// What a layer shows.
#[derive(Debug, Clone)]
pub enum Mode<'s> {
    Areas,
    Values { indicator: usize, year: u16 },
    Comparison(ComparisonRequest<'s>),
    Criteria(YearAndRules),
}

#[derive(Debug, Clone)]
pub struct LayerRequest<'s> {
    pub unit: Unit<'s>,
    pub mode: Mode<'s>,
    /// Only the areas whose extent meets this box.
    pub within: Option<BBox>,
    /// The class breaks asked for: how many, and how.
    pub classes: usize,
    pub method: Method,
}

/// What the layer holds for its areas, one entry per area, in the areas' order.
pub enum Content<'s> {
    Areas,
    Values { indicator: usize, year: u16, points: Vec<Option<Point>> },
    Comparison { request: ComparisonRequest<'s>, items: Vec<AreaComparison> },
    Criteria { year: u16, rules: &'s RuleSet, evaluations: Vec<Option<&'s Evaluation>> },
}

/// The class breaks of the layer's figures (values, or a comparison's differences) and each
/// area's class; `None` for an area without the figure.
pub struct Classes {
    /// The property classified: `value` or `difference`.
    pub field: &'static str,
    pub method: Method,
    pub requested: usize,
    pub classification: Option<Classification>,
    pub of_area: Vec<Option<usize>>,
}

pub struct Layer<'s> {
    pub areas: Vec<usize>,
    pub content: Content<'s>,
    pub classes: Option<Classes>,
}

pub fn layer<'s>(snapshot: &'s Snapshot, r: LayerRequest<'s>) -> Layer<'s> {
    let areas: Vec<usize> =
        r.unit.areas().filter(|&a| r.within.is_none_or(|b| snapshot.areas[a].bbox.is_some_and(|ab| bbox_intersects(&ab, &b)))).collect();
    let (content, figures) = match r.mode {
        Mode::Areas => (Content::Areas, None),
        Mode::Criteria(at) => {
            let c = &snapshot.criteria;
            let evaluations = areas.iter().map(|&a| c.of(r.unit.boundary_version, at.rules, a).map(|e| &e[at.year])).collect();
            (Content::Criteria { year: c.years[at.year], rules: &c.rules[at.rules], evaluations }, None)
        }
        Mode::Values { indicator, year } => {
            let points: Vec<Option<Point>> = areas.iter().map(|&a| figure_in(r.unit.delimitation.series(a, indicator), year)).collect();
            let values = points.iter().map(|p| p.and_then(|p| p.figure.value())).collect();
            (Content::Values { indicator, year, points }, Some(("value", values)))
        }
        Mode::Comparison(request) => {
            // every area of the unit is compared (twins are found among them all), those in the box kept
            let mut by_area: std::collections::HashMap<usize, AreaComparison> =
                compare_areas(snapshot, &request).items.into_iter().map(|c| (c.area, c)).collect();
            let items: Vec<AreaComparison> = areas.iter().filter_map(|a| by_area.remove(a)).collect();
            let differences = items.iter().map(|c| c.comparison.difference).collect();
            (Content::Comparison { request, items }, Some(("difference", differences)))
        }
    };
    let classes = figures.map(|(field, figures): (&'static str, Vec<Option<f64>>)| {
        let values: Vec<f64> = figures.iter().flatten().copied().collect();
        let classification = Classification::new(&values, r.method, r.classes);
        let of_area = figures.iter().map(|v| v.zip(classification.as_ref()).map(|(v, c)| c.class_of(v))).collect();
        Classes { field, method: r.method, requested: r.classes, classification, of_area }
    });
    Layer { areas, content, classes }
}
