//! The served dataset version in memory: built once per version from the store, immutable,
//! and replaced whole (atomically) when another version becomes active. It holds figures
//! only after disclosure control, so nothing the request path reads can leak a suppressed one.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use arc_swap::ArcSwapOption;

mod coverage;
pub use coverage::{Coverage, CoveredSet, Kept, Restriction};

use crate::domain::coverage::Period;
use crate::domain::criteria::{Evaluation, RuleSet};
use crate::domain::differencing::{self, FigureLayout};
use crate::domain::figures::{AreaSum, Counts, Disclosure, Figure, rest_of};
use crate::domain::geometry::{BBox, MultiPolygon, Simplification, union_bbox};
use crate::domain::model::{Direction, Kind, Level, MunicipalityCode, Reference};
pub use crate::store::read::DatasetRecord;
use crate::store::{StoreError, StoredDataset};

#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    pub code: String,
    pub name_da: String,
    pub name_en: String,
    pub kind: Kind,
    pub direction: Direction,
    pub population_da: String,
    pub population_en: String,
    pub description_da: Option<String>,
    pub description_en: Option<String>,
    /// Years with any observation at any level, ascending.
    pub years: Vec<u16>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Municipality {
    pub code: MunicipalityCode,
    pub name: String,
    pub region_code: Option<String>,
    /// Its CVR number: a caller with it sees every department in the municipality.
    pub cvr: Option<String>,
    /// Its outline, when the extract carried one.
    pub geometry: Option<MultiPolygon>,
    /// For simplifying the outline, made on first use.
    pub simplification: OnceLock<Simplification>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    pub area_id: String,
    pub name: String,
    pub municipality: MunicipalityCode,
    pub geometry: Option<MultiPolygon>,
    pub bbox: Option<BBox>,
    /// The geometry as GeoJSON at the default precision, written once per version.
    pub geometry_json: Option<String>,
    /// For simplifying the geometry at any tolerance, made on first use.
    pub simplification: OnceLock<Simplification>,
}

impl Area {
    /// The geometry simplified with a tolerance in metres; `None` without geometry.
    pub fn simplified(&self, tolerance_m: f64) -> Option<MultiPolygon> {
        let g = self.geometry.as_ref()?;
        Some(g.simplified_by(self.simplification.get_or_init(|| g.simplification()), tolerance_m))
    }
}

impl Municipality {
    /// Its region's code, as municipalities.csv gives it.
    pub fn region(&self) -> Option<u16> {
        self.region_code.as_deref()?.trim().parse().ok()
    }

    /// The outline simplified with a tolerance in metres; `None` without one.
    pub fn simplified(&self, tolerance_m: f64) -> Option<MultiPolygon> {
        let g = self.geometry.as_ref()?;
        Some(g.simplified_by(self.simplification.get_or_init(|| g.simplification()), tolerance_m))
    }
}

/// Seven decimals of a degree: about a centimetre.
pub const DEFAULT_PRECISION: usize = 7;

#[derive(Debug, Clone, PartialEq)]
pub struct Department {
    pub department_id: String,
    pub name: String,
    pub organisation: Option<String>,
    /// Where the department lies.
    pub municipality: MunicipalityCode,
}

/// Whose figure it is, while a snapshot is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Area {
        delimitation: usize,
        area: usize,
    },
    /// `unit` is the municipality code, 0 for the country.
    Reference {
        level: Level,
        unit: u16,
    },
    /// The social-housing sector of municipality `unit` without the delimitation's areas.
    Rest {
        delimitation: usize,
        unit: u16,
    },
    /// A set of an area's departments that `covered_years` keeps ([`Coverage`]).
    Covered {
        set: usize,
    },
}

/// The owners of figures numbered in their order (areas by delimitation and area, then the
/// reference levels' units, then the derived rest figures, then the coverage sets), which is
/// also the order ties are settled in.
struct Numbering {
    owners: Vec<Owner>,
    /// The first coverage set's number.
    covered: usize,
    /// delimitation → area → number; usize::MAX for an area outside the delimitation
    areas: Vec<Vec<usize>>,
    references: HashMap<(Level, u16), usize>,
    rests: HashMap<(usize, u16), usize>,
}

impl Numbering {
    fn new(
        delimitations: &BTreeMap<String, Delimitation>,
        area_count: usize,
        references: impl Iterator<Item = (Level, u16)>,
        covered_sets: usize,
    ) -> Self {
        let mut owners = Vec::new();
        let mut areas = vec![vec![usize::MAX; area_count]; delimitations.len()];
        for (delimitation, d) in delimitations.values().enumerate() {
            for area in d.areas() {
                areas[delimitation][area] = owners.len();
                owners.push(Owner::Area { delimitation, area });
            }
        }
        let references: BTreeSet<(Level, u16)> = references.collect();
        let references = references
            .into_iter()
            .map(|(level, unit)| {
                owners.push(Owner::Reference { level, unit });
                ((level, unit), owners.len() - 1)
            })
            .collect::<HashMap<_, _>>();
        // a rest figure for every delimitation and every municipality with a sector figure
        let mut rests = HashMap::new();
        let mut sectors: Vec<u16> = references.keys().filter(|k| k.0 == Level::SocialHousing).map(|k| k.1).collect();
        sectors.sort_unstable();
        for delimitation in 0..delimitations.len() {
            for &unit in &sectors {
                owners.push(Owner::Rest { delimitation, unit });
                rests.insert((delimitation, unit), owners.len() - 1);
            }
        }
        let covered = owners.len();
        owners.extend((0..covered_sets).map(|set| Owner::Covered { set }));
        Numbering { owners, covered, areas, references, rests }
    }

    fn number(&self, owner: Owner) -> Option<usize> {
        match owner {
            Owner::Area { delimitation, area } => self.areas.get(delimitation)?.get(area).copied().filter(|&n| n != usize::MAX),
            Owner::Reference { level, unit } => self.references.get(&(level, unit)).copied(),
            Owner::Rest { delimitation, unit } => self.rests.get(&(delimitation, unit)).copied(),
            Owner::Covered { set } => Some(self.covered + set).filter(|&n| n < self.owners.len()),
        }
    }
}

/// A figure before disclosure control, while a snapshot is built.
struct RawFigure {
    /// The owner's number.
    owner: usize,
    counts: Counts,
    /// For an area: its departments with an observation; 0 for a reference level.
    departments_with_data: u32,
}

/// The dataset's figures as the containment rule (domain::differencing) sees them.
/// Also the groups whose rest figures are guarded besides.
/// The coverage sets of one place among their areas' sets come after the delimitations, each
/// place as one more delimitation (its sets are disjoint, as their areas are).
fn containments(
    delimitations: &BTreeMap<String, Delimitation>,
    numbering: &Numbering,
    region_of: &dyn Fn(u16) -> Option<u16>,
    coverage: (&Coverage, Option<&Delimitation>),
) -> Result<(Vec<differencing::Containment<usize>>, Vec<differencing::RestGroup>), StoreError> {
    let mut areas = Vec::with_capacity(delimitations.len());
    for (i, d) in delimitations.values().enumerate() {
        let mut placed = Vec::new();
        for a in d.areas() {
            let owner = Owner::Area { delimitation: i, area: a };
            let number = numbering.number(owner).ok_or_else(|| corrupt(format!("{owner:?} has no number")))?;
            placed.push((number, d.departments[a].iter().map(|x| (x.department_id.as_str(), x.municipality.get())).collect()));
        }
        areas.push(placed);
    }
    if let (coverage, Some(d)) = coverage {
        for (number, set) in coverage.sets().iter().enumerate() {
            while areas.len() <= delimitations.len() + set.place {
                areas.push(Vec::new());
            }
            let owner = Owner::Covered { set: number };
            let number = numbering.number(owner).ok_or_else(|| corrupt(format!("{owner:?} has no number")))?;
            let members = set.members.iter().map(|&p| &d.departments[set.area][p as usize]);
            areas[delimitations.len() + set.place]
                .push((number, members.map(|x| (x.department_id.as_str(), x.municipality.get())).collect()));
        }
    }
    let level = |level: Level, unit: u16| numbering.number(Owner::Reference { level, unit });
    let rest = |delimitation: usize, unit: u16| numbering.number(Owner::Rest { delimitation, unit });
    let country = numbering.number(Owner::Reference { level: Level::Country, unit: 0 });
    let region = |municipality: u16| numbering.number(Owner::Reference { level: Level::Region, unit: region_of(municipality)? });
    let layout = FigureLayout { areas, level: &level, rest: &rest, country, region: &region };
    Ok((differencing::figure_containments(&layout), differencing::rest_groups(&layout)))
}

/// A published figure for one year; `coverage` only for area figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub year: u16,
    pub figure: Figure,
    pub coverage: Option<f64>,
}

/// One delimitation: which departments make up each area, and the areas' figures.
#[derive(Debug, Clone, Default)]
pub struct Delimitation {
    /// Per area index; empty when the area is not part of this delimitation.
    pub departments: Vec<Vec<Department>>,
    /// (area index, indicator index) → points, years ascending.
    series: HashMap<(usize, usize), Vec<Point>>,
    /// (municipality code, indicator index) → the social-housing sector's points without
    /// this delimitation's areas, years ascending.
    rest: HashMap<(u16, usize), Vec<Point>>,
}

impl Delimitation {
    /// A delimitation of none of `areas` areas (yet).
    fn empty(areas: usize) -> Delimitation {
        Delimitation { departments: vec![Vec::new(); areas], series: HashMap::new(), rest: HashMap::new() }
    }

    pub fn contains(&self, area: usize) -> bool {
        !self.departments[area].is_empty()
    }

    /// Indexes of the areas in this delimitation, in the extract's order.
    pub fn areas(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.departments.len()).filter(|&a| self.contains(a))
    }

    pub fn series(&self, area: usize, indicator: usize) -> &[Point] {
        self.series.get(&(area, indicator)).map_or(&[], Vec::as_slice)
    }

    /// The social-housing sector of a municipality without this delimitation's areas.
    pub fn rest_series(&self, municipality: MunicipalityCode, indicator: usize) -> &[Point] {
        self.rest.get(&(municipality.get(), indicator)).map_or(&[], Vec::as_slice)
    }

    /// Every series of the sector without the areas: (municipality code, indicator index,
    /// points), in that order.
    pub fn rest_figures(&self) -> Vec<(u16, usize, &[Point])> {
        let mut all: Vec<_> = self.rest.iter().map(|(&(m, i), p)| (m, i, p.as_slice())).collect();
        all.sort_unstable_by_key(|&(m, i, _)| (m, i));
        all
    }
}

#[derive(Debug)]
pub struct Snapshot {
    /// The version's stored record, as loaded.
    pub dataset: DatasetRecord,
    pub indicators: Vec<Indicator>,
    indicator_index: HashMap<String, usize>,
    pub municipalities: BTreeMap<MunicipalityCode, Municipality>,
    pub areas: Vec<Area>,
    area_index: HashMap<String, usize>,
    pub delimitations: BTreeMap<String, Delimitation>,
    /// Stands in for the default delimitation when it has no areas (an extract stored before
    /// empty ones were refused), so that every request has one to read.
    no_areas: Delimitation,
    /// (level, municipality code or 0, indicator index) → points, years ascending.
    references: HashMap<(Level, u16, usize), Vec<Point>>,
    pub built_at: SystemTime,
    /// Figures the rules pass but secondary suppression withholds (see domain::differencing).
    pub withheld_figures: usize,
    /// Figures of the sector without the plan areas withheld by secondary suppression.
    pub rest_withheld: usize,
    /// The legal criteria, evaluated once per version ([`Snapshot::with_criteria`]).
    pub criteria: Criteria,
    /// Cells (delimitation, municipality, indicator, year) where the sector's figure does not
    /// hold its areas, so that the sector without them is missing.
    pub rest_missing: usize,
    /// Who may see which departments (access.md).
    pub access: Access,
    /// The plans' grant periods and the departments they covered (comparisons.md, "Coverage").
    pub plans: Plans,
    /// The dataset's delimitation's areas restricted to the departments plans covered.
    pub coverage: Coverage,
    /// Coverage-restricted figures withheld by secondary suppression.
    pub covered_withheld: usize,
}

/// A plan's grant period (plans.csv) and the departments it covered then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub plan_id: String,
    /// An index into the snapshot's areas.
    pub area: usize,
    pub name: String,
    pub period: Period,
    /// Indexes into [`Access::departments`], ascending.
    pub departments: Vec<usize>,
}

/// The plans, by id, and each department's periods, by its index in [`Access::departments`].
#[derive(Debug, Clone, Default)]
pub struct Plans {
    pub plans: Vec<Plan>,
    periods: Vec<Vec<Period>>,
}

impl Plans {
    fn new(
        plans: Vec<crate::store::read::PlanRecord>,
        covered: Vec<crate::store::read::PlanDepartmentRecord>,
        area_index: &HashMap<String, usize>,
        access: &Access,
    ) -> Result<Plans, StoreError> {
        let corrupt = |what: String| StoreError::Corrupt(what);
        let year = |y: i32| u16::try_from(y).map_err(|_| corrupt(format!("a plan's year {y}")));
        let mut out: Vec<Plan> = plans
            .into_iter()
            .map(|p| {
                Ok(Plan {
                    area: *area_index.get(&p.area_id).ok_or_else(|| corrupt(format!("plan {} names no area", p.plan_id)))?,
                    period: Period { from: year(p.from_year)?, to: year(p.to_year)? },
                    plan_id: p.plan_id,
                    name: p.name,
                    departments: Vec::new(),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        let mut periods = vec![Vec::new(); access.departments.len()];
        for c in covered {
            let plan =
                out.binary_search_by(|p| p.plan_id.as_str().cmp(&c.plan_id)).map_err(|_| corrupt(format!("no plan {}", c.plan_id)))?;
            let d = access.department(&c.department_id).ok_or_else(|| corrupt(format!("plan {} names no department", c.plan_id)))?;
            out[plan].departments.push(d);
            periods[d].push(out[plan].period);
        }
        for p in &mut out {
            p.departments.sort_unstable();
        }
        Ok(Plans { plans: out, periods })
    }

    /// The periods in which plans covered a department (by its index), in no order.
    pub fn periods(&self, department: usize) -> &[Period] {
        self.periods.get(department).map_or(&[], Vec::as_slice)
    }
}

/// A housing organisation (organisations.csv).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub organisation_id: String,
    pub name: String,
    pub cvr: String,
}

/// A department, in an area or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentEntry {
    pub department_id: String,
    pub name: String,
    pub municipality: MunicipalityCode,
    pub organisation: Option<String>,
}

/// Whose departments a CVR number opens (access.md): an organisation's own, or every one in
/// a municipality, whichever organisation owns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Grant {
    /// An index into [`Access::organisations`].
    Organisation(usize),
    Municipality(MunicipalityCode),
}

/// The organisations, every department, and the grant of each CVR number, read from the
/// served version.
#[derive(Debug, Clone, Default)]
pub struct Access {
    pub organisations: Vec<Organisation>,
    /// By department id.
    pub departments: Vec<DepartmentEntry>,
    grants: HashMap<String, Grant>,
}

impl Access {
    fn new(
        organisations: Vec<crate::store::read::OrganisationRecord>,
        departments: Vec<crate::store::read::DepartmentRecord>,
        municipalities: &BTreeMap<MunicipalityCode, Municipality>,
    ) -> Result<Access, StoreError> {
        let organisations: Vec<Organisation> =
            organisations.into_iter().map(|o| Organisation { organisation_id: o.organisation_id, name: o.name, cvr: o.cvr }).collect();
        let mut departments: Vec<DepartmentEntry> = departments
            .into_iter()
            .map(|d| {
                Ok(DepartmentEntry {
                    municipality: municipality_code(d.municipality_code)?,
                    department_id: d.department_id,
                    name: d.name,
                    organisation: d.organisation,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        // (in Rust's order, whatever the database's collation: looked up by binary search)
        departments.sort_unstable_by(|a, b| a.department_id.cmp(&b.department_id));
        let mut grants: HashMap<String, Grant> =
            organisations.iter().enumerate().map(|(i, o)| (o.cvr.clone(), Grant::Organisation(i))).collect();
        for m in municipalities.values() {
            if let Some(cvr) = &m.cvr {
                grants.insert(cvr.clone(), Grant::Municipality(m.code));
            }
        }
        Ok(Access { organisations, departments, grants })
    }

    /// What a CVR number opens; none for a number that is neither an organisation's nor a
    /// municipality's.
    pub fn grant(&self, cvr: &str) -> Option<Grant> {
        self.grants.get(cvr).copied()
    }

    /// A department's index in [`Access::departments`].
    pub fn department(&self, department_id: &str) -> Option<usize> {
        self.departments.binary_search_by(|d| d.department_id.as_str().cmp(department_id)).ok()
    }

    /// The departments a grant opens, by id.
    pub fn departments_of(&self, grant: Grant) -> impl Iterator<Item = &DepartmentEntry> + '_ {
        self.departments.iter().filter(move |d| match grant {
            Grant::Organisation(i) => d.organisation.as_deref() == Some(self.organisations[i].organisation_id.as_str()),
            Grant::Municipality(code) => d.municipality == code,
        })
    }
}

impl Snapshot {
    pub fn indicator(&self, code: &str) -> Option<(usize, &Indicator)> {
        self.indicator_index.get(code).map(|&i| (i, &self.indicators[i]))
    }

    pub fn area(&self, area_id: &str) -> Option<(usize, &Area)> {
        self.area_index.get(area_id).map(|&i| (i, &self.areas[i]))
    }

    /// A delimitation by name, the dataset's default when none is named.
    pub fn delimitation(&self, boundary_version: Option<&str>) -> Option<(&str, &Delimitation)> {
        let key = boundary_version.unwrap_or(&self.dataset.boundary_version);
        match self.delimitations.get_key_value(key) {
            Some((k, d)) => Some((k.as_str(), d)),
            None if key == self.dataset.boundary_version => Some((self.dataset.boundary_version.as_str(), &self.no_areas)),
            None => None,
        }
    }

    /// The dataset's default delimitation (with no areas, when it has none).
    pub fn default_delimitation(&self) -> &Delimitation {
        self.delimitation(None).map_or(&self.no_areas, |(_, d)| d)
    }

    /// A reference's points for a municipality (or the country), under a delimitation (for
    /// the sector without its areas); none for twins, which are no one municipality's.
    pub fn reference_series<'a>(
        &'a self,
        reference: Reference,
        delimitation: &'a Delimitation,
        municipality: MunicipalityCode,
        indicator: usize,
    ) -> &'a [Point] {
        if reference == Reference::SocialHousingRest {
            return delimitation.rest_series(municipality, indicator);
        }
        let Some(level) = reference.level() else {
            return &[];
        };
        let unit = if level == Level::Country { 0 } else { municipality.get() };
        self.references.get(&(level, unit, indicator)).map_or(&[], Vec::as_slice)
    }

    /// A delivered reference level's points: `unit` is the municipality's or region's code, 0
    /// for the country.
    pub fn level_series(&self, level: Level, unit: u16, indicator: usize) -> &[Point] {
        self.references.get(&(level, unit, indicator)).map_or(&[], Vec::as_slice)
    }

    /// Every delivered reference series: (level, municipality or region code or 0 for the
    /// country, indicator index, points), in that order.
    pub fn reference_figures(&self) -> Vec<(Level, u16, usize, &[Point])> {
        let mut all: Vec<_> = self.references.iter().map(|(&(l, u, i), p)| (l, u, i, p.as_slice())).collect();
        all.sort_unstable_by_key(|&(l, u, i, _)| (l.as_str(), u, i));
        all
    }

    /// Builds a snapshot from a stored version, applying disclosure control to every figure.
    pub fn build(stored: StoredDataset, disclosure: &Disclosure) -> Result<Snapshot, StoreError> {
        let dataset = stored.dataset;
        let mut indicators = read_indicators(stored.indicators)?;
        let indicator_index: HashMap<String, usize> = indicators.iter().enumerate().map(|(i, x)| (x.code.clone(), i)).collect();
        let municipalities = read_municipalities(stored.municipalities, stored.municipality_geometries)?;
        let access = Access::new(stored.organisations, stored.departments, &municipalities)?;
        let areas = read_areas(stored.areas, stored.geometries)?;
        let area_index: HashMap<String, usize> = areas.iter().enumerate().map(|(i, a)| (a.area_id.clone(), i)).collect();
        // (the store reads plans by plan_id: looked up by binary search)
        let plans = Plans::new(stored.plans, stored.plan_departments, &area_index, &access)?;
        let mut delimitations = read_delimitations(stored.memberships, &area_index)?;
        let references = read_references(stored.references, stored.regions)?;
        let default_delimitation = delimitations.keys().position(|k| *k == dataset.boundary_version);
        let data_years = stored
            .area_sums
            .iter()
            .map(|s| s.year)
            .fold(None, |span: Option<(i64, i64)>, y| Some(span.map_or((y, y), |(first, last)| (first.min(y), last.max(y)))));
        let data_years = data_years.and_then(|(first, last)| Some((u16::try_from(first).ok()?, u16::try_from(last).ok()?)));
        let own = delimitations.get(&dataset.boundary_version);
        let mut coverage = own.map_or_else(Coverage::default, |d| Coverage::enumerate(d, &plans, &access, data_years));
        let numbering = Numbering::new(&delimitations, areas.len(), references.iter().map(|(key, _)| *key), coverage.sets().len());
        let mut raw =
            RawFigures::gather(&indicators, &indicator_index, &area_index, &delimitations, &numbering, stored.area_sums, references)?;
        if let Some(d) = own {
            for (set, indicator, year, sum) in coverage.sums(d, &stored.covered_observations, &indicator_index)? {
                let owner = numbering.covered + set;
                let g = RawFigures::group(indicator, year.into())?;
                raw.figures[g].push(RawFigure { owner, counts: sum.counts, departments_with_data: sum.departments_with_data });
            }
        }
        let region_of = |m: u16| MunicipalityCode::new(m).and_then(|c| municipalities.get(&c)).and_then(Municipality::region);
        let (containments, rest_groups) = containments(&delimitations, &numbering, &region_of, (&coverage, own))?;
        let members = differencing::MemberSets::new(rest_groups);
        let guard = Guard { disclosure, containments: &containments, members: &members, numbering: &numbering };
        let published = guard.publish(&indicators, raw.figures, default_delimitation, &mut delimitations, &mut coverage);
        if published.withheld > 0 {
            tracing::info!(
                figures = published.withheld,
                "figures withheld because a difference of published figures would reveal a suppressed one"
            );
        }
        if raw.rest_missing > 0 {
            tracing::warn!(
                cells = raw.rest_missing,
                "the social-housing sector's figure does not hold its areas: the sector without them is missing there"
            );
        }
        for (indicator, mut years) in indicators.iter_mut().zip(raw.years_seen) {
            years.sort_unstable();
            years.dedup();
            indicator.years = years;
        }
        let no_areas = Delimitation::empty(areas.len());
        Ok(Snapshot {
            dataset,
            indicators,
            indicator_index,
            municipalities,
            areas,
            area_index,
            delimitations,
            no_areas,
            references: published.references,
            built_at: SystemTime::now(),
            withheld_figures: published.withheld,
            rest_withheld: published.rest_withheld,
            covered_withheld: published.covered_withheld,
            criteria: Criteria::default(),
            rest_missing: raw.rest_missing,
            access,
            plans,
            coverage,
        })
    }

    /// The bounding box of a set of areas.
    pub fn bbox_of(&self, areas: impl IntoIterator<Item = usize>) -> Option<BBox> {
        areas.into_iter().fold(None, |b, a| union_bbox(b, self.areas[a].bbox))
    }
}

fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt(what)
}

fn municipality_code(code: i32) -> Result<MunicipalityCode, StoreError> {
    MunicipalityCode::new(code as u16).ok_or_else(|| corrupt(format!("municipality code {code}")))
}

fn parse_geometry(of: &dyn std::fmt::Display, text: &str) -> Result<MultiPolygon, StoreError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| corrupt(format!("geometry of {of}: {e}")))?;
    MultiPolygon::from_geojson(&value).ok_or_else(|| corrupt(format!("geometry of {of}")))
}

fn read_indicators(records: Vec<crate::store::read::IndicatorRecord>) -> Result<Vec<Indicator>, StoreError> {
    records
        .into_iter()
        .map(|r| {
            Ok(Indicator {
                kind: r.kind.parse().map_err(|_| corrupt(format!("indicator {} has kind {:?}", r.code, r.kind)))?,
                direction: r.direction.parse().map_err(|_| corrupt(format!("indicator {} has direction {:?}", r.code, r.direction)))?,
                code: r.code,
                name_da: r.name_da,
                name_en: r.name_en,
                population_da: r.population_da,
                population_en: r.population_en,
                description_da: r.description_da,
                description_en: r.description_en,
                years: Vec::new(),
            })
        })
        .collect()
}

fn read_municipalities(
    records: Vec<crate::store::read::MunicipalityRecord>,
    geometries: Vec<crate::store::read::MunicipalityGeometryRecord>,
) -> Result<BTreeMap<MunicipalityCode, Municipality>, StoreError> {
    let mut outlines: HashMap<i32, MultiPolygon> = HashMap::new();
    for g in geometries {
        outlines.insert(g.municipality_code, parse_geometry(&g.municipality_code, &g.geometry)?);
    }
    let mut municipalities = BTreeMap::new();
    for m in records {
        let code = municipality_code(m.code)?;
        let geometry = outlines.remove(&m.code);
        municipalities.insert(
            code,
            Municipality { code, name: m.name, region_code: m.region_code, cvr: m.cvr, geometry, simplification: OnceLock::new() },
        );
    }
    Ok(municipalities)
}

fn read_areas(
    records: Vec<crate::store::read::AreaRecord>,
    geometries: Vec<crate::store::read::GeometryRecord>,
) -> Result<Vec<Area>, StoreError> {
    let geometries: HashMap<String, MultiPolygon> = geometries
        .into_iter()
        .map(|g| parse_geometry(&g.area_id, &g.geometry).map(|mp| (g.area_id, mp)))
        .collect::<Result<_, StoreError>>()?;
    let mut areas = Vec::with_capacity(records.len());
    for a in records {
        let geometry = geometries.get(&a.area_id).cloned();
        let bbox = geometry.as_ref().and_then(MultiPolygon::bbox);
        let geometry_json = geometry.as_ref().map(|g| {
            let mut s = String::new();
            g.write_geojson(&mut s, DEFAULT_PRECISION);
            s
        });
        areas.push(Area {
            municipality: municipality_code(a.municipality_code)?,
            area_id: a.area_id,
            name: a.name,
            geometry,
            bbox,
            geometry_json,
            simplification: OnceLock::new(),
        });
    }
    Ok(areas)
}

fn find(index: &HashMap<String, usize>, what: &str, key: &str) -> Result<usize, StoreError> {
    index.get(key).copied().ok_or_else(|| corrupt(format!("unknown {what} {key}")))
}

fn read_delimitations(
    memberships: Vec<crate::store::read::MembershipRecord>,
    area_index: &HashMap<String, usize>,
) -> Result<BTreeMap<String, Delimitation>, StoreError> {
    let mut delimitations: BTreeMap<String, Delimitation> = BTreeMap::new();
    for m in memberships {
        let area = find(area_index, "area", &m.area_id)?;
        delimitations.entry(m.boundary_version).or_insert_with(|| Delimitation::empty(area_index.len())).departments[area].push(
            Department {
                department_id: m.department_id,
                name: m.department_name,
                organisation: m.organisation,
                municipality: municipality_code(m.department_municipality_code)?,
            },
        );
    }
    Ok(delimitations)
}

/// The delivered reference figures by (level, unit), a region's among them (its unit the
/// region code).
/// A delivered reference figure's record by its (level, unit).
type ReferenceRows = Vec<((Level, u16), crate::store::read::ReferenceRecord)>;

fn read_references(
    references: Vec<crate::store::read::ReferenceRecord>,
    regions: Vec<crate::store::read::RegionRecord>,
) -> Result<ReferenceRows, StoreError> {
    let mut out = Vec::with_capacity(references.len() + regions.len());
    for r in references {
        let level: Level = r.level.parse().map_err(|_| corrupt(format!("reference level {:?}", r.level)))?;
        out.push(((level, r.municipality_code.map_or(0, |c| c as u16)), r));
    }
    for r in regions {
        let code = r.region_code.parse::<u16>().map_err(|_| corrupt(format!("region {:?}", r.region_code)))?;
        let record = crate::store::read::ReferenceRecord {
            level: Level::Region.as_str().into(),
            municipality_code: Some(i32::from(code)),
            indicator: r.indicator,
            year: r.year,
            numerator: r.numerator,
            denominator: r.denominator,
        };
        out.push(((Level::Region, code), record));
    }
    Ok(out)
}

/// Every figure before disclosure control, per indicator and year (1900 to 2100: the list
/// `indicator * 201 + year − 1900`), with the years each indicator has and the cells where a
/// sector does not hold its areas.
struct RawFigures {
    figures: Vec<Vec<RawFigure>>,
    years_seen: Vec<Vec<u16>>,
    rest_missing: usize,
}

impl RawFigures {
    fn group(indicator: usize, year: i64) -> Result<usize, StoreError> {
        (1900..=2100).contains(&year).then(|| indicator * 201 + (year - 1900) as usize).ok_or_else(|| corrupt(format!("year {year}")))
    }

    fn gather(
        indicators: &[Indicator],
        indicator_index: &HashMap<String, usize>,
        area_index: &HashMap<String, usize>,
        delimitations: &BTreeMap<String, Delimitation>,
        numbering: &Numbering,
        area_sums: Vec<crate::store::read::AreaSumRecord>,
        references: ReferenceRows,
    ) -> Result<RawFigures, StoreError> {
        let delimitation_index: HashMap<String, usize> = delimitations.keys().enumerate().map(|(i, k)| (k.clone(), i)).collect();
        let mut out = RawFigures {
            figures: (0..indicators.len() * 201).map(|_| Vec::new()).collect(),
            years_seen: vec![Vec::new(); indicators.len()],
            rest_missing: 0,
        };
        let number = |owner: Owner| numbering.number(owner).ok_or_else(|| corrupt(format!("a figure of {owner:?}, which has no number")));
        // an area's sums come per municipality its departments lie in: together they are the
        // area's; per delimitation and municipality, they are what the sector loses
        let mut area_counts: HashMap<(usize, usize), (Counts, u32)> = HashMap::new();
        let mut plan: HashMap<(usize, u16, usize), Counts> = HashMap::new();
        for s in area_sums {
            let indicator = find(indicator_index, "indicator", &s.indicator)?;
            let area = find(area_index, "area", &s.area_id)?;
            let delimitation = find(&delimitation_index, "delimitation", &s.boundary_version)?;
            let owner = number(Owner::Area { delimitation, area })?;
            let unit = municipality_code(s.municipality_code as i32)?.get();
            let g = Self::group(indicator, s.year)?;
            let (counts, departments) = area_counts.entry((owner, g)).or_default();
            counts.numerator += s.numerator;
            counts.denominator += s.denominator;
            *departments += s.departments as u32;
            let lost = plan.entry((delimitation, unit, g)).or_default();
            lost.numerator += s.numerator;
            lost.denominator += s.denominator;
            out.years_seen[indicator].push(s.year as u16);
        }
        let mut area_counts: Vec<_> = area_counts.into_iter().collect();
        area_counts.sort_unstable_by_key(|x| x.0);
        for ((owner, g), (counts, departments_with_data)) in area_counts {
            out.figures[g].push(RawFigure { owner, counts, departments_with_data });
        }
        for ((level, unit), r) in references {
            let indicator = find(indicator_index, "indicator", &r.indicator)?;
            let owner = number(Owner::Reference { level, unit })?;
            let counts = Counts::new(r.numerator, r.denominator as f64);
            let g = Self::group(indicator, r.year.into())?;
            out.figures[g].push(RawFigure { owner, counts, departments_with_data: 0 });
            out.years_seen[indicator].push(r.year as u16);
            if level == Level::SocialHousing {
                for delimitation in 0..delimitations.len() {
                    let lost = plan.get(&(delimitation, unit, g)).copied().unwrap_or_default();
                    match rest_of(indicators[indicator].kind, counts, lost) {
                        Some(counts) => {
                            let owner = number(Owner::Rest { delimitation, unit })?;
                            out.figures[g].push(RawFigure { owner, counts, departments_with_data: 0 });
                        }
                        None => out.rest_missing += 1,
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Disclosure control over a dataset's figures: the rules, and secondary suppression over
/// the containments among them.
struct Guard<'a> {
    disclosure: &'a Disclosure,
    containments: &'a [differencing::Containment<usize>],
    members: &'a differencing::MemberSets,
    numbering: &'a Numbering,
}

/// The published reference figures, and how many figures the guard withheld.
struct Published {
    references: HashMap<(Level, u16, usize), Vec<Point>>,
    withheld: usize,
    rest_withheld: usize,
    covered_withheld: usize,
}

impl Guard<'_> {
    /// Every figure as published, into the delimitations' series and the references.
    fn publish(
        &self,
        indicators: &[Indicator],
        figures: Vec<Vec<RawFigure>>,
        default_delimitation: Option<usize>,
        delimitations: &mut BTreeMap<String, Delimitation>,
        coverage: &mut Coverage,
    ) -> Published {
        let owners = &self.numbering.owners;
        // the default delimitation's areas are what the service is for: withheld last
        // (and a derived rest figure first, so that it never costs one published before it)
        let rank = |f: usize| match owners[f] {
            Owner::Area { delimitation, .. } if Some(delimitation) == default_delimitation => 3,
            Owner::Reference { .. } => 2,
            Owner::Area { .. } => 1,
            Owner::Rest { .. } | Owner::Covered { .. } => 0,
        };
        let mut by_index: Vec<&mut Delimitation> = delimitations.values_mut().collect();
        let mut out = Published { references: HashMap::new(), withheld: 0, rest_withheld: 0, covered_withheld: 0 };
        let mut counts = vec![None; owners.len()];
        for (g, list) in figures.into_iter().enumerate().filter(|(_, list)| !list.is_empty()) {
            let (indicator, year) = (g / 201, (1900 + g % 201) as u16);
            let kind = indicators[indicator].kind;
            counts.fill(None);
            for f in &list {
                counts[f.owner] = Some(f.counts);
            }
            let secondary = differencing::withheld(kind, self.disclosure, &counts, self.containments, self.members, rank);
            let rests = secondary.iter().filter(|&&f| matches!(owners[f], Owner::Rest { .. })).count();
            let covered = secondary.iter().filter(|&&f| matches!(owners[f], Owner::Covered { .. })).count();
            out.withheld += secondary.len() - rests - covered;
            out.rest_withheld += rests;
            out.covered_withheld += covered;
            for RawFigure { owner, counts, departments_with_data } in list {
                let figure =
                    if secondary.binary_search(&owner).is_ok() { Figure::Suppressed } else { self.disclosure.publish(kind, counts) };
                match owners[owner] {
                    Owner::Area { delimitation, area } => {
                        let d = &mut by_index[delimitation];
                        let sum = AreaSum { counts, departments_with_data };
                        let coverage = sum.coverage(d.departments[area].len() as u32);
                        d.series.entry((area, indicator)).or_default().push(Point { year, figure, coverage: Some(coverage) });
                    }
                    Owner::Reference { level, unit } => {
                        out.references.entry((level, unit, indicator)).or_default().push(Point { year, figure, coverage: None });
                    }
                    Owner::Rest { delimitation, unit } => {
                        by_index[delimitation].rest.entry((unit, indicator)).or_default().push(Point { year, figure, coverage: None });
                    }
                    Owner::Covered { set } => {
                        let set = &mut coverage.sets[set];
                        let sum = AreaSum { counts, departments_with_data };
                        let coverage = sum.coverage(set.members.len() as u32);
                        set.series.entry(indicator).or_default().push(Point { year, figure, coverage: Some(coverage) });
                    }
                }
            }
        }
        for points in by_index
            .iter_mut()
            .flat_map(|d| d.series.values_mut().chain(d.rest.values_mut()))
            .chain(out.references.values_mut())
            .chain(coverage.sets.iter_mut().flat_map(|s| s.series.values_mut()))
        {
            points.sort_by_key(|p| p.year);
        }
        out
    }
}

/// The indicator playing each role a rule set reads, or the roles the dataset lacks.
pub type RoleIndicators = Result<Vec<(&'static str, usize)>, Vec<&'static str>>;

/// The legal criteria (criteria.md) of every rule set for every area of every delimitation
/// and every year with data, evaluated when the version is loaded.
#[derive(Debug, Default)]
pub struct Criteria {
    /// The rule sets, in the rule book's order.
    pub rules: Vec<Arc<RuleSet>>,
    /// Per rule set: the indicator playing each role it reads, or the roles the dataset lacks.
    pub roles: Vec<RoleIndicators>,
    /// The years evaluated, ascending: from the first to the last with data for any role.
    pub years: Vec<u16>,
    /// The indicator playing each role, where the dataset has one (in the order of ROLES).
    role_indicators: Vec<(&'static str, usize)>,
    /// delimitation → rule set → area index → evaluations, one per year of `years`.
    evaluations: HashMap<String, HashMap<usize, HashMap<usize, Vec<Evaluation>>>>,
    /// What evaluating them took when the version was loaded, and about how much memory the
    /// evaluations hold (for the metrics).
    pub build_seconds: f64,
    pub bytes: usize,
}

impl Criteria {
    /// A rule set by id, with its position.
    pub fn rule_set(&self, id: &str) -> Option<(usize, &RuleSet)> {
        self.rules.iter().position(|r| r.id == id).map(|i| (i, &*self.rules[i]))
    }

    /// An area's evaluations under a delimitation and a rule set, one per year of `years`.
    pub fn of(&self, delimitation: &str, rules: usize, area: usize) -> Option<&[Evaluation]> {
        self.evaluations.get(delimitation)?.get(&rules)?.get(&area).map(Vec::as_slice)
    }
}

/// An area's figures by role, for the criteria.
struct AreaFigures<'a> {
    snapshot: &'a Snapshot,
    delimitation: &'a Delimitation,
    area: usize,
    roles: &'a [(&'static str, usize)],
}

impl AreaFigures<'_> {
    #[expect(clippy::expect_used, reason = "a rule set is evaluated only when every role it reads has an indicator (with_criteria)")]
    fn indicator(&self, role: &str) -> usize {
        self.roles.iter().find(|r| r.0 == role).expect("a rule set is evaluated only with all its roles").1
    }
}

impl crate::domain::criteria::Figures for AreaFigures<'_> {
    fn kind(&self, role: &str) -> Kind {
        self.snapshot.indicators[self.indicator(role)].kind
    }
    fn area(&self, role: &str, year: u16) -> Option<Figure> {
        figure_in(self.delimitation.series(self.area, self.indicator(role)), year).map(|p| p.figure)
    }
    fn country(&self, role: &str, year: u16) -> Option<Figure> {
        let points = self.snapshot.references.get(&(Level::Country, 0, self.indicator(role)))?;
        figure_in(points, year).map(|p| p.figure)
    }
    fn region(&self, role: &str, year: u16) -> Option<Figure> {
        let region = self.snapshot.region_of(self.snapshot.areas[self.area].municipality)?;
        let points = self.snapshot.references.get(&(Level::Region, region, self.indicator(role)))?;
        figure_in(points, year).map(|p| p.figure)
    }
}

impl Snapshot {
    /// The region code of a municipality, as municipalities.csv gives it.
    pub fn region_of(&self, municipality: MunicipalityCode) -> Option<u16> {
        self.municipalities.get(&municipality)?.region()
    }

    /// Which indicator plays a role (as found by [`Snapshot::with_criteria`]).
    pub fn role_indicator(&self, role: &str) -> Option<usize> {
        self.criteria.role_indicators.iter().find(|r| r.0 == role).map(|r| r.1)
    }

    /// The indicator of each role: the manifest's criteria_indicators, else the one whose code
    /// is the role; none where it is absent or of a kind the role cannot be.
    fn find_role_indicators(&self) -> Vec<(&'static str, usize)> {
        let mapped: Option<BTreeMap<String, String>> =
            self.dataset.criteria_indicators.as_deref().and_then(|j| serde_json::from_str(j).ok());
        let find = |role: &str| {
            let code = mapped.as_ref().and_then(|m| m.get(role)).map_or(role, String::as_str);
            let (i, indicator) = self.indicator(code)?;
            crate::domain::criteria::role_kinds(role).contains(&indicator.kind).then_some(i)
        };
        crate::domain::criteria::ROLES.into_iter().filter_map(|role| find(role).map(|i| (role, i))).collect()
    }

    /// Evaluates every rule set for every area, delimitation and year with data.
    pub fn with_criteria(mut self, rules: &[Arc<RuleSet>]) -> Snapshot {
        let started = std::time::Instant::now();
        let mut c = Criteria { rules: rules.to_vec(), role_indicators: self.find_role_indicators(), ..Criteria::default() };
        let indicator_of = |role: &str| c.role_indicators.iter().find(|r| r.0 == role).map(|r| r.1);
        let mut roles = Vec::with_capacity(rules.len());
        for r in rules {
            let needed = r.roles();
            let found: Option<Vec<(&'static str, usize)>> = needed.iter().map(|role| indicator_of(role).map(|i| (*role, i))).collect();
            roles.push(found.ok_or_else(|| needed.iter().copied().filter(|role| indicator_of(role).is_none()).collect()));
        }
        c.roles = roles;
        let role_years = c.roles.iter().flatten().flatten().flat_map(|(_, i)| self.indicators[*i].years.iter().copied());
        let (first, last) = role_years.fold((u16::MAX, 0), |(a, b), y| (a.min(y), b.max(y)));
        c.years = if first <= last { (first..=last).collect() } else { Vec::new() };
        for (name, d) in &self.delimitations {
            for (k, (r, roles)) in rules.iter().zip(&c.roles).enumerate() {
                let Ok(roles) = roles else { continue };
                let mut by_area = HashMap::new();
                for a in d.areas() {
                    let figures = AreaFigures { snapshot: &self, delimitation: d, area: a, roles };
                    let mut evaluations: Vec<Evaluation> = Vec::with_capacity(c.years.len());
                    for &year in &c.years {
                        let earlier: Vec<Option<&Evaluation>> = evaluations.iter().map(Some).collect();
                        let e = crate::domain::criteria::evaluate(r, &figures, year, &earlier);
                        evaluations.push(e);
                    }
                    by_area.insert(a, evaluations);
                }
                c.evaluations.entry(name.clone()).or_default().insert(k, by_area);
            }
        }
        use crate::domain::criteria::{ClassificationOutcome, CriterionOutcome};
        use std::mem::size_of;
        c.bytes = c
            .evaluations
            .values()
            .flat_map(|by_rules| by_rules.values())
            .flat_map(|by_area| by_area.values())
            .flatten()
            .map(|e| {
                size_of::<Evaluation>()
                    + e.criteria.len() * size_of::<CriterionOutcome>()
                    + e.classifications.iter().map(|x| size_of::<ClassificationOutcome>() + x.nearest_exit.len()).sum::<usize>()
            })
            .sum();
        c.build_seconds = started.elapsed().as_secs_f64();
        tracing::info!(ms = (c.build_seconds * 1000.0) as u64, bytes = c.bytes, "legal criteria evaluated");
        self.criteria = c;
        self
    }
}

/// The currently served snapshot, swapped atomically, and the list of stored versions as
/// last read (so that listing them does not wait on the database either).
#[derive(Default)]
pub struct SnapshotCell {
    current: ArcSwapOption<Snapshot>,
    datasets: ArcSwapOption<Vec<crate::store::read::DatasetRecord>>,
    /// When the database last answered which version is active (seconds since the epoch;
    /// 0 before it ever did).
    last_check: std::sync::atomic::AtomicU64,
}

impl SnapshotCell {
    pub fn get(&self) -> Option<Arc<Snapshot>> {
        self.current.load_full()
    }

    pub fn version(&self) -> Option<i64> {
        self.current.load().as_ref().map(|s| s.dataset.version)
    }

    pub fn replace(&self, snapshot: Snapshot) {
        self.current.store(Some(Arc::new(snapshot)));
    }

    pub fn datasets(&self) -> Option<Arc<Vec<crate::store::read::DatasetRecord>>> {
        self.datasets.load_full()
    }

    pub fn set_datasets(&self, datasets: Vec<crate::store::read::DatasetRecord>) {
        self.datasets.store(Some(Arc::new(datasets)));
    }

    /// The database answered a check: the snapshot is known to be the active version.
    pub fn mark_checked(&self) {
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        self.last_check.store(now, std::sync::atomic::Ordering::Relaxed);
    }

    /// When the database last answered a check, if ever.
    pub fn last_checked(&self) -> Option<SystemTime> {
        let secs = self.last_check.load(std::sync::atomic::Ordering::Relaxed);
        (secs > 0).then(|| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs))
    }
}

/// The published figure of a year in a series; `None` when the year has no data.
pub fn figure_in(points: &[Point], year: u16) -> Option<Point> {
    points.binary_search_by_key(&year, |p| p.year).ok().map(|i| points[i])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::read::{AreaRecord, AreaSumRecord, IndicatorRecord, MembershipRecord, MunicipalityRecord, ReferenceRecord};

    fn dataset(memberships: &[(&str, &str, i32)], sums: &[(&str, f64, f64)], references: &[(i32, f64, i64)]) -> StoredDataset {
        StoredDataset {
            dataset: DatasetRecord {
                version: 1,
                title: "t".into(),
                source: "s".into(),
                boundary_version: "B".into(),
                content_hash: "h".into(),
                imported_at: "2026-01-01T00:00:00Z".into(),
                active: true,
                criteria_indicators: None,
            },
            indicators: vec![IndicatorRecord {
                code: "convicted".into(),
                name_da: "Dømte".into(),
                name_en: "Convicted".into(),
                kind: "rate".into(),
                direction: "lower_is_better".into(),
                population_da: "p".into(),
                population_en: "p".into(),
                description_da: None,
                description_en: None,
            }],
            municipalities: [101, 751]
                .map(|code| MunicipalityRecord { code, name: code.to_string(), region_code: None, cvr: None })
                .to_vec(),
            areas: memberships
                .iter()
                .map(|(area, _, _)| *area)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(|area| AreaRecord { area_id: area.into(), name: area.into(), municipality_code: 101 })
                .collect(),
            memberships: memberships
                .iter()
                .map(|(area, department, municipality)| MembershipRecord {
                    boundary_version: "B".into(),
                    area_id: (*area).into(),
                    department_id: (*department).into(),
                    department_name: (*department).into(),
                    organisation: None,
                    department_municipality_code: *municipality,
                })
                .collect(),
            area_sums: sums
                .iter()
                .map(|(area, n, d)| AreaSumRecord {
                    boundary_version: "B".into(),
                    area_id: (*area).into(),
                    municipality_code: 101,
                    indicator: "convicted".into(),
                    year: 2020,
                    numerator: *n,
                    denominator: *d,
                    departments: 1,
                })
                .collect(),
            references: references
                .iter()
                .map(|(municipality, n, d)| ReferenceRecord {
                    level: "municipality".into(),
                    municipality_code: Some(*municipality),
                    indicator: "convicted".into(),
                    year: 2020,
                    numerator: *n,
                    denominator: *d,
                })
                .collect(),
            regions: Vec::new(),
            geometries: Vec::new(),
            municipality_geometries: Vec::new(),
            organisations: Vec::new(),
            departments: Vec::new(),
            plans: Vec::new(),
            plan_departments: Vec::new(),
            covered_observations: Vec::new(),
        }
    }

    /// Areas sit inside a municipality's figures by where their departments are: area A,
    /// which areas.csv places in 101 (as every area here), has its department in 751, so 751's
    /// figure minus A and C is the figure of 10 persons with 2 convictions, and 751's figure is
    /// withheld; 101's holds no area wholly (X reaches over the border) and stays.
    #[test]
    fn areas_are_inside_the_municipality_of_their_departments() {
        let stored = dataset(
            &[("A", "d1", 751), ("C", "d2", 751), ("X", "d3", 101), ("X", "d4", 751)],
            &[("A", 50.0, 1000.0), ("C", 60.0, 1000.0), ("X", 30.0, 600.0)],
            &[(751, 112.0, 2010), (101, 31.0, 305)],
        );
        let s = Snapshot::build(stored, &Disclosure::default()).unwrap();
        let figure = |m: u16| {
            figure_in(s.reference_series(Reference::Municipality, s.default_delimitation(), MunicipalityCode::new(m).unwrap(), 0), 2020)
                .unwrap()
                .figure
        };
        assert_eq!(figure(751), Figure::Suppressed);
        assert!(matches!(figure(101), Figure::Ok { .. }), "101 minus X would be no group's figure");
        assert_eq!(s.withheld_figures, 1);
    }
}
