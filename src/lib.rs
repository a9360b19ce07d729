//! Boligsocial API: areas with a boligsocial helhedsplan, their indicators and how they
//! develop against their municipality, the social-housing sector and Denmark.
//!
//! Data flows one way: `ingest` (extract → validated value) → `store` (SQL) → `snapshot`
//! (immutable, in memory) → `api` (HTTP), with the computations in `domain`.

pub mod api;
pub mod cli;
pub mod demo;
pub mod domain;
pub mod error;
pub mod http;
pub mod ingest;
pub mod memory;
pub mod metrics;
pub mod query;
pub mod settings;
pub mod snapshot;
pub mod startup;
pub mod store;
pub mod telemetry;
