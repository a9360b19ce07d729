//! CSV files of an extract: header row, RFC 4180 quoting, `,` or `;` detected from the
//! header line, columns found by name, a byte-order mark tolerated.

use std::cell::Cell as Shared;
use std::collections::HashSet;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use super::problems::Problems;

/// No row (a record, quoted newlines included) may be longer than this: a hostile file
/// could otherwise make one row as large as memory. No extract's row comes near.
pub const MAX_ROW_BYTES: usize = 1 << 20;

/// Passes a CSV file's bytes through, following RFC 4180 quoting as the csv crate does, and
/// fails the read when a row grows beyond [`MAX_ROW_BYTES`]; the line it is on is kept for
/// the problem.
struct RowLimit<R> {
    inner: R,
    delimiter: u8,
    state: Quoting,
    row_bytes: usize,
    line: u64,
    over: Rc<Shared<Option<u64>>>,
}

#[derive(Clone, Copy, PartialEq)]
enum Quoting {
    FieldStart,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

impl<R: Read> Read for RowLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            self.row_bytes += 1;
            self.state = match (self.state, b) {
                (Quoting::Quoted, b'"') => Quoting::QuoteInQuoted,
                (Quoting::Quoted, _) => Quoting::Quoted,
                (Quoting::QuoteInQuoted, b'"') | (Quoting::FieldStart, b'"') => Quoting::Quoted,
                (_, b'\n') => {
                    self.row_bytes = 0;
                    Quoting::FieldStart
                }
                (_, d) if d == self.delimiter => Quoting::FieldStart,
                _ => Quoting::Unquoted,
            };
            if b == b'\n' {
                self.line += 1;
            }
            if self.row_bytes > MAX_ROW_BYTES {
                self.over.set(Some(self.line));
                return Err(io::Error::new(io::ErrorKind::InvalidData, format!("a row longer than {MAX_ROW_BYTES} bytes")));
            }
        }
        Ok(n)
    }
}

/// A column the format names, and whether it must be present.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub required: bool,
}

pub const fn required(name: &'static str) -> Column {
    Column { name, required: true }
}

pub const fn optional(name: &'static str) -> Column {
    Column { name, required: false }
}

pub struct CsvTable<R: Read> {
    pub file: &'static str,
    reader: csv::Reader<RowLimit<BufReader<R>>>,
    /// The line a row grew too long on.
    over: Rc<Shared<Option<u64>>>,
    /// For each requested column, its 0-based field index when present.
    index: Vec<Option<usize>>,
    columns: &'static [Column],
    header_len: usize,
    /// `;`-delimited files come from Danish spreadsheets, which write decimal commas.
    pub decimal_comma: bool,
}

/// One data row: its line and fields. Reused from row to row, to spare an allocation each.
#[derive(Default)]
pub struct Row {
    pub line: u64,
    record: csv::ByteRecord,
}

/// A cell's text and its 1-based column.
#[derive(Debug, Clone, Copy)]
pub struct Cell<'a> {
    pub text: &'a str,
    pub column: u64,
}

impl<R: Read> CsvTable<R> {
    /// Reads the header; reports missing required columns and returns `None` if any.
    pub fn open(file: &'static str, reader: R, columns: &'static [Column], problems: &mut Problems) -> Option<Self> {
        let mut buffered = BufReader::with_capacity(1 << 16, reader);
        let head = match buffered.fill_buf() {
            Ok(b) => b,
            Err(e) => {
                problems.add(file, None, None, format!("cannot read the file: {e}"));
                return None;
            }
        };
        let bom = head.starts_with(b"\xEF\xBB\xBF");
        let head = if bom { &head[3..] } else { head };
        let first_line = head.split(|&b| b == b'\n').next().unwrap_or(&[]);
        let delimiter = detect_delimiter(first_line);
        if bom {
            buffered.consume(3);
        }
        let over = Rc::new(Shared::new(None));
        let limited = RowLimit { inner: buffered, delimiter, state: Quoting::FieldStart, row_bytes: 0, line: 1, over: over.clone() };
        // Lines end at '\n'; a CRLF's '\r' stays on the last field and is trimmed with the
        // rest. (With the csv crate's default CRLF handling, record line numbers come out
        // one short in CRLF files.)
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .terminator(csv::Terminator::Any(b'\n'))
            .has_headers(true)
            .flexible(true)
            .from_reader(limited);
        let header = match reader.byte_headers() {
            Ok(h) => h.clone(),
            Err(e) => {
                let message = match over.get() {
                    Some(_) => format!("the header row is longer than {MAX_ROW_BYTES} bytes"),
                    None => format!("cannot read the header row: {e}"),
                };
                problems.add(file, Some(1), None, message);
                return None;
            }
        };
        if header.is_empty() || header.iter().all(|f| f.is_empty()) {
            problems.add(file, Some(1), None, "the file is empty: it needs a header row");
            return None;
        }
        let names: Vec<String> = header.iter().map(|f| String::from_utf8_lossy(f).trim().to_string()).collect();
        let mut index = Vec::with_capacity(columns.len());
        let mut complete = true;
        for c in columns {
            let found = names.iter().position(|n| n == c.name);
            if found.is_none() && c.required {
                problems.add(file, Some(1), None, format!("missing required column {:?}", c.name));
                complete = false;
            }
            index.push(found);
        }
        let mut seen: HashSet<&str> = HashSet::with_capacity(names.len());
        for (i, n) in names.iter().enumerate() {
            if !seen.insert(n) && columns.iter().any(|c| c.name == n) {
                problems.at(file, 1, i as u64 + 1, format!("column {n:?} appears twice"));
                complete = false;
            }
        }
        complete.then_some(CsvTable { file, reader, over, index, columns, header_len: header.len(), decimal_comma: delimiter == b';' })
    }

    /// Reads the next data row into `row`; false at the end. Rows with the wrong number of
    /// fields and unreadable rows are reported and skipped.
    pub fn next_row(&mut self, row: &mut Row, problems: &mut Problems) -> bool {
        loop {
            match self.reader.read_byte_record(&mut row.record) {
                Ok(false) => return false,
                Ok(true) => {}
                Err(e) => {
                    if let Some(line) = self.over.get() {
                        problems.add(
                            self.file,
                            Some(line),
                            None,
                            format!("the row is longer than {MAX_ROW_BYTES} bytes; reading stopped here"),
                        );
                        return false;
                    }
                    let line = e.position().map(|p| p.line());
                    problems.add(self.file, line, None, format!("cannot read the row: {e}"));
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        return false;
                    }
                    continue;
                }
            }
            row.line = row.record.position().map_or(0, |p| p.line());
            // a row of nothing but empty fields (a trailing `;;;` line) carries no data
            if row.record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                continue;
            }
            if row.record.len() != self.header_len {
                problems.add(
                    self.file,
                    Some(row.line),
                    None,
                    format!("the row has {} fields, the header has {}", row.record.len(), self.header_len),
                );
                continue;
            }
            return true;
        }
    }

    /// The trimmed text of a column in a row, `None` when the column is absent or the cell
    /// empty. A required column's empty cell and invalid UTF-8 are reported.
    pub fn get<'r>(&self, row: &'r Row, column: usize, problems: &mut Problems) -> Option<Cell<'r>> {
        let field = self.index[column]?;
        let col = field as u64 + 1;
        let raw = row.record.get(field).unwrap_or_default();
        let Ok(text) = std::str::from_utf8(raw) else {
            problems.at(self.file, row.line, col, "the text is not valid UTF-8");
            return None;
        };
        let text = text.trim();
        if text.is_empty() {
            if self.columns[column].required {
                problems.at(self.file, row.line, col, format!("{} is empty", self.columns[column].name));
            }
            return None;
        }
        Some(Cell { text, column: col })
    }
}

/// `;` when the header line has more semicolons than commas outside quotes, else `,`.
fn detect_delimiter(line: &[u8]) -> u8 {
    let (mut commas, mut semicolons, mut quoted) = (0, 0, false);
    for &b in line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semicolons += 1,
            _ => {}
        }
    }
    if semicolons > commas { b';' } else { b',' }
}

/// Why a number cell is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberError {
    NotANumber,
    Fractional,
    Negative,
}

/// Parses a plain decimal number (`12`, `-3.5`, and `3,5` in `;`-delimited files). Exponents,
/// thousands separators, `inf` and `NaN` are not numbers here.
pub fn parse_decimal(text: &str, decimal_comma: bool) -> Result<f64, NumberError> {
    let bytes = text.as_bytes();
    let digits_start = usize::from(bytes.first() == Some(&b'-') || bytes.first() == Some(&b'+'));
    let body = &bytes[digits_start..];
    let mut seen_separator = false;
    let mut digits = 0;
    for &b in body {
        match b {
            b'0'..=b'9' => digits += 1,
            b'.' if !seen_separator => seen_separator = true,
            b',' if decimal_comma && !seen_separator => seen_separator = true,
            _ => return Err(NumberError::NotANumber),
        }
    }
    if digits == 0 || body.first().is_some_and(|b| !b.is_ascii_digit()) || body.last().is_some_and(|b| !b.is_ascii_digit()) {
        return Err(NumberError::NotANumber);
    }
    let normalized;
    let text = if decimal_comma && text.contains(',') {
        normalized = text.replace(',', ".");
        &normalized
    } else {
        text
    };
    text.parse::<f64>().map_err(|_| NumberError::NotANumber).and_then(|v| if v.is_finite() { Ok(v) } else { Err(NumberError::NotANumber) })
}

/// Parses a whole, non-negative count. `12.0` is whole; `12.5` is not.
pub fn parse_count(text: &str, decimal_comma: bool) -> Result<f64, NumberError> {
    let v = parse_decimal(text, decimal_comma)?;
    if v < 0.0 {
        return Err(NumberError::Negative);
    }
    if v.fract() != 0.0 {
        return Err(NumberError::Fractional);
    }
    // counts above 2^53 would not be exact in a double
    if v > 9_007_199_254_740_992.0 {
        return Err(NumberError::NotANumber);
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLS: &[Column] = &[required("code"), required("name"), optional("note")];

    fn rows(text: &str) -> (Vec<Vec<Option<String>>>, Vec<u64>, Problems) {
        let mut problems = Problems::default();
        let mut out = Vec::new();
        let mut lines = Vec::new();
        if let Some(mut t) = CsvTable::open("t.csv", text.as_bytes(), COLS, &mut problems) {
            let mut row = Row::default();
            while t.next_row(&mut row, &mut problems) {
                lines.push(row.line);
                out.push((0..COLS.len()).map(|c| t.get(&row, c, &mut problems).map(|c| c.text.to_string())).collect());
            }
        }
        (out, lines, problems)
    }

    #[test]
    fn reads_comma_files_with_free_column_order_and_extra_columns() {
        let (r, lines, p) = rows("extra,name,code\nx,\"Aarhus, C\",751\ny,Odense,461\n");
        assert!(p.is_empty());
        assert_eq!(r[0], vec![Some("751".into()), Some("Aarhus, C".into()), None]);
        assert_eq!(r[1][0].as_deref(), Some("461"));
        assert_eq!(lines, vec![2, 3]);
    }

    #[test]
    fn reads_semicolon_files_with_a_bom_and_crlf() {
        let (r, _, p) = rows("\u{feff}code;name;note\r\n101;\"Kø;benhavn\";\r\n");
        assert!(p.is_empty(), "{:?}", p.into_rejection());
        assert_eq!(r[0], vec![Some("101".into()), Some("Kø;benhavn".into()), None]);
    }

    #[test]
    fn reports_missing_columns_and_empty_cells() {
        let (_, _, p) = rows("code,note\n1,x\n");
        let r = p.into_rejection();
        assert_eq!(r.problems.len(), 1);
        assert!(r.problems[0].message.contains("\"name\""));
        assert_eq!(r.problems[0].line, Some(1));
        let (_, _, p) = rows("code,name\n1,\n2,b,extra\n");
        let r = p.into_rejection();
        assert_eq!(r.problems[0].line, Some(2));
        assert_eq!(r.problems[0].column, Some(2));
        assert!(r.problems[0].message.contains("name is empty"));
        assert_eq!(r.problems[1].line, Some(3));
        assert!(r.problems[1].message.contains("3 fields"));
    }

    #[test]
    fn line_numbers_follow_quoted_newlines() {
        let (_, lines, _) = rows("code,name\n1,\"two\nlines\"\n2,b\n");
        assert_eq!(lines, vec![2, 4]);
    }

    #[test]
    fn line_numbers_are_right_with_crlf_and_blank_lines() {
        let (r, lines, p) = rows("code;name\r\n1;\"a\r\nb\"\r\n\r\n2;c\r\n;;\r\n3;\"d\"\r\n");
        assert!(p.is_empty());
        assert_eq!(lines, vec![2, 5, 7]);
        assert_eq!(r[0][1].as_deref(), Some("a\r\nb"));
        assert_eq!(r[2][1].as_deref(), Some("d"));
    }

    #[test]
    fn rows_are_bounded_and_quotes_followed() {
        // a long quoted field with newlines is one row; a long row stops the reading
        let ok = format!("code,name\n1,\"{}\"\n2,b\n", "x\n".repeat(MAX_ROW_BYTES / 4));
        let (r, lines, p) = rows(&ok);
        assert!(p.is_empty());
        assert_eq!((r.len(), lines[1]), (2, 3 + (MAX_ROW_BYTES / 4) as u64));
        let long = format!("code,name\n1,a\n2,\"{}\"\n3,c\n", "x\n".repeat(MAX_ROW_BYTES));
        let (r, _, p) = rows(&long);
        assert_eq!(r.len(), 1);
        let p = p.into_rejection();
        assert!(p.problems[0].message.contains("longer than"), "{:?}", p.problems);
        // quotes inside an unquoted field are text, as the csv crate reads them
        let (r, _, p) = rows("code,name\n1,a\"b\n2,c\n");
        assert!(p.is_empty());
        assert_eq!(r[0][1].as_deref(), Some("a\"b"));
        assert_eq!(r.len(), 2);
    }

    #[test]
    fn a_header_of_many_columns_is_checked_in_linear_time() {
        let names: Vec<String> = (0..100_000).map(|i| format!("c{i}")).collect();
        let text = format!("code,name,{}\n1,a{}\n", names.join(","), ",".repeat(names.len()));
        let (r, _, p) = rows(&text);
        assert!(p.is_empty());
        assert_eq!(r.len(), 1);
        let (_, _, p) = rows("code,name,code\n1,a,b\n");
        assert!(p.into_rejection().problems[0].message.contains("twice"));
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_decimal("12.5", false), Ok(12.5));
        assert_eq!(parse_decimal("-3", false), Ok(-3.0));
        assert_eq!(parse_decimal("12,5", true), Ok(12.5));
        assert_eq!(parse_decimal("12,5", false), Err(NumberError::NotANumber));
        for bad in ["", "-", "1e3", "inf", "NaN", "1.2.3", "1,2.3", ".5", "5.", "1 000", "0x10", "١٢"] {
            assert_eq!(parse_decimal(bad, true), Err(NumberError::NotANumber), "{bad:?}");
        }
        assert_eq!(parse_count("12", false), Ok(12.0));
        assert_eq!(parse_count("12.0", false), Ok(12.0));
        assert_eq!(parse_count("12.5", false), Err(NumberError::Fractional));
        assert_eq!(parse_count("-1", false), Err(NumberError::Negative));
        assert_eq!(parse_count("abc", false), Err(NumberError::NotANumber));
    }
}
