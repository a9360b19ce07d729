//! The legal criteria through HTTP: the rule sets and their availability, the criteria of
//! every area for a year (JSON and CSV), one area's years, the errors, an extract without the
//! indicators they need, and rule sets an operator adds.

use std::collections::BTreeMap;

use crate::common::*;

/// The demo, on either backend: every endpoint answers, and says what it is not.
async fn the_demo_answers(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    assert!(cli(&["demo-extract", dir.path().to_str().unwrap()]).status.success());
    let out = import(&db, dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let app = TestApp::on(&db).spawn().await;

    let (status, rules) = app.get_json("/v1/rules").await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = rules["items"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["almenboligloven-2021", "ghettokriterier-2013"]);
    assert!(rules["items"].as_array().unwrap().iter().all(|r| r["available"] == true));
    assert!(rules["note"].as_str().unwrap().contains("not the ministry's official lists"));
    let (status, one) = app.get_json("/v1/rules/almenboligloven-2021").await;
    assert_eq!(status, 200);
    assert_eq!(one["criteria"].as_array().unwrap().len(), 9);
    assert_eq!(one["criteria"][1]["threshold"], serde_json::json!({"times_country": 3.0}));
    assert_eq!(one["classifications"][2]["persists"], serde_json::json!({"classification": "parallelsamfund", "years": 5}));
    assert_eq!(app.get("/v1/rules/nope").await.status(), 404);

    let (status, body) = app.get_json("/v1/criteria?year=2024").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["rules"].as_str(), body["year"].as_u64()), (Some("almenboligloven-2021"), Some(2024)));
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 48);
    for item in items {
        assert_eq!(item["criteria"].as_array().unwrap().len(), 9);
        for c in item["criteria"].as_array().unwrap() {
            let numbers = ["value", "threshold", "margin"].iter().all(|f| c[*f].is_number());
            match c["status"].as_str().unwrap() {
                "met" | "not_met" => assert!(numbers && c["met"].is_boolean(), "{c}"),
                _ => assert!(c["met"].is_null() && c["value"].is_null() && c["margin"].is_null(), "{c}"),
            }
        }
    }
    let summary = &body["summary"];
    assert_eq!(summary["omdannelsesomraade"]["yes"], 2, "{summary}");
    for id in ["udsat_boligomraade", "parallelsamfund", "forebyggelsesomraade"] {
        let s = &summary[id];
        assert_eq!(s["yes"].as_u64().unwrap() + s["no"].as_u64().unwrap() + s["undetermined"].as_u64().unwrap(), 48, "{id}");
        assert!(s["yes"].as_u64().unwrap() >= 1, "{id}: {s}");
    }
    assert!(summary["udsat_boligomraade"]["undetermined"].as_u64().unwrap() >= 1);
    // the earlier rule set by default in its own years, and by name in any
    let (_, then) = app.get_json("/v1/criteria?year=2016").await;
    assert_eq!(then["rules"], "ghettokriterier-2013");
    let (status, _) = app.get_json("/v1/criteria?year=2024&rules=ghettokriterier-2013&boundary=2021-03").await;
    assert_eq!(status, 200);

    // JSON-stat: area × criterion × (value, threshold, margin), every cell the JSON's figure
    let (status, stat) = app.get_json("/v1/criteria.jsonstat?year=2024&lang=en").await;
    assert_eq!(status, 200, "{stat}");
    assert_eq!(stat["id"], serde_json::json!(["area", "criterion", "measure"]));
    assert_eq!(stat["size"], serde_json::json!([48, 9, 3]));
    assert_eq!(stat["extension"]["dataset_version"], body["dataset_version"]);
    assert_eq!(stat["extension"]["rules"], "almenboligloven-2021");
    for (a, item) in items.iter().enumerate() {
        assert_eq!(stat["dimension"]["area"]["category"]["index"][a], item["area_id"]);
        for (c, criterion) in item["criteria"].as_array().unwrap().iter().enumerate() {
            assert_eq!(stat["dimension"]["criterion"]["category"]["index"][c], criterion["id"]);
            assert!(stat["dimension"]["criterion"]["category"]["unit"][criterion["id"].as_str().unwrap()]["label"].is_string());
            for (m, part) in ["value", "threshold", "margin"].iter().enumerate() {
                let cell = (a * 9 + c) * 3 + m;
                assert_eq!(stat["value"][cell].as_f64(), criterion[*part].as_f64(), "{} {} {part}", item["area_id"], criterion["id"]);
                if criterion[*part].is_null() {
                    assert!(stat["status"][cell.to_string()].is_string(), "a null cell has a status");
                }
            }
        }
    }

    // and pyjstat and jsonstat-toolkit read the same cells
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("criteria.json");
    std::fs::write(&file, stat.to_string()).unwrap();
    for (reader, read) in json_stat_readers(&[&file]) {
        let rows = read[file.to_str().unwrap()].as_array().unwrap();
        assert_eq!(rows.len(), 48 * 9 * 3, "{reader}");
        for row in rows {
            let item = items.iter().find(|i| i["area_id"] == row["area"]).unwrap();
            let criterion = item["criteria"].as_array().unwrap().iter().find(|c| c["id"] == row["criterion"]).unwrap();
            assert_eq!(row["value"].as_f64(), criterion[row["measure"].as_str().unwrap()].as_f64(), "{reader}: {row}");
        }
    }

    // CSV: one row per area, a column per criterion part and classification
    let csv = app.get_text("/v1/criteria?year=2024&format=csv").await;
    assert_eq!(app.get_text("/v1/criteria.csv?year=2024").await, csv, "the CSV operation answers the same");
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 49);
    assert!(lines[0].starts_with("area_id;area_name;municipality_code;population;outside_work_education_40_status;"), "{}", lines[0]);
    assert!(
        lines[0].ends_with(";forebyggelsesomraade;forebyggelsesomraade_nearest_exit;year;rules;boundary_version;dataset_version"),
        "{}",
        lines[0]
    );
    assert_eq!(lines[1].split(';').count(), lines[0].split(';').count());
    let what = format!(";2024;almenboligloven-2021;{};{}", body["boundary_version"].as_str().unwrap(), body["dataset_version"]);
    assert!(lines[1..].iter().all(|l| l.ends_with(&what)), "every row says what it is of: {what}");

    // one area, every year, the rule set valid for each
    let first = items[0]["area_id"].as_str().unwrap();
    let (status, area) = app.get_json(&format!("/v1/areas/{first}/criteria")).await;
    assert_eq!(status, 200);
    let years = area["years"].as_array().unwrap();
    assert_eq!(years.first().unwrap()["year"], 2013);
    assert_eq!(years.first().unwrap()["rules"], "ghettokriterier-2013");
    assert_eq!(years.last().unwrap()["rules"], "almenboligloven-2021");
    let latest = years.last().unwrap();
    assert_eq!(latest["classifications"], items[0]["classifications"]);
    let csv = app.get_text(&format!("/v1/areas/{first}/criteria?format=csv")).await;
    assert_eq!(app.get_text(&format!("/v1/areas/{first}/criteria.csv")).await, csv, "the CSV operation answers the same");
    let rows: Vec<&str> = csv.trim_start_matches('\u{feff}').trim_end().split("\r\n").collect();
    assert_eq!(
        rows[0],
        "area_id;year;rules;item;id;status;value;threshold;margin;criteria_met;criteria_required;nearest_exit;boundary_version;dataset_version"
    );
    // criteria met and required as two numbers (as "3/4" a spreadsheet reads a date)
    let classification = rows.iter().find(|r| r.contains(";classification;")).unwrap().split(';').collect::<Vec<_>>();
    let (met, required) = (classification[9].parse::<u32>().unwrap(), classification[10].parse::<u32>().unwrap());
    assert!(met <= required && required > 0, "{classification:?}");
    let expected: usize =
        years.iter().map(|y| y["criteria"].as_array().unwrap().len() + y["classifications"].as_array().unwrap().len()).sum();
    assert_eq!(rows.len() - 1, expected, "a row per year and criterion or classification");

    for (query, parameter) in [
        ("/v1/criteria", "year"),
        ("/v1/criteria?year=2030", "year"),
        ("/v1/criteria?year=2024&rules=nope", "rules"),
        ("/v1/criteria?year=2024&boundary=nope", "boundary"),
        ("/v1/criteria?year=2024&threshold=1", "threshold"),
        (&format!("/v1/areas/{first}/criteria?rules=nope"), "rules"),
    ] {
        let (status, body) = app.get_json(query).await;
        assert_eq!((status, body["parameter"].as_str()), (400, Some(parameter)), "{query}: {body}");
    }
    assert_eq!(app.get("/v1/areas/NOPE/criteria").await.status(), 404);

    // the map layer carries each classification per feature, as /v1/criteria has it
    let (status, layer) = app.get_json("/v1/map/areas?criteria_year=2024&geometry=false").await;
    assert_eq!(status, 200, "{layer}");
    assert_eq!((layer["mode"].as_str(), layer["rules"].as_str()), (Some("criteria"), Some("almenboligloven-2021")));
    assert_eq!(layer["classifications"].as_array().unwrap().len(), 4);
    for (feature, item) in layer["features"].as_array().unwrap().iter().zip(items) {
        assert_eq!(feature["id"], item["area_id"]);
        for c in item["classifications"].as_array().unwrap() {
            assert_eq!(feature["properties"][c["id"].as_str().unwrap()], c["status"], "{}", item["area_id"]);
        }
    }
    for (query, parameter) in [
        ("/v1/map/areas?rules=almenboligloven-2021", "rules"),
        ("/v1/map/areas?criteria_year=2024&indicator=non_western", "criteria_year"),
        ("/v1/map/areas?criteria_year=2031", "criteria_year"),
    ] {
        let (status, body) = app.get_json(query).await;
        assert_eq!((status, body["parameter"].as_str()), (400, Some(parameter)), "{query}: {body}");
    }
}

on_both_backends!(the_demo_answers);

/// An extract without the indicators the criteria read imports, and the listing says which
/// roles it lacks; a role mapped to another code and a region figure are taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extract_without_the_roles_says_what_it_lacks() {
    let db = TestDb::sqlite();
    let dir = copy_fixture("spec-extract");
    let manifest = dir.path().join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace(r#""contact": "ignored""#, r#""criteria_indicators": {"convicted": "doemte"}"#)).unwrap();
    let observations = dir.path().join("observations.csv");
    let mut text = std::fs::read_to_string(&observations).unwrap();
    text.push_str("region;1084;karakter;2023;7000;1000\r\n");
    std::fs::write(&observations, text).unwrap();
    let out = import(&db, dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let app = TestApp::on(&db).spawn().await;
    let (_, rules) = app.get_json("/v1/rules").await;
    let now = &rules["items"][0];
    assert_eq!(now["available"], false);
    assert_eq!(now["missing_roles"], serde_json::json!(["outside_work_education", "basic_education_only", "gross_income", "non_western"]));
    assert_eq!(now["indicators"], serde_json::json!({"convicted": "doemte"}));
    let (status, body) = app.get_json("/v1/criteria?year=2023&rules=almenboligloven-2021").await;
    assert_eq!(status, 400);
    assert_eq!(body["parameter"], "rules");
    assert!(body["detail"].as_str().unwrap().contains("outside_work_education"), "{body}");
}

/// A rule set an operator adds is served; one with a typo stops the start, naming file and key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_sets_from_a_directory() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let bundled = include_str!("../../src/rules/almenboligloven-2021.toml");
    std::fs::write(
        dir.path().join("2018.toml"),
        bundled.replace("almenboligloven-2021", "almenboligloven-2018").replace("years = 5", "years = 4"),
    )
    .unwrap();
    let demo = tempfile::tempdir().unwrap();
    assert!(cli(&["demo-extract", demo.path().to_str().unwrap()]).status.success());
    assert!(import(&db, demo.path()).status.success());
    let rules_dir = dir.path().to_path_buf();
    let app = TestApp::on(&db).with(move |s| s.criteria.rules_dir = Some(rules_dir)).spawn().await;
    let (_, body) = app.get_json("/v1/criteria?year=2024&rules=almenboligloven-2018").await;
    assert_eq!(body["rules"], "almenboligloven-2018", "{body}");

    std::fs::write(dir.path().join("typo.toml"), bundled.replace("role = \"convicted\"", "role = \"convictions\"")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_boligsocial"))
        .args(["--database-url", db.url(), "serve", "--listen", "127.0.0.1:0"])
        .env("BOLIGSOCIAL__CRITERIA__RULES_DIR", dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("typo.toml: criteria[1].role: unknown role \"convictions\""), "{err}");
}

/// criteria.md computed here from the extract's files alone, in exact rational arithmetic:
/// the rule sets as its table gives them, area figures from the departments of the default
/// delimitation, the disclosure rules, three-valued classifications, persistence and
/// nearest_exit. Compared field for field with /v1/criteria, on the demo and on a random
/// extract, on both backends.
mod independent {
    use std::collections::{BTreeMap, BTreeSet};

    /// An exact rational (n, d > 0).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Q(pub i128, pub i128);
    fn gcd(a: i128, b: i128) -> i128 {
        if b == 0 { a.abs() } else { gcd(b, a % b) }
    }
    impl Q {
        pub fn new(n: i128, d: i128) -> Q {
            let g = gcd(n, d).max(1);
            let (n, d) = (n / g, d / g);
            if d < 0 { Q(-n, -d) } else { Q(n, d) }
        }
        fn add(self, o: Q) -> Q {
            Q::new(self.0 * o.1 + o.0 * self.1, self.1 * o.1)
        }
        fn sub(self, o: Q) -> Q {
            Q::new(self.0 * o.1 - o.0 * self.1, self.1 * o.1)
        }
        fn mul(self, o: Q) -> Q {
            Q::new(self.0 * o.0, self.1 * o.1)
        }
        fn div(self, o: Q) -> Q {
            Q::new(self.0 * o.1, self.1 * o.0)
        }
        fn cmp(self, o: Q) -> std::cmp::Ordering {
            (self.0 * o.1).cmp(&(o.0 * self.1))
        }
        pub fn f(self) -> f64 {
            self.0 as f64 / self.1 as f64
        }
    }

    #[derive(Clone, Copy, PartialEq)]
    enum Test {
        Above,
        AtLeast,
        Below,
    }
    #[derive(Clone, Copy)]
    enum Th {
        Proportion(Q),
        Times(Q),
        Region(Q),
    }
    struct Crit {
        id: &'static str,
        role: &'static str,
        test: Test,
        th: Th,
        years: u16,
    }
    enum Class {
        KofN { id: &'static str, k: usize, of: &'static [&'static str], also: &'static [&'static str] },
        Persists { id: &'static str, of: &'static str, years: u16 },
    }
    pub struct Rules {
        pub id: &'static str,
        crits: Vec<Crit>,
        classes: Vec<Class>,
    }

    fn q(n: i128, d: i128) -> Q {
        Q::new(n, d)
    }

    /// criteria.md's table.
    pub fn rule_sets() -> Vec<Rules> {
        use Test::*;
        use Th::*;
        let c = |id, role, test, th, years| Crit { id, role, test, th, years };
        vec![
            Rules {
                id: "almenboligloven-2021",
                crits: vec![
                    c("outside_work_education_40", "outside_work_education", Above, Proportion(q(40, 100)), 2),
                    c("convicted_3x", "convicted", AtLeast, Times(q(3, 1)), 2),
                    c("basic_education_60", "basic_education_only", Above, Proportion(q(60, 100)), 1),
                    c("gross_income_55", "gross_income", Below, Region(q(55, 100)), 1),
                    c("non_western_50", "non_western", Above, Proportion(q(50, 100)), 1),
                    c("outside_work_education_30", "outside_work_education", Above, Proportion(q(30, 100)), 2),
                    c("convicted_2x", "convicted", AtLeast, Times(q(2, 1)), 2),
                    c("gross_income_65", "gross_income", Below, Region(q(65, 100)), 1),
                    c("non_western_30", "non_western", Above, Proportion(q(30, 100)), 1),
                ],
                classes: vec![
                    Class::KofN {
                        id: "udsat_boligomraade",
                        k: 2,
                        of: &["outside_work_education_40", "convicted_3x", "basic_education_60", "gross_income_55"],
                        also: &[],
                    },
                    Class::KofN {
                        id: "parallelsamfund",
                        k: 2,
                        of: &["outside_work_education_40", "convicted_3x", "basic_education_60", "gross_income_55"],
                        also: &["non_western_50"],
                    },
                    Class::Persists { id: "omdannelsesomraade", of: "parallelsamfund", years: 5 },
                    Class::KofN {
                        id: "forebyggelsesomraade",
                        k: 2,
                        of: &["outside_work_education_30", "convicted_2x", "basic_education_60", "gross_income_65"],
                        also: &["non_western_30"],
                    },
                ],
            },
            Rules {
                id: "ghettokriterier-2013",
                crits: vec![
                    c("outside_work_education_40", "outside_work_education", Above, Proportion(q(40, 100)), 2),
                    c("non_western_50", "non_western", Above, Proportion(q(50, 100)), 1),
                    c("convicted_2_7pct", "convicted", Above, Proportion(q(27, 1000)), 2),
                    c("basic_education_50", "basic_education_only", Above, Proportion(q(50, 100)), 1),
                    c("gross_income_55", "gross_income", Below, Region(q(55, 100)), 1),
                ],
                classes: vec![Class::KofN {
                    id: "ghettoomraade",
                    k: 3,
                    of: &["outside_work_education_40", "non_western_50", "convicted_2_7pct", "basic_education_50", "gross_income_55"],
                    also: &[],
                }],
            },
        ]
    }

    /// A figure: its value (in the indicator's unit) and denominator, or why there is none.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub enum Fig {
        Ok(Q, i128),
        Suppressed,
        Missing,
    }

    /// The files of an extract, as far as the criteria read them.
    #[derive(Default)]
    pub struct World {
        /// indicator code → kind
        kinds: BTreeMap<String, String>,
        region_of: BTreeMap<String, String>,
        /// default delimitation: area → departments
        pub areas: BTreeMap<String, Vec<String>>,
        /// (level, unit, indicator, year) → (numerator in tenths, denominator)
        rows: BTreeMap<(String, String, String, u16), (i128, i128)>,
        area_municipality: BTreeMap<String, String>,
    }

    /// Fields of a CSV line (RFC 4180 quotes, `,` or `;`).
    fn fields(line: &str, sep: char) -> Vec<String> {
        let (mut out, mut cur, mut quoted, mut chars) = (Vec::new(), String::new(), false, line.chars().peekable());
        while let Some(c) = chars.next() {
            match c {
                '"' if quoted && chars.peek() == Some(&'"') => {
                    cur.push('"');
                    chars.next();
                }
                '"' => quoted = !quoted,
                c if c == sep && !quoted => out.push(std::mem::take(&mut cur)),
                c => cur.push(c),
            }
        }
        out.push(cur);
        out
    }

    fn table(dir: &std::path::Path, name: &str) -> Vec<BTreeMap<String, String>> {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let text = text.trim_start_matches('\u{feff}');
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let head = lines.next().unwrap();
        let sep = if head.contains(';') { ';' } else { ',' };
        let names = fields(head, sep);
        lines.map(|l| names.iter().cloned().zip(fields(l, sep)).collect()).collect()
    }

    fn tenths(text: &str) -> i128 {
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        let negative = whole.starts_with('-');
        let w: i128 = whole.trim_start_matches('-').parse().unwrap_or(0);
        let f: i128 = frac.chars().next().map_or(0, |c| c.to_digit(10).unwrap() as i128);
        assert!(frac.len() <= 1, "one decimal at most: {text}");
        let v = w * 10 + f;
        if negative { -v } else { v }
    }

    impl World {
        pub fn read(dir: &std::path::Path) -> World {
            let mut w = World::default();
            let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
            let boundary = manifest["boundary_version"].as_str().unwrap().to_string();
            for r in table(dir, "indicators.csv") {
                w.kinds.insert(r["code"].clone(), r["kind"].clone());
            }
            for r in table(dir, "municipalities.csv") {
                let code = r["code"].trim_start_matches('0').to_string();
                w.region_of.insert(code, r.get("region_code").cloned().unwrap_or_default());
            }
            for r in table(dir, "areas.csv") {
                w.area_municipality.insert(r["area_id"].clone(), r["municipality_code"].trim_start_matches('0').to_string());
            }
            for r in table(dir, "area_departments.csv").into_iter().filter(|r| r["boundary_version"] == boundary) {
                w.areas.entry(r["area_id"].clone()).or_default().push(r["department_id"].clone());
            }
            for r in table(dir, "observations.csv") {
                let unit = if r["level"] == "municipality" || r["level"] == "social_housing" {
                    r["unit"].trim_start_matches('0').to_string()
                } else {
                    r["unit"].clone()
                };
                let key = (r["level"].clone(), unit, r["indicator"].clone(), r["year"].parse().unwrap());
                w.rows.insert(key, (tenths(&r["numerator"]), r["denominator"].parse().unwrap()));
            }
            w
        }

        fn factor(&self, role: &str) -> i128 {
            match self.kinds[role].as_str() {
                "share" => 100,
                "rate" => 1000,
                _ => 1,
            }
        }

        /// extract-format.md's disclosure rules, then the value.
        fn publish(&self, role: &str, c: Option<(i128, i128)>) -> Fig {
            let Some((n10, d)) = c else { return Fig::Missing };
            let small = |x10: i128| (10..50).contains(&x10);
            let suppressed = d < 20
                || match self.kinds[role].as_str() {
                    "share" => small(n10) || small(d * 10 - n10),
                    "rate" => small(n10),
                    _ => false,
                };
            if suppressed { Fig::Suppressed } else { Fig::Ok(Q::new(n10 * self.factor(role), d * 10), d) }
        }

        pub fn area(&self, area: &str, role: &str, year: u16) -> Fig {
            let mut sum: Option<(i128, i128)> = None;
            for dep in &self.areas[area] {
                if let Some(&(n, d)) = self.rows.get(&("department".into(), dep.clone(), role.into(), year)) {
                    let s = sum.get_or_insert((0, 0));
                    s.0 += n;
                    s.1 += d;
                }
            }
            self.publish(role, sum)
        }

        fn level(&self, level: &str, unit: &str, role: &str, year: u16) -> Fig {
            self.publish(role, self.rows.get(&(level.into(), unit.into(), role.into(), year)).copied())
        }

        /// The mean of a window's figures: suppressed over missing.
        fn mean(figs: &[Fig]) -> Fig {
            if figs.contains(&Fig::Suppressed) {
                return Fig::Suppressed;
            }
            if figs.contains(&Fig::Missing) {
                return Fig::Missing;
            }
            let sum = figs.iter().fold(Q(0, 1), |acc, f| if let Fig::Ok(v, _) = f { acc.add(*v) } else { acc });
            Fig::Ok(sum.div(Q(figs.len() as i128, 1)), 0)
        }

        /// criteria.md for one area, year and rule set: per criterion (status, value, threshold,
        /// margin, years) and per classification (status, met, required, nearest_exit), with the
        /// evaluations of earlier years for persistence.
        pub fn evaluate(&self, r: &Rules, area: &str, year: u16, earlier: &[Vec<(&'static str, String)>]) -> Evaluated {
            let municipality = &self.area_municipality[area];
            let region = self.region_of.get(municipality).cloned().unwrap_or_default();
            let mut crits = Vec::new();
            for c in &r.crits {
                let years: Vec<u16> = if c.years == 2 { vec![year - 1, year] } else { vec![year] };
                let value = World::mean(&years.iter().map(|&y| self.area(area, c.role, y)).collect::<Vec<_>>());
                let threshold = match c.th {
                    Th::Proportion(p) => Fig::Ok(p.mul(Q(self.factor(c.role), 1)), 0),
                    Th::Times(x) => match World::mean(&years.iter().map(|&y| self.level("country", "DK", c.role, y)).collect::<Vec<_>>()) {
                        Fig::Ok(v, _) => Fig::Ok(v.mul(x), 0),
                        other => other,
                    },
                    Th::Region(x) => {
                        match World::mean(&years.iter().map(|&y| self.level("region", &region, c.role, y)).collect::<Vec<_>>()) {
                            Fig::Ok(v, _) => Fig::Ok(v.mul(x), 0),
                            other => other,
                        }
                    }
                };
                let outcome = match (value, threshold) {
                    (Fig::Ok(v, _), Fig::Ok(t, _)) => {
                        let met = match c.test {
                            Test::Above => v.cmp(t).is_gt(),
                            Test::AtLeast => v.cmp(t).is_ge(),
                            Test::Below => v.cmp(t).is_lt(),
                        };
                        let margin = if c.test == Test::Below { t.sub(v) } else { v.sub(t) };
                        Crit2 {
                            id: c.id,
                            status: if met { "met" } else { "not_met" },
                            value: Some(v),
                            threshold: Some(t),
                            margin: Some(margin),
                            years,
                        }
                    }
                    (Fig::Suppressed, _) | (_, Fig::Suppressed) => {
                        Crit2 { id: c.id, status: "suppressed", value: None, threshold: None, margin: None, years }
                    }
                    _ => Crit2 { id: c.id, status: "missing", value: None, threshold: None, margin: None, years },
                };
                crits.push(outcome);
            }
            let population = match self.area(area, "non_western", year) {
                Fig::Ok(_, d) => Some(d),
                _ => None,
            };
            let and = |parts: &[&str]| {
                if parts.contains(&"no") {
                    "no"
                } else if parts.iter().all(|p| *p == "yes") {
                    "yes"
                } else {
                    "undetermined"
                }
            };
            let mut classes: Vec<Class2> = Vec::new();
            for cl in &r.classes {
                match cl {
                    Class::KofN { id, k, of, also } => {
                        let find = |x: &str| crits.iter().find(|c| c.id == x).unwrap();
                        let met = of.iter().filter(|x| find(x).status == "met").count();
                        let unknown = of.iter().filter(|x| ["suppressed", "missing"].contains(&find(x).status)).count();
                        let kofn = if met >= *k {
                            "yes"
                        } else if met + unknown < *k {
                            "no"
                        } else {
                            "undetermined"
                        };
                        let pop = match population {
                            Some(p) if p >= 1000 => "yes",
                            Some(_) => "no",
                            None => "undetermined",
                        };
                        let mut parts = vec![kofn, pop];
                        for x in *also {
                            parts.push(match find(x).status {
                                "met" => "yes",
                                "not_met" => "no",
                                _ => "undetermined",
                            });
                        }
                        let status = and(&parts);
                        let mut exit = Vec::new();
                        if status == "yes" {
                            let mut held: Vec<(Q, &str)> = of
                                .iter()
                                .map(|x| find(x))
                                .filter(|c| c.status == "met")
                                .map(|c| {
                                    let t = c.threshold.unwrap();
                                    (c.margin.unwrap().div(Q(t.0.abs(), t.1)), c.id)
                                })
                                .collect();
                            held.sort_by(|a, b| a.0.cmp(b.0).then(a.1.cmp(b.1)));
                            exit = held.into_iter().take(met + 1 - k).map(|x| x.1.to_string()).collect();
                        }
                        classes.push(Class2 { id, status: status.to_string(), met, required: *k, exit });
                    }
                    Class::Persists { id, of, years } => {
                        let now = classes.iter().find(|c| c.id == *of).unwrap().status.clone();
                        let mut verdicts = vec![now];
                        for back in 1..*years as usize {
                            let v = earlier
                                .len()
                                .checked_sub(back)
                                .map(|i| earlier[i].iter().find(|(x, _)| x == of).unwrap().1.clone())
                                .unwrap_or_else(|| "undetermined".into());
                            verdicts.push(v);
                        }
                        let held = verdicts.iter().filter(|v| *v == "yes").count();
                        let parts: Vec<&str> = verdicts.iter().map(String::as_str).collect();
                        classes.push(Class2 {
                            id,
                            status: and(&parts).to_string(),
                            met: held,
                            required: *years as usize,
                            exit: Vec::new(),
                        });
                    }
                }
            }
            Evaluated { population, crits, classes }
        }
    }

    pub struct Crit2 {
        pub id: &'static str,
        pub status: &'static str,
        pub value: Option<Q>,
        pub threshold: Option<Q>,
        pub margin: Option<Q>,
        pub years: Vec<u16>,
    }
    pub struct Class2 {
        pub id: &'static str,
        pub status: String,
        pub met: usize,
        pub required: usize,
        pub exit: Vec<String>,
    }
    pub struct Evaluated {
        pub population: Option<i128>,
        pub crits: Vec<Crit2>,
        pub classes: Vec<Class2>,
    }

    impl Evaluated {
        pub fn verdicts(&self) -> Vec<(&'static str, String)> {
            self.classes.iter().map(|c| (c.id, c.status.clone())).collect()
        }
    }

    /// The years a criterion's figures exist for any area, ascending: what the service
    /// evaluates (from the first to the last year of any role's data).
    pub fn years(w: &World) -> Vec<u16> {
        let roles = ["outside_work_education", "convicted", "basic_education_only", "gross_income", "non_western"];
        let ys: BTreeSet<u16> = w.rows.keys().filter(|k| k.0 == "department" && roles.contains(&k.2.as_str())).map(|k| k.3).collect();
        match (ys.first(), ys.last()) {
            (Some(&a), Some(&b)) => (a..=b).collect(),
            _ => Vec::new(),
        }
    }
}

/// Writes a random extract for the criteria: areas near every threshold, small counts,
/// years without data, a region per municipality, conviction as a rate.
fn random_extract(dir: &std::path::Path, seed: u64) {
    use std::fmt::Write as _;
    let mut state = seed;
    let mut next = move |n: u64| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    let municipalities = [(101, "1084"), (751, "1082"), (461, "1083"), (851, "1081")];
    let files = [
        ("manifest.json", r#"{"format":"boligsocial-extract","version":1,"title":"Tilfældige kriterier","source":"tests/criteria.rs","boundary_version":"B"}"#.to_string()),
        (
            "indicators.csv",
            "code,name_da,name_en,kind,direction,population_da,population_en\n\
             outside_work_education,U,U,share,lower_is_better,a,a\n\
             convicted,D,D,rate,lower_is_better,a,a\n\
             basic_education_only,G,G,share,lower_is_better,a,a\n\
             gross_income,I,I,mean,higher_is_better,a,a\n\
             non_western,N,N,share,neutral,a,a\n"
                .to_string(),
        ),
        ("municipalities.csv", {
            let mut s = "code,name,region_code\n".to_string();
            for (m, r) in municipalities {
                writeln!(s, "{m},K{m},{r}").unwrap();
            }
            s
        }),
    ];
    let mut departments = "department_id,name,municipality_code\n".to_string();
    let mut areas = "area_id,name,municipality_code\n".to_string();
    let mut members = "boundary_version,area_id,department_id\n".to_string();
    let mut observations = "level,unit,indicator,year,numerator,denominator\n".to_string();
    let years = 2013u16..=2024;
    for a in 0..40 {
        let (m, _) = municipalities[a % 4];
        writeln!(areas, "A{a},Område {a},{m}").unwrap();
        // where the area stands: near the thresholds, one side or the other
        let owe = [28.0, 35.0, 39.5, 40.0, 41.0, 48.0][next(6) as usize];
        let convicted_times = [1.0, 1.9, 2.0, 2.5, 3.0, 3.6][next(6) as usize];
        let basic = [45.0, 50.0, 55.0, 60.0, 62.0][next(5) as usize];
        let income = [0.5, 0.55, 0.6, 0.65, 0.8][next(5) as usize];
        let nw = [20.0, 30.0, 35.0, 50.0, 60.0][next(5) as usize];
        let residents = [600u64, 990, 1000, 1500, 3000][next(5) as usize];
        let deps = 1 + next(3) as usize;
        for k in 0..deps {
            let id = format!("{m:04}-{a:03}{k}");
            writeln!(departments, "{id},Afd {id},{m}").unwrap();
            writeln!(members, "B,A{a},{id}").unwrap();
        }
        for y in years.clone() {
            for (role, value, d) in [
                ("outside_work_education", owe, residents * 6 / 10),
                ("convicted", convicted_times * 15.0, residents * 8 / 10),
                ("basic_education_only", basic, residents * 4 / 10),
                ("gross_income", income * 300.0, residents / 2),
                ("non_western", nw, residents),
            ] {
                if next(100) < 6 {
                    continue; // a year without data
                }
                // split over the departments; now and then a count small enough to be suppressed
                let tiny = next(100) < 5;
                let per = (d / deps as u64).max(1);
                for k in 0..deps {
                    let id = format!("{m:04}-{a:03}{k}");
                    let n = if role == "gross_income" {
                        format!("{:.1}", value * per as f64)
                    } else if tiny {
                        (1 + next(4)).to_string()
                    } else {
                        let factor = if role == "convicted" { 1000.0 } else { 100.0 };
                        ((value / factor * per as f64).round() as u64).min(per).to_string()
                    };
                    writeln!(observations, "department,{id},{role},{y},{n},{per}").unwrap();
                }
            }
        }
    }
    for y in years {
        // the country's conviction rate: 15 per 1,000; the regions' income around 300
        writeln!(observations, "country,DK,convicted,{y},{},{}", 15 * 4000 + next(3) as i64 * 1000, 4_000_000).unwrap();
        for (_, r) in municipalities {
            let income = 300.0 + next(3) as f64;
            writeln!(observations, "region,{r},gross_income,{y},{:.1},{}", income * 500_000.0, 500_000).unwrap();
        }
    }
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    std::fs::write(dir.join("departments.csv"), departments).unwrap();
    std::fs::write(dir.join("areas.csv"), areas).unwrap();
    std::fs::write(dir.join("area_departments.csv"), members).unwrap();
    std::fs::write(dir.join("observations.csv"), observations).unwrap();
}

/// Every criterion and classification field of /v1/criteria against the independent
/// computation, for both rule sets and every year.
async fn agrees_with(app: &TestApp, dir: &std::path::Path) -> (usize, BTreeMap<String, usize>) {
    use independent::*;
    let w = World::read(dir);
    let years = years(&w);
    let (mut checked, mut seen) = (0, BTreeMap::<String, usize>::new());
    for r in rule_sets() {
        let mut earlier: BTreeMap<String, Vec<Vec<(&'static str, String)>>> = BTreeMap::new();
        for &year in &years {
            let path = format!("/v1/criteria?year={year}&rules={}", r.id);
            let (status, body) = app.get_json(&path).await;
            assert_eq!(status, 200, "{path}: {body}");
            let items = body["items"].as_array().unwrap();
            assert_eq!(items.len(), w.areas.len(), "{path}");
            for item in items {
                let area = item["area_id"].as_str().unwrap();
                let before = earlier.entry(area.to_string()).or_default();
                let want = w.evaluate(&r, area, year, before);
                let what = format!("{path} {area}");
                assert_eq!(item["population"].as_f64(), want.population.map(|p| p as f64), "{what} population");
                let got = item["criteria"].as_array().unwrap();
                assert_eq!(got.len(), want.crits.len(), "{what}");
                for (g, c) in got.iter().zip(&want.crits) {
                    let what = format!("{what} {}", c.id);
                    assert_eq!(g["id"], c.id, "{what}");
                    assert_eq!(g["status"], c.status, "{what} status ({:?} vs {:?})", c.value.map(Q::f), c.threshold.map(Q::f));
                    assert_eq!(g["years"], serde_json::json!(c.years), "{what} years");
                    for (field, v) in [("value", c.value), ("threshold", c.threshold), ("margin", c.margin)] {
                        match v {
                            None => assert!(g[field].is_null(), "{what} {field}"),
                            Some(v) => {
                                let x = g[field].as_f64().unwrap_or_else(|| panic!("{what} {field}: {g}"));
                                assert!((x - v.f()).abs() <= 1e-9 * v.f().abs().max(1.0), "{what} {field}: {x} vs {}", v.f());
                            }
                        }
                    }
                    *seen.entry(format!("criterion {}", c.status)).or_default() += 1;
                }
                for (g, c) in item["classifications"].as_array().unwrap().iter().zip(&want.classes) {
                    let what = format!("{what} {}", c.id);
                    assert_eq!(g["id"], c.id, "{what}");
                    assert_eq!(g["status"], c.status.as_str(), "{what} status");
                    assert_eq!(g["criteria_met"], c.met, "{what} criteria_met");
                    assert_eq!(g["criteria_required"], c.required, "{what} criteria_required");
                    assert_eq!(g["nearest_exit"], serde_json::json!(c.exit), "{what} nearest_exit");
                    *seen.entry(format!("{} {}", c.id, c.status)).or_default() += 1;
                    checked += 1;
                }
                before.push(want.verdicts());
            }
        }
    }
    (checked, seen)
}

async fn agrees_with_an_independent_computation(db: TestDb) {
    // the demo
    let demo = tempfile::tempdir().unwrap();
    assert!(cli(&["demo-extract", demo.path().to_str().unwrap()]).status.success());
    assert!(import(&db, demo.path()).status.success());
    let app = TestApp::on(&db).spawn().await;
    let (checked, seen) = agrees_with(&app, demo.path()).await;
    assert!(checked > 1000, "{checked}");
    for s in
        ["omdannelsesomraade yes", "parallelsamfund yes", "udsat_boligomraade undetermined", "ghettoomraade yes", "criterion suppressed"]
    {
        assert!(seen.contains_key(s), "the demo has {s}: {seen:?}");
    }
    drop(app);
    // a random extract, near every threshold
    let other = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    random_extract(dir.path(), 2026);
    let out = import(if db.is_sqlite() { &other } else { &db }, dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let app = TestApp::on(if db.is_sqlite() { &other } else { &db }).spawn().await;
    let (checked, seen) = agrees_with(&app, dir.path()).await;
    assert!(checked > 1000, "{checked}");
    for s in [
        "criterion met",
        "criterion not_met",
        "criterion suppressed",
        "criterion missing",
        "udsat_boligomraade undetermined",
        "udsat_boligomraade yes",
    ] {
        assert!(seen.contains_key(s), "the random extract has {s}: {seen:?}");
    }
}

mod computed {
    use super::*;
    on_both_backends!(agrees_with_an_independent_computation);
}
