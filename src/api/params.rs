//! Parsing query and path parameters into domain values, with 400s that name the parameter
//! and say what is allowed.

use serde::Serialize;

use crate::domain::geometry::BBox;
use crate::domain::model::{MunicipalityCode, Reference};
use crate::error::ApiError;
use crate::http::extract::NAME_MARK;
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

pub fn reference(text: &str) -> Result<Reference, ApiError> {
    text.parse().map_err(|_| ApiError::invalid("reference", format!("reference {text:?} must be {}", Reference::choices())))
}

/// A finite number as a query spells it, `-0` as `0` (one value, so one answer and one key).
pub fn number_value(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite()).map(|v| v + 0.0)
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
        "threshold" | "simplify" => number_value(t).map(|v| v.to_string()),
        "bbox" => {
            let numbers: Option<Vec<String>> = t.split(',').map(|x| number_value(x).map(|v| v.to_string())).collect();
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
    crate::http::extract::parse::<NoParameters>(req.query_string()).map(|_| ())
}

/// A query parameter's value, typed at the edge: parsed from the text a client sent (with the
/// 400 that names the parameter and says what was wanted) and described by the same type in
/// the OpenAPI document, so that the ranges the validation holds and those the document
/// states are one set of constants.
pub trait ParamValue: Sized {
    /// The value of parameter `name`, or the problem naming it.
    fn parse(name: &str, text: &str) -> Result<Self, ApiError>;
}

/// The serde and OpenAPI sides of a [`ParamValue`]: read from one string, described by
/// `$schema` inline where a query names it.
macro_rules! param_value {
    ($ty:ty, $schema:expr) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = std::borrow::Cow::<str>::deserialize(d)?;
                <$ty as ParamValue>::parse(&NAME_MARK.to_string(), &text).map_err(|e| serde::de::Error::custom(format!("{NAME_MARK}{}", e)))
            }
        }
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let schema: utoipa::openapi::schema::Object = $schema;
                schema.into()
            }
        }
        impl utoipa::ToSchema for $ty {}
    };
}

fn integer(min: f64, max: f64) -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
        .minimum(Some(min))
        .maximum(Some(max))
        .build()
}

fn number(min: f64, max: Option<f64>) -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    ObjectBuilder::new()
        .schema_type(Type::Number)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Double)))
        .minimum(Some(min))
        .maximum(max)
        .build()
}

fn of_type(t: utoipa::openapi::schema::Type) -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new().schema_type(t).build()
}

/// A year, as every year parameter takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Year(pub u16);

impl ParamValue for Year {
    fn parse(name: &str, text: &str) -> Result<Year, ApiError> {
        text.trim()
            .parse::<u16>()
            .ok()
            .filter(|y| (MIN_YEAR..=MAX_YEAR).contains(y))
            .map(Year)
            .ok_or_else(|| ApiError::invalid(name, format!("{name} {text:?} must be a year from {MIN_YEAR} to {MAX_YEAR}")))
    }
}
param_value!(Year, integer(f64::from(MIN_YEAR), f64::from(MAX_YEAR)));

/// A comparison's threshold: a finite number ≥ 0, in the indicator's unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold(pub f64);

impl Threshold {
    pub const DEFAULT: f64 = 5.0;

    pub fn or_default(t: Option<Threshold>) -> f64 {
        t.map_or(Threshold::DEFAULT, |t| t.0)
    }
}

impl ParamValue for Threshold {
    fn parse(name: &str, text: &str) -> Result<Threshold, ApiError> {
        number_value(text)
            .filter(|t| *t >= 0.0)
            .map(Threshold)
            .ok_or_else(|| ApiError::invalid(name, format!("{name} {text:?} must be a number ≥ 0, such as 5 or 2.5")))
    }
}
param_value!(Threshold, number(0.0, None));

/// A whole number from `MIN` to `MAX`: how many twins, classes or decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count<const MIN: usize, const MAX: usize>(pub usize);

impl<const MIN: usize, const MAX: usize> Count<MIN, MAX> {
    pub fn or(c: Option<Self>, default: usize) -> usize {
        c.map_or(default, |c| c.0)
    }
}

impl<const MIN: usize, const MAX: usize> ParamValue for Count<MIN, MAX> {
    fn parse(name: &str, text: &str) -> Result<Self, ApiError> {
        text.trim()
            .parse::<usize>()
            .ok()
            .filter(|v| (MIN..=MAX).contains(v))
            .map(Count)
            .ok_or_else(|| ApiError::invalid(name, format!("{name} {text:?} must be a whole number from {MIN} to {MAX}")))
    }
}

impl<'de, const MIN: usize, const MAX: usize> serde::Deserialize<'de> for Count<MIN, MAX> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        Self::parse(&NAME_MARK.to_string(), &text).map_err(|e| serde::de::Error::custom(format!("{NAME_MARK}{e}")))
    }
}

impl<const MIN: usize, const MAX: usize> utoipa::PartialSchema for Count<MIN, MAX> {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        integer(MIN as f64, MAX as f64).into()
    }
}

impl<const MIN: usize, const MAX: usize> utoipa::ToSchema for Count<MIN, MAX> {}

/// How many twin areas (`reference=twins`).
pub type TwinCount = Count<1, { crate::query::reference::MAX_TWINS }>;
/// How many classes a choropleth has.
pub type Classes = Count<2, 9>;
/// Decimals of coordinates.
pub type Precision = Count<0, 15>;
/// `covered_years`: in how many of a span's years (at most the 201 from 1900 to 2100) a
/// department must have been covered by a plan.
pub type CoveredYears = Count<0, 201>;
/// Features to skip: an int32, as OGC API – Features documents it.
pub type Offset = Count<0, { i32::MAX as usize }>;

/// A simplification tolerance in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance(pub f64);

impl Tolerance {
    pub const MAX: f64 = 100_000.0;
}

impl ParamValue for Tolerance {
    fn parse(name: &str, text: &str) -> Result<Tolerance, ApiError> {
        number_value(text)
            .filter(|t| (0.0..=Tolerance::MAX).contains(t))
            .map(Tolerance)
            .ok_or_else(|| ApiError::invalid(name, format!("{name} {text:?} must be a tolerance in metres from 0 to 100000")))
    }
}
param_value!(Tolerance, number(0.0, Some(Tolerance::MAX)));

/// `true` or `false`, spelt so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag(pub bool);

impl ParamValue for Flag {
    fn parse(name: &str, text: &str) -> Result<Flag, ApiError> {
        match text {
            "true" => Ok(Flag(true)),
            "false" => Ok(Flag(false)),
            _ => Err(ApiError::invalid(name, format!("{name} {text:?} must be true or false"))),
        }
    }
}
param_value!(Flag, of_type(utoipa::openapi::schema::Type::Boolean));

/// A box in WGS 84: `minLon,minLat,maxLon,maxLat`, or OGC's six numbers with heights (ignored).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bbox(pub BBox);

impl ParamValue for Bbox {
    fn parse(name: &str, text: &str) -> Result<Bbox, ApiError> {
        let bad = || ApiError::invalid(name, format!("{name} {text:?} must be minLon,minLat,maxLon,maxLat in WGS 84"));
        // (non-finite numbers are refused below; -0 is 0)
        let v: Vec<f64> = text.split(',').map(|x| x.trim().parse::<f64>().map(|v| v + 0.0)).collect::<Result<_, _>>().map_err(|_| bad())?;
        let b = match v[..] {
            [a, b, c, d] => [a, b, c, d],
            [a, b, _, c, d, _] => [a, b, c, d],
            _ => return Err(bad()),
        };
        let ok = b.iter().all(|x| x.is_finite())
            && (-180.0..=180.0).contains(&b[0])
            && (-180.0..=180.0).contains(&b[2])
            && (-90.0..=90.0).contains(&b[1])
            && (-90.0..=90.0).contains(&b[3])
            && b[0] <= b[2]
            && b[1] <= b[3];
        if ok { Ok(Bbox(b)) } else { Err(bad()) }
    }
}
param_value!(Bbox, of_type(utoipa::openapi::schema::Type::String));

/// A municipality code, as Danmarks Statistik (`101`) or DAGI (`0101`) writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Municipality(pub MunicipalityCode);

impl ParamValue for Municipality {
    fn parse(name: &str, text: &str) -> Result<Municipality, ApiError> {
        municipality(name, text).map(Municipality)
    }
}
param_value!(
    Municipality,
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some("^([0-9]{1,3}|0[0-9]{3})$"))
        .build()
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_thresholds_and_references() {
        assert_eq!(Year::parse("from", "2015").unwrap(), Year(2015));
        for bad in ["15", "20150", "abc", "-2015", "2015.5", "1899", "2101", ""] {
            assert!(Year::parse("from", bad).is_err(), "{bad}");
        }
        let threshold = |t: Option<&str>| t.map(|t| Threshold::parse("threshold", t)).transpose().map(Threshold::or_default);
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
        assert_eq!(Year::parse("from", "02015").unwrap(), Year::parse("from", &c("from", "02015")).unwrap());
        assert_eq!(c("threshold", "5.00"), "5");
        assert_eq!(c("threshold", " 2.5"), "2.5");
        assert_eq!(Threshold::parse("threshold", "5.00").unwrap(), Threshold::parse("threshold", &c("threshold", "5.00")).unwrap());
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

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Typed {
        from: Option<Year>,
        to: Option<Year>,
        threshold: Option<Threshold>,
        twins: Option<TwinCount>,
        municipality: Option<Municipality>,
        bbox: Option<Bbox>,
        geometry: Option<Flag>,
    }

    fn problem(query: &str) -> (Option<String>, String) {
        let p = crate::http::extract::parse::<Typed>(query).unwrap_err().problem();
        assert_eq!(p.status, 400, "{query}");
        (p.parameter, p.detail)
    }

    /// A value its type refuses is a 400 naming the parameter, in the words the handlers used
    /// when they parsed it themselves; the rest of the query string is not read for it.
    #[test]
    fn typed_parameters_name_themselves() {
        let q = crate::http::extract::parse::<Typed>("from=02015&to=2023&threshold=-0&twins=20&municipality=0101&geometry=false").unwrap();
        assert_eq!((q.from, q.to), (Some(Year(2015)), Some(Year(2023))));
        assert!(q.threshold.unwrap().0.is_sign_positive());
        assert_eq!((q.twins, q.municipality.map(|m| m.0.get()), q.geometry), (Some(Count(20)), Some(101), Some(Flag(false))));
        let cases = [
            ("from=1899", "from", "from \"1899\" must be a year from 1900 to 2100"),
            ("to=2023&from=x", "from", "from \"x\" must be a year from 1900 to 2100"),
            ("to=2101", "to", "to \"2101\" must be a year from 1900 to 2100"),
            ("threshold=NaN", "threshold", "threshold \"NaN\" must be a number ≥ 0, such as 5 or 2.5"),
            ("twins=21", "twins", "twins \"21\" must be a whole number from 1 to 20"),
            ("twins=0", "twins", "twins \"0\" must be a whole number from 1 to 20"),
            ("municipality=abc", "municipality", "\"abc\" is not a municipality code such as 101 or 0101"),
            ("bbox=1,2,3", "bbox", "bbox \"1,2,3\" must be minLon,minLat,maxLon,maxLat in WGS 84"),
            ("geometry=yes", "geometry", "geometry \"yes\" must be true or false"),
        ];
        for (query, parameter, detail) in cases {
            assert_eq!(problem(query), (Some(parameter.to_string()), detail.to_string()), "{query}");
        }
        // serde's own refusals keep their words
        assert_eq!(
            problem("size=1").1,
            "unknown parameter `size`; this operation takes `from`, `to`, `threshold`, `twins`, `municipality`, `bbox`, `geometry`"
        );
        assert!(problem("from=2015&from=2016").1.contains("duplicate field `from`"));
    }

    /// The mark that stands for a parameter's name cannot be sent: a client's NUL is quoted
    /// escaped, and a message that is not a type's is not taken for one.
    #[test]
    fn the_name_mark_cannot_be_forged() {
        let (parameter, detail) = problem("from=%00x");
        assert_eq!(parameter.as_deref(), Some("from"));
        assert_eq!(detail, "from \"\\0x\" must be a year from 1900 to 2100");
        assert!(!detail.contains(NAME_MARK));
        // (a name is not a value: serde's words come first, and it is refused as unknown)
        let (_, detail) = problem("%00=1");
        assert!(detail.starts_with("unknown parameter"), "{detail}");
    }

    /// What a type validates is what it declares: the OpenAPI schema's bounds are its range.
    #[test]
    fn schemas_state_the_ranges_validated() {
        use utoipa::PartialSchema;
        let bounds = |schema: utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>| {
            let v = serde_json::to_value(schema).unwrap();
            (v["minimum"].as_f64(), v["maximum"].as_f64())
        };
        let ok = |name: &str, text: &str| crate::http::extract::parse::<Typed>(&format!("{name}={text}")).is_ok();
        for (name, (min, max)) in
            [("from", bounds(Year::schema())), ("twins", bounds(TwinCount::schema())), ("threshold", bounds(Threshold::schema()))]
        {
            let min = min.unwrap();
            assert!(ok(name, &min.to_string()) && !ok(name, &(min - 1.0).to_string()), "{name} ≥ {min}");
            if let Some(max) = max {
                assert!(ok(name, &max.to_string()) && !ok(name, &(max + 1.0).to_string()), "{name} ≤ {max}");
            }
        }
        assert_eq!(bounds(Classes::schema()), (Some(2.0), Some(9.0)));
        assert_eq!(bounds(Precision::schema()), (Some(0.0), Some(15.0)));
        assert_eq!(bounds(Tolerance::schema()), (Some(0.0), Some(Tolerance::MAX)));
        assert!(Tolerance::parse("simplify", "100000").is_ok() && Tolerance::parse("simplify", "100000.5").is_err());
    }
}
