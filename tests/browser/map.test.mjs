// Drives the reference map page in headless Chromium: the page loads, the layer shows every
// area, the legend has classes, clicking an area draws its chart, English works, the
// comparison mode works, the legal criteria show, nothing is blocked by the page's security policy. Saves
// screenshots as test artefacts.
//
// usage: node map.test.mjs BASE_URL ARTIFACT_DIR EXPECTED_FEATURES
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";

const [base, artifacts, expectedText] = process.argv.slice(2);
const expected = Number(expectedText);
mkdirSync(artifacts, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  // (WebGL for MapLibre by SwiftShader, on the CPU)
  args: ["--headless", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
  page.on("response", (r) => { if (r.status() >= 400) problems.push(`${r.status()} for ${r.url()}`); });
  page.on("request", (r) => { if (!r.url().startsWith(base)) problems.push(`request off the service: ${r.url()}`); });
  const layerRequests = [];
  page.on("request", (r) => { if (r.url().includes("/v1/map/areas")) layerRequests.push(r.url()); });

  await page.goto(`${base}/map`);
  await page.waitForSelector(`body[data-features="${expected}"][data-loading="false"]`, { timeout: 15000 });
  const areas = await page.locator("path.area").count();
  if (areas !== expected) throw new Error(`${areas} area shapes drawn, expected ${expected}`);
  const classes = await page.locator(".legend .legend-class").count();
  if (classes < 2) throw new Error(`the legend has ${classes} classes`);
  // the land under it all: Denmark and its neighbours, drawn from the built-in outlines
  const land = await page.locator("path.land").count();
  if (land !== 3) throw new Error(`${land} land shapes drawn, expected Denmark, Sweden and Germany`);
  const municipalities = (await (await page.request.get(`${base}/v1/map/municipalities`)).json()).features
    .filter((f) => f.geometry).length;
  const outlines = await page.locator("path.outline").count();
  if (municipalities < 1 || outlines !== municipalities) {
    throw new Error(`${outlines} municipality outlines drawn, expected ${municipalities}`);
  }

  // at country zoom each area has a marker; click one: its chart appears, with the area's line
  const markers = await page.locator("path.area-marker").count();
  if (markers !== expected) throw new Error(`${markers} area markers, expected ${expected}`);
  await page.locator("path.area-marker").nth(Math.floor(expected / 2)).click();
  await page.waitForSelector("body[data-chart] #chart svg polyline.series-area", { timeout: 10000 });
  const lines = await page.locator("#chart polyline.series").count();
  if (lines < 2) throw new Error(`the chart has ${lines} lines`);
  const title = await page.locator("#area-name").textContent();
  // the chart's legend names the area and its four references, the sector without the plan
  // areas among them
  const legend = await page.locator("#chart .chart-legend span").count();
  if (legend !== 5) throw new Error(`the chart's legend has ${legend} entries`);
  // and the area on every indicator against its municipality
  const indicators = (await (await page.request.get(`${base}/v1/indicators`)).json()).items.length;
  const scorecardRows = await page.locator("#scorecard tr.scorecard-row").count();
  if (scorecardRows !== indicators) throw new Error(`the scorecard has ${scorecardRows} rows for ${indicators} indicators`);
  await page.screenshot({ path: `${artifacts}/map.png` });
  // the chart's figures as a spreadsheet: the CSV rendering of the same series
  const seriesCsv = await page.request.get(`${base}${await page.getAttribute("#series-csv", "href")}`);
  if (!seriesCsv.headers()["content-type"].startsWith("text/csv")) throw new Error("the series link is no CSV");
  const seriesRows = (await seriesCsv.text()).trim().split("\r\n").length - 1;
  if (seriesRows < lines) throw new Error(`the series CSV has ${seriesRows} rows`);

  // English
  await page.click("#lang");
  await page.waitForFunction(() => document.querySelector("h1").textContent.startsWith("Areas"));
  await page.waitForSelector(`body[data-features="${expected}"][data-loading="false"]`);
  await page.waitForFunction(() => document.documentElement.lang === "en");
  const attribution = await page.locator("#attribution").textContent();
  if (!attribution.startsWith("Source: ")) throw new Error(`the attribution is not in English: ${attribution}`);

  // a comparison
  await page.selectOption("#mode", "comparison");
  await page.waitForSelector("#figure", { timeout: 10000 });
  await page.waitForSelector(`body[data-features="${expected}"][data-loading="false"]`);
  await page.screenshot({ path: `${artifacts}/map-comparison-en.png` });
  // the outlines came once; the language and the comparison asked for properties alone, and
  // every area is still drawn from the outlines kept
  const withOutlines = layerRequests.filter((u) => !u.includes("geometry=false"));
  if (withOutlines.length !== 1 || layerRequests.length < 3) {
    throw new Error(`layer requests: ${JSON.stringify(layerRequests)}`);
  }
  const shapesNow = await page.locator("path.area").count();
  if (shapesNow !== expected) throw new Error(`${shapesNow} area shapes drawn after the comparison, expected ${expected}`);
  const figure = await page.getAttribute("#figure", "href");
  const svg = await (await page.request.get(`${base}${figure}`)).text();
  const bars = (svg.match(/class="bar"/g) || []).length;
  if (bars < 1) throw new Error("the SVG figure has no bars");
  // and the table behind it, one row per area
  const table = await (await page.request.get(`${base}${await page.getAttribute("#comparison-csv", "href")}`)).text();
  const tableRows = table.trim().split("\r\n").length - 1;
  if (tableRows !== expected) throw new Error(`the comparison CSV has ${tableRows} rows, expected ${expected}`);
  // only the departments a plan covered throughout (the demo has plans): the layer and its
  // table are made of them, and say how many each area left out
  if (await page.locator("#coverage-choice").isHidden()) throw new Error("the demo has plans, yet the page offers no choice of departments");
  await page.selectOption("#coverage", "throughout");
  await page.waitForFunction(() => document.getElementById("comparison-csv").href.includes("covered_years="));
  await page.waitForSelector(`body[data-features="${expected}"][data-loading="false"]`);
  const coveredTable = await (await page.request.get(`${base}${await page.getAttribute("#comparison-csv", "href")}`)).text();
  const [coveredHeader, ...coveredRows] = coveredTable.replace(/^\uFEFF/, "").trim().split("\r\n").map((l) => l.split(";"));
  const leftOut = coveredHeader.indexOf("departments_left_out");
  if (leftOut < 0 || !coveredRows.some((r) => Number(r[leftOut]) > 0)) {
    throw new Error(`covered throughout, no area left a department out: ${coveredHeader}`);
  }
  await page.selectOption("#coverage", "all");
  await page.waitForFunction(() => !document.getElementById("comparison-csv").href.includes("covered_years="));
  await page.waitForSelector(`body[data-features="${expected}"][data-loading="false"]`);
  // against the five most similar areas: the table names each area's twins
  await page.selectOption("#reference", "twins");
  await page.waitForFunction(() => document.getElementById("comparison-csv").href.includes("reference=twins"));
  await page.waitForSelector(`body[data-features="${expected}"][data-loading="false"]`);
  const twinsTable = await (await page.request.get(`${base}${await page.getAttribute("#comparison-csv", "href")}`)).text();
  const [twinsHeader, twinsRow] = twinsTable.replace(/^\uFEFF/, "").split("\r\n").map((l) => l.split(";"));
  const twinsAt = twinsHeader.indexOf("twins");
  if (twinsAt < 0 || !twinsRow[twinsAt] || twinsRow[twinsHeader.indexOf("reference")] !== "twins") {
    throw new Error(`the comparison CSV against twins: ${twinsHeader} / ${twinsRow}`);
  }
  // the legal criteria: a categorical legend saying what they are not, and the clicked
  // area's criteria in the panel
  await page.selectOption("#mode", "criteria");
  await page.waitForFunction(() => document.querySelectorAll("#criteria-class option").length === 4);
  await page.waitForSelector(`body.mode-criteria[data-features="${expected}"][data-loading="false"]`);
  const verdicts = await page.locator(".legend .legend-class").count();
  if (verdicts !== 3) throw new Error(`the criteria legend has ${verdicts} categories`);
  const legendNote = await page.locator(".legend .note").textContent();
  if (!legendNote.includes("not the ministry's official lists")) throw new Error(`the criteria legend says: ${legendNote}`);
  await page.locator("path.area-marker").first().click();
  await page.waitForSelector("#criteria tr.criteria-row", { timeout: 10000 });
  const criteriaRows = await page.locator("#criteria tr.criteria-row").count();
  if (criteriaRows !== 9) throw new Error(`the panel lists ${criteriaRows} criteria`);
  await page.screenshot({ path: `${artifacts}/map-criteria-en.png` });
  // the figure as a report would embed it
  const report = await browser.newPage({ viewport: { width: 760, height: 1000 } });
  await report.setContent(`<img id="figure" src="${base}${figure}">`);
  await report.waitForFunction(() => document.getElementById("figure").complete && document.getElementById("figure").naturalWidth > 0);
  await report.screenshot({ path: `${artifacts}/comparison-chart.png`, fullPage: true });

  // by keyboard alone: the skip link, an indicator chosen, an area's panel opened with Enter
  // (focus moves into it), its figures as a table, and Escape back to the area
  {
    const k = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    await k.goto(`${base}/map`);
    await k.waitForSelector(`body[data-features="${expected}"][data-loading="false"]`, { timeout: 15000 });
    await k.keyboard.press("Tab");
    if ((await k.evaluate(() => document.activeElement.className)) !== "skip") throw new Error("the first Tab does not reach the skip link");
    await k.keyboard.press("Tab"); // the indicator
    if ((await k.evaluate(() => document.activeElement.id)) !== "indicator") throw new Error("the indicator is not next");
    await k.keyboard.press("ArrowDown");
    await k.waitForSelector(`body[data-loading="false"]`);
    let tabs = 0;
    while (!(await k.evaluate(() => document.activeElement.classList.contains("area-marker"))) && tabs < 40) {
      await k.keyboard.press("Tab");
      tabs += 1;
    }
    if (tabs >= 40) throw new Error("no area is reached by Tab");
    await k.keyboard.press("Enter");
    await k.waitForSelector("body[data-chart] #chart svg", { timeout: 10000 });
    await k.waitForFunction(() => document.activeElement.id === "area-name");
    const name = await k.evaluate(() => document.activeElement.textContent);
    const cells = await k.locator("#chart table.chart-table td").count();
    if (!name || cells < 5) throw new Error(`the panel by keyboard: ${name}, ${cells} table cells`);
    await k.keyboard.press("Escape");
    await k.waitForFunction(() => !document.body.hasAttribute("data-chart") && document.activeElement.classList.contains("area-marker"));
    await k.close();
  }

  // zooming in from the national view: an area shows as its outline exactly where that is 14
  // pixels across or more (measured off the drawn outline), else as its marker, and has one
  // tab stop either way; some zoom on the way shows both kinds
  {
    const z = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    await z.goto(`${base}/map`);
    await z.waitForSelector(`body[data-features="${expected}"][data-loading="false"][data-zoom]`, { timeout: 15000 });
    // (zoomed by double clicks beside one area's marker, a point the zoom keeps in place)
    const first = await z.locator("path.area-marker").first().boundingBox();
    const at = { x: first.x + first.width / 2 + 25, y: first.y + first.height / 2 };
    let mixed = 0;
    for (let step = 0; step < 5; step++) {
      const seen = await z.evaluate(() => {
        const markers = new Set([...document.querySelectorAll("path.area-marker")].map((m) => m.getAttribute("aria-label")));
        // (Leaflet clips what reaches out of the view: only outlines wholly inside it are measured)
        const view = document.getElementById("map").getBoundingClientRect();
        return [...document.querySelectorAll("path.area")].map((a) => {
          const r = a.getBoundingClientRect();
          const inside = r.width > 0 && r.left > view.left + 1 && r.right < view.right - 1 && r.top > view.top + 1 && r.bottom < view.bottom - 1;
          return { name: a.getAttribute("aria-label"), inside, across: Math.max(r.width, r.height), marker: markers.has(a.getAttribute("aria-label")), tab: a.getAttribute("tabindex") };
        }).filter((a) => a.inside);
      });
      const zoom = Number(await z.evaluate(() => document.body.dataset.zoom));
      for (const a of seen) {
        if (Math.abs(a.across - 14) < 0.5) continue; // on the line, rounding decides
        const wanted = zoom < 12 && a.across < 14;
        if (a.marker !== wanted) problems.push(`zoom ${zoom}: ${a.name} is ${a.across.toFixed(1)} px across and ${a.marker ? "shows" : "does not show"} a marker`);
        if ((a.tab === "0") === a.marker) problems.push(`zoom ${zoom}: ${a.name} has tabindex ${a.tab} with marker ${a.marker}`);
      }
      if (seen.some((a) => a.marker) && seen.some((a) => !a.marker)) mixed += 1;
      const before = zoom;
      await z.mouse.dblclick(at.x, at.y);
      await z.waitForFunction((b) => Number(document.body.dataset.zoom) > b, before);
    }
    if (!mixed) problems.push("no zoom from the national view showed both outlines and markers");
    await z.close();
  }

  // axe-core (WCAG 2.0/2.1, A and AA) in Danish and English, on a laptop and a phone, before
  // and with an area's panel open; and on the phone the map takes most of the screen, with
  // the legend on it
  const axe = readFileSync(new URL("./node_modules/axe-core/axe.min.js", import.meta.url), "utf8");
  const audits = [];
  for (const [width, height] of [[1366, 768], [390, 844]]) {
    for (const lang of ["da", "en"]) {
      const p = await browser.newPage({ viewport: { width, height } });
      p.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
      await p.goto(`${base}/map?lang=${lang}`);
      await p.waitForSelector(`body[data-features="${expected}"][data-loading="false"]`, { timeout: 15000 });
      // the first view holds every area, clear of the map's controls, and the page does not
      // scroll (at 390x844 the sheet below the map made it, and areas were cut off)
      const view = await p.evaluate(() => {
        const box = (n) => n.getBoundingClientRect();
        const map = box(document.getElementById("map"));
        const controls = [".legend", ".leaflet-control-zoom", ".leaflet-control-attribution"].map((s) => box(document.querySelector(s)));
        const shown = [...document.querySelectorAll("path.area-marker, path.area")].map(box).filter((r) => r.width > 0 || r.height > 0);
        const out = shown.filter((r) => r.left < map.left || r.right > map.right || r.top < map.top || r.bottom > map.bottom);
        const covered = shown.filter((r) => controls.some((c) => r.left < c.right && r.right > c.left && r.top < c.bottom && r.bottom > c.top));
        const e = document.documentElement;
        return { shown: shown.length, out: out.length, covered: covered.length, scroll: [e.scrollWidth - innerWidth, e.scrollHeight - innerHeight] };
      });
      if (view.shown < expected || view.out || view.covered || view.scroll[0] > 0 || view.scroll[1] > 0) {
        problems.push(`${width}x${height} ${lang}: the first view ${JSON.stringify(view)}: ${expected} areas wanted in view, none cut off or under a control, no scrolling`);
      }
      for (const state of ["page", "panel"]) {
        if (state === "panel") {
          await p.locator("path.area-marker").first().dispatchEvent("click");
          await p.waitForSelector("body[data-chart] #chart svg", { timeout: 10000 });
        }
        // (evaluated through the debugging protocol: the page's CSP allows no inline script)
        await p.evaluate(axe);
        const result = await p.evaluate(async () => await axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] }));
        for (const v of result.violations) {
          problems.push(`axe ${width}x${height} ${lang} ${state}: ${v.id} (${v.impact}) on ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
        }
        audits.push(`${width}x${height} ${lang} ${state}: ${result.violations.length}`);
      }
      if (width < 700) {
        // the panel is a bottom sheet over the map's lower part: open (the audit opened it),
        // then dismissed by dragging its handle down, which leaves the map as it was
        const sheet = await p.evaluate(() => document.getElementById("panel").getBoundingClientRect().toJSON());
        if (Math.abs(sheet.bottom - height) > 1 || sheet.top < 0.4 * height || sheet.width < width - 1) {
          throw new Error(`on a phone the open panel is not a bottom sheet: ${JSON.stringify(sheet)}`);
        }
        await p.screenshot({ path: `${artifacts}/map-${width}x${height}-${lang}-sheet.png` });
        const handle = await p.locator("#handle").boundingBox();
        await p.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
        await p.mouse.down();
        await p.mouse.move(handle.x + handle.width / 2, handle.y + sheet.height * 0.6, { steps: 8 });
        await p.mouse.up();
        await p.waitForFunction(() => !document.body.classList.contains("panel-open") && !document.body.hasAttribute("data-chart"));
        await p.waitForFunction(() => getComputedStyle(document.getElementById("panel")).visibility === "hidden");
        const box = await p.evaluate(() => document.getElementById("map").getBoundingClientRect().toJSON());
        if (box.width * box.height < 0.6 * width * height) throw new Error(`on a phone the map is ${box.width}x${box.height} of ${width}x${height}`);
        const legendBox = await p.evaluate(() => document.querySelector(".legend").getBoundingClientRect().toJSON());
        if (legendBox.left < 0 || legendBox.right > width || legendBox.top < 0 || legendBox.bottom > height) {
          throw new Error(`on a phone the legend is off the screen: ${JSON.stringify(legendBox)}`);
        }
      }
      await p.screenshot({ path: `${artifacts}/map-${width}x${height}-${lang}.png` });
      await p.close();
    }
  }

  // MapLibre GL JS, as the service vendors it, draws the vector tiles of /tiles/areas.json:
  // the features rendered are the areas in the view (every area wholly inside it, and none
  // that does not reach into it)
  {
    const m = await browser.newPage({ viewport: { width: 800, height: 600 } });
    m.on("pageerror", (e) => problems.push(`maplibre page error: ${e.message}`));
    await m.setContent(`<html><head><link rel="stylesheet" href="${base}/map/vendor/maplibre-gl/maplibre-gl.css"></head>
      <body style="margin:0"><div id="m" style="width:800px;height:600px"></div>
      <script src="${base}/map/vendor/maplibre-gl/maplibre-gl.js"></script></body></html>`);
    await m.waitForFunction(() => window.maplibregl !== undefined);
    const drawn = await m.evaluate(async (base) => {
      const map = new maplibregl.Map({ container: "m", center: [12.5, 55.7], zoom: 11,
        style: { version: 8, sources: { areas: { type: "vector", url: `${base}/tiles/areas.json` } },
          layers: [{ id: "areas", type: "fill", source: "areas", "source-layer": "areas", paint: { "fill-color": "#d7301f" } }] } });
      await new Promise((resolve, reject) => {
        map.on("idle", resolve);
        map.on("error", (e) => reject(String(e.error)));
        setTimeout(() => reject("MapLibre did not settle"), 20000);
      });
      const b = map.getBounds();
      return { ids: [...new Set(map.queryRenderedFeatures({ layers: ["areas"] }).map((f) => f.properties.area_id))].sort(),
        bounds: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()] };
    }, base);
    const [w, s, e, n] = drawn.bounds;
    const layer = await (await m.request.get(`${base}/v1/map/areas?bbox=${w},${s},${e},${n}`)).json();
    const reaching = new Set(layer.features.map((f) => f.id));
    const box = (f) => { const p = f.geometry.coordinates.flat(3); const xs = p.filter((_, i) => i % 2 === 0), ys = p.filter((_, i) => i % 2 === 1);
      return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)]; };
    const inside = layer.features.filter((f) => { const b = box(f); return b[0] > w && b[2] < e && b[1] > s && b[3] < n; }).map((f) => f.id);
    if (drawn.ids.length < 3) throw new Error(`MapLibre drew ${drawn.ids.length} areas`);
    for (const id of inside) if (!drawn.ids.includes(id)) throw new Error(`MapLibre did not draw ${id}, which lies in the view`);
    for (const id of drawn.ids) if (!reaching.has(id)) throw new Error(`MapLibre drew ${id}, which is not in the view`);
    await m.screenshot({ path: `${artifacts}/maplibre-tiles.png` });
    await m.close();
  }

  if (problems.length) throw new Error(problems.join("\n"));
  console.log(JSON.stringify({ areas, classes, lines, title, bars, seriesRows, tableRows, scorecardRows, audits }));
} finally {
  await browser.close();
}
