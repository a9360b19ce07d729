//! Coverage-restricted area figures of the dataset's delimitation (comparisons.md,
//! "Coverage"). Which departments `covered_years=N` keeps of an area depends on the span asked
//! for, so every set it can keep — for every span within the data's years and every N, short
//! of all the area's departments and of none — is worked out when the version is loaded, its
//! figures summed from its departments' observations and guarded with every other figure
//! (a restricted figure differs from the full one by the departments left out, and from
//! another N's by those in between). A request then looks its set up.

use std::collections::HashMap;

use super::{Access, Delimitation, Plans, Point};
use crate::domain::coverage::CoveredYears;
use crate::domain::figures::{AreaSum, Counts};
use crate::store::StoreError;
use crate::store::read::DepartmentObservationRecord;

/// One set of an area's departments that some `covered_years` keeps, and its figures.
#[derive(Debug, Clone, PartialEq)]
pub struct CoveredSet {
    pub area: usize,
    /// Positions in the area's departments (of the dataset's delimitation), ascending.
    pub members: Vec<u32>,
    /// The set's place among its area's sets: sets of one place, one per area, are disjoint
    /// as the areas are, and the disclosure guard takes them as one delimitation.
    pub place: usize,
    /// indicator index → published points, years ascending.
    pub(super) series: HashMap<usize, Vec<Point>>,
}

/// The plans' coverage of the dataset's delimitation.
#[derive(Debug, Default)]
pub struct Coverage {
    pub(super) sets: Vec<CoveredSet>,
    index: HashMap<(usize, Members), usize>,
    /// area → per department position, the years plans covered it.
    covered: Vec<Vec<CoveredYears>>,
    /// The first and last year of the data: spans within it have their sets.
    years: Option<(u16, u16)>,
    has_plans: bool,
}

/// What `covered_years` leaves of an area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// Every department: the area's own figures.
    All,
    /// A set of them ([`Coverage::series`]).
    Set(usize),
    /// None, or a span beyond the data's years: no figures.
    Nothing,
}

/// An area under `covered_years`: what is kept, and how many departments it used and left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restriction {
    pub kept: Kept,
    pub used: usize,
    pub left_out: usize,
}

impl Coverage {
    /// Every set some span within `years` and some N keep, of every area of `delimitation`.
    pub(super) fn enumerate(delimitation: &Delimitation, plans: &Plans, access: &Access, years: Option<(u16, u16)>) -> Coverage {
        let has_plans = !plans.plans.is_empty();
        if !has_plans {
            return Coverage::default();
        }
        let covered: Vec<Vec<CoveredYears>> = delimitation
            .departments
            .iter()
            .map(|deps| {
                deps.iter()
                    .map(|d| access.department(&d.department_id).map_or_else(CoveredYears::default, |i| CoveredYears::of(plans.periods(i))))
                    .collect()
            })
            .collect();
        let mut coverage = Coverage { sets: Vec::new(), index: HashMap::new(), covered, years, has_plans };
        let Some((first, last)) = years else { return coverage };
        for area in delimitation.areas() {
            let mut place = 0;
            for from in first..=last {
                for to in from..=last {
                    for n in 1..=(to - from + 1) {
                        let (members, used) = coverage.members(area, from, to, n);
                        if used == 0 || used == coverage.covered[area].len() {
                            continue;
                        }
                        if let std::collections::hash_map::Entry::Vacant(e) = coverage.index.entry((area, members)) {
                            let members = e.key().1.positions();
                            e.insert(coverage.sets.len());
                            coverage.sets.push(CoveredSet { area, members, place, series: HashMap::new() });
                            place += 1;
                        }
                    }
                }
            }
        }
        coverage
    }

    /// The area's departments covered in at least `n` of the years from `from` to `to`, and
    /// how many they are.
    fn members(&self, area: usize, from: u16, to: u16, n: u16) -> (Members, usize) {
        let covered = self.covered.get(area).map_or(&[][..], Vec::as_slice);
        let qualifies = |p: usize| covered[p].qualifies(from, to, n);
        // (a mask, without allocating, for the areas of up to 64 departments: all of them in
        // practice, and a request asks for every area's)
        if covered.len() <= 64 {
            let mask = (0..covered.len()).filter(|&p| qualifies(p)).fold(0u64, |m, p| m | 1 << p);
            return (Members::Mask(mask), mask.count_ones() as usize);
        }
        let list: Vec<u32> = (0..covered.len()).filter(|&p| qualifies(p)).map(|p| p as u32).collect();
        let used = list.len();
        (Members::List(list), used)
    }

    /// Whether the extract said which departments plans covered.
    pub fn has_plans(&self) -> bool {
        self.has_plans
    }

    /// The sets, by number.
    pub fn sets(&self) -> &[CoveredSet] {
        &self.sets
    }

    /// What `covered_years=n` for `from`–`to` keeps of an area (n = 0: all of it).
    pub fn restrict(&self, area: usize, from: u16, to: u16, n: u16) -> Restriction {
        let all = self.covered.get(area).map_or(0, Vec::len);
        if n == 0 {
            return Restriction { kept: Kept::All, used: all, left_out: 0 };
        }
        let (members, used) = self.members(area, from, to, n);
        let kept = if used == all && all > 0 {
            Kept::All
        } else if used == 0 {
            Kept::Nothing
        } else {
            let within = self.years.is_some_and(|(first, last)| first <= from && to <= last);
            match self.index.get(&(area, members)) {
                Some(&set) if within => Kept::Set(set),
                _ => Kept::Nothing,
            }
        };
        Restriction { kept, used, left_out: all - used }
    }

    /// A set's published points of an indicator, years ascending.
    pub fn series(&self, set: usize, indicator: usize) -> &[Point] {
        self.sets.get(set).and_then(|s| s.series.get(&indicator)).map_or(&[], Vec::as_slice)
    }

    /// Each set's sums before disclosure control: (set, indicator, year, sum).
    pub(super) fn sums(
        &self,
        delimitation: &Delimitation,
        observations: &[DepartmentObservationRecord],
        indicator_index: &HashMap<String, usize>,
    ) -> Result<Vec<(usize, usize, u16, AreaSum)>, StoreError> {
        // (the observations come by department: each department's are one run)
        let mut runs: HashMap<&str, &[DepartmentObservationRecord]> = HashMap::new();
        let mut start = 0;
        for end in 1..=observations.len() {
            if end == observations.len() || observations[end].department_id != observations[start].department_id {
                runs.insert(observations[start].department_id.as_str(), &observations[start..end]);
                start = end;
            }
        }
        let mut out = Vec::new();
        for (number, set) in self.sets.iter().enumerate() {
            let mut sums: HashMap<(usize, u16), AreaSum> = HashMap::new();
            for &p in &set.members {
                let department = &delimitation.departments[set.area][p as usize];
                for o in runs.get(department.department_id.as_str()).copied().unwrap_or_default() {
                    let indicator = *indicator_index
                        .get(&o.indicator)
                        .ok_or_else(|| StoreError::Corrupt(format!("an observation of unknown indicator {}", o.indicator)))?;
                    let year = u16::try_from(o.year).map_err(|_| StoreError::Corrupt(format!("year {}", o.year)))?;
                    sums.entry((indicator, year)).or_default().add(Counts::new(o.numerator, o.denominator as f64));
                }
            }
            let mut sums: Vec<_> = sums.into_iter().collect();
            sums.sort_unstable_by_key(|x| x.0);
            out.extend(sums.into_iter().map(|((indicator, year), sum)| (number, indicator, year, sum)));
        }
        Ok(out)
    }
}

/// Positions of an area's departments: a bit each for an area of up to 64, else a list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Members {
    Mask(u64),
    List(Vec<u32>),
}

impl Members {
    fn positions(&self) -> Vec<u32> {
        match self {
            Members::Mask(mask) => (0..64).filter(|p| mask & (1 << p) != 0).collect(),
            Members::List(list) => list.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Areas of up to 64 departments and larger ones name the same departments, whichever
    /// form their key takes.
    #[test]
    fn members_are_the_departments_covered_long_enough() {
        use crate::domain::coverage::Period;
        for size in [1usize, 5, 64, 65, 70] {
            // department p covered from 2010 + p % 7 to 2016
            let periods: Vec<Period> = (0..size).map(|p| Period { from: 2010 + (p % 7) as u16, to: 2016 }).collect();
            let covered = periods.iter().map(|&p| CoveredYears::of(&[p])).collect();
            let coverage = Coverage { covered: vec![covered], years: Some((2010, 2016)), has_plans: true, ..Coverage::default() };
            for n in 1..=7u16 {
                let (members, used) = coverage.members(0, 2010, 2016, n);
                let want: Vec<u32> = (0..size as u32).filter(|&p| 2016 - periods[p as usize].from + 1 >= n).collect();
                assert_eq!((members.positions(), used), (want.clone(), want.len()), "{size} departments, n = {n}");
                assert_eq!(matches!(members, Members::Mask(_)), size <= 64);
            }
        }
    }
}
