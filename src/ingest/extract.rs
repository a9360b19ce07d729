//! A validated extract: everything the store writes as one dataset version.

use crate::domain::geometry::MultiPolygon;
use crate::domain::model::{Direction, Kind, Level, MunicipalityCode};

#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub title: String,
    pub source: String,
    /// The default delimitation.
    pub boundary_version: String,
    /// Roles of the legal criteria mapped to this extract's indicator codes where they differ.
    pub criteria_indicators: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorRow {
    pub code: String,
    pub name_da: String,
    pub name_en: String,
    pub kind: Kind,
    pub direction: Direction,
    pub population_da: String,
    pub population_en: String,
    pub description_da: Option<String>,
    pub description_en: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MunicipalityRow {
    pub code: MunicipalityCode,
    pub name: String,
    pub region_code: Option<String>,
    /// The municipality's CVR number, for signed-in access (access.md).
    pub cvr: Option<String>,
}

/// A housing organisation (organisations.csv): what departments.csv's `organisation` names.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganisationRow {
    pub organisation_id: String,
    pub name: String,
    /// Eight digits, unique among organisations and municipalities.
    pub cvr: String,
}

/// A grant period of a boligsocial helhedsplan (plans.csv) and the departments it covered then
/// (plan_departments.csv): what the coverage of comparisons.md is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRow {
    pub plan_id: String,
    /// An index into the extract's areas.
    pub area: u32,
    pub name: String,
    pub from_year: u16,
    pub to_year: u16,
    /// Indexes into the extract's departments, ascending, at least one.
    pub departments: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DepartmentRow {
    pub department_id: String,
    pub name: String,
    pub municipality: MunicipalityCode,
    pub organisation: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AreaRow {
    pub area_id: String,
    pub name: String,
    pub municipality: MunicipalityCode,
}

/// A department in an area under one delimitation; indexes into the extract's lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub boundary_version: String,
    pub area: u32,
    pub department: u32,
}

/// One observation row, kept compact: an extract of the whole sector has millions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    pub numerator: f64,
    pub denominator: f64,
    /// A department index, a municipality code, a region code, or 0 for the country.
    pub unit: u32,
    /// The line in observations.csv, for reporting duplicates.
    pub line: u32,
    /// An index into the extract's indicators.
    pub indicator: u16,
    pub year: u16,
    pub level: Level,
}

impl Observation {
    /// (level, unit, indicator, year) packed so that sorting groups a unit's rows together.
    pub fn key(&self) -> u64 {
        // (three bits of level, 31 of unit, 16 of indicator, 12 of year)
        ((self.level as u64) << 59) | ((self.unit as u64) << 28) | ((self.indicator as u64) << 12) | self.year as u64
    }

    /// The municipality of a `municipality` or `social_housing` row.
    pub fn municipality(&self) -> Option<MunicipalityCode> {
        match self.level {
            Level::Municipality | Level::SocialHousing => MunicipalityCode::new(self.unit as u16),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AreaGeometry {
    /// An index into the extract's areas.
    pub area: u32,
    pub geometry: MultiPolygon,
}

/// A municipality's outline, joined from all its Features.
#[derive(Debug, Clone, PartialEq)]
pub struct MunicipalityGeometry {
    pub municipality: MunicipalityCode,
    pub geometry: MultiPolygon,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Extract {
    pub manifest: Manifest,
    pub indicators: Vec<IndicatorRow>,
    pub municipalities: Vec<MunicipalityRow>,
    pub departments: Vec<DepartmentRow>,
    pub areas: Vec<AreaRow>,
    pub memberships: Vec<Membership>,
    /// Sorted by [`Observation::key`].
    pub observations: Vec<Observation>,
    pub geometries: Vec<AreaGeometry>,
    /// Ascending by municipality code.
    pub municipality_geometries: Vec<MunicipalityGeometry>,
    /// The housing organisations, when the extract names them (organisations.csv).
    pub organisations: Vec<OrganisationRow>,
    /// The plans and the departments each covered, when the extract has them (plans.csv and
    /// plan_departments.csv); by plan_id.
    pub plans: Vec<PlanRow>,
    /// SHA-256 over the extract's files, hex.
    pub content_hash: String,
}

impl Extract {
    /// The text form of an observation's unit, as in observations.csv.
    pub fn unit_label(&self, o: &Observation) -> String {
        match o.level {
            Level::Department => self.departments[o.unit as usize].department_id.clone(),
            Level::Municipality | Level::SocialHousing | Level::Region => o.unit.to_string(),
            Level::Country => "DK".to_string(),
        }
    }
}
