//! Figures: values made from numerators and denominators, area aggregates, and the
//! disclosure control that decides which of them may leave the service.

use serde::Serialize;
use utoipa::ToSchema;

use super::model::Kind;

/// Disclosure thresholds (extract-format.md, "Disclosure control").
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disclosure {
    /// A figure whose denominator is below this is suppressed.
    pub min_population: u64,
    /// Counts (and, for shares, complements) from 1 to `min_count − 1` are suppressed.
    pub min_count: u64,
}

impl Default for Disclosure {
    fn default() -> Self {
        Disclosure { min_population: 20, min_count: 5 }
    }
}

impl Disclosure {
    /// Whether a figure with these counts must be suppressed.
    pub fn suppresses(&self, kind: Kind, counts: Counts) -> bool {
        let Counts { numerator: n, denominator: d } = counts;
        let small = |x: f64| x >= 1.0 && x < self.min_count as f64;
        if d < self.min_population as f64 {
            return true;
        }
        match kind {
            Kind::Share => small(n) || small(d - n),
            Kind::Rate => small(n),
            Kind::Mean => false,
        }
    }

    /// Applies the rules to a figure, giving what may be published.
    pub fn publish(&self, kind: Kind, counts: Counts) -> Figure {
        if self.suppresses(kind, counts) {
            Figure::Suppressed
        } else {
            Figure::Ok { value: counts.value(kind), numerator: counts.numerator, denominator: counts.denominator }
        }
    }
}

/// A numerator and a denominator as delivered or summed.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Counts {
    pub numerator: f64,
    pub denominator: f64,
}

impl Counts {
    pub fn new(numerator: f64, denominator: f64) -> Self {
        Counts { numerator, denominator }
    }

    /// The kind's value: factor · n / d.
    pub fn value(self, kind: Kind) -> f64 {
        kind.factor() * self.numerator / self.denominator
    }
}

/// The social-housing sector without the plan areas (comparisons.md, `social_housing_rest`):
/// the sector's counts minus those of the areas' departments in the municipality. None when
/// the subtraction leaves no one (a denominator ≤ 0), or a count below zero, as in an extract
/// whose sector figure does not hold its areas: that year's figure is missing.
pub fn rest_of(kind: Kind, sector: Counts, plan: Counts) -> Option<Counts> {
    let rest = Counts::new(sector.numerator - plan.numerator, sector.denominator - plan.denominator);
    let impossible = rest.denominator <= 0.0
        || (kind.whole_numerator() && rest.numerator < 0.0)
        || (kind == Kind::Share && rest.numerator > rest.denominator);
    (!impossible).then_some(rest)
}

/// The pooled figure of published figures: Σn / Σd times the kind's factor, so that a
/// reference made of published figures reveals nothing new. None when there is none.
pub fn pooled(kind: Kind, figures: impl IntoIterator<Item = Figure>) -> Option<Figure> {
    let mut sum = Counts::default();
    let mut any = false;
    for f in figures {
        if let Figure::Ok { numerator, denominator, .. } = f {
            sum.numerator += numerator;
            sum.denominator += denominator;
            any = true;
        }
    }
    (any && sum.denominator > 0.0).then(|| Figure::Ok { value: sum.value(kind), numerator: sum.numerator, denominator: sum.denominator })
}

/// A figure after disclosure control.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Figure {
    Ok { value: f64, numerator: f64, denominator: f64 },
    Suppressed,
}

impl Figure {
    pub fn value(&self) -> Option<f64> {
        match self {
            Figure::Ok { value, .. } => Some(*value),
            Figure::Suppressed => None,
        }
    }

    pub fn status(&self) -> Status {
        match self {
            Figure::Ok { .. } => Status::Ok,
            Figure::Suppressed => Status::Suppressed,
        }
    }
}

/// Whether a published figure carries numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Suppressed,
    Missing,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Suppressed => "suppressed",
            Status::Missing => "missing",
        }
    }
}

/// An area's sums for one indicator and year under one delimitation: Σn, Σd over the
/// departments that had an observation, and how many of them did.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AreaSum {
    pub counts: Counts,
    pub departments_with_data: u32,
}

impl AreaSum {
    pub fn add(&mut self, counts: Counts) {
        self.counts.numerator += counts.numerator;
        self.counts.denominator += counts.denominator;
        self.departments_with_data += 1;
    }

    /// The fraction (0 to 1) of the area's departments that had an observation.
    pub fn coverage(&self, department_count: u32) -> f64 {
        if department_count == 0 { 0.0 } else { self.departments_with_data as f64 / department_count as f64 }
    }
}

/// Rounds to `decimals` places, halves away from zero, as the note's figure does.
///
/// Values are ratios computed in binary floating point, so a decimal half such as 2.05 may
/// arrive as 2.04999999999; a relative nudge of 1e-9 lets such halves round away from zero.
pub fn round_half_away(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    let y = x * scale;
    let nudge = 1e-9 * y.abs().max(1.0);
    (y + y.signum() * nudge).round() / scale
}

/// `-0` (a rounded small negative) as `0`: every format the service writes shows a zero so.
pub fn unsigned_zero(x: f64) -> f64 {
    if x == 0.0 { 0.0 } else { x }
}

/// A number with a decimal point; empty for none; never `-0`.
pub fn plain_number(x: Option<f64>) -> String {
    x.map(|v| unsigned_zero(v).to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d() -> Disclosure {
        Disclosure::default()
    }

    #[test]
    fn value_uses_the_kind_factor() {
        assert_eq!(Counts::new(25.0, 200.0).value(Kind::Share), 12.5);
        assert_eq!(Counts::new(3.0, 2000.0).value(Kind::Rate), 1.5);
        assert_eq!(Counts::new(147.5, 25.0).value(Kind::Mean), 5.9);
    }

    #[test]
    fn small_denominators_are_suppressed_for_every_kind() {
        for kind in [Kind::Share, Kind::Rate, Kind::Mean] {
            assert!(d().suppresses(kind, Counts::new(10.0, 19.0)), "{kind:?}");
            assert!(!d().suppresses(kind, Counts::new(10.0, 20.0)), "{kind:?}");
        }
    }

    #[test]
    fn small_counts_are_suppressed_for_shares_and_rates() {
        // numerator 1..=4 suppressed, 0 and 5 published
        for n in 1..=4 {
            assert!(d().suppresses(Kind::Share, Counts::new(n as f64, 100.0)));
            assert!(d().suppresses(Kind::Rate, Counts::new(n as f64, 100.0)));
            assert!(!d().suppresses(Kind::Mean, Counts::new(n as f64, 100.0)));
        }
        assert!(!d().suppresses(Kind::Share, Counts::new(0.0, 100.0)));
        assert!(!d().suppresses(Kind::Share, Counts::new(5.0, 100.0)));
        assert!(!d().suppresses(Kind::Rate, Counts::new(0.0, 100.0)));
    }

    #[test]
    fn small_complements_are_suppressed_for_shares_only() {
        for n in 96..=99 {
            assert!(d().suppresses(Kind::Share, Counts::new(n as f64, 100.0)), "{n}");
            assert!(!d().suppresses(Kind::Rate, Counts::new(n as f64, 100.0)), "{n}");
        }
        assert!(!d().suppresses(Kind::Share, Counts::new(100.0, 100.0)));
        assert!(!d().suppresses(Kind::Share, Counts::new(95.0, 100.0)));
    }

    #[test]
    fn thresholds_are_settings() {
        let strict = Disclosure { min_population: 50, min_count: 10 };
        assert!(strict.suppresses(Kind::Share, Counts::new(20.0, 49.0)));
        assert!(strict.suppresses(Kind::Share, Counts::new(9.0, 100.0)));
        assert!(!strict.suppresses(Kind::Share, Counts::new(10.0, 100.0)));
        let lax = Disclosure { min_population: 1, min_count: 1 };
        assert!(!lax.suppresses(Kind::Share, Counts::new(1.0, 2.0)));
    }

    #[test]
    fn published_figures_hide_suppressed_numbers() {
        assert_eq!(d().publish(Kind::Share, Counts::new(3.0, 100.0)), Figure::Suppressed);
        assert_eq!(d().publish(Kind::Share, Counts::new(3.0, 100.0)).value(), None);
        let f = d().publish(Kind::Share, Counts::new(30.0, 120.0));
        assert_eq!(f, Figure::Ok { value: 25.0, numerator: 30.0, denominator: 120.0 });
        assert_eq!(f.status(), Status::Ok);
    }

    #[test]
    fn area_sums_and_coverage() {
        let mut s = AreaSum::default();
        s.add(Counts::new(10.0, 50.0));
        s.add(Counts::new(5.0, 30.0));
        assert_eq!(s.counts, Counts::new(15.0, 80.0));
        assert_eq!(s.coverage(4), 0.5);
        assert_eq!(s.coverage(0), 0.0);
        assert_eq!(s.counts.value(Kind::Share), 18.75);
    }

    #[test]
    fn the_rest_of_a_sector() {
        let sector = Counts::new(300.0, 2000.0);
        assert_eq!(rest_of(Kind::Share, sector, Counts::new(100.0, 500.0)), Some(Counts::new(200.0, 1500.0)));
        assert_eq!(rest_of(Kind::Share, sector, Counts::default()), Some(sector), "no plan areas: the sector");
        assert_eq!(rest_of(Kind::Share, sector, Counts::new(100.0, 2000.0)), None, "no one left");
        assert_eq!(rest_of(Kind::Rate, sector, Counts::new(10.0, 2500.0)), None, "more in the areas than in the sector");
        assert_eq!(rest_of(Kind::Rate, sector, Counts::new(301.0, 1000.0)), None, "a count below zero");
        assert_eq!(rest_of(Kind::Share, sector, Counts::new(0.0, 1800.0)), None, "more with than without");
        // a mean's sum may fall below zero (a grade difference, say); its count may not
        assert_eq!(rest_of(Kind::Mean, Counts::new(10.0, 40.0), Counts::new(12.0, 20.0)), Some(Counts::new(-2.0, 20.0)));
    }

    #[test]
    fn pooling_sums_counts() {
        let a = d().publish(Kind::Share, Counts::new(30.0, 100.0));
        let b = d().publish(Kind::Share, Counts::new(10.0, 300.0));
        assert_eq!(pooled(Kind::Share, [a, b]), Some(Figure::Ok { value: 10.0, numerator: 40.0, denominator: 400.0 }));
        assert_eq!(pooled(Kind::Share, [Figure::Suppressed]), None);
        assert_eq!(pooled(Kind::Rate, []), None);
    }

    #[test]
    fn rounding_halves_away_from_zero() {
        assert_eq!(round_half_away(2.05, 1), 2.1);
        assert_eq!(round_half_away(-2.05, 1), -2.1);
        assert_eq!(round_half_away(0.25, 1), 0.3);
        assert_eq!(round_half_away(-0.25, 1), -0.3);
        assert_eq!(round_half_away(2.04, 1), 2.0);
        assert_eq!(round_half_away(-2.04, 1), -2.0);
        assert_eq!(round_half_away(0.0, 1), 0.0);
        assert_eq!(round_half_away(12.349, 1), 12.3);
        // 24/10 + 0.05 arrives as 2.4499999999999997, and ×10 as 24.499999999999996
        let x = 24.0 / 10.0 + 0.05;
        assert!(x * 10.0 < 24.5);
        assert_eq!(round_half_away(x, 1), 2.5);
        assert_eq!(round_half_away(-x, 1), -2.5);
    }
}
