//! Reading dataset versions back: the list, the active one, and everything a snapshot needs.

use diesel::prelude::*;

pub use super::aggregates::AreaSumRecord;
use super::schema::*;
use super::{DbConnection, StoreError};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = datasets)]
pub struct DatasetRecord {
    pub version: i64,
    pub title: String,
    pub source: String,
    pub boundary_version: String,
    pub content_hash: String,
    pub imported_at: String,
    pub active: bool,
    /// The manifest's criteria_indicators as JSON (role → indicator code), if it had any.
    pub criteria_indicators: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = indicators)]
pub struct IndicatorRecord {
    pub code: String,
    pub name_da: String,
    pub name_en: String,
    pub kind: String,
    pub direction: String,
    pub population_da: String,
    pub population_en: String,
    pub description_da: Option<String>,
    pub description_en: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = municipalities)]
pub struct MunicipalityRecord {
    pub code: i32,
    pub name: String,
    pub region_code: Option<String>,
    pub cvr: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = departments)]
pub struct DepartmentRecord {
    pub department_id: String,
    pub name: String,
    pub municipality_code: i32,
    pub organisation: Option<String>,
}

/// One department's observation, read for a signed-in caller's view.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = department_observations)]
pub struct DepartmentObservationRecord {
    pub department_id: String,
    pub indicator: String,
    pub year: i32,
    pub numerator: f64,
    pub denominator: i64,
}

/// The observations of the named departments in a version (a caller's own, and those that
/// share an area with them), in pieces of at most 500 names per statement.
pub fn department_observations(
    conn: &mut DbConnection,
    version: i64,
    department_ids: &[String],
) -> Result<Vec<DepartmentObservationRecord>, StoreError> {
    let mut out = Vec::new();
    for chunk in department_ids.chunks(500) {
        out.extend(
            department_observations::table
                .filter(department_observations::dataset_version.eq(version))
                .filter(department_observations::department_id.eq_any(chunk))
                .select(DepartmentObservationRecord::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = organisations)]
pub struct OrganisationRecord {
    pub organisation_id: String,
    pub name: String,
    pub cvr: String,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = areas)]
pub struct AreaRecord {
    pub area_id: String,
    pub name: String,
    pub municipality_code: i32,
}

/// A department of an area under one delimitation.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct MembershipRecord {
    pub boundary_version: String,
    pub area_id: String,
    pub department_id: String,
    pub department_name: String,
    pub organisation: Option<String>,
    pub department_municipality_code: i32,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = reference_observations)]
pub struct ReferenceRecord {
    pub level: String,
    pub municipality_code: Option<i32>,
    pub indicator: String,
    pub year: i32,
    pub numerator: f64,
    pub denominator: i64,
}

/// A region's figure (observations.csv level `region`).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = region_observations)]
pub struct RegionRecord {
    pub region_code: String,
    pub indicator: String,
    pub year: i32,
    pub numerator: f64,
    pub denominator: i64,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = area_geometries)]
pub struct GeometryRecord {
    pub area_id: String,
    pub geometry: String,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = municipality_geometries)]
pub struct MunicipalityGeometryRecord {
    pub municipality_code: i32,
    pub geometry: String,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = plans)]
pub struct PlanRecord {
    pub plan_id: String,
    pub area_id: String,
    pub name: String,
    pub from_year: i32,
    pub to_year: i32,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = plan_departments)]
pub struct PlanDepartmentRecord {
    pub plan_id: String,
    pub department_id: String,
}

/// Everything stored for one dataset version that the service serves from.
#[derive(Debug, Clone)]
pub struct StoredDataset {
    pub dataset: DatasetRecord,
    pub indicators: Vec<IndicatorRecord>,
    pub municipalities: Vec<MunicipalityRecord>,
    pub areas: Vec<AreaRecord>,
    pub memberships: Vec<MembershipRecord>,
    pub area_sums: Vec<AreaSumRecord>,
    pub references: Vec<ReferenceRecord>,
    pub regions: Vec<RegionRecord>,
    pub geometries: Vec<GeometryRecord>,
    pub municipality_geometries: Vec<MunicipalityGeometryRecord>,
    /// The housing organisations, by id.
    pub organisations: Vec<OrganisationRecord>,
    /// Every department, in an area or not, by id.
    pub departments: Vec<DepartmentRecord>,
    /// The plans, by id, and the departments each covered, by plan and department.
    pub plans: Vec<PlanRecord>,
    pub plan_departments: Vec<PlanDepartmentRecord>,
    /// With plans only: the observations of the departments of the dataset's delimitation,
    /// by department, indicator and year (what coverage-restricted area figures are made of).
    pub covered_observations: Vec<DepartmentObservationRecord>,
}

/// Aggregates the sums from the stored rows, for a version stored without them.
pub fn aggregate_area_sums(conn: &mut DbConnection, version: i64) -> QueryResult<Vec<AreaSumRecord>> {
    // `version` is an integer of ours, so formatting it in is safe; it also keeps the one
    // statement valid for both backends' placeholder syntaxes.
    diesel::sql_query(format!(
        "SELECT m.boundary_version AS boundary_version, m.area_id AS area_id, \
                CAST(d.municipality_code AS BIGINT) AS municipality_code, o.indicator AS indicator, \
                CAST(o.year AS BIGINT) AS year, \
                CAST(SUM(o.numerator) AS DOUBLE PRECISION) AS numerator, \
                CAST(SUM(o.denominator) AS DOUBLE PRECISION) AS denominator, \
                CAST(COUNT(*) AS BIGINT) AS departments \
         FROM area_departments m \
         JOIN department_observations o \
           ON o.dataset_version = m.dataset_version AND o.department_id = m.department_id \
         JOIN departments d \
           ON d.dataset_version = m.dataset_version AND d.department_id = m.department_id \
         WHERE m.dataset_version = {version} \
         GROUP BY m.boundary_version, m.area_id, d.municipality_code, o.indicator, o.year"
    ))
    .load::<AreaSumRecord>(conn)
}

/// All stored versions, newest first.
pub fn list_datasets(conn: &mut DbConnection) -> Result<Vec<DatasetRecord>, StoreError> {
    Ok(datasets::table.order(datasets::version.desc()).select(DatasetRecord::as_select()).load(conn)?)
}

/// The version being served, if any.
pub fn active_version(conn: &mut DbConnection) -> Result<Option<i64>, StoreError> {
    Ok(datasets::table.filter(datasets::active).select(datasets::version).first(conn).optional()?)
}

pub fn load_dataset(conn: &mut DbConnection, version: i64) -> Result<StoredDataset, StoreError> {
    // one read transaction: a consistent view even while another version is written
    conn.transaction(|conn| {
        let dataset = datasets::table.find(version).select(DatasetRecord::as_select()).first(conn)?;
        let indicators = indicators::table
            .filter(indicators::dataset_version.eq(version))
            .order(indicators::position)
            .select(IndicatorRecord::as_select())
            .load(conn)?;
        let municipalities = municipalities::table
            .filter(municipalities::dataset_version.eq(version))
            .order(municipalities::code)
            .select(MunicipalityRecord::as_select())
            .load(conn)?;
        let areas =
            areas::table.filter(areas::dataset_version.eq(version)).order(areas::position).select(AreaRecord::as_select()).load(conn)?;
        let memberships = area_departments::table
            .inner_join(
                departments::table.on(departments::dataset_version
                    .eq(area_departments::dataset_version)
                    .and(departments::department_id.eq(area_departments::department_id))),
            )
            .filter(area_departments::dataset_version.eq(version))
            .order((area_departments::boundary_version, area_departments::area_id, area_departments::department_id))
            .select((
                area_departments::boundary_version,
                area_departments::area_id,
                area_departments::department_id,
                departments::name,
                departments::organisation,
                departments::municipality_code,
            ))
            .load::<MembershipRecord>(conn)?;
        let started = std::time::Instant::now();
        let stored_sums: Option<Vec<u8>> =
            dataset_aggregates::table.find(version).select(dataset_aggregates::area_sums).first(conn).optional()?;
        // (a version stored before the sums were split by municipality is aggregated anew)
        let decoded = stored_sums.map(|bytes| super::aggregates::decode(&bytes)).transpose().map_err(StoreError::Corrupt)?;
        let area_sums = match decoded.flatten() {
            Some(sums) => sums,
            None => aggregate_area_sums(conn, version)?,
        };
        tracing::debug!(rows = area_sums.len(), ms = started.elapsed().as_millis() as u64, "area sums read");
        let references = reference_observations::table
            .filter(reference_observations::dataset_version.eq(version))
            .select(ReferenceRecord::as_select())
            .load(conn)?;
        let regions = region_observations::table
            .filter(region_observations::dataset_version.eq(version))
            .order((region_observations::region_code, region_observations::indicator, region_observations::year))
            .select(RegionRecord::as_select())
            .load(conn)?;
        let geometries =
            area_geometries::table.filter(area_geometries::dataset_version.eq(version)).select(GeometryRecord::as_select()).load(conn)?;
        let municipality_geometries = municipality_geometries::table
            .filter(municipality_geometries::dataset_version.eq(version))
            .order(municipality_geometries::municipality_code)
            .select(MunicipalityGeometryRecord::as_select())
            .load(conn)?;
        let organisations = organisations::table
            .filter(organisations::dataset_version.eq(version))
            .order(organisations::organisation_id)
            .select(OrganisationRecord::as_select())
            .load(conn)?;
        let departments = departments::table
            .filter(departments::dataset_version.eq(version))
            .order(departments::department_id)
            .select(DepartmentRecord::as_select())
            .load(conn)?;
        let plans =
            plans::table.filter(plans::dataset_version.eq(version)).order(plans::plan_id).select(PlanRecord::as_select()).load(conn)?;
        let plan_departments = plan_departments::table
            .filter(plan_departments::dataset_version.eq(version))
            .order((plan_departments::plan_id, plan_departments::department_id))
            .select(PlanDepartmentRecord::as_select())
            .load(conn)?;
        let covered_observations =
            if plans.is_empty() { Vec::new() } else { covered_observations(conn, version, &dataset.boundary_version)? };
        Ok(StoredDataset {
            dataset,
            indicators,
            municipalities,
            areas,
            memberships,
            area_sums,
            references,
            regions,
            geometries,
            municipality_geometries,
            organisations,
            departments,
            plans,
            plan_departments,
            covered_observations,
        })
    })
}

/// An extract's plans as the store reads them back: by id, and their departments by plan and
/// department.
fn plans_of(x: &crate::ingest::Extract) -> (Vec<PlanRecord>, Vec<PlanDepartmentRecord>) {
    let mut plans: Vec<PlanRecord> = x
        .plans
        .iter()
        .map(|p| PlanRecord {
            plan_id: p.plan_id.clone(),
            area_id: x.areas[p.area as usize].area_id.clone(),
            name: p.name.clone(),
            from_year: i32::from(p.from_year),
            to_year: i32::from(p.to_year),
        })
        .collect();
    plans.sort_by(|a, b| a.plan_id.cmp(&b.plan_id));
    let mut covered: Vec<PlanDepartmentRecord> = x
        .plans
        .iter()
        .flat_map(|p| {
            p.departments.iter().map(|&d| PlanDepartmentRecord {
                plan_id: p.plan_id.clone(),
                department_id: x.departments[d as usize].department_id.clone(),
            })
        })
        .collect();
    covered.sort_by(|a, b| (&a.plan_id, &a.department_id).cmp(&(&b.plan_id, &b.department_id)));
    (plans, covered)
}

/// The observations of the departments of a version's own delimitation, by department,
/// indicator and year.
fn covered_observations(conn: &mut DbConnection, version: i64, boundary_version: &str) -> QueryResult<Vec<DepartmentObservationRecord>> {
    let members = area_departments::table
        .filter(area_departments::dataset_version.eq(version))
        .filter(area_departments::boundary_version.eq(boundary_version))
        .select(area_departments::department_id);
    department_observations::table
        .filter(department_observations::dataset_version.eq(version))
        .filter(department_observations::department_id.eq_any(members))
        .order((department_observations::department_id, department_observations::indicator, department_observations::year))
        .select(DepartmentObservationRecord::as_select())
        .load(conn)
}

/// With plans, the observations of the departments of an extract's own delimitation as the
/// store reads them back: by department, indicator and year.
fn covered_observations_of(x: &crate::ingest::Extract) -> Vec<DepartmentObservationRecord> {
    use crate::domain::model::Level;
    if x.plans.is_empty() {
        return Vec::new();
    }
    let mut member = vec![false; x.departments.len()];
    for m in x.memberships.iter().filter(|m| m.boundary_version == x.manifest.boundary_version) {
        member[m.department as usize] = true;
    }
    let mut out: Vec<DepartmentObservationRecord> = x
        .observations
        .iter()
        .take_while(|o| o.level == Level::Department)
        .filter(|o| member[o.unit as usize])
        .map(|o| DepartmentObservationRecord {
            department_id: x.departments[o.unit as usize].department_id.clone(),
            indicator: x.indicators[o.indicator as usize].code.clone(),
            year: i32::from(o.year),
            numerator: o.numerator,
            denominator: o.denominator as i64,
        })
        .collect();
    out.sort_by(|a, b| (&a.department_id, &a.indicator, a.year).cmp(&(&b.department_id, &b.indicator, b.year)));
    out
}

/// An extract's organisations as the store reads them back: by id.
fn organisations_of(x: &crate::ingest::Extract) -> Vec<OrganisationRecord> {
    let mut o: Vec<OrganisationRecord> = x
        .organisations
        .iter()
        .map(|o| OrganisationRecord { organisation_id: o.organisation_id.clone(), name: o.name.clone(), cvr: o.cvr.clone() })
        .collect();
    o.sort_by(|a, b| a.organisation_id.cmp(&b.organisation_id));
    o
}

/// An extract's departments as the store reads them back: by id.
fn departments_of(x: &crate::ingest::Extract) -> Vec<DepartmentRecord> {
    let mut d: Vec<DepartmentRecord> = x
        .departments
        .iter()
        .map(|d| DepartmentRecord {
            department_id: d.department_id.clone(),
            name: d.name.clone(),
            municipality_code: d.municipality.get() as i32,
            organisation: d.organisation.clone(),
        })
        .collect();
    d.sort_by(|a, b| a.department_id.cmp(&b.department_id));
    d
}

impl StoredDataset {
    /// What the store returns for an extract once written: lets tests and tools build a
    /// snapshot without a database. Kept in step with [`load_dataset`] by the integration
    /// tests, which compare the two.
    pub fn from_extract(x: &crate::ingest::Extract, version: i64, imported_at: &str) -> StoredDataset {
        let dataset = DatasetRecord {
            version,
            title: x.manifest.title.clone(),
            source: x.manifest.source.clone(),
            boundary_version: x.manifest.boundary_version.clone(),
            content_hash: x.content_hash.clone(),
            imported_at: imported_at.to_string(),
            active: true,
            criteria_indicators: criteria_indicators_json(&x.manifest),
        };
        let indicators = x
            .indicators
            .iter()
            .map(|i| IndicatorRecord {
                code: i.code.clone(),
                name_da: i.name_da.clone(),
                name_en: i.name_en.clone(),
                kind: i.kind.as_str().into(),
                direction: i.direction.as_str().into(),
                population_da: i.population_da.clone(),
                population_en: i.population_en.clone(),
                description_da: i.description_da.clone(),
                description_en: i.description_en.clone(),
            })
            .collect();
        let mut municipalities: Vec<MunicipalityRecord> = x
            .municipalities
            .iter()
            .map(|m| MunicipalityRecord {
                code: m.code.get() as i32,
                name: m.name.clone(),
                region_code: m.region_code.clone(),
                cvr: m.cvr.clone(),
            })
            .collect();
        municipalities.sort_by_key(|m| m.code);
        let areas = x
            .areas
            .iter()
            .map(|a| AreaRecord { area_id: a.area_id.clone(), name: a.name.clone(), municipality_code: a.municipality.get() as i32 })
            .collect();
        let mut memberships: Vec<MembershipRecord> = x
            .memberships
            .iter()
            .map(|m| {
                let d = &x.departments[m.department as usize];
                MembershipRecord {
                    boundary_version: m.boundary_version.clone(),
                    area_id: x.areas[m.area as usize].area_id.clone(),
                    department_id: d.department_id.clone(),
                    department_name: d.name.clone(),
                    organisation: d.organisation.clone(),
                    department_municipality_code: i32::from(d.municipality.get()),
                }
            })
            .collect();
        memberships
            .sort_by(|a, b| (&a.boundary_version, &a.area_id, &a.department_id).cmp(&(&b.boundary_version, &b.area_id, &b.department_id)));
        let area_sums = super::aggregates::area_sums(x);
        let (references, regions) = Self::levels_from_extract(x);
        let (plans, plan_departments) = plans_of(x);
        let geometries = x
            .geometries
            .iter()
            .map(|g| GeometryRecord { area_id: x.areas[g.area as usize].area_id.clone(), geometry: g.geometry.to_geojson().to_string() })
            .collect();
        let municipality_geometries = x
            .municipality_geometries
            .iter()
            .map(|g| MunicipalityGeometryRecord {
                municipality_code: g.municipality.get() as i32,
                geometry: g.geometry.to_geojson().to_string(),
            })
            .collect();
        StoredDataset {
            dataset,
            indicators,
            municipalities,
            areas,
            memberships,
            area_sums,
            references,
            geometries,
            regions,
            municipality_geometries,
            organisations: organisations_of(x),
            departments: departments_of(x),
            covered_observations: covered_observations_of(x),
            plans,
            plan_departments,
        }
    }

    /// The delivered reference levels' rows of an extract, and its regions', as stored.
    fn levels_from_extract(x: &crate::ingest::Extract) -> (Vec<ReferenceRecord>, Vec<RegionRecord>) {
        use crate::domain::model::Level;
        let references = x
            .observations
            .iter()
            .filter(|o| o.level != Level::Department && o.level != Level::Region)
            .map(|o| ReferenceRecord {
                level: o.level.as_str().into(),
                municipality_code: o.municipality().map(|m| m.get() as i32),
                indicator: x.indicators[o.indicator as usize].code.clone(),
                year: i32::from(o.year),
                numerator: o.numerator,
                denominator: o.denominator as i64,
            })
            .collect();
        let mut regions: Vec<RegionRecord> = x
            .observations
            .iter()
            .filter(|o| o.level == Level::Region)
            .map(|o| RegionRecord {
                region_code: o.unit.to_string(),
                indicator: x.indicators[o.indicator as usize].code.clone(),
                year: i32::from(o.year),
                numerator: o.numerator,
                denominator: o.denominator as i64,
            })
            .collect();
        regions.sort_by(|a, b| (&a.region_code, &a.indicator, a.year).cmp(&(&b.region_code, &b.indicator, b.year)));
        (references, regions)
    }
}

/// The manifest's criteria_indicators as stored: JSON, or none when empty.
pub fn criteria_indicators_json(m: &crate::ingest::extract::Manifest) -> Option<String> {
    // (a map of strings always serialises; `ok()` only spares the import a panic path)
    (!m.criteria_indicators.is_empty()).then(|| serde_json::to_string(&m.criteria_indicators).ok()).flatten()
}
