//! The formats the service answers in, each described once: the path suffix that asks for it
//! (`.csv`, `.jsonstat`, `.xlsx`), its media type, whether its body is bytes (a binary string
//! to generated clients), whether compressing it gains anything, and whether it is a download
//! (named by `Content-Disposition`). The router reads the suffixes, the OpenAPI document the
//! binary ones and the downloads, the cache and the encoding layer what is compressible.

/// One format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    /// The path's suffix that asks for it, where an operation has one of its own.
    pub suffix: Option<&'static str>,
    pub media_type: &'static str,
    /// Bytes, not text: a binary string to the OpenAPI document's readers.
    pub binary: bool,
    /// Compressing it gains something (a zip or a workbook is deflated already).
    pub compressible: bool,
    /// Sent as a file to save, named by `Content-Disposition`.
    pub download: bool,
}

pub const JSON: Format = Format { suffix: None, media_type: "application/json", binary: false, compressible: true, download: false };
pub const GEO_JSON: Format =
    Format { suffix: None, media_type: "application/geo+json", binary: false, compressible: true, download: false };
/// For Danish spreadsheets: `;`-separated, decimal commas, UTF-8 with a byte-order mark.
pub const CSV: Format =
    Format { suffix: Some(".csv"), media_type: "text/csv; charset=utf-8", binary: false, compressible: true, download: true };
/// JSON-stat 2.0, a JSON document.
pub const JSON_STAT: Format =
    Format { suffix: Some(".jsonstat"), media_type: "application/json", binary: false, compressible: true, download: false };
pub const XLSX: Format = Format {
    suffix: Some(".xlsx"),
    media_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    binary: true,
    compressible: false,
    download: true,
};
pub const ZIP: Format = Format { suffix: Some(".zip"), media_type: "application/zip", binary: true, compressible: false, download: true };
pub const SVG: Format = Format { suffix: Some(".svg"), media_type: "image/svg+xml", binary: false, compressible: true, download: false };
pub const MVT: Format =
    Format { suffix: Some(".mvt"), media_type: "application/vnd.mapbox-vector-tile", binary: true, compressible: true, download: false };

/// Every format, for those that look one up.
pub const ALL: [Format; 8] = [JSON, GEO_JSON, CSV, JSON_STAT, XLSX, ZIP, SVG, MVT];

/// The format a path's suffix asks for (`/v1/comparisons.csv`), among those that are a
/// representation of another operation's answer: CSV, JSON-stat and XLSX.
pub fn representation_by_suffix(path: &str) -> Option<Format> {
    [CSV, JSON_STAT, XLSX].into_iter().find(|f| f.suffix.is_some_and(|s| path.ends_with(s)))
}

/// The format of a media type (its parameters left out), where it is one of ours.
pub fn of_media_type(media_type: &str) -> Option<Format> {
    let essence = |t: &str| t.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let wanted = essence(media_type);
    ALL.into_iter().find(|f| essence(f.media_type) == wanted)
}

/// Whether a body of this media type gains from compression: ours by their description, a
/// picture other than SVG or a font not; anything else does.
pub fn compressible(media_type: &str) -> bool {
    match of_media_type(media_type) {
        Some(f) => f.compressible,
        None => !((media_type.starts_with("image/") && !media_type.starts_with("image/svg")) || media_type.starts_with("font/")),
    }
}

/// Whether answers of this media type are downloads.
pub fn is_download(media_type: &str) -> bool {
    of_media_type(media_type).is_some_and(|f| f.download)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn described_once() {
        assert_eq!(representation_by_suffix("/v1/comparisons.csv"), Some(CSV));
        assert_eq!(representation_by_suffix("/v1/areas/x/series.jsonstat"), Some(JSON_STAT));
        assert_eq!(representation_by_suffix("/v1/criteria.xlsx"), Some(XLSX));
        assert_eq!(representation_by_suffix("/v1/datapackage.zip"), None, "a zip is no representation of another answer");
        assert_eq!(of_media_type("text/csv"), Some(CSV));
        assert_eq!(of_media_type("application/geo+json"), Some(GEO_JSON));
        assert!(compressible("application/json") && compressible("text/html; charset=utf-8") && compressible("image/svg+xml"));
        assert!(compressible(MVT.media_type));
        assert!(!compressible(ZIP.media_type) && !compressible("image/png") && !compressible(XLSX.media_type));
        assert!(is_download(CSV.media_type) && is_download(XLSX.media_type) && !is_download(JSON.media_type));
    }
}
