//! The only module that speaks SQL: connections to PostgreSQL or the embedded SQLite,
//! migrations per backend, writing an extract as a dataset version, reading one back.

pub mod aggregates;
pub mod read;
pub mod schema;
pub mod write;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub use read::StoredDataset;
pub use write::ImportOutcome;

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// One connection type for both backends.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("cannot bring the schema up to date: {0}")]
    Migration(String),
    #[error("no database connection available: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("the stored data is inconsistent: {0}")]
    Corrupt(String),
}

/// Where the data lives: `postgres://…`/`postgresql://…`, or `sqlite://PATH` / a bare path.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.is_empty() {
            return Err("the database URL is empty".into());
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_string()));
        }
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if path.is_empty() {
                return Err("sqlite:// needs a file path, such as sqlite://boligsocial.db".into());
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if url.contains("://") {
            return Err(format!("unsupported database URL scheme in {:?}: use postgres://… or sqlite://PATH", redact(url)));
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(url)))
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, DatabaseUrl::Sqlite(_))
    }

    pub fn backend(&self) -> &'static str {
        match self {
            DatabaseUrl::Postgres(_) => "postgresql",
            DatabaseUrl::Sqlite(_) => "sqlite",
        }
    }
}

/// The URL without its password, for logs and messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme + 3], &userinfo[..colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Postgres(url) => f.write_str(&redact(url)),
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Opens one connection, with SQLite set up for concurrent use.
pub fn connect(url: &DatabaseUrl) -> Result<DbConnection, StoreError> {
    match url {
        DatabaseUrl::Postgres(u) => {
            PgConnection::establish(u).map(DbConnection::Pg).map_err(|e| StoreError::Connect(e.to_string()))
        }
        DatabaseUrl::Sqlite(path) => {
            let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                .map_err(|e| StoreError::Connect(format!("{}: {e}", path.display())))?;
            // WAL lets readers go on while an import writes; busy_timeout waits for the writer
            // instead of failing; foreign keys are off in SQLite unless asked for.
            conn.batch_execute(
                "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(|e| StoreError::Connect(format!("{}: {e}", path.display())))?;
            Ok(DbConnection::Sqlite(conn))
        }
    }
}

/// Brings the schema up to date; returns the names of the migrations applied.
/// Several instances may start at once against one PostgreSQL: an advisory lock lets one
/// migrate while the others wait, then find nothing left to do.
pub fn migrate(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    const MIGRATION_LOCK: i64 = 0x626f_6c69_6773; // "boligs"
    let applied = match conn {
        DbConnection::Pg(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
            let applied = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.iter().map(|m| m.to_string()).collect());
            c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
            applied
        }
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.iter().map(|m| m.to_string()).collect()),
    };
    applied.map_err(|e| StoreError::Migration(e.to_string()))
}

/// Creates connections for the pool.
pub struct Manager {
    url: DatabaseUrl,
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = StoreError;

    fn connect(&self) -> Result<DbConnection, StoreError> {
        connect(&self.url)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), StoreError> {
        conn.batch_execute("SELECT 1").map_err(StoreError::from)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        use diesel::r2d2::R2D2Connection;
        conn.is_broken()
    }
}

pub type Pool = r2d2::Pool<Manager>;

/// A pool that does not fail when the database is down at start: connections are made when
/// needed, and each wait for one is bounded.
pub fn pool(url: &DatabaseUrl, size: u32, timeout: Duration) -> Result<Pool, StoreError> {
    Ok(r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(0))
        .connection_timeout(timeout)
        .test_on_check_out(true)
        .build_unchecked(Manager { url: url.clone() }))
}

/// The current time as RFC 3339 UTC, as stored in `datasets.imported_at`.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
        .format(&time::format_description::well_known::Rfc3339)
        .expect("a UTC time formats as RFC 3339")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_database_urls() {
        assert_eq!(DatabaseUrl::parse("sqlite://boligsocial.db"), Ok(DatabaseUrl::Sqlite("boligsocial.db".into())));
        assert_eq!(DatabaseUrl::parse("sqlite:///var/lib/b.db"), Ok(DatabaseUrl::Sqlite("/var/lib/b.db".into())));
        assert_eq!(DatabaseUrl::parse("data/b.db"), Ok(DatabaseUrl::Sqlite("data/b.db".into())));
        assert!(matches!(DatabaseUrl::parse("postgres://u@h/db"), Ok(DatabaseUrl::Postgres(_))));
        assert!(matches!(DatabaseUrl::parse("postgresql://u@h/db"), Ok(DatabaseUrl::Postgres(_))));
        assert!(DatabaseUrl::parse("mysql://h/db").is_err());
        assert!(DatabaseUrl::parse("").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn hides_passwords() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/boligsocial").unwrap();
        assert_eq!(url.to_string(), "postgres://app:***@db:5432/boligsocial");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(redact("postgres://app@db/x"), "postgres://app@db/x");
    }
}

