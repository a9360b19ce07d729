//! Turns the bytes of an extract (extract-format.md) into a validated [`Extract`] or a
//! [`Rejection`] listing its problems with file, line and column. Never touches the database.

pub mod csv_table;
pub mod extract;
pub mod geometry;
pub mod json;
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

/// Reads an extract from a folder or a `.zip` file.
pub fn read_path(path: &Path) -> Result<Extract, Rejection> {
    let label = path.display().to_string();
    if path.is_dir() {
        return reader::read_extract(&mut FolderSource::new(path));
    }
    let file = File::open(path).map_err(|e| Rejection::single(&label, format!("cannot open: {e}")))?;
    let mut zip = ZipSource::new(BufReader::new(file), &label).map_err(|e| Rejection::single(&label, e))?;
    reader::read_extract(&mut zip)
}

/// Reads an extract from the bytes of a zip, as uploaded over HTTP.
pub fn read_zip_bytes(bytes: Vec<u8>, label: &str) -> Result<Extract, Rejection> {
    let mut zip = ZipSource::new(Cursor::new(bytes), label).map_err(|e| Rejection::single(label, e))?;
    reader::read_extract(&mut zip)
}
