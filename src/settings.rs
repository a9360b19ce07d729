//! Settings, in increasing precedence: built-in defaults, a settings file (TOML),
//! `BOLIGSOCIAL__SECTION__KEY` environment variables, `DATABASE_URL`, command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;

use crate::domain::figures::Disclosure;
use crate::store::DatabaseUrl;

/// The file read when no `--config` is given, if it exists in the working directory.
pub const DEFAULT_SETTINGS_FILE: &str = "boligsocial.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub dataset: DatasetSettings,
    pub disclosure: Disclosure,
    pub log: LogSettings,
    pub http: HttpSettings,
    #[serde(default)]
    pub admin: AdminSettings,
    #[serde(default)]
    pub import: ImportSettings,
    #[serde(default)]
    pub criteria: CriteriaSettings,
    #[serde(default)]
    pub auth: AuthSettings,
    #[serde(default)]
    pub audit: AuditSettings,
}

/// The audit log of signed-in reads (access.md, "Audit").
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditSettings {
    /// Days a record is kept; then it is deleted.
    pub retention_days: u32,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings { retention_days: 180 }
    }
}

/// The legal criteria's rule sets.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CriteriaSettings {
    /// A directory of further rule sets (`.toml`, `.json`), beside the bundled ones.
    pub rules_dir: Option<std::path::PathBuf>,
}

/// Bounds on one import, on the command line and over HTTP alike.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImportSettings {
    /// Positions one area's (or municipality's) geometry may have.
    pub max_vertices_per_area: usize,
    /// Bytes the extract's rows and geometry may take in memory while it is read; a larger
    /// extract is refused with a problem, never the process.
    pub max_memory_bytes: usize,
}

impl Default for ImportSettings {
    fn default() -> Self {
        let l = crate::ingest::Limits::default();
        ImportSettings { max_vertices_per_area: l.max_vertices_per_area, max_memory_bytes: l.max_memory_bytes }
    }
}

impl ImportSettings {
    pub fn limits(&self) -> crate::ingest::Limits {
        crate::ingest::Limits { max_vertices_per_area: self.max_vertices_per_area, max_memory_bytes: self.max_memory_bytes }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// `Cache-Control: max-age` of read responses, in seconds; revalidation by ETag is cheap.
    pub cache_max_age_seconds: u64,
    /// Origins allowed to read from browsers: `*`, or a comma-separated list of origins.
    pub cors_origins: String,
    /// Bytes of responses kept per dataset version (with their compressed variants).
    pub response_cache_bytes: usize,
    /// Threads that render answers the cache does not have, and compress large ones, at a
    /// lower priority than the request workers; the number of CPUs when unset.
    pub render_threads: Option<usize>,
    /// Renderings that may wait for a thread; beyond, a miss is answered 503 with Retry-After.
    pub render_queue: usize,
}

impl HttpSettings {
    /// The allowed origins, or `None` for any.
    pub fn cors_origin_list(&self) -> Option<Vec<String>> {
        let list: Vec<String> = self.cors_origins.split(',').map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).collect();
        (!list.iter().any(|o| o == "*")).then_some(list)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to listen on, `127.0.0.1:8080` by default.
    pub listen: String,
    /// Worker threads; the number of CPUs when unset.
    pub workers: Option<usize>,
    /// Seconds a client may take to send a request's headers.
    pub client_request_timeout_seconds: u64,
    /// Seconds to finish open requests after SIGTERM/SIGINT.
    pub shutdown_timeout_seconds: u64,
    /// Load balancers and proxies (addresses or networks, comma-separated) whose
    /// `X-Forwarded-For` names the client; none by default. Their `Forwarded` /
    /// `X-Forwarded-Host` / `X-Forwarded-Proto` also give the base URL of links, unless
    /// `public_url` is set.
    pub trusted_proxies: String,
    /// The URL clients reach the service by (`https://kort.example.dk`, or with a path
    /// prefix), for absolute links; unset, it is taken from the request.
    pub public_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://…`, `sqlite://PATH`, or a bare file path.
    pub url: String,
    pub pool_size: u32,
    /// Seconds to open a connection, or to wait for one from the pool.
    pub connect_timeout_seconds: u64,
    /// Seconds one statement may run (imports lift it for their own).
    pub statement_timeout_seconds: u64,
    /// Seconds to wait for a lock: an activation or import behind one fails with 503.
    pub lock_timeout_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSettings {
    /// How often each instance checks which dataset version is active.
    pub refresh_seconds: u64,
    /// Import the bundled demo extract when an embedded database holds no dataset.
    pub load_demo: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable on a terminal, JSON lines otherwise.
    Auto,
    Json,
    Pretty,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A tracing filter such as `info` or `boligsocial=debug,info`; `RUST_LOG` wins when set.
    pub level: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminSettings {
    /// Bearer token for the administration endpoints; unset disables them.
    pub token: Option<String>,
    /// Largest extract zip accepted over HTTP.
    pub max_upload_bytes: usize,
    /// Seconds a client may take to upload an extract.
    pub upload_timeout_seconds: u64,
    /// The slowest an upload may be on average, after its first seconds: a client that
    /// trickles is cut off (408) instead of holding a connection for the whole timeout.
    pub upload_min_bytes_per_second: u64,
    /// Administration requests per minute and client address, with the valid token.
    pub requests_per_minute: u32,
    /// The same without it (wrong or no token): a separate allowance, so that anonymous
    /// requests cannot spend the operator's.
    pub anonymous_requests_per_minute: u32,
}

impl Default for AdminSettings {
    fn default() -> Self {
        AdminSettings {
            token: None,
            max_upload_bytes: 256 << 20,
            upload_timeout_seconds: 600,
            upload_min_bytes_per_second: 16 << 10,
            requests_per_minute: 30,
            anonymous_requests_per_minute: 10,
        }
    }
}

/// Signed-in access (access.md): the OpenID Provider whose access tokens are accepted. Off, and
/// `/v1/me` not found, unless `issuer` is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// The issuer URL; its `/.well-known/openid-configuration` names the signing keys.
    pub issuer: Option<String>,
    /// The signing keys (a JWKS), when discovery is not wanted.
    pub jwks_url: Option<String>,
    /// What a token's `aud` must contain.
    pub audience: String,
    /// The signature algorithms accepted, comma-separated: RS256, RS384, RS512, PS256,
    /// PS384, PS512, ES256, ES384 (never `none` or HS*).
    pub algorithms: String,
    /// Where the caller's CVR number is in the token's claims (a dotted path).
    pub cvr_claim: String,
    /// The scope a token must carry (`scope`, space-separated, or `scp`).
    pub scope: String,
    /// Clock skew allowed on `exp`, `nbf` and `iat`.
    pub leeway_seconds: u64,
    /// `/v1/me` requests per minute and caller (`sub`).
    pub requests_per_minute: u32,
    /// Memory for what each grant may see (its departments' figures and their guard), kept per
    /// dataset version.
    pub view_cache_bytes: u64,
    /// Memory for the signed-in answers kept per grant (asked again, an answer is neither
    /// rendered nor compressed again), per dataset version.
    pub answer_cache_bytes: u64,
    /// The map page's client at the issuer (a public client: authorization code with PKCE, no
    /// secret); the page offers sign-in only when this is set.
    pub map_client_id: Option<String>,
    /// The `resource` (RFC 8707) the map page asks its tokens for, for issuers that want one.
    pub map_resource: Option<String>,
}

/// The origin (RFC 6454) of an http(s) URL: what a page's security policy names to let it
/// reach that URL.
pub fn origin_of(url: &str) -> Result<String, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!("{url:?} is not an http(s) URL"));
    }
    Ok(parsed.origin().ascii_serialization())
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            issuer: None,
            jwks_url: None,
            audience: "boligsocial".into(),
            algorithms: "RS256, PS256, ES256".into(),
            cvr_claim: "cvr".into(),
            scope: "boligsocial:departments".into(),
            leeway_seconds: 60,
            requests_per_minute: 600,
            view_cache_bytes: 256 << 20,
            answer_cache_bytes: 64 << 20,
            map_client_id: None,
            map_resource: None,
        }
    }
}

/// Values from the command line, which win over everything else.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub database_url: Option<String>,
    pub listen: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid settings: {0}")]
pub struct SettingsError(pub String);

impl Settings {
    /// Loads settings from the process environment.
    pub fn load(overrides: &Overrides) -> Result<Settings, SettingsError> {
        Self::load_from(overrides, std::env::vars())
    }

    /// Loads settings with the given environment (for tests).
    pub fn load_from(overrides: &Overrides, env: impl IntoIterator<Item = (String, String)>) -> Result<Settings, SettingsError> {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let mut builder = Config::builder()
            .set_default("server.listen", "127.0.0.1:8080")
            .and_then(|b| b.set_default("server.client_request_timeout_seconds", 5))
            .and_then(|b| b.set_default("server.shutdown_timeout_seconds", 30))
            .and_then(|b| b.set_default("server.trusted_proxies", ""))
            .and_then(|b| b.set_default("database.url", "sqlite://boligsocial.db"))
            .and_then(|b| b.set_default("database.pool_size", 8))
            .and_then(|b| b.set_default("database.connect_timeout_seconds", 5))
            .and_then(|b| b.set_default("database.statement_timeout_seconds", 30))
            .and_then(|b| b.set_default("database.lock_timeout_seconds", 5))
            .and_then(|b| b.set_default("dataset.refresh_seconds", 10))
            .and_then(|b| b.set_default("dataset.load_demo", true))
            .and_then(|b| b.set_default("disclosure.min_population", 20))
            .and_then(|b| b.set_default("disclosure.min_count", 5))
            .and_then(|b| b.set_default("log.format", "auto"))
            .and_then(|b| b.set_default("log.level", "info"))
            .and_then(|b| b.set_default("http.cache_max_age_seconds", 60))
            .and_then(|b| b.set_default("http.cors_origins", "*"))
            .and_then(|b| b.set_default("http.response_cache_bytes", 64 << 20))
            .and_then(|b| b.set_default("http.render_queue", 64))
            .map_err(|e| SettingsError(e.to_string()))?;
        builder = match &overrides.config_file {
            Some(path) => {
                if !path.is_file() {
                    return Err(SettingsError(format!("the settings file {} does not exist", path.display())));
                }
                builder.add_source(File::from(path.as_path()).format(FileFormat::Toml).required(true))
            }
            None => builder.add_source(File::from(Path::new(DEFAULT_SETTINGS_FILE)).format(FileFormat::Toml).required(false)),
        };
        let prefixed: config::Map<String, String> = env.iter().filter(|(k, _)| k.starts_with("BOLIGSOCIAL__")).cloned().collect();
        builder = builder.add_source(
            Environment::with_prefix("BOLIGSOCIAL").prefix_separator("__").separator("__").try_parsing(true).source(Some(prefixed)),
        );
        if let Some((_, url)) = env.iter().find(|(k, _)| k == "DATABASE_URL") {
            builder = builder.set_override("database.url", url.as_str()).map_err(|e| SettingsError(e.to_string()))?;
        }
        if let Some(url) = &overrides.database_url {
            builder = builder.set_override("database.url", url.as_str()).map_err(|e| SettingsError(e.to_string()))?;
        }
        if let Some(listen) = &overrides.listen {
            builder = builder.set_override("server.listen", listen.as_str()).map_err(|e| SettingsError(e.to_string()))?;
        }
        let settings: Settings = builder.build().and_then(Config::try_deserialize).map_err(|e| SettingsError(e.to_string()))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        let bad = |key: &str, why: String| Err(SettingsError(format!("{key}: {why}")));
        if let Err(e) = self.listen_addr() {
            return bad("server.listen", e);
        }
        if let Err(e) = DatabaseUrl::parse(&self.database.url) {
            return bad("database.url", e);
        }
        if self.database.pool_size == 0 {
            return bad("database.pool_size", "must be at least 1".into());
        }
        for (key, v) in [
            ("database.connect_timeout_seconds", self.database.connect_timeout_seconds),
            ("database.statement_timeout_seconds", self.database.statement_timeout_seconds),
            ("database.lock_timeout_seconds", self.database.lock_timeout_seconds),
        ] {
            if v == 0 {
                return bad(key, "must be at least 1".into());
            }
        }
        if self.dataset.refresh_seconds == 0 {
            return bad("dataset.refresh_seconds", "must be at least 1".into());
        }
        if let Err(e) = crate::http::client_address::parse_networks(&self.server.trusted_proxies) {
            return bad("server.trusted_proxies", e);
        }
        if let Err(e) = crate::http::public_base::PublicBase::new(self.server.public_url.as_deref(), Vec::new()) {
            return bad("server.public_url", e);
        }
        if self.http.render_threads == Some(0) {
            return bad("http.render_threads", "must be at least 1".into());
        }
        if self.http.render_queue == 0 {
            return bad("http.render_queue", "must be at least 1".into());
        }
        if self.server.workers == Some(0) {
            return bad("server.workers", "must be at least 1".into());
        }
        if self.disclosure.min_population == 0 {
            return bad("disclosure.min_population", "must be at least 1".into());
        }
        if self.disclosure.min_count == 0 {
            return bad("disclosure.min_count", "must be at least 1".into());
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return bad("log.level", e.to_string());
        }
        if let Some(origins) = self.http.cors_origin_list()
            && let Some(o) = origins.iter().find(|o| !(o.starts_with("http://") || o.starts_with("https://")) || o.ends_with('/'))
        {
            return bad("http.cors_origins", format!("{o:?} is not an origin such as https://kort.example.dk"));
        }
        if self.import.max_vertices_per_area < 4 {
            return bad("import.max_vertices_per_area", "must be at least 4 (a ring's least)".into());
        }
        if self.admin.requests_per_minute == 0 {
            return bad("admin.requests_per_minute", "must be at least 1".into());
        }
        if self.admin.anonymous_requests_per_minute == 0 {
            return bad("admin.anonymous_requests_per_minute", "must be at least 1".into());
        }
        if self.auth.map_client_id.is_some() {
            match &self.auth.issuer {
                None => return bad("auth.map_client_id", "needs auth.issuer, the provider the map page signs in at".into()),
                Some(issuer) => {
                    if let Err(e) = origin_of(issuer) {
                        return bad("auth.issuer", e);
                    }
                }
            }
        }
        if self.admin.token.as_deref().is_some_and(|t| t.len() < 16) {
            return bad("admin.token", "must be at least 16 characters".into());
        }
        Ok(())
    }

    pub fn listen_addr(&self) -> Result<SocketAddr, String> {
        self.server.listen.parse().map_err(|_| format!("{:?} is not an address such as 127.0.0.1:8080", self.server.listen))
    }

    pub fn database_timeouts(&self) -> crate::store::Timeouts {
        use std::time::Duration;
        crate::store::Timeouts {
            connect: Duration::from_secs(self.database.connect_timeout_seconds),
            statement: Duration::from_secs(self.database.statement_timeout_seconds),
            lock: Duration::from_secs(self.database.lock_timeout_seconds),
        }
    }

    /// How long since the last successful check of the database an instance still calls
    /// itself ready: three refresh intervals, and never less than one slow check.
    pub fn readiness_staleness(&self) -> std::time::Duration {
        let refresh = std::time::Duration::from_secs(self.dataset.refresh_seconds);
        (refresh * 3).max(self.database_timeouts().deadline() + refresh)
    }

    #[expect(clippy::expect_used, reason = "the URL was validated when the settings were loaded")]
    pub fn database_url(&self) -> DatabaseUrl {
        DatabaseUrl::parse(&self.database.url).expect("validated when loaded")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults() {
        let s = Settings::load_from(&Overrides::default(), env(&[])).unwrap();
        assert_eq!(s.server.listen, "127.0.0.1:8080");
        assert_eq!(s.database_url(), DatabaseUrl::Sqlite("boligsocial.db".into()));
        assert_eq!(s.dataset.refresh_seconds, 10);
        assert_eq!(s.disclosure, Disclosure { min_population: 20, min_count: 5 });
        assert_eq!(s.log.format, LogFormat::Auto);
        assert!(s.admin.token.is_none());
        assert_eq!(s.server.trusted_proxies, "");
    }

    #[test]
    fn precedence_file_env_database_url_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("settings.toml");
        std::fs::write(&file, "[database]\nurl = \"sqlite://from-file.db\"\n[dataset]\nrefresh_seconds = 3\n[disclosure]\nmin_count = 3\n")
            .unwrap();
        let o = Overrides { config_file: Some(file.clone()), ..Default::default() };
        let s = Settings::load_from(&o, env(&[])).unwrap();
        assert_eq!(s.database.url, "sqlite://from-file.db");
        assert_eq!(s.dataset.refresh_seconds, 3);
        assert_eq!(s.disclosure.min_count, 3);

        let s = Settings::load_from(
            &o,
            env(&[("BOLIGSOCIAL__DATABASE__URL", "sqlite://from-env.db"), ("BOLIGSOCIAL__DATASET__REFRESH_SECONDS", "7")]),
        )
        .unwrap();
        assert_eq!(s.database.url, "sqlite://from-env.db");
        assert_eq!(s.dataset.refresh_seconds, 7);

        let s =
            Settings::load_from(&o, env(&[("BOLIGSOCIAL__DATABASE__URL", "sqlite://from-env.db"), ("DATABASE_URL", "postgres://x@h/db")]))
                .unwrap();
        assert_eq!(s.database.url, "postgres://x@h/db");

        let o = Overrides { database_url: Some("sqlite://flag.db".into()), listen: Some("0.0.0.0:9000".into()), ..o };
        let s = Settings::load_from(&o, env(&[("DATABASE_URL", "postgres://x@h/db")])).unwrap();
        assert_eq!(s.database.url, "sqlite://flag.db");
        assert_eq!(s.server.listen, "0.0.0.0:9000");
    }

    #[test]
    fn admin_token_from_the_environment() {
        let s = Settings::load_from(&Overrides::default(), env(&[("BOLIGSOCIAL__ADMIN__TOKEN", "0123456789abcdef0123")])).unwrap();
        assert_eq!(s.admin.token.as_deref(), Some("0123456789abcdef0123"));
    }

    #[test]
    fn the_map_page_signs_in_only_at_an_issuer_it_can_name() {
        let e = Settings::load_from(&Overrides::default(), env(&[("BOLIGSOCIAL__AUTH__MAP_CLIENT_ID", "map")])).unwrap_err();
        assert!(e.to_string().contains("auth.map_client_id"), "{e}");
        let e = Settings::load_from(
            &Overrides::default(),
            env(&[("BOLIGSOCIAL__AUTH__MAP_CLIENT_ID", "map"), ("BOLIGSOCIAL__AUTH__ISSUER", "login.example.dk")]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("auth.issuer"), "{e}");
        let s = Settings::load_from(
            &Overrides::default(),
            env(&[("BOLIGSOCIAL__AUTH__MAP_CLIENT_ID", "map"), ("BOLIGSOCIAL__AUTH__ISSUER", "https://login.example.dk/realms/x")]),
        )
        .unwrap();
        assert_eq!(s.auth.map_client_id.as_deref(), Some("map"));
        assert_eq!(origin_of("https://login.example.dk/realms/x").unwrap(), "https://login.example.dk");
        assert_eq!(origin_of("http://127.0.0.1:18600").unwrap(), "http://127.0.0.1:18600");
        assert!(origin_of("file:///etc/passwd").is_err());
    }

    #[test]
    fn invalid_settings_name_the_setting() {
        let cases = [
            ("BOLIGSOCIAL__SERVER__LISTEN", "nowhere", "server.listen"),
            ("BOLIGSOCIAL__DATASET__REFRESH_SECONDS", "soon", "refresh_seconds"),
            ("BOLIGSOCIAL__DATASET__REFRESH_SECONDS", "0", "dataset.refresh_seconds"),
            ("BOLIGSOCIAL__DATABASE__URL", "mysql://h/db", "database.url"),
            ("BOLIGSOCIAL__LOG__FORMAT", "xml", "log.format"),
            ("BOLIGSOCIAL__DISCLOSURE__MIN_POPULATION", "0", "disclosure.min_population"),
            ("BOLIGSOCIAL__ADMIN__TOKEN", "short", "admin.token"),
            ("BOLIGSOCIAL__HTTP__CORS_ORIGINS", "kort.example.dk", "http.cors_origins"),
            ("BOLIGSOCIAL__SERVER__TRUSTED_PROXIES", "10.0.0.0/8, lb.internal", "server.trusted_proxies"),
            ("BOLIGSOCIAL__HTTP__CACHE_MAX_AGE_SECONDS", "-1", "cache_max_age_seconds"),
            ("BOLIGSOCIAL__SERVER__PUBLIC_URL", "kort.example.dk", "server.public_url"),
            ("BOLIGSOCIAL__HTTP__RENDER_QUEUE", "0", "http.render_queue"),
        ];
        for (key, value, named) in cases {
            let e = Settings::load_from(&Overrides::default(), env(&[(key, value)])).unwrap_err();
            assert!(e.to_string().contains(named), "{key}={value}: {e}");
        }
        // a misspelt setting stops the program instead of being ignored (the default would
        // silently apply): in the environment, at the top and inside a section, and in a file
        for (key, named) in [
            ("BOLIGSOCIAL__DATASET__REFRESH_SECOND", "refresh_second"),
            ("BOLIGSOCIAL__SERVR__LISTEN", "servr"),
            ("BOLIGSOCIAL__DISCLOSURE__MIN_POP", "min_pop"),
            ("BOLIGSOCIAL__ADMIN__TOKN", "tokn"),
        ] {
            let e = Settings::load_from(&Overrides::default(), env(&[(key, "3")])).unwrap_err();
            assert!(e.to_string().contains(named), "{key}: {e}");
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("typo.toml");
        std::fs::write(&file, "[http]\ncache_max_age = 5\n").unwrap();
        let typo = Overrides { config_file: Some(file), ..Default::default() };
        let e = Settings::load_from(&typo, env(&[])).unwrap_err();
        assert!(e.to_string().contains("cache_max_age"), "{e}");
        let missing = Overrides { config_file: Some("/nonexistent/b.toml".into()), ..Default::default() };
        assert!(Settings::load_from(&missing, env(&[])).unwrap_err().to_string().contains("/nonexistent/b.toml"));
    }
}
