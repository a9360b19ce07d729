//! The features of the OGC API's collections: the areas of a unit, or the municipalities with
//! an outline (their own, or the hull of their areas), found by id or filtered, and each
//! indicator's published value for one in a year.

use super::Unit;
use super::map::{Outline, municipality_outline};
use crate::domain::geometry::{BBox, bbox_intersects};
use crate::domain::model::{MunicipalityCode, Reference};
use crate::error::ApiError;
use crate::snapshot::{Point, Snapshot, figure_in};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Collection {
    Areas,
    Municipalities,
}

impl Collection {
    pub const ALL: [Collection; 2] = [Collection::Areas, Collection::Municipalities];

    /// A collection by its id; 404 naming the collections there are.
    pub fn parse(id: &str) -> Result<Collection, ApiError> {
        Collection::ALL
            .into_iter()
            .find(|c| c.id() == id)
            .ok_or_else(|| ApiError::NotFound(format!("no collection {id:?}; the collections are \"areas\" and \"municipalities\"")))
    }

    pub fn id(self) -> &'static str {
        match self {
            Collection::Areas => "areas",
            Collection::Municipalities => "municipalities",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Collection::Areas => "Helhedsplansområder",
            Collection::Municipalities => "Kommuner",
        }
    }
}

/// One feature of a collection.
pub enum Member<'s> {
    Area(usize),
    Municipality(MunicipalityCode, Outline<'s>),
}

impl Member<'_> {
    pub fn bbox(&self, snapshot: &Snapshot) -> Option<BBox> {
        match self {
            Member::Area(a) => snapshot.areas[*a].bbox,
            Member::Municipality(_, outline) => outline.geometry.as_ref().and_then(|g| g.bbox()),
        }
    }

    /// The feature's id: the area_id, or the municipality code in Danmarks Statistik's form.
    pub fn id(&self, snapshot: &Snapshot) -> String {
        match self {
            Member::Area(a) => snapshot.areas[*a].area_id.clone(),
            Member::Municipality(code, _) => code.to_string(),
        }
    }

    pub fn municipality(&self, snapshot: &Snapshot) -> MunicipalityCode {
        match self {
            Member::Area(a) => snapshot.areas[*a].municipality,
            Member::Municipality(code, _) => *code,
        }
    }

    /// Each indicator's published value in `year`, in the catalogue's order; none where it is
    /// withheld or missing. A municipality's are the municipality level's.
    pub fn values(&self, snapshot: &Snapshot, unit: Unit, year: u16) -> Vec<Option<f64>> {
        let series = |i: usize| -> &[Point] {
            match self {
                Member::Area(a) => unit.delimitation.series(*a, i),
                Member::Municipality(code, _) => snapshot.reference_series(Reference::Municipality, unit.delimitation, *code, i),
            }
        };
        (0..snapshot.indicators.len()).map(|i| figure_in(series(i), year).and_then(|p| p.figure.value())).collect()
    }
}

/// The features of a collection in a stable order: the unit's areas in its order, the
/// municipalities by code.
pub fn members<'s>(snapshot: &'s Snapshot, unit: Unit<'s>, collection: Collection) -> Vec<Member<'s>> {
    match collection {
        Collection::Areas => unit.areas().map(Member::Area).collect(),
        Collection::Municipalities => snapshot
            .municipalities
            .values()
            .filter_map(|m| municipality_outline(snapshot, unit.delimitation, m, 0.0).map(|o| Member::Municipality(m.code, o)))
            .collect(),
    }
}

/// The features of a collection that are of a municipality and reach into a box, when these
/// are given.
#[derive(Debug, Clone, Copy)]
pub struct FeaturesRequest<'s> {
    pub collection: Collection,
    pub unit: Unit<'s>,
    pub municipality: Option<MunicipalityCode>,
    pub within: Option<BBox>,
}

pub fn features<'s>(snapshot: &'s Snapshot, r: &FeaturesRequest<'s>) -> Vec<Member<'s>> {
    let mut matched = members(snapshot, r.unit, r.collection);
    matched.retain(|m| {
        r.municipality.is_none_or(|code| m.municipality(snapshot) == code)
            && r.within.is_none_or(|b| m.bbox(snapshot).is_some_and(|mb| bbox_intersects(&mb, &b)))
    });
    matched
}

/// A feature by its id (a municipality by either form of its code), if the collection has it.
pub fn feature<'s>(snapshot: &'s Snapshot, unit: Unit<'s>, collection: Collection, id: &str) -> Option<Member<'s>> {
    match collection {
        Collection::Areas => snapshot.area(id).filter(|(a, _)| unit.delimitation.contains(*a)).map(|(a, _)| Member::Area(a)),
        Collection::Municipalities => {
            let code = id.parse::<MunicipalityCode>().ok()?;
            let outline = municipality_outline(snapshot, unit.delimitation, snapshot.municipalities.get(&code)?, 0.0)?;
            Some(Member::Municipality(code, outline))
        }
    }
}
