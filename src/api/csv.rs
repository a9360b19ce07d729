//! CSV renderings for spreadsheets: `;`-separated, decimal commas, UTF-8 with a byte-order
//! mark and CRLF line ends, as Danish Excel opens them; chosen by `format=csv` or
//! `Accept: text/csv`.

use actix_web::HttpRequest;
use actix_web::http::header::ACCEPT;
use serde::Serialize;
use utoipa::ToSchema;

use super::params::data_body;
use crate::error::ApiError;
use crate::http::negotiate::{Lang, accepts_csv};
use crate::http::offload::Rendered;
use crate::snapshot::Snapshot;

/// Output formats of the endpoints that offer CSV.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Csv,
}

/// Whether the request asks for CSV: `format=` decides, else the Accept header.
pub fn wants_csv(req: &HttpRequest, format: Option<&str>) -> Result<bool, ApiError> {
    match format {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(other) => Err(ApiError::invalid("format", format!("format {other:?} must be json or csv"))),
        None => Ok(req.headers().get(ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(accepts_csv)),
    }
}

/// A table being written: the header row first, then one row at a time.
pub struct Table {
    text: String,
    columns: usize,
}

impl Table {
    pub fn new(columns: &[&str]) -> Table {
        let mut text = String::from("\u{feff}");
        text.push_str(&columns.join(";"));
        text.push_str("\r\n");
        Table { text, columns: columns.len() }
    }

    pub fn row(&mut self, cells: &[String]) {
        debug_assert_eq!(cells.len(), self.columns, "a row has a cell per column");
        self.text.push_str(&cells.join(";"));
        self.text.push_str("\r\n");
    }

    pub fn into_string(self) -> String {
        self.text
    }

    /// The table as a download named `filename` (made of safe characters by the caller).
    pub fn response(self, snapshot: &Snapshot, lang: Lang, filename: &str) -> Rendered {
        data_body(snapshot, Some(lang), "text/csv; charset=utf-8", self.text).attachment(filename)
    }
}

/// A number with a decimal comma; empty for none.
pub fn number(x: Option<f64>) -> String {
    x.map(|v| v.to_string().replace('.', ",")).unwrap_or_default()
}

/// `true`/`false`; empty for none.
pub fn flag(x: Option<bool>) -> String {
    x.map(|b| b.to_string()).unwrap_or_default()
}

/// Quotes a text cell when needed, and keeps a spreadsheet from reading it as a formula.
pub fn text(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    if s.contains([';', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_for_danish_spreadsheets() {
        assert_eq!(number(Some(-2.5)), "-2,5");
        assert_eq!(number(None), "");
        assert_eq!(text("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(text("Nord; Syd"), "\"Nord; Syd\"");
        assert_eq!(text("Aarhus"), "Aarhus");
        let mut t = Table::new(&["a", "b"]);
        t.row(&["1".into(), text("x;y")]);
        assert_eq!(t.into_string(), "\u{feff}a;b\r\n1;\"x;y\"\r\n");
    }
}
