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
    /// One of the five regions, by its code (`1081`…`1085`).
    Region,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Department => "department",
            Level::Municipality => "municipality",
            Level::SocialHousing => "social_housing",
            Level::Country => "country",
            Level::Region => "region",
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
            "region" => Ok(Level::Region),
            _ => Err(()),
        }
    }
}

/// What an area is compared against:
/// - `municipality`: the area's municipality (delivered);
/// - `social_housing`: the social-housing sector in the area's municipality (delivered);
/// - `social_housing_rest`: that sector without the plan areas in it (derived: the sector's
///   counts minus those of the departments of the delimitation's areas in the municipality);
/// - `twins`: the `twins` areas of the delimitation most like this one in the `from` year
///   (on the indicator or the `match` profile), pooled; benchmarking, not a control group;
/// - `country`: Denmark (delivered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reference {
    Municipality,
    SocialHousing,
    SocialHousingRest,
    Twins,
    Country,
}

impl Reference {
    /// Every reference, in the order lists and documents show them.
    pub const ALL: [Reference; 5] =
        [Reference::Municipality, Reference::SocialHousing, Reference::SocialHousingRest, Reference::Twins, Reference::Country];

    /// The delivered level it is, if it is one.
    pub fn level(self) -> Option<Level> {
        match self {
            Reference::Municipality => Some(Level::Municipality),
            Reference::SocialHousing => Some(Level::SocialHousing),
            Reference::Country => Some(Level::Country),
            Reference::SocialHousingRest | Reference::Twins => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Reference::Municipality => "municipality",
            Reference::SocialHousing => "social_housing",
            Reference::SocialHousingRest => "social_housing_rest",
            Reference::Twins => "twins",
            Reference::Country => "country",
        }
    }

    /// How a chart or a page names it, after "the change in".
    pub fn label(self, danish: bool) -> &'static str {
        match (self, danish) {
            (Reference::Municipality, true) => "kommunen",
            (Reference::Municipality, false) => "the municipality",
            (Reference::SocialHousing, true) => "den almene sektor i kommunen",
            (Reference::SocialHousing, false) => "the social-housing sector in the municipality",
            (Reference::SocialHousingRest, true) => "den almene sektor i kommunen uden helhedsplansområderne",
            (Reference::SocialHousingRest, false) => "the social-housing sector in the municipality without the plan areas",
            (Reference::Twins, true) => "de mest lignende områder",
            (Reference::Twins, false) => "the most similar areas",
            (Reference::Country, true) => "hele landet",
            (Reference::Country, false) => "Denmark",
        }
    }

    /// The values `reference` takes, for messages.
    pub fn choices() -> String {
        let names: Vec<&str> = Reference::ALL.iter().map(|r| r.as_str()).collect();
        format!("{} or {}", names[..names.len() - 1].join(", "), names[names.len() - 1])
    }
}

impl FromStr for Reference {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Reference::ALL.into_iter().find(|r| r.as_str() == s).ok_or(())
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
        for l in ["department", "municipality", "social_housing", "country", "region"] {
            assert_eq!(l.parse::<Level>().unwrap().as_str(), l);
        }
        assert!("Share".parse::<Kind>().is_err());
    }
}
