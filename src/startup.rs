//! Building and running the service: database preparation, the snapshot and its refresher,
//! the HTTP server.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::ErrorHandlers;
use actix_web::{App, web};
use utoipa_actix_web::AppExt;

use crate::api::{self, AppState};
use crate::domain::figures::Disclosure;
use crate::error;
use crate::http::audit::{AuditEntry, AuditSink, Recorded};
use crate::http::auth::{Gate, Verifier};
use crate::http::cache::{self, CacheSettings, ResponseCache};
use crate::http::guard;
use crate::http::offload::Offload;
use crate::http::public_base::PublicBase;
use crate::metrics::Metrics;
use crate::query::me::Views;
use crate::settings::Settings;
use crate::snapshot::{Snapshot, SnapshotCell};
use crate::store::{self, DatabaseUrl, Pool, StoreError, read};
use crate::telemetry;

/// The HTTP/1.1 server: actix-web's, as `HttpServer` builds it, with each connection read
/// through [`guard::Guarded`] (which `HttpServer` has no place for), so that requests the
/// protocol layer would refuse with an empty answer get problem details.
fn serve<F, A, B>(listener: TcpListener, app: F, settings: &crate::settings::ServerSettings) -> std::io::Result<Server>
where
    F: Fn() -> App<A> + Send + Clone + 'static,
    A: actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
    B: actix_web::body::MessageBody + 'static,
{
    use actix_service::{IntoServiceFactory, ServiceFactoryExt, fn_service, map_config};
    let addr = listener.local_addr()?;
    let request_timeout = Duration::from_secs(settings.client_request_timeout_seconds);
    let mut builder = actix_server::Server::build().shutdown_timeout(settings.shutdown_timeout_seconds);
    if let Some(workers) = settings.workers {
        builder = builder.workers(workers);
    }
    builder
        .listen("boligsocial", listener, move || {
            // (HttpServer gives the application its own address as the host, by an API hidden
            // from others; the service reads neither: links are made by http::public_base)
            let config = actix_web::dev::AppConfig::default();
            let http = actix_http::HttpService::build()
                .client_request_timeout(request_timeout)
                // (HttpServer's default; actix-http's own is none)
                .client_disconnect_timeout(Duration::from_secs(1))
                .local_addr(addr)
                .finish(map_config(app().into_factory(), move |()| config.clone()));
            fn_service(|io: tokio::net::TcpStream| async move {
                let _ = io.set_nodelay(true);
                let peer = io.peer_addr().ok();
                Ok::<_, actix_http::error::DispatchError>((guard::Guarded::new(io), actix_http::Protocol::Http1, peer))
            })
            .and_then(http)
        })
        .map(|b| b.run())
}

pub struct Application {
    port: u16,
    server: Server,
    refresher: tokio::task::JoinHandle<()>,
    /// Forgets idle clients of the administration's rate limits, every minute.
    forgetter: tokio::task::JoinHandle<()>,
    /// Deletes audit records older than `audit.retention_days`, every hour.
    pruner: Option<tokio::task::JoinHandle<()>>,
    pub snapshot: Arc<SnapshotCell>,
}

/// Keeps the snapshot in step with the active dataset version.
struct Refresher {
    pool: Pool,
    cell: Arc<SnapshotCell>,
    disclosure: Disclosure,
    /// The legal criteria's rule sets, evaluated for every version loaded.
    rules: Vec<Arc<crate::domain::criteria::RuleSet>>,
    migrated: AtomicBool,
    /// Set when a snapshot was replaced: the old one may be freed only after in-flight
    /// requests let go of it, so its memory is released to the system again a check later.
    release_pending: AtomicBool,
    metrics: Arc<Metrics>,
    /// The signed-in views and answers of versions no longer served are dropped when another is.
    views: Arc<Views>,
    answers: Arc<api::me::Answers>,
}

impl Refresher {
    /// Checks every `interval`, and at once when woken (an import or activation over HTTP).
    fn spawn(
        refresher: Arc<Refresher>,
        interval: Duration,
        deadline: Duration,
        wake: Arc<tokio::sync::Notify>,
    ) -> tokio::task::JoinHandle<()> {
        // Polling keeps instances stateless and needs nothing but SQL (both backends, any
        // proxy or pooler in between); an import or activation over HTTP also wakes this
        // instance at once, and the others follow within the interval.
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    _ = wake.notified() => {}
                }
                let r = refresher.clone();
                // A check that hangs (a connection whose peer went silent) is given up at its
                // deadline: the next tick tries again on another connection, and readiness
                // reports the staleness meanwhile. The hung thread ends when its socket does.
                match tokio::time::timeout(deadline, tokio::task::spawn_blocking(move || r.refresh())).await {
                    Ok(Ok(Ok(()))) => {}
                    Ok(Ok(Err(e))) => {
                        refresher.metrics.count_snapshot_load("failed");
                        tracing::warn!(error = %e, "cannot check the active dataset version; serving the last snapshot");
                    }
                    Ok(Err(e)) => tracing::error!(error = %e, "the refresh task failed"),
                    Err(_) => {
                        refresher.metrics.count_snapshot_load("failed");
                        tracing::warn!(
                            seconds = deadline.as_secs(),
                            "the check of the active dataset version did not finish in time; serving the last snapshot"
                        );
                    }
                }
            }
        })
    }

    /// Checks the active version and loads it when it differs from the one served. Runs
    /// blocking database work; call from a blocking thread.
    fn refresh(&self) -> Result<(), StoreError> {
        if self.release_pending.swap(false, Ordering::Relaxed) {
            crate::memory::release_free();
        }
        let mut conn = self.pool.get()?;
        if !self.migrated.load(Ordering::Relaxed) {
            store::migrate(&mut conn)?;
            self.migrated.store(true, Ordering::Relaxed);
        }
        let datasets = read::list_datasets(&mut conn)?;
        let active = datasets.iter().find(|d| d.active).map(|d| d.version);
        self.cell.set_datasets(datasets);
        if let Some(version) = active
            && self.cell.version() != Some(version)
        {
            let started = std::time::Instant::now();
            let stored = read::load_dataset(&mut conn, version)?;
            let read_ms = started.elapsed().as_millis() as u64;
            let snapshot = Snapshot::build(stored, &self.disclosure)?.with_criteria(&self.rules);
            tracing::debug!(read_ms, build_ms = started.elapsed().as_millis() as u64 - read_ms, "snapshot built");
            let areas = snapshot.areas.len();
            self.cell.replace(snapshot);
            self.views.forget_all();
            self.answers.forget_all();
            // (counted at once: the count tells when the served version may have changed)
            self.metrics.count_snapshot_load("loaded");
            crate::memory::release_free();
            self.release_pending.store(true, Ordering::Relaxed);
            tracing::info!(version, areas, elapsed_ms = started.elapsed().as_millis() as u64, "serving dataset version");
        }
        self.cell.mark_checked();
        Ok(())
    }
}

/// The audit log in the store. Records of requests answered at the same time are written
/// together, in one transaction, by one thread (a group commit: one commit for many requests
/// under load); each request waits for its record's transaction before it is answered.
struct StoreAudit {
    queue: std::sync::mpsc::SyncSender<(crate::store::audit::AuditRecord, tokio::sync::oneshot::Sender<Result<(), String>>)>,
}

/// Records waiting at most, and written in one transaction at most.
const AUDIT_QUEUE: usize = 8192;
const AUDIT_BATCH: usize = 512;

impl StoreAudit {
    fn start(pool: Pool) -> std::io::Result<StoreAudit> {
        let (queue, waiting) =
            std::sync::mpsc::sync_channel::<(crate::store::audit::AuditRecord, tokio::sync::oneshot::Sender<_>)>(AUDIT_QUEUE);
        std::thread::Builder::new().name("audit-writer".into()).spawn(move || {
            let mut kept = None;
            loop {
                // (a connection is kept only while records keep coming: idle, the writer
                // holds none of the pool's)
                let first = match waiting.try_recv() {
                    Ok(first) => first,
                    Err(_) => {
                        kept = None;
                        let Ok(first) = waiting.recv() else { return };
                        first
                    }
                };
                let mut batch = vec![first];
                while batch.len() < AUDIT_BATCH {
                    match waiting.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let (records, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                // (the writer keeps its connection between batches, without the pool's check
                // at each check-out, and lets it go after a failure: the next batch is written
                // on a fresh one)
                let written = match kept.take().map_or_else(|| pool.get(), Ok) {
                    Ok(mut conn) => {
                        let written = crate::query::audit::record_all_on(&mut conn, records);
                        if written.is_ok() {
                            kept = Some(conn);
                        }
                        written
                    }
                    Err(e) => Err(e.into()),
                };
                let written = written.map_err(|e| e.to_string());
                for reply in replies {
                    let _ = reply.send(written.clone());
                }
            }
        })?;
        Ok(StoreAudit { queue })
    }
}

impl AuditSink for StoreAudit {
    fn record(&self, e: AuditEntry) -> Recorded {
        let record = crate::store::audit::AuditRecord {
            at: String::new(),
            sub: e.sub,
            cvr: e.cvr,
            client_id: e.client_id,
            jti: e.jti,
            route: e.route,
            departments: e.departments.join(","),
            dataset_version: e.dataset_version,
            status: e.status.into(),
        };
        let (reply, written) = tokio::sync::oneshot::channel();
        let queued = self.queue.try_send((record, reply)).map_err(|e| format!("the audit queue is full or stopped: {e}"));
        Box::pin(async move {
            queued?;
            written.await.map_err(|e| e.to_string())?
        })
    }
}

/// Forgets idle clients of the rate limits every minute.
fn spawn_forgetter(limiter: api::admin::Limiter, gate: web::Data<Gate>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut minutes = tokio::time::interval(Duration::from_secs(60));
        loop {
            minutes.tick().await;
            limiter.forget_idle();
            gate.forget_idle();
        }
    })
}

/// Applies the audit's retention every hour (on every instance: deleting what another
/// deleted already is nothing).
fn spawn_pruner(pool: Pool, retention_days: u32) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut hours = tokio::time::interval(Duration::from_secs(3600));
        loop {
            hours.tick().await;
            let pool = pool.clone();
            match tokio::task::spawn_blocking(move || crate::query::audit::prune(&pool, retention_days)).await {
                Ok(Ok(0)) => {}
                Ok(Ok(deleted)) => tracing::info!(deleted, retention_days, "deleted audit records past their retention"),
                Ok(Err(e)) => tracing::warn!(error = %e, "cannot apply the audit's retention now"),
                Err(e) => tracing::error!(error = %e, "the audit's retention task failed"),
            }
        }
    })
}

/// On an embedded database without any dataset, imports the bundled demo extract.
fn load_demo_if_empty(pool: &Pool, url: &DatabaseUrl) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    store::migrate(&mut conn)?;
    if !read::list_datasets(&mut conn)?.is_empty() {
        return Ok(());
    }
    let extract = crate::demo::bundled_extract().map_err(|r| anyhow::anyhow!("the bundled demo extract is invalid: {r}"))?;
    let version = crate::query::datasets::import(&mut conn, &|| store::connect(url), &extract)?.outcome.version();
    tracing::info!(version, "imported the bundled demo extract (synthetic data)");
    Ok(())
}

/// The first load happens before the port answers, so that a healthy start is ready at once.
async fn first_load(refresher: Arc<Refresher>) -> anyhow::Result<()> {
    if let Err(e) = tokio::task::spawn_blocking(move || refresher.refresh()).await? {
        tracing::warn!(error = %e, "cannot load a dataset yet; will retry");
    }
    Ok(())
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let url = settings.database_url();
        let listener = TcpListener::bind(settings.listen_addr().map_err(anyhow::Error::msg)?)?;
        let timeouts = settings.database_timeouts();
        let pool = store::pool(&url, settings.database.pool_size, timeouts)?;
        tracing::info!(database = %url, "starting");
        if let DatabaseUrl::Sqlite(_) = url
            && settings.dataset.load_demo
        {
            let (pool, url) = (pool.clone(), url.clone());
            tokio::task::spawn_blocking(move || load_demo_if_empty(&pool, &url)).await??;
        }

        // (a broken rule set stops the start, naming its file and key)
        let rules = crate::query::criteria::rule_book(settings.criteria.rules_dir.as_deref())?;
        let cell = Arc::new(SnapshotCell::default());
        let views = Arc::new(Views::new(settings.auth.view_cache_bytes));
        let answers = Arc::new(api::me::Answers::new(settings.auth.answer_cache_bytes));
        let metrics = Arc::new(Metrics::new());
        let refresh_now = Arc::new(tokio::sync::Notify::new());
        let refresher = Arc::new(Refresher {
            pool: pool.clone(),
            cell: cell.clone(),
            disclosure: settings.disclosure,
            rules,
            migrated: AtomicBool::new(false),
            release_pending: AtomicBool::new(false),
            metrics: metrics.clone(),
            views: views.clone(),
            answers: answers.clone(),
        });
        first_load(refresher.clone()).await?;
        let refresher_task =
            Refresher::spawn(refresher, Duration::from_secs(settings.dataset.refresh_seconds), timeouts.deadline(), refresh_now.clone());

        let port = listener.local_addr()?.port();
        let trusted_proxies = crate::http::client_address::parse_networks(&settings.server.trusted_proxies)
            .map_err(|e| anyhow::anyhow!("server.trusted_proxies: {e}"))?;
        let public_base = PublicBase::new(settings.server.public_url.as_deref(), trusted_proxies.clone())
            .map_err(|e| anyhow::anyhow!("server.public_url: {e}"))?;
        let render_threads = settings.http.render_threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        let offload = Arc::new(Offload::new(render_threads, settings.http.render_queue, Some(metrics.clone())));
        let cache = web::Data::new(ResponseCache::new(
            cell.clone(),
            CacheSettings {
                capacity_bytes: settings.http.response_cache_bytes as u64,
                max_age_seconds: settings.http.cache_max_age_seconds,
                public_base: public_base.clone(),
                canonical_value: api::params::canonical_value,
                vary_cors: settings.http.cors_origin_list().is_none(),
            },
            offload.clone(),
            metrics.clone(),
        ));
        let offload = web::Data::from(offload);
        let admin_limiter = api::admin::limiter(settings.admin.requests_per_minute, settings.admin.anonymous_requests_per_minute);
        // (failed sign-ins draw on the anonymous allowance of the client's address)
        let verifier = Verifier::from_settings(&settings.auth).map_err(|e| anyhow::anyhow!("auth: {e}"))?;
        let gate = web::Data::new(Gate::new(verifier, &settings.auth, admin_limiter.clone(), trusted_proxies.clone()));
        let audit_sink: web::Data<dyn AuditSink> = web::Data::from(Arc::new(StoreAudit::start(pool.clone())?) as Arc<dyn AuditSink>);
        let forgetter = spawn_forgetter(admin_limiter.clone(), gate.clone());
        let pruner = gate.enabled().then(|| spawn_pruner(pool.clone(), settings.audit.retention_days));
        let public_base = web::Data::new(public_base);
        let map_page = web::Data::new(api::web::MapPage::from_settings(&settings.auth).map_err(|e| anyhow::anyhow!("auth: {e}"))?);
        let request_metrics = metrics.clone();
        let state = web::Data::new(AppState {
            snapshot: cell.clone(),
            pool,
            settings: Arc::new(settings.clone()),
            metrics,
            refresh_now,
            admin_limiter: admin_limiter.clone(),
            trusted_proxies,
            views,
            answers,
        });
        let cors_origins = settings.http.cors_origin_list();
        let app = move || {
            App::new()
                .app_data(state.clone())
                .app_data(cache.clone())
                .app_data(offload.clone())
                .app_data(public_base.clone())
                .app_data(map_page.clone())
                .app_data(gate.clone())
                .app_data(audit_sink.clone())
                .app_data(web::QueryConfig::default().error_handler(error::query_error))
                .app_data(web::PathConfig::default().error_handler(error::path_error))
                // the cache answers the read endpoints with compressed variants of its own,
                // made once per answer (so its hits and 304s skip this); Encode serves the
                // rest (the dataset list, the documentation, the metrics)
                .wrap(crate::http::encoding::Encode)
                .wrap(cache::Caching::new(cache.clone().into_inner()))
                .wrap(crate::http::cors::Cors::new(cors_origins.as_deref()))
                // outside CORS, so that its refusals are problem details too
                .wrap(ErrorHandlers::new().default_handler(error::to_problem_details))
                .wrap(telemetry::RequestSpan::new(request_metrics.clone()))
                .configure(api::docs)
                .into_utoipa_app()
                .configure(api::configure)
                .route(guard::REFUSED_PATH, web::get().to(error::refused))
                .default_service(web::to(error::no_route))
                .into_app()
        };
        let server = serve(listener, app, &settings.server)?;
        Ok(Application { port, server, refresher: refresher_task, forgetter, pruner, snapshot: cell })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or SIGINT, then finishes open requests and returns.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        tracing::info!(port = self.port, "listening");
        let result = self.server.await;
        self.refresher.abort();
        self.forgetter.abort();
        if let Some(p) = self.pruner {
            p.abort();
        }
        tracing::info!("stopped");
        result
    }
}
