//! The only module that speaks SQL: connections to PostgreSQL or the embedded SQLite,
//! migrations per backend, writing an extract as a dataset version, reading one back.

pub mod aggregates;
pub mod audit;
pub mod read;
pub mod schema;
pub mod write;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

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

/// How long the database may take, on every connection: so that a lock, a hung server or a
/// silent network fails a request, a refresh or an activation instead of holding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// To open a connection (libpq's `connect_timeout`).
    pub connect: Duration,
    /// For one statement (PostgreSQL's `statement_timeout`); imports lift it for their own
    /// long statements.
    pub statement: Duration,
    /// To wait for a lock (`lock_timeout`).
    pub lock: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { connect: Duration::from_secs(5), statement: Duration::from_secs(30), lock: Duration::from_secs(5) }
    }
}

impl Timeouts {
    /// The longest one check of the database can legitimately take.
    pub fn deadline(&self) -> Duration {
        self.connect + self.statement
    }
}

/// The libpq URL with timeouts and TCP keepalives added where it does not set them itself:
/// a peer that vanishes without a word (a dropped NAT entry, a dead host) is found within
/// about half a minute instead of the kernel's quarter of an hour.
fn with_connection_parameters(url: &str, t: &Timeouts) -> String {
    let params = [
        ("connect_timeout", t.connect.as_secs().max(1).to_string()),
        ("keepalives", "1".to_string()),
        ("keepalives_idle", "10".to_string()),
        ("keepalives_interval", "5".to_string()),
        ("keepalives_count", "3".to_string()),
        ("tcp_user_timeout", (t.statement.as_millis().max(1000) as u64).to_string()),
    ];
    let mut out = url.to_string();
    for (name, value) in params {
        if !url.contains(&format!("{name}=")) {
            out.push(if out.contains('?') { '&' } else { '?' });
            out.push_str(&format!("{name}={value}"));
        }
    }
    out
}

/// Opens one connection with the default timeouts.
pub fn connect(url: &DatabaseUrl) -> Result<DbConnection, StoreError> {
    connect_with(url, &Timeouts::default())
}

/// Opens one connection, with SQLite set up for concurrent use and PostgreSQL's timeouts set.
pub fn connect_with(url: &DatabaseUrl, timeouts: &Timeouts) -> Result<DbConnection, StoreError> {
    match url {
        DatabaseUrl::Postgres(u) => {
            let mut conn =
                PgConnection::establish(&with_connection_parameters(u, timeouts)).map_err(|e| StoreError::Connect(e.to_string()))?;
            conn.batch_execute(&format!(
                "SET statement_timeout = {}; SET lock_timeout = {}",
                timeouts.statement.as_millis(),
                timeouts.lock.as_millis()
            ))
            .map_err(|e| StoreError::Connect(e.to_string()))?;
            Ok(DbConnection::Pg(conn))
        }
        DatabaseUrl::Sqlite(path) => {
            let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                .map_err(|e| StoreError::Connect(format!("{}: {e}", path.display())))?;
            // WAL lets readers go on while an import writes; busy_timeout waits for the writer
            // (as long as for a lock in PostgreSQL) instead of failing at once; foreign keys are
            // off in SQLite unless asked for.
            conn.batch_execute(&format!(
                "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                timeouts.lock.as_millis()
            ))
            .map_err(|e| StoreError::Connect(format!("{}: {e}", path.display())))?;
            Ok(DbConnection::Sqlite(conn))
        }
    }
}

/// Whether the connection answers a trivial statement (the readiness probe's question).
pub fn ping(conn: &mut DbConnection) -> bool {
    use diesel::connection::SimpleConnection;
    conn.batch_execute("SELECT 1").is_ok()
}

/// Brings the schema up to date; returns the names of the migrations applied.
/// Several instances may start at once against one PostgreSQL: an advisory lock lets one
/// migrate while the others wait, then find nothing left to do.
pub fn migrate(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    const MIGRATION_LOCK: i64 = 0x626f_6c69_6773; // "boligs"
    let applied = match conn {
        DbConnection::Pg(c) => {
            // a migration may rewrite large tables, and waiting for another instance's
            // migration is expected: no statement timeout meanwhile
            c.batch_execute(&format!(
                "SELECT set_config('boligsocial.statement_timeout', current_setting('statement_timeout'), false); \
                 SET statement_timeout = 0; SELECT pg_advisory_lock({MIGRATION_LOCK})"
            ))?;
            let applied = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.iter().map(|m| m.to_string()).collect());
            c.batch_execute(&format!(
                "SELECT pg_advisory_unlock({MIGRATION_LOCK}); \
                 SELECT set_config('statement_timeout', current_setting('boligsocial.statement_timeout'), false)"
            ))?;
            applied
        }
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.iter().map(|m| m.to_string()).collect()),
    };
    applied.map_err(|e| StoreError::Migration(e.to_string()))
}

/// Creates connections for the pool.
pub struct Manager {
    url: DatabaseUrl,
    timeouts: Timeouts,
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = StoreError;

    fn connect(&self) -> Result<DbConnection, StoreError> {
        connect_with(&self.url, &self.timeouts)
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
pub fn pool(url: &DatabaseUrl, size: u32, timeouts: Timeouts) -> Result<Pool, StoreError> {
    Ok(r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(0))
        .connection_timeout(timeouts.connect)
        .test_on_check_out(true)
        .build_unchecked(Manager { url: url.clone(), timeouts }))
}

impl StoreError {
    /// Whether the database is busy or unreachable rather than the request wrong: a lock it
    /// waited for in vain, a statement it cut off, a connection that broke. Worth a retry.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Connect(_) | StoreError::Pool(_) => true,
            StoreError::Query(diesel::result::Error::DatabaseError(kind, info)) => {
                use diesel::result::DatabaseErrorKind as K;
                let m = info.message();
                matches!(kind, K::ClosedConnection | K::SerializationFailure)
                    || m.contains("lock timeout")
                    || m.contains("statement timeout")
                    || m.contains("database is locked")
                    || m.contains("canceling statement")
            }
            StoreError::Query(diesel::result::Error::BrokenTransactionManager) => true,
            _ => false,
        }
    }
}

/// The current time as RFC 3339 UTC, as stored in `datasets.imported_at`.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    // (a UTC time of this millennium always formats; the fallback is the same instant)
    now.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| now.unix_timestamp().to_string())
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
    fn adds_timeouts_and_keepalives_the_url_does_not_set() {
        let t = Timeouts { connect: Duration::from_secs(3), statement: Duration::from_secs(20), lock: Duration::from_secs(2) };
        let url = with_connection_parameters("postgres://u@h/db", &t);
        assert!(url.starts_with("postgres://u@h/db?connect_timeout=3&keepalives=1&"), "{url}");
        assert!(url.contains("tcp_user_timeout=20000"), "{url}");
        let own = with_connection_parameters("postgres://u@h/db?sslmode=require&connect_timeout=9", &t);
        assert!(own.contains("connect_timeout=9") && !own.contains("connect_timeout=3") && own.contains("&keepalives=1"), "{own}");
    }

    #[test]
    fn hides_passwords() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/boligsocial").unwrap();
        assert_eq!(url.to_string(), "postgres://app:***@db:5432/boligsocial");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(redact("postgres://app@db/x"), "postgres://app@db/x");
    }
}
