//! Checks against the public reference data beside the checkout (../shared/reference): the
//! demo's areas lie inside their municipality's DAGI boundary, and its municipality codes
//! and names are Danmarks Statistik's. A user's clone has no ../shared, so these skip with a
//! message there; CI has it and runs them (set BOLIGSOCIAL_TEST_REQUIRE_REFERENCE=1 to make
//! its absence a failure).

use std::collections::HashMap;
use std::path::PathBuf;

fn reference(file: &str) -> Option<PathBuf> {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/reference")).join(file);
    if path.exists() {
        return Some(path);
    }
    crate::common::absent(
        "BOLIGSOCIAL_TEST_REQUIRE_REFERENCE",
        &format!("{} is absent (it sits beside the checkout in the project's workspace)", path.display()),
    );
    None
}

type Rings = Vec<Vec<[f64; 2]>>;

fn in_ring(p: [f64; 2], ring: &[[f64; 2]]) -> bool {
    let mut inside = false;
    for w in ring.windows(2) {
        let (a, b) = (w[0], w[1]);
        if (a[1] > p[1]) != (b[1] > p[1]) && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0] {
            inside = !inside;
        }
    }
    inside
}

fn in_polygons(p: [f64; 2], polygons: &[Rings]) -> bool {
    polygons.iter().any(|rings| in_ring(p, &rings[0]) && !rings[1..].iter().any(|h| in_ring(p, h)))
}

#[test]
fn demo_areas_lie_inside_their_municipality() {
    let Some(path) = reference("dagi-kommuner-2014.geojson") else { return };
    let dagi: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut municipalities: HashMap<u16, Vec<Rings>> = HashMap::new();
    for f in dagi["features"].as_array().unwrap() {
        let code: u16 = f["properties"]["KOMKODE"].as_str().unwrap().parse().unwrap();
        let g = &f["geometry"];
        let polygons: Vec<Rings> = match g["type"].as_str().unwrap() {
            "Polygon" => vec![serde_json::from_value(strip_z(&g["coordinates"])).unwrap()],
            _ => serde_json::from_value(strip_z(&g["coordinates"])).unwrap(),
        };
        municipalities.entry(code).or_default().extend(polygons);
    }
    let extract = boligsocial::demo::bundled_extract().unwrap();
    assert_eq!(extract.geometries.len(), 48);
    for g in &extract.geometries {
        let area = &extract.areas[g.area as usize];
        let boundary = &municipalities[&area.municipality.get()];
        for p in g.geometry.0.iter().flatten().flatten() {
            assert!(in_polygons(*p, boundary), "{} ({}) has {p:?} outside its municipality", area.area_id, area.municipality);
        }
    }
}

fn strip_z(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Array(items) if items.first().is_some_and(|x| x.is_number()) => {
            serde_json::Value::Array(items.iter().take(2).cloned().collect())
        }
        serde_json::Value::Array(items) => serde_json::Value::Array(items.iter().map(strip_z).collect()),
        other => other.clone(),
    }
}

#[test]
fn demo_municipalities_are_the_reference_list() {
    let Some(path) = reference("municipalities.csv") else { return };
    let reference = std::fs::read_to_string(path).unwrap();
    let bundled = include_str!("../../src/demo/municipalities.csv");
    assert_eq!(bundled, reference, "src/demo/municipalities.csv is a copy of ../shared/reference/municipalities.csv");
    let extract = boligsocial::demo::bundled_extract().unwrap();
    assert_eq!(extract.municipalities.len(), 98);
    for m in &extract.municipalities {
        assert!(reference.contains(&format!("\n{},{},", m.code, m.name)), "{} {}", m.code, m.name);
    }
}

/// DAGI's municipality layer, as delivered (CRS84, `KOMKODE`, heights, one Feature per
/// island), is accepted as an extract's municipalities.geojson once Christiansø (0411, no
/// municipality) is left out, and rejected with each of its Features named while it is in.
#[test]
fn dagi_boundaries_are_municipality_outlines() {
    let Some(path) = reference("dagi-kommuner-2014.geojson") else { return };
    let text = std::fs::read_to_string(path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    boligsocial::demo::write_demo(dir.path()).unwrap();
    std::fs::write(dir.path().join("municipalities.geojson"), &text).unwrap();
    let mut dagi: serde_json::Value = serde_json::from_str(&text).unwrap();
    let christianso = dagi["features"].as_array().unwrap().iter().filter(|f| f["properties"]["KOMKODE"] == "0411").count();
    let rejection = boligsocial::ingest::read_path(dir.path()).unwrap_err();
    let problems: Vec<String> = rejection.problems.iter().map(ToString::to_string).collect();
    assert_eq!(problems.len(), christianso, "{problems:?}");
    for p in &problems {
        assert!(p.starts_with("municipalities.geojson:") && p.ends_with("unknown municipality 411: not in municipalities.csv"), "{p}");
    }

    dagi["features"].as_array_mut().unwrap().retain(|f| f["properties"]["KOMKODE"] != "0411");
    let mut polygons_per_code: HashMap<u16, usize> = HashMap::new();
    for f in dagi["features"].as_array().unwrap() {
        let code: u16 = f["properties"]["KOMKODE"].as_str().unwrap().parse().unwrap();
        let n = if f["geometry"]["type"] == "Polygon" { 1 } else { f["geometry"]["coordinates"].as_array().unwrap().len() };
        *polygons_per_code.entry(code).or_default() += n;
    }
    std::fs::write(dir.path().join("municipalities.geojson"), dagi.to_string()).unwrap();
    let extract = boligsocial::ingest::read_path(dir.path()).unwrap();
    assert_eq!(extract.municipality_geometries.len(), 98);
    for outline in &extract.municipality_geometries {
        assert_eq!(outline.geometry.0.len(), polygons_per_code[&outline.municipality.get()], "{}", outline.municipality);
    }
    // the demo's areas lie inside the outlines as the import read them
    for g in &extract.geometries {
        let area = &extract.areas[g.area as usize];
        let outline = extract.municipality_geometries.iter().find(|o| o.municipality == area.municipality).unwrap();
        for p in g.geometry.0.iter().flatten().flatten() {
            assert!(in_polygons(*p, &outline.geometry.0), "{} has {p:?} outside its municipality's outline", area.area_id);
        }
    }
}
