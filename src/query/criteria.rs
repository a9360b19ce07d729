//! The legal criteria (criteria.md): which rule set applies, every area of a unit in a year,
//! one area year by year; and the rule book: the rule sets the service ships and those an
//! operator adds (`criteria.rules_dir`: every `.toml` and `.json` file in it, in name order).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use utoipa::ToSchema;

use super::Unit;
use crate::domain::criteria::{BUNDLED, Evaluation, RuleError, RuleSet, Verdict};
use crate::error::ApiError;
use crate::snapshot::Criteria;

/// A rule set named, or the one valid for a year; 400 when unknown or unavailable.
pub fn rule_set<'c>(c: &'c Criteria, rules: Option<&str>, year: Option<u16>) -> Result<(usize, &'c RuleSet), ApiError> {
    let (i, r) = match rules {
        Some(id) => c.rule_set(id).ok_or_else(|| ApiError::invalid("rules", format!("unknown rule set {id:?}; see /v1/rules")))?,
        None => {
            let Some(year) = year else {
                return Err(ApiError::invalid("rules", "name a rule set with rules=, or a year; see /v1/rules"));
            };
            let i = c.rules.iter().position(|r| r.applies_to(year)).ok_or_else(|| {
                ApiError::invalid("rules", format!("no rule set applies to {year}; name one with rules= (see /v1/rules)"))
            })?;
            (i, &*c.rules[i])
        }
    };
    if let Err(missing) = &c.roles[i] {
        return Err(ApiError::invalid(
            "rules",
            format!("the dataset lacks the indicators rule set {:?} needs for the roles {}; see /v1/rules", r.id, missing.join(", ")),
        ));
    }
    Ok((i, r))
}

/// A year the criteria are evaluated for, and the rule set applied to it.
#[derive(Debug, Clone, Copy)]
pub struct YearAndRules {
    /// The year's position among the criteria's years.
    pub year: usize,
    /// The rule set's position in the rule book.
    pub rules: usize,
}

/// A year the criteria are evaluated for (named `parameter` in errors) and the rule set for
/// it: the one named, else the one valid for the year. A rule set named is checked first:
/// without its indicators there are no years.
pub fn year_and_rules(c: &Criteria, parameter: &str, year: u16, rules: Option<&str>) -> Result<YearAndRules, ApiError> {
    if let Some(id) = rules {
        rule_set(c, Some(id), None)?;
    }
    let k = c.years.iter().position(|&y| y == year).ok_or_else(|| {
        let range = match (c.years.first(), c.years.last()) {
            (Some(a), Some(b)) => format!("{a} to {b}"),
            _ => "none".into(),
        };
        ApiError::invalid(parameter, format!("{parameter} {year} is outside the dataset's years for the criteria ({range})"))
    })?;
    let (ri, _) = rule_set(c, rules, Some(year))?;
    Ok(YearAndRules { year: k, rules: ri })
}

/// Every area of a unit under one rule set in one year.
#[derive(Debug, Clone, Copy)]
pub struct CriteriaRequest<'s> {
    pub at: YearAndRules,
    pub unit: Unit<'s>,
}

// How many areas a classification says yes, no and undetermined for (a plain comment: a doc
// comment would be its description in the OpenAPI document, which stays as it was).
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct VerdictCounts {
    pub yes: usize,
    pub no: usize,
    pub undetermined: usize,
}

/// Each area's evaluation (areas without one are left out), and per classification id the
/// counts of its verdicts.
pub struct AreasCriteria<'s> {
    pub year: u16,
    pub rules: &'s RuleSet,
    pub items: Vec<(usize, &'s Evaluation)>,
    pub summary: BTreeMap<String, VerdictCounts>,
}

pub fn areas_criteria<'s>(c: &'s Criteria, r: &CriteriaRequest<'s>) -> AreasCriteria<'s> {
    let rules = &*c.rules[r.at.rules];
    let items: Vec<(usize, &Evaluation)> =
        r.unit.areas().filter_map(|a| Some((a, &c.of(r.unit.boundary_version, r.at.rules, a)?[r.at.year]))).collect();
    let mut summary: BTreeMap<String, VerdictCounts> =
        rules.classifications.iter().map(|x| (x.id.clone(), VerdictCounts::default())).collect();
    for (_, e) in &items {
        for (x, outcome) in rules.classifications.iter().zip(e.classifications.iter()) {
            let Some(counts) = summary.get_mut(&x.id) else { continue };
            match outcome.status {
                Verdict::Yes => counts.yes += 1,
                Verdict::No => counts.no += 1,
                Verdict::Undetermined => counts.undetermined += 1,
            }
        }
    }
    AreasCriteria { year: c.years[r.at.year], rules, items, summary }
}

/// One area of a unit in every year, under the rule set named or each year's valid one.
#[derive(Debug, Clone, Copy)]
pub struct AreaCriteriaRequest<'s> {
    pub area: usize,
    /// A rule set's position in the rule book (checked with [`rule_set`]), or each year's.
    pub rules: Option<usize>,
    pub unit: Unit<'s>,
}

/// The area's years with an evaluation, ascending, each with the rule set applied.
pub fn area_years<'s>(c: &'s Criteria, r: &AreaCriteriaRequest<'s>) -> Vec<(&'s RuleSet, &'s Evaluation)> {
    let mut years = Vec::new();
    for (k, &year) in c.years.iter().enumerate() {
        let ri = match r.rules {
            Some(ri) => ri,
            None => match rule_set(c, None, Some(year)) {
                Ok((ri, _)) => ri,
                Err(_) => continue,
            },
        };
        let Some(e) = c.of(r.unit.boundary_version, ri, r.area).map(|e| &e[k]) else { continue };
        years.push((&*c.rules[ri], e));
    }
    years
}

/// The bundled rule sets, then the directory's; a broken document or an id used twice is
/// refused, naming the file and the key.
pub fn rule_book(dir: Option<&Path>) -> Result<Vec<Arc<RuleSet>>, RuleError> {
    let mut documents: Vec<(String, String)> = BUNDLED.iter().map(|(name, text)| (format!("(bundled) {name}"), text.to_string())).collect();
    if let Some(dir) = dir {
        let unreadable =
            |e: std::io::Error| RuleError { file: dir.display().to_string(), key: "criteria.rules_dir".into(), message: e.to_string() };
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(unreadable)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml" || x == "json"))
            .collect();
        paths.sort();
        for p in paths {
            let text = std::fs::read_to_string(&p).map_err(unreadable)?;
            documents.push((p.display().to_string(), text));
        }
    }
    let mut book: Vec<Arc<RuleSet>> = Vec::new();
    for (file, text) in documents {
        let rules = RuleSet::parse(&file, &text)?;
        if book.iter().any(|r| r.id == rules.id) {
            return Err(RuleError { file, key: "id".into(), message: format!("rule set {:?} is defined already", rules.id) });
        }
        book.push(Arc::new(rules));
    }
    Ok(book)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operator_adds_a_rule_set_and_a_broken_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let earlier = BUNDLED[0].1.replace("almenboligloven-2021", "almenboligloven-2018").replace("years = 5", "years = 4");
        std::fs::write(dir.path().join("2018.toml"), earlier).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a rule set").unwrap();
        let book = rule_book(Some(dir.path())).unwrap();
        assert_eq!(
            book.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["almenboligloven-2021", "ghettokriterier-2013", "almenboligloven-2018"]
        );
        std::fs::write(dir.path().join("again.toml"), BUNDLED[1].1).unwrap();
        let e = rule_book(Some(dir.path())).unwrap_err();
        assert!(e.file.ends_with("again.toml") && e.key == "id", "{e}");
        std::fs::remove_file(dir.path().join("again.toml")).unwrap();
        std::fs::write(dir.path().join("typo.json"), r#"{"id": "x"}"#).unwrap();
        let e = rule_book(Some(dir.path())).unwrap_err();
        assert!(e.file.ends_with("typo.json") && e.message.contains("missing field"), "{e}");
        assert!(rule_book(Some(&dir.path().join("nowhere"))).unwrap_err().key == "criteria.rules_dir");
    }

    /// For every area, delimitation, rule set and year of the demo, every way of flipping its
    /// suppressed criteria to met or not met leaves every classification that is not
    /// undetermined as it is: a classification reveals nothing about a suppressed figure.
    #[test]
    fn no_published_classification_depends_on_a_suppressed_criterion() {
        use crate::domain::criteria::{CriterionOutcome, CriterionStatus, ROLES, Verdict, classify};
        use crate::domain::figures::Disclosure;
        use crate::snapshot::Snapshot;
        use crate::store::StoredDataset;
        let extract = crate::demo::bundled_extract().unwrap();
        let rules = rule_book(None).unwrap();
        let s = Snapshot::build(StoredDataset::from_extract(&extract, 1, "x"), &Disclosure::default()).unwrap().with_criteria(&rules);
        let (mut flips, mut decided) = (0, 0);
        for (name, d) in &s.delimitations {
            for (ri, r) in rules.iter().enumerate() {
                let role = r.classifications.iter().find_map(|c| c.population_role.as_deref());
                for a in d.areas() {
                    let evaluations = s.criteria.of(name, ri, a).unwrap();
                    for (k, e) in evaluations.iter().enumerate() {
                        let suppressed: Vec<usize> = e
                            .criteria
                            .iter()
                            .enumerate()
                            .filter(|(_, c)| c.status == CriterionStatus::Suppressed)
                            .map(|(i, _)| i)
                            .collect();
                        if suppressed.is_empty() {
                            continue;
                        }
                        let populations: Vec<Option<f64>> =
                            ROLES.iter().map(|x| if Some(*x) == role { e.population } else { None }).collect();
                        let earlier: Vec<Option<&crate::domain::criteria::Evaluation>> = evaluations[..k].iter().map(Some).collect();
                        for mask in 0..1u32 << suppressed.len().min(8) {
                            let mut criteria = e.criteria.to_vec();
                            for (bit, &i) in suppressed.iter().enumerate() {
                                let status = if mask & (1 << bit) != 0 { CriterionStatus::Met } else { CriterionStatus::NotMet };
                                criteria[i] = CriterionOutcome { status, value: Some(1.0), threshold: Some(1.0), margin: Some(0.0) };
                            }
                            let flipped = classify(r, &criteria, &populations, &earlier);
                            for (before, after) in e.classifications.iter().zip(&flipped) {
                                if before.status != Verdict::Undetermined {
                                    assert_eq!(before.status, after.status, "{name} {} {} {}", r.id, s.areas[a].area_id, e.year);
                                    decided += 1;
                                }
                            }
                            flips += 1;
                        }
                    }
                }
            }
        }
        assert!(flips > 50 && decided > 50, "the demo exercises suppressed criteria: {flips} flips, {decided} verdicts checked");
    }
}
