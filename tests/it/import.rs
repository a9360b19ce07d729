//! `boligsocial import` against SQLite and PostgreSQL: extracts written to the spec by hand
//! (tests/fixtures/spec-extract: `;`, byte-order marks, CRLF, quoted fields, shuffled and
//! extra columns, four-digit municipality codes, decimal commas, EPSG:25832 geometry),
//! zips, re-imports, and one broken extract per validation rule, each rejected with its
//! file, line and column while the served data stays the same, byte for byte.

use std::path::Path;

use crate::common::*;

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

fn append(dir: &Path, file: &str, line: &str) {
    let path = dir.join(file);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(line);
    text.push_str("\r\n");
    std::fs::write(&path, text).unwrap();
}

fn edit_geojson(dir: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("areas.geojson");
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

/// Adds municipality outlines (municipalities.geojson) with one Feature per (code, ring).
fn add_outlines(dir: &Path, features: &[(&str, serde_json::Value)]) {
    let features: Vec<serde_json::Value> = features
        .iter()
        .map(|(code, ring)| {
            serde_json::json!({"type": "Feature", "properties": {"municipality_code": code},
                               "geometry": {"type": "Polygon", "coordinates": [ring]}})
        })
        .collect();
    let text = serde_json::to_string_pretty(&serde_json::json!({"type": "FeatureCollection", "features": features})).unwrap();
    std::fs::write(dir.join("municipalities.geojson"), text).unwrap();
}

fn square(lon: f64, lat: f64) -> serde_json::Value {
    serde_json::json!([[lon, lat], [lon + 0.1, lat], [lon + 0.1, lat + 0.1], [lon, lat + 0.1], [lon, lat]])
}

/// A broken extract: how to break the fixture, and what stderr must say.
/// Names the fixture's housing organisations (organisations.csv, `rows` after its header) and
/// gives the municipalities CVR numbers (`cvrs` for København, Aarhus and Bornholm).
fn add_organisations(dir: &Path, rows: &str, cvrs: [&str; 3]) {
    std::fs::write(dir.join("organisations.csv"), format!("\u{feff}organisation_id;name;cvr\r\n{rows}")).unwrap();
    let [kbh, aarhus, bornholm] = cvrs;
    std::fs::write(
        dir.join("municipalities.csv"),
        format!("\u{feff}code;name;region_code;cvr\r\n0101;København;1084;{kbh}\r\n0751;Aarhus;1082;{aarhus}\r\n0400;Bornholm;1084;{bornholm}\r\n"),
    )
    .unwrap();
}

/// Adds the plans' two files (`plans` and `departments` rows after their headers; `None`
/// leaves that file out).
fn add_plans(dir: &Path, plans: Option<&str>, departments: Option<&str>) {
    if let Some(rows) = plans {
        std::fs::write(dir.join("plans.csv"), format!("\u{feff}plan_id;area_id;name;from_year;to_year\r\n{rows}")).unwrap();
    }
    if let Some(rows) = departments {
        std::fs::write(dir.join("plan_departments.csv"), format!("\u{feff}plan_id;department_id\r\n{rows}")).unwrap();
    }
}

/// Two periods of Nordområdet's plan, the second spreading to another department, and
/// Vestparken's, whose department is in its area under the 2024 delimitation only.
const PLANS: &str = "P1;KBH-1;Helhedsplan Nordområdet 2015-2018;2015;2018\r\nP2;KBH-1;Helhedsplan Nordområdet 2019-2022;2019;2022\r\nP3;AAR-1;Vestparken;2017;2020\r\n";
const PLAN_DEPARTMENTS: &str = "P1;0101-0001\r\nP2;0101-0001\r\nP2;0101-0002\r\nP3;0751-0002\r\n";

const ORGANISATIONS: &str = "FSB;Fællesforeningen for Danmarks Brugsforeninger;11111111\r\nBrabrand Boligforening;Brabrand Boligforening;22222222\r\nBOBO;Bornholms Boligforening;33333333\r\n";

struct Case {
    rule: &'static str,
    breaks: fn(&Path),
    expect: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        rule: "unknown indicator",
        breaks: |d| edit(d, "observations.csv", "department;0101-0001;udenfor;2015;40;100", "department;0101-0001;ukendt;2015;40;100"),
        expect: &["observations.csv:2:3: unknown indicator \"ukendt\""],
    },
    Case {
        rule: "unknown unit",
        breaks: |d| edit(d, "observations.csv", "department;0101-0001;udenfor;2019;35;100", "department;9999-0001;udenfor;2019;35;100"),
        expect: &["observations.csv:3:2: unknown department \"9999-0001\""],
    },
    Case {
        rule: "unknown country unit",
        breaks: |d| edit(d, "observations.csv", "country;DK;udenfor;2015", "country;SE;udenfor;2015"),
        expect: &["observations.csv:32:2: the country's unit is \"DK\""],
    },
    Case {
        rule: "unknown municipality",
        breaks: |d| edit(d, "departments.csv", "0101-0003;Afd. 3;101;FSB", "0101-0003;Afd. 3;102;FSB"),
        expect: &["departments.csv:4:3: unknown municipality 102"],
    },
    Case {
        rule: "unknown area",
        breaks: |d| edit(d, "area_departments.csv", "2020-01;AAR-1;0751-0001", "2020-01;AAR-9;0751-0001"),
        expect: &["area_departments.csv:8:2: unknown area \"AAR-9\""],
    },
    Case {
        rule: "unknown department in a delimitation",
        breaks: |d| edit(d, "area_departments.csv", "2020-01;KBH-1;0101-0001", "2020-01;KBH-1;0101-0009"),
        expect: &["area_departments.csv:7:3: unknown department \"0101-0009\""],
    },
    Case {
        rule: "duplicate observation",
        breaks: |d| append(d, "observations.csv", "department;0101-0001;udenfor;2015;41;100"),
        expect: &["observations.csv:101:1: duplicate observation", "line 2"],
    },
    Case {
        rule: "duplicate department id",
        breaks: |d| edit(d, "departments.csv", "0101-0003;Afd. 3;101;FSB", "0101-0002;Afd. 3;101;FSB"),
        expect: &["departments.csv:4:1: duplicate department_id \"0101-0002\""],
    },
    Case {
        rule: "duplicate area id",
        breaks: |d| edit(d, "areas.csv", "0400;BOR-1;Rønneparken", "0400;AAR-1;Rønneparken"),
        expect: &["areas.csv:4:2: duplicate area_id \"AAR-1\""],
    },
    Case {
        rule: "duplicate indicator code",
        breaks: |d| edit(d, "indicators.csv", "share;boern;neutral", "share;doemte;neutral"),
        expect: &["indicators.csv:5:2: duplicate indicator code \"doemte\""],
    },
    Case {
        rule: "duplicate municipality, in its two forms",
        breaks: |d| append(d, "municipalities.csv", "101;København igen;1084"),
        expect: &["municipalities.csv:5:1: duplicate municipality code 101"],
    },
    Case {
        rule: "numerator greater than denominator for a share",
        breaks: |d| edit(d, "observations.csv", "department;0101-0001;udenfor;2023;30;105", "department;0101-0001;udenfor;2023;130;105"),
        expect: &["observations.csv:4:5: numerator 130 is greater than denominator 105"],
    },
    Case {
        rule: "negative count",
        breaks: |d| edit(d, "observations.csv", "department;0101-0002;udenfor;2015;30;80", "department;0101-0002;udenfor;2015;-30;80"),
        expect: &["observations.csv:5:5: numerator -30 must not be negative"],
    },
    Case {
        rule: "non-numeric count",
        breaks: |d| edit(d, "observations.csv", "department;0101-0002;udenfor;2023;20;82", "department;0101-0002;udenfor;2023;20;mange"),
        expect: &["observations.csv:6:6: denominator \"mange\" is not a number"],
    },
    Case {
        rule: "fractional count",
        breaks: |d| edit(d, "observations.csv", "department;0101-0003;udenfor;2015;10;50", "department;0101-0003;udenfor;2015;10,5;50"),
        expect: &["observations.csv:7:5: numerator 10,5 must be a whole number"],
    },
    Case {
        rule: "fractional denominator for a mean",
        breaks: |d| {
            edit(d, "observations.csv", "department;0751-0002;karakter;2015;80,4;15", "department;0751-0002;karakter;2015;80,4;15,5")
        },
        expect: &["observations.csv:65:6: denominator 15,5 must be a whole number"],
    },
    Case {
        rule: "year out of range",
        breaks: |d| edit(d, "observations.csv", "department;0101-0003;udenfor;2019;9;50", "department;0101-0003;udenfor;1899;9;50"),
        expect: &["observations.csv:8:4: year 1899 is outside 1900 to 2100"],
    },
    Case {
        rule: "zero denominator",
        breaks: |d| edit(d, "observations.csv", "department;0751-0001;udenfor;2015;50;120", "department;0751-0001;udenfor;2015;0;0"),
        expect: &["observations.csv:10:6: denominator must be greater than 0"],
    },
    Case {
        rule: "unknown level",
        breaks: |d| edit(d, "observations.csv", "department;0101-0003;udenfor;2023;8;52", "afdeling;0101-0003;udenfor;2023;8;52"),
        expect: &["observations.csv:9:1: level \"afdeling\""],
    },
    Case {
        rule: "missing file",
        breaks: |d| std::fs::remove_file(d.join("area_departments.csv")).unwrap(),
        expect: &["area_departments.csv: the file is missing"],
    },
    Case {
        rule: "missing column",
        breaks: |d| edit(d, "observations.csv", "numerator;denominator", "numerator;naevner"),
        expect: &["observations.csv:1: missing required column \"denominator\""],
    },
    Case {
        rule: "empty required cell",
        breaks: |d| edit(d, "areas.csv", "751;AAR-1;Vestparken", "751;AAR-1;"),
        expect: &["areas.csv:3:3: name is empty"],
    },
    Case {
        rule: "invalid municipality code",
        breaks: |d| edit(d, "municipalities.csv", "0400;Bornholm", "04000;Bornholm"),
        expect: &["municipalities.csv:4:1: \"04000\" is not a municipality code"],
    },
    Case {
        rule: "an area without a department in the default delimitation",
        breaks: |d| edit(d, "area_departments.csv", "2024-09;BOR-1;0400-0001\r\n", ""),
        expect: &["areas.csv:4:1: area \"BOR-1\" has no department in the default boundary version \"2024-09\""],
    },
    Case {
        rule: "a department in two areas of one delimitation",
        breaks: |d| append(d, "area_departments.csv", "2024-09;AAR-1;0101-0001"),
        expect: &["area_departments.csv:9:3: department \"0101-0001\" is already in area \"KBH-1\""],
    },
    Case {
        rule: "an unclosed ring",
        breaks: |d| edit_geojson(d, |g| g["features"][0]["geometry"]["coordinates"][0][4] = serde_json::json!([719925.0, 6178243.0])),
        expect: &["areas.geojson:", "invalid geometry for area \"KBH-1\": ring is not closed"],
    },
    Case {
        rule: "a geometry that is not a polygon",
        breaks: |d| {
            edit_geojson(d, |g| g["features"][1]["geometry"] = serde_json::json!({"type": "Point", "coordinates": [570821.9, 6223359.5]}))
        },
        expect: &["areas.geojson:", "geometry type Point is not Polygon or MultiPolygon"],
    },
    Case {
        rule: "a ring with too few positions",
        breaks: |d| {
            edit_geojson(d, |g| {
                g["features"][2]["geometry"]["coordinates"][0][0] =
                    serde_json::json!([[863505.6, 6120769.3], [863887.8, 6120800.6], [863505.6, 6120769.3]])
            })
        },
        expect: &["areas.geojson:", "a ring needs at least four positions"],
    },
    Case {
        rule: "a ring that crosses itself",
        breaks: |d| {
            edit_geojson(d, |g| {
                let ring = &mut g["features"][0]["geometry"]["coordinates"][0];
                let (a, b) = (ring[1].clone(), ring[2].clone());
                ring[1] = b;
                ring[2] = a;
            })
        },
        expect: &["areas.geojson:", "invalid geometry for area \"KBH-1\": the exterior ring crosses itself"],
    },
    Case {
        rule: "a hole outside its exterior",
        breaks: |d| {
            edit_geojson(d, |g| {
                let hole = serde_json::json!([
                    [722000.0, 6178300.0],
                    [722000.0, 6178400.0],
                    [722100.0, 6178400.0],
                    [722100.0, 6178300.0],
                    [722000.0, 6178300.0]
                ]);
                g["features"][0]["geometry"]["coordinates"].as_array_mut().unwrap().push(hole);
            })
        },
        expect: &["areas.geojson:", "invalid geometry for area \"KBH-1\": hole 1 lies outside the exterior ring"],
    },
    Case {
        rule: "a ring without area",
        breaks: |d| {
            edit_geojson(d, |g| {
                g["features"][0]["geometry"]["coordinates"][0] =
                    serde_json::json!([[719925.0, 6178243.0], [720000.0, 6178243.0], [720100.0, 6178243.0], [719925.0, 6178243.0]])
            })
        },
        expect: &["areas.geojson:", "invalid geometry for area \"KBH-1\": the exterior ring encloses no area"],
    },
    Case {
        rule: "no area at all (the default delimitation would be empty)",
        breaks: |d| {
            std::fs::write(d.join("areas.csv"), "\u{feff}municipality_code;area_id;name\r\n").unwrap();
            std::fs::write(d.join("area_departments.csv"), "boundary_version;area_id;department_id\n").unwrap();
            std::fs::remove_file(d.join("areas.geojson")).unwrap();
        },
        expect: &["areas.csv:1:1: areas.csv lists no area", "1 problem(s)"],
    },
    Case {
        rule: "a member of the features that is not a Feature",
        breaks: |d| edit_geojson(d, |g| g["features"][1]["type"] = serde_json::json!("Geometry")),
        expect: &["areas.geojson:", "each member of \"features\" must be a Feature"],
    },
    Case {
        rule: "an area in areas.geojson that areas.csv lacks",
        breaks: |d| edit_geojson(d, |g| g["features"][2]["properties"]["area_id"] = serde_json::json!("ODE-1")),
        expect: &["areas.geojson:", "unknown area \"ODE-1\": not in areas.csv"],
    },
    Case {
        rule: "an unsupported coordinate reference system",
        breaks: |d| edit_geojson(d, |g| g["crs"]["properties"]["name"] = serde_json::json!("urn:ogc:def:crs:EPSG::3857")),
        expect: &["areas.geojson:", "unsupported crs"],
    },
    Case {
        rule: "a municipality outline for a municipality that municipalities.csv lacks",
        breaks: |d| add_outlines(d, &[("0101", square(12.5, 55.6)), ("0147", square(12.4, 55.6))]),
        expect: &["municipalities.geojson:", "unknown municipality 147: not in municipalities.csv"],
    },
    Case {
        rule: "an invalid municipality outline",
        breaks: |d| add_outlines(d, &[("101", serde_json::json!([[12.5, 55.6], [12.6, 55.6], [12.5, 55.6]]))]),
        expect: &["municipalities.geojson:", "invalid geometry for municipality 101: a ring needs at least four positions"],
    },
    Case {
        rule: "a municipality outline without its code",
        breaks: |d| add_outlines(d, &[("", square(12.5, 55.6))]),
        expect: &["municipalities.geojson:", "properties.municipality_code must be a municipality code"],
    },
    Case {
        rule: "a manifest of another format",
        breaks: |d| edit(d, "manifest.json", "\"boligsocial-extract\"", "\"something-else\""),
        expect: &["manifest.json:2:", "format must be \"boligsocial-extract\""],
    },
    Case {
        rule: "invalid JSON",
        breaks: |d| edit(d, "manifest.json", "\"version\": 1,", "\"version\": 1,,"),
        expect: &["manifest.json:", "invalid JSON"],
    },
    Case {
        rule: "an invalid kind",
        breaks: |d| edit(d, "indicators.csv", "mean;karakter", "average;karakter"),
        expect: &["indicators.csv:4:1: kind \"average\" must be share, rate or mean"],
    },
    Case {
        rule: "a region no municipality names",
        breaks: |d| append(d, "observations.csv", "region;1089;udenfor;2015;10;100"),
        expect: &["observations.csv:101:2: unknown region \"1089\""],
    },
    Case {
        rule: "an unknown role in criteria_indicators",
        breaks: |d| edit(d, "manifest.json", r#""contact": "ignored""#, r#""criteria_indicators": {"doemt": "doemte"}"#),
        expect: &["manifest.json:7:", "criteria_indicators names an unknown role \"doemt\""],
    },
    Case {
        rule: "an unknown indicator in criteria_indicators",
        breaks: |d| edit(d, "manifest.json", r#""contact": "ignored""#, r#""criteria_indicators": {"convicted": "doemt"}"#),
        expect: &["manifest.json:7:", "criteria_indicators.convicted: unknown indicator \"doemt\""],
    },
    Case {
        rule: "a role's indicator of the wrong kind",
        breaks: |d| edit(d, "manifest.json", r#""contact": "ignored""#, r#""criteria_indicators": {"gross_income": "doemte"}"#),
        expect: &["manifest.json:7:", "indicator \"doemte\" is a rate, the role needs a mean"],
    },
    Case {
        rule: "a CVR number that is not eight digits",
        breaks: |d| add_organisations(d, &ORGANISATIONS.replace("11111111", "1111111"), ["29189846", "55133018", ""]),
        expect: &["organisations.csv:2:3: cvr \"1111111\" must be eight digits"],
    },
    Case {
        rule: "a municipality's CVR number that is not eight digits",
        breaks: |d| add_organisations(d, ORGANISATIONS, ["29189846", "5513301x", ""]),
        expect: &["municipalities.csv:3:4: cvr \"5513301x\" must be eight digits"],
    },
    Case {
        rule: "one CVR number for a municipality and an organisation",
        breaks: |d| add_organisations(d, ORGANISATIONS, ["29189846", "22222222", ""]),
        expect: &["organisations.csv:3:3: cvr 22222222 is named already in municipalities.csv", "1 problem(s)"],
    },
    Case {
        rule: "one CVR number for two organisations",
        breaks: |d| add_organisations(d, &ORGANISATIONS.replace("33333333", "11111111"), ["29189846", "55133018", ""]),
        expect: &["organisations.csv:4:3: cvr 11111111 is named already in organisations.csv"],
    },
    Case {
        rule: "an organisation named twice",
        breaks: |d| add_organisations(d, &format!("{ORGANISATIONS}FSB;Igen;44444444\r\n"), ["29189846", "55133018", ""]),
        expect: &["organisations.csv:5:1: duplicate organisation_id \"FSB\""],
    },
    Case {
        rule: "a department's organisation that organisations.csv lacks",
        breaks: |d| {
            add_organisations(d, &ORGANISATIONS.replace("BOBO;Bornholms Boligforening;33333333\r\n", ""), ["29189846", "55133018", ""])
        },
        expect: &["departments.csv:7:4: unknown organisation \"BOBO\": not in organisations.csv", "1 problem(s)"],
    },
    Case {
        rule: "problems in several files, all in one pass",
        breaks: |d| {
            edit(d, "departments.csv", "0101-0003;Afd. 3;101;FSB", "0101-0003;Afd. 3;102;FSB");
            edit(d, "observations.csv", "department;0101-0001;udenfor;2015;40;100", "department;0101-0001;udenfor;2015;40;x");
        },
        expect: &["departments.csv:4:3", "observations.csv:2:6", "2 problem(s)"],
    },
    Case {
        rule: "a plan of an unknown area",
        breaks: |d| add_plans(d, Some(&PLANS.replace("P1;KBH-1", "P1;KBH-9")), Some(PLAN_DEPARTMENTS)),
        expect: &["plans.csv:2:2: unknown area \"KBH-9\": not in areas.csv"],
    },
    Case {
        rule: "a plan ending before it begins",
        breaks: |d| add_plans(d, Some(&PLANS.replace("2017;2020", "2020;2017")), Some(PLAN_DEPARTMENTS)),
        expect: &["plans.csv:4:5: to_year 2017 is before from_year 2020", "1 problem(s)"],
    },
    Case {
        rule: "a plan's year out of range, a plan_id twice",
        breaks: |d| {
            add_plans(d, Some(&format!("{}P2;BOR-1;Igen;2019;2022\r\n", PLANS.replace("2015;2018", "1815;2018"))), Some(PLAN_DEPARTMENTS))
        },
        expect: &["plans.csv:2:4: from_year 1815 is outside 1900 to 2100", "plans.csv:5:1: duplicate plan_id \"P2\""],
    },
    Case {
        rule: "a plan without departments",
        breaks: |d| add_plans(d, Some(PLANS), Some(&PLAN_DEPARTMENTS.replace("P3;0751-0002\r\n", ""))),
        expect: &["plans.csv:4:1: plan \"P3\" covers no department in plan_departments.csv", "1 problem(s)"],
    },
    Case {
        rule: "a plan's unknown department, and a row twice",
        breaks: |d| add_plans(d, Some(PLANS), Some(&format!("{PLAN_DEPARTMENTS}P1;0101-9999\r\nP2;0101-0002\r\n"))),
        expect: &[
            "plan_departments.csv:6:2: unknown department \"0101-9999\": not in departments.csv",
            "plan_departments.csv:7:2: duplicate row: already listed on line 4",
        ],
    },
    Case {
        rule: "a plan's department outside its area's delimitations",
        breaks: |d| add_plans(d, Some(PLANS), Some(&PLAN_DEPARTMENTS.replace("P1;0101-0001", "P1;0101-0003"))),
        expect: &[
            "plan_departments.csv:2:2: department \"0101-0003\" is in no delimitation of plan \"P1\"'s area \"KBH-1\"",
            "1 problem(s)",
        ],
    },
    Case {
        rule: "plans without the departments they covered, and the other way round",
        breaks: |d| add_plans(d, Some(PLANS), None),
        expect: &["plan_departments.csv: the file is missing: it comes with plans.csv"],
    },
    Case {
        rule: "the departments of plans without the plans",
        breaks: |d| add_plans(d, None, Some(PLAN_DEPARTMENTS)),
        expect: &["plans.csv: the file is missing: it comes with plan_departments.csv"],
    },
];

async fn valid_and_broken_extracts(db: TestDb) {
    let out = import(&db, &fixture("spec-extract"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("dataset version 1"), "{}", stdout(&out));
    let app = TestApp::on(&db).spawn().await;
    let served_before = app.get_text("/v1/areas").await;
    let served_before_2020 = app.get_text("/v1/areas?boundary=2020-01").await;
    let datasets_before = stdout(&cli(&["datasets", "--database-url", db.url()]));

    for case in CASES {
        let dir = copy_fixture("spec-extract");
        (case.breaks)(dir.path());
        let out = import(&db, dir.path());
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{}: should be rejected; stderr: {err}", case.rule);
        for expected in case.expect {
            assert!(err.contains(expected), "{}: stderr lacks {expected:?}:\n{err}", case.rule);
        }
        assert!(!stdout(&out).contains("imported"), "{}", case.rule);
    }

    // and nothing changed: same versions, same bytes served, even after a refresh interval
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(stdout(&cli(&["datasets", "--database-url", db.url()])), datasets_before);
    assert_eq!(app.get_text("/v1/areas").await, served_before);
    assert_eq!(app.get_text("/v1/areas?boundary=2020-01").await, served_before_2020);
}

async fn zips_reimports_and_new_versions(db: TestDb) {
    assert!(import(&db, &fixture("spec-extract")).status.success());
    let app = TestApp::on(&db).spawn().await;
    let files = tempfile::tempdir().unwrap();
    // the same files zipped, at the root and in one folder: recognised by their content
    for (name, folder) in [("root.zip", None), ("folder.zip", Some("udtraek-2024"))] {
        let zip = files.path().join(name);
        std::fs::write(&zip, zip_dir(&fixture("spec-extract"), folder)).unwrap();
        let out = import(&db, &zip);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        assert!(stdout(&out).contains("identical to stored dataset version 1"), "{name}: {}", stdout(&out));
    }
    // new content is a new version, served within the refresh interval
    let changed = copy_fixture("spec-extract");
    edit(changed.path(), "areas.csv", "Nordområdet", "Nordområdet Øst");
    let zip = files.path().join("changed.zip");
    std::fs::write(&zip, zip_dir(changed.path(), None)).unwrap();
    let out = import(&db, &zip);
    assert!(stdout(&out).contains("dataset version 2"), "{} {}", stdout(&out), stderr(&out));
    let mut served = serde_json::Value::Null;
    for _ in 0..40 {
        let (_, body) = app.get_json("/v1/areas").await;
        if body["dataset_version"] == 2 {
            served = body;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(served["items"][0]["name"], "Nordområdet Øst", "{served}");
    let listing = stdout(&cli(&["datasets", "--database-url", db.url()]));
    assert_eq!(listing.lines().count(), 3, "a header and two versions: {listing}");
    // rolling back serves version 1 again
    let out = cli(&["activate", "--database-url", db.url(), "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut back = false;
    for _ in 0..40 {
        let (_, body) = app.get_json("/v1/areas").await;
        if body["dataset_version"] == 1 && body["items"][0]["name"] == "Nordområdet" {
            back = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(back, "version 1 is served again after activation");
    assert_eq!(cli(&["activate", "--database-url", db.url(), "99"]).status.code(), Some(2));
}

async fn the_demo_extract_imports_and_serves_the_same_as_without_a_database(db: TestDb) {
    use boligsocial::domain::figures::Disclosure;
    use boligsocial::snapshot::Snapshot;
    use boligsocial::store::{StoredDataset, read};
    let dir = tempfile::tempdir().unwrap();
    assert!(cli(&["demo-extract", dir.path().to_str().unwrap()]).status.success());
    let out = import(&db, dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    // what the database gives back equals what the extract says, sum for sum
    let mut conn = db.connect();
    let version = read::active_version(&mut conn).unwrap().unwrap();
    let mut stored = read::load_dataset(&mut conn, version).unwrap();
    let extract = boligsocial::demo::bundled_extract().unwrap();
    let mut expected = StoredDataset::from_extract(&extract, version, &stored.dataset.imported_at);
    // the sums stored with the version equal those the database aggregates from its rows
    let mut aggregated = read::aggregate_area_sums(&mut conn, version).unwrap();
    let key = |s: &read::AreaSumRecord| (s.boundary_version.clone(), s.area_id.clone(), s.indicator.clone(), s.year);
    stored.area_sums.sort_by_key(key);
    expected.area_sums.sort_by_key(key);
    aggregated.sort_by_key(key);
    assert_eq!(stored.area_sums.len(), expected.area_sums.len());
    assert_eq!(aggregated.len(), expected.area_sums.len());
    for ((a, b), c) in stored.area_sums.iter().zip(&expected.area_sums).zip(&aggregated) {
        assert_eq!(key(a), key(b));
        assert_eq!(key(a), key(c));
        assert!((a.numerator - b.numerator).abs() < 1e-9 && a.denominator == b.denominator && a.departments == b.departments);
        assert!((a.numerator - c.numerator).abs() < 1e-9 && a.denominator == c.denominator && a.departments == c.departments);
    }
    let rkey = |r: &read::ReferenceRecord| (r.level.clone(), r.municipality_code, r.indicator.clone(), r.year);
    stored.references.sort_by_key(rkey);
    expected.references.sort_by_key(rkey);
    assert_eq!(stored.references, expected.references);
    assert_eq!(stored.memberships, expected.memberships);
    assert_eq!(stored.indicators, expected.indicators);
    assert_eq!(stored.municipalities, expected.municipalities);
    assert_eq!(stored.areas, expected.areas);
    assert_eq!(stored.dataset.content_hash, extract.content_hash);
    let from_db = Snapshot::build(stored, &Disclosure::default()).unwrap();
    let from_extract = Snapshot::build(expected, &Disclosure::default()).unwrap();
    assert_eq!(from_db.areas, from_extract.areas);
    assert_eq!(from_db.indicators, from_extract.indicators);
}

/// The plans and the departments each covered are stored as the extract says, and an extract
/// without them stores none.
async fn plans_are_stored_as_the_extract_says(db: TestDb) {
    use boligsocial::store::{StoredDataset, read};
    assert!(import(&db, &fixture("spec-extract")).status.success());
    let mut conn = db.connect();
    let first = read::active_version(&mut conn).unwrap().unwrap();
    let without = read::load_dataset(&mut conn, first).unwrap();
    assert!(without.plans.is_empty() && without.plan_departments.is_empty());

    let dir = copy_fixture("spec-extract");
    add_plans(dir.path(), Some(PLANS), Some(PLAN_DEPARTMENTS));
    let out = import(&db, dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let extract = boligsocial::ingest::read_path(dir.path()).unwrap();
    let version = read::active_version(&mut conn).unwrap().unwrap();
    assert_eq!(version, without.dataset.version + 1);
    let stored = read::load_dataset(&mut conn, version).unwrap();
    let expected = StoredDataset::from_extract(&extract, version, &stored.dataset.imported_at);
    assert_eq!(stored.plans, expected.plans);
    assert_eq!(stored.plan_departments, expected.plan_departments);
    let plans: Vec<(&str, &str, i32, i32)> =
        stored.plans.iter().map(|p| (p.plan_id.as_str(), p.area_id.as_str(), p.from_year, p.to_year)).collect();
    assert_eq!(plans, [("P1", "KBH-1", 2015, 2018), ("P2", "KBH-1", 2019, 2022), ("P3", "AAR-1", 2017, 2020)]);
    let covered: Vec<(&str, &str)> = stored.plan_departments.iter().map(|c| (c.plan_id.as_str(), c.department_id.as_str())).collect();
    assert_eq!(covered, [("P1", "0101-0001"), ("P2", "0101-0001"), ("P2", "0101-0002"), ("P3", "0751-0002")]);

    // and the snapshot knows each department's years under a plan
    use boligsocial::domain::coverage::covered_years;
    let snapshot = boligsocial::snapshot::Snapshot::build(stored, &boligsocial::domain::figures::Disclosure::default()).unwrap();
    let years = |id: &str| covered_years(snapshot.plans.periods(snapshot.access.department(id).unwrap()), 2015, 2023);
    assert_eq!(
        [years("0101-0001"), years("0101-0002"), years("0101-0003"), years("0751-0001"), years("0751-0002")],
        [8, 4, 0, 0, 4],
        "covered 2015-2022, 2019-2022, never, never, 2017-2020"
    );
    let areas: Vec<&str> = snapshot.plans.plans.iter().map(|p| snapshot.areas[p.area].area_id.as_str()).collect();
    assert_eq!(areas, ["KBH-1", "KBH-1", "AAR-1"]);
}

/// organisations.csv and the municipalities' CVR numbers are stored as the extract says, and
/// read back as the snapshot is built from them.
async fn organisations_are_stored_as_the_extract_says(db: TestDb) {
    use boligsocial::store::{StoredDataset, read};
    let dir = copy_fixture("spec-extract");
    add_organisations(dir.path(), ORGANISATIONS, ["29189846", "55133018", ""]);
    let out = import(&db, dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let extract = boligsocial::ingest::read_path(dir.path()).unwrap();
    let mut conn = db.connect();
    let version = read::active_version(&mut conn).unwrap().unwrap();
    let stored = read::load_dataset(&mut conn, version).unwrap();
    let expected = StoredDataset::from_extract(&extract, version, &stored.dataset.imported_at);
    assert_eq!(stored.organisations, expected.organisations);
    assert_eq!(stored.municipalities, expected.municipalities);
    let ids: Vec<(&str, &str)> = stored.organisations.iter().map(|o| (o.organisation_id.as_str(), o.cvr.as_str())).collect();
    assert_eq!(ids, [("BOBO", "33333333"), ("Brabrand Boligforening", "22222222"), ("FSB", "11111111")]);
    let cvrs: Vec<Option<&str>> = stored.municipalities.iter().map(|m| m.cvr.as_deref()).collect();
    assert_eq!(cvrs, [Some("29189846"), None, Some("55133018")], "by code: 101, 400, 751");
    assert_eq!(stored.departments, expected.departments);

    // what each CVR number opens: an organisation's own departments, or every one in a
    // municipality whichever organisation owns it; a number that is neither, nothing
    use boligsocial::snapshot::{Grant, Snapshot};
    let snapshot = Snapshot::build(stored, &boligsocial::domain::figures::Disclosure::default()).unwrap();
    let access = &snapshot.access;
    let opened = |cvr: &str| -> Vec<String> {
        access.grant(cvr).map(|g| access.departments_of(g).map(|d| d.department_id.clone()).collect()).unwrap_or_default()
    };
    assert!(matches!(access.grant("11111111"), Some(Grant::Organisation(_))));
    assert_eq!(opened("11111111"), ["0101-0001", "0101-0003"], "FSB's");
    assert_eq!(opened("22222222"), ["0751-0001", "0751-0002"], "Brabrand Boligforening's");
    assert!(matches!(access.grant("29189846"), Some(Grant::Municipality(_))));
    assert_eq!(opened("29189846"), ["0101-0001", "0101-0002", "0101-0003"], "København's, one without an organisation among them");
    assert_eq!(access.grant("99999999"), None);
    assert_eq!(access.grant("1111111"), None);
}

on_both_backends!(
    plans_are_stored_as_the_extract_says,
    organisations_are_stored_as_the_extract_says,
    valid_and_broken_extracts,
    zips_reimports_and_new_versions,
    the_demo_extract_imports_and_serves_the_same_as_without_a_database
);

#[test]
fn more_than_a_hundred_problems_are_counted_not_listed() {
    let dir = copy_fixture("spec-extract");
    let mut text = std::fs::read_to_string(dir.path().join("observations.csv")).unwrap();
    for i in 0..150 {
        text.push_str(&format!("department;0101-0001;udenfor;{};x;100\r\n", 1950 + i));
    }
    std::fs::write(dir.path().join("observations.csv"), text).unwrap();
    let out = cli(&["import", "--database-url", "sqlite:///nonexistent/never-opened.db", dir.path().to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("150 problem(s)"), "{err}");
    assert!(err.contains("… and 50 more"), "{err}");
    assert_eq!(err.lines().filter(|l| l.starts_with("observations.csv:")).count(), 100);
}

#[test]
fn a_missing_path_or_a_broken_zip_is_a_clear_rejection() {
    let out = cli(&["import", "--database-url", "sqlite:///nonexistent/x.db", "/nonexistent/extract.zip"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("/nonexistent/extract.zip"));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.zip");
    std::fs::write(&bad, b"PK\x03\x04 not really").unwrap();
    let out = cli(&["import", "--database-url", "sqlite:///nonexistent/x.db", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not a readable zip archive"), "{}", stderr(&out));
}

/// The plans (plans.csv, plan_departments.csv) are read as the extract says, each with the
/// departments it covered; an extract without them reads as before, with the hash it had.
#[test]
fn plans_are_read_as_the_extract_says() {
    let dir = copy_fixture("spec-extract");
    let without = boligsocial::ingest::read_path(dir.path()).unwrap();
    assert!(without.plans.is_empty());
    add_plans(dir.path(), Some(PLANS), Some(PLAN_DEPARTMENTS));
    let with = boligsocial::ingest::read_path(dir.path()).unwrap();
    assert_ne!(with.content_hash, without.content_hash, "the plans count in the hash when present");
    let read: Vec<String> = with
        .plans
        .iter()
        .map(|p| {
            let departments: Vec<&str> = p.departments.iter().map(|&d| with.departments[d as usize].department_id.as_str()).collect();
            format!(
                "{} {} {:?} {}-{} {}",
                p.plan_id,
                with.areas[p.area as usize].area_id,
                p.name,
                p.from_year,
                p.to_year,
                departments.join(",")
            )
        })
        .collect();
    assert_eq!(
        read,
        [
            "P1 KBH-1 \"Helhedsplan Nordområdet 2015-2018\" 2015-2018 0101-0001",
            "P2 KBH-1 \"Helhedsplan Nordområdet 2019-2022\" 2019-2022 0101-0001,0101-0002",
            "P3 AAR-1 \"Vestparken\" 2017-2020 0751-0002",
        ]
    );
}

#[test]
fn outlines_change_the_content_hash_only_when_present() {
    let without = boligsocial::ingest::read_path(&fixture("spec-extract")).unwrap();
    // the hash this fixture had before municipalities.geojson was known (commit adfa78e)
    assert_eq!(without.content_hash, "ce985fc1779491325fa7acc2283b6d6c65aa65ed6445b0c9d4fe82bd6de057b2");
    assert!(without.municipality_geometries.is_empty());
    assert!(without.organisations.is_empty(), "organisations.csv is optional, and so is its hash");
    let dir = copy_fixture("spec-extract");
    add_outlines(dir.path(), &[("0101", square(12.5, 55.6)), ("101", square(12.7, 55.6)), ("751", square(10.1, 56.1))]);
    let with = boligsocial::ingest::read_path(dir.path()).unwrap();
    assert_ne!(with.content_hash, without.content_hash);
    let outlines: Vec<(u16, usize)> = with.municipality_geometries.iter().map(|g| (g.municipality.get(), g.geometry.0.len())).collect();
    assert_eq!(outlines, [(101, 2), (751, 1)], "both forms of a code name one municipality, whose Features are joined");
}
