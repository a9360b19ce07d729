pub mod domain;
pub mod ingest;
