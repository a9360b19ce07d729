//! The vocabulary of the extract format: kinds, directions, levels and municipality codes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How a value is made from a numerator `n` and a denominator `d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 100·n/d, percent; 0 ≤ n ≤ d, both whole.
    Share,
    /// 1000·n/d, per 1,000; n ≥ 0, both whole.
    Rate,
    /// n/d; n a sum (decimal allowed), d a whole count.
    Mean,
}

impl Kind {
    pub fn factor(self) -> f64 {
        match self {
            Kind::Share => 100.0,
            Kind::Rate => 1000.0,
            Kind::Mean => 1.0,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Share => "share",
            Kind::Rate => "rate",
            Kind::Mean => "mean",
        }
    }

    /// Whether the numerator must be a whole number (a count of persons or events).
    pub fn whole_numerator(self) -> bool {
        !matches!(self, Kind::Mean)
    }

    /// The unit a value and a difference of values are expressed in.
    pub fn unit(self) -> &'static str {
        match self {
            Kind::Share => "percent",
            Kind::Rate => "per_1000",
            Kind::Mean => "mean",
        }
    }
}

impl FromStr for Kind {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "share" => Ok(Kind::Share),
            "rate" => Ok(Kind::Rate),
            "mean" => Ok(Kind::Mean),
            _ => Err(()),
        }
    }
}

/// Which way is an improvement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    LowerIsBetter,
    HigherIsBetter,
    Neutral,
}

impl Direction {
    /// The sign `s` of comparisons.md: −1, +1, or none for neutral indicators.
    pub fn sign(self) -> Option<f64> {
        match self {
            Direction::LowerIsBetter => Some(-1.0),
            Direction::HigherIsBetter => Some(1.0),
            Direction::Neutral => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::LowerIsBetter => "lower_is_better",
            Direction::HigherIsBetter => "higher_is_better",
            Direction::Neutral => "neutral",
        }
    }
}

impl FromStr for Direction {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "lower_is_better" => Ok(Direction::LowerIsBetter),
            "higher_is_better" => Ok(Direction::HigherIsBetter),
            "neutral" => Ok(Direction::Neutral),
            _ => Err(()),
        }
    }
}

/// The unit an observation row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Department,
    Municipality,
    SocialHousing,
    Country,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Department => "department",
            Level::Municipality => "municipality",
            Level::SocialHousing => "social_housing",
            Level::Country => "country",
        }
    }
}

impl FromStr for Level {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "department" => Ok(Level::Department),
            "municipality" => Ok(Level::Municipality),
            "social_housing" => Ok(Level::SocialHousing),
            "country" => Ok(Level::Country),
            _ => Err(()),
        }
    }
}

/// The level an area is compared against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reference {
    Municipality,
    SocialHousing,
    Country,
}

impl Reference {
    pub const ALL: [Reference; 3] = [Reference::Municipality, Reference::SocialHousing, Reference::Country];

    pub fn level(self) -> Level {
        match self {
            Reference::Municipality => Level::Municipality,
            Reference::SocialHousing => Level::SocialHousing,
            Reference::Country => Level::Country,
        }
    }

    pub fn as_str(self) -> &'static str {
        self.level().as_str()
    }
}

impl FromStr for Reference {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "municipality" => Ok(Reference::Municipality),
            "social_housing" => Ok(Reference::SocialHousing),
            "country" => Ok(Reference::Country),
            _ => Err(()),
        }
    }
}

/// A Danish municipality code. Canonical form is Danmarks Statistik's, without leading
/// zero (`101`); the four-digit DAGI/DAWA form with a leading zero (`0101`) means the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MunicipalityCode(u16);

impl MunicipalityCode {
    pub fn new(code: u16) -> Option<Self> {
        (1..=999).contains(&code).then_some(MunicipalityCode(code))
    }

    pub fn get(self) -> u16 {
        self.0
    }

    /// The four-digit form used by DAGI and DAWA (`0101`).
    pub fn four_digit(self) -> String {
        format!("{:04}", self.0)
    }
}

impl FromStr for MunicipalityCode {
    type Err = ();
    /// Accepts one to three digits, or four digits with a leading zero.
    fn from_str(s: &str) -> Result<Self, ()> {
        let s = s.trim();
        let ok_shape = match s.len() {
            1..=3 => true,
            4 => s.starts_with('0'),
            _ => false,
        };
        if !ok_shape || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(());
        }
        s.parse::<u16>().ok().and_then(MunicipalityCode::new).ok_or(())
    }
}

impl fmt::Display for MunicipalityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The names of Denmark's five regions by Danmarks Statistik's codes (public facts).
pub fn region_name(code: &str) -> Option<&'static str> {
    match code.trim() {
        "1081" => Some("Region Nordjylland"),
        "1082" => Some("Region Midtjylland"),
        "1083" => Some("Region Syddanmark"),
        "1084" => Some("Region Hovedstaden"),
        "1085" => Some("Region Sjælland"),
        _ => None,
    }
}

/// Whether a string is a valid indicator code: `[a-z0-9_]{1,64}`.
pub fn is_indicator_code(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Whether a string is a valid area id: `[A-Za-z0-9_-]{1,64}`.
pub fn is_area_id(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn municipality_codes_accept_both_forms() {
        let a: MunicipalityCode = "101".parse().unwrap();
        let b: MunicipalityCode = "0101".parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "101");
        assert_eq!(a.four_digit(), "0101");
        assert_eq!("851".parse::<MunicipalityCode>().unwrap().get(), 851);
        assert_eq!("0851".parse::<MunicipalityCode>().unwrap().get(), 851);
    }

    #[test]
    fn municipality_codes_reject_other_shapes() {
        for bad in ["", "1101", "01010", "abc", "-101", "10 1", "0", "000", "0000", "+101", "1e2"] {
            assert!(bad.parse::<MunicipalityCode>().is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn codes_and_ids() {
        assert!(is_indicator_code("outside_work_education"));
        assert!(!is_indicator_code("Outside"));
        assert!(!is_indicator_code(""));
        assert!(!is_indicator_code(&"a".repeat(65)));
        assert!(is_area_id("AAR-Gellerup_1"));
        assert!(!is_area_id("a b"));
        assert!(!is_area_id("æ"));
    }

    #[test]
    fn kinds_and_directions() {
        assert_eq!(Kind::Share.factor(), 100.0);
        assert_eq!(Kind::Rate.factor(), 1000.0);
        assert_eq!(Kind::Mean.factor(), 1.0);
        assert_eq!(Direction::LowerIsBetter.sign(), Some(-1.0));
        assert_eq!(Direction::HigherIsBetter.sign(), Some(1.0));
        assert_eq!(Direction::Neutral.sign(), None);
        for k in ["share", "rate", "mean"] {
            assert_eq!(k.parse::<Kind>().unwrap().as_str(), k);
        }
        for l in ["department", "municipality", "social_housing", "country"] {
            assert_eq!(l.parse::<Level>().unwrap().as_str(), l);
        }
        assert!("Share".parse::<Kind>().is_err());
    }
}
