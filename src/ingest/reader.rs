//! Reads and validates a whole extract in one pass over its files, collecting every problem
//! (up to [`super::problems::MAX_PROBLEMS`]) with file, line and column.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Read};

use sha2::{Digest, Sha256};

use super::Limits;
use super::csv_table::{Column, CsvTable, NumberError, Row, optional, parse_count, parse_decimal, required};
use super::extract::*;
use super::geojson::{self, GeometryLimits};
use super::json::{self, Json};
use super::json_stream::Pos;
use super::problems::{Problems, Rejection};
use super::source::ExtractSource;
use crate::domain::geometry::MultiPolygon;
use crate::domain::model::{Kind, Level, MunicipalityCode, is_area_id, is_indicator_code};

pub const MANIFEST: &str = "manifest.json";
pub const INDICATORS: &str = "indicators.csv";
pub const MUNICIPALITIES: &str = "municipalities.csv";
pub const DEPARTMENTS: &str = "departments.csv";
pub const AREAS: &str = "areas.csv";
pub const AREA_DEPARTMENTS: &str = "area_departments.csv";
pub const OBSERVATIONS: &str = "observations.csv";
pub const GEOMETRY: &str = "areas.geojson";
/// Optional, beyond format version 1: municipality outlines for the municipality layer.
pub const MUNICIPALITY_GEOMETRY: &str = "municipalities.geojson";
/// Optional: the housing organisations, for signed-in access (access.md).
pub const ORGANISATIONS: &str = "organisations.csv";
/// Optional, together: the plans' grant periods and the departments each covered
/// (comparisons.md, "Coverage").
pub const PLANS: &str = "plans.csv";
pub const PLAN_DEPARTMENTS: &str = "plan_departments.csv";

/// The extract's files in the order they are read (and hashed). The optional ones come last
/// and count in the hash only when present, so that an extract without them keeps the hash
/// it had before they were known.
pub const FILES: [&str; 12] = [
    MANIFEST,
    INDICATORS,
    MUNICIPALITIES,
    DEPARTMENTS,
    AREAS,
    AREA_DEPARTMENTS,
    OBSERVATIONS,
    GEOMETRY,
    MUNICIPALITY_GEOMETRY,
    ORGANISATIONS,
    PLANS,
    PLAN_DEPARTMENTS,
];
/// Files an extract may leave out without a problem (the plans' two only together).
const OPTIONAL_FILES: [&str; 4] = [MUNICIPALITY_GEOMETRY, ORGANISATIONS, PLANS, PLAN_DEPARTMENTS];

/// The manifest is read whole; this bounds it.
const MAX_JSON_BYTES: u64 = 1 << 20;

/// How often (in rows) the observations' memory is checked against the budget.
const BUDGET_CHECK_ROWS: usize = 1 << 16;

const INDICATOR_COLUMNS: &[Column] = &[
    required("code"),
    required("name_da"),
    required("name_en"),
    required("kind"),
    required("direction"),
    required("population_da"),
    required("population_en"),
    optional("description_da"),
    optional("description_en"),
];
const MUNICIPALITY_COLUMNS: &[Column] = &[required("code"), required("name"), optional("region_code"), optional("cvr")];
const ORGANISATION_COLUMNS: &[Column] = &[required("organisation_id"), required("name"), required("cvr")];
const PLAN_COLUMNS: &[Column] = &[required("plan_id"), required("area_id"), required("name"), required("from_year"), required("to_year")];
const PLAN_DEPARTMENT_COLUMNS: &[Column] = &[required("plan_id"), required("department_id")];
const DEPARTMENT_COLUMNS: &[Column] =
    &[required("department_id"), required("name"), required("municipality_code"), optional("organisation")];
const AREA_COLUMNS: &[Column] = &[required("area_id"), required("name"), required("municipality_code")];
const MEMBERSHIP_COLUMNS: &[Column] = &[required("boundary_version"), required("area_id"), required("department_id")];
const OBSERVATION_COLUMNS: &[Column] =
    &[required("level"), required("unit"), required("indicator"), required("year"), required("numerator"), required("denominator")];

/// Feeds everything read through the content hash.
struct Hashing<'h, R> {
    inner: R,
    hasher: &'h mut Sha256,
    bytes: u64,
}

impl<R: Read> Read for Hashing<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// The keys of a file: every well-formed key seen (for duplicates, and so that a row with
/// another problem does not also make each reference to it "unknown"), and the index of
/// each complete row.
struct Keys<T> {
    seen: HashSet<String>,
    index: HashMap<String, T>,
}

impl<T> Default for Keys<T> {
    fn default() -> Self {
        Keys { seen: HashSet::new(), index: HashMap::new() }
    }
}

/// What has been read so far; lookups are `None` when their file could not be read, so that
/// its absence is reported once rather than as a problem on every row that refers to it.
#[derive(Default)]
struct State {
    problems: Problems,
    manifest: Option<Manifest>,
    indicators: Vec<IndicatorRow>,
    indicator_index: Option<Keys<u16>>,
    municipalities: Vec<MunicipalityRow>,
    municipality_set: Option<HashSet<MunicipalityCode>>,
    departments: Vec<DepartmentRow>,
    department_index: Option<Keys<u32>>,
    areas: Vec<AreaRow>,
    area_lines: Vec<u64>,
    area_index: Option<Keys<u32>>,
    memberships: Vec<Membership>,
    observations: Vec<Observation>,
    geometries: Vec<AreaGeometry>,
    municipality_geometries: Vec<MunicipalityGeometry>,
    /// Positions of the geometries kept.
    geometry_positions: usize,
    limits: Limits,
    /// Set when the budget is spent: nothing more is read.
    stopped: bool,
    /// The manifest's criteria_indicators, (role, code, where), checked once indicators are read.
    role_positions: Vec<(String, String, Pos)>,
    /// Every CVR number seen, with the file naming it: unique across both files.
    cvrs: HashMap<String, &'static str>,
    /// departments.csv's organisations, (id, line, column), checked once organisations.csv
    /// is read (it comes after, to keep the hashes of extracts without it).
    organisation_refs: Vec<(String, u64, u64)>,
    organisations: Vec<OrganisationRow>,
    /// The organisation ids, when organisations.csv was read.
    organisation_ids: Option<HashSet<String>>,
    /// The plans, by plan_id once plans.csv is read, with each one's line; and whether
    /// plan_departments.csv was read.
    plans: Vec<PlanRow>,
    plan_lines: Vec<u64>,
    plan_index: Option<Keys<u32>>,
    plan_departments_read: bool,
    plan_department_rows: usize,
    /// The plans plan_departments.csv names (its rows with problems included: a plan whose
    /// only rows are wrong has those problems, not one more).
    plans_listed: HashSet<u32>,
}

impl State {
    /// The bytes the extract's rows hold so far, roughly: what the budget is counted in.
    fn memory(&self) -> usize {
        use std::mem::size_of;
        self.observations.capacity() * size_of::<Observation>()
            + self.memberships.capacity() * (size_of::<Membership>() + 16)
            + self.departments.capacity() * (size_of::<DepartmentRow>() + 48)
            + self.areas.capacity() * (size_of::<AreaRow>() + 32)
            + self.geometry_positions * 16
            + self.plan_department_rows * 40
    }

    /// Stops the reading, with a problem at `file:line`, once the budget is spent.
    fn over_budget(&mut self, file: &str, line: u64) -> bool {
        if !self.stopped && self.memory() > self.limits.max_memory_bytes {
            self.problems.at(
                file,
                line,
                1,
                format!(
                    "the extract needs more than {} bytes of memory to import (import.max_memory_bytes); reading stopped here",
                    self.limits.max_memory_bytes
                ),
            );
            self.stopped = true;
        }
        self.stopped
    }
}

/// Reads, validates and hashes an extract with the default limits. Nothing is written anywhere.
pub fn read_extract(source: &mut dyn ExtractSource) -> Result<Extract, Rejection> {
    read_extract_with(source, &Limits::default())
}

/// Reads, validates and hashes an extract within `limits`. Nothing is written anywhere.
pub fn read_extract_with(source: &mut dyn ExtractSource, limits: &Limits) -> Result<Extract, Rejection> {
    let mut hasher = Sha256::new();
    let mut st = State { limits: *limits, ..State::default() };
    for name in FILES {
        if st.stopped {
            break;
        }
        let opened = match source.open(name) {
            Ok(r) => r,
            Err(e) => {
                st.problems.add(name, None, None, format!("cannot read the file: {e}"));
                continue;
            }
        };
        if opened.is_none() && OPTIONAL_FILES.contains(&name) {
            continue;
        }
        hasher.update(name.as_bytes());
        hasher.update([0]);
        let Some(reader) = opened else {
            hasher.update(b"absent");
            if name != GEOMETRY {
                st.problems.add(name, None, None, "the file is missing from the extract");
            }
            continue;
        };
        let mut hashing = Hashing { inner: reader, hasher: &mut hasher, bytes: 0 };
        match name {
            MANIFEST => read_manifest(&mut hashing, &mut st),
            INDICATORS => read_indicators(&mut hashing, &mut st),
            MUNICIPALITIES => read_municipalities(&mut hashing, &mut st),
            DEPARTMENTS => read_departments(&mut hashing, &mut st),
            AREAS => read_areas(&mut hashing, &mut st),
            AREA_DEPARTMENTS => read_memberships(&mut hashing, &mut st),
            OBSERVATIONS => read_observations(&mut hashing, &mut st),
            GEOMETRY => read_geometry(&mut hashing, &mut st),
            MUNICIPALITY_GEOMETRY => read_municipality_geometry(&mut hashing, &mut st),
            ORGANISATIONS => read_organisations(&mut hashing, &mut st),
            PLANS => read_plans(&mut hashing, &mut st),
            PLAN_DEPARTMENTS => read_plan_departments(&mut hashing, &mut st),
            _ => unreachable!("FILES lists every file"),
        }
        // hash the rest too, so that the hash covers the whole file however far it was read
        let _ = io::copy(&mut hashing, &mut io::sink());
        let len = hashing.bytes;
        hasher.update([0]);
        hasher.update(len.to_le_bytes());
    }
    check_default_delimitation(&mut st);
    check_criteria_indicators(&mut st);
    check_organisation_refs(&mut st);
    check_plans(&mut st);
    check_duplicate_observations(&mut st);
    // (a manifest without problems was kept; one missing was a problem)
    let Some(manifest) = st.manifest.take().filter(|_| st.problems.is_empty()) else {
        if st.problems.is_empty() {
            st.problems.add(MANIFEST, None, None, "the manifest could not be read");
        }
        return Err(st.problems.into_rejection());
    };
    Ok(Extract {
        manifest,
        indicators: st.indicators,
        municipalities: st.municipalities,
        departments: st.departments,
        areas: st.areas,
        memberships: st.memberships,
        observations: st.observations,
        geometries: st.geometries,
        municipality_geometries: st.municipality_geometries,
        organisations: st.organisations,
        plans: st.plans,
        content_hash: hex::encode(hasher.finalize()),
    })
}

fn read_json(reader: &mut dyn Read, file: &str, problems: &mut Problems) -> Option<Json> {
    let mut bytes = Vec::new();
    if let Err(e) = reader.take(MAX_JSON_BYTES + 1).read_to_end(&mut bytes) {
        problems.add(file, None, None, format!("cannot read the file: {e}"));
        return None;
    }
    if bytes.len() as u64 > MAX_JSON_BYTES {
        problems.add(file, None, None, format!("the file is larger than {MAX_JSON_BYTES} bytes"));
        return None;
    }
    match json::parse_reader(&bytes[..]) {
        Ok(v) => Some(v),
        Err(e) => {
            problems.at(file, e.pos.line, e.pos.column, format!("invalid JSON: {}", e.message));
            None
        }
    }
}

fn read_manifest(reader: &mut dyn Read, st: &mut State) {
    let Some(json) = read_json(reader, MANIFEST, &mut st.problems) else { return };
    let report = |pos: Pos, msg: String, problems: &mut Problems| problems.at(MANIFEST, pos.line, pos.column, msg);
    if !matches!(json.value, json::Value::Object(_)) {
        report(json.pos, "the manifest must be a JSON object".into(), &mut st.problems);
        return;
    }
    let mut ok = true;
    match json.get("format") {
        Some(f) if f.as_str() == Some("boligsocial-extract") => {}
        Some(f) => {
            report(f.pos, "format must be \"boligsocial-extract\"".into(), &mut st.problems);
            ok = false;
        }
        None => {
            report(json.pos, "the manifest has no \"format\"".into(), &mut st.problems);
            ok = false;
        }
    }
    match json.get("version") {
        Some(v) if v.as_f64() == Some(1.0) => {}
        Some(v) => {
            report(v.pos, "only version 1 of the extract format is supported".into(), &mut st.problems);
            ok = false;
        }
        None => {
            report(json.pos, "the manifest has no \"version\"".into(), &mut st.problems);
            ok = false;
        }
    }
    let text_member = |key: &str, problems: &mut Problems| -> Option<String> {
        match json.get(key) {
            Some(v) => match v.as_str().map(str::trim) {
                Some(s) if !s.is_empty() => Some(s.to_string()),
                _ => {
                    report(v.pos, format!("{key} must be a non-empty string"), problems);
                    None
                }
            },
            None => {
                report(json.pos, format!("the manifest has no {key:?}"), problems);
                None
            }
        }
    };
    let title = text_member("title", &mut st.problems);
    let source = text_member("source", &mut st.problems);
    let boundary_version = text_member("boundary_version", &mut st.problems);
    let mut criteria_indicators = std::collections::BTreeMap::new();
    if let Some(map) = json.get("criteria_indicators") {
        match &map.value {
            json::Value::Object(members) => {
                for (role, code) in members {
                    if !crate::domain::criteria::ROLES.contains(&role.as_str()) {
                        let roles = crate::domain::criteria::ROLES.join(", ");
                        report(
                            code.pos,
                            format!("criteria_indicators names an unknown role {role:?}; the roles are {roles}"),
                            &mut st.problems,
                        );
                        continue;
                    }
                    match code.as_str().map(str::trim) {
                        Some(c) if !c.is_empty() => {
                            st.role_positions.push((role.clone(), c.to_string(), code.pos));
                            criteria_indicators.insert(role.clone(), c.to_string());
                        }
                        _ => report(code.pos, format!("criteria_indicators.{role} must be an indicator code"), &mut st.problems),
                    }
                }
            }
            _ => report(map.pos, "criteria_indicators must be an object of role → indicator code".into(), &mut st.problems),
        }
    }
    if let (true, Some(title), Some(source), Some(boundary_version)) = (ok, title, source, boundary_version) {
        st.manifest = Some(Manifest { title, source, boundary_version, criteria_indicators });
    }
}

/// A cell's text as an owned string, when present.
fn text<R: Read>(t: &CsvTable<R>, row: &super::csv_table::Row, col: usize, p: &mut Problems) -> Option<String> {
    t.get(row, col, p).map(|c| c.text.to_string())
}

fn read_indicators(reader: &mut dyn Read, st: &mut State) {
    let Some(mut t) = CsvTable::open(INDICATORS, reader, INDICATOR_COLUMNS, &mut st.problems) else { return };
    let mut keys = Keys::default();
    let mut row = Row::default();
    while t.next_row(&mut row, &mut st.problems) {
        let p = &mut st.problems;
        let code = t.get(&row, 0, p);
        let code = code.and_then(|c| {
            if !is_indicator_code(c.text) {
                p.at(INDICATORS, row.line, c.column, format!("code {:?} must match [a-z0-9_]{{1,64}}", c.text));
                None
            } else if !keys.seen.insert(c.text.to_string()) {
                p.at(INDICATORS, row.line, c.column, format!("duplicate indicator code {:?}", c.text));
                None
            } else {
                Some(c.text.to_string())
            }
        });
        let kind = t.get(&row, 3, p).and_then(|c| {
            let k = c.text.parse::<Kind>().ok();
            if k.is_none() {
                p.at(INDICATORS, row.line, c.column, format!("kind {:?} must be share, rate or mean", c.text));
            }
            k
        });
        let direction = t.get(&row, 4, p).and_then(|c| {
            let d = c.text.parse().ok();
            if d.is_none() {
                p.at(
                    INDICATORS,
                    row.line,
                    c.column,
                    format!("direction {:?} must be lower_is_better, higher_is_better or neutral", c.text),
                );
            }
            d
        });
        let fields = (text(&t, &row, 1, p), text(&t, &row, 2, p), text(&t, &row, 5, p), text(&t, &row, 6, p));
        let (description_da, description_en) = (text(&t, &row, 7, p), text(&t, &row, 8, p));
        if let (Some(code), Some(kind), Some(direction), (Some(name_da), Some(name_en), Some(pop_da), Some(pop_en))) =
            (code, kind, direction, fields)
        {
            if st.indicators.len() >= u16::MAX as usize {
                p.at(INDICATORS, row.line, 1, "too many indicators");
                continue;
            }
            keys.index.insert(code.clone(), st.indicators.len() as u16);
            st.indicators.push(IndicatorRow {
                code,
                name_da,
                name_en,
                kind,
                direction,
                population_da: pop_da,
                population_en: pop_en,
                description_da,
                description_en,
            });
        }
    }
    st.indicator_index = Some(keys);
}

fn read_municipalities(reader: &mut dyn Read, st: &mut State) {
    let Some(mut t) = CsvTable::open(MUNICIPALITIES, reader, MUNICIPALITY_COLUMNS, &mut st.problems) else { return };
    let mut seen = HashSet::new();
    let mut row = Row::default();
    while t.next_row(&mut row, &mut st.problems) {
        let p = &mut st.problems;
        let code = t.get(&row, 0, p).and_then(|c| match c.text.parse::<MunicipalityCode>() {
            Ok(code) if !seen.insert(code) => {
                p.at(MUNICIPALITIES, row.line, c.column, format!("duplicate municipality code {code}"));
                None
            }
            Ok(code) => Some(code),
            Err(()) => {
                p.at(MUNICIPALITIES, row.line, c.column, format!("{:?} is not a municipality code such as 101 or 0101", c.text));
                None
            }
        });
        let name = text(&t, &row, 1, p);
        let region_code = text(&t, &row, 2, p);
        let cvr = t.get(&row, 3, p).and_then(|c| cvr(&mut st.cvrs, MUNICIPALITIES, row.line, c, p));
        if let (Some(code), Some(name)) = (code, name) {
            st.municipalities.push(MunicipalityRow { code, name, region_code, cvr });
        }
    }
    st.municipality_set = Some(seen);
}

/// Checks a municipality reference; `None` means the municipality list is unusable and the
/// check is skipped (its own problem has been reported).
fn municipality_ref(
    set: &Option<HashSet<MunicipalityCode>>,
    file: &'static str,
    line: u64,
    cell: super::csv_table::Cell,
    p: &mut Problems,
) -> Option<MunicipalityCode> {
    let Ok(code) = cell.text.parse::<MunicipalityCode>() else {
        p.at(file, line, cell.column, format!("{:?} is not a municipality code such as 101 or 0101", cell.text));
        return None;
    };
    if let Some(set) = set
        && !set.contains(&code)
    {
        p.at(file, line, cell.column, format!("unknown municipality {code}: not in {MUNICIPALITIES}"));
        return None;
    }
    Some(code)
}

/// An id of at most 64 characters, not seen before in its file.
fn new_id(
    seen: &mut HashSet<String>,
    (file, column): (&'static str, &str),
    line: u64,
    cell: super::csv_table::Cell,
    p: &mut Problems,
) -> Option<String> {
    if cell.text.chars().count() > 64 {
        p.at(file, line, cell.column, format!("{column} is longer than 64 characters"));
        None
    } else if !seen.insert(cell.text.to_string()) {
        p.at(file, line, cell.column, format!("duplicate {column} {:?}", cell.text));
        None
    } else {
        Some(cell.text.to_string())
    }
}

fn read_departments(reader: &mut dyn Read, st: &mut State) {
    let Some(mut t) = CsvTable::open(DEPARTMENTS, reader, DEPARTMENT_COLUMNS, &mut st.problems) else { return };
    let mut keys = Keys::default();
    let mut row = Row::default();
    while t.next_row(&mut row, &mut st.problems) {
        let p = &mut st.problems;
        let id = t.get(&row, 0, p).and_then(|c| new_id(&mut keys.seen, (DEPARTMENTS, "department_id"), row.line, c, p));
        let name = text(&t, &row, 1, p);
        let municipality = t.get(&row, 2, p).and_then(|c| municipality_ref(&st.municipality_set, DEPARTMENTS, row.line, c, p));
        let organisation = t.get(&row, 3, p).map(|c| {
            st.organisation_refs.push((c.text.to_string(), row.line, c.column));
            c.text.to_string()
        });
        if let (Some(department_id), Some(name), Some(municipality)) = (id, name, municipality) {
            keys.index.insert(department_id.clone(), st.departments.len() as u32);
            st.departments.push(DepartmentRow { department_id, name, municipality, organisation });
        }
    }
    st.department_index = Some(keys);
}

/// A CVR number: eight digits, not seen before in either file.
fn cvr(
    seen: &mut HashMap<String, &'static str>,
    file: &'static str,
    line: u64,
    cell: super::csv_table::Cell,
    p: &mut Problems,
) -> Option<String> {
    let text = cell.text;
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        p.at(file, line, cell.column, format!("cvr {text:?} must be eight digits"));
        return None;
    }
    if let Some(other) = seen.insert(text.to_string(), file) {
        p.at(
            file,
            line,
            cell.column,
            format!("cvr {text} is named already in {other}: a CVR number is one organisation's or one municipality's"),
        );
        return None;
    }
    Some(text.to_string())
}

fn read_organisations(reader: &mut dyn Read, st: &mut State) {
    let Some(mut t) = CsvTable::open(ORGANISATIONS, reader, ORGANISATION_COLUMNS, &mut st.problems) else { return };
    let mut ids = HashSet::new();
    let mut row = Row::default();
    while t.next_row(&mut row, &mut st.problems) {
        let p = &mut st.problems;
        let id = t.get(&row, 0, p).and_then(|c| new_id(&mut ids, (ORGANISATIONS, "organisation_id"), row.line, c, p));
        let name = text(&t, &row, 1, p);
        let cvr = t.get(&row, 2, p).and_then(|c| cvr(&mut st.cvrs, ORGANISATIONS, row.line, c, p));
        if let (Some(organisation_id), Some(name), Some(cvr)) = (id, name, cvr) {
            st.organisations.push(OrganisationRow { organisation_id, name, cvr });
        }
    }
    st.organisation_ids = Some(ids);
}

/// With organisations.csv, every department's organisation must be one of them; without it,
/// `organisation` is a free name, as before.
fn check_organisation_refs(st: &mut State) {
    let Some(ids) = &st.organisation_ids else { return };
    for (id, line, column) in &st.organisation_refs {
        if !ids.contains(id) {
            st.problems.at(DEPARTMENTS, *line, *column, format!("unknown organisation {id:?}: not in {ORGANISATIONS}"));
        }
    }
}

/// A year as observations have them: a whole number from 1900 to 2100.
fn year(cell: super::csv_table::Cell, (file, column): (&'static str, &str), line: u64, p: &mut Problems) -> Option<u16> {
    match parse_count(cell.text, false) {
        Ok(y) if (1900.0..=2100.0).contains(&y) => Some(y as u16),
        Ok(_) => {
            p.at(file, line, cell.column, format!("{column} {} is outside 1900 to 2100", cell.text));
            None
        }
        Err(_) => {
            p.at(file, line, cell.column, format!("{column} {:?} is not a whole number", cell.text));
            None
        }
    }
}

/// A new id of the area form (`[A-Za-z0-9_-]{1,64}`: areas and plans), not seen before.
fn new_key(
    seen: &mut HashSet<String>,
    (file, column): (&'static str, &str),
    line: u64,
    cell: super::csv_table::Cell,
    p: &mut Problems,
) -> Option<String> {
    if !is_area_id(cell.text) {
        p.at(file, line, cell.column, format!("{column} {:?} must match [A-Za-z0-9_-]{{1,64}}", cell.text));
        return None;
    }
    new_id(seen, (file, column), line, cell, p)
}

fn read_plans(reader: &mut dyn Read, st: &mut State) {
    let Some(mut t) = CsvTable::open(PLANS, reader, PLAN_COLUMNS, &mut st.problems) else { return };
    let mut keys = Keys::default();
    let mut row = Row::default();
    while t.next_row(&mut row, &mut st.problems) {
        let p = &mut st.problems;
        let id = t.get(&row, 0, p).and_then(|c| new_key(&mut keys.seen, (PLANS, "plan_id"), row.line, c, p));
        let area = t.get(&row, 1, p).and_then(|c| lookup(&st.area_index, c, AREAS, "area", PLANS, row.line, p));
        let name = text(&t, &row, 2, p);
        let from = t.get(&row, 3, p).and_then(|c| year(c, (PLANS, "from_year"), row.line, p));
        let to = t.get(&row, 4, p).and_then(|c| year(c, (PLANS, "to_year"), row.line, p));
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            let column = t.get(&row, 4, p).map_or(1, |c| c.column);
            p.at(PLANS, row.line, column, format!("to_year {to} is before from_year {from}"));
            continue;
        }
        if let (Some(plan_id), Some(area), Some(name), Some(from_year), Some(to_year)) = (id, area, name, from, to) {
            keys.index.insert(plan_id.clone(), st.plans.len() as u32);
            st.plans.push(PlanRow { plan_id, area, name, from_year, to_year, departments: Vec::new() });
            st.plan_lines.push(row.line);
        }
    }
    st.plan_index = Some(keys);
}

fn read_plan_departments(reader: &mut dyn Read, st: &mut State) {
    st.plan_departments_read = true;
    let Some(mut t) = CsvTable::open(PLAN_DEPARTMENTS, reader, PLAN_DEPARTMENT_COLUMNS, &mut st.problems) else { return };
    // (plan, department) → line; and which departments each area holds, in any delimitation
    let mut listed: HashMap<(u32, u32), u64> = HashMap::new();
    let in_area: HashSet<(u32, u32)> = st.memberships.iter().map(|m| (m.area, m.department)).collect();
    let mut row = Row::default();
    while t.next_row(&mut row, &mut st.problems) {
        st.plan_department_rows += 1;
        if st.plan_department_rows.is_multiple_of(BUDGET_CHECK_ROWS) && st.over_budget(PLAN_DEPARTMENTS, row.line) {
            return;
        }
        let p = &mut st.problems;
        let plan = t.get(&row, 0, p).and_then(|c| lookup(&st.plan_index, c, PLANS, "plan", PLAN_DEPARTMENTS, row.line, p));
        let department =
            t.get(&row, 1, p).and_then(|c| lookup(&st.department_index, c, DEPARTMENTS, "department", PLAN_DEPARTMENTS, row.line, p));
        if let Some(plan) = plan {
            st.plans_listed.insert(plan);
        }
        let (Some(plan), Some(department)) = (plan, department) else { continue };
        let column = t.get(&row, 1, p).map_or(1, |c| c.column);
        if let Some(first) = listed.insert((plan, department), row.line) {
            p.at(PLAN_DEPARTMENTS, row.line, column, format!("duplicate row: already listed on line {first}"));
            continue;
        }
        // a plan covers departments of its own area, under one of its delimitations
        let area = st.plans[plan as usize].area;
        if !in_area.contains(&(area, department)) {
            p.at(
                PLAN_DEPARTMENTS,
                row.line,
                column,
                format!(
                    "department {:?} is in no delimitation of plan {:?}'s area {:?} ({AREA_DEPARTMENTS})",
                    st.departments[department as usize].department_id, st.plans[plan as usize].plan_id, st.areas[area as usize].area_id
                ),
            );
            continue;
        }
        st.plans[plan as usize].departments.push(department);
    }
}

/// The plans' two files come together, and every plan covers a department.
fn check_plans(st: &mut State) {
    match (&st.plan_index, st.plan_departments_read) {
        (None, false) => {}
        (Some(_), false) => st.problems.add(PLAN_DEPARTMENTS, None, None, format!("the file is missing: it comes with {PLANS}")),
        (None, true) => st.problems.add(PLANS, None, None, format!("the file is missing: it comes with {PLAN_DEPARTMENTS}")),
        (Some(_), true) => {
            for (i, (plan, line)) in st.plans.iter_mut().zip(&st.plan_lines).enumerate() {
                if !st.plans_listed.contains(&(i as u32)) {
                    st.problems.at(PLANS, *line, 1, format!("plan {:?} covers no department in {PLAN_DEPARTMENTS}", plan.plan_id));
                }
                plan.departments.sort_unstable();
            }
        }
    }
}

fn read_areas(reader: &mut dyn Read, st: &mut State) {
    let Some(mut t) = CsvTable::open(AREAS, reader, AREA_COLUMNS, &mut st.problems) else { return };
    let mut keys = Keys::default();
    let mut row = Row::default();
    while t.next_row(&mut row, &mut st.problems) {
        let p = &mut st.problems;
        let id = t.get(&row, 0, p).and_then(|c| new_key(&mut keys.seen, (AREAS, "area_id"), row.line, c, p));
        let name = text(&t, &row, 1, p);
        let municipality = t.get(&row, 2, p).and_then(|c| municipality_ref(&st.municipality_set, AREAS, row.line, c, p));
        if let (Some(area_id), Some(name), Some(municipality)) = (id, name, municipality) {
            keys.index.insert(area_id.clone(), st.areas.len() as u32);
            st.areas.push(AreaRow { area_id, name, municipality });
            st.area_lines.push(row.line);
        }
    }
    st.area_index = Some(keys);
}

fn read_memberships(reader: &mut dyn Read, st: &mut State) {
    let Some(mut t) = CsvTable::open(AREA_DEPARTMENTS, reader, MEMBERSHIP_COLUMNS, &mut st.problems) else { return };
    // (version, department) → (area, line): a department is in at most one area per version
    let mut placed: HashMap<(String, u32), (u32, u64)> = HashMap::new();
    let mut row = Row::default();
    while t.next_row(&mut row, &mut st.problems) {
        let p = &mut st.problems;
        let version = text(&t, &row, 0, p);
        let area = t.get(&row, 1, p).and_then(|c| lookup(&st.area_index, c, AREAS, "area", AREA_DEPARTMENTS, row.line, p));
        let department =
            t.get(&row, 2, p).and_then(|c| lookup(&st.department_index, c, DEPARTMENTS, "department", AREA_DEPARTMENTS, row.line, p));
        let (Some(version), Some(area), Some(department)) = (version, area, department) else { continue };
        match placed.get(&(version.clone(), department)) {
            Some(&(other, line)) => {
                let what = if other == area {
                    format!("duplicate row: already listed on line {line}")
                } else {
                    format!(
                        "department {:?} is already in area {:?} in boundary version {version:?} (line {line}); a department may belong to one area per version",
                        st.departments[department as usize].department_id, st.areas[other as usize].area_id
                    )
                };
                let column = t.get(&row, 2, p).map_or(1, |c| c.column);
                p.at(AREA_DEPARTMENTS, row.line, column, what);
            }
            None => {
                placed.insert((version.clone(), department), (area, row.line));
                st.memberships.push(Membership { boundary_version: version, area, department });
            }
        }
    }
}

/// Looks a reference up; an unusable target list, or a target row with problems of its
/// own, skips the report but drops the row.
fn lookup<T: Copy>(
    keys: &Option<Keys<T>>,
    cell: super::csv_table::Cell,
    target_file: &str,
    what: &str,
    file: &'static str,
    line: u64,
    p: &mut Problems,
) -> Option<T> {
    let keys = keys.as_ref()?;
    let found = keys.index.get(cell.text).copied();
    if found.is_none() && !keys.seen.contains(cell.text) {
        p.at(file, line, cell.column, format!("unknown {what} {:?}: not in {target_file}", cell.text));
    }
    found
}

fn number_problem(e: NumberError, column: &str, text: &str) -> String {
    match e {
        NumberError::NotANumber => format!("{column} {text:?} is not a number"),
        NumberError::Fractional => format!("{column} {text} must be a whole number"),
        NumberError::Negative => format!("{column} {text} must not be negative"),
    }
}

fn read_observations(reader: &mut dyn Read, st: &mut State) {
    let Some(mut t) = CsvTable::open(OBSERVATIONS, reader, OBSERVATION_COLUMNS, &mut st.problems) else { return };
    let comma = t.decimal_comma;
    let mut row = Row::default();
    while t.next_row(&mut row, &mut st.problems) {
        let p = &mut st.problems;
        let line = row.line;
        let level = t.get(&row, 0, p).and_then(|c| {
            let l = c.text.parse::<Level>().ok();
            if l.is_none() {
                p.at(
                    OBSERVATIONS,
                    line,
                    c.column,
                    format!("level {:?} must be department, municipality, social_housing, region or country", c.text),
                );
            }
            l
        });
        let unit = t.get(&row, 1, p).and_then(|c| match level? {
            Level::Department => lookup(&st.department_index, c, DEPARTMENTS, "department", OBSERVATIONS, line, p),
            Level::Municipality | Level::SocialHousing => {
                municipality_ref(&st.municipality_set, OBSERVATIONS, line, c, p).map(|m| m.get() as u32)
            }
            Level::Region => {
                // (a code some municipality names as its region, when municipalities.csv was read)
                let known =
                    st.municipality_set.is_none() || st.municipalities.iter().any(|m| m.region_code.as_deref() == Some(c.text.trim()));
                match c.text.trim().parse::<u32>() {
                    Ok(code) if known && (1..=9999).contains(&code) => Some(code),
                    _ => {
                        p.at(
                            OBSERVATIONS,
                            line,
                            c.column,
                            format!("unknown region {:?}: no municipality in municipalities.csv has it as region_code", c.text),
                        );
                        None
                    }
                }
            }
            Level::Country if c.text == "DK" => Some(0),
            Level::Country => {
                p.at(OBSERVATIONS, line, c.column, format!("the country's unit is \"DK\", not {:?}", c.text));
                None
            }
        });
        let indicator = t.get(&row, 2, p).and_then(|c| lookup(&st.indicator_index, c, INDICATORS, "indicator", OBSERVATIONS, line, p));
        let kind = indicator.map(|i| st.indicators[i as usize].kind);
        let year = t.get(&row, 3, p).and_then(|c| year(c, (OBSERVATIONS, "year"), line, p));
        let denominator = t.get(&row, 5, p).and_then(|c| match parse_count(c.text, comma) {
            Ok(d) if d > 0.0 => Some(d),
            Ok(_) => {
                p.at(OBSERVATIONS, line, c.column, "denominator must be greater than 0");
                None
            }
            Err(e) => {
                p.at(OBSERVATIONS, line, c.column, number_problem(e, "denominator", c.text));
                None
            }
        });
        let numerator_cell = t.get(&row, 4, p);
        let numerator = numerator_cell.and_then(|c| {
            let parsed = match kind {
                Some(Kind::Mean) => parse_decimal(c.text, comma),
                Some(_) => parse_count(c.text, comma),
                // without a kind, still catch what no kind accepts
                None => parse_decimal(c.text, comma),
            };
            match parsed {
                Ok(n) => Some(n),
                Err(e) => {
                    p.at(OBSERVATIONS, line, c.column, number_problem(e, "numerator", c.text));
                    None
                }
            }
        });
        let (Some(level), Some(unit), Some(indicator), Some(year), Some(numerator), Some(denominator)) =
            (level, unit, indicator, year, numerator, denominator)
        else {
            continue;
        };
        if kind == Some(Kind::Share) && numerator > denominator {
            let column = numerator_cell.map_or(1, |c| c.column);
            p.at(OBSERVATIONS, line, column, format!("numerator {numerator} is greater than denominator {denominator} for a share"));
            continue;
        }
        st.observations.push(Observation { numerator, denominator, unit, line: line.min(u32::MAX as u64) as u32, indicator, year, level });
        if st.observations.len().is_multiple_of(BUDGET_CHECK_ROWS) && st.over_budget(OBSERVATIONS, line) {
            return;
        }
    }
    st.over_budget(OBSERVATIONS, row.line);
}

/// The geometry limits of a file, from the extract's limits: a position is kept once as
/// delivered and once in WGS 84 (16 bytes each) until the file is read.
fn geometry_limits(st: &State) -> GeometryLimits {
    let left = st.limits.max_memory_bytes.saturating_sub(st.memory());
    GeometryLimits { max_positions_per_feature: st.limits.max_vertices_per_area, max_positions: left / 32 }
}

/// A GeoJSON FeatureCollection file's Features; `None` when it is no such collection (the
/// problem reported). Members that are no Feature are reported and left out.
fn read_feature_collection(reader: &mut dyn Read, file: &'static str, id_keys: &[&str], st: &mut State) -> Option<Vec<geojson::Feature>> {
    match geojson::read_collection(reader, id_keys, geometry_limits(st)) {
        Err((pos, message)) => {
            let message = if message.contains("must be a GeoJSON FeatureCollection") {
                format!("{file} must be a GeoJSON FeatureCollection")
            } else {
                message
            };
            st.problems.at(file, pos.line, pos.column, message);
            None
        }
        Ok((features, problems)) => {
            for (pos, message) in problems {
                st.problems.at(file, pos.line, pos.column, message);
            }
            Some(features)
        }
    }
}

fn read_geometry(reader: &mut dyn Read, st: &mut State) {
    let Some(features) = read_feature_collection(reader, GEOMETRY, &["area_id"], st) else { return };
    let at = |pos: Pos, msg: String, p: &mut Problems| p.at(GEOMETRY, pos.line, pos.column, msg);
    let mut seen: HashMap<u32, Pos> = HashMap::new();
    for feature in features {
        let p = &mut st.problems;
        let (id, id_pos) = match feature.id {
            None => {
                at(feature.pos, "the Feature has no properties.area_id".into(), p);
                continue;
            }
            Some(Err(pos)) => {
                at(pos, "properties.area_id must be a string".into(), p);
                continue;
            }
            Some(Ok(id)) => id,
        };
        let area = match &st.area_index {
            Some(keys) => match keys.index.get(&id) {
                Some(&a) => Some(a),
                None => {
                    if !keys.seen.contains(&id) {
                        at(id_pos, format!("unknown area {id:?}: not in {AREAS}"), p);
                    }
                    None
                }
            },
            None => None,
        };
        if let Some(a) = area
            && let Some(first) = seen.get(&a)
        {
            at(id_pos, format!("area {id:?} already has a Feature (line {})", first.line), p);
            continue;
        }
        let geometry = match feature.geometry {
            Ok(Some(g)) => g,
            Ok(None) => continue, // an area without geometry
            Err((pos, msg)) => {
                at(pos, format!("invalid geometry for area {id:?}: {msg}"), p);
                continue;
            }
        };
        if let Some(a) = area {
            seen.insert(a, id_pos);
            st.geometry_positions += geometry.positions().count();
            st.geometries.push(AreaGeometry { area: a, geometry });
        }
    }
}

/// Municipality outlines (optional; an extension of the format): Features naming their
/// municipality in `properties.municipality_code`, or `KOMKODE` as DAGI delivers them. A
/// municipality may have several Features (DAGI has one per island); they are joined.
fn read_municipality_geometry(reader: &mut dyn Read, st: &mut State) {
    let Some(features) = read_feature_collection(reader, MUNICIPALITY_GEOMETRY, &["municipality_code", "KOMKODE"], st) else { return };
    let at = |pos: Pos, msg: String, p: &mut Problems| p.at(MUNICIPALITY_GEOMETRY, pos.line, pos.column, msg);
    let mut outlines: BTreeMap<MunicipalityCode, MultiPolygon> = BTreeMap::new();
    for feature in features {
        let p = &mut st.problems;
        let (code, code_pos) = match feature.id {
            None => {
                at(feature.pos, "the Feature has no properties.municipality_code".into(), p);
                continue;
            }
            Some(Err(pos)) => {
                at(pos, "properties.municipality_code must be a municipality code such as \"101\" or \"0101\"".into(), p);
                continue;
            }
            Some(Ok(id)) => id,
        };
        let Ok(code) = code.parse::<MunicipalityCode>() else {
            at(code_pos, "properties.municipality_code must be a municipality code such as \"101\" or \"0101\"".into(), p);
            continue;
        };
        let known = st.municipality_set.as_ref().is_none_or(|set| set.contains(&code));
        if !known {
            at(code_pos, format!("unknown municipality {code}: not in {MUNICIPALITIES}"), p);
        }
        match feature.geometry {
            Ok(Some(g)) if known => {
                st.geometry_positions += g.positions().count();
                outlines.entry(code).or_insert_with(|| MultiPolygon(Vec::new())).0.extend(g.0)
            }
            Ok(_) => {}
            Err((pos, msg)) => at(pos, format!("invalid geometry for municipality {code}: {msg}"), p),
        }
    }
    st.municipality_geometries =
        outlines.into_iter().map(|(municipality, geometry)| MunicipalityGeometry { municipality, geometry }).collect();
}

/// The manifest maps roles to indicators the extract has, of a kind the role can be.
fn check_criteria_indicators(st: &mut State) {
    let Some(index) = &st.indicator_index else { return };
    for (role, code, pos) in std::mem::take(&mut st.role_positions) {
        match index.index.get(&code) {
            None => st.problems.at(MANIFEST, pos.line, pos.column, format!("criteria_indicators.{role}: unknown indicator {code:?}")),
            Some(&i) => {
                let kind = st.indicators[i as usize].kind;
                let kinds = crate::domain::criteria::role_kinds(&role);
                if !kinds.contains(&kind) {
                    let allowed: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
                    st.problems.at(
                        MANIFEST,
                        pos.line,
                        pos.column,
                        format!(
                            "criteria_indicators.{role}: indicator {code:?} is a {}, the role needs a {}",
                            kind.as_str(),
                            allowed.join(" or ")
                        ),
                    );
                }
            }
        }
    }
}

/// Every area needs at least one department in the default delimitation.
fn check_default_delimitation(st: &mut State) {
    let (Some(manifest), Some(_), Some(_)) = (&st.manifest, &st.area_index, &st.department_index) else { return };
    if st.areas.is_empty() {
        st.problems.at(
            AREAS,
            1,
            1,
            format!(
                "{AREAS} lists no area: an extract needs at least one, with departments in the default boundary version {:?}",
                manifest.boundary_version
            ),
        );
        return;
    }
    let mut has = vec![false; st.areas.len()];
    for m in st.memberships.iter().filter(|m| m.boundary_version == manifest.boundary_version) {
        has[m.area as usize] = true;
    }
    for (i, area) in st.areas.iter().enumerate() {
        if !has[i] {
            st.problems.at(
                AREAS,
                st.area_lines[i],
                1,
                format!(
                    "area {:?} has no department in the default boundary version {:?} ({AREA_DEPARTMENTS})",
                    area.area_id, manifest.boundary_version
                ),
            );
        }
    }
}

/// (level, unit, indicator, year) is unique. Sorting also puts the rows in the order the
/// store writes them.
fn check_duplicate_observations(st: &mut State) {
    st.observations.sort_unstable_by_key(|o| (o.key(), o.line)); // (key, line) is unique: no stable sort needed, nor its buffer
    let dupes: Vec<(u32, u32)> = st.observations.windows(2).filter(|w| w[0].key() == w[1].key()).map(|w| (w[0].line, w[1].line)).collect();
    for (first, again) in dupes {
        st.problems.at(
            OBSERVATIONS,
            again as u64,
            1,
            format!("duplicate observation: the same level, unit, indicator and year as line {first}"),
        );
    }
}
