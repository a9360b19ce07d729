//! The shapes of the GeoJSON and OGC API answers, for the OpenAPI document, so that generated
//! clients type them. The handlers write those answers as text (a national map layer is
//! megabytes); a test validates real answers against these shapes, unknown members refused.

#![allow(dead_code)] // described, never built: the answers are written as text

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::classes::Method;
use crate::domain::model::{Direction, Reference};

#[derive(Serialize, ToSchema)]
pub enum FeatureCollectionType {
    FeatureCollection,
}

#[derive(Serialize, ToSchema)]
pub enum FeatureType {
    Feature,
}

#[derive(Serialize, ToSchema)]
pub enum PolygonType {
    Polygon,
}

#[derive(Serialize, ToSchema)]
pub enum MultiPolygonType {
    MultiPolygon,
}

/// A GeoJSON Polygon (RFC 7946 3.1.6): an outer ring and its holes, each a closed list of
/// [longitude, latitude] positions in WGS 84.
#[derive(Serialize, ToSchema)]
pub struct Polygon {
    r#type: PolygonType,
    #[schema(example = json!([[[12.4838, 55.7136], [12.4834, 55.7141], [12.4830, 55.7145], [12.4838, 55.7136]]]))]
    coordinates: Vec<Vec<Vec<f64>>>,
}

/// A GeoJSON MultiPolygon (RFC 7946 3.1.7): polygons of [longitude, latitude] positions.
#[derive(Serialize, ToSchema)]
pub struct MultiPolygon {
    r#type: MultiPolygonType,
    coordinates: Vec<Vec<Vec<Vec<f64>>>>,
}

/// An outline: one polygon, or several.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum Geometry {
    Polygon(Polygon),
    MultiPolygon(MultiPolygon),
}

/// An area's properties on the map: who it is, and then the layer's figures — an indicator's
/// value in a year, a comparison's fields, or the criteria's classifications (a member per
/// classification id of the rule set, `yes`, `no` or `undetermined`).
#[derive(Serialize, ToSchema)]
pub struct AreaProperties {
    #[schema(example = "751-1")]
    area_id: String,
    name: String,
    municipality_code: String,
    #[schema(required = true)]
    municipality_name: Option<String>,
    /// Values: the year shown.
    #[schema(required = false)]
    year: Option<u16>,
    /// `ok`, `suppressed` (withheld by disclosure control) or `missing`.
    #[schema(required = false)]
    status: Option<String>,
    #[schema(required = false)]
    value: Option<f64>,
    #[schema(required = false)]
    numerator: Option<f64>,
    #[schema(required = false)]
    denominator: Option<f64>,
    /// The share of the area's departments with an observation.
    #[schema(required = false)]
    coverage: Option<f64>,
    /// The choropleth class (0-based) of the value or the difference; none without one.
    #[schema(required = false)]
    class: Option<u32>,
    #[schema(required = false)]
    area_from: Option<f64>,
    #[schema(required = false)]
    area_to: Option<f64>,
    #[schema(required = false)]
    area_change: Option<f64>,
    #[schema(required = false)]
    area_relative_change: Option<f64>,
    #[schema(required = false)]
    reference_from: Option<f64>,
    #[schema(required = false)]
    reference_to: Option<f64>,
    #[schema(required = false)]
    reference_change: Option<f64>,
    #[schema(required = false)]
    reference_relative_change: Option<f64>,
    /// The area's change less the reference's, in the indicator's direction (comparisons.md).
    #[schema(required = false)]
    difference: Option<f64>,
    #[schema(required = false)]
    difference_rounded: Option<f64>,
    #[schema(required = false)]
    relative_difference: Option<f64>,
    #[schema(required = false)]
    gap_from: Option<f64>,
    #[schema(required = false)]
    gap_to: Option<f64>,
    #[schema(required = false)]
    stronger: Option<bool>,
    #[schema(required = false)]
    stronger_relative: Option<bool>,
    #[schema(required = false)]
    beyond_threshold: Option<bool>,
    /// With `reference=twins`: the areas the area is compared with.
    #[schema(required = false)]
    twins: Option<Vec<String>>,
    /// A comparison: the area's departments its figures are made of (with `covered_years`,
    /// those covered long enough).
    #[schema(required = false)]
    departments_used: Option<u32>,
    /// A comparison: the departments `covered_years` left out.
    #[schema(required = false)]
    departments_left_out: Option<u32>,
    /// With `criteria_year`: per classification id, `yes`, `no` or `undetermined`.
    #[serde(flatten)]
    classifications: std::collections::BTreeMap<String, String>,
}

/// An area as a GeoJSON Feature; `id` is its area id.
#[derive(Serialize, ToSchema)]
pub struct AreaFeature {
    r#type: FeatureType,
    id: String,
    /// None with `geometry=false`, or for an area the extract gives no outline.
    #[schema(required = true)]
    geometry: Option<Geometry>,
    properties: AreaProperties,
}

/// The class breaks of a choropleth.
#[derive(Serialize, ToSchema)]
pub struct ClassBreaks {
    /// `value` or `difference`: the property classed.
    field: String,
    method: Method,
    classes_requested: u32,
    /// Fewer than requested when the values are fewer; none without values.
    #[schema(required = true)]
    classes: Option<u32>,
    /// Ascending, one more than the classes.
    #[schema(required = true)]
    breaks: Option<Vec<f64>>,
}

/// A classification of the rule set, by id and name.
#[derive(Serialize, ToSchema)]
pub struct ClassificationName {
    id: String,
    name: String,
}

/// The areas as a GeoJSON FeatureCollection (RFC 7946) with foreign members saying what the
/// layer shows; which of them appear depends on its `mode`.
#[derive(Serialize, ToSchema)]
pub struct AreaLayer {
    r#type: FeatureCollectionType,
    /// [west, south, east, north] of the areas; left out with `geometry=false`.
    #[schema(required = false)]
    bbox: Option<Vec<f64>>,
    dataset_version: i64,
    boundary_version: String,
    /// `areas` (outlines only), `values`, `comparison` or `criteria`.
    #[schema(example = "values")]
    mode: String,
    #[schema(required = false)]
    indicator: Option<String>,
    #[schema(required = false)]
    indicator_name: Option<String>,
    #[schema(required = false)]
    unit: Option<String>,
    #[schema(required = false)]
    direction: Option<Direction>,
    #[schema(required = false)]
    year: Option<u16>,
    #[schema(required = false)]
    from: Option<u16>,
    #[schema(required = false)]
    to: Option<u16>,
    #[schema(required = false)]
    reference: Option<Reference>,
    #[schema(required = false)]
    threshold: Option<f64>,
    /// A comparison: the `covered_years` asked for (0: every department).
    #[schema(required = false)]
    covered_years: Option<u16>,
    #[schema(required = false)]
    criteria_year: Option<u16>,
    #[schema(required = false)]
    rules: Option<String>,
    /// With the criteria: that they are not the ministry's official lists.
    #[schema(required = false)]
    note: Option<String>,
    #[schema(required = false)]
    classifications: Option<Vec<ClassificationName>>,
    #[schema(required = false)]
    classification: Option<ClassBreaks>,
    features: Vec<AreaFeature>,
}

/// A municipality's properties on the map: who it is, its outline's source, and with an
/// indicator the level's figure in the year.
#[derive(Serialize, ToSchema)]
pub struct MunicipalityProperties {
    #[schema(example = "751")]
    code: String,
    name: String,
    #[schema(required = true)]
    region_code: Option<String>,
    /// Its areas in the delimitation.
    area_count: u32,
    /// `extract` (the municipality's own outline) or `hull_of_areas`.
    geometry_source: String,
    /// `municipality`, `social_housing` or `social_housing_rest`.
    #[schema(required = false)]
    level: Option<String>,
    #[schema(required = false)]
    year: Option<u16>,
    /// `ok`, `suppressed` or `missing`.
    #[schema(required = false)]
    status: Option<String>,
    #[schema(required = false)]
    value: Option<f64>,
    #[schema(required = false)]
    numerator: Option<f64>,
    #[schema(required = false)]
    denominator: Option<f64>,
}

/// A municipality as a GeoJSON Feature; `id` is its code.
#[derive(Serialize, ToSchema)]
pub struct MunicipalityFeature {
    r#type: FeatureType,
    id: String,
    #[schema(required = true)]
    geometry: Option<Geometry>,
    properties: MunicipalityProperties,
}

/// The municipalities as a GeoJSON FeatureCollection.
#[derive(Serialize, ToSchema)]
pub struct MunicipalityLayer {
    r#type: FeatureCollectionType,
    dataset_version: i64,
    boundary_version: String,
    features: Vec<MunicipalityFeature>,
}

/// A link of the OGC API (its `rel` says what it leads to).
#[derive(Serialize, ToSchema)]
pub struct Link {
    #[schema(example = "https://example.org/ogc/collections")]
    href: String,
    #[schema(example = "data")]
    rel: String,
    r#type: String,
    title: String,
}

/// The OGC API landing page.
#[derive(Serialize, ToSchema)]
pub struct LandingPage {
    title: String,
    description: String,
    /// Where the data come from.
    attribution: String,
    links: Vec<Link>,
}

/// The conformance classes the API implements.
#[derive(Serialize, ToSchema)]
pub struct Conformance {
    #[serde(rename = "conformsTo")]
    #[schema(example = json!(["http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"]))]
    conforms_to: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SpatialExtent {
    /// One box: [west, south, east, north].
    bbox: Vec<Vec<f64>>,
    crs: String,
}

#[derive(Serialize, ToSchema)]
pub struct TemporalExtent {
    /// One interval: [first, last] instants of the years with data (RFC 3339), or nulls.
    interval: Vec<Vec<Option<String>>>,
    trs: String,
}

#[derive(Serialize, ToSchema)]
pub struct Extent {
    spatial: SpatialExtent,
    temporal: TemporalExtent,
}

/// A collection of features: `areas` or `municipalities`.
#[derive(Serialize, ToSchema)]
pub struct CollectionInfo {
    #[schema(example = "areas")]
    id: String,
    title: String,
    description: String,
    /// `feature`.
    #[serde(rename = "itemType")]
    item_type: String,
    crs: Vec<String>,
    #[serde(rename = "storageCrs")]
    storage_crs: String,
    extent: Extent,
    links: Vec<Link>,
}

/// The collections.
#[derive(Serialize, ToSchema)]
pub struct Collections {
    collections: Vec<CollectionInfo>,
    links: Vec<Link>,
}

/// A feature of a collection: its properties are who it is and each indicator's published
/// value in the year (a member per indicator code; null where suppressed or missing).
#[derive(Serialize, ToSchema)]
pub struct OgcFeature {
    r#type: FeatureType,
    id: String,
    #[schema(required = true)]
    geometry: Option<Geometry>,
    #[schema(value_type = Object)]
    properties: serde_json::Map<String, serde_json::Value>,
    /// On a feature asked for by its id: self and collection.
    #[schema(required = false)]
    links: Option<Vec<Link>>,
}

/// A page of a collection's features.
#[derive(Serialize, ToSchema)]
pub struct FeaturePage {
    r#type: FeatureCollectionType,
    features: Vec<OgcFeature>,
    /// The features matching the query, on every page.
    #[serde(rename = "numberMatched")]
    number_matched: u32,
    #[serde(rename = "numberReturned")]
    number_returned: u32,
    #[serde(rename = "timeStamp")]
    time_stamp: String,
    /// self, collection, and next or prev while there are more.
    links: Vec<Link>,
}

/// A JSON Schema (2019-09) of a collection's queryable properties.
#[derive(Serialize, ToSchema)]
pub struct Queryables {
    #[serde(rename = "$id")]
    id: String,
    #[serde(rename = "$schema")]
    schema: String,
    r#type: String,
    title: String,
    /// A member per property: its type, title and description.
    #[schema(value_type = Object)]
    properties: serde_json::Map<String, serde_json::Value>,
}

/// A vector layer of a TileJSON document.
#[derive(Serialize, ToSchema)]
pub struct VectorLayer {
    #[schema(example = "areas")]
    id: String,
    description: String,
    minzoom: u8,
    maxzoom: u8,
    /// Each property of the layer's features and its type (`String`, `Number`, `Boolean`).
    fields: std::collections::BTreeMap<String, String>,
}

/// A TileJSON 3.0.0 document (MapLibre's `addSource` reads it).
#[derive(Serialize, ToSchema)]
pub struct TileJson {
    #[schema(example = "3.0.0")]
    tilejson: String,
    name: String,
    description: String,
    /// The tiles' version: the dataset version's (they change with it).
    version: String,
    attribution: String,
    /// `xyz`.
    scheme: String,
    /// The tile URL template, `{z}/{x}/{y}`.
    tiles: Vec<String>,
    minzoom: u8,
    maxzoom: u8,
    /// [west, south, east, north] of the areas.
    bounds: Vec<f64>,
    /// [longitude, latitude, zoom].
    center: Vec<f64>,
    vector_layers: Vec<VectorLayer>,
}
