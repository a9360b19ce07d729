// A small program with the client openapi-typescript (types from openapi/openapi.json) and
// openapi-fetch make, as a front end or an integration would write it: every /v1 operation,
// each answer read through the generated types (tsc --strict checks them), problem details
// for bad input, and the downloads.
//
// usage: node program.js BASE_URL ADMIN_TOKEN EXTRACT.zip ACCESS_TOKEN   (schema.d.ts generated beside it)
// ACCESS_TOKEN: an access token of a demo organisation, for the signed-in operations

import { readFileSync } from "node:fs";
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Problem = components["schemas"]["ProblemDetails"];

const [base, token, extract, access] = process.argv.slice(2);
const client = createClient<paths>({ baseUrl: base });
const admin = { Authorization: `Bearer ${token}` };
const signedIn = { Authorization: `Bearer ${access}` };
let answers = 0;

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`not as documented: ${what}`);
}

/** The answer's data, after checking its status. */
function ok<T>(r: { data?: T; error?: unknown; response: Response }, status = 200): T {
  check(r.response.status === status, `${r.response.url}: ${r.response.status} ${JSON.stringify(r.error)}`);
  check(r.data !== undefined, `${r.response.url}: a body`);
  answers++;
  return r.data;
}

/** A problem details answer with its status. */
function problem(r: { error?: Problem | unknown; response: Response }, status: number): Problem {
  check(r.response.status === status, `${r.response.url}: ${r.response.status}, not ${status}`);
  check(r.response.headers.get("content-type")?.startsWith("application/problem+json"), "problem details");
  const p = r.error as Problem;
  check(p.status === status && p.title.length > 0 && p.detail.length > 0, JSON.stringify(p));
  answers++;
  return p;
}

function isZip(bytes: ArrayBuffer): boolean {
  const b = new Uint8Array(bytes);
  return b[0] === 0x50 && b[1] === 0x4b;
}

// the catalogue
const indicators = ok(await client.GET("/v1/indicators", { params: { query: { lang: "en" } } }));
const indicator = indicators.items[0];
check(indicator.name === indicator.name_en, "English names");
const first = indicator.years[0];
const last = indicator.years[indicator.years.length - 1];
const one = ok(await client.GET("/v1/indicators/{code}", { params: { path: { code: indicator.code } } }));
check(one.code === indicator.code, "the indicator asked for");
problem(await client.GET("/v1/indicators/{code}", { params: { path: { code: "no_such_indicator" } } }), 404);

const municipalities = ok(await client.GET("/v1/municipalities", { params: { query: { with_areas: true } } }));
check(municipalities.count === municipalities.items.length, "a count of the items");
const areas = ok(await client.GET("/v1/areas"));
const area = areas.items[0];
const municipality = ok(await client.GET("/v1/municipalities/{code}", { params: { path: { code: area.municipality_code } } }));
check(municipality.code === area.municipality_code, "the municipality asked for");
const inMunicipality = ok(await client.GET("/v1/areas", { params: { query: { municipality: area.municipality_code } } }));
check(inMunicipality.items.every((a) => a.municipality_code === area.municipality_code), "the filter");
const detail = ok(await client.GET("/v1/areas/{area_id}", { params: { path: { area_id: area.area_id } } }));
check(detail.departments.length > 0, "departments");
problem(await client.GET("/v1/areas/{area_id}", { params: { path: { area_id: "no-such-area" } } }), 404);

// an area's series, in every format
const seriesQuery = { path: { area_id: area.area_id }, query: { indicator: indicator.code } };
const series = ok(await client.GET("/v1/areas/{area_id}/series", { params: seriesQuery }));
const years = series.series.area.map((p) => p.year);
check(years.length > 0 && years.every((y, k) => k === 0 || years[k - 1] < y), "years ascending");
const seriesCsv: string = ok(await client.GET("/v1/areas/{area_id}/series.csv", { params: seriesQuery, parseAs: "text" }));
// (fetch's text() drops the byte-order mark, as the Encoding standard decodes UTF-8)
check(seriesCsv.split("\r\n")[0].includes("series;year"), "a Danish CSV");
const seriesStat = ok(await client.GET("/v1/areas/{area_id}/series.jsonstat", { params: seriesQuery }));
check(seriesStat.version === "2.0" && seriesStat.value.length === seriesStat.size.reduce((a, b) => a * b, 1), "JSON-stat");
check(isZip(ok(await client.GET("/v1/areas/{area_id}/series.xlsx", { params: seriesQuery, parseAs: "arrayBuffer" }))), "a workbook");
problem(await client.GET("/v1/areas/{area_id}/series", { params: { path: { area_id: area.area_id }, query: { indicator: "nope" } } }), 400);

// comparisons, in every format
const query = { indicator: indicator.code, from: first, to: last, reference: "municipality" as const };
const comparisons = ok(await client.GET("/v1/comparisons", { params: { query } }));
check(comparisons.items.length === areas.count && comparisons.summary.areas === areas.count, "every area");
const bad = problem(await client.GET("/v1/comparisons", { params: { query: { indicator: indicator.code, from: last, to: first } } }), 400);
check(bad.parameter === "from" || bad.parameter === "to", "the problem names the parameter");
const csv: string = ok(await client.GET("/v1/comparisons.csv", { params: { query: { ...query, lang: "en" } }, parseAs: "text" }));
check(csv.trim().split("\r\n").length === comparisons.items.length + 1, "a row per area");
const stat = ok(await client.GET("/v1/comparisons.jsonstat", { params: { query } }));
check(stat.size[0] === comparisons.items.length, "an area dimension");
check(isZip(ok(await client.GET("/v1/comparisons.xlsx", { params: { query }, parseAs: "arrayBuffer" }))), "a workbook");
const chart: string = ok(await client.GET("/v1/comparisons/chart.svg", { params: { query }, parseAs: "text" }));
check(chart.includes("<svg"), "an SVG");
const byIndicator = ok(await client.GET("/v1/areas/{area_id}/comparisons", { params: { path: { area_id: area.area_id }, query: { reference: "country" } } }));
check(byIndicator.items.every((c) => indicators.items.some((i) => i.code === c.indicator)), "known indicators");

// coverage: the summary for every covered_years, and an area's plans
const coverage = ok(await client.GET("/v1/comparisons/coverage", { params: { query } }));
check(coverage.items.length === last - first + 2 && JSON.stringify(coverage.items[0].summary) === JSON.stringify(comparisons.summary), "N = 0 is the note's method");
const throughout = ok(await client.GET("/v1/comparisons", { params: { query: { ...query, covered_years: last - first + 1 } } }));
check(JSON.stringify(throughout.summary) === JSON.stringify(coverage.items[coverage.items.length - 1].summary), "the same summary");
check(throughout.items.every((i) => i.departments_used + i.departments_left_out > 0), "departments counted");
const plans = ok(await client.GET("/v1/areas/{area_id}/plans", { params: { path: { area_id: area.area_id }, query: { indicator: indicator.code } } }));
check(plans.area_id === area.area_id && plans.plans.every((p) => p.from_year <= p.to_year), "plans with their periods");

// the legal criteria
const rules = ok(await client.GET("/v1/rules"));
const ruleSet = ok(await client.GET("/v1/rules/{id}", { params: { path: { id: rules.items[0].id } } }));
check(ruleSet.id === rules.items[0].id && ruleSet.criteria.length > 0, "the rule set asked for");
const year = rules.years[rules.years.length - 1];
const criteria = ok(await client.GET("/v1/criteria", { params: { query: { year } } }));
check(criteria.year === year && criteria.items.length === areas.count, "every area's criteria");
problem(await client.GET("/v1/criteria", { params: { query: { year, rules: "no-such-rules" } } }), 400);
const criteriaCsv: string = ok(await client.GET("/v1/criteria.csv", { params: { query: { year } }, parseAs: "text" }));
check(criteriaCsv.trim().split("\r\n").length === criteria.items.length + 1, "a row per area");
const criteriaStat = ok(await client.GET("/v1/criteria.jsonstat", { params: { query: { year } } }));
check(criteriaStat.size[0] === criteria.items.length, "an area dimension");
check(isZip(ok(await client.GET("/v1/criteria.xlsx", { params: { query: { year } }, parseAs: "arrayBuffer" }))), "a workbook");
const areaCriteria = ok(await client.GET("/v1/areas/{area_id}/criteria", { params: { path: { area_id: area.area_id } } }));
check(areaCriteria.years.length > 0, "years of criteria");
const areaCriteriaCsv: string = ok(await client.GET("/v1/areas/{area_id}/criteria.csv", { params: { path: { area_id: area.area_id } }, parseAs: "text" }));
check(areaCriteriaCsv.includes(area.area_id), "the area's rows");
check(isZip(ok(await client.GET("/v1/areas/{area_id}/criteria.xlsx", { params: { path: { area_id: area.area_id } }, parseAs: "arrayBuffer" }))), "a workbook");

// the map layers, typed to their properties
const layer = ok(await client.GET("/v1/map/areas", { params: { query: { indicator: indicator.code, year: last } } }));
check(layer.type === "FeatureCollection" && layer.features.length === areas.count, "a feature per area");
const feature = layer.features[0];
check(feature.properties.area_id === feature.id && (feature.geometry === null || feature.geometry.coordinates.length > 0), "a feature");
check(feature.properties.status === "ok" || feature.properties.status === "suppressed" || feature.properties.status === "missing", "a status");
const outlines = ok(await client.GET("/v1/map/municipalities"));
check(outlines.features.every((f) => f.properties.code === f.id), "municipalities by code");

// the dataset versions and the whole dataset
const datasets = ok(await client.GET("/v1/datasets"));
const served = datasets.served_version;
check(typeof served === "number", "a version served");
check(isZip(ok(await client.GET("/v1/datapackage.zip", { parseAs: "arrayBuffer" }))), "the data package");

// signed in as a housing organisation: its own departments, with the access token
const me = ok(await client.GET("/v1/me", { headers: signedIn }));
check(me.departments > 0, "departments of its own");
const mine = ok(await client.GET("/v1/me/departments", { headers: signedIn }));
const department = mine.items[0].department_id;
const own = { params: { path: { department_id: department }, query: { indicator: indicator.code } }, headers: signedIn };
check(ok(await client.GET("/v1/me/departments/{department_id}/series", own)).department_id === department, "the department's series");
check(ok(await client.GET("/v1/me/departments/{department_id}/series.csv", { ...own, parseAs: "text" })).includes(department), "its CSV");
check(isZip(ok(await client.GET("/v1/me/departments/{department_id}/series.xlsx", { ...own, parseAs: "arrayBuffer" }))), "its workbook");
const pair = mine.items.slice(0, 2).map((d) => d.department_id).join(",");
ok(await client.GET("/v1/me/selection/series", { params: { query: { departments: pair, indicator: indicator.code } }, headers: signedIn }));
const mineQuery = { params: { query: { indicator: indicator.code, from: first, to: last, reference: "area" } }, headers: signedIn };
check(ok(await client.GET("/v1/me/comparisons", mineQuery)).items.length === me.departments, "every department compared");
check(ok(await client.GET("/v1/me/comparisons.csv", { ...mineQuery, parseAs: "text" })).includes(department), "the comparisons' CSV");
check(isZip(ok(await client.GET("/v1/me/comparisons.xlsx", { ...mineQuery, parseAs: "arrayBuffer" }))), "their workbook");
problem(await client.GET("/v1/me"), 401);
const records = ok(await client.GET("/v1/admin/audit", { params: { query: { since: "2000-01-01" } }, headers: admin }));
check(records.count === records.items.length && records.count > 0, "the audit log");

// the administration: a token is needed, an extract is imported, the old version activated again
const zip = readFileSync(extract);
// (the document types the zip as a binary string; openapi-fetch sends the bytes its bodySerializer gives)
const upload = { body: "", bodySerializer: () => zip, headers: { "Content-Type": "application/zip" } };
problem(await client.POST("/v1/admin/imports", { ...upload, headers: { ...upload.headers, Authorization: "Bearer wrong" } }), 401);
const imported = ok(await client.POST("/v1/admin/imports", { ...upload, headers: { ...upload.headers, ...admin } }), 201);
check(imported.dataset_version > served, "a new version");
const notZip = { body: "", bodySerializer: () => "not a zip", headers: { "Content-Type": "application/zip", ...admin } };
const rejected = problem(await client.POST("/v1/admin/imports", notZip), 422);
check((rejected.problems ?? []).length > 0, "the problems of a rejected import");
const back = ok(await client.POST("/v1/admin/datasets/{version}/activate", { params: { path: { version: served } }, headers: admin }));
check(back.active && back.dataset_version === served, "the earlier version served again");
problem(await client.POST("/v1/admin/datasets/{version}/activate", { params: { path: { version: 999999 } }, headers: admin }), 404);

console.log(JSON.stringify({ answers }));
