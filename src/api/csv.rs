//! CSV renderings for spreadsheets: `;`-separated, decimal commas, UTF-8 with a byte-order
//! mark and CRLF line ends, as Danish Excel opens them; served by the `.csv` operations, and
//! by the JSON ones for `format=csv` or `Accept: text/csv`.

use actix_web::HttpRequest;
use actix_web::http::header::ACCEPT;
use serde::Serialize;
use utoipa::ToSchema;

use super::params::data_body;
use crate::domain::figures::{plain_number, unsigned_zero};
use crate::error::ApiError;
use crate::http::formats;
use crate::http::negotiate::{Lang, prefers_csv};
use crate::http::offload::Rendered;
use crate::snapshot::DatasetRecord;
use crate::snapshot::Snapshot;

/// Output formats of the endpoints that offer CSV.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Csv,
}

/// What an answer is written as, decided once per request: by the path's suffix (`.csv`,
/// `.jsonstat`, `.xlsx`, where `format`, if given, must agree), else by `format=`, else by
/// the Accept header (CSV when it asks for text/csv).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    Json,
    Csv,
    JsonStat,
    Xlsx,
}

impl Representation {
    pub fn of(req: &HttpRequest, format: Option<&str>) -> Result<Representation, ApiError> {
        let by_path = formats::representation_by_suffix(req.path()).map(|f| match f {
            formats::CSV => Representation::Csv,
            formats::XLSX => Representation::Xlsx,
            _ => Representation::JsonStat,
        });
        if let Some(r) = by_path {
            return match (r, format) {
                (_, None) | (Representation::Csv, Some("csv")) => Ok(r),
                (Representation::Csv, Some(other)) => {
                    Err(ApiError::invalid("format", format!("format {other:?}: this operation answers CSV; leave format out")))
                }
                (_, Some(other)) => Err(ApiError::invalid(
                    "format",
                    format!("format {other:?}: the path says what this operation answers; leave format out"),
                )),
            };
        }
        match format {
            Some("csv") => Ok(Representation::Csv),
            Some("json") => Ok(Representation::Json),
            Some(other) => Err(ApiError::invalid("format", format!("format {other:?} must be json or csv"))),
            None => match prefers_csv(req.headers().get(ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("")) {
                Some(true) => Ok(Representation::Csv),
                Some(false) => Ok(Representation::Json),
                None => {
                    Err(ApiError::NotAcceptable("Accept refuses both representations of this answer: application/json and text/csv".into()))
                }
            },
        }
    }

    /// A table: CSV or a workbook.
    pub fn is_table(self) -> bool {
        matches!(self, Representation::Csv | Representation::Xlsx)
    }
}

/// A cell of a table: text, a number or a yes/no, none where there is no figure. Typed, so that
/// the CSV writes each as the spreadsheet of the language reads it and the XLSX stores it as a
/// number or a boolean.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(Option<f64>),
    Flag(Option<bool>),
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<u16> for Cell {
    fn from(n: u16) -> Cell {
        Cell::Number(Some(f64::from(n)))
    }
}

impl From<u32> for Cell {
    fn from(n: u32) -> Cell {
        Cell::Number(Some(f64::from(n)))
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Cell {
        Cell::Number(Some(n as f64))
    }
}

impl Cell {
    fn csv(&self, lang: Lang) -> String {
        match self {
            Cell::Text(s) => csv_text(s),
            Cell::Number(x) => csv_number(*x),
            Cell::Flag(x) => csv_flag(*x, lang),
        }
    }
}

/// A table: its columns, its rows, and the cells every row ends with (what the table is of:
/// indicator, years, dataset version).
pub struct Table {
    columns: Vec<String>,
    context: Vec<(String, Cell)>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(columns: &[&str]) -> Table {
        Table::described(columns, Vec::new())
    }

    /// A table whose rows end with the same cells, named by `context`: a file that says what
    /// it holds wherever it is saved, readable by any CSV reader (a preamble would not be).
    pub fn described(columns: &[&str], context: Vec<(&str, Cell)>) -> Table {
        Table {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            context: context.into_iter().map(|(n, c)| (n.to_string(), c)).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<Cell>) {
        debug_assert_eq!(cells.len(), self.columns.len(), "a row has a cell per column");
        self.rows.push(cells);
    }

    /// `;`-separated, decimal commas, a byte-order mark, CRLF.
    pub fn csv(&self, lang: Lang) -> String {
        let mut text = String::from("\u{feff}");
        let names: Vec<&str> = self.columns.iter().chain(self.context.iter().map(|(n, _)| n)).map(String::as_str).collect();
        text.push_str(&names.join(";"));
        text.push_str("\r\n");
        let context: String = self.context.iter().map(|(_, c)| format!(";{}", c.csv(lang))).collect();
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|c| c.csv(lang)).collect();
            text.push_str(&cells.join(";"));
            text.push_str(&context);
            text.push_str("\r\n");
        }
        text
    }

    /// The table as a CSV download named `filename` (made of safe characters by the caller).
    pub fn response(self, snapshot: &Snapshot, lang: Lang, filename: &str) -> Rendered {
        data_body(snapshot, Some(lang), formats::CSV.media_type, self.csv(lang)).attachment(filename)
    }

    /// An Excel workbook: the table on its first sheet (numbers as numbers, yes/no as
    /// booleans, headers in the language), and a second sheet saying what it is: the context,
    /// the source, the dataset version and the disclosure rules.
    pub fn xlsx(&self, lang: Lang, dataset: &DatasetRecord) -> Result<Vec<u8>, ApiError> {
        use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format as XlsxFormat, Workbook};
        let fail = |e: rust_xlsxwriter::XlsxError| ApiError::Internal(format!("the workbook could not be written: {e}"));
        let mut book = Workbook::new();
        // made when its version was imported, not when it was rendered: the same request gives
        // the same bytes on every instance, under one strong ETag
        let created = ExcelDateTime::parse_from_str(&dataset.imported_at).or_else(|_| ExcelDateTime::from_ymd(2000, 1, 1)).map_err(fail)?;
        book.set_properties(&DocProperties::new().set_creation_datetime(&created));
        let bold = XlsxFormat::new().set_bold();
        let sheet = book.add_worksheet();
        sheet.set_name(lang.pick("Tabel", "Table")).map_err(fail)?;
        let names = self.columns.iter().chain(self.context.iter().map(|(n, _)| n));
        for (c, name) in names.enumerate() {
            sheet.write_string_with_format(0, c as u16, header(name, lang), &bold).map_err(fail)?;
        }
        for (r, row) in self.rows.iter().enumerate() {
            let at = r as u32 + 1;
            for (c, cell) in row.iter().chain(self.context.iter().map(|(_, c)| c)).enumerate() {
                let col = c as u16;
                match cell {
                    Cell::Text(s) if !s.is_empty() => {
                        sheet.write_string(at, col, excel_text(s)).map_err(fail)?;
                    }
                    Cell::Number(Some(x)) => {
                        sheet.write_number(at, col, unsigned_zero(*x)).map_err(fail)?;
                    }
                    Cell::Flag(Some(b)) => {
                        sheet.write_boolean(at, col, *b).map_err(fail)?;
                    }
                    _ => {}
                }
            }
        }
        sheet.set_freeze_panes(1, 0).map_err(fail)?;
        let about = book.add_worksheet();
        about.set_name(lang.pick("Om tabellen", "About")).map_err(fail)?;
        let mut lines: Vec<(String, Cell)> = self.context.iter().map(|(n, c)| (header(n, lang).to_string(), c.clone())).collect();
        lines.push((lang.pick("Kilde", "Source").to_string(), Cell::Text(dataset.source.clone())));
        lines.push((lang.pick("Datasæt", "Dataset").to_string(), Cell::Text(dataset.title.clone())));
        lines.push((lang.pick("Importeret", "Imported").to_string(), Cell::Text(dataset.imported_at.clone())));
        lines.push((
            lang.pick("Diskretionering", "Disclosure control").to_string(),
            Cell::Text(DISCLOSURE[usize::from(lang == Lang::En)].into()),
        ));
        for (r, (name, cell)) in lines.iter().enumerate() {
            about.write_string_with_format(r as u32, 0, name, &bold).map_err(fail)?;
            match cell {
                Cell::Text(s) => about.write_string(r as u32, 1, excel_text(s)).map(|_| ()),
                Cell::Number(Some(x)) => about.write_number(r as u32, 1, *x).map(|_| ()),
                Cell::Flag(Some(b)) => about.write_boolean(r as u32, 1, *b).map(|_| ()),
                _ => Ok(()),
            }
            .map_err(fail)?;
        }
        about.set_column_width(0, 22).map_err(fail)?;
        about.set_column_width(1, 90).map_err(fail)?;
        book.save_to_buffer().map_err(fail)
    }

    /// The table as an XLSX download named `filename`.
    pub fn xlsx_response(self, snapshot: &Snapshot, lang: Lang, filename: &str) -> Result<Rendered, ApiError> {
        let book = self.xlsx(lang, &snapshot.dataset)?;
        Ok(data_body(snapshot, Some(lang), formats::XLSX.media_type, book).attachment(filename))
    }

    /// The table as the download asked for, a workbook or CSV, named `stem` and its suffix.
    pub fn download(self, snapshot: &Snapshot, lang: Lang, representation: Representation, stem: &str) -> Result<Rendered, ApiError> {
        match representation {
            Representation::Xlsx => self.xlsx_response(snapshot, lang, &format!("{stem}.xlsx")),
            _ => Ok(self.response(snapshot, lang, &format!("{stem}.csv"))),
        }
    }
}

/// A cell's text as a workbook can hold it: at most 32,767 characters (Excel's limit; a longer
/// one would fail the whole answer), cut with an ellipsis.
fn excel_text(s: &str) -> std::borrow::Cow<'_, str> {
    const MAX: usize = 32_767;
    match s.char_indices().nth(MAX) {
        None => s.into(),
        Some(_) => {
            let end = s.char_indices().nth(MAX - 1).map_or(s.len(), |(i, _)| i);
            format!("{}…", &s[..end]).into()
        }
    }
}

/// What the workbook says of the disclosure rules (Danish, English).
const DISCLOSURE: [&str; 2] = [
    "Tal om få personer er udeladt (diskretionering), og det er et tal også, når forskellen til de offentliggjorte tal inden i det \
     ville afsløre et sådant tal (sekundær diskretionering). En tom celle er et tal, der ikke offentliggøres eller ikke findes.",
    "Figures about few people are withheld (disclosure control), and so is a figure whose difference with the published figures \
     inside it would reveal such a figure (secondary suppression). An empty cell is a figure withheld or not there.",
];

/// A column's header in the language: the known columns by name, the rest (a rule set's
/// criteria) by their id.
fn header(id: &str, lang: Lang) -> &str {
    const HEADERS: [(&str, &str, &str); 39] = [
        ("area_id", "Område-id", "Area id"),
        ("area_name", "Område", "Area"),
        ("municipality_code", "Kommunekode", "Municipality code"),
        ("municipality_name", "Kommune", "Municipality"),
        ("status", "Status", "Status"),
        ("area_from", "Området, fra", "The area, from"),
        ("area_to", "Området, til", "The area, to"),
        ("area_change", "Områdets udvikling", "The area's change"),
        ("area_relative_change", "Områdets relative udvikling (%)", "The area's relative change (%)"),
        ("reference_from", "Referencen, fra", "The reference, from"),
        ("reference_to", "Referencen, til", "The reference, to"),
        ("reference_change", "Referencens udvikling", "The reference's change"),
        ("reference_relative_change", "Referencens relative udvikling (%)", "The reference's relative change (%)"),
        ("difference", "Forskel i udvikling", "Difference in change"),
        ("difference_rounded", "Forskel i udvikling, afrundet", "Difference in change, rounded"),
        ("relative_difference", "Forskel i relativ udvikling", "Difference in relative change"),
        ("gap_from", "Afstand, fra", "Gap, from"),
        ("gap_to", "Afstand, til", "Gap, to"),
        ("stronger", "Stærkere end referencen", "Stronger than the reference"),
        ("stronger_relative", "Relativt stærkere", "Relatively stronger"),
        ("beyond_threshold", "Ud over tærsklen", "Beyond the threshold"),
        ("twins", "Tvillinger", "Twins"),
        ("indicator", "Indikator", "Indicator"),
        ("from", "Fra", "From"),
        ("to", "Til", "To"),
        ("reference", "Reference", "Reference"),
        ("threshold", "Tærskel", "Threshold"),
        ("boundary_version", "Afgrænsning", "Delimitation"),
        ("dataset_version", "Datasætversion", "Dataset version"),
        ("year", "År", "Year"),
        ("series", "Serie", "Series"),
        ("value", "Værdi", "Value"),
        ("rules", "Regelsæt", "Rule set"),
        ("item", "Slags", "Kind"),
        ("id", "Id", "Id"),
        ("margin", "Margin", "Margin"),
        ("criteria_met", "Kriterier opfyldt", "Criteria met"),
        ("criteria_required", "Kriterier krævet", "Criteria required"),
        ("nearest_exit", "Nærmeste vej ud", "Nearest exit"),
    ];
    HEADERS.iter().find(|h| h.0 == id).map_or(id, |h| lang.pick(h.1, h.2))
}

/// A text cell.
pub fn text(s: &str) -> Cell {
    Cell::Text(s.to_string())
}

/// A number cell; none where there is no figure.
pub fn number(x: Option<f64>) -> Cell {
    Cell::Number(x)
}

/// A yes/no cell; none where there is no answer.
pub fn flag(x: Option<bool>) -> Cell {
    Cell::Flag(x)
}

/// A number with a decimal comma; empty for none; never `-0`.
fn csv_number(x: Option<f64>) -> String {
    plain_number(x).replace('.', ",")
}

/// A yes or no as the spreadsheet of the language reads a boolean on import: `SAND`/`FALSK`
/// in Danish, `TRUE`/`FALSE` in English; empty for none.
fn csv_flag(x: Option<bool>, lang: Lang) -> String {
    let (yes, no) = match lang {
        Lang::Da => ("SAND", "FALSK"),
        Lang::En => ("TRUE", "FALSE"),
    };
    x.map(|b| if b { yes } else { no }).unwrap_or_default().to_string()
}

/// Quotes a text cell when needed, and keeps a spreadsheet from reading it as a formula.
fn csv_text(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    if s.contains([';', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_for_danish_spreadsheets() {
        assert_eq!(csv_number(Some(-2.5)), "-2,5");
        assert_eq!(csv_number(None), "");
        assert_eq!(csv_number(Some(-0.0)), "0");
        assert_eq!(csv_number(Some(0.0)), "0");
        assert_eq!(csv_number(Some(-0.04)), "-0,04");
        assert_eq!(plain_number(Some(-0.0)), "0");
        assert_eq!(plain_number(Some(12.25)), "12.25");
        assert_eq!(plain_number(None), "");
        assert!(unsigned_zero(-0.0).is_sign_positive());
        assert_eq!(csv_flag(Some(true), Lang::Da), "SAND");
        assert_eq!(csv_flag(Some(false), Lang::Da), "FALSK");
        assert_eq!(csv_flag(Some(false), Lang::En), "FALSE");
        assert_eq!(csv_flag(None, Lang::En), "");
        assert_eq!(csv_text("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_text("Nord; Syd"), "\"Nord; Syd\"");
        assert_eq!(csv_text("Aarhus"), "Aarhus");
        let mut t = Table::new(&["a", "b"]);
        t.row(vec![Cell::from(1u16), text("x;y")]);
        assert_eq!(t.csv(Lang::Da), "\u{feff}a;b\r\n1;\"x;y\"\r\n");
        let mut t = Table::described(&["a"], vec![("year", Cell::from(2024u16)), ("dataset_version", Cell::from(3i64))]);
        t.row(vec![flag(Some(true))]);
        t.row(vec![number(Some(2.5))]);
        assert_eq!(t.csv(Lang::En), "\u{feff}a;year;dataset_version\r\nTRUE;2024;3\r\n2,5;2024;3\r\n");
        // a text longer than a workbook cell holds is cut, not a failed answer
        assert_eq!(excel_text("kort"), "kort");
        let long = "æ".repeat(40_000);
        let cut = excel_text(&long);
        assert_eq!(cut.chars().count(), 32_767);
        assert!(cut.ends_with('…'));
        let mut t = Table::new(&["name"]);
        t.row(vec![text(&long)]);
        let dataset = DatasetRecord {
            version: 1,
            title: "t".into(),
            source: "s".into(),
            boundary_version: "B".into(),
            content_hash: "h".into(),
            imported_at: "2026-01-01T00:00:00Z".into(),
            active: true,
            criteria_indicators: None,
        };
        assert!(t.xlsx(Lang::Da, &dataset).is_ok_and(|book| book.starts_with(b"PK")));
    }
}
