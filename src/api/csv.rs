//! CSV renderings for spreadsheets: `;`-separated, decimal commas, UTF-8 with a byte-order
//! mark and CRLF line ends, as Danish Excel opens them; served by the `.csv` operations, and
//! by the JSON ones for `format=csv` or `Accept: text/csv`.

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

/// Whether to answer CSV: always on a `.csv` path (where `format`, if given, must say so),
/// else `format=` decides, else the Accept header.
pub fn wanted(req: &HttpRequest, format: Option<&str>) -> Result<bool, ApiError> {
    if req.path().ends_with(".jsonstat") {
        return match format {
            None => Ok(false),
            Some(other) => {
                Err(ApiError::invalid("format", format!("format {other:?}: this operation answers JSON-stat; leave format out")))
            }
        };
    }
    if req.path().ends_with(".csv") {
        return match format {
            None | Some("csv") => Ok(true),
            Some(other) => Err(ApiError::invalid("format", format!("format {other:?}: this operation answers CSV; leave format out"))),
        };
    }
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
    /// The cells every row ends with (what the table is of: indicator, years, dataset version).
    context: String,
}

impl Table {
    pub fn new(columns: &[&str]) -> Table {
        Table::described(columns, &[])
    }

    /// A table whose rows end with the same cells, named by `context`: a file that says what
    /// it holds wherever it is saved, readable by any CSV reader (a preamble would not be).
    pub fn described(columns: &[&str], context: &[(&str, String)]) -> Table {
        let mut text = String::from("\u{feff}");
        text.push_str(&columns.join(";"));
        for (name, _) in context {
            text.push(';');
            text.push_str(name);
        }
        text.push_str("\r\n");
        let context = context.iter().map(|(_, value)| format!(";{value}")).collect();
        Table { text, columns: columns.len(), context }
    }

    pub fn row(&mut self, cells: &[String]) {
        debug_assert_eq!(cells.len(), self.columns, "a row has a cell per column");
        self.text.push_str(&cells.join(";"));
        self.text.push_str(&self.context);
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

/// A number with a decimal comma; empty for none. A rounded zero is `0`, never `-0`.
pub fn number(x: Option<f64>) -> String {
    x.map(|v| if v == 0.0 { "0".to_string() } else { v.to_string().replace('.', ",") }).unwrap_or_default()
}

/// A yes or no as the spreadsheet of the language reads a boolean on import: `SAND`/`FALSK`
/// in Danish, `TRUE`/`FALSE` in English; empty for none.
pub fn flag(x: Option<bool>, lang: Lang) -> String {
    let (yes, no) = match lang {
        Lang::Da => ("SAND", "FALSK"),
        Lang::En => ("TRUE", "FALSE"),
    };
    x.map(|b| if b { yes } else { no }).unwrap_or_default().to_string()
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
        assert_eq!(number(Some(-0.0)), "0");
        assert_eq!(number(Some(0.0)), "0");
        assert_eq!(number(Some(-0.04)), "-0,04");
        assert_eq!(flag(Some(true), Lang::Da), "SAND");
        assert_eq!(flag(Some(false), Lang::Da), "FALSK");
        assert_eq!(flag(Some(false), Lang::En), "FALSE");
        assert_eq!(flag(None, Lang::En), "");
        assert_eq!(text("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(text("Nord; Syd"), "\"Nord; Syd\"");
        assert_eq!(text("Aarhus"), "Aarhus");
        let mut t = Table::new(&["a", "b"]);
        t.row(&["1".into(), text("x;y")]);
        assert_eq!(t.into_string(), "\u{feff}a;b\r\n1;\"x;y\"\r\n");
        let mut t = Table::described(&["a"], &[("year", "2024".into()), ("dataset_version", "3".into())]);
        t.row(&["1".into()]);
        t.row(&["2".into()]);
        assert_eq!(t.into_string(), "\u{feff}a;year;dataset_version\r\n1;2024;3\r\n2;2024;3\r\n");
    }
}
