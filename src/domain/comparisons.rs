//! The comparison of comparisons.md: an area's change between two years against a
//! reference's change, and the summary over all areas of a delimitation.

use serde::Serialize;
use utoipa::ToSchema;

use super::figures::{Figure, Status, round_half_away};
use super::model::Direction;

/// The four figures an item is computed from; `None` means no data.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ComparisonInputs {
    pub area_from: Option<Figure>,
    pub area_to: Option<Figure>,
    pub reference_from: Option<Figure>,
    pub reference_to: Option<Figure>,
}

/// The computed fields of one area's comparison. Only `ok` items carry numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Comparison {
    pub status: Status,
    pub area_from: Option<f64>,
    pub area_to: Option<f64>,
    pub area_change: Option<f64>,
    pub area_relative_change: Option<f64>,
    pub reference_from: Option<f64>,
    pub reference_to: Option<f64>,
    pub reference_change: Option<f64>,
    pub reference_relative_change: Option<f64>,
    pub difference: Option<f64>,
    pub difference_rounded: Option<f64>,
    pub relative_difference: Option<f64>,
    pub gap_from: Option<f64>,
    pub gap_to: Option<f64>,
    pub stronger: Option<bool>,
    pub stronger_relative: Option<bool>,
    pub beyond_threshold: Option<bool>,
}

impl Comparison {
    fn empty(status: Status) -> Self {
        Comparison {
            status,
            area_from: None,
            area_to: None,
            area_change: None,
            area_relative_change: None,
            reference_from: None,
            reference_to: None,
            reference_change: None,
            reference_relative_change: None,
            difference: None,
            difference_rounded: None,
            relative_difference: None,
            gap_from: None,
            gap_to: None,
            stronger: None,
            stronger_relative: None,
            beyond_threshold: None,
        }
    }
}

/// 100·(to − from)/from, or none for a zero base.
fn relative_change(from: f64, to: f64) -> Option<f64> {
    (from != 0.0).then(|| 100.0 * (to - from) / from)
}

/// Compares one area with its reference. A suppressed input makes the item `suppressed`
/// (anything derived from a suppressed figure is suppressed too, and that takes precedence
/// over missing data); otherwise a missing input makes it `missing`.
pub fn compare(direction: Direction, threshold: f64, inputs: ComparisonInputs) -> Comparison {
    let all = [inputs.area_from, inputs.area_to, inputs.reference_from, inputs.reference_to];
    if all.iter().any(|f| matches!(f, Some(Figure::Suppressed))) {
        return Comparison::empty(Status::Suppressed);
    }
    let values: Vec<f64> = all.iter().filter_map(|f| f.and_then(|f| f.value())).collect();
    let [a_f, a_t, r_f, r_t] = values[..] else {
        return Comparison::empty(Status::Missing);
    };
    let area_change = a_t - a_f;
    let reference_change = r_t - r_f;
    let difference = area_change - reference_change;
    let area_relative_change = relative_change(a_f, a_t);
    let reference_relative_change = relative_change(r_f, r_t);
    let relative_difference = match (area_relative_change, reference_relative_change) {
        (Some(a), Some(r)) => Some(a - r),
        _ => None,
    };
    let s = direction.sign();
    Comparison {
        status: Status::Ok,
        area_from: Some(a_f),
        area_to: Some(a_t),
        area_change: Some(area_change),
        area_relative_change,
        reference_from: Some(r_f),
        reference_to: Some(r_t),
        reference_change: Some(reference_change),
        reference_relative_change,
        difference: Some(difference),
        difference_rounded: Some(round_half_away(difference, 1)),
        relative_difference,
        gap_from: Some(a_f - r_f),
        gap_to: Some(a_t - r_t),
        stronger: s.map(|s| s * difference > 0.0),
        stronger_relative: s.and_then(|s| relative_difference.map(|rd| s * rd > 0.0)),
        beyond_threshold: s.map(|s| s * difference > threshold),
    }
}

/// The summary over all items of a delimitation. The counts that depend on a direction are
/// null for neutral indicators.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Summary {
    /// Areas in the delimitation.
    pub areas: u32,
    /// Items with status ok.
    pub compared: u32,
    pub suppressed: u32,
    pub missing: u32,
    /// Ok items whose own change went the better way.
    pub improved: Option<u32>,
    pub stronger: Option<u32>,
    pub stronger_relative: Option<u32>,
    pub beyond_threshold: Option<u32>,
    pub threshold: f64,
    /// Median of the ok items' unrounded differences; null when there are none.
    pub median_difference: Option<f64>,
}

pub fn summarise<'a>(direction: Direction, threshold: f64, items: impl IntoIterator<Item = &'a Comparison>) -> Summary {
    let s = direction.sign();
    let mut summary = Summary {
        areas: 0,
        compared: 0,
        suppressed: 0,
        missing: 0,
        improved: s.map(|_| 0),
        stronger: s.map(|_| 0),
        stronger_relative: s.map(|_| 0),
        beyond_threshold: s.map(|_| 0),
        threshold,
        median_difference: None,
    };
    let mut differences = Vec::new();
    let bump = |count: &mut Option<u32>, yes: bool| {
        if let (Some(c), true) = (count.as_mut(), yes) {
            *c += 1;
        }
    };
    for item in items {
        summary.areas += 1;
        match item.status {
            Status::Suppressed => summary.suppressed += 1,
            Status::Missing => summary.missing += 1,
            Status::Ok => {
                summary.compared += 1;
                if let (Some(s), Some(change)) = (s, item.area_change) {
                    bump(&mut summary.improved, s * change > 0.0);
                }
                bump(&mut summary.stronger, item.stronger == Some(true));
                bump(&mut summary.stronger_relative, item.stronger_relative == Some(true));
                bump(&mut summary.beyond_threshold, item.beyond_threshold == Some(true));
                differences.extend(item.difference);
            }
        }
    }
    summary.median_difference = median(&mut differences);
    summary
}

/// The median; the mean of the two middle values for an even count.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) { (values[mid - 1] + values[mid]) / 2.0 } else { values[mid] })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(value: f64) -> Option<Figure> {
        Some(Figure::Ok { value, numerator: 0.0, denominator: 0.0 })
    }

    fn inputs(a_f: f64, a_t: f64, r_f: f64, r_t: f64) -> ComparisonInputs {
        ComparisonInputs { area_from: ok(a_f), area_to: ok(a_t), reference_from: ok(r_f), reference_to: ok(r_t) }
    }

    #[test]
    fn a_lower_is_better_area_that_fell_faster_is_stronger() {
        // the note's typical case: 40% → 30% in the area, 20% → 18% in the municipality
        let c = compare(Direction::LowerIsBetter, 5.0, inputs(40.0, 30.0, 20.0, 18.0));
        assert_eq!(c.status, Status::Ok);
        assert_eq!(c.area_change, Some(-10.0));
        assert_eq!(c.reference_change, Some(-2.0));
        assert_eq!(c.difference, Some(-8.0));
        assert_eq!(c.difference_rounded, Some(-8.0));
        assert_eq!(c.area_relative_change, Some(-25.0));
        assert_eq!(c.reference_relative_change, Some(-10.0));
        assert_eq!(c.relative_difference, Some(-15.0));
        assert_eq!(c.gap_from, Some(20.0));
        assert_eq!(c.gap_to, Some(12.0));
        assert_eq!(c.difference, Some(c.gap_to.unwrap() - c.gap_from.unwrap()));
        assert_eq!(c.stronger, Some(true));
        assert_eq!(c.stronger_relative, Some(true));
        assert_eq!(c.beyond_threshold, Some(true));
    }

    #[test]
    fn stronger_in_points_need_not_be_stronger_relatively() {
        // area 50 → 44 (−6, −12%), municipality 20 → 16 (−4, −20%)
        let c = compare(Direction::LowerIsBetter, 5.0, inputs(50.0, 44.0, 20.0, 16.0));
        assert_eq!(c.stronger, Some(true));
        assert_eq!(c.stronger_relative, Some(false));
        assert_eq!(c.beyond_threshold, Some(false));
    }

    #[test]
    fn higher_is_better_flips_the_sign() {
        let c = compare(Direction::HigherIsBetter, 1.0, inputs(5.0, 7.5, 6.0, 6.5));
        assert_eq!(c.difference, Some(2.0));
        assert_eq!(c.stronger, Some(true));
        assert_eq!(c.beyond_threshold, Some(true));
        let c = compare(Direction::HigherIsBetter, 2.0, inputs(5.0, 7.5, 6.0, 6.5));
        assert_eq!(c.beyond_threshold, Some(false), "the threshold is strict");
    }

    #[test]
    fn neutral_indicators_have_no_verdicts() {
        let c = compare(Direction::Neutral, 5.0, inputs(40.0, 30.0, 20.0, 18.0));
        assert_eq!(c.status, Status::Ok);
        assert_eq!(c.difference, Some(-8.0));
        assert_eq!((c.stronger, c.stronger_relative, c.beyond_threshold), (None, None, None));
        let s = summarise(Direction::Neutral, 5.0, [&c]);
        assert_eq!(s.compared, 1);
        assert_eq!((s.improved, s.stronger, s.stronger_relative, s.beyond_threshold), (None, None, None, None));
        assert_eq!(s.median_difference, Some(-8.0));
    }

    #[test]
    fn a_zero_base_has_no_relative_change() {
        let c = compare(Direction::LowerIsBetter, 5.0, inputs(0.0, 3.0, 10.0, 12.0));
        assert_eq!(c.area_relative_change, None);
        assert_eq!(c.reference_relative_change, Some(20.0));
        assert_eq!(c.relative_difference, None);
        assert_eq!(c.stronger_relative, None);
        assert_eq!(c.stronger, Some(false));
        let c = compare(Direction::LowerIsBetter, 5.0, inputs(10.0, 3.0, 0.0, 0.0));
        assert_eq!(c.reference_relative_change, None);
        assert_eq!(c.area_relative_change, Some(-70.0));
    }

    #[test]
    fn suppressed_and_missing_inputs_empty_the_item() {
        let mut i = inputs(40.0, 30.0, 20.0, 18.0);
        i.reference_to = Some(Figure::Suppressed);
        let c = compare(Direction::LowerIsBetter, 5.0, i);
        assert_eq!(c, Comparison::empty(Status::Suppressed));
        let mut i = inputs(40.0, 30.0, 20.0, 18.0);
        i.area_from = None;
        assert_eq!(compare(Direction::LowerIsBetter, 5.0, i), Comparison::empty(Status::Missing));
        // suppression wins over missing data
        i.area_to = Some(Figure::Suppressed);
        assert_eq!(compare(Direction::LowerIsBetter, 5.0, i).status, Status::Suppressed);
    }

    #[test]
    fn the_summary_counts_ok_items_only() {
        let items = [
            compare(Direction::LowerIsBetter, 5.0, inputs(40.0, 30.0, 20.0, 18.0)), // -8, improved, stronger, beyond, rel
            compare(Direction::LowerIsBetter, 5.0, inputs(50.0, 44.0, 20.0, 16.0)), // -2, improved, stronger
            compare(Direction::LowerIsBetter, 5.0, inputs(30.0, 31.0, 20.0, 18.0)), // +3, worse
            compare(Direction::LowerIsBetter, 5.0, ComparisonInputs { area_from: Some(Figure::Suppressed), ..inputs(1.0, 1.0, 1.0, 1.0) }),
            compare(Direction::LowerIsBetter, 5.0, ComparisonInputs { area_to: None, ..inputs(1.0, 1.0, 1.0, 1.0) }),
        ];
        let s = summarise(Direction::LowerIsBetter, 5.0, &items);
        assert_eq!(s.areas, 5);
        assert_eq!(s.compared, 3);
        assert_eq!(s.suppressed, 1);
        assert_eq!(s.missing, 1);
        assert_eq!(s.improved, Some(2));
        assert_eq!(s.stronger, Some(2));
        assert_eq!(s.stronger_relative, Some(1));
        assert_eq!(s.beyond_threshold, Some(1));
        assert_eq!(s.threshold, 5.0);
        assert_eq!(s.median_difference, Some(-2.0));
    }

    #[test]
    fn medians() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0]), Some(3.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&mut [-1.0, -3.0, -2.0]), Some(-2.0));
        let s = summarise(Direction::LowerIsBetter, 5.0, &[]);
        assert_eq!(s.median_difference, None);
        assert_eq!(s.areas, 0);
    }

    #[test]
    fn the_rounded_difference_rounds_halves_away_from_zero() {
        let c = compare(Direction::LowerIsBetter, 5.0, inputs(10.0, 10.25, 0.0, 0.2));
        assert!((c.difference.unwrap() - 0.05).abs() < 1e-12);
        assert_eq!(c.difference_rounded, Some(0.1));
        let c = compare(Direction::LowerIsBetter, 5.0, inputs(10.25, 10.0, 0.2, 0.0));
        assert_eq!(c.difference_rounded, Some(-0.1));
    }
}
