//! JSON-stat 2.0 renderings (json-stat.org/full), as Danmarks Statistik's API serves its
//! tables, for R's rjstat, Python's pyjstat and JavaScript's jsonstat-toolkit: a dataset of
//! dimensions (labels in the chosen language, the metric with its unit, the years as time),
//! values in row-major order, a status for every withheld cell, and the dataset version as an
//! extension. Its figures are those of the JSON answer, disclosure applied as there.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::params::data_json;
use crate::error::ApiError;
use crate::http::negotiate::Lang;
use crate::http::offload::Rendered;
use crate::snapshot::Snapshot;

/// A JSON-stat 2.0 dataset.
#[derive(Debug, Serialize, ToSchema)]
pub struct JsonStatDataset {
    /// Always `2.0`.
    #[schema(example = "2.0")]
    pub version: &'static str,
    /// Always `dataset`.
    #[schema(example = "dataset")]
    pub class: &'static str,
    pub label: String,
    pub source: String,
    /// When the dataset version was imported (RFC 3339).
    pub updated: String,
    /// The dimensions' ids, in the order the values run (the last fastest).
    pub id: Vec<String>,
    /// How many categories each dimension has, in `id`'s order.
    pub size: Vec<usize>,
    /// Which dimensions are time, geography and the metric.
    #[schema(value_type = Object)]
    pub role: Value,
    /// Each dimension's label and categories (index, labels, units).
    #[schema(value_type = Object)]
    pub dimension: Value,
    /// The cells in row-major order; `null` where there is no figure.
    pub value: Vec<Option<f64>>,
    /// Why a cell has no figure (`suppressed`, `missing`), by the cell's position.
    pub status: BTreeMap<String, String>,
    /// `dataset_version`, and what the table is of.
    #[schema(value_type = Object)]
    pub extension: Value,
}

/// One dimension: an id, a label, and its categories (id, label), in order.
pub struct Dimension {
    pub id: &'static str,
    pub label: String,
    pub categories: Vec<(String, String)>,
    /// For the metric dimension: each category's unit label and decimals.
    pub units: Option<Vec<(String, u8)>>,
}

impl Dimension {
    pub fn new(id: &'static str, label: &str, categories: Vec<(String, String)>) -> Dimension {
        Dimension { id, label: label.to_string(), categories, units: None }
    }

    fn to_json(&self) -> Value {
        let index: Vec<&str> = self.categories.iter().map(|(id, _)| id.as_str()).collect();
        let label: serde_json::Map<String, Value> = self.categories.iter().map(|(id, l)| (id.clone(), Value::from(l.as_str()))).collect();
        let mut category = json!({"index": index, "label": label});
        if let Some(units) = &self.units {
            let unit: serde_json::Map<String, Value> = self
                .categories
                .iter()
                .zip(units)
                .map(|((id, _), (label, decimals))| (id.clone(), json!({"label": label, "decimals": decimals})))
                .collect();
            category["unit"] = Value::Object(unit);
        }
        json!({"label": self.label, "category": category})
    }
}

/// A table being filled: dimensions fixed, then a cell at a time in row-major order.
pub struct Cube {
    label: String,
    dimensions: Vec<Dimension>,
    roles: Value,
    value: Vec<Option<f64>>,
    status: BTreeMap<String, String>,
}

impl Cube {
    /// `roles`: `{"time": [...], "geo": [...], "metric": [...]}` by dimension id.
    pub fn new(label: String, dimensions: Vec<Dimension>, roles: Value) -> Cube {
        let cells = dimensions.iter().map(|d| d.categories.len()).product();
        Cube { label, dimensions, roles, value: vec![None; cells], status: BTreeMap::new() }
    }

    /// The cell at these category positions (one per dimension, in order).
    fn position(&self, at: &[usize]) -> usize {
        debug_assert_eq!(at.len(), self.dimensions.len());
        at.iter().zip(&self.dimensions).fold(0, |p, (&i, d)| p * d.categories.len() + i)
    }

    /// Sets a cell: its figure, or none and why. A figure of `-0` is written `0`.
    pub fn set(&mut self, at: &[usize], value: Option<f64>, status: Option<&str>) {
        let p = self.position(at);
        self.value[p] = value.map(crate::domain::figures::unsigned_zero);
        if let Some(s) = status {
            self.status.insert(p.to_string(), s.to_string());
        }
    }

    /// The dataset, with the snapshot's source and version and `extension`'s fields.
    pub fn response(self, snapshot: &Snapshot, lang: Lang, extension: Value) -> Result<Rendered, ApiError> {
        let mut ext = json!({"dataset_version": snapshot.dataset.version});
        if let (Some(ext), Value::Object(more)) = (ext.as_object_mut(), extension) {
            ext.extend(more);
        }
        let body = JsonStatDataset {
            version: "2.0",
            class: "dataset",
            label: self.label,
            source: snapshot.dataset.source.clone(),
            updated: snapshot.dataset.imported_at.clone(),
            id: self.dimensions.iter().map(|d| d.id.to_string()).collect(),
            size: self.dimensions.iter().map(|d| d.categories.len()).collect(),
            role: self.roles,
            dimension: Value::Object(self.dimensions.iter().map(|d| (d.id.to_string(), d.to_json())).collect()),
            value: self.value,
            status: self.status,
            extension: ext,
        };
        data_json(snapshot, Some(lang), &body)
    }
}

/// A unit's label in the language, as the metric dimension gives it.
pub fn unit_label(unit: &str, lang: Lang) -> String {
    let (da, en) = match unit {
        "percent" => ("procent", "percent"),
        "per_1000" => ("pr. 1.000", "per 1,000"),
        "percentage_points" => ("procentpoint", "percentage points"),
        _ => (unit, unit),
    };
    lang.pick(da, en).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_run_row_major_with_the_last_dimension_fastest() {
        let cats = |n: usize| (0..n).map(|i| (format!("c{i}"), format!("C{i}"))).collect();
        let mut cube = Cube::new("t".into(), vec![Dimension::new("a", "A", cats(2)), Dimension::new("b", "B", cats(3))], json!({}));
        cube.set(&[1, 2], Some(-0.0), None);
        cube.set(&[0, 1], None, Some("suppressed"));
        assert_eq!(cube.position(&[1, 0]), 3);
        assert_eq!(cube.value.len(), 6);
        assert_eq!(cube.value[5], Some(0.0));
        assert!(cube.value[5].unwrap().is_sign_positive());
        assert_eq!(cube.status.get("1").map(String::as_str), Some("suppressed"));
        let d = Dimension { units: Some(vec![("procent".into(), 1)]), ..Dimension::new("m", "M", vec![("x".into(), "X".into())]) };
        assert_eq!(d.to_json()["category"]["unit"]["x"]["label"], "procent");
        assert_eq!(d.to_json()["category"]["index"], json!(["x"]));
    }
}
