//! The bundled demo extract (synthetic, calibrated to the note's headline figures) and the
//! generators that make it and a national-scale extract for benchmarks.

// (a generator of the bundled extract and of benchmark data, run by hand or at startup: it
// writes to memory and reads its own constant tables, where a failure is a mistake in them)
#![allow(clippy::expect_used, clippy::too_many_lines, reason = "the demo generators write to memory from their own constant tables")]

mod common;
pub mod generator;
pub mod national;
mod rng;

use std::path::Path;

use crate::ingest::source::MemorySource;
use crate::ingest::{Extract, Rejection, reader};

/// The demo extract as committed in src/demo/extract (a test keeps it equal to what the
/// generator makes).
pub const BUNDLED: [(&str, &[u8]); 11] = [
    ("manifest.json", include_bytes!("extract/manifest.json")),
    ("indicators.csv", include_bytes!("extract/indicators.csv")),
    ("municipalities.csv", include_bytes!("extract/municipalities.csv")),
    ("organisations.csv", include_bytes!("extract/organisations.csv")),
    ("departments.csv", include_bytes!("extract/departments.csv")),
    ("areas.csv", include_bytes!("extract/areas.csv")),
    ("area_departments.csv", include_bytes!("extract/area_departments.csv")),
    ("observations.csv", include_bytes!("extract/observations.csv")),
    ("areas.geojson", include_bytes!("extract/areas.geojson")),
    ("plans.csv", include_bytes!("extract/plans.csv")),
    ("plan_departments.csv", include_bytes!("extract/plan_departments.csv")),
];

/// Reads the bundled demo extract through the same validation as any other.
pub fn bundled_extract() -> Result<Extract, Rejection> {
    reader::read_extract(&mut MemorySource::new(BUNDLED.to_vec(), "bundled demo extract"))
}

/// Writes the demo extract, as the generator makes it, to a folder.
pub fn write_demo(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, bytes) in generator::demo_files() {
        std::fs::write(dir.join(name), bytes)?;
    }
    Ok(())
}
