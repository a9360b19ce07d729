//! What a grant's first request costs (scripts/bench_signed_in.sh): its view of the served
//! dataset (its departments' figures and their disclosure guard, access.md) worked out from
//! the store, for the organisation with the most departments and the municipality with the
//! most, timed on one core, and the part of it spent reading observations.
//!
//!   cargo run --release --example view-cost -- DATABASE_URL

#![allow(clippy::expect_used, reason = "a measuring tool: a failure is a broken setup")]

use std::time::Instant;

use boligsocial::domain::figures::Disclosure;
use boligsocial::query::me::CallerView;
use boligsocial::snapshot::{Grant, Snapshot};
use boligsocial::store::{self, DatabaseUrl, read};

fn main() {
    let url = std::env::args().nth(1).expect("usage: view-cost DATABASE_URL");
    let url = DatabaseUrl::parse(&url).expect("a database URL");
    let mut conn = store::connect(&url).expect("the database answers");
    let version = read::active_version(&mut conn).expect("read").expect("a served version");
    let disclosure = Disclosure { min_population: 20, min_count: 5 };
    let snapshot = Snapshot::build(read::load_dataset(&mut conn, version).expect("the dataset"), &disclosure).expect("a snapshot");
    let access = &snapshot.access;
    let count = |g: Grant| access.departments_of(g).count();
    let organisation = (0..access.organisations.len()).map(Grant::Organisation).max_by_key(|&g| count(g)).expect("an organisation");
    let municipality = snapshot.municipalities.keys().map(|&m| Grant::Municipality(m)).max_by_key(|&g| count(g)).expect("a municipality");
    for (what, grant) in [("organisation", organisation), ("municipality", municipality)] {
        let started = Instant::now();
        let view = CallerView::read(&mut conn, &snapshot, &disclosure, grant).expect("a view");
        let took = started.elapsed();
        println!("{what} with {} departments: {:.3} s ({} bytes)", count(grant), took.as_secs_f64(), view.bytes());
    }
}
