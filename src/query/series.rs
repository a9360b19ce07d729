//! An area's figures year by year, beside its references'.

use super::Unit;
use crate::domain::model::Reference;
use crate::snapshot::{Point, Snapshot};

/// One indicator's series for one area of a unit.
#[derive(Debug, Clone, Copy)]
pub struct SeriesRequest<'s> {
    pub area: usize,
    pub indicator: usize,
    pub unit: Unit<'s>,
}

/// The area's points and those of the references it is seen against, years ascending.
#[derive(Debug, Clone, Copy)]
pub struct AreaSeries<'s> {
    pub area: &'s [Point],
    pub municipality: &'s [Point],
    pub social_housing: &'s [Point],
    /// The social-housing sector in the municipality without the unit's areas.
    pub social_housing_rest: &'s [Point],
    pub country: &'s [Point],
    /// The area's departments in the unit.
    pub department_count: usize,
}

pub fn series<'s>(snapshot: &'s Snapshot, r: &SeriesRequest<'s>) -> AreaSeries<'s> {
    let municipality = snapshot.areas[r.area].municipality;
    let reference = |reference: Reference| snapshot.reference_series(reference, r.unit.delimitation, municipality, r.indicator);
    AreaSeries {
        area: r.unit.delimitation.series(r.area, r.indicator),
        municipality: reference(Reference::Municipality),
        social_housing: reference(Reference::SocialHousing),
        social_housing_rest: reference(Reference::SocialHousingRest),
        country: reference(Reference::Country),
        department_count: r.unit.department_count(r.area),
    }
}
