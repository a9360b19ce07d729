//! The bundled demo extract: synthetic data for 48 areas in 36 real municipalities,
//! 2013-2024, calibrated so that the service reproduces the note's headline figures for
//! `outside_work_education`, 2015 to 2023 (comparisons.md, "The note's headline figures").
//!
//! Calibration: each area is given the verdicts it must come out with (beyond the 5-point
//! threshold or not, stronger in relative terms or not, stronger than the social-housing
//! sector or not), and its 2015 level and change are drawn from the interval those verdicts
//! allow, with margins wide enough that rounding to whole persons cannot flip one.

use std::collections::BTreeMap;
use std::io::Write;

use super::common::*;
use super::rng::Rng;
use crate::domain::model::Kind;

pub const SEED: u64 = 202_409;
pub const BOUNDARY_VERSION: &str = "2024-09";
/// An earlier, narrower delimitation: plans have come to cover more departments over time.
pub const EARLIER_BOUNDARY_VERSION: &str = "2021-03";
pub const YEARS: std::ops::RangeInclusive<u16> = 2013..=2024;
pub const FROM: u16 = 2015;
pub const TO: u16 = 2023;

/// The headline figures the calibration aims at.
pub const AREAS: usize = 48;
pub const BEYOND_THRESHOLD: usize = 25;
pub const STRONGER_RELATIVE: usize = 31;
pub const STRONGER_THAN_SOCIAL_HOUSING: usize = 39;
pub const THRESHOLD: f64 = 5.0;

/// Area centres (municipality code, latitude, longitude), inside the municipality's DAGI
/// boundary with room to spare (checked by a test when ../shared is present).
const CENTRES: [(u16, f64, f64); AREAS] = [
    (101, 55.7135, 12.4809),
    (101, 55.6620, 12.5050),
    (101, 55.7080, 12.5350),
    (101, 55.7000, 12.5452),
    (101, 55.6500, 12.5300),
    (101, 55.6590, 12.5960),
    (151, 55.7316, 12.3633),
    (153, 55.6400, 12.4000),
    (159, 55.7390, 12.4870),
    (163, 55.7260, 12.4390),
    (165, 55.6620, 12.3512),
    (167, 55.6470, 12.4712),
    (169, 55.6550, 12.2750),
    (183, 55.6200, 12.3450),
    (210, 55.9100, 12.4916),
    (217, 56.0300, 12.5900),
    (219, 55.9270, 12.3100),
    (259, 55.4600, 12.1700),
    (265, 55.6350, 12.0900),
    (316, 55.7050, 11.7300),
    (330, 55.4030, 11.3540),
    (370, 55.2300, 11.7650),
    (376, 54.7700, 11.8950),
    (450, 55.3150, 10.7700),
    (461, 55.4100, 10.4350),
    (461, 55.3900, 10.3700),
    (461, 55.3800, 10.4100),
    (479, 55.0700, 10.5900),
    (510, 55.2440, 9.4850),
    (540, 54.9150, 9.8050),
    (561, 55.4850, 8.4750),
    (580, 55.0400, 9.4000),
    (607, 55.5800, 9.7300),
    (615, 55.8650, 9.8250),
    (621, 55.4950, 9.4500),
    (630, 55.7200, 9.5200),
    (657, 56.1390, 8.9730),
    (661, 56.3600, 8.6160),
    (730, 56.4650, 10.0300),
    (740, 56.1800, 9.5400),
    (751, 56.1540, 10.1380),
    (751, 56.1760, 10.1650),
    (751, 56.1480, 10.1580),
    (751, 56.1640, 10.1460),
    (751, 56.1900, 10.1700),
    (791, 56.4500, 9.3900),
    (851, 57.0350, 9.9100),
    (851, 57.0300, 9.9500),
];

/// Invented estate names (not real areas: the data are synthetic).
const NAMES: [&str; AREAS] = [
    "Askeparken",
    "Birkehaven",
    "Bøgevangen",
    "Egeparken",
    "Elmegården",
    "Engbakken",
    "Fasanhaven",
    "Fyrrebakken",
    "Granparken",
    "Hasselhøj",
    "Hybenhaven",
    "Kastanjeparken",
    "Kløvervangen",
    "Lindegården",
    "Lærkeparken",
    "Mosebakken",
    "Møllehaven",
    "Nøddeparken",
    "Pilegården",
    "Poppelhøj",
    "Rosenvænget",
    "Rønnebærparken",
    "Skovbrynet",
    "Slåenhaven",
    "Solbakken",
    "Stjernehøj",
    "Storkereden",
    "Svanevænget",
    "Tjørneparken",
    "Tranehaven",
    "Tulipanhøj",
    "Valmueparken",
    "Vibevænget",
    "Vildroseparken",
    "Æblehaven",
    "Ørnegården",
    "Havrevænget",
    "Hvedebakken",
    "Kornparken",
    "Lyngbakken",
    "Marguritten",
    "Nælden",
    "Perlehaven",
    "Rugmarken",
    "Siv-parken",
    "Smedegården",
    "Tagrørsvej",
    "Vindelbo",
];

/// Big municipalities' 18-64-year-olds; the rest are drawn.
fn municipal_population(rng: &mut Rng, code: u16) -> u64 {
    match code {
        101 => 430_000,
        751 => 232_000,
        461 => 131_000,
        851 => 142_000,
        _ => rng.int(28_000, 75_000),
    }
}

/// The verdicts an area must come out with.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Verdicts {
    beyond: bool,
    relative: bool,
    social: bool,
}

/// 20 beyond and relatively stronger, 5 beyond only, 11 relatively stronger only, 12
/// neither: 25 beyond, 31 relatively stronger. The 9 areas not ahead of the social-housing
/// sector are among the 12 with neither verdict (an area far above its municipality that
/// fell by less than the sector cannot have fallen by more than the municipality in relative
/// terms): 39 ahead of it.
fn verdicts(rng: &mut Rng) -> Vec<Verdicts> {
    let mut v = Vec::with_capacity(AREAS);
    let mut push = |n, beyond, relative| (0..n).for_each(|_| v.push(Verdicts { beyond, relative, social: true }));
    push(20, true, true);
    push(5, true, false);
    push(11, false, true);
    push(12, false, false);
    let mut within: Vec<usize> = (36..AREAS).collect();
    rng.shuffle(&mut within);
    for &i in within.iter().take(AREAS - STRONGER_THAN_SOCIAL_HOUSING) {
        v[i].social = false;
    }
    v
}

/// The calibrated indicator's 2015 level and 2015→2023 change for a municipality, its
/// social-housing sector and an area.
#[derive(Debug, Clone, Copy)]
struct Path {
    level: f64,
    change: f64,
}

impl Path {
    /// The value in a year: on the line through 2015 and 2023, with noise off those years.
    fn value(&self, rng: &mut Rng, year: u16, noise: f64) -> f64 {
        let slope = self.change / f64::from(TO - FROM);
        let on_line = self.level + slope * (f64::from(year) - f64::from(FROM));
        if year == FROM || year == TO { on_line } else { on_line + rng.range(-noise, noise) }
    }
}

/// Draws an area's level and change within the interval its verdicts allow.
fn calibrate(rng: &mut Rng, v: Verdicts, muni: Path, social: Path) -> Option<Path> {
    const MARGIN: f64 = 0.4;
    let (m, c_m) = (muni.level, muni.change);
    let mut levels: Vec<f64> = (0..=64).map(|i| 28.0 + 0.5 * i as f64).collect();
    rng.shuffle(&mut levels);
    for a in levels {
        // area change c: improved and stronger in points
        let mut lo = -0.55 * a;
        let mut hi = (c_m - MARGIN).min(-0.5);
        let relative_bound = a * c_m / m; // c < this ⇔ stronger relatively
        if v.beyond {
            hi = hi.min(c_m - THRESHOLD - MARGIN)
        } else {
            lo = lo.max(c_m - THRESHOLD + MARGIN)
        }
        if v.relative {
            hi = hi.min(relative_bound - MARGIN)
        } else {
            lo = lo.max(relative_bound + MARGIN)
        }
        if v.social {
            hi = hi.min(social.change - MARGIN)
        } else {
            lo = lo.max(social.change + MARGIN)
        }
        if hi - lo >= 0.2 && a + lo >= 8.0 {
            let span = (hi - lo).min(4.0);
            let change = hi - span * rng.range(0.15, 0.85);
            return Some(Path { level: a, change });
        }
    }
    None
}

struct Area {
    id: String,
    name: &'static str,
    municipality: u16,
    lat: f64,
    lon: f64,
    /// Department ids and relative sizes.
    departments: Vec<(String, f64)>,
    population: f64,
    growth: f64,
    calibrated: Path,
}

/// The indicators the legal criteria read (criteria.md, "Demo"), beyond the catalogue.
const CRITERIA_INDICATORS: [[&str; 9]; 4] = [
    [
        "non_western",
        "Indvandrere og efterkommere fra ikke-vestlige lande",
        "Immigrants and descendants from non-Western countries",
        "share",
        "neutral",
        "Alle beboere",
        "All residents",
        "Andel af beboerne, der er indvandrere eller efterkommere fra ikke-vestlige lande.",
        "Share of residents who are immigrants or descendants from non-Western countries.",
    ],
    [
        "basic_education_only",
        "Kun grundskole blandt 30-59-årige",
        "Basic school only among those aged 30-59",
        "share",
        "lower_is_better",
        "30-59-årige beboere",
        "Residents aged 30-59",
        "Andel af de 30-59-årige, hvis højeste uddannelse er grundskolen.",
        "Share of residents aged 30-59 whose highest education is basic school.",
    ],
    [
        "gross_income",
        "Bruttoindkomst, 15-64-årige skatteydere uden studerende (1.000 kr.)",
        "Gross income, taxpayers aged 15-64 excluding students (DKK 1,000)",
        "mean",
        "higher_is_better",
        "Skatteydere 15-64 år, ikke under uddannelse",
        "Taxpayers aged 15-64, not in education",
        "Gennemsnitlig bruttoindkomst i 1.000 kr.",
        "Mean gross income in DKK 1,000.",
    ],
    [
        "convicted",
        "Dømte for straffelov, våbenlov eller lov om euforiserende stoffer",
        "Convicted under the criminal code, the weapons act or the narcotics act",
        "share",
        "lower_is_better",
        "Beboere 18 år og ældre",
        "Residents aged 18 and over",
        "Andel af beboerne, der er dømt i året.",
        "Share of residents convicted in the year.",
    ],
];

/// What an area is made to meet in the criteria's indicators (all years alike, so that the
/// two parallel societies persist into transformation areas): the non-Western share, the
/// convicted share as a multiple of the country's, basic school only, gross income as a
/// fraction of the region's, and the residents.
#[derive(Clone, Copy)]
struct Profile {
    non_western: f64,
    convicted_times: f64,
    basic: f64,
    income: f64,
    residents: f64,
    /// The convicted count small enough to be suppressed, in the last two years.
    few_convicted: bool,
}

/// Rows of the criteria's indicators for every area (on a random stream of their own, so
/// that everything before stays as it was), with their country, region and municipal
/// figures; returns the indicators' catalogue lines.
fn criteria_observations(areas: &[Area], owe: &BTreeMap<(String, u16), (f64, f64)>, out: &mut Vec<u8>) -> Vec<u8> {
    const COUNTRY_CONVICTED: f64 = 1.0; // percent
    const REGION_INCOME: f64 = 320.0; // DKK 1,000
    let mut rng = Rng::new(SEED ^ 0x6372_6974_6572_6961);
    let last = *YEARS.end();
    // outside work and education above 40 % over the last two years (the calibrated figures)
    let owe_high = |id: &str| {
        let v = |y: u16| owe.get(&(id.to_string(), y)).map_or(0.0, |(n, d)| 100.0 * n / d);
        (v(last - 1) + v(last)) / 2.0 > 40.0
    };
    let none = Profile { non_western: 15.0, convicted_times: 1.2, basic: 40.0, income: 0.85, residents: 0.0, few_convicted: false };
    let mut undetermined = 0;
    let profiles: Vec<Profile> = areas
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let residents = a.population * 1.7;
            let p = Profile { residents, ..none };
            match i {
                // parallel societies (and so transformation areas)
                0 | 7 => Profile { non_western: 60.0, convicted_times: 3.5, basic: 65.0, income: 0.5, ..p },
                // vulnerable areas that are no parallel society, nor prevention areas
                3 | 11 | 19 | 27 => Profile { non_western: 25.0, convicted_times: 3.4, basic: 64.0, ..p },
                // prevention areas only
                5 | 13 | 21 | 29 | 37 => Profile { non_western: 40.0, convicted_times: 2.3, basic: 55.0, income: 0.6, ..p },
                // the criteria of a parallel society, but under 1,000 residents
                44 => Profile { non_western: 60.0, convicted_times: 3.5, basic: 65.0, income: 0.5, residents: 900.0, ..p },
                // one criterion met and the convicted count suppressed: undetermined
                _ if undetermined < 3 && !owe_high(&a.id) && i % 2 == 1 => {
                    undetermined += 1;
                    Profile { non_western: 40.0, basic: 65.0, few_convicted: true, ..p }
                }
                _ => p,
            }
        })
        .collect();
    let mut row = |level: &str, unit: &str, code: &str, year: u16, n: String, d: u64| {
        csv_row(out, &[level, unit, code, &year.to_string(), &n, &d.to_string()]).expect("memory");
    };
    let share = |v: f64, d: u64| ((v / 100.0 * d as f64).round() as u64).min(d);
    for year in YEARS {
        // the country and the regions
        let d = 4_700_000u64;
        row("country", "DK", "convicted", year, share(COUNTRY_CONVICTED, d).to_string(), d);
        row("country", "DK", "non_western", year, share(9.0, 5_900_000).to_string(), 5_900_000);
        row("country", "DK", "basic_education_only", year, share(18.0, 2_300_000).to_string(), 2_300_000);
        row("country", "DK", "gross_income", year, format!("{:.1}", REGION_INCOME * 3_000_000.0), 3_000_000);
        for region in ["1081", "1082", "1083", "1084", "1085"] {
            let d = 600_000u64;
            let v = REGION_INCOME * rng.range(0.97, 1.03);
            // (the areas' incomes are fractions of 320; a region a little off moves no verdict)
            row("region", region, "gross_income", year, format!("{:.1}", (v * d as f64 * 10.0).round() / 10.0), d);
        }
        for (a, p) in areas.iter().zip(&profiles) {
            let residents = (p.residents * (1.0 + a.growth).powi(i32::from(year - 2013))).round() as u64;
            let adults = (residents as f64 * 0.75).round() as u64;
            let aged_30_59 = (residents as f64 * 0.4).round() as u64;
            let taxpayers = (residents as f64 * 0.55).round() as u64;
            let jitter = |rng: &mut Rng, x: f64| x * rng.range(0.98, 1.02);
            let convicted = if p.few_convicted && year + 1 >= last {
                rng.int(1, 4)
            } else {
                share(jitter(&mut rng, p.convicted_times * COUNTRY_CONVICTED), adults).max(5)
            };
            let figures = [
                ("non_western", share(jitter(&mut rng, p.non_western), residents).to_string(), residents),
                ("basic_education_only", share(jitter(&mut rng, p.basic), aged_30_59).to_string(), aged_30_59),
                ("gross_income", format!("{:.1}", jitter(&mut rng, p.income * REGION_INCOME) * taxpayers as f64), taxpayers),
                ("convicted", convicted.to_string(), adults),
            ];
            // (each area's figure given to its first department: the criteria read areas)
            let department = &a.departments[0].0;
            for (code, n, d) in figures {
                row("department", department, code, year, n, d);
            }
        }
    }
    let mut catalogue = Vec::new();
    for line in CRITERIA_INDICATORS {
        csv_row(&mut catalogue, &line).expect("memory");
    }
    catalogue
}

/// Generates the demo extract's files, in the order of the format.
/// The national organisation that owns a department in many of the demo's areas.
const SHARED_ORGANISATION: (&str, &str, u32) = ("ALMENBO", "Almenbo Danmark", 9_100_000);

/// The id of a municipality's own housing organisation in the demo.
fn local_organisation(code: u16) -> String {
    format!("BF-{code}")
}

/// The demo's organisations, with synthetic CVR numbers (failing the register's check, so
/// never a real one's): one per municipality with areas, and the national one.
fn organisations<'a>(codes: &[u16], name_of: impl Fn(u16) -> &'a str) -> Vec<(String, String, String)> {
    let mut codes = codes.to_vec();
    codes.sort_unstable();
    codes.dedup();
    let mut all: Vec<(String, String, String)> = codes
        .into_iter()
        .map(|c| (local_organisation(c), format!("Boligforeningen {}", name_of(c)), synthetic_cvr(9_100_000 + u32::from(c))))
        .collect();
    let (id, name, cvr) = SHARED_ORGANISATION;
    all.push((id.to_string(), name.to_string(), synthetic_cvr(cvr)));
    all
}

pub fn demo_files() -> Vec<(&'static str, Vec<u8>)> {
    let mut rng = Rng::new(SEED);
    let all_municipalities = municipalities();
    let name_of = |code: u16| all_municipalities.iter().find(|m| m.code == code).map(|m| m.name).expect("a real municipality");

    // municipalities with areas, and their calibrated paths
    let mut codes: Vec<u16> = CENTRES.iter().map(|c| c.0).collect();
    codes.dedup();
    let mut verdicts = verdicts(&mut rng);
    // areas that are beyond the threshold yet not relatively stronger need a municipality
    // with a low level and a steep fall; give them single-area municipalities made so
    let mut singles: Vec<usize> = (0..AREAS).filter(|&i| CENTRES.iter().filter(|c| c.0 == CENTRES[i].0).count() == 1).collect();
    rng.shuffle(&mut singles);
    // the five "beyond only" verdicts (indexes 20..25) go to single-area municipalities
    let mut assigned = vec![usize::MAX; AREAS];
    for (k, vi) in (20..25).enumerate() {
        assigned[singles[k]] = vi;
    }
    let mut rest: Vec<usize> = (0..AREAS).filter(|vi| !(20..25).contains(vi)).collect();
    rng.shuffle(&mut rest);
    for slot in assigned.iter_mut().filter(|s| **s == usize::MAX) {
        *slot = rest.pop().expect("one verdict per area");
    }
    let area_verdicts: Vec<Verdicts> = assigned.iter().map(|&vi| verdicts[vi]).collect();
    verdicts.clear();

    let mut muni_paths: BTreeMap<u16, (Path, Path, u64)> = BTreeMap::new();
    for &code in &codes {
        let steep = (0..AREAS).any(|i| CENTRES[i].0 == code && area_verdicts[i].beyond && !area_verdicts[i].relative);
        let (level, change) =
            if steep { (rng.range(12.0, 14.5), -rng.range(4.2, 4.8)) } else { (rng.range(14.0, 21.0), -rng.range(2.0, 4.0)) };
        let social_level = level + rng.range(12.0, 18.0);
        let social_change = change - rng.range(1.5, 3.5);
        let population = municipal_population(&mut rng, code);
        muni_paths.insert(code, (Path { level, change }, Path { level: social_level, change: social_change }, population));
    }

    let mut areas: Vec<Area> = Vec::with_capacity(AREAS);
    let mut department_numbers: BTreeMap<u16, u32> = BTreeMap::new();
    for (i, &(code, lat, lon)) in CENTRES.iter().enumerate() {
        let (muni, social, _) = muni_paths[&code];
        let calibrated = calibrate(&mut rng, area_verdicts[i], muni, social)
            .unwrap_or_else(|| panic!("no calibration for area {i} with {:?}", area_verdicts[i]));
        let n_departments = rng.int(2, 6) as usize;
        let departments = (0..n_departments)
            .map(|_| {
                let number = department_numbers.entry(code).or_insert(100);
                *number += rng.int(1, 7) as u32;
                (format!("{code:04}-{:04}", *number), rng.range(0.4, 1.6))
            })
            .collect();
        let seq = CENTRES[..=i].iter().filter(|c| c.0 == code).count();
        areas.push(Area {
            id: format!("{code}-{seq}"),
            name: NAMES[i],
            municipality: code,
            lat,
            lon,
            departments,
            population: rng.range(850.0, 3200.0),
            growth: rng.range(-0.01, 0.012),
            calibrated,
        });
    }

    let manifest = serde_json::json!({
        "format": "boligsocial-extract",
        "version": 1,
        "title": "Syntetiske demodata: 48 helhedsplansområder (ikke rigtige tal) / Synthetic demo data: 48 areas (not real figures)",
        "source": "Boligsocial API demo generator, calibrated to the note's headline figures (synthetic, no register data; the organisations' and municipalities' CVR numbers are synthetic too: each fails the CVR register's modulus-11 check, so none is a real one)",
        "boundary_version": BOUNDARY_VERSION,
    });
    let mut manifest_bytes = serde_json::to_vec_pretty(&manifest).expect("JSON");
    manifest_bytes.push(b'\n');

    let mut departments = Vec::new();
    csv_row(&mut departments, &["department_id", "name", "municipality_code", "organisation"]).expect("memory");
    let mut areas_csv = Vec::new();
    csv_row(&mut areas_csv, &["area_id", "name", "municipality_code"]).expect("memory");
    let mut memberships = Vec::new();
    csv_row(&mut memberships, &["boundary_version", "area_id", "department_id"]).expect("memory");
    for (i, a) in areas.iter().enumerate() {
        let code = a.municipality.to_string();
        // DAGI's four-digit form for a few areas, as extracts from GIS systems have it
        let code_as_written = if i % 5 == 0 { format!("{:04}", a.municipality) } else { code.clone() };
        csv_row(&mut areas_csv, &[&a.id, a.name, &code_as_written]).expect("memory");
        for (k, (id, _)) in a.departments.iter().enumerate() {
            let name = format!("{}, afd. {}", a.name, k + 1);
            // the municipality's own organisation, but the second department of an area of
            // three or more is a national one's: areas shared by two organisations, and an
            // organisation with departments in many municipalities
            let org =
                if k == 1 && a.departments.len() >= 3 { SHARED_ORGANISATION.0.to_string() } else { local_organisation(a.municipality) };
            csv_row(&mut departments, &[id, &name, &code, &org]).expect("memory");
            csv_row(&mut memberships, &[BOUNDARY_VERSION, &a.id, id]).expect("memory");
            // the earlier delimitation leaves out the last department of every third area
            let left_out = i % 3 == 0 && a.departments.len() >= 3 && k == a.departments.len() - 1;
            if !left_out {
                csv_row(&mut memberships, &[EARLIER_BOUNDARY_VERSION, &a.id, id]).expect("memory");
            }
        }
    }

    let mut observations = Vec::new();
    csv_row(&mut observations, &["level", "unit", "indicator", "year", "numerator", "denominator"]).expect("memory");
    let mut row = |level: &str, unit: &str, def: &IndicatorDef, year: u16, n: f64, d: u64| {
        csv_row(&mut observations, &[level, unit, def.code, &year.to_string(), &format_numerator(def.kind, n), &d.to_string()])
            .expect("memory");
    };
    // the calibrated indicator's area figures, for the criteria below
    let mut owe: BTreeMap<(String, u16), (f64, f64)> = BTreeMap::new();
    for def in &INDICATORS {
        let calibrated = def.code == OUTSIDE_WORK_EDUCATION;
        // municipalities and their social-housing sectors
        let mut muni_generic: BTreeMap<u16, (Path, Path)> = BTreeMap::new();
        for (&code, &(muni, social, population)) in &muni_paths {
            let (m, s) = if calibrated {
                (muni, social)
            } else {
                let level = rng.range(def.municipality_level.0, def.municipality_level.1);
                let change = 8.0 * rng.range(def.municipality_trend.0, def.municipality_trend.1);
                let area_mid = (def.area_level.0 + def.area_level.1) / 2.0;
                let social_level = level + 0.55 * (area_mid - level);
                (Path { level, change }, Path { level: social_level, change: change * 1.2 })
            };
            muni_generic.insert(code, (m, s));
            for year in YEARS.filter(|&y| def.observed(y)) {
                let d = (population as f64 * def.population_factor).round() as u64;
                let v = m.value(&mut rng, year, def.noise / 4.0);
                row("municipality", &code.to_string(), def, year, counts(def.kind, v, d), d);
                let d = (population as f64 * 0.22 * def.population_factor).round() as u64;
                let v = s.value(&mut rng, year, def.noise / 3.0);
                row("social_housing", &code.to_string(), def, year, counts(def.kind, v, d), d);
            }
        }
        // the country
        let level = if calibrated { 16.5 } else { (def.municipality_level.0 + def.municipality_level.1) / 2.0 };
        let change = if calibrated { -2.8 } else { 8.0 * (def.municipality_trend.0 + def.municipality_trend.1) / 2.0 };
        let country = Path { level, change };
        for year in YEARS.filter(|&y| def.observed(y)) {
            let d = (3_600_000.0 * def.population_factor).round() as u64;
            let v = country.value(&mut rng, year, def.noise / 10.0);
            row("country", "DK", def, year, counts(def.kind, v, d), d);
        }
        // areas, split over their departments
        for a in &areas {
            let path = if calibrated {
                a.calibrated
            } else {
                Path { level: rng.range(def.area_level.0, def.area_level.1), change: 8.0 * rng.range(def.area_trend.0, def.area_trend.1) }
            };
            let sizes: Vec<f64> = a.departments.iter().map(|d| d.1).collect();
            for year in YEARS.filter(|&y| def.observed(y)) {
                // surveys miss an area now and then; the calibrated indicator is complete
                if !calibrated && def.every > 1 && rng.unit() < 0.08 {
                    continue;
                }
                let population = a.population * (1.0 + a.growth).powi(i32::from(year - 2013)) * def.population_factor;
                let d = population.round().max(1.0) as u64;
                let v = path.value(&mut rng, year, def.noise);
                let n = counts(def.kind, v, d);
                if calibrated {
                    owe.insert((a.id.clone(), year), (n, d as f64));
                }
                let parts: Vec<(f64, u64)> = if def.kind == Kind::Mean {
                    // a mean's numerator is a sum: split it with the pupils or persons
                    let ds = split(d, &sizes);
                    ds.iter().map(|&di| (round1(n * di as f64 / d as f64), di)).collect()
                } else {
                    split_counts(&mut rng, n as u64, d, &sizes, def.kind == Kind::Share).into_iter().map(|(n, d)| (n as f64, d)).collect()
                };
                for ((id, _), (n_i, d_i)) in a.departments.iter().zip(parts) {
                    // a department without data now and then (coverage below 1)
                    if d_i == 0 || (!calibrated && rng.unit() < 0.03) {
                        continue;
                    }
                    row("department", id, def, year, n_i, d_i);
                }
            }
        }
    }

    let extra_indicators = criteria_observations(&areas, &owe, &mut observations);

    let features: Vec<serde_json::Value> = areas
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let radius = rng.range(160.0, 330.0);
            let vertices = rng.int(14, 26) as usize;
            let geometry = if i % 7 == 3 {
                // two parts, as areas split by a road often are
                let dlat = 250.0 / 111_320.0;
                let first = ring(&mut rng, a.lon, a.lat + dlat, radius * 0.6, vertices);
                let second = ring(&mut rng, a.lon, a.lat - dlat, radius * 0.5, vertices);
                serde_json::json!({"type": "MultiPolygon", "coordinates": [[first], [second]]})
            } else {
                serde_json::json!({"type": "Polygon", "coordinates": [ring(&mut rng, a.lon, a.lat, radius, vertices)]})
            };
            serde_json::json!({"type": "Feature", "properties": {"area_id": a.id, "name": a.name}, "geometry": geometry})
        })
        .collect();
    let collection = serde_json::json!({"type": "FeatureCollection", "features": features});
    let mut geojson = Vec::new();
    // one feature per line: small diffs, readable, and line numbers that mean something
    writeln!(geojson, "{{\"type\": \"FeatureCollection\", \"features\": [").expect("memory");
    let list = collection["features"].as_array().expect("features");
    for (i, f) in list.iter().enumerate() {
        let comma = if i + 1 < list.len() { "," } else { "" };
        writeln!(geojson, "{f}{comma}").expect("memory");
    }
    writeln!(geojson, "]}}").expect("memory");

    let (plans, plan_departments) = plans_csv(&areas);
    vec![
        ("manifest.json", manifest_bytes),
        ("indicators.csv", [indicators_csv(), extra_indicators].concat()),
        ("municipalities.csv", municipalities_csv()),
        ("organisations.csv", organisations_csv(&organisations(&codes, name_of))),
        ("departments.csv", departments),
        ("areas.csv", areas_csv),
        ("area_departments.csv", memberships),
        ("observations.csv", observations),
        ("areas.geojson", geojson),
        ("plans.csv", plans),
        ("plan_departments.csv", plan_departments),
    ]
}

/// The plans' history (comparisons.md, "Coverage"), as Boks 1 of the note tells it: four-year
/// grant periods, renewed back to back, the first covering part of an area's departments and
/// each renewal one more until all are covered. Drawn from a generator of their own, after
/// everything else, so that the figures (and the note's headline counts) stay as they were.
fn plans_csv(areas: &[Area]) -> (Vec<u8>, Vec<u8>) {
    let mut rng = Rng::new(SEED ^ 0x9e37_79b9_7f4a_7c15);
    let mut plans = Vec::new();
    csv_row(&mut plans, &["plan_id", "area_id", "name", "from_year", "to_year"]).expect("memory");
    let mut covered = Vec::new();
    csv_row(&mut covered, &["plan_id", "department_id"]).expect("memory");
    for a in areas {
        let mut from = 2011 + rng.int(0, 8) as u16;
        let mut count = a.departments.len().div_ceil(2).max(1);
        let mut k = 1;
        // (the September 2024 delimitation: every area has a plan running then)
        while from <= 2024 {
            let to = from + 3;
            let id = format!("{}-P{k}", a.id);
            let name = format!("Helhedsplan {} {from}–{to}", a.name);
            csv_row(&mut plans, &[&id, &a.id, &name, &from.to_string(), &to.to_string()]).expect("memory");
            for (department, _) in &a.departments[..count] {
                csv_row(&mut covered, &[&id, department]).expect("memory");
            }
            count = (count + 1).min(a.departments.len());
            from = to + 1;
            k += 1;
        }
    }
    (plans, covered)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::domain::comparisons::summarise;
    use crate::domain::figures::Disclosure;
    use crate::domain::model::Reference;
    use crate::snapshot::Snapshot;
    use crate::store::StoredDataset;

    fn snapshot() -> Snapshot {
        let extract = crate::demo::bundled_extract().expect("the bundled demo extract is valid");
        Snapshot::build(StoredDataset::from_extract(&extract, 1, "2026-01-01T00:00:00Z"), &Disclosure::default()).unwrap()
    }

    #[test]
    fn the_bundled_files_are_what_the_generator_makes() {
        for ((name, generated), (bundled_name, bundled)) in demo_files().iter().zip(crate::demo::BUNDLED) {
            assert_eq!(*name, bundled_name);
            assert!(
                generated.as_slice() == bundled,
                "src/demo/extract/{name} differs from the generator's output; run `cargo run -- demo-extract src/demo/extract`"
            );
        }
    }

    #[test]
    fn has_48_areas_in_36_real_municipalities() {
        let s = snapshot();
        let (_, delimitation) = s.delimitation(None).unwrap();
        let areas: Vec<usize> = delimitation.areas().collect();
        assert_eq!(areas.len(), 48);
        let municipalities: BTreeSet<_> = areas.iter().map(|&a| s.areas[a].municipality).collect();
        assert_eq!(municipalities.len(), 36);
        let reference = municipalities_csv();
        let reference = String::from_utf8(reference).unwrap();
        for m in municipalities {
            let name = &s.municipalities[&m].name;
            assert!(reference.contains(&format!("\n{m},{name},")), "{m} {name}");
        }
        assert!(s.dataset.title.contains("Syntetiske") && s.dataset.title.contains("Synthetic"));
        assert!(s.delimitations.contains_key(EARLIER_BOUNDARY_VERSION));
        assert!(s.areas.iter().all(|a| a.geometry.is_some()));
    }

    #[test]
    fn reproduces_the_notes_headline_figures() {
        let s = snapshot();
        let (i, indicator) = s.indicator(OUTSIDE_WORK_EDUCATION).unwrap();
        let unit = crate::query::Unit::areas_of(&s, None).unwrap();
        let compare = |reference: Reference| {
            let request = crate::query::comparisons::ComparisonRequest {
                indicator: i,
                from: FROM,
                to: TO,
                reference: crate::query::reference::ReferenceChoice::of(reference),
                unit,
                threshold: THRESHOLD,
                order: None,
            };
            crate::query::comparisons::compare_areas(&s, &request)
        };
        let compared = compare(Reference::Municipality);
        let summary = summarise(indicator.direction, THRESHOLD, compared.iter().map(|c| &c.comparison));
        assert_eq!(summary.areas, 48);
        assert_eq!(summary.compared, 48);
        assert_eq!(summary.improved, Some(48));
        assert_eq!(summary.stronger, Some(48));
        assert_eq!(summary.beyond_threshold, Some(BEYOND_THRESHOLD as u32));
        assert_eq!(summary.stronger_relative, Some(STRONGER_RELATIVE as u32));
        let compared = compare(Reference::SocialHousing);
        let summary = summarise(indicator.direction, THRESHOLD, compared.iter().map(|c| &c.comparison));
        assert_eq!(summary.stronger, Some(STRONGER_THAN_SOCIAL_HOUSING as u32));
    }

    /// criteria.md's demo: in the latest year every classification occurs, some areas are
    /// undetermined, and at least one is an omdannelsesområde (the headline figures are the
    /// test above).
    #[test]
    fn the_latest_year_has_every_classification() {
        use crate::domain::criteria::Verdict;
        let rules = crate::query::criteria::rule_book(None).unwrap();
        let s = snapshot().with_criteria(&rules);
        let (i, r) = s.criteria.rule_set("almenboligloven-2021").unwrap();
        assert_eq!(s.criteria.years.last(), Some(YEARS.end()));
        let k = s.criteria.years.len() - 1;
        let (_, d) = s.delimitation(None).unwrap();
        let mut count = std::collections::BTreeMap::<(&str, &str), usize>::new();
        for a in d.areas() {
            let e = &s.criteria.of(BOUNDARY_VERSION, i, a).unwrap()[k];
            for (c, o) in r.classifications.iter().zip(e.classifications.iter()) {
                *count.entry((c.id.as_str(), o.status.as_str())).or_default() += 1;
            }
        }
        for c in &r.classifications {
            assert!(count.get(&(c.id.as_str(), "yes")).is_some_and(|&n| n >= 1), "{}: {count:?}", c.id);
        }
        assert!(count.iter().any(|((_, v), _)| *v == "undetermined"), "{count:?}");
        // the earlier rule set has its classification in its own years too
        let (g, _) = s.criteria.rule_set("ghettokriterier-2013").unwrap();
        let k2017 = s.criteria.years.iter().position(|&y| y == 2017).unwrap();
        assert!(d.areas().any(|a| s.criteria.of(BOUNDARY_VERSION, g, a).unwrap()[k2017].classifications[0].status == Verdict::Yes));
    }

    #[test]
    fn has_every_kind_direction_and_some_suppressed_and_missing_figures() {
        let s = snapshot();
        let kinds: BTreeSet<_> = s.indicators.iter().map(|i| i.kind.as_str()).collect();
        assert_eq!(kinds.len(), 3);
        let directions: BTreeSet<_> = s.indicators.iter().map(|i| i.direction.as_str()).collect();
        assert_eq!(directions.len(), 3);
        let (_, d) = s.delimitation(None).unwrap();
        let (g, _) = s.indicator("grade_point_average").unwrap();
        let suppressed = d.areas().flat_map(|a| d.series(a, g)).filter(|p| p.figure.value().is_none()).count();
        assert!(suppressed > 0, "small 9th-grade cohorts should be suppressed somewhere");
        let (u, _) = s.indicator("feel_unsafe").unwrap();
        let gaps = d.areas().filter(|&a| d.series(a, u).len() < 5).count();
        assert!(gaps > 0, "the survey should miss an area now and then");
        let years = &s.indicator(OUTSIDE_WORK_EDUCATION).unwrap().1.years;
        assert_eq!((years[0], *years.last().unwrap()), (2013, 2024));
    }
}
