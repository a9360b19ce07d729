//! Parsing query and path parameters into domain values, with 400s that name the parameter
//! and say what is allowed.

use serde::Serialize;

use crate::domain::model::{MunicipalityCode, Reference};
use crate::error::ApiError;
use crate::http::negotiate::Lang;
use crate::http::offload::Rendered;
use crate::snapshot::{Area, Indicator, Snapshot};

pub const MIN_YEAR: u16 = 1900;
pub const MAX_YEAR: u16 = 2100;

pub fn required<'a>(value: &'a Option<String>, name: &str, hint: &str) -> Result<&'a str, ApiError> {
    required_str(value.as_deref(), name, hint)
}

pub fn required_str<'a>(value: Option<&'a str>, name: &str, hint: &str) -> Result<&'a str, ApiError> {
    value.ok_or_else(|| ApiError::invalid(name, format!("{name} is required: {hint}")))
}

pub fn year(name: &str, text: &str) -> Result<u16, ApiError> {
    text.trim()
        .parse::<u16>()
        .ok()
        .filter(|y| (MIN_YEAR..=MAX_YEAR).contains(y))
        .ok_or_else(|| ApiError::invalid(name, format!("{name} {text:?} must be a year from {MIN_YEAR} to {MAX_YEAR}")))
}

/// An optional whole number within a range, or its default.
pub fn whole(name: &str, text: Option<&str>, default: usize, range: std::ops::RangeInclusive<usize>) -> Result<usize, ApiError> {
    match text {
        None => Ok(default),
        Some(t) => t.trim().parse::<usize>().ok().filter(|v| range.contains(v)).ok_or_else(|| {
            ApiError::invalid(name, format!("{name} {t:?} must be a whole number from {} to {}", range.start(), range.end()))
        }),
    }
}

pub fn reference(text: &str) -> Result<Reference, ApiError> {
    text.parse().map_err(|_| ApiError::invalid("reference", format!("reference {text:?} must be {}", Reference::choices())))
}

/// A finite number as a query spells it, `-0` as `0` (one value, so one answer and one key).
pub fn number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite()).map(|v| v + 0.0)
}

/// A threshold: a finite number ≥ 0, in the indicator's unit.
pub fn threshold(text: Option<&str>) -> Result<f64, ApiError> {
    let Some(text) = text else { return Ok(5.0) };
    number(text)
        .filter(|t| *t >= 0.0)
        .ok_or_else(|| ApiError::invalid("threshold", format!("threshold {text:?} must be a number ≥ 0, such as 5 or 2.5")))
}

pub fn municipality(name: &str, text: &str) -> Result<MunicipalityCode, ApiError> {
    text.parse().map_err(|_| ApiError::invalid(name, format!("{text:?} is not a municipality code such as 101 or 0101")))
}

/// An indicator named in the query string: unknown is a bad request.
pub fn indicator_param<'s>(snapshot: &'s Snapshot, code: &str) -> Result<(usize, &'s Indicator), ApiError> {
    snapshot.indicator(code).ok_or_else(|| ApiError::invalid("indicator", format!("unknown indicator {code:?}; see /v1/indicators")))
}

/// An indicator named in the path: unknown is not found.
pub fn indicator_path<'s>(snapshot: &'s Snapshot, code: &str) -> Result<(usize, &'s Indicator), ApiError> {
    snapshot.indicator(code).ok_or_else(|| ApiError::NotFound(format!("no indicator {code:?}; see /v1/indicators")))
}

pub fn area_path<'s>(snapshot: &'s Snapshot, area_id: &str) -> Result<(usize, &'s Area), ApiError> {
    snapshot.area(area_id).ok_or_else(|| ApiError::NotFound(format!("no area {area_id:?}; see /v1/areas")))
}

/// A JSON answer from a snapshot: says which dataset version it comes from, and in which
/// language its labels are.
pub fn data_json<T: Serialize>(snapshot: &Snapshot, lang: Option<Lang>, body: &T) -> Result<Rendered, ApiError> {
    let r = Rendered::json(snapshot.dataset.version, body)?;
    Ok(match lang {
        Some(lang) => r.language(lang.code()),
        None => r,
    })
}

/// An answer from a snapshot in any format: the dataset version, and the label language when
/// the body has labels.
pub fn data_body(snapshot: &Snapshot, lang: Option<Lang>, content_type: &'static str, body: impl Into<actix_web::web::Bytes>) -> Rendered {
    let r = Rendered::new(snapshot.dataset.version, content_type, body);
    match lang {
        Some(lang) => r.language(lang.code()),
        None => r,
    }
}

/// Digits with at most one inner `.`, no leading zero and no trailing zero after the point,
/// at most 15 of them: written back unchanged by both canonical forms below.
fn is_plain_number(v: &str) -> bool {
    let b = v.as_bytes();
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    let dots = b.iter().filter(|&&c| c == b'.').count();
    digits == b.len() - dots
        && digits > 0
        && digits <= 15
        && dots <= 1
        && b[0] != b'.'
        && b[b.len() - 1] != b'.'
        && !(b[0] == b'0' && b.len() > 1 && b[1] != b'.')
        && !(dots == 1 && b[b.len() - 1] == b'0')
}

/// The canonical spelling of a query parameter's value (for the cache key; the handler is
/// given it too), or `None` to keep the value as sent. Only spellings that the parsing here
/// treats alike are made one: years and counts as whole numbers, thresholds and tolerances
/// as numbers, municipality codes in Danmarks Statistik's form, `lang` in lower case. What
/// does not parse is left alone, for the handler to refuse.
pub fn canonical_value(name: &str, value: &str) -> Option<String> {
    if is_plain_number(value) && !matches!(name, "lang" | "municipality" | "municipality_code") {
        return None; // already as it would be written (and no allocation for the common case)
    }
    let t = value.trim();
    match name {
        "from" | "to" | "year" | "classes" | "precision" | "limit" | "offset" | "twins" => t.parse::<u64>().ok().map(|n| n.to_string()),
        "threshold" | "simplify" => number(t).map(|v| v.to_string()),
        "bbox" => {
            let numbers: Option<Vec<String>> = t.split(',').map(|x| number(x).map(|v| v.to_string())).collect();
            numbers.map(|n| n.join(","))
        }
        "municipality" | "municipality_code" => t.parse::<MunicipalityCode>().ok().map(|m| m.to_string()),
        "lang" => Some(value.to_ascii_lowercase()),
        _ => None,
    }
    .filter(|canonical| canonical != value)
}

/// The query of an operation that takes none: a parameter sent to it is refused, not ignored.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParameters {}

/// Refuses any query parameter, as the `NoParameters` extractor does, where the operation
/// decides something else first (the administration: whether it is enabled, the token).
pub fn no_parameters(req: &actix_web::HttpRequest) -> Result<(), ApiError> {
    actix_web::web::Query::<NoParameters>::from_query(req.query_string()).map(|_| ()).map_err(crate::error::query_problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_thresholds_and_references() {
        assert_eq!(year("from", "2015").unwrap(), 2015);
        for bad in ["15", "20150", "abc", "-2015", "2015.5", "1899", "2101", ""] {
            assert!(year("from", bad).is_err(), "{bad}");
        }
        assert_eq!(threshold(None).unwrap(), 5.0);
        assert_eq!(threshold(Some("2.5")).unwrap(), 2.5);
        assert_eq!(threshold(Some("0")).unwrap(), 0.0);
        assert!(threshold(Some("-0")).unwrap().is_sign_positive(), "-0 is 0");
        for bad in ["-1", "NaN", "inf", "x", ""] {
            assert!(threshold(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(reference("social_housing").unwrap(), Reference::SocialHousing);
        assert!(reference("region").is_err());
    }

    #[test]
    fn canonical_values_parse_as_the_originals_do() {
        let c = |n: &str, v: &str| canonical_value(n, v).unwrap_or_else(|| v.to_string());
        assert_eq!(c("from", "02015"), "2015");
        assert_eq!(year("from", "02015").unwrap(), year("from", &c("from", "02015")).unwrap());
        assert_eq!(c("threshold", "5.00"), "5");
        assert_eq!(c("threshold", " 2.5"), "2.5");
        assert_eq!(threshold(Some("5.00")).unwrap(), threshold(Some(&c("threshold", "5.00"))).unwrap());
        assert_eq!(c("bbox", "9.90, 56.0,10.4,56.3"), "9.9,56,10.4,56.3");
        assert_eq!(c("municipality", "0101"), "101");
        assert_eq!(c("lang", "EN"), "en");
        assert_eq!(c("threshold", "-0"), "0", "one key for -0 and 0");
        assert_eq!(c("threshold", "-0.0"), "0");
        assert_eq!(c("bbox", "-0,55,13,56"), "0,55,13,56");
        // what the handler would refuse stays as it was, to be refused
        for (n, v) in [("from", "15.0"), ("threshold", "NaN"), ("threshold", "inf"), ("bbox", "1,2,x,4"), ("municipality", "abc")] {
            assert_eq!(canonical_value(n, v), None, "{n}={v}");
        }
        assert_eq!(canonical_value("indicator", " x"), None, "codes are compared as sent");
        assert_eq!(canonical_value("from", "2015"), None, "already canonical");
        // what needs no rewriting is recognised without parsing, and exactly that
        for v in ["5", "2015", "0", "0.5", "2.25", "10.4", "56.3"] {
            assert!(is_plain_number(v), "{v}");
            assert_eq!(v.parse::<f64>().unwrap().to_string(), v);
        }
        for v in ["05", "5.0", "5.", ".5", "1e3", "-1", " 5", "1.2.3", "", "1234567890123456"] {
            assert!(!is_plain_number(v), "{v}");
        }
    }
}
