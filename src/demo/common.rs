//! Pieces shared by the demo and national-scale generators: the indicator catalogue, the
//! municipalities, splitting totals over departments, synthetic polygons, CSV output.

use std::io::{self, Write};

use super::rng::Rng;
use crate::domain::model::{Direction, Kind};

/// The 98 municipalities (Danmarks Statistik's codes and names, public facts).
pub const MUNICIPALITIES_CSV: &str = include_str!("municipalities.csv");

pub struct MunicipalityRef {
    pub code: u16,
    pub name: &'static str,
    pub region_code: &'static str,
}

pub fn municipalities() -> Vec<MunicipalityRef> {
    MUNICIPALITIES_CSV
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&'static str> = l.split(',').collect();
            MunicipalityRef { code: f[0].parse().expect("code"), name: f[1], region_code: f[2] }
        })
        .collect()
}

/// How a synthetic indicator behaves: an area's level and yearly trend, the municipality's,
/// and how large its population is relative to an area's 18-64-year-olds.
pub struct IndicatorDef {
    pub code: &'static str,
    pub name_da: &'static str,
    pub name_en: &'static str,
    pub kind: Kind,
    pub direction: Direction,
    pub population_da: &'static str,
    pub population_en: &'static str,
    pub description_da: &'static str,
    pub description_en: &'static str,
    /// Which years are observed (surveys and elections are not annual).
    pub every: u16,
    pub first_year: u16,
    pub area_level: (f64, f64),
    pub area_trend: (f64, f64),
    pub municipality_level: (f64, f64),
    pub municipality_trend: (f64, f64),
    pub population_factor: f64,
    /// Noise around the trend, in the value's unit.
    pub noise: f64,
}

impl IndicatorDef {
    pub fn observed(&self, year: u16) -> bool {
        year >= self.first_year && (year - self.first_year).is_multiple_of(self.every)
    }
}

pub const OUTSIDE_WORK_EDUCATION: &str = "outside_work_education";

pub const INDICATORS: [IndicatorDef; 8] = [
    IndicatorDef {
        code: OUTSIDE_WORK_EDUCATION,
        name_da: "Uden for arbejdsmarkedet eller uddannelse",
        name_en: "Outside employment and education",
        kind: Kind::Share,
        direction: Direction::LowerIsBetter,
        population_da: "18-64-årige beboere",
        population_en: "Residents aged 18-64",
        description_da: "Andel af de 18-64-årige, der hverken er i beskæftigelse eller under uddannelse.",
        description_en: "Share of residents aged 18-64 who are neither employed nor in education.",
        every: 1,
        first_year: 2013,
        area_level: (30.0, 55.0),
        area_trend: (-1.5, -0.5),
        municipality_level: (13.0, 22.0),
        municipality_trend: (-0.5, -0.2),
        population_factor: 1.0,
        noise: 0.5,
    },
    IndicatorDef {
        code: "youth_education",
        name_da: "Unge med eller i gang med en ungdomsuddannelse",
        name_en: "Young people with or in upper-secondary education",
        kind: Kind::Share,
        direction: Direction::HigherIsBetter,
        population_da: "18-24-årige beboere",
        population_en: "Residents aged 18-24",
        description_da: "Andel af de 18-24-årige, der har gennemført eller er i gang med en ungdomsuddannelse.",
        description_en: "Share of residents aged 18-24 who have completed or are taking an upper-secondary education.",
        every: 1,
        first_year: 2013,
        area_level: (45.0, 68.0),
        area_trend: (0.4, 1.4),
        municipality_level: (72.0, 84.0),
        municipality_trend: (0.2, 0.6),
        population_factor: 0.18,
        noise: 1.5,
    },
    IndicatorDef {
        code: "grade_point_average",
        name_da: "Karaktergennemsnit ved 9. klasses prøver",
        name_en: "Grade point average, 9th-grade exams",
        kind: Kind::Mean,
        direction: Direction::HigherIsBetter,
        population_da: "Elever i 9. klasse",
        population_en: "Pupils in 9th grade",
        description_da: "Gennemsnit af de bundne prøver ved 9. klasses afgangsprøve (7-trinsskalaen).",
        description_en: "Mean of the mandatory 9th-grade exams (Danish 7-point scale).",
        every: 1,
        first_year: 2013,
        area_level: (4.6, 6.4),
        area_trend: (0.0, 0.08),
        municipality_level: (6.6, 7.6),
        municipality_trend: (0.0, 0.04),
        population_factor: 0.014,
        noise: 0.25,
    },
    IndicatorDef {
        code: "convicted_rate",
        name_da: "Dømte for overtrædelse af straffeloven",
        name_en: "Convicted of criminal-code offences",
        kind: Kind::Rate,
        direction: Direction::LowerIsBetter,
        population_da: "15-79-årige beboere",
        population_en: "Residents aged 15-79",
        description_da: "Personer dømt for overtrædelse af straffeloven i året pr. 1.000 beboere 15-79 år.",
        description_en: "People convicted of criminal-code offences in the year, per 1,000 residents aged 15-79.",
        every: 1,
        first_year: 2013,
        area_level: (20.0, 42.0),
        area_trend: (-1.4, -0.4),
        municipality_level: (8.0, 14.0),
        municipality_trend: (-0.3, -0.1),
        population_factor: 1.1,
        noise: 1.5,
    },
    IndicatorDef {
        code: "feel_unsafe",
        name_da: "Føler sig utrygge i boligområdet",
        name_en: "Feel unsafe in the neighbourhood",
        kind: Kind::Share,
        direction: Direction::LowerIsBetter,
        population_da: "Adspurgte beboere, 15 år og ældre",
        population_en: "Surveyed residents aged 15 and over",
        description_da: "Andel der i tryghedsundersøgelsen svarer, at de føler sig utrygge i området om aftenen.",
        description_en: "Share answering in the safety survey that they feel unsafe in the area in the evening.",
        every: 2,
        first_year: 2015,
        area_level: (16.0, 34.0),
        area_trend: (-1.0, -0.2),
        municipality_level: (5.0, 11.0),
        municipality_trend: (-0.3, 0.0),
        population_factor: 0.12,
        noise: 1.5,
    },
    IndicatorDef {
        code: "turnout",
        name_da: "Valgdeltagelse ved kommunalvalg",
        name_en: "Turnout at municipal elections",
        kind: Kind::Share,
        direction: Direction::HigherIsBetter,
        population_da: "Stemmeberettigede beboere",
        population_en: "Residents entitled to vote",
        description_da: "Andel af de stemmeberettigede, der stemte ved kommunal- og regionsrådsvalget.",
        description_en: "Share of those entitled to vote who voted at the municipal and regional elections.",
        every: 4,
        first_year: 2013,
        area_level: (38.0, 58.0),
        area_trend: (-0.4, 0.4),
        municipality_level: (64.0, 74.0),
        municipality_trend: (-0.4, 0.0),
        population_factor: 1.1,
        noise: 1.5,
    },
    IndicatorDef {
        code: "children_share",
        name_da: "Børn og unge under 18 år",
        name_en: "Children and young people under 18",
        kind: Kind::Share,
        direction: Direction::Neutral,
        population_da: "Alle beboere",
        population_en: "All residents",
        description_da: "Andel af beboerne, der er under 18 år.",
        description_en: "Share of residents under 18.",
        every: 1,
        first_year: 2013,
        area_level: (22.0, 35.0),
        area_trend: (-0.3, 0.2),
        municipality_level: (18.0, 23.0),
        municipality_trend: (-0.1, 0.05),
        population_factor: 1.6,
        noise: 0.6,
    },
    IndicatorDef {
        code: "disposable_income",
        name_da: "Disponibel indkomst, gennemsnit (1.000 kr.)",
        name_en: "Disposable income, mean (DKK 1,000)",
        kind: Kind::Mean,
        direction: Direction::HigherIsBetter,
        population_da: "Beboere 18 år og ældre",
        population_en: "Residents aged 18 and over",
        description_da: "Gennemsnitlig disponibel indkomst i 1.000 kr., løbende priser.",
        description_en: "Mean disposable income in DKK 1,000, current prices.",
        every: 1,
        first_year: 2013,
        area_level: (140.0, 185.0),
        area_trend: (2.0, 5.0),
        municipality_level: (215.0, 270.0),
        municipality_trend: (3.0, 6.0),
        population_factor: 1.2,
        noise: 2.0,
    },
];

/// Splits a whole-number total in proportion to weights (largest remainders), so that the
/// parts add up to the total exactly.
pub fn split(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| total as f64 * w / sum).collect();
    let mut parts: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let mut left = total - parts.iter().sum::<u64>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())).then(a.cmp(&b)));
    for i in order.into_iter().cycle() {
        if left == 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    parts
}

/// Splits an area's (numerator, denominator) over its departments: denominators by the
/// departments' sizes, numerators by size with some variation, never above a department's
/// own denominator for a share.
pub fn split_counts(rng: &mut Rng, n: u64, d: u64, sizes: &[f64], share: bool) -> Vec<(u64, u64)> {
    let ds = split(d, sizes);
    for _ in 0..8 {
        let weights: Vec<f64> = ds.iter().map(|&di| di as f64 * rng.range(0.8, 1.2)).collect();
        let ns = split(n, &weights);
        if !share || ns.iter().zip(&ds).all(|(a, b)| a <= b) {
            return ns.into_iter().zip(ds).collect();
        }
    }
    let ns = split(n, &ds.iter().map(|&x| x as f64).collect::<Vec<_>>());
    ns.into_iter().zip(ds).collect()
}

/// An irregular ring around a centre, counterclockwise and closed, radius in metres.
pub fn ring(rng: &mut Rng, lon: f64, lat: f64, radius: f64, vertices: usize) -> Vec<[f64; 2]> {
    let metres_lat = 1.0 / 111_320.0;
    let metres_lon = metres_lat / lat.to_radians().cos();
    let mut ring: Vec<[f64; 2]> = (0..vertices)
        .map(|i| {
            let angle = std::f64::consts::TAU * (i as f64 + rng.range(-0.3, 0.3)) / vertices as f64;
            let r = radius * rng.range(0.7, 1.0);
            [round7(lon + r * angle.cos() * metres_lon), round7(lat + r * angle.sin() * metres_lat)]
        })
        .collect();
    ring.push(ring[0]);
    ring
}

/// Seven decimals: about a centimetre.
pub fn round7(x: f64) -> f64 {
    (x * 1e7).round() / 1e7
}

/// Writes CSV rows with RFC 4180 quoting where needed.
pub fn csv_row(out: &mut impl Write, fields: &[&str]) -> io::Result<()> {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        if f.contains([',', '"', '\n', '\r']) {
            write!(out, "\"{}\"", f.replace('"', "\"\""))?;
        } else {
            out.write_all(f.as_bytes())?;
        }
    }
    out.write_all(b"\n")
}

pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The numerator that gives value `v` on denominator `d`: whole persons for shares and
/// rates, a sum with one decimal for means.
pub fn counts(kind: Kind, v: f64, d: u64) -> f64 {
    let n = v / kind.factor() * d as f64;
    match kind {
        Kind::Share => n.round().clamp(0.0, d as f64),
        Kind::Rate => n.round().max(0.0),
        Kind::Mean => round1(n),
    }
}

/// A numerator as written: whole for shares and rates, one decimal for means.
pub fn format_numerator(kind: Kind, n: f64) -> String {
    match kind {
        Kind::Mean => format!("{n:.1}"),
        _ => format!("{}", n.round() as u64),
    }
}

/// The indicators.csv of a generated extract.
pub fn indicators_csv() -> Vec<u8> {
    let mut out = Vec::new();
    csv_row(
        &mut out,
        &["code", "name_da", "name_en", "kind", "direction", "population_da", "population_en", "description_da", "description_en"],
    )
    .expect("writing to memory");
    for i in &INDICATORS {
        csv_row(
            &mut out,
            &[
                i.code,
                i.name_da,
                i.name_en,
                i.kind.as_str(),
                i.direction.as_str(),
                i.population_da,
                i.population_en,
                i.description_da,
                i.description_en,
            ],
        )
        .expect("writing to memory");
    }
    out
}

/// The municipalities.csv of a generated extract: all 98, each with a synthetic CVR number.
pub fn municipalities_csv() -> Vec<u8> {
    let mut out = Vec::new();
    csv_row(&mut out, &["code", "name", "region_code", "cvr"]).expect("writing to memory");
    for m in municipalities() {
        csv_row(&mut out, &[&m.code.to_string(), m.name, m.region_code, &municipality_cvr(m.code)]).expect("writing to memory");
    }
    out
}

/// Whether eight digits pass the CVR register's modulus-11 check (weights 2 7 6 5 4 3 2 1).
pub fn passes_modulus_11(cvr: &str) -> bool {
    let digits: Vec<u32> = cvr.chars().filter_map(|c| c.to_digit(10)).collect();
    digits.len() == 8 && digits.iter().zip([2, 7, 6, 5, 4, 3, 2, 1]).map(|(d, w)| d * w).sum::<u32>() % 11 == 0
}

/// A synthetic CVR number: the seven digits given and a last digit that fails the register's
/// modulus-11 check, so that it can never be a real company's or municipality's.
pub fn synthetic_cvr(first_seven: u32) -> String {
    (0..10).map(|d| format!("{:07}{d}", first_seven % 10_000_000)).find(|c| !passes_modulus_11(c)).expect("one of ten last digits fails")
}

/// A municipality's synthetic CVR number (9000 and its code, then a failing check digit).
pub fn municipality_cvr(code: u16) -> String {
    synthetic_cvr(9_000_000 + u32::from(code))
}

/// organisations.csv of a generated extract: `(organisation_id, name, cvr)`.
pub fn organisations_csv(organisations: &[(String, String, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    csv_row(&mut out, &["organisation_id", "name", "cvr"]).expect("writing to memory");
    for (id, name, cvr) in organisations {
        csv_row(&mut out, &[id, name, cvr]).expect("writing to memory");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_cvr_numbers_are_never_real_ones() {
        // published, valid ones (Aarhus Kommune's, Københavns Kommune's): the check is the register's
        assert!(passes_modulus_11("55133018") && passes_modulus_11("64942212"));
        assert!(!passes_modulus_11("55133019"));
        let all: Vec<String> = municipalities().iter().map(|m| municipality_cvr(m.code)).collect();
        assert!(all.iter().all(|c| c.len() == 8 && !passes_modulus_11(c)));
        let mut unique = all.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), all.len());
    }

    #[test]
    fn splits_add_up() {
        let parts = split(1001, &[1.0, 2.0, 3.5]);
        assert_eq!(parts.iter().sum::<u64>(), 1001);
        assert_eq!(split(0, &[1.0, 1.0]), vec![0, 0]);
        let mut rng = Rng::new(3);
        for _ in 0..200 {
            let d = rng.int(20, 5000);
            let n = rng.int(0, d);
            let parts = split_counts(&mut rng, n, d, &[0.7, 1.3, 1.0, 0.4], true);
            assert_eq!(parts.iter().map(|p| p.0).sum::<u64>(), n);
            assert_eq!(parts.iter().map(|p| p.1).sum::<u64>(), d);
            assert!(parts.iter().all(|(a, b)| a <= b));
        }
    }

    #[test]
    fn rings_are_closed_and_counterclockwise() {
        let mut rng = Rng::new(1);
        let r = ring(&mut rng, 10.0, 56.0, 300.0, 20);
        assert_eq!(r.first(), r.last());
        assert!(crate::domain::geometry::signed_area2(&r) > 0.0);
    }

    #[test]
    fn the_reference_list_has_98_municipalities() {
        assert_eq!(municipalities().len(), 98);
    }
}
