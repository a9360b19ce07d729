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
    /// The years from and to (both included); `None`: every year.
    pub years: Option<(u16, u16)>,
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
    /// Those its figures are made of, and those `covered_years` left out.
    pub departments_used: usize,
    pub departments_left_out: usize,
}

pub fn series<'s>(snapshot: &'s Snapshot, r: &SeriesRequest<'s>) -> AreaSeries<'s> {
    let municipality = snapshot.areas[r.area].municipality;
    let within = |points: &'s [Point]| match r.years {
        None => points,
        Some((from, to)) => {
            let (first, end) = (points.partition_point(|p| p.year < from), points.partition_point(|p| p.year <= to));
            &points[first..end.max(first)]
        }
    };
    let reference = |reference: Reference| within(snapshot.reference_series(reference, r.unit.delimitation, municipality, r.indicator));
    let kept = r.unit.restriction(r.area);
    AreaSeries {
        area: within(r.unit.series_of(r.area, r.indicator, kept.kept)),
        municipality: reference(Reference::Municipality),
        social_housing: reference(Reference::SocialHousing),
        social_housing_rest: reference(Reference::SocialHousingRest),
        country: reference(Reference::Country),
        department_count: r.unit.department_count(r.area),
        departments_used: kept.used,
        departments_left_out: kept.left_out,
    }
}
