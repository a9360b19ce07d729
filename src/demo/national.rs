//! A synthetic extract the size of the whole Danish social-housing sector, for benchmarks:
//! about 7,500 departments, 1,000 areas with detailed geometry (in EPSG:25832, so that the
//! projection is exercised at scale), 98 municipalities, 30 indicators and 15 years: about
//! 3.4 million observation rows. Deterministic by seed; written straight to files so that
//! generating it needs little memory.

use std::fmt;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;

use super::common::*;
use super::rng::Rng;
use crate::ingest::projection::{UtmZone, lon_lat_to_utm};

pub const DEPARTMENTS: usize = 7_500;
pub const AREAS: usize = 1_000;
pub const INDICATOR_COUNT: usize = 30;
/// Housing organisations (Denmark has about 500).
pub const ORGANISATIONS: usize = 500;
pub const YEARS: std::ops::RangeInclusive<u16> = 2010..=2024;

pub struct Stats {
    pub departments: usize,
    pub areas: usize,
    pub observations: usize,
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a national-scale extract ({} departments, {} areas, {INDICATOR_COUNT} indicators, {} observation rows)",
            self.departments, self.areas, self.observations
        )
    }
}

/// The i-th of 30 indicators: the demo's eight, repeated with numbered codes.
fn indicator(i: usize) -> (String, &'static IndicatorDef) {
    let def = &INDICATORS[i % INDICATORS.len()];
    let round = i / INDICATORS.len();
    let code = if round == 0 { def.code.to_string() } else { format!("{}_{}", def.code, round + 1) };
    (code, def)
}

pub fn write(dir: &Path, seed: u64, scale: f64) -> anyhow::Result<Stats> {
    fs::create_dir_all(dir)?;
    let mut rng = Rng::new(seed);
    let n_departments = ((DEPARTMENTS as f64 * scale).round() as usize).max(10);
    let n_areas = ((AREAS as f64 * scale).round() as usize).clamp(1, n_departments / 3);
    let municipalities = municipalities();

    let manifest = serde_json::json!({
        "format": "boligsocial-extract",
        "version": 1,
        "title": format!("Syntetisk landsdækkende udtræk (seed {seed}) / Synthetic national-scale extract"),
        "source": "Boligsocial API benchmark generator (synthetic)",
        "boundary_version": "2024-09",
        // the legal criteria read the catalogue's indicators under their roles (synthetic:
        // the figures mean nothing, the computation is what is measured)
        "criteria_indicators": {
            "convicted": "convicted_rate",
            "basic_education_only": "youth_education",
            "gross_income": "disposable_income",
            "non_western": "children_share",
        },
    });
    fs::write(dir.join("manifest.json"), serde_json::to_vec_pretty(&manifest)?)?;

    let mut out = BufWriter::new(File::create(dir.join("indicators.csv"))?);
    csv_row(&mut out, &["code", "name_da", "name_en", "kind", "direction", "population_da", "population_en"])?;
    for i in 0..INDICATOR_COUNT {
        let (code, def) = indicator(i);
        let suffix = if i < INDICATORS.len() { String::new() } else { format!(" ({})", i / INDICATORS.len() + 1) };
        csv_row(
            &mut out,
            &[
                &code,
                &format!("{}{suffix}", def.name_da),
                &format!("{}{suffix}", def.name_en),
                def.kind.as_str(),
                def.direction.as_str(),
                def.population_da,
                def.population_en,
            ],
        )?;
    }
    out.flush()?;
    fs::write(dir.join("municipalities.csv"), municipalities_csv())?;
    let organisations: Vec<(String, String, String)> = (0..ORGANISATIONS)
        .map(|n| (format!("ORG-{n:03}"), format!("Boligorganisation {}", n + 1), synthetic_cvr(9_200_000 + n as u32)))
        .collect();
    fs::write(dir.join("organisations.csv"), organisations_csv(&organisations))?;

    // departments, spread over municipalities with some big and many small
    let weights: Vec<f64> = municipalities.iter().map(|_| rng.range(0.2, 1.0).powi(3)).collect();
    let per_municipality = split(n_departments as u64, &weights);
    let mut departments: Vec<(String, u16, f64)> = Vec::with_capacity(n_departments);
    let mut out = BufWriter::new(File::create(dir.join("departments.csv"))?);
    csv_row(&mut out, &["department_id", "name", "municipality_code", "organisation"])?;
    for (mi, (m, &count)) in municipalities.iter().zip(&per_municipality).enumerate() {
        for k in 0..count {
            let id = format!("{:04}-{:04}", m.code, k + 1);
            // runs of three departments per organisation, so that areas (runs of up to six)
            // are often shared by two, and organisations reach over several municipalities
            let organisation = (mi * 5 + k as usize / 3) % ORGANISATIONS;
            csv_row(&mut out, &[&id, &format!("Afdeling {}", k + 1), &m.code.to_string(), &format!("ORG-{organisation:03}")])?;
            departments.push((id, m.code, rng.range(40.0, 700.0)));
        }
    }
    out.flush()?;

    // areas: consecutive runs of a municipality's departments
    let mut areas: Vec<(String, u16, Vec<usize>)> = Vec::with_capacity(n_areas);
    let mut next = 0;
    while areas.len() < n_areas && next < departments.len() {
        let take = rng.int(1, 6) as usize;
        let code = departments[next].1;
        let members: Vec<usize> = (next..departments.len()).take(take).filter(|&d| departments[d].1 == code).collect();
        next += members.len();
        areas.push((format!("A{:04}", areas.len() + 1), code, members));
        // leave some departments outside any area
        next += rng.int(0, 4) as usize;
    }
    let mut out = BufWriter::new(File::create(dir.join("areas.csv"))?);
    csv_row(&mut out, &["area_id", "name", "municipality_code"])?;
    for (id, code, _) in &areas {
        csv_row(&mut out, &[id, &format!("Område {id}"), &code.to_string()])?;
    }
    out.flush()?;
    let mut out = BufWriter::new(File::create(dir.join("area_departments.csv"))?);
    csv_row(&mut out, &["boundary_version", "area_id", "department_id"])?;
    for (id, _, members) in &areas {
        for &d in members {
            csv_row(&mut out, &["2024-09", id, &departments[d].0])?;
        }
    }
    out.flush()?;

    let mut in_area = vec![false; departments.len()];
    for (_, _, members) in &areas {
        for &d in members {
            in_area[d] = true;
        }
    }
    let mut out = BufWriter::with_capacity(1 << 20, File::create(dir.join("observations.csv"))?);
    writeln!(out, "level,unit,indicator,year,numerator,denominator")?;
    let mut rows = 0usize;
    for i in 0..INDICATOR_COUNT {
        let (code, def) = indicator(i);
        let mut write_row = |out: &mut BufWriter<File>, level: &str, unit: &str, year: u16, v: f64, d: u64| -> std::io::Result<()> {
            let n = counts(def.kind, v, d);
            rows += 1;
            writeln!(out, "{level},{unit},{code},{year},{},{d}", format_numerator(def.kind, n))
        };
        // the persons of each municipality's plan areas, per year: its sector holds them
        let mut planned: std::collections::HashMap<(u16, u16), u64> = std::collections::HashMap::new();
        for (k, (id, municipality, size)) in departments.iter().enumerate() {
            let level = rng.range(def.area_level.0, def.area_level.1);
            let trend = rng.range(def.area_trend.0, def.area_trend.1);
            for year in YEARS {
                let d = (size * def.population_factor * rng.range(0.95, 1.05)).round().max(1.0) as u64;
                if in_area[k] {
                    *planned.entry((*municipality, year)).or_default() += d;
                }
                let v = level + trend * f64::from(year - 2010) + rng.range(-def.noise, def.noise);
                write_row(&mut out, "department", id, year, v.max(0.0), d)?;
            }
        }
        for m in &municipalities {
            let level = rng.range(def.municipality_level.0, def.municipality_level.1);
            let trend = rng.range(def.municipality_trend.0, def.municipality_trend.1);
            let population = rng.range(20_000.0, 400_000.0) * def.population_factor;
            for year in YEARS {
                let v = level + trend * f64::from(year - 2010);
                write_row(&mut out, "municipality", &m.code.to_string(), year, v, population.round() as u64)?;
                let social = v + 0.5 * ((def.area_level.0 + def.area_level.1) / 2.0 - v);
                let sector = (population * 0.2).round().max(3.0 * planned.get(&(m.code, year)).copied().unwrap_or(0) as f64);
                write_row(&mut out, "social_housing", &m.code.to_string(), year, social, sector as u64)?;
            }
        }
        for year in YEARS {
            let v = (def.municipality_level.0 + def.municipality_level.1) / 2.0;
            write_row(&mut out, "country", "DK", year, v, (3_600_000.0 * def.population_factor) as u64)?;
            // the regions, for the income criteria
            if code == "disposable_income" {
                for region in ["1081", "1082", "1083", "1084", "1085"] {
                    write_row(&mut out, "region", region, year, v, (700_000.0 * def.population_factor) as u64)?;
                }
            }
        }
    }
    out.flush()?;

    // geometry with hundreds of vertices, delivered in ETRS89 / UTM 32N
    let mut out = BufWriter::new(File::create(dir.join("areas.geojson"))?);
    writeln!(
        out,
        r#"{{"type":"FeatureCollection","crs":{{"type":"name","properties":{{"name":"urn:ogc:def:crs:EPSG::25832"}}}},"features":["#
    )?;
    for (k, (id, _, _)) in areas.iter().enumerate() {
        let lon = rng.range(8.3, 12.4);
        let lat = rng.range(55.0, 57.4);
        let vertices = rng.int(200, 600) as usize;
        let radius = rng.range(200.0, 900.0);
        let ring: Vec<[f64; 2]> = ring(&mut rng, lon, lat, radius, vertices)
            .into_iter()
            .map(|[x, y]| {
                let (e, n) = lon_lat_to_utm(UtmZone::Z32, x, y);
                [(e * 100.0).round() / 100.0, (n * 100.0).round() / 100.0]
            })
            .collect();
        let feature =
            serde_json::json!({"type": "Feature", "properties": {"area_id": id}, "geometry": {"type": "Polygon", "coordinates": [ring]}});
        let comma = if k + 1 < areas.len() { "," } else { "" };
        writeln!(out, "{feature}{comma}")?;
    }
    writeln!(out, "]}}")?;
    out.flush()?;

    // the plans' history (comparisons.md, "Coverage"), as the demo's: four-year periods back
    // to back, the first covering about half an area's departments, each renewal one more
    // (from a generator of their own, so the figures above are as they were)
    let mut rng = Rng::new(seed ^ 0x9e37_79b9_7f4a_7c15);
    let mut plans = BufWriter::new(File::create(dir.join("plans.csv"))?);
    csv_row(&mut plans, &["plan_id", "area_id", "name", "from_year", "to_year"])?;
    let mut covered = BufWriter::new(File::create(dir.join("plan_departments.csv"))?);
    csv_row(&mut covered, &["plan_id", "department_id"])?;
    for (id, _, members) in &areas {
        let mut from = 2009 + rng.int(0, 10) as u16;
        let mut count = members.len().div_ceil(2).max(1);
        let mut k = 1;
        while from <= 2024 {
            let (to, plan) = (from + 3, format!("{id}-P{k}"));
            csv_row(&mut plans, &[&plan, id, &format!("Helhedsplan {id} {from}-{to}"), &from.to_string(), &to.to_string()])?;
            for &d in &members[..count] {
                csv_row(&mut covered, &[&plan, &departments[d].0])?;
            }
            (count, from, k) = ((count + 1).min(members.len()), to + 1, k + 1);
        }
    }
    plans.flush()?;
    covered.flush()?;
    Ok(Stats { departments: departments.len(), areas: areas.len(), observations: rows })
}
