//! The data package (`/v1/datapackage.zip`): the whole published dataset of the served
//! version as tables — the indicators, the municipalities, the areas of every delimitation,
//! every area's figures, the reference levels', the social-housing sector without each
//! delimitation's areas, and every rule set's criteria for every area and year — each with its
//! fields, keys and references, described as Frictionless Table Schema does. The figures are
//! the snapshot's, after disclosure control, exactly as the API serves them.

use serde_json::{Value, json};

use crate::domain::figures::{Figure, plain_number};
use crate::domain::model::Level;
use crate::snapshot::{Point, Snapshot};

/// One table of the package: its CSV and its resource description.
pub struct Resource {
    name: &'static str,
    title: &'static str,
    fields: Vec<FieldSpec>,
    primary_key: &'static [&'static str],
    foreign_keys: Vec<Value>,
    /// The rows written so far, as CSV (comma-separated, decimal points, CRLF).
    csv: csv::Writer<Vec<u8>>,
}

/// A field: name, Table Schema type, whether every row has it, what it means.
type FieldSpec = (&'static str, &'static str, bool, &'static str);

#[expect(clippy::expect_used, reason = "a CSV writer on a Vec cannot fail")]
impl Resource {
    fn new(name: &'static str, title: &'static str, fields: Vec<FieldSpec>, primary_key: &'static [&'static str]) -> Resource {
        let mut csv = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
        csv.write_record(fields.iter().map(|f| f.0)).expect("writing to memory");
        Resource { name, title, fields, primary_key, foreign_keys: Vec::new(), csv }
    }

    fn refers(mut self, fields: &[&str], resource: &str, to: &[&str]) -> Resource {
        self.foreign_keys.push(json!({"fields": fields, "reference": {"resource": resource, "fields": to}}));
        self
    }

    fn row(&mut self, cells: &[String]) {
        debug_assert_eq!(cells.len(), self.fields.len(), "a cell per field");
        self.csv.write_record(cells).expect("writing to memory");
    }

    /// The table's CSV text.
    pub fn into_csv(self) -> Result<Vec<u8>, std::io::Error> {
        self.csv.into_inner().map_err(|e| e.into_error())
    }

    /// Where the table lies in the package.
    pub fn path(&self) -> String {
        format!("data/{}.csv", self.name)
    }

    /// The table's resource description (Frictionless Tabular Data Resource).
    pub fn description(&self) -> Value {
        let fields: Vec<Value> = self
            .fields
            .iter()
            .map(|&(name, kind, required, description)| {
                let mut f = json!({"name": name, "type": kind, "description": description});
                if required {
                    f["constraints"] = json!({"required": true});
                }
                f
            })
            .collect();
        let mut schema = json!({"fields": fields, "primaryKey": self.primary_key, "missingValues": [""]});
        if !self.foreign_keys.is_empty() {
            schema["foreignKeys"] = Value::Array(self.foreign_keys.clone());
        }
        json!({
            "name": self.name,
            "title": self.title,
            "path": self.path(),
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "header": true},
            "schema": schema,
        })
    }
}

/// A number as the package writes it: a decimal point, `0` for a rounded zero (never `-0`),
/// empty for none.
fn num(x: Option<f64>) -> String {
    plain_number(x)
}

fn int(x: impl std::fmt::Display) -> String {
    x.to_string()
}

/// The status, value, numerator and denominator cells of a published figure.
fn figure_cells(p: &Point) -> [String; 4] {
    match p.figure {
        Figure::Ok { value, numerator, denominator } => ["ok".into(), num(Some(value)), num(Some(numerator)), num(Some(denominator))],
        Figure::Suppressed => ["suppressed".into(), String::new(), String::new(), String::new()],
    }
}

/// The fields of a figure, after those naming whose it is.
const FIGURE_FIELDS: [FieldSpec; 6] = [
    ("indicator", "string", true, "The indicator's code"),
    ("year", "integer", true, "The year"),
    ("status", "string", true, "ok, or suppressed: withheld by disclosure control (then value, numerator and denominator are empty)"),
    ("value", "number", false, "The figure in the indicator's unit"),
    ("numerator", "number", false, "What the figure counts"),
    ("denominator", "number", false, "What it counts among"),
];

/// A figure table's fields: whose it is, the figure, and `extra`.
fn figure_fields(owner: &[FieldSpec], extra: &[FieldSpec]) -> Vec<FieldSpec> {
    [owner, &FIGURE_FIELDS, extra].concat()
}

/// A figure table's row: whose it is, then the indicator, the year and the figure.
fn figure_row(owner: &[String], indicator: &str, p: &Point) -> Vec<String> {
    let mut row = owner.to_vec();
    row.extend([indicator.to_string(), int(p.year)]);
    row.extend(figure_cells(p));
    row
}

/// Every table of the package, in its order.
pub fn tables(s: &Snapshot) -> Vec<Resource> {
    let [indicators, municipalities] = catalogue_tables(s);
    let [areas, area_figures, rest_figures] = area_tables(s);
    let [plans, plan_departments] = plan_tables(s);
    vec![indicators, municipalities, areas, area_figures, reference_table(s), rest_figures, criteria_table(s), plans, plan_departments]
}

/// The plans' grant periods and the departments each covered (comparisons.md, "Coverage");
/// empty for an extract without plans.
fn plan_tables(s: &Snapshot) -> [Resource; 2] {
    let mut plans = Resource::new(
        "plans",
        "The boligsocial helhedsplaner: each grant period of an area's plan",
        vec![
            ("plan_id", "string", true, "The plan's id"),
            ("boundary_version", "string", true, "The delimitation its area and departments are of (the dataset's)"),
            ("area_id", "string", true, "The area"),
            ("name", "string", true, "Its name"),
            ("from_year", "integer", true, "The first year of its grant period"),
            ("to_year", "integer", true, "The last year of its grant period"),
        ],
        &["plan_id"],
    )
    .refers(&["boundary_version", "area_id"], "areas", &["boundary_version", "area_id"]);
    let mut covered = Resource::new(
        "plan_departments",
        "The departments each plan covered in its period",
        vec![("plan_id", "string", true, "The plan"), ("department_id", "string", true, "A housing department it covered")],
        &["plan_id", "department_id"],
    )
    .refers(&["plan_id"], "plans", &["plan_id"]);
    for p in &s.plans.plans {
        plans.row(&[
            p.plan_id.clone(),
            s.dataset.boundary_version.clone(),
            s.areas[p.area].area_id.clone(),
            p.name.clone(),
            int(p.period.from),
            int(p.period.to),
        ]);
        for &d in &p.departments {
            covered.row(&[p.plan_id.clone(), s.access.departments[d].department_id.clone()]);
        }
    }
    [plans, covered]
}

/// The indicators and the municipalities.
fn catalogue_tables(s: &Snapshot) -> [Resource; 2] {
    let mut indicators = Resource::new(
        "indicators",
        "Indicators",
        vec![
            ("code", "string", true, "The indicator's code, as the API's indicator= takes it"),
            ("name_da", "string", true, "Its name in Danish"),
            ("name_en", "string", true, "Its name in English"),
            ("kind", "string", true, "share, rate or mean: how its value is made of numerator and denominator"),
            ("unit", "string", true, "percent for shares, per_1000 for rates, mean for means"),
            ("direction", "string", true, "lower_is_better, higher_is_better or neutral"),
            ("population_da", "string", true, "Who the figure is about, in Danish"),
            ("population_en", "string", true, "Who the figure is about, in English"),
            ("description_da", "string", false, "What it measures, in Danish"),
            ("description_en", "string", false, "What it measures, in English"),
        ],
        &["code"],
    );
    for i in &s.indicators {
        indicators.row(&[
            i.code.clone(),
            i.name_da.clone(),
            i.name_en.clone(),
            i.kind.as_str().into(),
            i.kind.unit().into(),
            i.direction.as_str().into(),
            i.population_da.clone(),
            i.population_en.clone(),
            i.description_da.clone().unwrap_or_default(),
            i.description_en.clone().unwrap_or_default(),
        ]);
    }
    let mut municipalities = Resource::new(
        "municipalities",
        "Municipalities",
        vec![
            ("code", "string", true, "The municipality's code in Danmarks Statistik's three-digit form"),
            ("name", "string", true, "Its name"),
            ("region_code", "string", false, "The code of its region (1081-1085), as the reference table's region level names it"),
        ],
        &["code"],
    );
    for m in s.municipalities.values() {
        municipalities.row(&[m.code.to_string(), m.name.clone(), m.region_code.clone().unwrap_or_default()]);
    }
    [indicators, municipalities]
}

/// The areas of every delimitation, their figures, and the sector without them.
fn area_tables(s: &Snapshot) -> [Resource; 3] {
    let mut areas = Resource::new(
        "areas",
        "Areas of every delimitation",
        vec![
            ("boundary_version", "string", true, "The delimitation: which departments make up each area"),
            ("area_id", "string", true, "The area's id"),
            ("name", "string", true, "Its name"),
            ("municipality_code", "string", true, "Its municipality"),
            ("department_count", "integer", true, "The housing departments it is made of in this delimitation"),
        ],
        &["boundary_version", "area_id"],
    )
    .refers(&["municipality_code"], "municipalities", &["code"]);
    let mut area_figures = Resource::new(
        "area_figures",
        "The areas' figures",
        figure_fields(
            &[("boundary_version", "string", true, "The delimitation"), ("area_id", "string", true, "The area")],
            &[("coverage", "number", false, "The share of the area's departments with an observation")],
        ),
        &["boundary_version", "area_id", "indicator", "year"],
    )
    .refers(&["boundary_version", "area_id"], "areas", &["boundary_version", "area_id"])
    .refers(&["indicator"], "indicators", &["code"]);
    let mut rest_figures = Resource::new(
        "social_housing_rest_figures",
        "The social-housing sector without the delimitation's areas",
        figure_fields(
            &[
                ("boundary_version", "string", true, "The delimitation whose areas are left out"),
                ("municipality_code", "string", true, "The municipality"),
            ],
            &[],
        ),
        &["boundary_version", "municipality_code", "indicator", "year"],
    )
    .refers(&["municipality_code"], "municipalities", &["code"])
    .refers(&["indicator"], "indicators", &["code"]);
    for (boundary_version, d) in &s.delimitations {
        for a in d.areas() {
            let area = &s.areas[a];
            areas.row(&[
                boundary_version.clone(),
                area.area_id.clone(),
                area.name.clone(),
                area.municipality.to_string(),
                int(d.departments[a].len()),
            ]);
            for (i, indicator) in s.indicators.iter().enumerate() {
                for p in d.series(a, i) {
                    let mut row = figure_row(&[boundary_version.clone(), area.area_id.clone()], &indicator.code, p);
                    row.push(if p.figure.value().is_some() { num(p.coverage) } else { String::new() });
                    area_figures.row(&row);
                }
            }
        }
        for (municipality, i, points) in d.rest_figures() {
            for p in points {
                rest_figures.row(&figure_row(&[boundary_version.clone(), municipality.to_string()], &s.indicators[i].code, p));
            }
        }
    }
    [areas, area_figures, rest_figures]
}

/// The delivered reference levels' figures.
fn reference_table(s: &Snapshot) -> Resource {
    let mut reference_figures = Resource::new(
        "reference_figures",
        "The reference levels' figures",
        figure_fields(
            &[
                (
                    "level",
                    "string",
                    true,
                    "municipality (all residents), social_housing (the municipality's social-housing sector), region or country",
                ),
                ("unit_code", "string", true, "The municipality's or the region's code; DK for the country"),
            ],
            &[],
        ),
        &["level", "unit_code", "indicator", "year"],
    )
    .refers(&["indicator"], "indicators", &["code"]);
    for (level, unit, i, points) in s.reference_figures() {
        let unit_code = if level == Level::Country { "DK".to_string() } else { unit.to_string() };
        for p in points {
            reference_figures.row(&figure_row(&[level.as_str().into(), unit_code.clone()], &s.indicators[i].code, p));
        }
    }
    reference_figures
}

/// Every rule set's criteria and classifications for every area and year.
fn criteria_table(s: &Snapshot) -> Resource {
    let mut criteria = Resource::new(
        "criteria",
        "The legal criteria (almenboligloven § 61 a and § 61 b) for every rule set, area and year",
        vec![
            ("boundary_version", "string", true, "The delimitation"),
            ("rules", "string", true, "The rule set, as /v1/rules lists it"),
            ("area_id", "string", true, "The area"),
            ("year", "integer", true, "The year evaluated"),
            ("item", "string", true, "criterion, or classification (a list the rule set places an area on)"),
            ("id", "string", true, "The criterion's or the classification's id in the rule set"),
            ("status", "string", true, "A criterion: met, not_met, suppressed or missing; a classification: yes, no or undetermined"),
            ("value", "number", false, "A criterion's figure, when met or not met"),
            ("threshold", "number", false, "The threshold it is held against"),
            ("margin", "number", false, "How far the figure stands from the threshold, positive when met"),
            ("criteria_met", "integer", false, "A classification: the criteria of its K-of-N part met"),
            ("criteria_required", "integer", false, "A classification: K"),
        ],
        &["boundary_version", "rules", "area_id", "year", "item", "id"],
    )
    .refers(&["boundary_version", "area_id"], "areas", &["boundary_version", "area_id"]);
    let c = &s.criteria;
    for (boundary_version, d) in &s.delimitations {
        for (ri, rules) in c.rules.iter().enumerate() {
            if c.roles[ri].is_err() {
                continue;
            }
            for a in d.areas() {
                let Some(evaluations) = c.of(boundary_version, ri, a) else { continue };
                for e in evaluations {
                    let head = |item: &str, id: &str| {
                        vec![
                            boundary_version.clone(),
                            rules.id.clone(),
                            s.areas[a].area_id.clone(),
                            int(e.year),
                            item.to_string(),
                            id.to_string(),
                        ]
                    };
                    for r in e.criteria_results(rules) {
                        let mut row = head("criterion", &r.id);
                        row.extend([r.status.as_str().into(), num(r.value), num(r.threshold), num(r.margin), String::new(), String::new()]);
                        criteria.row(&row);
                    }
                    for r in e.classification_results(rules) {
                        let mut row = head("classification", &r.id);
                        row.extend([
                            r.status.as_str().into(),
                            String::new(),
                            String::new(),
                            String::new(),
                            int(r.criteria_met),
                            int(r.criteria_required),
                        ]);
                        criteria.row(&row);
                    }
                }
            }
        }
    }
    criteria
}
