//! Writing a validated extract as a new dataset version, in one transaction.

use std::io::Write;

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use super::schema::*;
use super::{DbConnection, StoreError};
use crate::domain::model::Level;
use crate::ingest::extract::{Extract, Observation};

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Stored as a new version, which is now served.
    Imported { version: i64 },
    /// The same content is already stored; nothing was written.
    AlreadyStored { version: i64 },
}

impl ImportOutcome {
    pub fn version(self) -> i64 {
        match self {
            ImportOutcome::Imported { version } | ImportOutcome::AlreadyStored { version } => version,
        }
    }
}

/// SQLite allows 32,766 bound values per statement.
const SQLITE_MAX_VARIABLES: usize = 32_000;

#[derive(Insertable)]
#[diesel(table_name = datasets)]
struct NewDataset<'a> {
    version: i64,
    title: &'a str,
    source: &'a str,
    boundary_version: &'a str,
    content_hash: &'a str,
    imported_at: &'a str,
    active: bool,
}

#[derive(Insertable)]
#[diesel(table_name = indicators)]
struct NewIndicator<'a> {
    dataset_version: i64,
    code: &'a str,
    position: i32,
    name_da: &'a str,
    name_en: &'a str,
    kind: &'a str,
    direction: &'a str,
    population_da: &'a str,
    population_en: &'a str,
    description_da: Option<&'a str>,
    description_en: Option<&'a str>,
}

#[derive(Insertable)]
#[diesel(table_name = municipalities)]
struct NewMunicipality<'a> {
    dataset_version: i64,
    code: i32,
    name: &'a str,
    region_code: Option<&'a str>,
}

#[derive(Insertable)]
#[diesel(table_name = departments)]
struct NewDepartment<'a> {
    dataset_version: i64,
    department_id: &'a str,
    name: &'a str,
    municipality_code: i32,
    organisation: Option<&'a str>,
}

#[derive(Insertable)]
#[diesel(table_name = areas)]
struct NewArea<'a> {
    dataset_version: i64,
    area_id: &'a str,
    position: i32,
    name: &'a str,
    municipality_code: i32,
}

#[derive(Insertable)]
#[diesel(table_name = area_departments)]
struct NewMembership<'a> {
    dataset_version: i64,
    boundary_version: &'a str,
    department_id: &'a str,
    area_id: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = department_observations)]
struct NewDepartmentObservation<'a> {
    dataset_version: i64,
    department_id: &'a str,
    indicator: &'a str,
    year: i32,
    numerator: f64,
    denominator: i64,
}

#[derive(Insertable)]
#[diesel(table_name = reference_observations)]
struct NewReferenceObservation<'a> {
    dataset_version: i64,
    level: &'a str,
    municipality_code: Option<i32>,
    indicator: &'a str,
    year: i32,
    numerator: f64,
    denominator: i64,
}

#[derive(Insertable)]
#[diesel(table_name = area_geometries)]
struct NewGeometry<'a> {
    dataset_version: i64,
    area_id: &'a str,
    geometry: String,
    min_lon: f64,
    min_lat: f64,
    max_lon: f64,
    max_lat: f64,
}

/// Inserts rows in multi-row statements that fit the bound-variable limit. Multi-row
/// inserts are backend-specific in diesel, so each backend gets its own expansion.
macro_rules! insert_chunked {
    ($conn:expr, $table:expr, $rows:expr, $columns:expr) => {{
        let rows = $rows;
        for chunk in rows.chunks((SQLITE_MAX_VARIABLES / $columns).max(1)) {
            match &mut *$conn {
                DbConnection::Pg(c) => diesel::insert_into($table).values(chunk).execute(c)?,
                DbConnection::Sqlite(c) => diesel::insert_into($table).values(chunk).execute(c)?,
            };
        }
        tracing::debug!(table = stringify!($table), rows = rows.len(), "inserted");
    }};
}

/// Writes the extract as a new dataset version and makes it the served one, all in one
/// transaction; an extract whose content hash is already stored is recognised and left alone.
pub fn import_extract(conn: &mut DbConnection, extract: &Extract, imported_at: &str) -> Result<ImportOutcome, StoreError> {
    conn.transaction(|conn| {
        // One importer at a time: PostgreSQL by a table lock, SQLite by taking its write lock
        // with a first write (a deferred transaction that reads first could not upgrade).
        match conn {
            DbConnection::Pg(_) => diesel::sql_query("LOCK TABLE datasets IN SHARE ROW EXCLUSIVE MODE").execute(conn)?,
            DbConnection::Sqlite(_) => diesel::sql_query("UPDATE datasets SET active = active WHERE version < 0").execute(conn)?,
        };
        let existing: Option<i64> = datasets::table
            .filter(datasets::content_hash.eq(&extract.content_hash))
            .select(datasets::version)
            .first(conn)
            .optional()?;
        if let Some(version) = existing {
            return Ok(ImportOutcome::AlreadyStored { version });
        }
        let latest: Option<i64> = datasets::table.select(diesel::dsl::max(datasets::version)).first(conn)?;
        let version = latest.unwrap_or(0) + 1;
        let started = std::time::Instant::now();
        write_version(conn, extract, version, imported_at)?;
        tracing::debug!(ms = started.elapsed().as_millis() as u64, "version written, committing");
        activate_in_transaction(conn, version)?;
        Ok(ImportOutcome::Imported { version })
    })
}

fn write_version(conn: &mut DbConnection, x: &Extract, v: i64, imported_at: &str) -> Result<(), StoreError> {
    let m = &x.manifest;
    diesel::insert_into(datasets::table)
        .values(NewDataset {
            version: v,
            title: &m.title,
            source: &m.source,
            boundary_version: &m.boundary_version,
            content_hash: &x.content_hash,
            imported_at,
            active: false,
        })
        .execute(conn)?;

    let rows: Vec<_> = x
        .indicators
        .iter()
        .enumerate()
        .map(|(i, r)| NewIndicator {
            dataset_version: v,
            code: &r.code,
            position: i as i32,
            name_da: &r.name_da,
            name_en: &r.name_en,
            kind: r.kind.as_str(),
            direction: r.direction.as_str(),
            population_da: &r.population_da,
            population_en: &r.population_en,
            description_da: r.description_da.as_deref(),
            description_en: r.description_en.as_deref(),
        })
        .collect();
    insert_chunked!(conn, indicators::table, &rows, 11);

    let rows: Vec<_> = x
        .municipalities
        .iter()
        .map(|r| NewMunicipality {
            dataset_version: v,
            code: r.code.get() as i32,
            name: &r.name,
            region_code: r.region_code.as_deref(),
        })
        .collect();
    insert_chunked!(conn, municipalities::table, &rows, 4);

    let rows: Vec<_> = x
        .departments
        .iter()
        .map(|r| NewDepartment {
            dataset_version: v,
            department_id: &r.department_id,
            name: &r.name,
            municipality_code: r.municipality.get() as i32,
            organisation: r.organisation.as_deref(),
        })
        .collect();
    insert_chunked!(conn, departments::table, &rows, 5);

    let rows: Vec<_> = x
        .areas
        .iter()
        .enumerate()
        .map(|(i, r)| NewArea {
            dataset_version: v,
            area_id: &r.area_id,
            position: i as i32,
            name: &r.name,
            municipality_code: r.municipality.get() as i32,
        })
        .collect();
    insert_chunked!(conn, areas::table, &rows, 5);

    let rows: Vec<_> = x
        .memberships
        .iter()
        .map(|r| NewMembership {
            dataset_version: v,
            boundary_version: &r.boundary_version,
            department_id: &x.departments[r.department as usize].department_id,
            area_id: &x.areas[r.area as usize].area_id,
        })
        .collect();
    insert_chunked!(conn, area_departments::table, &rows, 4);

    let (department_rows, reference_rows) =
        x.observations.split_at(x.observations.partition_point(|o| o.level == Level::Department));
    let started = std::time::Instant::now();
    write_department_observations(conn, x, v, department_rows)?;
    tracing::debug!(rows = department_rows.len(), ms = started.elapsed().as_millis() as u64, "department observations written");

    let sums = super::aggregates::area_sums(x);
    diesel::insert_into(dataset_aggregates::table)
        .values((dataset_aggregates::dataset_version.eq(v), dataset_aggregates::area_sums.eq(super::aggregates::encode(&sums))))
        .execute(conn)?;
    drop(sums);
    write_reference_observations(conn, x, v, reference_rows)?;
    tracing::debug!(rows = reference_rows.len(), "reference observations written");

    let rows: Vec<_> = x
        .geometries
        .iter()
        .filter_map(|g| {
            let bbox = g.geometry.bbox()?;
            let mut geometry = String::with_capacity(32 * g.geometry.positions().count());
            // nine decimals of a degree: a tenth of a millimetre
            g.geometry.write_geojson(&mut geometry, 9);
            Some(NewGeometry {
                dataset_version: v,
                area_id: &x.areas[g.area as usize].area_id,
                geometry,
                min_lon: bbox[0],
                min_lat: bbox[1],
                max_lon: bbox[2],
                max_lat: bbox[3],
            })
        })
        .collect();
    insert_chunked!(conn, area_geometries::table, &rows, 7);
    Ok(())
}

// PostgreSQL loads a version's observations into this table, then makes it that version's
// partition of department_observations (see the migration). Only one import runs at a time
// (the datasets lock), so the fixed name is safe, and it is renamed before the commit.
diesel::table! {
    department_observations_load (dataset_version, department_id, indicator, year) {
        dataset_version -> BigInt,
        department_id -> Text,
        indicator -> Text,
        year -> Integer,
        numerator -> Double,
        denominator -> BigInt,
    }
}

/// The bulk of an extract: millions of rows. PostgreSQL takes them through COPY into a new
/// partition whose keys are checked in bulk; SQLite through multi-row inserts.
fn write_department_observations(
    conn: &mut DbConnection,
    x: &Extract,
    v: i64,
    rows: &[Observation],
) -> Result<(), StoreError> {
    match conn {
        DbConnection::Pg(pg) => {
            use diesel::connection::SimpleConnection;
            pg.batch_execute(
                "SET LOCAL maintenance_work_mem = '1GB'; \
                 CREATE TABLE department_observations_load \
                   (LIKE department_observations INCLUDING DEFAULTS INCLUDING CONSTRAINTS)",
            )?;
            let order = primary_key_order(x, rows);
            let written = diesel::copy_from(department_observations_load::table)
                .from_raw_data(department_observations_load::table, |out: &mut dyn Write| {
                    let mut line = Vec::with_capacity(128);
                    for o in order.iter().map(|&i| &rows[i as usize]) {
                        line.clear();
                        write!(line, "{v}\t").map_err(io_error)?;
                        copy_text(&mut line, &x.departments[o.unit as usize].department_id);
                        line.push(b'\t');
                        copy_text(&mut line, &x.indicators[o.indicator as usize].code);
                        writeln!(line, "\t{}\t{}\t{}", o.year, o.numerator, o.denominator as i64).map_err(io_error)?;
                        out.write_all(&line).map_err(io_error)?;
                    }
                    Ok::<(), diesel::result::Error>(())
                })
                .execute(pg)?;
            if written != rows.len() {
                return Err(StoreError::Corrupt(format!("COPY wrote {written} of {} observations", rows.len())));
            }
            let copied = std::time::Instant::now();
            // the key in one sort, then the foreign keys in one join each as it is attached
            pg.batch_execute(&format!(
                "ALTER TABLE department_observations_load \
                   ADD CONSTRAINT department_observations_v{v}_pkey PRIMARY KEY (dataset_version, department_id, indicator, year); \
                 ALTER TABLE department_observations_load ADD CONSTRAINT department_observations_v{v}_version CHECK (dataset_version = {v}); \
                 ALTER TABLE department_observations_load RENAME TO department_observations_v{v};"
            ))?;
            let keyed = std::time::Instant::now();
            pg.batch_execute(&format!(
                "ALTER TABLE department_observations ATTACH PARTITION department_observations_v{v} FOR VALUES IN ({v});"
            ))?;
            tracing::debug!(
                key_ms = (keyed - copied).as_millis() as u64,
                attach_ms = keyed.elapsed().as_millis() as u64,
                "partition keyed and attached"
            );
        }
        DbConnection::Sqlite(sqlite) => write_sqlite_observations(sqlite, x, v, rows)?,
    }
    Ok(())
}

/// Tens of thousands of rows: COPY on PostgreSQL, multi-row inserts on SQLite.
fn write_reference_observations(conn: &mut DbConnection, x: &Extract, v: i64, rows: &[Observation]) -> Result<(), StoreError> {
    match conn {
        DbConnection::Pg(pg) => {
            diesel::copy_from(reference_observations::table)
                .from_raw_data(reference_observations::table, |out: &mut dyn Write| {
                    let mut line = Vec::with_capacity(96);
                    for o in rows {
                        line.clear();
                        write!(line, "{v}\t{}\t", o.level.as_str()).map_err(io_error)?;
                        match o.municipality() {
                            Some(m) => write!(line, "{}", m.get()).map_err(io_error)?,
                            None => line.extend_from_slice(b"\\N"),
                        }
                        line.push(b'\t');
                        copy_text(&mut line, &x.indicators[o.indicator as usize].code);
                        writeln!(line, "\t{}\t{}\t{}", o.year, o.numerator, o.denominator as i64).map_err(io_error)?;
                        out.write_all(&line).map_err(io_error)?;
                    }
                    Ok::<(), diesel::result::Error>(())
                })
                .execute(pg)?;
        }
        DbConnection::Sqlite(_) => {
            let rows: Vec<_> = rows
                .iter()
                .map(|o| NewReferenceObservation {
                    dataset_version: v,
                    level: o.level.as_str(),
                    municipality_code: o.municipality().map(|m| m.get() as i32),
                    indicator: &x.indicators[o.indicator as usize].code,
                    year: o.year as i32,
                    numerator: o.numerator,
                    denominator: o.denominator as i64,
                })
                .collect();
            insert_chunked!(conn, reference_observations::table, &rows, 7);
        }
    }
    Ok(())
}

/// The rows in the order of the primary key (department id, indicator code, year, compared
/// byte by byte as the "C" collation does), so that building the key finds them sorted.
fn primary_key_order(x: &Extract, rows: &[Observation]) -> Vec<u32> {
    let rank = |names: Vec<&str>| {
        let mut order: Vec<usize> = (0..names.len()).collect();
        order.sort_by_key(|&i| names[i].as_bytes());
        let mut rank = vec![0u32; names.len()];
        for (r, &i) in order.iter().enumerate() {
            rank[i] = r as u32;
        }
        rank
    };
    let department_rank = rank(x.departments.iter().map(|d| d.department_id.as_str()).collect());
    let indicator_rank = rank(x.indicators.iter().map(|i| i.code.as_str()).collect());
    let mut order: Vec<u32> = (0..rows.len() as u32).collect();
    order.sort_unstable_by_key(|&i| {
        let o = &rows[i as usize];
        (department_rank[o.unit as usize], indicator_rank[o.indicator as usize], o.year)
    });
    order
}

fn write_sqlite_observations(conn: &mut SqliteConnection, x: &Extract, v: i64, rows: &[Observation]) -> QueryResult<()> {
    let mut batch = Vec::with_capacity(SQLITE_MAX_VARIABLES / 6);
    for chunk in rows.chunks(SQLITE_MAX_VARIABLES / 6) {
        batch.clear();
        batch.extend(chunk.iter().map(|o| NewDepartmentObservation {
            dataset_version: v,
            department_id: &x.departments[o.unit as usize].department_id,
            indicator: &x.indicators[o.indicator as usize].code,
            year: o.year as i32,
            numerator: o.numerator,
            denominator: o.denominator as i64,
        }));
        diesel::insert_into(department_observations::table).values(&batch).execute(conn)?;
    }
    Ok(())
}

fn io_error(e: std::io::Error) -> diesel::result::Error {
    diesel::result::Error::SerializationError(Box::new(e))
}

/// Escapes a value for COPY's text format.
fn copy_text(out: &mut Vec<u8>, s: &str) {
    for b in s.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

fn activate_in_transaction(conn: &mut DbConnection, version: i64) -> Result<(), StoreError> {
    // two statements: the single-active index is checked row by row
    diesel::update(datasets::table.filter(datasets::active)).set(datasets::active.eq(false)).execute(conn)?;
    let n = diesel::update(datasets::table.find(version)).set(datasets::active.eq(true)).execute(conn)?;
    if n != 1 {
        return Err(StoreError::Corrupt(format!("dataset version {version} vanished while activating it")));
    }
    Ok(())
}

/// Serves a stored version again (a rollback). Returns false when no such version exists.
pub fn activate(conn: &mut DbConnection, version: i64) -> Result<bool, StoreError> {
    conn.transaction(|conn| {
        let exists: i64 = datasets::table.filter(datasets::version.eq(version)).count().get_result(conn)?;
        if exists == 0 {
            return Ok(false);
        }
        activate_in_transaction(conn, version)?;
        Ok(true)
    })
}

#[cfg(test)]
mod tests {
    use super::copy_text;

    #[test]
    fn escapes_copy_text() {
        let mut out = Vec::new();
        copy_text(&mut out, "a\tb\\c\nd");
        assert_eq!(out, b"a\\tb\\\\c\\nd");
    }
}
