//! The legal criteria of almenboligloven § 61 a and § 61 b (criteria.md): rule sets as data,
//! evaluated per area and year with three-valued logic, so that a classification never
//! reveals anything about a suppressed figure. Nothing here knows a threshold, a window, a
//! K-of-N or a persistence period: they all come from the rule set.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::figures::Figure;
use super::model::Kind;

/// The indicator roles a rule set reads, fixed names (criteria.md, "roles").
pub const ROLES: [&str; 5] = ["outside_work_education", "convicted", "basic_education_only", "gross_income", "non_western"];

/// The kinds of indicator a role may be played by.
pub fn role_kinds(role: &str) -> &'static [Kind] {
    match role {
        "convicted" => &[Kind::Share, Kind::Rate],
        "gross_income" => &[Kind::Mean],
        _ => &[Kind::Share],
    }
}

/// A rule set: a versioned document (JSON or TOML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub id: String,
    pub title_da: String,
    pub title_en: String,
    pub legal_basis: String,
    /// The first data year it applies to.
    pub from_year: u16,
    /// The last, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_year: Option<u16>,
    pub criteria: Vec<Criterion>,
    pub classifications: Vec<Classification>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub id: String,
    pub name_da: String,
    pub name_en: String,
    /// The indicator role it reads.
    pub role: String,
    pub test: Test,
    pub threshold: Threshold,
    /// The average of this many years' values (1 or 2), the last being the year evaluated.
    pub years: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    /// value > threshold
    Above,
    /// value ≥ threshold
    AtLeast,
    /// value < threshold
    Below,
}

/// What a value is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Threshold {
    /// P of the denominator (a share or rate indicator): 0.40 is 40 % or 400 per 1,000.
    Proportion(f64),
    /// X in the indicator's unit (a mean indicator).
    Value(f64),
    /// X times the country's figure (for the same years).
    TimesCountry(f64),
    /// X times the figure of the area's region (for the same years).
    FractionOfRegion(f64),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Classification {
    pub id: String,
    pub name_da: String,
    pub name_en: String,
    /// At least this many residents in the year, counted by the denominator of
    /// `population_role`'s indicator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_population: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population_role: Option<String>,
    /// K of the criteria in `of`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<usize>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub of: Vec<String>,
    /// Criteria that must all hold besides.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
    /// Another classification that must have held in each of the last `years` years.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persists: Option<Persists>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Persists {
    pub classification: String,
    pub years: u16,
}

/// A rule set refused: which file, which key, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub file: String,
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.key, self.message)
    }
}

impl std::error::Error for RuleError {}

impl RuleSet {
    /// Parses a rule set from JSON (a `.json` file) or TOML (anything else) and checks it.
    pub fn parse(file: &str, text: &str) -> Result<RuleSet, RuleError> {
        let error = |key: String, message: String| RuleError { file: file.to_string(), key, message };
        let rules: RuleSet = if file.ends_with(".json") {
            serde_json::from_str(text).map_err(|e| error(format!("line {} column {}", e.line(), e.column()), e.to_string()))?
        } else {
            toml::from_str(text).map_err(|e| {
                let at = e.span().map(|s| {
                    let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                    format!("line {line}")
                });
                error(at.unwrap_or_else(|| "document".into()), e.message().to_string())
            })?
        };
        rules.check().map_err(|(key, message)| error(key, message))?;
        Ok(rules)
    }

    /// Whether the document means something: every name it uses exists, every threshold fits
    /// its role, every K can be reached. The error names the key.
    fn check(&self) -> Result<(), (String, String)> {
        if self.id.trim().is_empty() || !self.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(("id".into(), format!("{:?} must be letters, digits, - and _", self.id)));
        }
        if let Some(to) = self.to_year.filter(|&to| to < self.from_year) {
            return Err(("to_year".into(), format!("{to} is before from_year {}", self.from_year)));
        }
        // (outcomes keep positions and counts in a byte)
        if self.criteria.len() > 64 {
            return Err(("criteria".into(), format!("{} criteria: at most 64", self.criteria.len())));
        }
        let mut ids = std::collections::HashSet::new();
        for (i, c) in self.criteria.iter().enumerate() {
            let key = |k: &str| format!("criteria[{i}].{k}");
            if !ids.insert(c.id.as_str()) {
                return Err((key("id"), format!("{:?} is named twice", c.id)));
            }
            if !ROLES.contains(&c.role.as_str()) {
                return Err((key("role"), format!("unknown role {:?}; the roles are {}", c.role, ROLES.join(", "))));
            }
            if !(1..=2).contains(&c.years) {
                return Err((key("years"), format!("{} must be 1 or 2", c.years)));
            }
            let kinds = role_kinds(&c.role);
            let fits = match c.threshold {
                Threshold::Proportion(p) => kinds.iter().all(|k| *k != Kind::Mean) && (0.0..=1.0).contains(&p),
                Threshold::Value(_) => kinds.contains(&Kind::Mean),
                Threshold::TimesCountry(x) | Threshold::FractionOfRegion(x) => x > 0.0,
            };
            if !fits {
                let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
                return Err((
                    key("threshold"),
                    format!(
                        "{:?} does not fit role {} (a {}): a proportion (0 to 1) is for shares and rates, a value for means, \
                         times_country and fraction_of_region need a positive factor",
                        c.threshold,
                        c.role,
                        kinds.join(" or ")
                    ),
                ));
            }
        }
        let mut names = std::collections::HashSet::new();
        for (i, c) in self.classifications.iter().enumerate() {
            let key = |k: &str| format!("classifications[{i}].{k}");
            if !names.insert(c.id.as_str()) {
                return Err((key("id"), format!("{:?} is named twice", c.id)));
            }
            for (field, list) in [("of", &c.of), ("also", &c.also)] {
                if let Some(unknown) = list.iter().find(|x| !ids.contains(x.as_str())) {
                    return Err((key(field), format!("unknown criterion {unknown:?}")));
                }
            }
            match (&c.persists, c.at_least) {
                (Some(p), None) => {
                    // (one defined before it, so that a year is evaluated in one pass)
                    if !self.classifications[..i].iter().any(|x| x.id == p.classification && x.persists.is_none()) {
                        return Err((
                            key("persists.classification"),
                            format!("{:?} is no classification defined before it that counts criteria", p.classification),
                        ));
                    }
                    if p.years == 0 || p.years > 50 {
                        return Err((key("persists.years"), format!("{} must be from 1 to 50", p.years)));
                    }
                }
                (None, Some(k)) => {
                    if k == 0 || k > c.of.len() {
                        return Err((key("at_least"), format!("{k} must be from 1 to the {} criteria of `of`", c.of.len())));
                    }
                }
                (Some(_), Some(_)) => return Err((key("persists"), "a classification persists or counts criteria, not both".into())),
                (None, None) => return Err((key("at_least"), "a classification needs at_least and of, or persists".into())),
            }
            match (&c.population_role, c.min_population) {
                (Some(role), Some(min)) if ROLES.contains(&role.as_str()) && min >= 0.0 => {}
                (Some(role), Some(_)) if !ROLES.contains(&role.as_str()) => {
                    return Err((key("population_role"), format!("unknown role {role:?}; the roles are {}", ROLES.join(", "))));
                }
                (None, None) => {}
                _ => return Err((key("min_population"), "min_population (≥ 0) and population_role go together".into())),
            }
        }
        Ok(())
    }

    /// The roles its criteria and classifications read, in the order of ROLES.
    pub fn roles(&self) -> Vec<&'static str> {
        ROLES
            .into_iter()
            .filter(|r| {
                self.criteria.iter().any(|c| c.role == *r) || self.classifications.iter().any(|c| c.population_role.as_deref() == Some(*r))
            })
            .collect()
    }

    /// Whether it applies to a data year.
    pub fn applies_to(&self, year: u16) -> bool {
        year >= self.from_year && self.to_year.is_none_or(|to| year <= to)
    }
}

/// The figures a rule set reads for one area, by role: `None` is no data.
pub trait Figures {
    fn kind(&self, role: &str) -> Kind;
    fn area(&self, role: &str, year: u16) -> Option<Figure>;
    fn country(&self, role: &str, year: u16) -> Option<Figure>;
    fn region(&self, role: &str, year: u16) -> Option<Figure>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CriterionStatus {
    Met,
    NotMet,
    Suppressed,
    Missing,
}

impl CriterionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CriterionStatus::Met => "met",
            CriterionStatus::NotMet => "not_met",
            CriterionStatus::Suppressed => "suppressed",
            CriterionStatus::Missing => "missing",
        }
    }
}

/// One criterion for one area and year.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CriterionResult {
    pub id: String,
    pub role: String,
    pub status: CriterionStatus,
    pub met: Option<bool>,
    /// The (averaged) value, in the indicator's unit.
    pub value: Option<f64>,
    /// The number the value is compared with, in the indicator's unit.
    pub threshold: Option<f64>,
    /// How far the value stands from the threshold, positive when met.
    pub margin: Option<f64>,
    /// The data years averaged.
    pub years: Vec<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Yes,
    No,
    Undetermined,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Yes => "yes",
            Verdict::No => "no",
            Verdict::Undetermined => "undetermined",
        }
    }
}

/// One classification for one area and year.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ClassificationResult {
    pub id: String,
    pub status: Verdict,
    /// Criteria of its K-of-N part met (for persistence: the years it held).
    pub criteria_met: usize,
    /// K (for persistence: the years it must hold).
    pub criteria_required: usize,
    /// For a `yes`: the fewest met criteria whose fall would end it, nearest first.
    pub nearest_exit: Vec<String>,
}

/// A criterion's outcome as kept (numbers only where the status is met or not met).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CriterionOutcome {
    pub status: CriterionStatus,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    pub margin: Option<f64>,
}

impl CriterionOutcome {
    pub fn met(&self) -> Option<bool> {
        match self.status {
            CriterionStatus::Met => Some(true),
            CriterionStatus::NotMet => Some(false),
            _ => None,
        }
    }
}

/// A classification's outcome as kept; `nearest_exit` by the criteria's positions.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassificationOutcome {
    pub status: Verdict,
    pub criteria_met: u8,
    pub criteria_required: u8,
    pub nearest_exit: Box<[u8]>,
}

/// Everything a rule set says about one area in one year, compactly: the criteria and the
/// classifications in the rule set's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub year: u16,
    /// The residents counted for the population test; none when not published.
    pub population: Option<f64>,
    pub criteria: Box<[CriterionOutcome]>,
    pub classifications: Box<[ClassificationOutcome]>,
}

impl Evaluation {
    /// The criteria with their ids, roles and years, as the API shows them.
    pub fn criteria_results(&self, rules: &RuleSet) -> Vec<CriterionResult> {
        rules
            .criteria
            .iter()
            .zip(self.criteria.iter())
            .map(|(c, o)| CriterionResult {
                id: c.id.clone(),
                role: c.role.clone(),
                status: o.status,
                met: o.met(),
                value: o.value,
                threshold: o.threshold,
                margin: o.margin,
                years: window(c, self.year),
            })
            .collect()
    }

    /// The classifications with their ids, as the API shows them.
    pub fn classification_results(&self, rules: &RuleSet) -> Vec<ClassificationResult> {
        rules
            .classifications
            .iter()
            .zip(self.classifications.iter())
            .map(|(c, o)| ClassificationResult {
                id: c.id.clone(),
                status: o.status,
                criteria_met: o.criteria_met as usize,
                criteria_required: o.criteria_required as usize,
                nearest_exit: o.nearest_exit.iter().map(|&i| rules.criteria[i as usize].id.clone()).collect(),
            })
            .collect()
    }

    /// A classification's verdict by id.
    pub fn verdict(&self, rules: &RuleSet, id: &str) -> Option<Verdict> {
        rules.classifications.iter().position(|c| c.id == id).map(|i| self.classifications[i].status)
    }
}

/// The data years a criterion averages for year `year`, ascending.
fn window(c: &Criterion, year: u16) -> Vec<u16> {
    (0..c.years).rev().filter_map(|k| year.checked_sub(k)).collect()
}

/// A figure's state for three-valued logic.
enum Input {
    Value(f64),
    Suppressed,
    Missing,
}

fn input(f: Option<Figure>) -> Input {
    match f {
        Some(Figure::Ok { value, .. }) => Input::Value(value),
        Some(Figure::Suppressed) => Input::Suppressed,
        None => Input::Missing,
    }
}

/// The mean of a series of inputs: suppressed wins over missing, as anything derived from a
/// suppressed figure is suppressed.
fn mean(inputs: impl IntoIterator<Item = Input>) -> Input {
    let (mut sum, mut n, mut missing) = (0.0, 0usize, false);
    for i in inputs {
        match i {
            Input::Value(v) => {
                sum += v;
                n += 1;
            }
            Input::Suppressed => return Input::Suppressed,
            Input::Missing => missing = true,
        }
    }
    if missing || n == 0 { Input::Missing } else { Input::Value(sum / n as f64) }
}

/// One criterion (criteria.md, "Computation").
pub fn evaluate_criterion(c: &Criterion, figures: &dyn Figures, year: u16) -> CriterionOutcome {
    let years = window(c, year);
    let value = mean(years.iter().map(|&y| input(figures.area(&c.role, y))));
    let reference = |of: &dyn Fn(&str, u16) -> Option<Figure>| mean(years.iter().map(|&y| input(of(&c.role, y))));
    let threshold = match c.threshold {
        Threshold::Proportion(p) => Input::Value(p * figures.kind(&c.role).factor()),
        Threshold::Value(x) => Input::Value(x),
        Threshold::TimesCountry(x) => match reference(&|r, y| figures.country(r, y)) {
            Input::Value(v) => Input::Value(x * v),
            other => other,
        },
        Threshold::FractionOfRegion(x) => match reference(&|r, y| figures.region(r, y)) {
            Input::Value(v) => Input::Value(x * v),
            other => other,
        },
    };
    let empty = |status| CriterionOutcome { status, value: None, threshold: None, margin: None };
    match (value, threshold) {
        (Input::Value(v), Input::Value(t)) => {
            let met = match c.test {
                Test::Above => v > t,
                Test::AtLeast => v >= t,
                Test::Below => v < t,
            };
            let margin = if c.test == Test::Below { t - v } else { v - t };
            let status = if met { CriterionStatus::Met } else { CriterionStatus::NotMet };
            CriterionOutcome { status, value: Some(v), threshold: Some(t), margin: Some(margin) }
        }
        (Input::Suppressed, _) | (_, Input::Suppressed) => empty(CriterionStatus::Suppressed),
        _ => empty(CriterionStatus::Missing),
    }
}

/// Three-valued and: no when any part is no, yes when every part is yes, else undetermined.
fn all(parts: impl IntoIterator<Item = Verdict>) -> Verdict {
    let mut out = Verdict::Yes;
    for p in parts {
        match p {
            Verdict::No => return Verdict::No,
            Verdict::Undetermined => out = Verdict::Undetermined,
            Verdict::Yes => {}
        }
    }
    out
}

fn verdict(c: &CriterionOutcome) -> Verdict {
    match c.met() {
        Some(true) => Verdict::Yes,
        Some(false) => Verdict::No,
        None => Verdict::Undetermined,
    }
}

/// Everything a rule set says about one area in one year. `earlier` gives the evaluations of
/// the years before (for persistence), nearest year last; a year without data is `None`.
pub fn evaluate(rules: &RuleSet, figures: &dyn Figures, year: u16, earlier: &[Option<&Evaluation>]) -> Evaluation {
    let criteria: Vec<CriterionOutcome> = rules.criteria.iter().map(|c| evaluate_criterion(c, figures, year)).collect();
    let population_of = |role: &str| match figures.area(role, year) {
        Some(Figure::Ok { denominator, .. }) => Some(denominator),
        _ => None,
    };
    let populations: Vec<Option<f64>> = ROLES.iter().map(|r| population_of(r)).collect();
    let population = rules.classifications.iter().find_map(|c| c.population_role.as_deref()).and_then(population_of);
    let classifications = classify(rules, &criteria, &populations, earlier);
    Evaluation { year, population, criteria: criteria.into(), classifications: classifications.into() }
}

/// The classifications from the criteria's outcomes: `populations` holds the residents per
/// role (in the order of ROLES; none when not published), `earlier` the years before.
pub fn classify(
    rules: &RuleSet,
    criteria: &[CriterionOutcome],
    populations: &[Option<f64>],
    earlier: &[Option<&Evaluation>],
) -> Vec<ClassificationOutcome> {
    // (every id a classification names was checked when the rule set was loaded)
    let position = |id: &String| rules.criteria.iter().position(|c| &c.id == id);
    let population_of = |role: &str| ROLES.iter().position(|r| *r == role).and_then(|i| populations[i]);
    let mut classifications: Vec<ClassificationOutcome> = Vec::with_capacity(rules.classifications.len());
    for c in &rules.classifications {
        let result = match (&c.persists, c.at_least) {
            (Some(p), _) => {
                // this year's own verdict of the named classification, and the years before
                let Some(target) = rules.classifications.iter().position(|x| x.id == p.classification) else {
                    classifications.push(ClassificationOutcome {
                        status: Verdict::Undetermined,
                        criteria_met: 0,
                        criteria_required: p.years as u8,
                        nearest_exit: Box::new([]),
                    });
                    continue;
                };
                let mut verdicts = vec![classifications[target].status];
                for k in 1..p.years as usize {
                    let before = earlier.len().checked_sub(k).and_then(|i| earlier[i]);
                    verdicts.push(before.map_or(Verdict::Undetermined, |e| e.classifications[target].status));
                }
                let held = verdicts.iter().filter(|v| **v == Verdict::Yes).count();
                ClassificationOutcome {
                    status: all(verdicts),
                    criteria_met: held as u8,
                    criteria_required: p.years as u8,
                    nearest_exit: Box::new([]),
                }
            }
            (None, Some(k)) => {
                let counted: Vec<usize> = c.of.iter().filter_map(position).collect();
                let met = counted.iter().filter(|&&i| criteria[i].met() == Some(true)).count();
                let unknown = counted.iter().filter(|&&i| criteria[i].met().is_none()).count();
                let k_of_n = if met >= k {
                    Verdict::Yes
                } else if met + unknown < k {
                    Verdict::No
                } else {
                    Verdict::Undetermined
                };
                let population = match (c.population_role.as_deref(), c.min_population) {
                    (Some(role), Some(min)) => match population_of(role) {
                        Some(p) if p >= min => Verdict::Yes,
                        Some(_) => Verdict::No,
                        None => Verdict::Undetermined,
                    },
                    _ => Verdict::Yes,
                };
                let status = all([k_of_n, population].into_iter().chain(c.also.iter().filter_map(position).map(|i| verdict(&criteria[i]))));
                let nearest_exit: Box<[u8]> = if status == Verdict::Yes {
                    // the smallest relative margins (margin / |threshold|), ties by id
                    let mut held: Vec<(f64, &str, u8)> = counted
                        .iter()
                        .filter(|&&i| criteria[i].met() == Some(true))
                        .map(|&i| {
                            let (m, t) = (criteria[i].margin.unwrap_or(0.0), criteria[i].threshold.unwrap_or(0.0));
                            (if t != 0.0 { m / t.abs() } else { m }, rules.criteria[i].id.as_str(), i as u8)
                        })
                        .collect();
                    held.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(b.1)));
                    held.into_iter().take(met + 1 - k).map(|x| x.2).collect()
                } else {
                    Box::new([])
                };
                ClassificationOutcome { status, criteria_met: met as u8, criteria_required: k as u8, nearest_exit }
            }
            (None, None) => unreachable!("checked when the rule set was loaded"),
        };
        classifications.push(result);
    }
    classifications
}

/// The rule sets the service ships (criteria.md's table), as their documents.
pub const BUNDLED: [(&str, &str); 2] = [
    ("almenboligloven-2021.toml", include_str!("../rules/almenboligloven-2021.toml")),
    ("ghettokriterier-2013.toml", include_str!("../rules/ghettokriterier-2013.toml")),
];

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::domain::figures::{Counts, Disclosure};

    fn bundled(i: usize) -> RuleSet {
        RuleSet::parse(BUNDLED[i].0, BUNDLED[i].1).unwrap()
    }

    /// Figures by (role, year) for an area; the country and the region by role alone.
    #[derive(Default)]
    struct Fixed {
        area: HashMap<(&'static str, u16), Figure>,
        country: HashMap<&'static str, Figure>,
        region: HashMap<&'static str, Figure>,
    }

    fn share(n: f64, d: f64) -> Figure {
        Disclosure::default().publish(Kind::Share, Counts::new(n, d))
    }

    impl Figures for Fixed {
        fn kind(&self, role: &str) -> Kind {
            if role == "gross_income" { Kind::Mean } else { Kind::Share }
        }
        fn area(&self, role: &str, year: u16) -> Option<Figure> {
            self.area.iter().find(|((r, y), _)| *r == role && *y == year).map(|(_, f)| *f)
        }
        fn country(&self, role: &str, _: u16) -> Option<Figure> {
            self.country.get(role).copied()
        }
        fn region(&self, role: &str, _: u16) -> Option<Figure> {
            self.region.get(role).copied()
        }
    }

    /// An area of 2,000 residents meeting what `met` says in 2023 (and 2022).
    fn area(owe: f64, convicted: f64, basic: f64, income: f64, non_western: f64) -> Fixed {
        let mut f = Fixed::default();
        for y in [2022, 2023] {
            f.area.insert(("outside_work_education", y), share(owe * 10.0, 1000.0));
            f.area.insert(("convicted", y), share(convicted * 20.0, 2000.0));
            f.area.insert(("basic_education_only", y), share(basic * 8.0, 800.0));
            f.area.insert(("gross_income", y), Figure::Ok { value: income, numerator: income * 900.0, denominator: 900.0 });
            f.area.insert(("non_western", y), share(non_western * 20.0, 2000.0));
        }
        f.country.insert("convicted", share(1000.0, 100_000.0)); // 1 %
        f.region.insert("gross_income", Figure::Ok { value: 300_000.0, numerator: 3e10, denominator: 100_000.0 });
        f
    }

    fn status(e: &Evaluation, id: &str) -> ClassificationResult {
        e.classification_results(&bundled(0)).into_iter().find(|c| c.id == id).unwrap()
    }

    fn criterion(e: &Evaluation, id: &str) -> CriterionResult {
        e.criteria_results(&bundled(0)).into_iter().find(|c| c.id == id).unwrap()
    }

    #[test]
    fn status_names_are_the_json_ones() {
        for s in [CriterionStatus::Met, CriterionStatus::NotMet, CriterionStatus::Suppressed, CriterionStatus::Missing] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for v in [Verdict::Yes, Verdict::No, Verdict::Undetermined] {
            assert_eq!(serde_json::to_value(v).unwrap(), v.as_str());
        }
    }

    #[test]
    fn the_bundled_rule_sets_load() {
        let now = bundled(0);
        assert_eq!(now.id, "almenboligloven-2021");
        assert_eq!(now.criteria.len(), 9);
        assert_eq!(now.roles(), ROLES.to_vec());
        assert!(now.applies_to(2023) && !now.applies_to(2017));
        let then = bundled(1);
        assert_eq!(then.id, "ghettokriterier-2013");
        assert!(then.applies_to(2013) && then.applies_to(2017) && !then.applies_to(2018));
        // and the same document as JSON
        let json = serde_json::to_string(&now).unwrap();
        assert_eq!(RuleSet::parse("x.json", &json).unwrap(), now);
    }

    #[test]
    fn typos_are_refused_naming_file_and_key() {
        let text = BUNDLED[0].1;
        for (from, to, key, says) in [
            (
                "role = \"convicted\"\ntest = \"at_least\"\nthreshold = { times_country = 3.0 }",
                "role = \"convictions\"\ntest = \"at_least\"\nthreshold = { times_country = 3.0 }",
                "criteria[1].role",
                "unknown role",
            ),
            (
                "at_least = 2\nof = [\"outside_work_education_40\", \"convicted_3x\", \"basic_education_60\", \"gross_income_55\"]\n\n[[classifications]]\nid = \"parallelsamfund\"",
                "at_least = 5\nof = [\"outside_work_education_40\", \"convicted_3x\", \"basic_education_60\", \"gross_income_55\"]\n\n[[classifications]]\nid = \"parallelsamfund\"",
                "classifications[0].at_least",
                "from 1 to the 4",
            ),
            ("threshold = { fraction_of_region = 0.55 }", "threshold = { proportion = 0.55 }", "criteria[3].threshold", "does not fit"),
            ("also = [\"non_western_50\"]", "also = [\"non_western_5O\"]", "classifications[1].also", "unknown criterion"),
            (
                "persists = { classification = \"parallelsamfund\", years = 5 }",
                "persists = { classification = \"parallelsamfun\", years = 5 }",
                "classifications[2].persists.classification",
                "no classification",
            ),
        ] {
            assert!(text.contains(from), "{from}");
            let broken = text.replacen(from, to, 1);
            let e = RuleSet::parse("typo.toml", &broken).unwrap_err();
            assert_eq!((e.file.as_str(), e.key.as_str()), ("typo.toml", key), "{e}");
            assert!(e.message.contains(says), "{e}");
            assert!(e.to_string().starts_with(&format!("typo.toml: {key}: ")));
        }
        // an unknown key, and a broken document, name the line
        let e = RuleSet::parse("typo.toml", &text.replacen("years = 2", "yeras = 2", 1)).unwrap_err();
        assert!(e.key.starts_with("line ") && e.message.contains("yeras"), "{e}");
        assert!(RuleSet::parse("typo.json", "{").unwrap_err().key.starts_with("line 1"));
    }

    #[test]
    fn above_and_at_least_at_the_threshold() {
        let rules = bundled(0);
        // exactly 40 %: not above; exactly 3 × the country's 1 %: at least
        let e = evaluate(&rules, &area(40.0, 3.0, 10.0, 250_000.0, 20.0), 2023, &[]);
        assert_eq!(criterion(&e, "outside_work_education_40").met, Some(false));
        assert_eq!(criterion(&e, "outside_work_education_40").margin, Some(0.0));
        assert_eq!(criterion(&e, "convicted_3x").met, Some(true));
        assert_eq!(criterion(&e, "convicted_3x").threshold, Some(3.0));
        // below: 55 % of the region's 300,000 is 165,000
        let g = criterion(&e, "gross_income_55");
        assert_eq!((g.met, g.threshold, g.margin), (Some(false), Some(165_000.0), Some(-85_000.0)));
        assert_eq!(criterion(&e, "outside_work_education_40").years, vec![2022, 2023]);
        assert_eq!(criterion(&e, "basic_education_60").years, vec![2023]);
    }

    #[test]
    fn a_window_with_a_year_missing_is_missing() {
        let rules = bundled(0);
        let mut f = area(45.0, 1.0, 10.0, 250_000.0, 20.0);
        f.area.remove(&("outside_work_education", 2022));
        let e = evaluate(&rules, &f, 2023, &[]);
        let c = criterion(&e, "outside_work_education_40");
        assert_eq!((c.status, c.met, c.value), (CriterionStatus::Missing, None, None));
    }

    #[test]
    fn a_suppressed_criterion_decides_only_where_it_could() {
        let rules = bundled(0);
        // two met (outside work 45 %, basic school 65 %): yes, whatever the suppressed ones are
        let mut f = area(45.0, 1.0, 65.0, 250_000.0, 20.0);
        f.area.insert(("convicted", 2023), Figure::Suppressed);
        let e = evaluate(&rules, &f, 2023, &[]);
        assert_eq!(criterion(&e, "convicted_3x").status, CriterionStatus::Suppressed);
        assert_eq!(status(&e, "udsat_boligomraade").status, Verdict::Yes);
        // one met and one suppressed: it could go either way
        let mut f = area(45.0, 1.0, 10.0, 250_000.0, 20.0);
        f.area.insert(("convicted", 2023), Figure::Suppressed);
        let e = evaluate(&rules, &f, 2023, &[]);
        assert_eq!(status(&e, "udsat_boligomraade").status, Verdict::Undetermined);
        assert!(status(&e, "udsat_boligomraade").nearest_exit.is_empty());
        // none met and one suppressed: no
        let mut f = area(10.0, 1.0, 10.0, 250_000.0, 20.0);
        f.area.insert(("convicted", 2023), Figure::Suppressed);
        let e = evaluate(&rules, &f, 2023, &[]);
        assert_eq!(status(&e, "udsat_boligomraade").status, Verdict::No);
        assert_eq!(status(&e, "udsat_boligomraade").criteria_met, 0);
    }

    #[test]
    fn an_area_under_1000_residents_is_none() {
        let rules = bundled(0);
        let mut f = area(45.0, 4.0, 65.0, 100_000.0, 60.0);
        let e = evaluate(&rules, &f, 2023, &[]);
        assert_eq!(status(&e, "parallelsamfund").status, Verdict::Yes);
        assert_eq!(e.population, Some(2000.0));
        f.area.insert(("non_western", 2023), share(500.0, 900.0));
        let e = evaluate(&rules, &f, 2023, &[]);
        assert_eq!(status(&e, "udsat_boligomraade").status, Verdict::No);
        assert_eq!(status(&e, "parallelsamfund").status, Verdict::No);
        // and when the count is not published, the test is unknown
        f.area.insert(("non_western", 2023), Figure::Suppressed);
        let e = evaluate(&rules, &f, 2023, &[]);
        assert_eq!(status(&e, "udsat_boligomraade").status, Verdict::Undetermined);
        assert_eq!(e.population, None);
    }

    #[test]
    fn nearest_exit_names_the_fewest_criteria_nearest_first() {
        let rules = bundled(0);
        // all four met: 45 % vs 40 (margin 5, relative 0.125), 4 × 1 % vs 3 (0.333), 61 % vs 60
        // (0.0167), 100,000 vs 165,000 (0.394): three must fall to end it
        let e = evaluate(&rules, &area(45.0, 4.0, 61.0, 100_000.0, 20.0), 2023, &[]);
        let u = status(&e, "udsat_boligomraade");
        assert_eq!((u.status, u.criteria_met, u.criteria_required), (Verdict::Yes, 4, 2));
        assert_eq!(u.nearest_exit, ["basic_education_60", "outside_work_education_40", "convicted_3x"]);
    }

    #[test]
    fn persistence_needs_every_year() {
        let rules = bundled(0);
        let yes = evaluate(&rules, &area(45.0, 4.0, 61.0, 100_000.0, 60.0), 2023, &[]);
        let no = evaluate(&rules, &area(10.0, 1.0, 10.0, 300_000.0, 10.0), 2023, &[]);
        assert_eq!(status(&yes, "parallelsamfund").status, Verdict::Yes);
        let five = [Some(&yes), Some(&yes), Some(&yes), Some(&yes)];
        let e = evaluate(&rules, &area(45.0, 4.0, 61.0, 100_000.0, 60.0), 2023, &five);
        let o = status(&e, "omdannelsesomraade");
        assert_eq!((o.status, o.criteria_met, o.criteria_required), (Verdict::Yes, 5, 5));
        // a year without data breaks the chain to undetermined; a year with a no, to no
        let gap = [Some(&yes), None, Some(&yes), Some(&yes)];
        assert_eq!(
            status(&evaluate(&rules, &area(45.0, 4.0, 61.0, 100_000.0, 60.0), 2023, &gap), "omdannelsesomraade").status,
            Verdict::Undetermined
        );
        let broken = [Some(&yes), Some(&no), Some(&yes), Some(&yes)];
        assert_eq!(
            status(&evaluate(&rules, &area(45.0, 4.0, 61.0, 100_000.0, 60.0), 2023, &broken), "omdannelsesomraade").status,
            Verdict::No
        );
        let short = [Some(&yes), Some(&yes)];
        assert_eq!(
            status(&evaluate(&rules, &area(45.0, 4.0, 61.0, 100_000.0, 60.0), 2023, &short), "omdannelsesomraade").status,
            Verdict::Undetermined
        );
    }
}
