//! The HTTP layer: thin handlers that parse a typed query, call the domain on the snapshot,
//! and render. Every documented route is registered with `.service(…)` so that utoipa
//! collects it into the OpenAPI document.

pub mod areas;
pub mod health;
pub mod openapi;

use std::sync::Arc;

use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;
use crate::settings::Settings;
use crate::snapshot::{Snapshot, SnapshotCell};
use crate::store::Pool;

/// What every handler can reach.
pub struct AppState {
    pub snapshot: Arc<SnapshotCell>,
    pub pool: Pool,
    pub settings: Arc<Settings>,
}

impl AppState {
    /// The served snapshot, or 503 while none is loaded yet.
    pub fn snapshot(&self) -> Result<Arc<Snapshot>, ApiError> {
        self.snapshot.get().ok_or_else(|| ApiError::Unavailable("no dataset is loaded yet; try again shortly".into()))
    }
}

/// Registers every documented route.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(areas::list_areas)
        .service(health::healthz)
        .service(health::readyz)
        .service(openapi::openapi_json);
}
