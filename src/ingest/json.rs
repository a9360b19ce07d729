//! A small JSON tree that remembers where each value starts, for the manifest (a problem in
//! it is reported with its line and column; serde_json's values forget). Built by the
//! streaming reader, so the syntax rules are the same as for the GeoJSON files; the
//! manifest is small, and its size is bounded by the caller.

use std::io::Read;

pub use super::json_stream::{JsonError, Pos};
use super::json_stream::{JsonReader, Kind};

/// A JSON value and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Json {
    pub pos: Pos,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    pub fn get(&self, key: &str) -> Option<&Json> {
        match &self.value {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self.value {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }
}

/// Parses a whole document (a byte-order mark tolerated).
pub fn parse_reader(input: impl Read) -> Result<Json, JsonError> {
    let mut r = JsonReader::new(input);
    r.skip_bom()?;
    let v = value(&mut r)?;
    r.end()?;
    Ok(v)
}

pub fn parse(text: &str) -> Result<Json, JsonError> {
    parse_reader(text.as_bytes())
}

/// One value; the reader refuses nesting deeper than its limit, which bounds the recursion.
fn value<R: Read>(r: &mut JsonReader<R>) -> Result<Json, JsonError> {
    let (kind, pos) = r.peek()?;
    let value = match kind {
        Kind::Object => {
            r.begin_object()?;
            let mut members = Vec::new();
            while let Some((key, _)) = r.next_key()? {
                members.push((key, value(r)?));
            }
            Value::Object(members)
        }
        Kind::Array => {
            r.begin_array()?;
            let mut items = Vec::new();
            while r.next_item()? {
                items.push(value(r)?);
            }
            Value::Array(items)
        }
        Kind::String => Value::String(r.string()?),
        Kind::Number => Value::Number(r.number()?),
        Kind::Bool => Value::Bool(r.boolean()?),
        Kind::Null => {
            r.null()?;
            Value::Null
        }
    };
    Ok(Json { pos, value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_values_with_positions() {
        let text = "{\n  \"a\": [1, -2.5e1, true, null],\n  \"b\": \"x\\u00e6\\\"\"\n}";
        let v = parse(text).unwrap();
        let a = v.get("a").unwrap();
        let Value::Array(items) = &a.value else { panic!() };
        assert_eq!(items[0].as_f64(), Some(1.0));
        assert_eq!(items[1].as_f64(), Some(-25.0));
        assert_eq!(items[2].value, Value::Bool(true));
        assert_eq!(v.get("b").unwrap().as_str(), Some("xæ\""));
        assert_eq!(a.pos, Pos { line: 2, column: 8 });
        assert_eq!(items[1].pos, Pos { line: 2, column: 12 });
        assert_eq!(v.get("b").unwrap().pos, Pos { line: 3, column: 8 });
        assert!(parse("{\"a\": 1} x").is_err());
        assert!(parse(&("[".repeat(10_000) + &"]".repeat(10_000))).unwrap_err().message.contains("deeply"));
    }
}
