//! Writing a validated extract as a new dataset version, in one transaction.

use std::io::Write;

use diesel::connection::SimpleConnection;
use diesel::pg::{CopyFormat, PgConnection};
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
    criteria_indicators: Option<String>,
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
    cvr: Option<&'a str>,
}

#[derive(Insertable)]
#[diesel(table_name = organisations)]
struct NewOrganisation<'a> {
    dataset_version: i64,
    organisation_id: &'a str,
    name: &'a str,
    cvr: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = plans)]
struct NewPlan<'a> {
    dataset_version: i64,
    plan_id: &'a str,
    area_id: &'a str,
    name: &'a str,
    from_year: i32,
    to_year: i32,
}

#[derive(Insertable)]
#[diesel(table_name = plan_departments)]
struct NewPlanDepartment<'a> {
    dataset_version: i64,
    plan_id: &'a str,
    department_id: &'a str,
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
#[diesel(table_name = region_observations)]
struct NewRegionObservation<'a> {
    dataset_version: i64,
    region_code: String,
    indicator: &'a str,
    year: i32,
    numerator: f64,
    denominator: i64,
}

#[derive(Insertable)]
#[diesel(table_name = municipality_geometries)]
struct NewMunicipalityGeometry {
    dataset_version: i64,
    municipality_code: i32,
    geometry: String,
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

/// Opens another connection to the same database: PostgreSQL imports load the observations
/// over several connections at once (see `ObservationLoad`).
pub type Connector<'a> = &'a (dyn Fn() -> Result<DbConnection, StoreError> + Sync);

/// Writes the extract as a new dataset version and makes it the served one, all in one
/// transaction; an extract whose content hash is already stored is recognised and left alone.
pub fn import_extract(
    conn: &mut DbConnection,
    connect: Connector,
    extract: &Extract,
    imported_at: &str,
) -> Result<ImportOutcome, StoreError> {
    let outcome = conn.transaction(|conn| {
        // One importer at a time: PostgreSQL by a table lock, SQLite by taking its write lock
        // with a first write (a deferred transaction that reads first could not upgrade).
        match conn {
            // (an import's statements may run long: the statement timeout is lifted for this
            // transaction; the lock timeout stays, so a held lock fails the import fast)
            DbConnection::Pg(_) => {
                diesel::sql_query("SET LOCAL statement_timeout = 0").execute(conn)?;
                diesel::sql_query("LOCK TABLE datasets IN SHARE ROW EXCLUSIVE MODE").execute(conn)?
            }
            DbConnection::Sqlite(_) => diesel::sql_query("UPDATE datasets SET active = active WHERE version < 0").execute(conn)?,
        };
        let existing: Option<i64> =
            datasets::table.filter(datasets::content_hash.eq(&extract.content_hash)).select(datasets::version).first(conn).optional()?;
        if let Some(version) = existing {
            return Ok(ImportOutcome::AlreadyStored { version });
        }
        let latest: Option<i64> = datasets::table.select(diesel::dsl::max(datasets::version)).first(conn)?;
        let version = latest.unwrap_or(0) + 1;
        let started = std::time::Instant::now();
        write_version(conn, connect, extract, version, imported_at)?;
        tracing::debug!(ms = started.elapsed().as_millis() as u64, "version written, committing");
        activate_in_transaction(conn, version)?;
        Ok(ImportOutcome::Imported { version })
    });
    if outcome.is_err()
        && let DbConnection::Pg(pg) = conn
    {
        // what parallel loaders committed for a version that was not written (best effort:
        // the next import removes it too)
        let _ = drop_load_tables(pg);
    }
    outcome
}

fn write_version(conn: &mut DbConnection, connect: Connector, x: &Extract, v: i64, imported_at: &str) -> Result<(), StoreError> {
    let (department_rows, reference_rows) = x.observations.split_at(x.observations.partition_point(|o| o.level == Level::Department));
    // (the region rows sort last)
    let (reference_rows, region_rows) = reference_rows.split_at(reference_rows.partition_point(|o| o.level != Level::Region));
    // The bulk, the department observations, loads on PostgreSQL over connections of its own
    // (`ObservationLoad`) while this one writes the rest, and the client's own work (the
    // areas' sums, the geometries' text) runs on another thread: the import's critical path
    // is the database's loading and keying of millions of rows.
    std::thread::scope(|scope| {
        let load = match conn {
            DbConnection::Pg(_) => Some(ObservationLoad::start(scope, connect, x, v, department_rows)?),
            DbConnection::Sqlite(_) => None,
        };
        let prepared = scope.spawn(|| {
            let sums = super::aggregates::encode(&super::aggregates::area_sums(x));
            (sums, geometry_rows(x, v), municipality_geometry_rows(x, v))
        });
        write_catalogue(conn, x, v, imported_at)?;
        write_reference_observations(conn, x, v, reference_rows)?;
        let regions: Vec<NewRegionObservation> = region_rows
            .iter()
            .map(|o| NewRegionObservation {
                dataset_version: v,
                region_code: o.unit.to_string(),
                indicator: &x.indicators[o.indicator as usize].code,
                year: o.year as i32,
                numerator: o.numerator,
                denominator: o.denominator as i64,
            })
            .collect();
        insert_chunked!(conn, region_observations::table, &regions, 6);
        tracing::debug!(rows = reference_rows.len(), "reference observations written");
        match (load, &mut *conn) {
            (Some(load), DbConnection::Pg(pg)) => load.finish(pg)?,
            (_, DbConnection::Sqlite(sqlite)) => write_sqlite_observations(sqlite, x, v, department_rows)?,
            (None, DbConnection::Pg(_)) => unreachable!("PostgreSQL always loads in parts"),
        }

        let (sums, geometries, outlines) =
            prepared.join().map_err(|_| StoreError::Corrupt("preparing the aggregates and geometries panicked".into()))?;
        diesel::insert_into(dataset_aggregates::table)
            .values((dataset_aggregates::dataset_version.eq(v), dataset_aggregates::area_sums.eq(sums)))
            .execute(conn)?;
        insert_chunked!(conn, area_geometries::table, &geometries, 7);
        insert_chunked!(conn, municipality_geometries::table, &outlines, 3);
        Ok(())
    })
}

/// The version's row and its catalogue: indicators, municipalities, departments, areas and
/// their memberships.
fn write_catalogue(conn: &mut DbConnection, x: &Extract, v: i64, imported_at: &str) -> Result<(), StoreError> {
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
            criteria_indicators: super::read::criteria_indicators_json(m),
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
            cvr: r.cvr.as_deref(),
        })
        .collect();
    insert_chunked!(conn, municipalities::table, &rows, 5);

    let rows: Vec<_> = x
        .organisations
        .iter()
        .map(|r| NewOrganisation { dataset_version: v, organisation_id: &r.organisation_id, name: &r.name, cvr: &r.cvr })
        .collect();
    insert_chunked!(conn, organisations::table, &rows, 4);

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
    write_plans(conn, x, v)
}

/// The plans' grant periods and the departments each covered.
fn write_plans(conn: &mut DbConnection, x: &Extract, v: i64) -> Result<(), StoreError> {
    let rows: Vec<_> = x
        .plans
        .iter()
        .map(|r| NewPlan {
            dataset_version: v,
            plan_id: &r.plan_id,
            area_id: &x.areas[r.area as usize].area_id,
            name: &r.name,
            from_year: i32::from(r.from_year),
            to_year: i32::from(r.to_year),
        })
        .collect();
    insert_chunked!(conn, plans::table, &rows, 6);
    let rows: Vec<_> = x
        .plans
        .iter()
        .flat_map(|r| {
            r.departments.iter().map(|&d| NewPlanDepartment {
                dataset_version: v,
                plan_id: &r.plan_id,
                department_id: &x.departments[d as usize].department_id,
            })
        })
        .collect();
    insert_chunked!(conn, plan_departments::table, &rows, 3);
    Ok(())
}

/// Geometries are stored to nine decimals of a degree: a tenth of a millimetre.
const STORED_DECIMALS: usize = 9;

fn geometry_rows(x: &Extract, v: i64) -> Vec<NewGeometry<'_>> {
    x.geometries
        .iter()
        .filter_map(|g| {
            let bbox = g.geometry.bbox()?;
            let mut geometry = String::with_capacity(32 * g.geometry.positions().count());
            g.geometry.write_geojson(&mut geometry, STORED_DECIMALS);
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
        .collect()
}

fn municipality_geometry_rows(x: &Extract, v: i64) -> Vec<NewMunicipalityGeometry> {
    x.municipality_geometries
        .iter()
        .map(|g| {
            let mut geometry = String::new();
            g.geometry.write_geojson(&mut geometry, STORED_DECIMALS);
            NewMunicipalityGeometry { dataset_version: v, municipality_code: g.municipality.get() as i32, geometry }
        })
        .collect()
}

// PostgreSQL loads a version's observations into these tables, then makes each part of that
// version's partition of its parent (see the migrations and `ObservationLoad`). Only
// one import runs at a time (the datasets lock), so the fixed names are safe, and they are
// renamed before the commit.
macro_rules! department_observations_load_table {
    ($name:ident) => {
        diesel::table! {
            $name (dataset_version, department_id, indicator, year) {
                dataset_version -> BigInt,
                department_id -> Text,
                indicator -> Text,
                year -> Integer,
                numerator -> Double,
                denominator -> BigInt,
            }
        }
    };
}
department_observations_load_table!(department_observations_load_0);
department_observations_load_table!(department_observations_load_1);

diesel::table! {
    reference_observations_load (dataset_version, level, indicator, year) {
        dataset_version -> BigInt,
        level -> Text,
        municipality_code -> Nullable<Integer>,
        indicator -> Text,
        year -> Integer,
        numerator -> Double,
        denominator -> BigInt,
    }
}

/// PostgreSQL: a version's rows go by COPY into a new table without keys, which then becomes
/// the version's partition of `parent`. Attaching builds its keys in one sort and checks its
/// foreign keys in one join each, where loading into the partitioned table would update an
/// index and fire a trigger per foreign key for every row. The partition's CHECK on the
/// version spares the attach a scan of its own.
fn load_partition(
    pg: &mut PgConnection,
    parent: &str,
    v: i64,
    rows: usize,
    copy: impl FnOnce(&mut PgConnection) -> QueryResult<usize>,
) -> Result<(), StoreError> {
    pg.batch_execute(&format!(
        "SET LOCAL maintenance_work_mem = '1GB'; \
         CREATE TABLE {parent}_load (LIKE {parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
    ))?;
    let written = copy(pg)?;
    if written != rows {
        return Err(StoreError::Corrupt(format!("COPY wrote {written} of {rows} rows into {parent}")));
    }
    let copied = std::time::Instant::now();
    pg.batch_execute(&format!(
        "ALTER TABLE {parent}_load ADD CONSTRAINT {parent}_v{v}_version CHECK (dataset_version = {v}); \
         ALTER TABLE {parent}_load RENAME TO {parent}_v{v}; \
         ALTER TABLE {parent} ATTACH PARTITION {parent}_v{v} FOR VALUES IN ({v});"
    ))?;
    tracing::debug!(parent, rows, attach_ms = copied.elapsed().as_millis() as u64, "partition attached");
    Ok(())
}

/// How many connections load a version's department observations at once (one table type
/// each above).
const LOAD_PARTS: usize = 2;

/// PostgreSQL: the version's partition of department_observations is itself partitioned by
/// ranges of department id, and each range is loaded and keyed on a connection of its own, in
/// parallel with each other and with the rest of the import; loading, sorting and indexing
/// millions of rows is where an import spends its time, and one connection uses one core.
/// The parts are committed as tables outside the import's transaction (invisible: no dataset
/// refers to them), then attached inside it, which checks their foreign keys in one join each.
/// A part left by an import that died is dropped by the next one.
struct ObservationLoad<'scope> {
    loaders: Vec<std::thread::ScopedJoinHandle<'scope, Result<(), StoreError>>>,
    /// Makes the loaded parts the version's partition.
    attach: String,
    rows: usize,
    started: std::time::Instant,
}

impl<'scope> ObservationLoad<'scope> {
    fn start<'env>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        connect: Connector<'env>,
        x: &'env Extract,
        v: i64,
        rows: &'env [Observation],
    ) -> Result<Self, StoreError> {
        let started = std::time::Instant::now();
        let (order, department_rank) = primary_key_order(x, rows);
        // cut the rows, in key order, at departments of equal rank steps
        let mut by_rank: Vec<&str> = vec![""; x.departments.len()];
        for (d, &r) in x.departments.iter().zip(&department_rank) {
            by_rank[r as usize] = &d.department_id;
        }
        let parts = LOAD_PARTS.min(x.departments.len()).max(1);
        let cuts: Vec<u32> = (1..parts).map(|k| (k * x.departments.len() / parts) as u32).collect();
        // the bounds of part k are bound(k) inclusive to bound(k + 1) exclusive; None is open
        let bound = |k: usize| if k == 0 || k == parts { None } else { Some(by_rank[cuts[k - 1] as usize].to_string()) };
        let literal = |b: Option<String>, open: &str| b.map_or(open.to_string(), |b| sql_literal(&b));

        let order = std::sync::Arc::new(order);
        let mut loaders = Vec::with_capacity(parts);
        let mut from = 0;
        let mut attach = format!(
            "CREATE TABLE department_observations_v{v} \
               (LIKE department_observations INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (department_id); "
        );
        for k in 0..parts {
            let to = match cuts.get(k) {
                Some(&cut) => from + order[from..].partition_point(|&i| department_rank[rows[i as usize].unit as usize] < cut),
                None => order.len(),
            };
            let (order, range, bounds) = (order.clone(), from..to, (bound(k), bound(k + 1)));
            loaders.push(scope.spawn(move || {
                let DbConnection::Pg(mut loader) = connect()? else {
                    return Err(StoreError::Corrupt("a loader's connection is not to PostgreSQL".into()));
                };
                loader.batch_execute("SET statement_timeout = 0")?;
                load_part(&mut loader, x, v, rows, &order[range], k, bounds)
            }));
            attach.push_str(&format!(
                "ALTER TABLE department_observations_load_{k} RENAME TO department_observations_v{v}_{k}; \
                 ALTER TABLE department_observations_v{v} ATTACH PARTITION department_observations_v{v}_{k} \
                   FOR VALUES FROM ({}) TO ({}); ",
                literal(bound(k), "MINVALUE"),
                literal(bound(k + 1), "MAXVALUE"),
            ));
            from = to;
        }
        attach.push_str(&format!("ALTER TABLE department_observations ATTACH PARTITION department_observations_v{v} FOR VALUES IN ({v});"));
        Ok(ObservationLoad { loaders, attach, rows: rows.len(), started })
    }

    /// Waits for the loaders, then attaches their parts in the import's transaction.
    fn finish(self, pg: &mut PgConnection) -> Result<(), StoreError> {
        for loader in self.loaders {
            loader.join().map_err(|_| StoreError::Corrupt("a loader of the observations panicked".into()))??;
        }
        let loaded = std::time::Instant::now();
        pg.batch_execute(&self.attach)?;
        tracing::debug!(
            rows = self.rows,
            load_ms = (loaded - self.started).as_millis() as u64,
            attach_ms = loaded.elapsed().as_millis() as u64,
            "department observations loaded and attached"
        );
        Ok(())
    }
}

/// One part of a version's department observations, on its own connection: COPY (frozen)
/// into a new table whose CHECKs spare the attaches a scan, its primary key built in one sort
/// of rows that arrive sorted; committed.
fn load_part(
    pg: &mut PgConnection,
    x: &Extract,
    v: i64,
    rows: &[Observation],
    order: &[u32],
    k: usize,
    (from, to): (Option<String>, Option<String>),
) -> Result<(), StoreError> {
    let table = format!("department_observations_load_{k}");
    let part = format!("department_observations_v{v}_{k}"); // its name once attached
    pg.transaction(|pg| {
        // the range's CHECK goes on the empty table: checked row by row as COPY writes,
        // not by a scan of its own afterwards
        let mut range = vec![format!("dataset_version = {v}"), "department_id IS NOT NULL".to_string()];
        range.extend(from.map(|b| format!("department_id >= {}", sql_literal(&b))));
        range.extend(to.map(|b| format!("department_id < {}", sql_literal(&b))));
        // (a table of this name is left over from an import that died after its loaders
        // committed: imports run one at a time)
        pg.batch_execute(&format!(
            "SET LOCAL maintenance_work_mem = '1GB'; \
             DROP TABLE IF EXISTS {table}; \
             CREATE TABLE {table} (LIKE department_observations INCLUDING DEFAULTS INCLUDING CONSTRAINTS); \
             ALTER TABLE {table} ADD CONSTRAINT {part}_range CHECK ({});",
            range.join(" AND ")
        ))?;
        // COPY names its table statically: one table type per part
        macro_rules! copy_into {
            ($table:expr) => {
                diesel::copy_from($table)
                    .from_raw_data($table, |out: &mut dyn Write| {
                        BinaryCopy::write(out, order.iter().map(|&i| &rows[i as usize]), |copy, o| {
                            copy.row(6)
                                .int8(v)
                                .text(&x.departments[o.unit as usize].department_id)
                                .text(&x.indicators[o.indicator as usize].code)
                                .int4(o.year as i32)
                                .float8(o.numerator)
                                .int8(o.denominator as i64);
                        })
                    })
                    .with_format(CopyFormat::Binary)
                    // the table is new in this transaction, so its rows may be written frozen
                    // and all-visible: the attach's foreign-key checks then read the key
                    // alone, and no later reader rewrites every page to set hint bits (the
                    // attach took half the time, the import a third less)
                    .with_freeze(true)
                    .execute(pg)?
            };
        }
        let written = match k {
            0 => copy_into!(department_observations_load_0::table),
            1 => copy_into!(department_observations_load_1::table),
            _ => unreachable!("LOAD_PARTS is 2"),
        };
        if written != order.len() {
            return Err(StoreError::Corrupt(format!("COPY wrote {written} of {} rows into {table}", order.len())));
        }
        pg.batch_execute(&format!(
            "ALTER TABLE {table} ADD CONSTRAINT {part}_pkey PRIMARY KEY (dataset_version, department_id, indicator, year)"
        ))?;
        Ok(())
    })
}

/// Drops the tables parallel loaders committed for an import that failed.
fn drop_load_tables(pg: &mut PgConnection) -> Result<(), StoreError> {
    let drops: String = (0..LOAD_PARTS).map(|k| format!("DROP TABLE IF EXISTS department_observations_load_{k}; ")).collect();
    Ok(pg.batch_execute(&drops)?)
}

/// A string as an SQL literal.
fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Tens of thousands of rows: COPY on PostgreSQL, multi-row inserts on SQLite.
fn write_reference_observations(conn: &mut DbConnection, x: &Extract, v: i64, rows: &[Observation]) -> Result<(), StoreError> {
    match conn {
        DbConnection::Pg(pg) => load_partition(pg, "reference_observations", v, rows.len(), |pg| {
            diesel::copy_from(reference_observations_load::table)
                .from_raw_data(reference_observations_load::table, |out: &mut dyn Write| {
                    BinaryCopy::write(out, rows, |copy, o| {
                        copy.row(7)
                            .int8(v)
                            .text(o.level.as_str())
                            .nullable_int4(o.municipality().map(|m| m.get() as i32))
                            .text(&x.indicators[o.indicator as usize].code)
                            .int4(o.year as i32)
                            .float8(o.numerator)
                            .int8(o.denominator as i64);
                    })
                })
                .with_format(CopyFormat::Binary)
                .with_freeze(true) // (a table new in this transaction, as in load_part)
                .execute(pg)
        }),
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
            Ok(())
        }
    }
}

/// The rows in the order of the primary key (department id, indicator code, year, compared
/// byte by byte as the "C" collation does), so that building the key finds them sorted; and
/// each department's rank in that order.
fn primary_key_order(x: &Extract, rows: &[Observation]) -> (Vec<u32>, Vec<u32>) {
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
    (order, department_rank)
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

/// Rows in COPY's binary format, which PostgreSQL takes with less parsing than text (no
/// number conversion, no escapes): a signature, then per row the field count and each field
/// as its length and big-endian bytes, then -1.
struct BinaryCopy<'a> {
    out: &'a mut dyn Write,
    buffer: Vec<u8>,
}

impl<'a> BinaryCopy<'a> {
    const BUFFER: usize = 64 * 1024;

    fn new(out: &'a mut dyn Write) -> Self {
        let mut buffer = Vec::with_capacity(Self::BUFFER + 512);
        buffer.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buffer.extend_from_slice(&0i32.to_be_bytes()); // flags
        buffer.extend_from_slice(&0i32.to_be_bytes()); // header extension length
        BinaryCopy { out, buffer }
    }

    fn row(&mut self, fields: i16) -> &mut Self {
        self.buffer.extend_from_slice(&fields.to_be_bytes());
        self
    }

    fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.buffer.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        self.buffer.extend_from_slice(bytes);
        self
    }

    fn int8(&mut self, value: i64) -> &mut Self {
        self.field(&value.to_be_bytes())
    }

    fn int4(&mut self, value: i32) -> &mut Self {
        self.field(&value.to_be_bytes())
    }

    fn nullable_int4(&mut self, value: Option<i32>) -> &mut Self {
        match value {
            Some(value) => self.int4(value),
            None => {
                self.buffer.extend_from_slice(&(-1i32).to_be_bytes());
                self
            }
        }
    }

    fn float8(&mut self, value: f64) -> &mut Self {
        self.field(&value.to_bits().to_be_bytes())
    }

    fn text(&mut self, value: &str) -> &mut Self {
        self.field(value.as_bytes())
    }

    /// The whole COPY data: the signature, each item as `row` writes it, the trailer.
    fn write<T>(out: &'a mut dyn Write, items: impl IntoIterator<Item = T>, mut row: impl FnMut(&mut Self, T)) -> QueryResult<()> {
        let mut copy = BinaryCopy::new(out);
        for item in items {
            row(&mut copy, item);
            if copy.buffer.len() >= Self::BUFFER {
                copy.out.write_all(&copy.buffer).map_err(io_error)?;
                copy.buffer.clear();
            }
        }
        copy.buffer.extend_from_slice(&(-1i16).to_be_bytes());
        copy.out.write_all(&copy.buffer).map_err(io_error)
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
    use super::{BinaryCopy, sql_literal};

    #[test]
    fn writes_copy_binary_format() {
        let mut out = Vec::new();
        BinaryCopy::write(&mut out, [true, false], |copy, first| {
            if first {
                copy.row(4).int8(-2).text("ab").nullable_int4(None).float8(0.5);
            } else {
                copy.row(1).int4(7);
            }
        })
        .unwrap();
        let mut expected = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0".to_vec();
        expected.extend([0, 4]); // fields
        expected.extend([0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]);
        expected.extend([0, 0, 0, 2, b'a', b'b']);
        expected.extend([0xff, 0xff, 0xff, 0xff]); // NULL
        expected.extend([0, 0, 0, 8, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0]);
        expected.extend([0, 1, 0, 0, 0, 4, 0, 0, 0, 7]);
        expected.extend([0xff, 0xff]); // trailer
        assert_eq!(out, expected);
    }

    #[test]
    fn quotes_sql_literals() {
        assert_eq!(sql_literal("0101-0001"), "'0101-0001'");
        assert_eq!(sql_literal("O'Brien"), "'O''Brien'");
    }
}
