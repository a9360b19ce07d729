// Signs in on the reference map page in headless Chromium: by keyboard, the page's "Sign in"
// takes the user to the test provider's login (authorization code with PKCE), back on the page
// the code is gone from the address, the area's panel shows the caller's departments there with
// their figures, the access token is in no address, storage or cookie of the page, public
// requests carry no token, the page is axe-clean signed in on a laptop and a phone, and "Sign
// out" forgets the caller. The ID token the provider hands the page is refused as an access
// token.
//
// usage: node sign_in.test.mjs BASE_URL ARTIFACT_DIR EXPECTED_JSON
//   EXPECTED_JSON: {user, name, area, departments: [id…], first: [points], elsewhere, issuer}
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";

const [base, artifacts, expectedText] = process.argv.slice(2);
const expected = JSON.parse(expectedText);
mkdirSync(artifacts, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const problems = [];
const check = (ok, what) => { if (!ok) problems.push(what); };
try {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  // (the provider's development login asks for a web font: nothing here reaches the internet)
  await context.route((url) => !url.href.startsWith(base) && !url.href.startsWith(expected.issuer), (route) => route.abort());
  const page = await context.newPage();
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error" && !m.text().includes("net::ERR_FAILED")) problems.push(`console: ${m.text()}`); });
  const seen = [];
  page.on("request", (r) => seen.push({ url: r.url(), authorization: r.headers()["authorization"] || null }));
  // the provider's answer at its token endpoint, for the ID token in it
  let idToken = null;
  page.on("response", async (r) => {
    if (r.url() === `${expected.issuer}/token` && r.request().method() === "POST") {
      try { idToken = (await r.json()).id_token || null; } catch { /* a preflight */ }
    }
  });

  await page.goto(`${base}/map?indicator=outside_work_education`);
  await page.waitForSelector('body[data-loading="false"]', { timeout: 15000 });
  await page.waitForSelector("#sign-in:not([hidden])");

  // by keyboard: Tab to "Log ind", Enter
  let tabs = 0;
  while ((await page.evaluate(() => document.activeElement.id)) !== "sign-in" && tabs < 20) {
    await page.keyboard.press("Tab");
    tabs += 1;
  }
  check(tabs < 20, "the sign-in button is not reached by Tab");
  await page.keyboard.press("Enter");
  // the provider's login, then its consent, by keyboard too
  await page.waitForURL((u) => u.href.startsWith(expected.issuer), { timeout: 10000 });
  const authorize = seen.map((s) => s.url).find((u) => u.startsWith(`${expected.issuer}/auth`));
  check(authorize && /code_challenge_method=S256/.test(authorize) && /code_challenge=[A-Za-z0-9_-]{43}&/.test(authorize),
    `the authorization request has no S256 code challenge: ${authorize}`);
  await page.waitForSelector('input[name="login"]');
  await page.focus('input[name="login"]');
  await page.keyboard.type(expected.user);
  await page.keyboard.press("Tab");
  await page.keyboard.type("any password");
  await page.keyboard.press("Enter");
  // (a first sign-in at the map client asks for consent; the button has the focus)
  const consent = await Promise.race([
    page.waitForSelector('input[name="prompt"][value="consent"]', { state: "attached", timeout: 10000 }).then(() => true),
    page.waitForURL((u) => u.href.startsWith(base), { timeout: 10000 }).then(() => false),
  ]);
  if (consent) {
    await page.focus('button[type="submit"]');
    await page.keyboard.press("Enter");
  }
  await page.waitForURL((u) => u.href.startsWith(base), { timeout: 10000 });
  await page.waitForSelector('body[data-signed-in="true"]', { timeout: 10000 });
  const account = await page.locator("#signed-in").textContent();
  check(account.includes(expected.name), `the page says ${account}`);
  // the code and state are gone from the address, and the query before signing in is back
  check(page.url() === `${base}/map?indicator=outside_work_education`, `after signing in the address is ${page.url()}`);

  // the area's panel, opened by keyboard: the caller's departments there, with their figures
  const marker = page.locator(`path.area-marker[aria-label="${expected.area}"]`);
  await marker.focus();
  await page.keyboard.press("Enter");
  await page.waitForSelector("body[data-chart] #mine:not([hidden]) table.mine-table", { timeout: 10000 });
  await page.waitForFunction(() => document.activeElement.id === "area-name");
  const tables = await page.locator("#mine table.mine-table").count();
  check(tables === expected.departments.length, `${tables} department tables for ${expected.departments.length} departments`);
  const headings = await page.locator("#mine h4").allTextContents();
  for (const id of expected.departments) check(headings.some((h) => h.includes(`(${id})`)), `no table for ${id}: ${headings}`);
  // the first department's figures are those of its series, year by year
  const first = headings.findIndex((h) => h.includes(`(${expected.departments[0]})`));
  const rows = await page.locator("#mine table.mine-table").nth(Math.max(first, 0)).locator("tr.mine-row").evaluateAll(
    (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  check(rows.length === expected.first.length, `${rows.length} rows for ${expected.first.length} points`);
  rows.forEach((row, i) => {
    const p = expected.first[i];
    const shown = p.value === null ? null : p.value.toLocaleString("da-DK", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    check(row[0] === String(p.year), `row ${i} is year ${row[0]}, wanted ${p.year}`);
    if (shown !== null) check(row[1] === shown, `${p.year}: the page shows ${row[1]}, the series ${shown}`);
    else check(row[1] !== "–" && !/\d/.test(row[1]), `${p.year}: a withheld figure shows as ${row[1]}`);
  });
  await page.screenshot({ path: `${artifacts}/map-signed-in.png` });

  // the token: only in the Authorization header of /v1/me requests; nowhere the page keeps
  // things, never in an address
  const token = seen.find((s) => s.url.startsWith(`${base}/v1/me`) && s.authorization)?.authorization?.replace(/^Bearer /, "");
  check(token && token.split(".").length === 3, "no /v1/me request carried the access token");
  if (token) {
    const kept = await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie }));
    check(!kept.includes(token), "the token is kept in storage or a cookie");
    check(!seen.some((s) => s.url.includes(token)), "the token is in an address");
    check(!(await page.evaluate(() => location.href)).includes(token), "the token is in the page's address");
  }
  for (const s of seen) {
    if (s.url.startsWith(base) && !s.url.startsWith(`${base}/v1/me`)) check(!s.authorization, `a public request carried a token: ${s.url}`);
  }
  check(!(await page.evaluate(() => JSON.stringify({ ...sessionStorage }))).includes("verifier"), "the PKCE verifier is still kept");

  // the ID token the provider gave the page beside the access token opens nothing (it is not
  // an access token: RFC 9068's typ at+jwt)
  check(idToken && idToken.split(".").length === 3, "the provider gave the page no ID token");
  if (idToken) {
    const r = await page.request.get(`${base}/v1/me`, { headers: { Authorization: `Bearer ${idToken}` } });
    check(r.status() === 401 && /invalid_token/.test(r.headers()["www-authenticate"] || ""), `an ID token is answered ${r.status()}`);
  }

  // an area without the caller's departments says so
  await page.keyboard.press("Escape");
  const other = page.locator(`path.area-marker[aria-label="${expected.elsewhere}"]`);
  await other.focus();
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.body.dataset.chart && !document.getElementById("mine").hidden && !document.querySelector("#mine table"));
  const none = await page.locator("#mine-body p").textContent();
  check(none.includes("Ingen af jeres afdelinger"), `an area without departments says ${none}`);

  // axe-core signed in, the panel open with the caller's departments, on a laptop and a phone
  const axe = readFileSync(new URL("./node_modules/axe-core/axe.min.js", import.meta.url), "utf8");
  await page.keyboard.press("Escape");
  await marker.focus();
  await page.keyboard.press("Enter");
  await page.waitForSelector("body[data-chart] #mine table.mine-table", { timeout: 10000 });
  const audits = [];
  for (const [width, height] of [[1366, 768], [390, 844]]) {
    await page.setViewportSize({ width, height });
    await page.evaluate(axe);
    const result = await page.evaluate(async () => await axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] }));
    for (const v of result.violations) problems.push(`axe ${width}x${height} signed in: ${v.id} (${v.impact}) on ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
    audits.push(`${width}x${height}: ${result.violations.length}`);
    const scroll = await page.evaluate(() => [document.documentElement.scrollWidth - innerWidth, document.documentElement.scrollHeight - innerHeight]);
    check(scroll[0] <= 0 && scroll[1] <= 0, `${width}x${height} signed in: the page scrolls by ${scroll}`);
    await page.screenshot({ path: `${artifacts}/map-signed-in-${width}x${height}.png` });
  }
  await page.setViewportSize({ width: 1366, height: 768 });

  // signing out forgets the caller: no departments in the panel, and "Log ind" again
  await page.keyboard.press("Escape");
  await page.focus("#sign-out");
  await page.keyboard.press("Enter");
  await page.waitForSelector('body[data-signed-in="false"] #sign-in:not([hidden])');
  check((await page.evaluate(() => document.activeElement.id)) === "sign-in", "after signing out the focus is not on Sign in");
  const before = seen.length;
  await marker.focus();
  await page.keyboard.press("Enter");
  await page.waitForSelector("body[data-chart] #chart svg", { timeout: 10000 });
  check(await page.locator("#mine").isHidden(), "signed out, the panel still shows departments");
  check(!seen.slice(before).some((s) => s.url.startsWith(`${base}/v1/me`)), "signed out, the page still asks /v1/me");

  // a return with a state this page did not send is refused, and the address is cleaned
  const forged = await context.newPage();
  await forged.goto(`${base}/map?code=stolen&state=forged`);
  await forged.waitForSelector('body[data-loading="false"]', { timeout: 15000 });
  await forged.waitForSelector("#sign-in:not([hidden])");
  check((await forged.locator("#signed-in").textContent()).includes("Login mislykkedes"), "a forged return is not refused");
  check(forged.url() === `${base}/map`, `a forged return leaves ${forged.url()}`);
  await forged.close();

  if (problems.length) throw new Error(problems.join("\n"));
  console.log(JSON.stringify({ tables, rows: rows.length, audits }));
} finally {
  await browser.close();
}
