//! Dataset versions: importing an extract, activating a stored version, listing them, and
//! whether the database answers. The command line, the administration API and the demo load
//! at start all import through [`import`].

use std::collections::HashMap;

use crate::domain::figures::{Counts, rest_of};
use crate::domain::model::{Level, MunicipalityCode};
use crate::error::ApiError;
use crate::ingest::Extract;
use crate::store::read::DatasetRecord;
use crate::store::write::Connector;
use crate::store::{self, DbConnection, StoreError};
/// What the callers of the use cases here name of the store: its pool, and what an import did.
pub use crate::store::{ImportOutcome, Pool};

/// What an import did, and what it noticed in the extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportReport {
    pub outcome: ImportOutcome,
    /// Cells (delimitation, municipality, indicator, year) where the social-housing sector's
    /// figure does not hold the plan areas in it, so that the sector without them is missing.
    pub rest_missing: usize,
}

impl ImportReport {
    /// The report's remarks for a person, one line each; none for a clean extract.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.rest_missing > 0 {
            out.push(format!(
                "in {} cells (delimitation, municipality, indicator, year) the social-housing sector's figure is smaller than its \
                 plan areas' departments: the sector without the plan areas (reference=social_housing_rest) is missing there",
                self.rest_missing
            ));
        }
        out
    }
}

/// A store's failure in words for a client: the database away (503), busy (503 with
/// Retry-After), or an internal error whose detail is only logged.
fn problem(e: StoreError) -> ApiError {
    match e {
        StoreError::Connect(_) | StoreError::Pool(_) => ApiError::Unavailable("the database does not answer; nothing was changed".into()),
        e if e.is_transient() => {
            tracing::warn!(error = %e, "an administration request gave up on the database");
            ApiError::Busy {
                detail: "the database is busy (a lock or a long statement); nothing was changed".into(),
                retry_after_seconds: 5,
            }
        }
        other => ApiError::Internal(other.to_string()),
    }
}

/// Brings the schema up to date and stores the extract as the served version (one
/// transaction), or finds it already stored. `connect` opens further connections for a
/// parallel bulk load.
pub fn import(conn: &mut DbConnection, connect: Connector, extract: &Extract) -> Result<ImportReport, StoreError> {
    store::migrate(conn)?;
    let outcome = store::write::import_extract(conn, connect, extract, &store::now_rfc3339())?;
    let report = ImportReport { outcome, rest_missing: rest_missing_cells(extract) };
    for warning in report.warnings() {
        tracing::warn!(version = outcome.version(), "{warning}");
    }
    Ok(report)
}

/// [`import`] on a connection of the server's pool, opening further ones from `url`; a
/// failure as the administration answers it.
pub fn import_pooled(pool: &store::Pool, url: &store::DatabaseUrl, extract: &Extract) -> Result<ImportReport, ApiError> {
    let mut conn = pool.get().map_err(|e| problem(e.into()))?;
    import(&mut conn, &|| store::connect(url), extract).map_err(problem)
}

/// [`activate`] on a connection of the server's pool; a failure as the administration
/// answers it.
pub fn activate_pooled(pool: &store::Pool, version: i64) -> Result<bool, ApiError> {
    let mut conn = pool.get().map_err(|e| problem(e.into()))?;
    activate(&mut conn, version).map_err(problem)
}

/// Makes a stored version the served one; false when there is none such.
pub fn activate(conn: &mut DbConnection, version: i64) -> Result<bool, StoreError> {
    store::write::activate(conn, version)
}

/// Every stored version, newest first.
pub fn list(conn: &mut DbConnection) -> Result<Vec<DatasetRecord>, StoreError> {
    store::read::list_datasets(conn)
}

/// Whether the database answers a trivial statement.
pub fn ping(pool: &store::Pool) -> bool {
    pool.get().ok().is_some_and(|mut conn| store::ping(&mut conn))
}

/// The cells where the sector without the plan areas cannot be made (comparisons.md): per
/// delimitation, municipality, indicator and year with a sector figure, the sector's counts
/// minus those of every department of the delimitation's areas lying in the municipality.
pub fn rest_missing_cells(x: &Extract) -> usize {
    let mut versions: Vec<&str> = x.memberships.iter().map(|m| m.boundary_version.as_str()).collect();
    versions.sort_unstable();
    versions.dedup();
    let mut delimitations_of: Vec<Vec<usize>> = vec![Vec::new(); x.departments.len()];
    for m in &x.memberships {
        // (every membership's version was collected above)
        if let Ok(v) = versions.binary_search(&m.boundary_version.as_str()) {
            delimitations_of[m.department as usize].push(v);
        }
    }
    // (delimitation, municipality, indicator, year) → the areas' counts
    let mut plan: HashMap<(usize, u16, u16, u16), Counts> = HashMap::new();
    for o in x.observations.iter().filter(|o| o.level == Level::Department) {
        let municipality = x.departments[o.unit as usize].municipality.get();
        for &v in &delimitations_of[o.unit as usize] {
            let c = plan.entry((v, municipality, o.indicator, o.year)).or_default();
            c.numerator += o.numerator;
            c.denominator += o.denominator;
        }
    }
    let mut missing = 0;
    for o in x.observations.iter().filter(|o| o.level == Level::SocialHousing) {
        let Some(municipality) = o.municipality().map(MunicipalityCode::get) else { continue };
        let sector = Counts::new(o.numerator, o.denominator);
        let kind = x.indicators[o.indicator as usize].kind;
        for v in 0..versions.len() {
            let lost = plan.get(&(v, municipality, o.indicator, o.year)).copied().unwrap_or_default();
            if rest_of(kind, sector, lost).is_none() {
                missing += 1;
            }
        }
    }
    missing
}
