//! Class breaks for a choropleth: quantiles or equal intervals.

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// About as many areas in each class.
    Quantile,
    /// Classes of equal width between the smallest and the largest value.
    EqualInterval,
}

impl std::str::FromStr for Method {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "quantile" | "quantiles" => Ok(Method::Quantile),
            "equal_interval" | "equal_intervals" => Ok(Method::EqualInterval),
            _ => Err(()),
        }
    }
}

/// `breaks` has one more entry than there are classes: class `i` holds values from
/// `breaks[i]` up to `breaks[i + 1]` (the last class includes its upper edge).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Classification {
    pub method: Method,
    pub classes: usize,
    pub breaks: Vec<f64>,
}

impl Classification {
    /// Breaks for the values (non-finite ones ignored); `None` when there are none. Fewer
    /// classes than asked result when values repeat.
    pub fn new(values: &[f64], method: Method, wanted: usize) -> Option<Self> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() || wanted == 0 {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let (min, max) = (v[0], v[v.len() - 1]);
        let mut breaks: Vec<f64> = match method {
            Method::EqualInterval => (0..=wanted).map(|k| min + (max - min) * k as f64 / wanted as f64).collect(),
            Method::Quantile => (0..=wanted).map(|k| quantile(&v, k as f64 / wanted as f64)).collect(),
        };
        breaks[0] = min;
        breaks[wanted] = max;
        breaks.dedup();
        if breaks.len() == 1 {
            breaks.push(max);
        }
        Some(Classification { method, classes: breaks.len() - 1, breaks })
    }

    /// The class of a value, 0-based.
    pub fn class_of(&self, value: f64) -> usize {
        let upper = self.breaks.partition_point(|&b| b <= value);
        upper.saturating_sub(1).min(self.classes - 1)
    }
}

/// Linear interpolation between order statistics (R's type 7).
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_intervals() {
        let c = Classification::new(&[0.0, 10.0, 3.0, 7.0], Method::EqualInterval, 5).unwrap();
        assert_eq!(c.breaks, vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(c.class_of(0.0), 0);
        assert_eq!(c.class_of(2.0), 1);
        assert_eq!(c.class_of(3.0), 1);
        assert_eq!(c.class_of(10.0), 4, "the top edge is in the last class");
    }

    #[test]
    fn quantiles_put_as_many_in_each_class() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        let c = Classification::new(&values, Method::Quantile, 4).unwrap();
        assert_eq!(c.classes, 4);
        let mut counts = [0; 4];
        for v in &values {
            counts[c.class_of(*v)] += 1;
        }
        assert!(counts.iter().all(|&n| (24..=26).contains(&n)), "{counts:?}");
        assert_eq!(c.breaks[0], 1.0);
        assert_eq!(c.breaks[4], 100.0);
    }

    #[test]
    fn degenerate_inputs() {
        assert_eq!(Classification::new(&[], Method::Quantile, 5), None);
        let c = Classification::new(&[3.0, 3.0, 3.0], Method::Quantile, 5).unwrap();
        assert_eq!((c.classes, c.breaks.clone()), (1, vec![3.0, 3.0]));
        assert_eq!(c.class_of(3.0), 0);
        let c = Classification::new(&[1.0, 1.0, 1.0, 2.0], Method::Quantile, 4).unwrap();
        assert!(c.classes < 4);
        assert_eq!(c.class_of(2.0), c.classes - 1);
        assert_eq!(Classification::new(&[f64::NAN, 2.0], Method::EqualInterval, 2).unwrap().breaks, vec![2.0, 2.0]);
    }
}
