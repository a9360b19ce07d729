//! The integration tests, one binary (as crates.io has it): the real service on port 0
//! against SQLite and a fresh PostgreSQL database, the real binary, and real clients.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines, reason = "a test fails by panicking, and reads as one story")]

#[macro_use]
mod common;

mod answers;
mod api;
mod auth;
mod browser;
mod caller_disclosure;
mod clients;
mod comparisons;
mod criteria;
mod fuzz_extract;
mod hostile;
mod import;
mod map;
mod me;
mod migrations;
mod openapi;
mod operations;
mod probes;
mod reference_data;
mod transport;
