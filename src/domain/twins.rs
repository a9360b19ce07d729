//! Twin areas (comparisons.md, `twins`): for an area, the other areas of its delimitation
//! most like it in a start year, on one indicator or a profile of them, by the Euclidean
//! distance between z-scores. Benchmarking, as Landsbyggefonden's twin tool does for
//! departments: not a causal control group.

/// Every area of a delimitation as a twin search sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate<'a> {
    /// Settles ties: the area id.
    pub key: &'a str,
    /// The matched indicators' published values in the start year; None where not published.
    pub profile: Vec<Option<f64>>,
    /// Whether it may be a twin: besides its profile, the compared indicator is published in
    /// both years.
    pub comparable: bool,
}

/// The z-scores of a delimitation's areas on each matched indicator, made once per request.
pub struct Twins<'a> {
    candidates: Vec<Candidate<'a>>,
    /// Per candidate and matched indicator: the z-score, None where the value is not
    /// published; indicators with σ = 0 are left out (they add nothing).
    z: Vec<Vec<Option<f64>>>,
}

impl<'a> Twins<'a> {
    /// Standardises each matched indicator over the candidates with a published value:
    /// z = (x − mean) / σ, σ the population standard deviation.
    pub fn new(candidates: Vec<Candidate<'a>>) -> Self {
        let width = candidates.iter().map(|c| c.profile.len()).max().unwrap_or(0);
        let mut z = vec![Vec::new(); candidates.len()];
        for j in 0..width {
            let values: Vec<f64> = candidates.iter().filter_map(|c| c.profile.get(j).copied().flatten()).collect();
            let n = values.len() as f64;
            let mean = values.iter().sum::<f64>() / n;
            let sigma = (values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
            // (equal values summed in floating point leave a σ of rounding noise: none)
            if values.is_empty() || sigma.is_nan() || sigma <= 1e-12 * mean.abs().max(1.0) {
                continue;
            }
            for (c, row) in candidates.iter().zip(z.iter_mut()) {
                row.push(c.profile.get(j).copied().flatten().map(|x| (x - mean) / sigma));
            }
        }
        Twins { candidates, z }
    }

    /// The `k` candidates nearest to candidate `of` (its index), nearest first, ties by key;
    /// None when `of` itself lacks a published matched value. Only comparable candidates
    /// with their whole profile published are twins.
    pub fn nearest(&self, of: usize, k: usize) -> Option<Vec<usize>> {
        let own = &self.candidates[of];
        if own.profile.iter().any(Option::is_none) {
            return None;
        }
        let mut found: Vec<(u64, &str, usize)> = self
            .candidates
            .iter()
            .enumerate()
            .filter(|&(i, c)| i != of && c.comparable && c.profile.iter().all(Option::is_some))
            .map(|(i, c)| {
                let d2: f64 = self.z[i].iter().zip(&self.z[of]).map(|(x, y)| (x.unwrap_or(0.0) - y.unwrap_or(0.0)).powi(2)).sum();
                (tie_key(d2.sqrt()), c.key, i)
            })
            .collect();
        found.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
        Some(found.into_iter().take(k).map(|x| x.2).collect())
    }
}

/// Distances equal to nine decimals are ties, settled by key: two areas with the same values
/// may reach them through differently rounded arithmetic (a mean's decimal sum, say), and
/// the last bits must not decide which of them is a twin.
fn tie_key(distance: f64) -> u64 {
    (distance * 1e9).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(key: &str, profile: &[Option<f64>], comparable: bool) -> Candidate<'static> {
        Candidate { key: Box::leak(key.to_string().into_boxed_str()), profile: profile.to_vec(), comparable }
    }

    #[test]
    fn nearest_on_one_indicator_with_ties_by_key() {
        let c = [
            candidate("a", &[Some(10.0)], true),
            candidate("b", &[Some(12.0)], true),
            candidate("c", &[Some(8.0)], true),
            candidate("d", &[Some(30.0)], true),
            candidate("e", &[Some(11.0)], false),
        ];
        let t = Twins::new(c.to_vec());
        // b and c are equally far from a (2 apart); e is nearer but not comparable
        assert_eq!(t.nearest(0, 2), Some(vec![1, 2]));
        assert_eq!(t.nearest(0, 10), Some(vec![1, 2, 3]), "no more than there are");
        assert_eq!(t.nearest(3, 1), Some(vec![1]));
    }

    #[test]
    fn a_profile_weighs_each_indicator_by_its_spread() {
        // on the first indicator alone c is nearest to a; the second, in much smaller units,
        // spreads as widely and puts b nearer
        let c = [
            candidate("a", &[Some(10.0), Some(0.10)], true),
            candidate("b", &[Some(20.0), Some(0.10)], true),
            candidate("c", &[Some(12.0), Some(0.90)], true),
            candidate("d", &[Some(40.0), Some(0.50)], true),
        ];
        let t = Twins::new(c.to_vec());
        assert_eq!(t.nearest(0, 1), Some(vec![1]));
        let first_only: Vec<Candidate> = c.iter().map(|x| Candidate { profile: x.profile[..1].to_vec(), ..x.clone() }).collect();
        assert_eq!(Twins::new(first_only).nearest(0, 1), Some(vec![2]));
    }

    #[test]
    fn a_constant_indicator_adds_nothing_and_unpublished_values_exclude() {
        let c = [
            candidate("a", &[Some(10.0), Some(5.0)], true),
            candidate("b", &[Some(14.0), Some(5.0)], true),
            candidate("c", &[Some(11.0), None], true),
            candidate("d", &[Some(13.0), Some(5.0)], true),
            candidate("e", &[None, Some(5.0)], true),
        ];
        let t = Twins::new(c.to_vec());
        assert_eq!(t.nearest(0, 5), Some(vec![3, 1]), "c and e lack a published value");
        assert_eq!(t.nearest(2, 1), None, "an area without its own value has no twins");
    }
}
