//! Coverage (comparisons.md): a department is covered in a year when a plan holding it has that
//! year in its grant period; `covered_years=N` keeps the departments covered in at least N of
//! the years a comparison spans. Periods of one department may follow, overlap or leave gaps.

/// A plan's grant period, both years included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: u16,
    pub to: u16,
}

/// The years some period of a department holds, ascending, each once (a year two plans
/// share counts once): a span's covered years are then two binary searches away.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoveredYears(Vec<u16>);

impl CoveredYears {
    pub fn of(periods: &[Period]) -> CoveredYears {
        let mut years: Vec<u16> = periods.iter().flat_map(|p| p.from..=p.to).collect();
        years.sort_unstable();
        years.dedup();
        CoveredYears(years)
    }

    /// In how many of the years from `from` to `to` (both included) a period holds.
    pub fn count(&self, from: u16, to: u16) -> u16 {
        let years = &self.0;
        (years.partition_point(|&y| y <= to).saturating_sub(years.partition_point(|&y| y < from))) as u16
    }

    /// Whether the department counts under `covered_years=n` for `from`–`to` (n = 0: every
    /// department, as the note does).
    pub fn qualifies(&self, from: u16, to: u16, n: u16) -> bool {
        n == 0 || self.count(from, to) >= n
    }
}

/// In how many of the years from `from` to `to` (both included) at least one period holds.
pub fn covered_years(periods: &[Period], from: u16, to: u16) -> u16 {
    CoveredYears::of(periods).count(from, to)
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn p(from: u16, to: u16) -> Period {
        Period { from, to }
    }

    #[test]
    fn years_are_counted_once_within_the_span() {
        // two four-year periods back to back (Boks 1), the second renewed over the first's end
        let renewed = [p(2015, 2018), p(2018, 2021)];
        assert_eq!(covered_years(&renewed, 2015, 2023), 7, "2015–2021, 2018 once");
        assert_eq!(covered_years(&renewed, 2019, 2020), 2);
        assert_eq!(covered_years(&renewed, 2022, 2023), 0);
        // a gap between two periods, and periods reaching beyond the span
        let gap = [p(2010, 2013), p(2017, 2030)];
        assert_eq!(covered_years(&gap, 2012, 2018), 4, "2012, 2013, 2017, 2018");
        assert_eq!(covered_years(&[], 2015, 2023), 0);
        assert_eq!(covered_years(&[p(2015, 2015)], 2015, 2015), 1);
    }

    #[test]
    fn n_zero_keeps_everyone_and_the_whole_span_reads_throughout() {
        let later = CoveredYears::of(&[p(2020, 2023)]);
        assert!(CoveredYears::of(&[]).qualifies(2015, 2023, 0), "never covered, still in the note's method");
        assert!(later.qualifies(2015, 2023, 4));
        assert!(!later.qualifies(2015, 2023, 5));
        assert!(CoveredYears::of(&[p(2014, 2018), p(2019, 2024)]).qualifies(2015, 2023, 9), "covered every year from 2015 to 2023");
        assert!(!CoveredYears::of(&[p(2014, 2018), p(2020, 2024)]).qualifies(2015, 2023, 9), "2019 uncovered");
    }

    /// The binary searches count what walking the years does, periods overlapping,
    /// following or apart, spans inside, around and beside them.
    #[test]
    fn counting_by_search_is_counting_by_walking() {
        for periods in [vec![], vec![p(2015, 2018), p(2018, 2021)], vec![p(2010, 2013), p(2017, 2030)], vec![p(2016, 2016)]] {
            let years = CoveredYears::of(&periods);
            for from in 2008..2026 {
                for to in from..2026 {
                    let walked = (from..=to).filter(|&y| periods.iter().any(|q| q.from <= y && y <= q.to)).count() as u16;
                    assert_eq!(years.count(from, to), walked, "{periods:?} {from}-{to}");
                }
            }
        }
    }
}
