//! The rule book: the rule sets the service ships (criteria.md) and those an operator adds
//! (`criteria.rules_dir`: every `.toml` and `.json` file in it, in name order).

use std::path::Path;
use std::sync::Arc;

use crate::domain::criteria::{BUNDLED, RuleError, RuleSet};

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
