//! The use cases, between the HTTP handlers (`api`) and the served data (`snapshot`):
//! typed requests in, typed results out. A reference is resolved here to the figures it
//! stands for, whether delivered (the municipality, its social-housing sector, the country)
//! or derived (the sector without the plan areas, twin areas); writing and activating
//! dataset versions goes through here to the store.
//!
//! Every request names its [`Unit`]: what its figures are of. A use case iterates the unit,
//! never a delimitation it finds itself, so that a new unit (a caller's departments) or a
//! restriction of it is a field of the request, not a copy of the use case.

pub mod audit;
pub mod comparisons;
pub mod criteria;
pub mod datapackage;
pub mod datasets;
pub mod features;
pub mod map;
pub mod me;
pub mod reference;
pub mod series;

use crate::error::ApiError;
use crate::snapshot::{Coverage, Delimitation, Kept, Point, Restriction, Snapshot};

/// What a use case's figures are of: the areas of one delimitation (a version of the plan
/// areas' boundaries), in the extract's order, each made of all its departments or of those
/// the plans covered long enough ([`Unit::covered`]).
#[derive(Debug, Clone, Copy)]
pub struct Unit<'s> {
    /// The delimitation's version, as answers name it.
    pub boundary_version: &'s str,
    pub delimitation: &'s Delimitation,
    /// `covered_years` (comparisons.md, "Coverage"), when N > 0.
    pub covered: Option<(&'s Coverage, CoveredYears)>,
}

/// `covered_years=n` over the years from `from` to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoveredYears {
    pub from: u16,
    pub to: u16,
    pub n: u16,
}

impl<'s> Unit<'s> {
    /// The areas of the delimitation `boundary` (default the dataset's); 400 naming the known
    /// ones when there is no such delimitation.
    pub fn areas_of(snapshot: &'s Snapshot, boundary: Option<&str>) -> Result<Unit<'s>, ApiError> {
        let (boundary_version, delimitation) = snapshot.delimitation(boundary).ok_or_else(|| {
            let known: Vec<&str> = snapshot.delimitations.keys().map(String::as_str).collect();
            ApiError::invalid("boundary", format!("unknown boundary version {:?}; known: {}", boundary.unwrap_or(""), known.join(", ")))
        })?;
        Ok(Unit { boundary_version, delimitation, covered: None })
    }

    /// The unit's areas made of the departments covered in at least `n` of the years `from`
    /// to `to` (n = 0: the unit as it is). 400 when the extract has no plans, when the unit is
    /// not the dataset's own delimitation (plans are drawn on it), or when n exceeds the span.
    pub fn covered(self, snapshot: &'s Snapshot, from: u16, to: u16, n: u16) -> Result<Unit<'s>, ApiError> {
        if n == 0 {
            return Ok(self);
        }
        if !snapshot.coverage.has_plans() {
            return Err(ApiError::invalid(
                "covered_years",
                "this dataset version has no plans (plans.csv), so it cannot say which departments were covered; use covered_years=0",
            ));
        }
        if self.boundary_version != snapshot.dataset.boundary_version {
            return Err(ApiError::invalid(
                "covered_years",
                format!(
                    "plans are drawn on the dataset's own delimitation ({}), not on {}",
                    snapshot.dataset.boundary_version, self.boundary_version
                ),
            ));
        }
        let span = u32::from(to) + 1 - u32::from(from.min(to));
        if u32::from(n) > span {
            return Err(ApiError::invalid("covered_years", format!("{n} is more than the {span} years from {from} to {to}")));
        }
        Ok(Unit { covered: Some((&snapshot.coverage, CoveredYears { from, to, n })), ..self })
    }

    /// The areas of the dataset's own delimitation (none when the extract has no areas).
    pub fn of_dataset(snapshot: &'s Snapshot) -> Unit<'s> {
        let boundary_version = snapshot.dataset.boundary_version.as_str();
        let delimitation = snapshot.default_delimitation();
        Unit { boundary_version, delimitation, covered: None }
    }

    /// The unit's areas, as indexes into the snapshot's areas.
    pub fn areas(&self) -> impl Iterator<Item = usize> + 's {
        self.delimitation.areas()
    }

    /// How many departments an area of the unit has.
    pub fn department_count(&self, area: usize) -> usize {
        self.delimitation.departments.get(area).map_or(0, Vec::len)
    }

    /// The `covered_years` the unit is restricted by (0: none).
    pub fn covered_years(&self) -> u16 {
        self.covered.map_or(0, |(_, c)| c.n)
    }

    /// What the unit keeps of an area: all of it, unless restricted by coverage.
    pub fn restriction(&self, area: usize) -> Restriction {
        match self.covered {
            None => Restriction { kept: Kept::All, used: self.department_count(area), left_out: 0 },
            Some((coverage, c)) => coverage.restrict(area, c.from, c.to, c.n),
        }
    }

    /// An area's published points of an indicator as the unit makes the area.
    pub fn series(&self, area: usize, indicator: usize) -> &'s [Point] {
        match self.covered {
            None => self.delimitation.series(area, indicator),
            Some(_) => self.series_of(area, indicator, self.restriction(area).kept),
        }
    }

    /// The same, with what the unit keeps of the area already known ([`Unit::restriction`]).
    pub fn series_of(&self, area: usize, indicator: usize, kept: Kept) -> &'s [Point] {
        match (kept, self.covered) {
            (Kept::Set(set), Some((coverage, _))) => coverage.series(set, indicator),
            (Kept::Nothing, _) => &[],
            _ => self.delimitation.series(area, indicator),
        }
    }
}
