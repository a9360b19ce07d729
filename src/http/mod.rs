//! The HTTP layer the handlers stand on, and the middleware around them: caching of read
//! answers keyed by the canonical request (`cache`), negotiation of language, coding and CSV
//! (`negotiate`), content codings of the answers the cache does not make (`encoding`), the formats answered in (`formats`), the base URL of links (`public_base`), rendering and compression off the
//! request workers (`offload`), who the client is behind proxies (`client_address`), CORS
//! (`cors`), the guard on each connection's bytes (`guard`) and the typed query parameters (`extract`).
//! Nothing here knows a handler; `startup` puts the pieces together.

pub mod audit;
pub mod auth;
pub mod cache;
pub mod client_address;
pub mod cors;
pub mod encoding;
pub mod extract;
pub mod formats;
pub mod guard;
pub mod limits;
pub mod negotiate;
pub mod offload;
pub mod public_base;

use actix_web::http::header::HeaderName;

/// Every data answer names the dataset version it comes from.
pub const DATASET_VERSION_HEADER: HeaderName = HeaderName::from_static("x-dataset-version");
