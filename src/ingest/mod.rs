//! Turns the bytes of an extract (extract-format.md) into a validated [`Extract`] or a
//! [`Rejection`] listing its problems with file, line and column. Never touches the database.

pub mod csv_table;
pub mod extract;
pub mod geojson;
pub mod geometry;
pub mod json;
pub mod json_stream;
pub mod problems;
pub mod projection;
pub mod reader;
pub mod source;

use std::fs::File;
use std::io::{BufReader, Cursor};
use std::path::Path;

pub use extract::Extract;
pub use problems::{Problem, Rejection};

use source::{FolderSource, ZipSource};

/// Bounds on what one extract may make the import hold (settings `import.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Positions of one area's (or municipality's) geometry.
    pub max_vertices_per_area: usize,
    /// Bytes the extract's rows and geometry may take in memory, roughly.
    pub max_memory_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_vertices_per_area: 100_000, max_memory_bytes: 2 << 30 }
    }
}

/// Reads an extract from a folder or a `.zip` file, with the default limits.
pub fn read_path(path: &Path) -> Result<Extract, Rejection> {
    read_path_with(path, &Limits::default())
}

/// Reads an extract from a folder or a `.zip` file.
pub fn read_path_with(path: &Path, limits: &Limits) -> Result<Extract, Rejection> {
    let label = path.display().to_string();
    if path.is_dir() {
        return reader::read_extract_with(&mut FolderSource::new(path), limits);
    }
    let file = File::open(path).map_err(|e| Rejection::single(&label, format!("cannot open: {e}")))?;
    let mut zip = ZipSource::new(BufReader::new(file), &label).map_err(|e| Rejection::single(&label, e))?;
    reader::read_extract_with(&mut zip, limits)
}

/// Reads an extract from the bytes of a zip, as uploaded over HTTP.
pub fn read_zip_bytes(bytes: impl AsRef<[u8]>, label: &str, limits: &Limits) -> Result<Extract, Rejection> {
    let mut zip = ZipSource::new(Cursor::new(bytes), label).map_err(|e| Rejection::single(label, e))?;
    reader::read_extract_with(&mut zip, limits)
}
