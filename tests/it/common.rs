//! Test support: a fresh database per test (SQLite in a temporary folder, or PostgreSQL
//! cloned from a migrated template), the real service on port 0, and the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use boligsocial::settings::Overrides;
pub use boligsocial::settings::Settings;
use boligsocial::startup::Application;
use boligsocial::store::{self, DatabaseUrl};
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::{Connection, RunQueryDsl};
use sha2::{Digest, Sha256};

/// Where the tests find a PostgreSQL server to create databases on.
pub const POSTGRES_URL_VAR: &str = "BOLIGSOCIAL_TEST_POSTGRES_URL";
/// Set to 1 (as CI does) to fail instead of skipping when PostgreSQL is unreachable.
pub const REQUIRE_POSTGRES_VAR: &str = "BOLIGSOCIAL_TEST_REQUIRE_POSTGRES";
const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub enum TestDb {
    Sqlite { _dir: tempfile::TempDir, url: String },
    Postgres { name: String, url: String, admin_url: String },
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn server_url() -> String {
    std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string())
}

/// The same server, another database.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let cut = base.rfind('/').filter(|&i| i > "postgres://".len()).unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..cut], database);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A name for the template that changes whenever a migration changes.
fn template_name() -> String {
    let mut files = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    collect(&root, &mut files);
    files.sort();
    let mut h = Sha256::new();
    for f in files {
        h.update(f.strip_prefix(&root).unwrap().to_string_lossy().as_bytes());
        h.update(std::fs::read(&f).unwrap());
    }
    format!("boligsocial_template_{}", &hex::encode(h.finalize())[..16])
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { collect(&p, out) } else { out.push(p) }
    }
}

/// The server's maintenance database, or `None` (with a message) when no server answers and
/// PostgreSQL is not required.
fn postgres_admin() -> Option<PgConnection> {
    let admin_url = server_url();
    match PgConnection::establish(&admin_url) {
        Ok(c) => Some(c),
        Err(e) => {
            absent(
                REQUIRE_POSTGRES_VAR,
                &format!("PostgreSQL at {admin_url} does not answer ({e}); {POSTGRES_URL_VAR} names another server"),
            );
            None
        }
    }
}

/// What a test needs is not here: a failure when `require_var` is 1 (as in CI), else a skip
/// that says so on the terminal. libtest captures `eprintln!` (shown only for failures), not
/// writes to the process's stderr, so the message is written there.
pub fn absent(require_var: &str, what: &str) {
    if std::env::var(require_var).is_ok_and(|v| v == "1") {
        panic!("{what}, and {require_var}=1 requires it");
    }
    use std::io::Write;
    let thread = std::thread::current(); // libtest names it after the test
    let test = thread.name().unwrap_or("a test");
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {what} (set {require_var}=1 to make this a failure)");
}

/// A new database with a unique name, made by `CREATE DATABASE name <how>`.
fn create_postgres(admin: &mut PgConnection, how: &str) -> TestDb {
    let admin_url = server_url();
    let name = format!(
        "boligsocial_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    // CREATE DATABASE … TEMPLATE fails while another clone of the template is being made
    let mut attempt = 0;
    loop {
        match admin.batch_execute(&format!("CREATE DATABASE {name} {how}")) {
            Ok(()) => break,
            Err(_) if attempt < 50 => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Err(e) => panic!("cannot create {name}: {e}"),
        }
    }
    let url = with_database(&admin_url, &name);
    TestDb::Postgres { name, url, admin_url }
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        TestDb::Sqlite { _dir: dir, url }
    }

    /// A fresh PostgreSQL database, or `None` (with a message) when no server answers and
    /// PostgreSQL is not required.
    pub fn postgres() -> Option<TestDb> {
        let mut admin = postgres_admin()?;
        let admin_url = server_url();
        let template = template_name();
        // one test process creates and migrates the template; the others wait for it
        admin.batch_execute("SELECT pg_advisory_lock(727274)").unwrap();
        let exists: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
            "EXISTS (SELECT 1 FROM pg_database WHERE datname = '{template}')"
        )))
        .get_result(&mut admin)
        .unwrap();
        if !exists {
            admin.batch_execute(&format!("CREATE DATABASE {template}")).unwrap();
            let mut conn = store::connect(&DatabaseUrl::Postgres(with_database(&admin_url, &template))).unwrap();
            store::migrate(&mut conn).unwrap();
        }
        admin.batch_execute("SELECT pg_advisory_unlock(727274)").unwrap();
        Some(create_postgres(&mut admin, &format!("TEMPLATE {template}")))
    }

    /// A fresh, empty PostgreSQL database (no migrations applied), or `None` as `postgres`.
    pub fn postgres_empty() -> Option<TestDb> {
        let mut admin = postgres_admin()?;
        Some(create_postgres(&mut admin, "TEMPLATE template0"))
    }

    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. } | TestDb::Postgres { url, .. } => url,
        }
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, TestDb::Sqlite { .. })
    }

    pub fn connect(&self) -> store::DbConnection {
        store::connect(&DatabaseUrl::parse(self.url()).unwrap()).unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { name, admin_url, .. } = self
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// Settings for a test: the database given, port 0, quick refreshes, no demo.
fn settings_for(url: &str) -> Settings {
    let overrides = Overrides { config_file: None, database_url: Some(url.to_string()), listen: Some("127.0.0.1:0".into()) };
    let mut s = Settings::load_from(&overrides, Vec::new()).unwrap();
    s.dataset.refresh_seconds = 1;
    s.dataset.load_demo = false;
    s.server.workers = Some(2);
    s.server.shutdown_timeout_seconds = 1;
    s
}

/// The service as a test runs it: on port 0, with the settings the builder gave, on a
/// database it owns (dropped with it) or the test's.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    /// The database the app made for itself, kept as long as the app.
    _db: Option<TestDb>,
}

type Edit = Box<dyn FnOnce(&mut Settings)>;

/// How a [`TestApp`] is to be spawned: `TestApp::demo()`, `TestApp::on(&db)`, then
/// `.postgres()`, `.with(|s| …)` and `.spawn()`.
pub struct Spawn {
    db: Source,
    demo: bool,
    edits: Vec<Edit>,
}

enum Source {
    Own(TestDb),
    Url(String),
}

impl TestApp {
    /// The service with the bundled demo, on a fresh embedded database of its own (the demo
    /// is imported at start, as on a user's first `cargo run`).
    pub fn demo() -> Spawn {
        Spawn { db: Source::Own(TestDb::sqlite()), demo: true, edits: Vec::new() }
    }

    /// The service on the test's database, as the test filled it.
    pub fn on(db: &TestDb) -> Spawn {
        Spawn { db: Source::Url(db.url().to_string()), demo: false, edits: Vec::new() }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{}", self.address, path)).send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {body}"));
        (status, json)
    }

    /// The body as served, for byte-for-byte comparisons.
    pub async fn get_text(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }
}

impl Spawn {
    /// On a fresh PostgreSQL database of its own instead (the demo imported into it first);
    /// `None`, with a message, when no server answers and PostgreSQL is not required.
    pub fn postgres(self) -> Option<Spawn> {
        let db = TestDb::postgres()?;
        if self.demo {
            let extract = boligsocial::demo::bundled_extract().unwrap();
            let url = DatabaseUrl::parse(db.url()).unwrap();
            boligsocial::query::datasets::import(&mut db.connect(), &|| store::connect(&url), &extract).unwrap();
        }
        Some(Spawn { db: Source::Own(db), demo: false, edits: self.edits })
    }

    /// One more change to the settings.
    pub fn with(mut self, edit: impl FnOnce(&mut Settings) + 'static) -> Spawn {
        self.edits.push(Box::new(edit));
        self
    }

    /// The settings it would run with.
    pub fn settings(self) -> (Settings, Option<TestDb>) {
        let (url, own) = match self.db {
            Source::Own(db) => (db.url().to_string(), Some(db)),
            Source::Url(url) => (url, None),
        };
        let mut s = settings_for(&url);
        s.dataset.load_demo = self.demo;
        for edit in self.edits {
            edit(&mut s);
        }
        (s, own)
    }

    pub async fn spawn(self) -> TestApp {
        let (settings, db) = self.settings();
        if std::env::var("TEST_LOG").is_ok() {
            static LOG: std::sync::OnceLock<boligsocial::telemetry::LogGuard> = std::sync::OnceLock::new();
            LOG.get_or_init(|| boligsocial::telemetry::init(&settings.log));
        }
        let app = Application::build(settings).await.expect("the service starts");
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        TestApp { address, client: reqwest::Client::new(), _db: db }
    }
}

/// The demo service on the embedded database, and on PostgreSQL when a server answers.
pub async fn demo_on_both() -> Vec<TestApp> {
    let mut apps = vec![TestApp::demo().spawn().await];
    if let Some(pg) = TestApp::demo().postgres() {
        apps.push(pg.spawn().await);
    }
    apps
}

/// Runs the real `boligsocial` binary.
pub fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_boligsocial"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env("BOLIGSOCIAL__LOG__LEVEL", "warn")
        .output()
        .expect("the binary runs")
}

pub fn import(db: &TestDb, path: &Path) -> Output {
    cli(&["import", "--database-url", db.url(), path.to_str().unwrap()])
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Copies a fixture extract into a temporary folder, for mutating.
pub fn copy_fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(fixture(name)).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    dir
}

/// Zips a folder's files, at the root or under one folder.
pub fn zip_dir(dir: &Path, folder: Option<&str>) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for p in entries {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            let name = folder.map_or(name.clone(), |f| format!("{f}/{name}"));
            zip.start_file(name, options).unwrap();
            zip.write_all(&std::fs::read(&p).unwrap()).unwrap();
        }
        zip.finish().unwrap();
    }
    buf.into_inner()
}

/// Declares each listed `async fn name(db: TestDb)` as a test on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::TestDb::sqlite()).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(db) = $crate::common::TestDb::postgres() {
                        super::$name(db).await
                    }
                }
            )*
        }
    };
}

/// What the JSON-stat readers here make of these files: pyjstat (PyPI) and jsonstat-toolkit
/// (npm, in tests/browser), each as `{path: [{dimension: category, …, "value": …}]}`; a reader
/// not installed is skipped (CI: BOLIGSOCIAL_TEST_REQUIRE_CLIENTS=1 insists).
pub fn json_stat_readers(files: &[&std::path::Path]) -> Vec<(&'static str, serde_json::Value)> {
    let root = env!("CARGO_MANIFEST_DIR");
    let paths: Vec<&str> = files.iter().map(|f| f.to_str().unwrap()).collect();
    let mut out = Vec::new();
    let readers: [(&str, &str, String, bool); 2] = [
        (
            "pyjstat",
            "python3",
            format!("{root}/tests/clients/pyjstat_read.py"),
            std::process::Command::new("python3").args(["-c", "import pyjstat"]).output().is_ok_and(|o| o.status.success()),
        ),
        (
            "jsonstat-toolkit",
            "node",
            format!("{root}/tests/browser/jsonstat_read.mjs"),
            std::path::Path::new(root).join("tests/browser/node_modules/jsonstat-toolkit").exists(),
        ),
    ];
    for (name, program, script, present) in readers {
        if !present {
            absent("BOLIGSOCIAL_TEST_REQUIRE_CLIENTS", &format!("{name} is not installed"));
            continue;
        }
        let run = std::process::Command::new(program).arg(&script).args(&paths).output().unwrap();
        assert!(run.status.success(), "{name}: {}", String::from_utf8_lossy(&run.stderr));
        out.push((name, serde_json::from_slice(&run.stdout).unwrap()));
    }
    out
}
