//! Property tests (proptest) that throw mangled and random input at the extract parser: it
//! must never panic, must answer within its bounds (at most 100 problems, each naming a file
//! of the extract with a line for CSV and JSON content), and must accept exactly what it
//! accepted before when nothing was changed. The number of cases is PROPTEST_CASES (CI runs
//! more than the default).

use boligsocial::ingest::reader::{FILES, MUNICIPALITIES, MUNICIPALITY_GEOMETRY, ORGANISATIONS, PLAN_DEPARTMENTS, PLANS, read_extract};
use boligsocial::ingest::source::MemorySource;
use boligsocial::ingest::{Rejection, json};
use proptest::prelude::*;

/// The hand-written extract, with municipality outlines (Bornholm, two islands in EPSG:25833),
/// the housing organisations and the municipalities' CVR numbers, and plans, so that their
/// readers are mangled too.
fn fixture() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/spec-extract");
    FILES
        .iter()
        .map(|&f| {
            let bytes = match f {
                MUNICIPALITY_GEOMETRY => OUTLINES.as_bytes().to_vec(),
                ORGANISATIONS => {
                    "organisation_id;name;cvr\nFSB;FSB;11111111\nBrabrand Boligforening;Brabrand;22222222\nBOBO;BOBO;33333333\n"
                        .as_bytes()
                        .to_vec()
                }
                MUNICIPALITIES => {
                    "code;name;region_code;cvr\n0101;København;1084;29189846\n0751;Aarhus;1082;55133018\n0400;Bornholm;1084;\n"
                        .as_bytes()
                        .to_vec()
                }
                PLANS => "plan_id;area_id;name;from_year;to_year\nP1;KBH-1;Nord;2015;2018\nP2;AAR-1;Vest;2017;2020\n".as_bytes().to_vec(),
                PLAN_DEPARTMENTS => "plan_id;department_id\nP1;0101-0001\nP1;0101-0002\nP2;0751-0002\n".as_bytes().to_vec(),
                _ => std::fs::read(format!("{dir}/{f}")).unwrap(),
            };
            (f.to_string(), bytes)
        })
        .collect()
}

const OUTLINES: &str = r#"{"type": "FeatureCollection",
 "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25833"}},
 "features": [
  {"type": "Feature", "properties": {"municipality_code": "0400"},
   "geometry": {"type": "Polygon", "coordinates": [[[470000, 6100000], [510000, 6100000], [510000, 6130000], [470000, 6130000], [470000, 6100000]]]}},
  {"type": "Feature", "properties": {"KOMKODE": "400"},
   "geometry": {"type": "MultiPolygon", "coordinates": [[[[520000, 6130000], [522000, 6130000], [522000, 6132000], [520000, 6130000]]]]}}
 ]}"#;

fn read(files: Vec<(String, Vec<u8>)>) -> Result<boligsocial::ingest::Extract, Rejection> {
    read_extract(&mut MemorySource::owned(files, "fuzz"))
}

fn check_rejection(r: &Rejection) {
    assert!(!r.problems.is_empty() && r.problems.len() <= 100 && r.total >= r.problems.len());
    for p in &r.problems {
        assert!(FILES.contains(&p.file.as_str()), "a problem names a file of the extract: {p}");
        assert!(!p.message.is_empty());
        if let Some(line) = p.line {
            assert!(line >= 1);
        }
    }
}

#[derive(Debug, Clone)]
enum Mangle {
    Flip { at: usize, byte: u8 },
    Insert { at: usize, bytes: Vec<u8> },
    Delete { at: usize, len: usize },
    Truncate { at: usize },
    Duplicate { at: usize, len: usize },
}

fn mangle() -> impl Strategy<Value = Mangle> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mangle::Flip { at, byte }),
        (
            any::<usize>(),
            prop::collection::vec(
                prop_oneof![
                    Just(b';'),
                    Just(b','),
                    Just(b'"'),
                    Just(b'\n'),
                    Just(b'\r'),
                    Just(b'-'),
                    Just(b'9'),
                    Just(b'['),
                    Just(b'{'),
                    Just(0xFF),
                    any::<u8>()
                ],
                1..12
            )
        )
            .prop_map(|(at, bytes)| Mangle::Insert { at, bytes }),
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Mangle::Delete { at, len }),
        any::<usize>().prop_map(|at| Mangle::Truncate { at }),
        (any::<usize>(), 1usize..200).prop_map(|(at, len)| Mangle::Duplicate { at, len }),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mangle) {
    let n = bytes.len().max(1);
    match m {
        Mangle::Flip { at, byte } => {
            if !bytes.is_empty() {
                bytes[at % n] = *byte;
            }
        }
        Mangle::Insert { at, bytes: b } => {
            let at = at % (bytes.len() + 1);
            bytes.splice(at..at, b.iter().copied());
        }
        Mangle::Delete { at, len } => {
            let at = at % n;
            let end = (at + len).min(bytes.len());
            bytes.drain(at.min(bytes.len())..end);
        }
        Mangle::Truncate { at } => bytes.truncate(at % n),
        Mangle::Duplicate { at, len } => {
            let at = at % n;
            let end = (at + len).min(bytes.len());
            let copy: Vec<u8> = bytes.get(at..end).map(<[u8]>::to_vec).unwrap_or_default();
            bytes.splice(end..end, copy);
        }
    }
}

#[test]
fn the_unmangled_fixture_is_accepted() {
    let x = read(fixture()).expect("the fixture is valid");
    assert_eq!(x.areas.len(), 3);
    assert_eq!(x.municipality_geometries.len(), 1);
    assert_eq!(x.municipality_geometries[0].geometry.0.len(), 2);
    assert_eq!(x.organisations.len(), 3);
    assert_eq!(x.municipalities.iter().filter(|m| m.cvr.is_some()).count(), 2);
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    /// A few mangles in any files: no panic; a clear rejection or a consistent extract.
    #[test]
    fn mangled_extracts_never_panic(edits in prop::collection::vec((0usize..FILES.len(), mangle()), 1..4)) {
        let mut files = fixture();
        for (file, m) in &edits {
            apply(&mut files[*file].1, m);
        }
        match read(files) {
            Err(r) => check_rejection(&r),
            Ok(x) => {
                prop_assert!(x.observations.windows(2).all(|w| w[0].key() < w[1].key()), "sorted and unique");
                for o in &x.observations {
                    prop_assert!(o.denominator > 0.0 && (1900..=2100).contains(&o.year));
                }
                prop_assert_eq!(x.content_hash.len(), 64);
            }
        }
    }

    /// Any bytes at all as any one file.
    #[test]
    fn random_files_never_panic(file in 0usize..FILES.len(), bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        let mut files = fixture();
        files[file].1 = bytes;
        if let Err(r) = read(files) {
            check_rejection(&r);
        }
    }

    /// Random observation rows: each is accepted or reported with its line.
    #[test]
    fn random_observation_rows_are_judged_row_by_row(
        rows in prop::collection::vec(
            (prop_oneof![Just("department"), Just("municipality"), Just("country"), Just("x")],
             prop_oneof![Just("0101-0001"), Just("101"), Just("DK"), Just("?")],
             prop_oneof![Just("udenfor"), Just("doemte"), Just("karakter"), Just("nope")],
             prop_oneof![Just("2030".to_string()), (1800u32..2200).prop_map(|y| y.to_string())],
             prop_oneof![Just("5".to_string()), Just("-1".to_string()), Just("1,5".to_string()), Just("abc".to_string()), (0u32..500).prop_map(|n| n.to_string())],
             prop_oneof![Just("0".to_string()), Just("100".to_string()), Just("2.5".to_string()), (0u32..500).prop_map(|n| n.to_string())]),
            1..30)
    ) {
        let mut files = fixture();
        let mut text = String::from_utf8(files[6].1.clone()).unwrap();
        let first_new_line = text.lines().count() as u64 + 1;
        for (level, unit, indicator, year, n, d) in &rows {
            text.push_str(&format!("{level};{unit};{indicator};{year};{n};{d}\r\n"));
        }
        files[6].1 = text.into_bytes();
        if let Err(r) = read(files) {
            check_rejection(&r);
            for p in r.problems.iter().filter(|p| p.file == "observations.csv") {
                let line = p.line.expect("observation problems name a line");
                prop_assert!(line >= first_new_line, "only the added rows are at fault: {p}");
            }
        }
    }

    /// The JSON reader never panics, and agrees with serde_json on what is JSON.
    #[test]
    fn json_reader_agrees_with_serde_json(text in "[\\[\\]{}\",:0-9.eE+\\-a-z \\\\tnru]{0,60}") {
        let ours = json::parse(&text);
        let theirs: Result<serde_json::Value, _> = serde_json::from_str(&text);
        prop_assert_eq!(ours.is_ok(), theirs.is_ok(), "{:?}", text);
    }
}
