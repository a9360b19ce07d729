//! The `boligsocial` command line (api-contract.md, "Command line").

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::query;
use crate::settings::{Overrides, Settings};
use crate::store::{self, ImportOutcome};
use crate::{demo, ingest, startup, telemetry};

#[derive(Debug, Parser)]
#[command(name = "boligsocial", version, about = "Boligsocial API: areas with a boligsocial helhedsplan and how they develop")]
pub struct Cli {
    /// A settings file (TOML); default ./boligsocial.toml when it exists.
    #[arg(long, global = true, env = "BOLIGSOCIAL_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// postgres://… or sqlite://PATH; wins over DATABASE_URL and the settings.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default).
    Serve {
        /// Address to listen on, default 127.0.0.1:8080.
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Import an extract (a folder or a .zip) as a new dataset version.
    Import {
        #[arg(value_name = "PATH")]
        path: PathBuf,
    },
    /// Bring the database schema up to date.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// List the stored dataset versions.
    Datasets,
    /// Serve an earlier stored dataset version again.
    Activate {
        #[arg(value_name = "VERSION")]
        version: i64,
    },
    /// Print the audit log of signed-in reads (access.md), oldest first.
    Audit {
        /// Only records at or after this date (2026-12-01) or RFC 3339 time.
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// csv (default) or json.
        #[arg(long, value_name = "FORMAT", default_value = "csv", value_parser = ["csv", "json"])]
        format: String,
    },
    /// Exit 0 when an http:// URL answers 2xx within 3 s (the container's health check).
    Probe {
        #[arg(value_name = "URL", default_value = "http://127.0.0.1:8080/readyz")]
        url: String,
    },
    /// Write the synthetic demo extract (as bundled) to a folder.
    DemoExtract {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Write a synthetic extract the size of the whole social-housing sector to a folder.
    NationalExtract {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Scale the number of departments and areas (1.0 = national scale).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
    },
}

/// Exit status for a rejected extract.
const REJECTED: u8 = 1;
/// Exit status for everything else that went wrong.
const FAILED: u8 = 2;

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let listen = match &cli.command {
        Some(Command::Serve { listen }) => listen.clone(),
        _ => None,
    };
    let overrides = Overrides { config_file: cli.config.clone(), database_url: cli.database_url.clone(), listen };
    // commands that need no settings
    match &cli.command {
        Some(Command::Openapi) => {
            print!("{}", crate::api::openapi::openapi_json_text());
            return ExitCode::SUCCESS;
        }
        Some(Command::Probe { url }) => return report(probe(url)),
        Some(Command::DemoExtract { dir }) => {
            return report(demo::write_demo(dir).map(|()| format!("wrote the demo extract to {}", dir.display())));
        }
        Some(Command::NationalExtract { dir, seed, scale }) => {
            return report(demo::national::write(dir, *seed, *scale).map(|stats| format!("wrote {stats} to {}", dir.display())));
        }
        _ => {}
    }
    let settings = match Settings::load(&overrides) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("boligsocial: {e}");
            return ExitCode::from(FAILED);
        }
    };
    let _log = telemetry::init(&settings.log);
    match cli.command.unwrap_or(Command::Serve { listen: None }) {
        Command::Serve { .. } => serve(settings),
        Command::Import { path } => import(&settings, &path),
        Command::Migrate => report(migrate(&settings)),
        Command::Datasets => report(datasets(&settings)),
        Command::Activate { version } => report(activate(&settings, version)),
        Command::Audit { since, format } => report(audit(&settings, since.as_deref(), format == "json")),
        Command::Openapi | Command::Probe { .. } | Command::DemoExtract { .. } | Command::NationalExtract { .. } => {
            unreachable!("handled above")
        }
    }
}

fn report(result: anyhow::Result<String>) -> ExitCode {
    match result {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("boligsocial: {e:#}");
            ExitCode::from(FAILED)
        }
    }
}

fn serve(settings: Settings) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("boligsocial: cannot start the runtime: {e}");
            return ExitCode::from(FAILED);
        }
    };
    let result: anyhow::Result<()> = runtime.block_on(async {
        let app = startup::Application::build(settings).await?;
        app.run_until_stopped().await?;
        Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "the service stopped");
            eprintln!("boligsocial: {e:#}");
            ExitCode::from(FAILED)
        }
    }
}

fn connect(settings: &Settings) -> anyhow::Result<store::DbConnection> {
    let url = settings.database_url();
    let mut conn = store::connect_with(&url, &settings.database_timeouts())?;
    store::migrate(&mut conn)?;
    Ok(conn)
}

/// A connection without migrating: the import use case migrates itself.
fn connect_only(settings: &Settings) -> anyhow::Result<store::DbConnection> {
    Ok(store::connect_with(&settings.database_url(), &settings.database_timeouts())?)
}

fn import(settings: &Settings, path: &std::path::Path) -> ExitCode {
    let started = std::time::Instant::now();
    let extract = match ingest::read_path_with(path, &settings.import.limits()) {
        Ok(x) => x,
        Err(rejection) => {
            eprint!("{rejection}");
            return ExitCode::from(REJECTED);
        }
    };
    let read_time = started.elapsed();
    tracing::debug!(ms = read_time.as_millis() as u64, "extract read and validated");
    let report = connect_only(settings).and_then(|mut conn| {
        tracing::debug!(ms = started.elapsed().as_millis() as u64, "connected");
        let (url, timeouts) = (settings.database_url(), settings.database_timeouts());
        Ok(query::datasets::import(&mut conn, &|| store::connect_with(&url, &timeouts), &extract)?)
    });
    tracing::debug!(ms = started.elapsed().as_millis() as u64, "committed");
    for warning in report.as_ref().map(|r| r.warnings()).unwrap_or_default() {
        println!("note: {warning}");
    }
    match report.map(|r| r.outcome) {
        Ok(ImportOutcome::Imported { version }) => {
            println!(
                "imported {} as dataset version {version} ({} observations; read {:.1}s, total {:.1}s); it is now served",
                path.display(),
                extract.observations.len(),
                read_time.as_secs_f64(),
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Ok(ImportOutcome::AlreadyStored { version }) => {
            println!("{} is identical to stored dataset version {version}; nothing imported", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("boligsocial: the import failed and changed nothing: {e:#}");
            ExitCode::from(FAILED)
        }
    }
}

fn migrate(settings: &Settings) -> anyhow::Result<String> {
    let mut conn = store::connect_with(&settings.database_url(), &settings.database_timeouts())?;
    let applied = store::migrate(&mut conn)?;
    Ok(if applied.is_empty() { "the schema is up to date".into() } else { format!("applied {}", applied.join(", ")) })
}

fn datasets(settings: &Settings) -> anyhow::Result<String> {
    let mut conn = connect(settings)?;
    let mut lines = vec!["version\tactive\timported_at\tcontent_hash\ttitle".to_string()];
    for d in query::datasets::list(&mut conn)? {
        lines.push(format!(
            "{}\t{}\t{}\t{}\t{}",
            d.version,
            if d.active { "*" } else { "" },
            d.imported_at,
            &d.content_hash[..12.min(d.content_hash.len())],
            d.title
        ));
    }
    Ok(lines.join("\n"))
}

fn audit(settings: &Settings, since: Option<&str>, json: bool) -> anyhow::Result<String> {
    let since = match since {
        Some(text) => text.parse::<query::audit::Since>().map_err(|e| anyhow::anyhow!("--since: {e}"))?,
        None => query::audit::Since::all(),
    };
    let mut conn = connect(settings)?;
    let records = query::audit::read(&mut conn, &since)?;
    let text = query::audit::write(&records, json).map_err(anyhow::Error::msg)?;
    Ok(text.trim_end().to_string())
}

fn activate(settings: &Settings, version: i64) -> anyhow::Result<String> {
    let mut conn = connect(settings)?;
    if query::datasets::activate(&mut conn, version)? {
        Ok(format!("dataset version {version} is now served"))
    } else {
        anyhow::bail!("there is no dataset version {version}")
    }
}

/// A minimal HTTP/1.1 GET, so that a slim container image needs no curl.
fn probe(url: &str) -> anyhow::Result<String> {
    use std::io::{Read, Write};
    use std::net::{TcpStream, ToSocketAddrs};
    use std::time::Duration;
    let rest = url.strip_prefix("http://").ok_or_else(|| anyhow::anyhow!("only http:// URLs can be probed"))?;
    let (host, path) = rest.split_once('/').map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let address = host.to_socket_addrs()?.next().ok_or_else(|| anyhow::anyhow!("{host} does not resolve"))?;
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(3))?;
    stream.set_read_timeout(Some(Duration::from_secs(3)))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")?;
    let mut head = [0u8; 64];
    let n = stream.read(&mut head)?;
    let status_line = String::from_utf8_lossy(&head[..n]);
    let status: u16 = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    if (200..300).contains(&status) { Ok(format!("{url}: {status}")) } else { anyhow::bail!("{url}: status {status}") }
}
