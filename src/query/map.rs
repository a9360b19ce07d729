//! A map layer: the areas of a unit reaching into a box, with what the layer shows of each
//! (nothing more, an indicator's figure in a year, a comparison, or the legal criteria in a
//! year) and, for figures and comparisons, class breaks for a choropleth. The GeoJSON layer
//! and the vector tiles are two renderings of it.

use super::Unit;
use super::comparisons::{AreaComparison, ComparisonRequest, compare_areas};
use super::criteria::YearAndRules;
use crate::domain::classes::{Classification, Method};
use crate::domain::criteria::{Evaluation, RuleSet};
use std::borrow::Cow;

use crate::domain::geometry::{BBox, MultiPolygon, bbox_intersects, convex_hull};
use crate::domain::model::Reference;
use crate::snapshot::{Delimitation, Municipality, Point, Snapshot, figure_in};

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
            let points: Vec<Option<Point>> = areas.iter().map(|&a| figure_in(r.unit.series(a, indicator), year)).collect();
            let values = points.iter().map(|p| p.and_then(|p| p.figure.value())).collect();
            (Content::Values { indicator, year, points }, Some(("value", values)))
        }
        Mode::Comparison(request) => {
            // every area of the unit is compared (twins are found among them all), those in the box kept
            let mut by_area: std::collections::HashMap<usize, AreaComparison> =
                compare_areas(snapshot, &request).into_iter().map(|c| (c.area, c)).collect();
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

/// A municipality on a map: its areas in a delimitation and its outline.
pub struct Outline<'a> {
    pub areas: Vec<usize>,
    /// None when neither the extract nor the areas give one.
    pub geometry: Option<Cow<'a, MultiPolygon>>,
    /// `extract` (the municipality's own outline) or `hull_of_areas`.
    pub source: &'static str,
}

impl Outline<'_> {
    /// The outline as GeoJSON text with coordinates to `precision` decimals; `null` without one.
    pub fn geometry_text(&self, precision: usize) -> String {
        let mut s = String::new();
        match &self.geometry {
            Some(g) => g.write_geojson(&mut s, precision),
            None => s.push_str("null"),
        }
        s
    }
}

/// The municipality's own outline when the extract carries one, else the convex hull of its
/// areas' geometry; None for a municipality with neither areas in the delimitation nor an
/// outline, which no map shows.
pub fn municipality_outline<'a>(snapshot: &Snapshot, d: &Delimitation, m: &'a Municipality, simplify: f64) -> Option<Outline<'a>> {
    let areas: Vec<usize> = d.areas().filter(|&a| snapshot.areas[a].municipality == m.code).collect();
    let (geometry, source) = match &m.geometry {
        Some(_) if simplify > 0.0 => (m.simplified(simplify).map(Cow::Owned), "extract"),
        Some(own) => (Some(Cow::Borrowed(own)), "extract"),
        None if areas.is_empty() => return None,
        None => {
            let positions = areas.iter().filter_map(|&a| snapshot.areas[a].geometry.as_ref()).flat_map(|g| g.positions().copied());
            (convex_hull(positions).map(|ring| Cow::Owned(MultiPolygon(vec![vec![ring]]))), "hull_of_areas")
        }
    };
    Some(Outline { areas, geometry, source })
}

/// The municipalities on a map: those with areas in the unit, and those whose outline the
/// extract carries; with `values`, a reference level's figure of an indicator in a year.
#[derive(Debug, Clone, Copy)]
pub struct MunicipalityLayerRequest<'s> {
    pub unit: Unit<'s>,
    /// The municipality, its social-housing sector, or that sector without the unit's areas.
    pub level: Reference,
    /// An indicator and a year.
    pub values: Option<(usize, u16)>,
    /// A simplification tolerance in metres for the outlines.
    pub simplify: f64,
}

pub struct MunicipalityFeature<'s> {
    pub municipality: &'s Municipality,
    pub outline: Outline<'s>,
    /// With values: the level's point in the year, if it has one.
    pub figure: Option<Point>,
}

/// In the order of their codes.
pub fn municipality_layer<'s>(snapshot: &'s Snapshot, r: &MunicipalityLayerRequest<'s>) -> Vec<MunicipalityFeature<'s>> {
    snapshot
        .municipalities
        .values()
        .filter_map(|m| {
            let outline = municipality_outline(snapshot, r.unit.delimitation, m, r.simplify)?;
            let figure = r.values.and_then(|(i, year)| figure_in(snapshot.reference_series(r.level, r.unit.delimitation, m.code, i), year));
            Some(MunicipalityFeature { municipality: m, outline, figure })
        })
        .collect()
}
