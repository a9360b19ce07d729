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
use crate::snapshot::{Delimitation, Snapshot};

/// What a use case's figures are of: the areas of one delimitation (a version of the plan
/// areas' boundaries), in the extract's order.
#[derive(Debug, Clone, Copy)]
pub struct Unit<'s> {
    /// The delimitation's version, as answers name it.
    pub boundary_version: &'s str,
    pub delimitation: &'s Delimitation,
}

impl<'s> Unit<'s> {
    /// The areas of the delimitation `boundary` (default the dataset's); 400 naming the known
    /// ones when there is no such delimitation.
    pub fn areas_of(snapshot: &'s Snapshot, boundary: Option<&str>) -> Result<Unit<'s>, ApiError> {
        let (boundary_version, delimitation) = snapshot.delimitation(boundary).ok_or_else(|| {
            let known: Vec<&str> = snapshot.delimitations.keys().map(String::as_str).collect();
            ApiError::invalid("boundary", format!("unknown boundary version {:?}; known: {}", boundary.unwrap_or(""), known.join(", ")))
        })?;
        Ok(Unit { boundary_version, delimitation })
    }

    /// The areas of the dataset's own delimitation (none when the extract has no areas).
    pub fn of_dataset(snapshot: &'s Snapshot) -> Unit<'s> {
        let boundary_version = snapshot.dataset.boundary_version.as_str();
        let delimitation = snapshot.default_delimitation();
        Unit { boundary_version, delimitation }
    }

    /// The unit's areas, as indexes into the snapshot's areas.
    pub fn areas(&self) -> impl Iterator<Item = usize> + 's {
        self.delimitation.areas()
    }

    /// How many departments an area of the unit has.
    pub fn department_count(&self, area: usize) -> usize {
        self.delimitation.departments.get(area).map_or(0, Vec::len)
    }
}
