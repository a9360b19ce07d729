//! Migrations that change the shape of stored data keep what is stored.

use crate::common::TestDb;
use boligsocial::store;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(QueryableByName, Debug, PartialEq)]
struct Row {
    #[diesel(sql_type = Text)]
    row: String,
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Name {
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn reference_rows(conn: &mut PgConnection) -> Vec<Row> {
    diesel::sql_query("SELECT r::text AS row FROM reference_observations r ORDER BY r::text").load(conn).unwrap()
}

fn partitions(conn: &mut PgConnection, parent: &str) -> Vec<Name> {
    diesel::sql_query(format!("SELECT inhrelid::regclass::text AS name FROM pg_inherits WHERE inhparent = '{parent}'::regclass ORDER BY 1"))
        .load(conn)
        .unwrap()
}

/// Reference observations stored before they were partitioned by version move into one
/// partition per version, unchanged, and imports go on from there.
#[test]
fn reference_observations_move_into_partitions() {
    let Some(db) = TestDb::postgres_empty() else { return };
    let mut conn = PgConnection::establish(db.url()).unwrap();
    // the schema as it was before 2026-11-25-000003_bulk_load, with a stored version
    for _ in 0..2 {
        conn.run_next_migration(POSTGRES_MIGRATIONS).unwrap();
    }
    conn.batch_execute(
        "INSERT INTO datasets VALUES (1, 'old', 'test', '2014', 'hash-1', '2026-01-01T00:00:00Z', TRUE);
         INSERT INTO indicators VALUES (1, 'employment', 0, 'Beskæftigelse', 'Employment', 'share',
             'higher_is_better', 'Alle', 'All', NULL, NULL);
         INSERT INTO municipalities VALUES (1, 101, 'København', '1084'), (1, 751, 'Aarhus', '1082');
         INSERT INTO reference_observations VALUES
             (1, 'municipality', 101, 'employment', 2020, 512.5, 1000),
             (1, 'social_housing', 751, 'employment', 2021, 40, 100),
             (1, 'country', NULL, 'employment', 2020, 0.25, 4);",
    )
    .unwrap();
    let before = reference_rows(&mut conn);
    assert_eq!(before.len(), 3);
    assert!(partitions(&mut conn, "reference_observations").is_empty(), "not yet partitioned");

    let applied = store::migrate(&mut db.connect()).unwrap();
    assert_eq!(
        applied,
        ["20261125000003", "20261125000004", "20261202000005", "20261207000006", "20261207000007", "20261207000008"],
        "the bulk-load migration and those after it"
    );

    assert_eq!(reference_rows(&mut conn), before, "the stored rows are kept as they were");
    assert_eq!(partitions(&mut conn, "reference_observations"), [Name { name: Some("reference_observations_v1".into()) }]);
    // the constraints still hold on the partitioned table
    let duplicate = conn.batch_execute("INSERT INTO reference_observations VALUES (1, 'country', NULL, 'employment', 2020, 1, 1)");
    assert!(duplicate.is_err(), "a second country row for the same year is refused");
    let orphan = conn.batch_execute("INSERT INTO reference_observations VALUES (1, 'municipality', 999, 'employment', 2020, 1, 1)");
    assert!(orphan.is_err(), "a municipality the version does not have is refused");
    let storage: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM pg_attribute WHERE attstorage = 'e' AND \
           ((attrelid = 'dataset_aggregates'::regclass AND attname = 'area_sums') OR \
            (attrelid = 'area_geometries'::regclass AND attname = 'geometry'))",
    )
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(storage.n, 2, "the blobs are stored uncompressed");

    // an import after the migration adds its own partitions
    let out = crate::common::import(&db, &crate::common::fixture("spec-extract"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        partitions(&mut conn, "reference_observations"),
        [Name { name: Some("reference_observations_v1".into()) }, Name { name: Some("reference_observations_v2".into()) }]
    );
    assert_eq!(partitions(&mut conn, "department_observations"), [Name { name: Some("department_observations_v2".into()) }]);
    let moved: Count =
        diesel::sql_query("SELECT count(*) AS n FROM reference_observations WHERE dataset_version = 2").get_result(&mut conn).unwrap();
    assert!(moved.n > 0);
}
