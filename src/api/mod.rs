//! The HTTP layer: thin handlers that parse a typed query, call the domain on the snapshot,
//! and render. Every documented route is registered with `.service(…)` so that utoipa
//! collects it into the OpenAPI document.

/// An operation answering one representation of a query (JSON, CSV, JSON-stat, XLSX): its
/// documentation and route, and the handler its representations share, which reads the
/// representation off the request ([`csv::Representation::of`]). With `caller`, a signed-in
/// operation: the caller is extracted first.
macro_rules! representation {
    ($(#[$attr:meta])* $name:ident(path: $path:ty, query: $query:ty) => $answer:ident) => {
        $(#[$attr])*
        pub async fn $name(
            state: web::Data<AppState>,
            req: HttpRequest,
            path: web::Path<$path>,
            query: crate::http::extract::QueryParams<$query>,
        ) -> Result<HttpResponse, ApiError> {
            $answer(state, req, path, query).await
        }
    };
    ($(#[$attr:meta])* $name:ident(caller, path: $path:ty, query: $query:ty) => $answer:ident) => {
        $(#[$attr])*
        pub async fn $name(
            state: web::Data<AppState>,
            req: HttpRequest,
            caller: crate::http::auth::SignedIn,
            path: web::Path<$path>,
            query: crate::http::extract::QueryParams<$query>,
        ) -> Result<HttpResponse, ApiError> {
            $answer(state, req, caller, path, query).await
        }
    };
    ($(#[$attr:meta])* $name:ident(caller, query: $query:ty) => $answer:ident) => {
        $(#[$attr])*
        pub async fn $name(
            state: web::Data<AppState>,
            req: HttpRequest,
            caller: crate::http::auth::SignedIn,
            query: crate::http::extract::QueryParams<$query>,
        ) -> Result<HttpResponse, ApiError> {
            $answer(state, req, caller, query).await
        }
    };
    ($(#[$attr:meta])* $name:ident(query: $query:ty) => $answer:ident) => {
        $(#[$attr])*
        pub async fn $name(state: web::Data<AppState>, req: HttpRequest, query: crate::http::extract::QueryParams<$query>) -> Result<HttpResponse, ApiError> {
            $answer(state, req, query).await
        }
    };
}

pub mod admin;
pub mod areas;
pub mod chart;
pub mod comparisons;
pub mod criteria;
pub mod csv;
pub mod datapackage;
pub mod datasets;
pub mod health;
pub mod indicators;
pub mod jsonstat;
pub mod map;
pub mod me;
pub mod municipalities;
pub mod ogc;
pub mod openapi;
pub mod params;
pub mod responses;
pub mod shapes;
pub mod tiles;
pub mod web;

use std::sync::Arc;

use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;
use crate::query::datasets::Pool;
use crate::settings::Settings;
use crate::snapshot::{Snapshot, SnapshotCell};

/// What every handler can reach.
pub struct AppState {
    pub snapshot: Arc<SnapshotCell>,
    pub pool: Pool,
    pub settings: Arc<Settings>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Wakes the refresher at once, as after an import over HTTP.
    pub refresh_now: Arc<tokio::sync::Notify>,
    pub admin_limiter: admin::Limiter,
    /// What each signed-in grant may see, per dataset version.
    pub views: Arc<crate::query::me::Views>,
    /// The signed-in answers kept per grant, per dataset version.
    pub answers: Arc<me::Answers>,
    /// Proxies whose `X-Forwarded-For` names the client (`server.trusted_proxies`).
    pub trusted_proxies: Vec<crate::http::client_address::IpNet>,
}

impl AppState {
    /// The served snapshot, or 503 while none is loaded yet.
    pub fn snapshot(&self) -> Result<Arc<Snapshot>, ApiError> {
        self.snapshot.get().ok_or_else(|| ApiError::Unavailable("no dataset is loaded yet; try again shortly".into()))
    }
}

/// Registers every documented route.
pub fn configure(cfg: &mut ServiceConfig) {
    // (the signed-in scope first: its requests, which no shared cache answers, are routed by
    // its static prefix before the patterns of the public routes are tried, and so are the
    // route lookups of the audit and the metrics)
    cfg.service(
        utoipa_actix_web::scope::scope("/v1/me")
            .wrap(crate::http::audit::Audit)
            .configure(me::configure)
            .default_service(actix_web::web::to(crate::error::no_route)),
    )
    .service(indicators::list_indicators)
    .service(indicators::get_indicator)
    .service(municipalities::list_municipalities)
    .service(municipalities::get_municipality)
    .service(areas::list_areas)
    .service(areas::get_area)
    .service(areas::get_series)
    .service(areas::get_series_csv)
    .service(areas::get_series_jsonstat)
    .service(areas::get_series_xlsx)
    .service(areas::get_area_plans)
    .service(comparisons::get_comparisons)
    .service(comparisons::get_comparisons_csv)
    .service(comparisons::get_comparisons_jsonstat)
    .service(comparisons::get_comparisons_xlsx)
    .service(comparisons::get_comparisons_coverage)
    .service(comparisons::get_area_comparisons)
    .service(chart::comparison_chart)
    .service(criteria::list_rules)
    .service(criteria::get_rules)
    .service(criteria::get_criteria)
    .service(criteria::get_criteria_csv)
    .service(criteria::get_criteria_jsonstat)
    .service(criteria::get_criteria_xlsx)
    .service(criteria::get_area_criteria)
    .service(criteria::get_area_criteria_csv)
    .service(criteria::get_area_criteria_xlsx)
    .service(datasets::list_datasets)
    .service(datapackage::get_datapackage)
    .service(map::map_areas)
    .service(map::map_municipalities)
    .service(tiles::tilejson)
    .service(tiles::area_tile)
    .service(ogc::landing)
    .service(ogc::conformance)
    .service(ogc::collections)
    .service(ogc::get_collection)
    .service(ogc::queryables)
    .service(ogc::items)
    .service(ogc::item)
    .service(admin::import)
    .service(admin::activate)
    .service(admin::audit)
    .service(health::metrics)
    .service(health::healthz)
    .service(health::readyz)
    .service(openapi::openapi_json);
}

/// The interactive documentation, served from the binary (no CDN): Swagger UI reading
/// /openapi.json.
pub fn docs(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.configure(web::configure)
        .route(
            "/docs",
            actix_web::web::get()
                .to(|| async { actix_web::HttpResponse::PermanentRedirect().insert_header(("location", "/docs/")).finish() }),
        )
        .service(
            utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
                .config(utoipa_swagger_ui::Config::from("/openapi.json").try_it_out_enabled(true)),
        );
}
