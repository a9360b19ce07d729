//! Where an extract's files come from: a folder, or a zip (files at its root or in one
//! top-level folder).

use std::fs::File;
use std::io::{self, BufReader, Read, Seek};
use std::path::{Path, PathBuf};

use zip::ZipArchive;

/// Limits that keep a hostile zip from exhausting memory or disk.
pub const MAX_UNCOMPRESSED_BYTES: u64 = 4 << 30;

/// A set of named files.
pub trait ExtractSource {
    /// Opens a file by its name in the extract; `Ok(None)` when it is absent.
    fn open(&mut self, name: &str) -> io::Result<Option<Box<dyn Read + '_>>>;
    /// What to call the source in messages.
    fn describe(&self) -> String;
}

pub struct FolderSource {
    root: PathBuf,
}

impl FolderSource {
    pub fn new(root: &Path) -> Self {
        FolderSource { root: root.to_path_buf() }
    }
}

impl ExtractSource for FolderSource {
    fn open(&mut self, name: &str) -> io::Result<Option<Box<dyn Read + '_>>> {
        match File::open(self.root.join(name)) {
            Ok(f) => Ok(Some(Box::new(BufReader::with_capacity(1 << 16, f)))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}

pub struct ZipSource<R: Read + Seek> {
    archive: ZipArchive<R>,
    /// "" when the files sit at the root, else "folder/".
    prefix: String,
    label: String,
}

impl<R: Read + Seek> ZipSource<R> {
    pub fn new(reader: R, label: &str) -> Result<Self, String> {
        let archive = ZipArchive::new(reader).map_err(|e| format!("not a readable zip archive: {e}"))?;
        let names: Vec<String> = archive
            .file_names()
            .filter_map(Result::ok)
            .filter(|n| !n.ends_with('/') && !n.starts_with("__MACOSX/"))
            .map(|n| n.into_owned())
            .collect();
        let prefix = if names.iter().any(|n| !n.contains('/')) {
            String::new()
        } else {
            // one top-level folder holding everything
            let mut tops: Vec<&str> = names.iter().filter_map(|n| n.split('/').next()).collect();
            tops.sort_unstable();
            tops.dedup();
            match tops[..] {
                [one] => format!("{one}/"),
                [] => String::new(),
                _ => return Err("the zip must hold the extract's files at its root or in one top-level folder".into()),
            }
        };
        Ok(ZipSource { archive, prefix, label: label.to_string() })
    }
}

impl<R: Read + Seek> ExtractSource for ZipSource<R> {
    fn open(&mut self, name: &str) -> io::Result<Option<Box<dyn Read + '_>>> {
        let full = format!("{}{}", self.prefix, name);
        let Some(index) = self.archive.index_for_name(&full) else {
            return Ok(None);
        };
        let file = self.archive.by_index(index).map_err(io::Error::other)?;
        if file.size() > MAX_UNCOMPRESSED_BYTES {
            return Err(io::Error::other(format!("{name} is larger than {MAX_UNCOMPRESSED_BYTES} bytes uncompressed")));
        }
        // `take` guards against an entry that lies about its size
        Ok(Some(Box::new(BufReader::with_capacity(1 << 16, file.take(MAX_UNCOMPRESSED_BYTES)))))
    }

    fn describe(&self) -> String {
        self.label.clone()
    }
}

/// Files held in memory, such as the demo extract bundled into the binary.
pub struct MemorySource {
    files: Vec<(String, std::borrow::Cow<'static, [u8]>)>,
    label: String,
}

impl MemorySource {
    pub fn new(files: Vec<(&'static str, &'static [u8])>, label: &str) -> Self {
        MemorySource { files: files.into_iter().map(|(n, b)| (n.to_string(), b.into())).collect(), label: label.to_string() }
    }

    /// From owned bytes, as tests and tools make them.
    pub fn owned(files: Vec<(String, Vec<u8>)>, label: &str) -> Self {
        MemorySource { files: files.into_iter().map(|(n, b)| (n, b.into())).collect(), label: label.to_string() }
    }
}

impl ExtractSource for MemorySource {
    fn open(&mut self, name: &str) -> io::Result<Option<Box<dyn Read + '_>>> {
        Ok(self.files.iter().find(|(n, _)| n == name).map(|(_, bytes)| Box::new(&bytes[..]) as Box<dyn Read>))
    }

    fn describe(&self) -> String {
        self.label.clone()
    }
}
