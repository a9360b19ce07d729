//! A streaming JSON reader that knows where it is: it reads from any `Read` through a small
//! buffer, never holds more of the text than one string, and gives each value's line and
//! column, so that `areas.geojson` is read into geometry in memory proportional to the
//! geometry, with problems located in the file. Values the caller does not want are skipped
//! with a depth counter, not by recursion.

use std::io::Read;

/// Nesting deeper than this is refused.
pub const MAX_DEPTH: usize = 128;
/// Strings longer than this are refused (no name or id needs more).
pub const MAX_STRING_BYTES: usize = 1 << 20;

/// 1-based line and column (in characters) of a place in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u64,
    pub column: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JsonError {
    pub pos: Pos,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, JsonError>;

/// What the next value is, by its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Object,
    Array,
    String,
    Number,
    Bool,
    Null,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Object => "an object",
            Kind::Array => "an array",
            Kind::String => "a string",
            Kind::Number => "a number",
            Kind::Bool => "a boolean",
            Kind::Null => "null",
        }
    }
}

pub struct JsonReader<R: Read> {
    input: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    eof: bool,
    line: u64,
    column: u64,
    /// The open objects and arrays, innermost last.
    open: Vec<Frame>,
}

#[derive(Debug, Clone, Copy)]
struct Frame {
    object: bool,
    /// No member or item read yet.
    first: bool,
}

impl<R: Read> JsonReader<R> {
    pub fn new(input: R) -> Self {
        JsonReader { input, buf: vec![0; 1 << 16].into_boxed_slice(), start: 0, end: 0, eof: false, line: 1, column: 1, open: Vec::new() }
    }

    pub fn pos(&self) -> Pos {
        Pos { line: self.line, column: self.column }
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T> {
        Err(JsonError { pos: self.pos(), message: message.into() })
    }

    /// The innermost open object or array; an error when a caller reads members or items
    /// outside one.
    fn frame(&mut self, inside: &str) -> Result<&mut Frame> {
        match self.open.len().checked_sub(1) {
            Some(i) => Ok(&mut self.open[i]),
            None => self.error(format!("read {inside} outside one")),
        }
    }

    fn peek_byte(&mut self) -> Result<Option<u8>> {
        if self.start == self.end && !self.eof {
            self.start = 0;
            self.end = loop {
                match self.input.read(&mut self.buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return self.error(format!("cannot read the file: {e}")),
                }
            };
            self.eof = self.end == 0;
        }
        Ok((self.start < self.end).then(|| self.buf[self.start]))
    }

    fn bump(&mut self) {
        let b = self.buf[self.start];
        self.start += 1;
        if b == b'\n' {
            self.line += 1;
            self.column = 1;
        } else if b & 0xC0 != 0x80 {
            // a character starts here (UTF-8 continuation bytes do not count)
            self.column += 1;
        }
    }

    fn skip_ws(&mut self) -> Result<()> {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek_byte()? {
            self.bump();
        }
        Ok(())
    }

    /// Skips a byte-order mark at the very start.
    pub fn skip_bom(&mut self) -> Result<()> {
        for expected in [0xEF, 0xBB, 0xBF] {
            if self.peek_byte()? != Some(expected) {
                return Ok(());
            }
            self.start += 1;
        }
        Ok(())
    }

    /// The kind of the next value (after white space), and where it starts.
    pub fn peek(&mut self) -> Result<(Kind, Pos)> {
        self.skip_ws()?;
        let kind = match self.peek_byte()? {
            None => return self.error("unexpected end of JSON"),
            Some(b'{') => Kind::Object,
            Some(b'[') => Kind::Array,
            Some(b'"') => Kind::String,
            Some(b't' | b'f') => Kind::Bool,
            Some(b'n') => Kind::Null,
            Some(b'-' | b'0'..=b'9') => Kind::Number,
            Some(_) => return self.error("expected a JSON value"),
        };
        Ok((kind, self.pos()))
    }

    fn expect(&mut self, byte: u8, what: &str) -> Result<()> {
        self.skip_ws()?;
        if self.peek_byte()? != Some(byte) {
            return self.error(format!("expected {what}"));
        }
        self.bump();
        Ok(())
    }

    /// Enters an object; then call [`JsonReader::next_key`] until it returns `None`.
    pub fn begin_object(&mut self) -> Result<()> {
        if self.open.len() >= MAX_DEPTH {
            return self.error("JSON nested too deeply");
        }
        self.expect(b'{', "an object")?;
        self.open.push(Frame { object: true, first: true });
        Ok(())
    }

    /// The next member's name and where it stands, or `None` at the object's end.
    pub fn next_key(&mut self) -> Result<Option<(String, Pos)>> {
        self.skip_ws()?;
        let first = self.frame("an object's member")?.first;
        match self.peek_byte()? {
            Some(b'}') => {
                self.bump();
                self.open.pop();
                return Ok(None);
            }
            Some(b',') if !first => {
                self.bump();
                self.skip_ws()?;
            }
            _ if first => {}
            _ => return self.error("expected ',' or '}' in an object"),
        }
        self.frame("an object's member")?.first = false;
        if self.peek_byte()? != Some(b'"') {
            return self.error("expected a member name in double quotes");
        }
        let pos = self.pos();
        let key = self.string()?;
        self.expect(b':', "':' after a member name")?;
        Ok(Some((key, pos)))
    }

    /// Enters an array; then call [`JsonReader::next_item`] before each item.
    pub fn begin_array(&mut self) -> Result<()> {
        if self.open.len() >= MAX_DEPTH {
            return self.error("JSON nested too deeply");
        }
        self.expect(b'[', "an array")?;
        self.open.push(Frame { object: false, first: true });
        Ok(())
    }

    /// Whether another item follows (false at the array's end).
    pub fn next_item(&mut self) -> Result<bool> {
        self.skip_ws()?;
        let first = self.frame("an array's item")?.first;
        match self.peek_byte()? {
            Some(b']') => {
                self.bump();
                self.open.pop();
                Ok(false)
            }
            Some(b',') if !first => {
                self.bump();
                Ok(true)
            }
            _ if first => {
                self.frame("an array's item")?.first = false;
                Ok(true)
            }
            _ => self.error("expected ',' or ']' in an array"),
        }
    }

    pub fn string(&mut self) -> Result<String> {
        self.skip_ws()?;
        let start = self.pos();
        if self.peek_byte()? != Some(b'"') {
            return self.error("expected a string");
        }
        self.bump();
        let mut out: Vec<u8> = Vec::new();
        loop {
            // the run up to the next quote, backslash or control character, from the buffer
            let run_start = self.start;
            while self.start < self.end {
                let b = self.buf[self.start];
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                if b & 0xC0 != 0x80 {
                    self.column += 1;
                }
                self.start += 1;
            }
            out.extend_from_slice(&self.buf[run_start..self.start]);
            if out.len() > MAX_STRING_BYTES {
                return Err(JsonError { pos: start, message: format!("a string longer than {MAX_STRING_BYTES} bytes") });
            }
            match self.peek_byte()? {
                None => return Err(JsonError { pos: start, message: "unterminated string".into() }),
                Some(b'"') => {
                    self.bump();
                    return String::from_utf8(out).map_err(|_| JsonError { pos: start, message: "the text is not valid UTF-8".into() });
                }
                Some(b'\\') => {
                    self.bump();
                    let c = match self.peek_byte()? {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.bump();
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if self.peek_byte()? != Some(b'\\') {
                                    return self.error("unpaired surrogate in string");
                                }
                                self.bump();
                                if self.peek_byte()? != Some(b'u') {
                                    return self.error("unpaired surrogate in string");
                                }
                                self.bump();
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return self.error("unpaired surrogate in string");
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            let c = char::from_u32(code).map_or_else(|| self.error("invalid \\u escape"), Ok)?;
                            let mut tmp = [0; 4];
                            out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
                            continue;
                        }
                        _ => return self.error("invalid escape in string"),
                    };
                    self.bump();
                    out.push(c as u8);
                }
                Some(b) if b < 0x20 => return self.error("control character in string"),
                // the buffer ran out in the middle of the run
                Some(_) => {}
            }
        }
    }

    fn hex4(&mut self) -> Result<u32> {
        let mut v = 0;
        for _ in 0..4 {
            let d = match self.peek_byte()? {
                Some(b) => (b as char).to_digit(16),
                None => None,
            };
            let Some(d) = d else { return self.error("invalid \\u escape") };
            v = v * 16 + d;
            self.bump();
        }
        Ok(v)
    }

    pub fn number(&mut self) -> Result<f64> {
        self.skip_ws()?;
        let start = self.pos();
        let mut text = String::new();
        let take = |r: &mut Self, text: &mut String| -> Result<bool> {
            match r.peek_byte()? {
                Some(b @ (b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')) if text.len() < 64 => {
                    text.push(b as char);
                    r.bump();
                    Ok(true)
                }
                _ => Ok(false),
            }
        };
        while take(self, &mut text)? {}
        if let Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') = self.peek_byte()? {
            return Err(JsonError { pos: start, message: "a number longer than 64 characters".into() });
        }
        if !is_json_number(&text) {
            return Err(JsonError { pos: start, message: "invalid number".into() });
        }
        match text.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(n),
            Ok(_) => Err(JsonError { pos: start, message: "number out of range".into() }),
            Err(_) => Err(JsonError { pos: start, message: "invalid number".into() }),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<()> {
        for &expected in word {
            if self.peek_byte()? != Some(expected) {
                return self.error("expected a JSON value");
            }
            self.bump();
        }
        Ok(())
    }

    pub fn boolean(&mut self) -> Result<bool> {
        self.skip_ws()?;
        if self.peek_byte()? == Some(b't') { self.literal(b"true").map(|()| true) } else { self.literal(b"false").map(|()| false) }
    }

    pub fn null(&mut self) -> Result<()> {
        self.skip_ws()?;
        self.literal(b"null")
    }

    /// Skips the next value whole, however deep, without recursion.
    pub fn skip_value(&mut self) -> Result<()> {
        let depth = self.open.len();
        loop {
            // inside a container that skipping entered: on to its next member, or out of it
            if self.open.len() > depth {
                let object = self.frame("a value")?.object;
                let more = if object { self.next_key()?.is_some() } else { self.next_item()? };
                if !more {
                    if self.open.len() == depth {
                        return Ok(());
                    }
                    continue;
                }
            }
            match self.peek()?.0 {
                Kind::Object => self.begin_object()?,
                Kind::Array => self.begin_array()?,
                Kind::String => {
                    self.string()?;
                }
                Kind::Number => {
                    self.number()?;
                }
                Kind::Bool => {
                    self.boolean()?;
                }
                Kind::Null => self.null()?,
            }
            if self.open.len() == depth {
                return Ok(());
            }
        }
    }

    /// After the top-level value: nothing but white space.
    pub fn end(&mut self) -> Result<()> {
        self.skip_ws()?;
        match self.peek_byte()? {
            None => Ok(()),
            Some(_) => self.error("unexpected content after the JSON value"),
        }
    }
}

/// RFC 8259's number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let s = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > s
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a whole value into serde_json's tree (for the tests; the service never does).
    fn value<R: Read>(r: &mut JsonReader<R>) -> Result<serde_json::Value> {
        Ok(match r.peek()?.0 {
            Kind::Object => {
                r.begin_object()?;
                let mut m = serde_json::Map::new();
                while let Some((k, _)) = r.next_key()? {
                    let v = value(r)?;
                    m.insert(k, v);
                }
                serde_json::Value::Object(m)
            }
            Kind::Array => {
                r.begin_array()?;
                let mut items = Vec::new();
                while r.next_item()? {
                    items.push(value(r)?);
                }
                serde_json::Value::Array(items)
            }
            Kind::String => r.string()?.into(),
            Kind::Number => r.number()?.into(),
            Kind::Bool => r.boolean()?.into(),
            Kind::Null => {
                r.null()?;
                serde_json::Value::Null
            }
        })
    }

    fn parse(text: &str) -> Result<serde_json::Value> {
        let mut r = JsonReader::new(text.as_bytes());
        r.skip_bom()?;
        let v = value(&mut r)?;
        r.end()?;
        Ok(v)
    }

    #[test]
    fn reads_values_and_knows_where_they_are() {
        let text = "{\n  \"a\": [1, -2.5e1, true, null],\n  \"bæ\": \"x\\u00e6\\\"\", \"c\": {}}";
        assert_eq!(parse(text).unwrap(), serde_json::json!({"a": [1.0, -25.0, true, null], "bæ": "xæ\"", "c": {}}));
        let mut r = JsonReader::new(text.as_bytes());
        r.begin_object().unwrap();
        let (k, pos) = r.next_key().unwrap().unwrap();
        assert_eq!((k.as_str(), pos), ("a", Pos { line: 2, column: 3 }));
        assert_eq!(r.peek().unwrap(), (Kind::Array, Pos { line: 2, column: 8 }));
        r.skip_value().unwrap();
        let (k, pos) = r.next_key().unwrap().unwrap();
        assert_eq!((k.as_str(), pos), ("bæ", Pos { line: 3, column: 3 }));
        let (_, at) = r.peek().unwrap();
        assert_eq!(at, Pos { line: 3, column: 9 }, "columns count characters, not bytes");
    }

    #[test]
    fn reports_errors_where_they_are() {
        for (text, column) in
            [("{\"a\": }", 7), ("[1, 2", 6), ("{\"a\" 1}", 6), ("01", 1), ("[1.]", 2), ("\"abc", 1), ("[1] x", 5), ("[1,]", 4)]
        {
            let e = parse(text).unwrap_err();
            assert_eq!(e.pos.column, column, "{text}: {e:?}");
        }
        assert!(parse("").is_err());
        assert!(parse("1e999").unwrap_err().message.contains("range"));
        assert!(parse("\"\\ud800\"").is_err());
        assert!(parse("\"\u{1}\"").is_err());
        assert!(parse("[\"\\x\"]").is_err());
    }

    #[test]
    fn refuses_deep_nesting_and_skips_without_recursion() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(parse(&deep).unwrap_err().message.contains("deeply"));
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        let mut r = JsonReader::new(ok.as_bytes());
        r.skip_value().unwrap();
        r.end().unwrap();
        // a long flat value is skipped in constant memory
        let wide = format!("{{\"x\": [{}0], \"y\": 1}}", "0,".repeat(1_000_000));
        let mut r = JsonReader::new(wide.as_bytes());
        r.begin_object().unwrap();
        r.next_key().unwrap();
        r.skip_value().unwrap();
        assert_eq!(r.next_key().unwrap().unwrap().0, "y");
    }

    #[test]
    fn refuses_overlong_strings_and_numbers() {
        let long = format!("\"{}\"", "a".repeat(MAX_STRING_BYTES + 10));
        assert!(parse(&long).unwrap_err().message.contains("longer"));
        let number = "1".repeat(100);
        assert!(parse(&number).unwrap_err().message.contains("longer"));
    }

    #[test]
    fn agrees_with_serde_json_on_numbers() {
        for s in ["0.1", "12345.678901234567", "-0", "5e-324", "1.7976931348623157e308", "677000.123", "1E+2"] {
            let ours = parse(s).unwrap().as_f64().unwrap();
            let theirs: f64 = serde_json::from_str(s).unwrap();
            assert_eq!(ours.to_bits(), theirs.to_bits(), "{s}");
        }
        for bad in ["+1", "1.", ".5", "1e", "--1", "0x10", "1.2.3"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
