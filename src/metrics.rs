//! Prometheus metrics at /metrics: requests by route and status, latency, the served dataset
//! version, the snapshot's age and its withheld figures, imports and reloads.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use actix_web::http::{Method, StatusCode};
use prometheus::proto::{Metric, MetricFamily};
use prometheus::{Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

use crate::snapshot::SnapshotCell;

const CACHE_RESULTS: [&str; 4] = ["hit", "miss", "coalesced", "not_modified"];

/// A route pattern's request metrics with the label sets of its usual answers resolved once:
/// prometheus hashes the labels on every `with_label_values`, and this counts every request.
pub struct RouteMetrics {
    route: String,
    latency: Histogram,
    /// GET answered with each of COMMON_STATUSES, made on first use (a label set appears in
    /// /metrics only once it has counted).
    common: [OnceLock<IntCounter>; COMMON_STATUSES.len()],
    requests: IntCounterVec,
}

const COMMON_STATUSES: [u16; 6] = [200, 204, 304, 400, 404, 503];

impl RouteMetrics {
    pub fn observe(&self, method: &Method, status: StatusCode, seconds: f64) {
        self.latency.observe(seconds);
        let common = (method == Method::GET).then(|| COMMON_STATUSES.iter().position(|&s| s == status.as_u16())).flatten();
        match common {
            Some(i) => self.common[i].get_or_init(|| self.requests.with_label_values(&[self.route.as_str(), "GET", status.as_str()])).inc(),
            None => self.requests.with_label_values(&[self.route.as_str(), method_label(method), status.as_str()]).inc(),
        }
    }
}

/// A method as a label value: one of RFC 9110's (and PATCH), else `other`. A label value is a
/// series for good, and a client may send any token as a method.
fn method_label(method: &Method) -> &'static str {
    [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::DELETE, "DELETE"),
        (Method::CONNECT, "CONNECT"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::TRACE, "TRACE"),
        (Method::PATCH, "PATCH"),
    ]
    .into_iter()
    .find_map(|(m, label)| (m == method).then_some(label))
    .unwrap_or("other")
}

/// The metrics every request counts into, one set per worker: counters and histograms that
/// both workers increment move their cache lines between the cores on every request (the
/// latency histogram alone was 1 % of a 304's CPU). /metrics shows the workers' sums.
pub struct RequestShard {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    /// hit, miss, coalesced, not_modified: resolved once, as they count every request
    cache_lookups: [IntCounter; 4],
}

impl RequestShard {
    #[expect(clippy::expect_used, reason = "made as a worker starts, of constant names and labels: a mistake fails the first test")]
    fn new() -> Self {
        let registry = Registry::new_custom(Some("boligsocial".into()), None).expect("a valid prefix");
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered, by route pattern, method and status"),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Time to answer a request, by route pattern")
                .buckets(vec![0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0]),
            &["route"],
        )
        .expect("valid metric");
        let cache_lookups = IntCounterVec::new(
            Opts::new(
                "http_cache_lookups_total",
                "Cacheable requests by how they were answered: hit, miss (rendered), coalesced (waited for another's rendering), not_modified (304 by ETag)",
            ),
            &["result"],
        )
        .expect("valid metric");
        for c in
            [Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>, Box::new(latency.clone()), Box::new(cache_lookups.clone())]
        {
            registry.register(c).expect("registered once");
        }
        let cache_lookups = CACHE_RESULTS.map(|r| cache_lookups.with_label_values(&[r]));
        RequestShard { registry, requests, latency, cache_lookups }
    }

    /// What the requests of a route pattern count into (`None`: a path no route matched).
    /// Resolving it hashes labels; the request layer remembers it per path.
    pub fn route(&self, pattern: Option<String>) -> RouteMetrics {
        let route = pattern.unwrap_or_else(|| "unmatched".to_string());
        RouteMetrics {
            latency: self.latency.with_label_values(&[route.as_str()]),
            common: Default::default(),
            requests: self.requests.clone(),
            route,
        }
    }

    /// `hit`, `miss`, `coalesced` or `not_modified`.
    pub fn count_cache(&self, result: &str) {
        if let Some(i) = CACHE_RESULTS.iter().position(|r| *r == result) {
            self.cache_lookups[i].inc();
        }
    }
}

/// The families of the workers' shards summed: one family per name, one metric per label set
/// (the shards are made alike, so their histograms have the same buckets).
fn summed(families: impl Iterator<Item = MetricFamily>) -> Vec<MetricFamily> {
    let mut out: Vec<MetricFamily> = Vec::new();
    for mut family in families {
        let Some(into) = out.iter_mut().find(|f| f.name() == family.name()) else {
            out.push(family);
            continue;
        };
        for metric in family.take_metric() {
            match into.mut_metric().iter_mut().find(|m| m.get_label() == metric.get_label()) {
                Some(sum) => add(sum, &metric),
                None => into.mut_metric().push(metric),
            }
        }
    }
    for family in &mut out {
        family.mut_metric().sort_by(|a, b| {
            let values = |m: &Metric| m.get_label().iter().map(|l| l.value().to_string()).collect::<Vec<_>>();
            values(a).cmp(&values(b))
        });
    }
    out
}

fn add(sum: &mut Metric, metric: &Metric) {
    let mut counter = sum.get_counter().clone();
    counter.set_value(counter.get_value() + metric.get_counter().get_value());
    sum.set_counter(counter);
    let (mut histogram, other) = (sum.get_histogram().clone(), metric.get_histogram());
    histogram.set_sample_count(histogram.get_sample_count() + other.get_sample_count());
    histogram.set_sample_sum(histogram.get_sample_sum() + other.get_sample_sum());
    let buckets = histogram
        .get_bucket()
        .iter()
        .zip(other.get_bucket())
        .map(|(a, b)| {
            let mut bucket = a.clone();
            bucket.set_cumulative_count(a.cumulative_count() + b.cumulative_count());
            bucket
        })
        .collect();
    histogram.set_bucket(buckets);
    sum.set_histogram(histogram);
}

pub struct Metrics {
    registry: Registry,
    /// Each worker's request metrics (see [`RequestShard`]), kept for as long as the metrics
    /// are: a worker that ends leaves its counts in the sums.
    shards: Mutex<Vec<Arc<RequestShard>>>,
    imports: IntCounterVec,
    snapshot_loads: IntCounterVec,
    dataset_version: IntGauge,
    snapshot_age: IntGauge,
    snapshot_loaded: IntGauge,
    figures_withheld: IntGauge,
    rest_withheld: IntGauge,
    covered_withheld: IntGauge,
    rest_missing: IntGauge,
    criteria_seconds: prometheus::Gauge,
    criteria_bytes: IntGauge,
    shed: prometheus::IntCounter,
    cache_bytes: IntGauge,
    cache_entries: IntGauge,
    last_check: IntGauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    #[expect(clippy::expect_used, reason = "made at startup, of constant names and labels: a mistake fails the first test")]
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("boligsocial".into()), None).expect("a valid prefix");
        let imports =
            IntCounterVec::new(Opts::new("imports_total", "Extracts imported over HTTP by this instance, by outcome"), &["outcome"])
                .expect("valid metric");
        let snapshot_loads = IntCounterVec::new(
            Opts::new("snapshot_loads_total", "Dataset versions loaded into memory, and failed checks of the database"),
            &["outcome"],
        )
        .expect("valid metric");
        let dataset_version = IntGauge::new("dataset_version", "The dataset version served (0 before one is loaded)").expect("valid");
        let snapshot_age = IntGauge::new("snapshot_age_seconds", "Seconds since the served snapshot was built").expect("valid");
        let snapshot_loaded = IntGauge::new("snapshot_loaded", "1 when a dataset is loaded and served").expect("valid");
        let figures_withheld = IntGauge::new(
            "snapshot_figures_withheld",
            "Figures of the served snapshot that the disclosure rules pass but secondary suppression withholds",
        )
        .expect("valid");
        let rest_withheld = IntGauge::new(
            "snapshot_rest_figures_withheld",
            "Figures of the social-housing sector without the plan areas that secondary suppression withholds",
        )
        .expect("valid");
        let covered_withheld = IntGauge::new(
            "snapshot_covered_figures_withheld",
            "Coverage-restricted area figures (covered_years) that secondary suppression withholds",
        )
        .expect("valid");
        let rest_missing = IntGauge::new(
            "snapshot_rest_figures_missing",
            "Cells where the social-housing sector's figure does not hold its plan areas, so the sector without them is missing",
        )
        .expect("valid");
        let criteria_seconds = prometheus::Gauge::new(
            "snapshot_criteria_seconds",
            "Seconds the legal criteria took to evaluate when the served version was loaded",
        )
        .expect("valid");
        let criteria_bytes =
            IntGauge::new("snapshot_criteria_bytes", "Bytes, about, the served version's evaluated criteria hold").expect("valid");
        let shed = prometheus::IntCounter::new(
            "http_shed_total",
            "Work refused because the render queue was full: misses answered 503, compressions skipped (sent uncompressed)",
        )
        .expect("valid");
        let cache_bytes = IntGauge::new("http_cache_bytes", "Bytes the response cache counts for its entries").expect("valid");
        let cache_entries = IntGauge::new("http_cache_entries", "Answers kept in the response cache").expect("valid");
        let last_check = IntGauge::new(
            "snapshot_last_check_timestamp_seconds",
            "When the database last told this instance which version is active (Unix time; 0: never)",
        )
        .expect("valid");
        for c in [
            Box::new(imports.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(snapshot_loads.clone()),
            Box::new(dataset_version.clone()),
            Box::new(snapshot_age.clone()),
            Box::new(snapshot_loaded.clone()),
            Box::new(figures_withheld.clone()),
            Box::new(rest_withheld.clone()),
            Box::new(covered_withheld.clone()),
            Box::new(rest_missing.clone()),
            Box::new(criteria_seconds.clone()),
            Box::new(criteria_bytes.clone()),
            Box::new(shed.clone()),
            Box::new(cache_bytes.clone()),
            Box::new(cache_entries.clone()),
            Box::new(last_check.clone()),
        ] {
            registry.register(c).expect("registered once");
        }
        Metrics {
            registry,
            shards: Mutex::default(),
            imports,
            snapshot_loads,
            dataset_version,
            snapshot_age,
            snapshot_loaded,
            figures_withheld,
            rest_withheld,
            covered_withheld,
            rest_missing,
            criteria_seconds,
            criteria_bytes,
            shed,
            cache_bytes,
            cache_entries,
            last_check,
        }
    }

    /// A new set of request metrics, for one worker.
    pub fn shard(&self) -> Arc<RequestShard> {
        let shard = Arc::new(RequestShard::new());
        self.shards.lock().unwrap_or_else(|e| e.into_inner()).push(shard.clone());
        shard
    }

    /// `imported`, `identical`, `rejected` or `failed`.
    pub fn count_import(&self, outcome: &str) {
        self.imports.with_label_values(&[outcome]).inc();
    }

    /// `loaded` or `failed`.
    pub fn count_snapshot_load(&self, outcome: &str) {
        self.snapshot_loads.with_label_values(&[outcome]).inc();
    }

    pub fn count_shed(&self) {
        self.shed.inc();
    }

    /// The response cache's size, read when the metrics are asked for.
    pub fn set_cache_size(&self, bytes: u64, entries: u64) {
        self.cache_bytes.set(bytes as i64);
        self.cache_entries.set(entries as i64);
    }

    /// The text format, with the snapshot gauges read now.
    pub fn render(&self, cell: &SnapshotCell) -> String {
        let checked = cell.last_checked().and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok());
        self.last_check.set(checked.map_or(0, |d| d.as_secs() as i64));
        match cell.get() {
            Some(s) => {
                self.dataset_version.set(s.dataset.version);
                let age = SystemTime::now().duration_since(s.built_at).map_or(0, |d| d.as_secs());
                self.snapshot_age.set(age as i64);
                self.snapshot_loaded.set(1);
                self.figures_withheld.set(s.withheld_figures as i64);
                self.rest_withheld.set(s.rest_withheld as i64);
                self.covered_withheld.set(s.covered_withheld as i64);
                self.rest_missing.set(s.rest_missing as i64);
                self.criteria_seconds.set(s.criteria.build_seconds);
                self.criteria_bytes.set(s.criteria.bytes as i64);
            }
            None => {
                self.dataset_version.set(0);
                self.snapshot_age.set(0);
                self.snapshot_loaded.set(0);
                self.figures_withheld.set(0);
                self.rest_withheld.set(0);
                self.covered_withheld.set(0);
                self.rest_missing.set(0);
                self.criteria_seconds.set(0.0);
                self.criteria_bytes.set(0);
            }
        }
        let mut families = self.registry.gather();
        let shards: Vec<Arc<RequestShard>> = self.shards.lock().unwrap_or_else(|e| e.into_inner()).clone();
        families.extend(summed(shards.iter().flat_map(|s| s.registry.gather())));
        families.sort_by(|a, b| a.name().cmp(b.name()));
        TextEncoder::new().encode_to_string(&families).unwrap_or_else(|e| format!("# the metrics could not be written: {e}\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of the sample `name{labels}` in the text format.
    fn sample(text: &str, line_start: &str) -> f64 {
        let line = text.lines().find(|l| l.starts_with(line_start)).unwrap_or_else(|| panic!("no {line_start} in\n{text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    }

    #[test]
    fn the_workers_counts_are_summed() {
        let metrics = Metrics::new();
        let (a, b) = (metrics.shard(), metrics.shard());
        let (ra, rb) = (a.route(Some("/v1/areas".into())), b.route(Some("/v1/areas".into())));
        ra.observe(&Method::GET, StatusCode::OK, 0.0002);
        ra.observe(&Method::GET, StatusCode::OK, 0.003);
        rb.observe(&Method::GET, StatusCode::OK, 0.0002);
        rb.observe(&Method::GET, StatusCode::NOT_FOUND, 2.0);
        b.route(None).observe(&Method::POST, StatusCode::METHOD_NOT_ALLOWED, 0.001);
        // a made-up method is `other`, however many there are
        for i in 0..100 {
            let made_up = Method::from_bytes(format!("X{i}").as_bytes()).unwrap();
            a.route(None).observe(&made_up, StatusCode::METHOD_NOT_ALLOWED, 0.001);
        }
        a.count_cache("hit");
        b.count_cache("hit");
        b.count_cache("miss");
        let text = metrics.render(&SnapshotCell::default());
        let requests = "boligsocial_http_requests_total{method=\"GET\",route=\"/v1/areas\",";
        assert_eq!(sample(&text, &format!("{requests}status=\"200\"}}")), 3.0);
        assert_eq!(sample(&text, &format!("{requests}status=\"404\"}}")), 1.0);
        assert_eq!(sample(&text, "boligsocial_http_requests_total{method=\"POST\",route=\"unmatched\",status=\"405\"}"), 1.0);
        assert_eq!(sample(&text, "boligsocial_http_requests_total{method=\"other\",route=\"unmatched\",status=\"405\"}"), 100.0);
        assert!(!text.contains("method=\"X"), "no made-up method is a label value");
        let latency = "boligsocial_http_request_duration_seconds";
        assert_eq!(sample(&text, &format!("{latency}_count{{route=\"/v1/areas\"}}")), 4.0);
        assert!((sample(&text, &format!("{latency}_sum{{route=\"/v1/areas\"}}")) - 2.0034).abs() < 1e-9);
        assert_eq!(sample(&text, &format!("{latency}_bucket{{route=\"/v1/areas\",le=\"0.00025\"}}")), 2.0);
        assert_eq!(sample(&text, &format!("{latency}_bucket{{route=\"/v1/areas\",le=\"0.005\"}}")), 3.0);
        assert_eq!(sample(&text, &format!("{latency}_bucket{{route=\"/v1/areas\",le=\"+Inf\"}}")), 4.0);
        assert_eq!(sample(&text, "boligsocial_http_cache_lookups_total{result=\"hit\"}"), 2.0);
        assert_eq!(sample(&text, "boligsocial_http_cache_lookups_total{result=\"miss\"}"), 1.0);
        // one family each: one HELP line, not one per worker
        assert_eq!(text.matches("# HELP boligsocial_http_requests_total").count(), 1);
        assert_eq!(text.matches("# TYPE boligsocial_http_request_duration_seconds histogram").count(), 1);
    }
}
