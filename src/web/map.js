// The reference map: a choropleth of the areas from /v1/map/areas over municipality outlines
// from /v1/map/municipalities, with a legend, and an area's time series against its three
// references on click. No tiles and no CDN: it works on a closed network. Where the operator
// configures it, a housing organisation or municipality signs in (authorization code with PKCE
// at its OpenID Provider) and sees its own departments in an area's panel.
(function () {
  "use strict";

  var TEXT = {
    da: {
      title: "Boligsociale helhedsplansområder", indicator: "Indikator", mode: "Vis", mode_values: "Værdi i et år",
      mode_comparison: "Udvikling mod reference", year: "År", from: "Fra", to: "Til", reference: "Reference",
      coverage_choice: "Afdelinger", coverage_all: "Alle afdelinger", coverage_throughout: "Dækket af en plan hele perioden",
      ref_municipality: "Kommunen", ref_social_housing: "Almen sektor i kommunen", ref_country: "Hele landet",
      ref_social_housing_rest: "Almen sektor uden helhedsplansområderne", ref_twins: "De fem mest lignende områder",
      social_housing_rest: "Almen sektor uden områderne", against_social_housing_rest: "den almene sektor i kommunen uden helhedsplansområderne",
      against_twins: "de fem mest lignende områder",
      hint: "Klik på et område for at se udviklingen.", other_lang: "English", switch_lang: "Skift sproget til engelsk", no_data: "Ingen tal",
      chart_name: "Udviklingen år for år i området og i referencerne",
      chart_table: "Tallene som tabel", th_year: "År", skip: "Spring til kortet", close: "Luk panelet og vend tilbage til kortet",
      legend_lower_better: "Lavere er bedre: grøn er stærkere end referencen, rød svagere",
      legend_higher_better: "Højere er bedre: grøn er stærkere end referencen, rød svagere",
      legend_neutral: "Hverken højere eller lavere er bedre",
      legend_values: "Værdi", legend_comparison: "Forskel i udvikling", area: "Området", municipality: "Kommunen",
      social_housing: "Almen sektor", country: "Hele landet", suppressed: "diskretioneret (for få personer)",
      missing: "ingen data", figure: "Figur: alle områder", source: "Kilde", coverage: "dækning",
      csv_series: "Tallene som regneark (CSV)", csv_comparison: "Tabel: alle områder (CSV)",
      scorecard: "Udvikling på alle indikatorer mod", against_municipality: "kommunen",
      against_social_housing: "den almene sektor i kommunen", against_country: "hele landet", th_indicator: "Indikator", th_area: "Området",
      th_reference: "Reference", th_difference: "Forskel", stronger: "stærkere", weaker: "svagere",
      mode_criteria: "Lovens kriterier", criteria_year: "Dataår", criteria_class: "Kategori", legend_criteria: "Kategori i året",
      verdict_yes: "ja", verdict_no: "nej", verdict_undetermined: "uafgjort (diskretionerede tal)",
      criteria_note: "Lovens kriterier (almenboligloven § 61 a og § 61 b) anvendt på denne tjenestes områder og tal – ikke ministeriets officielle lister.",
      criteria_caption: "Kriterierne i", th_criterion: "Kriterium", th_value: "Værdi", th_threshold: "Grænse", th_margin: "Margin",
      status_met: "opfyldt", status_not_met: "ikke opfyldt", status_suppressed: "diskretioneret", status_missing: "ingen data",
      nearest_exit: "nærmest at falde bort",
      sign_in: "Log ind", sign_out: "Log ud", signed_in_as: "Logget ind som", mine: "Jeres afdelinger i området",
      mine_none: "Ingen af jeres afdelinger ligger i området.", department: "Afdelingen", sign_in_failed: "Login mislykkedes",
      sign_in_expired: "Jeres login er udløbet. Log ind igen for at se jeres afdelinger."
    },
    en: {
      title: "Areas with a social-housing comprehensive plan", indicator: "Indicator", mode: "Show", mode_values: "Value in a year",
      mode_comparison: "Change against a reference", year: "Year", from: "From", to: "To", reference: "Reference",
      coverage_choice: "Departments", coverage_all: "All departments", coverage_throughout: "Covered by a plan throughout",
      ref_municipality: "The municipality", ref_social_housing: "Social housing in the municipality", ref_country: "Denmark",
      ref_social_housing_rest: "Social housing without the plan areas", ref_twins: "The five most similar areas",
      social_housing_rest: "Social housing without the areas", against_social_housing_rest: "social housing in the municipality without the plan areas",
      against_twins: "the five most similar areas",
      hint: "Click an area to see how it developed.", other_lang: "Dansk", switch_lang: "Change the language to Danish", no_data: "No figures",
      chart_name: "Year by year in the area and in its references",
      chart_table: "The figures as a table", th_year: "Year", skip: "Skip to the map", close: "Close the panel and return to the map",
      legend_lower_better: "Lower is better: green is stronger than the reference, red weaker",
      legend_higher_better: "Higher is better: green is stronger than the reference, red weaker",
      legend_neutral: "Neither higher nor lower is better",
      legend_values: "Value", legend_comparison: "Difference in change", area: "The area", municipality: "Municipality",
      social_housing: "Social housing", country: "Denmark", suppressed: "suppressed (too few people)",
      missing: "no data", figure: "Figure: all areas", source: "Source", coverage: "coverage",
      csv_series: "The figures as a spreadsheet (CSV)", csv_comparison: "Table: all areas (CSV)",
      scorecard: "Change on every indicator against", against_municipality: "the municipality",
      against_social_housing: "social housing in the municipality", against_country: "Denmark", th_indicator: "Indicator", th_area: "The area",
      th_reference: "Reference", th_difference: "Difference", stronger: "stronger", weaker: "weaker",
      mode_criteria: "Legal criteria", criteria_year: "Data year", criteria_class: "Category", legend_criteria: "Category in the year",
      verdict_yes: "yes", verdict_no: "no", verdict_undetermined: "undetermined (suppressed figures)",
      criteria_note: "The legal criteria (Social Housing Act, sections 61 a and 61 b) applied to this service's areas and figures – not the ministry's official lists.",
      criteria_caption: "The criteria in", th_criterion: "Criterion", th_value: "Value", th_threshold: "Threshold", th_margin: "Margin",
      status_met: "met", status_not_met: "not met", status_suppressed: "suppressed", status_missing: "no data",
      nearest_exit: "nearest to falling away",
      sign_in: "Sign in", sign_out: "Sign out", signed_in_as: "Signed in as", mine: "Your departments in the area",
      mine_none: "None of your departments lies in the area.", department: "The department", sign_in_failed: "Signing in failed",
      sign_in_expired: "Your sign-in has expired. Sign in again to see your departments."
    }
  };
  // ColorBrewer OrRd and RdYlGn (reversed: green is good), nine classes each
  var COLOURS = ["#fff7ec", "#fee8c8", "#fdd49e", "#fdbb84", "#fc8d59", "#ef6548", "#d7301f", "#b30000", "#7f0000"];
  var DIVERGING = ["#1a9850", "#66bd63", "#a6d96a", "#d9ef8b", "#fee08b", "#fdae61", "#f46d43", "#d73027", "#a50026"];
  var SERIES_COLOURS = { area: "#d7301f", municipality: "#2b8cbe", social_housing: "#6a51a3", social_housing_rest: "#238b45", country: "#525252" };

  var params = new URLSearchParams(location.search);
  // Back from the provider with a code (or an error): the address is put back as it was before
  // signing in at once, so that the code is in no history entry, bookmark or shared link.
  var SIGN_IN_KEY = "boligsocial.sign-in";
  var returned = null;
  if (params.has("state") && (params.has("code") || params.has("error"))) {
    var saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(SIGN_IN_KEY)); } catch (e) { saved = null; }
    sessionStorage.removeItem(SIGN_IN_KEY);
    returned = { code: params.get("code"), error: params.get("error"), state: params.get("state"), iss: params.get("iss"), saved: saved };
    history.replaceState(null, "", location.pathname + (saved && saved.search ? saved.search : ""));
    params = new URLSearchParams(saved && saved.search ? saved.search : "");
  }
  var state = { lang: params.get("lang") === "en" ? "en" : "da", indicators: [], selected: null };
  var el = function (id) { return document.getElementById(id); };
  var t = function (key) { return TEXT[state.lang][key] || key; };

  var map = L.map("map", { zoomSnap: 0.25, attributionControl: true });
  // the land (Natural Earth, built in): where the areas lie, as no basemap tiles may be reachable
  map.createPane("land").style.zIndex = 350; // under the overlay pane (400) whatever loads first
  var land = L.geoJSON(null, {
    pane: "land",
    style: function (f) {
      var home = f.properties.name === "Denmark";
      return { className: "land", color: "#a9a79f", weight: 1, fillColor: home ? "#e9e7e0" : "#dcdad2", fillOpacity: 1 };
    },
    interactive: false,
  }).addTo(map);
  map.attributionControl.addAttribution("Natural Earth");
  var outlines = L.geoJSON(null, { style: { className: "outline", color: "#8a8a8a", weight: 1, fillColor: "#f2f2ee", fillOpacity: 1 }, interactive: false }).addTo(map);
  var areas = L.geoJSON(null, { onEachFeature: bindArea }).addTo(map);
  // areas are a few hundred metres across: at country zoom a marker shows and takes the click
  var markers = L.layerGroup().addTo(map);
  var MARKER_ZOOM = 12;
  // on a phone the lower part of the map is where an area's sheet opens: the legend goes on top
  var phone = window.matchMedia("(max-width: 700px)").matches;
  var legend = L.control({ position: phone ? "topright" : "bottomright" });
  legend.onAdd = function () { this.div = L.DomUtil.create("div", "legend"); return this.div; };
  legend.addTo(map);

  function json(url) {
    return fetch(url, { headers: { "Accept-Language": state.lang } }).then(function (r) {
      if (!r.ok) { throw new Error(url + ": " + r.status); }
      return r.json();
    });
  }

  function number(x, decimals) {
    if (x === null || x === undefined) { return "–"; }
    return x.toLocaleString(state.lang === "da" ? "da-DK" : "en-GB", { maximumFractionDigits: decimals, minimumFractionDigits: decimals });
  }

  function translate() {
    document.documentElement.lang = state.lang;
    document.querySelectorAll("[data-i18n]").forEach(function (node) { node.textContent = t(node.getAttribute("data-i18n")); });
    // the switch is named in the language it switches to, and says so in this one
    el("lang").textContent = t("other_lang");
    el("lang").setAttribute("lang", state.lang === "da" ? "en" : "da");
    el("lang").title = t("switch_lang");
    drawAccount();
    if (state.dataset) {
      // a bilingual title ("Dansk / English") in the page's language
      var parts = state.dataset.title.split(" / ");
      var title = parts.length === 2 ? parts[state.lang === "da" ? 0 : 1] : state.dataset.title;
      el("attribution").textContent = t("source") + ": " + state.dataset.source + " – " + title;
      if (state.attribution) { map.attributionControl.removeAttribution(state.attribution); }
      state.attribution = t("source") + ": " + title;
      map.attributionControl.addAttribution(state.attribution);
    }
    var current = el("indicator").value;
    el("indicator").innerHTML = "";
    state.indicators.forEach(function (i) {
      var o = document.createElement("option");
      o.value = i.code;
      o.textContent = state.lang === "da" ? i.name_da : i.name_en;
      el("indicator").appendChild(o);
    });
    if (current) { el("indicator").value = current; }
  }

  function fillYears() {
    var indicator = state.indicators.find(function (i) { return i.code === el("indicator").value; });
    var years = indicator ? indicator.years : [];
    ["year", "from", "to"].forEach(function (id) {
      var s = el(id), keep = s.value;
      s.innerHTML = "";
      years.forEach(function (y) { var o = document.createElement("option"); o.value = y; o.textContent = y; s.appendChild(o); });
      if (keep && years.indexOf(Number(keep)) >= 0) { s.value = keep; }
    });
    if (!state.yearChosen) {
      el("year").value = years.indexOf(Number(params.get("year"))) >= 0 ? params.get("year") : years[years.length - 1];
    }
    if (!params.get("from") && years.indexOf(2015) >= 0) { el("from").value = 2015; } else if (el("from").selectedIndex < 0) { el("from").value = years[0]; }
    if (!params.get("to") && years.indexOf(2023) >= 0) { el("to").value = 2023; } else if (el("to").selectedIndex < 0) { el("to").value = years[years.length - 1]; }
  }

  // the categories of the legal criteria: dark for yes, light for no, between for undetermined
  var VERDICT_COLOURS = { yes: "#99000d", undetermined: "#fc9272", no: "#fff5f0" };

  // "covered throughout" (comparisons.md, "Coverage"): each area made of the departments a
  // plan covered in every year from `from` to `to`; offered when the dataset has plans
  function coveredYears() {
    if (el("coverage-choice").hidden || el("coverage").value !== "throughout") { return ""; }
    return "&covered_years=" + (Number(el("to").value) - Number(el("from").value) + 1);
  }

  function layerUrl() {
    var mode = el("mode").value, code = encodeURIComponent(el("indicator").value);
    if (mode === "criteria") {
      return "/v1/map/areas?criteria_year=" + el("criteria-year").value + "&lang=" + state.lang;
    }
    if (mode === "comparison") {
      return "/v1/map/areas?indicator=" + code + "&from=" + el("from").value + "&to=" + el("to").value + "&reference=" + el("reference").value + coveredYears();
    }
    return "/v1/map/areas?indicator=" + code + "&year=" + el("year").value;
  }

  // The areas' outlines are fetched once per dataset version and delimitation; a change of
  // indicator, year, mode or language asks for the properties alone (geometry=false): at
  // national scale the outlines are megabytes, the properties a small part of that.
  var shapes = null;
  function shapeKey(layer) { return layer.dataset_version + "/" + layer.boundary_version; }
  function keepShapes(layer) {
    shapes = { key: shapeKey(layer), byId: {} };
    layer.features.forEach(function (f) { shapes.byId[f.id] = f.geometry; });
    return layer;
  }
  function fetchLayer() {
    var url = layerUrl();
    if (!shapes) { return json(url).then(keepShapes); }
    return json(url + "&geometry=false").then(function (layer) {
      // a new dataset version may have moved an outline: fetch them again
      if (shapeKey(layer) !== shapes.key) { return json(url).then(keepShapes); }
      layer.features.forEach(function (f) { f.geometry = shapes.byId[f.id] || null; });
      return layer;
    });
  }

  function colourOf(properties, classification, palette) {
    if (properties["class"] === null || properties["class"] === undefined) { return "#cccccc"; }
    var n = classification.classes;
    var step = palette.length / Math.max(n, 1);
    return palette[Math.min(palette.length - 1, Math.floor(properties["class"] * step + step / 2))];
  }

  function drawLegend(layer, palette) {
    var div = legend.div, c = layer.classification;
    div.innerHTML = "";
    if (layer.mode === "criteria") {
      var heading = document.createElement("strong");
      heading.textContent = t("legend_criteria");
      div.appendChild(heading);
      ["yes", "undetermined", "no"].forEach(function (v) {
        var row = document.createElement("div"), swatch = document.createElement("i");
        swatch.style.background = VERDICT_COLOURS[v];
        row.appendChild(swatch);
        row.appendChild(document.createTextNode(t("verdict_" + v)));
        row.className = "legend-class";
        div.appendChild(row);
      });
      var note = document.createElement("p");
      note.className = "note";
      note.textContent = t("criteria_note");
      div.appendChild(note);
      return;
    }
    var title = document.createElement("strong");
    title.textContent = layer.mode === "comparison" ? t("legend_comparison") : t("legend_values");
    div.appendChild(title);
    if (layer.mode === "comparison") {
      var way = document.createElement("p");
      way.className = "note";
      var direction = layer.direction === "higher_is_better" ? "legend_higher_better" : layer.direction === "lower_is_better" ? "legend_lower_better" : "legend_neutral";
      way.textContent = t(direction);
      div.appendChild(way);
    }
    if (!c || !c.breaks) { return; }
    for (var k = 0; k < c.classes; k++) {
      var row = document.createElement("div"), swatch = document.createElement("i");
      swatch.style.background = colourOf({ "class": k }, c, palette);
      row.appendChild(swatch);
      row.appendChild(document.createTextNode(number(c.breaks[k], 1) + " – " + number(c.breaks[k + 1], 1)));
      row.className = "legend-class";
      div.appendChild(row);
    }
    var none = document.createElement("div"), grey = document.createElement("i");
    grey.style.background = "#cccccc";
    none.appendChild(grey);
    none.appendChild(document.createTextNode(t("no_data")));
    div.appendChild(none);
  }

  function reload() {
    document.body.className = "mode-" + el("mode").value;
    document.body.setAttribute("data-loading", "true");
    return fetchLayer().then(function (layer) {
      var indicator = state.indicators.find(function (i) { return i.code === layer.indicator; });
      var palette = layer.mode === "comparison" || (indicator && indicator.direction === "higher_is_better") ? DIVERGING.slice() : COLOURS.slice();
      if (layer.mode === "comparison" && indicator && indicator.direction === "higher_is_better") { palette.reverse(); }
      if (layer.mode === "values" && indicator && indicator.direction === "higher_is_better") { palette.reverse(); }
      areas.clearLayers();
      var fill = function (p) {
        if (layer.mode === "criteria") { return VERDICT_COLOURS[p[el("criteria-class").value]] || "#cccccc"; }
        return colourOf(p, layer.classification, palette);
      };
      if (layer.mode === "criteria") { fillClasses(layer); }
      areas.options.style = function (f) {
        return { className: "area", color: "#333333", weight: 1, fillOpacity: 0.85, fillColor: fill(f.properties) };
      };
      areas.addData(layer);
      markers.clearLayers();
      areas.eachLayer(function (shape) {
        var f = shape.feature;
        if (!f.geometry) { return; }
        var m = L.circleMarker(shape.getBounds().getCenter(), {
          radius: 6, className: "area-marker", color: "#333333", weight: 1, fillOpacity: 0.9,
          fillColor: fill(f.properties)
        });
        bindArea(f, m);
        shape.marker = m;
      });
      drawLegend(layer, palette);
      if (!state.fitted && areas.getBounds().isValid()) { fitAll(areas.getBounds()); state.fitted = true; }
      showMarkers();
      var link = el("figure-link");
      link.innerHTML = "";
      if (layer.mode === "comparison") {
        var query = "?indicator=" + encodeURIComponent(layer.indicator) + "&from=" + layer.from + "&to=" + layer.to + "&reference=" + layer.reference + "&lang=" + state.lang;
        link.appendChild(anchor("figure", "/v1/comparisons/chart.svg" + query, t("figure")));
        link.appendChild(document.createTextNode(" · "));
        link.appendChild(anchor("comparison-csv", "/v1/comparisons.csv" + query + coveredYears() + "&sort=difference", t("csv_comparison")));
      }
      if (state.selected) { showArea(state.selected); }
      document.body.setAttribute("data-loading", "false");
      document.body.setAttribute("data-features", String(layer.features.length));
    });
  }

  // The first view holds every area clear of the controls in the map's corners (the zoom
  // buttons, the legend, the attribution): either below and above them or beside them,
  // whichever leaves the larger view; the map's size is read again first, as the controls
  // above it may have wrapped since it was made.
  function fitAll(bounds) {
    map.invalidateSize();
    var size = function (selector) {
      var node = map.getContainer().querySelector(selector);
      var r = node ? node.getBoundingClientRect() : { width: 0, height: 0 };
      return [r.width, r.height];
    };
    var legend = size(".legend"), zoom = size(".leaflet-control-zoom"), attribution = size(".leaflet-control-attribution");
    var m = 14; // margin, and a marker's radius beyond an area's outline
    var candidates = [
      { tl: [m, m + Math.max(zoom[1], phone ? legend[1] : 0)], br: [m, m + attribution[1] + (phone ? 0 : legend[1])] },
      { tl: [m + zoom[0], m], br: [m + legend[0], m + attribution[1]] }
    ];
    var best = null;
    candidates.forEach(function (c) {
      var z = map.getBoundsZoom(bounds, false, L.point(c.tl).add(L.point(c.br)));
      if (!best || z > best.zoom) { best = { zoom: z, c: c }; }
    });
    map.fitBounds(bounds, { paddingTopLeft: best.c.tl, paddingBottomRight: best.c.br });
  }

  function anchor(id, href, text) {
    var a = document.createElement("a");
    a.id = id; a.href = href; a.textContent = text;
    return a;
  }

  // An area shows as its outline where that is large enough to see and to hit (14 pixels
  // across), else as a marker; one tab stop per area, whichever shows.
  function showMarkers() {
    if (!state.fitted) { return; } // (before the map has a view there are no pixels)
    document.body.setAttribute("data-zoom", String(map.getZoom()));
    areas.eachLayer(function (shape) {
      if (!shape.marker || !shape.getBounds) { return; }
      var b = shape.getBounds();
      var sw = map.latLngToLayerPoint(b.getSouthWest()), ne = map.latLngToLayerPoint(b.getNorthEast());
      var small = map.getZoom() < MARKER_ZOOM && Math.max(Math.abs(ne.x - sw.x), Math.abs(sw.y - ne.y)) < 14;
      if (small && !markers.hasLayer(shape.marker)) { markers.addLayer(shape.marker); }
      if (!small && markers.hasLayer(shape.marker)) { markers.removeLayer(shape.marker); }
      var node = shape.getElement && shape.getElement();
      if (node) { node.setAttribute("tabindex", small ? "-1" : "0"); }
    });
  }
  map.on("zoomend", showMarkers);

  // the classifications of the rule set shown, as the layer names them
  function fillClasses(layer) {
    var s = el("criteria-class"), keep = s.value;
    s.innerHTML = "";
    layer.classifications.forEach(function (c) { var o = document.createElement("option"); o.value = c.id; o.textContent = c.name; s.appendChild(o); });
    if (keep && layer.classifications.some(function (c) { return c.id === keep; })) { s.value = keep; }
  }

  function bindArea(feature, layer) {
    var p = feature.properties;
    layer.bindTooltip(function () {
      if (el("mode").value === "criteria") { return p.name + ": " + t("verdict_" + (p[el("criteria-class").value] || "undetermined")); }
      var v = p.value !== undefined ? p.value : p.difference;
      return p.name + ": " + (v === null || v === undefined ? t(p.status || "missing") : number(v, 1));
    });
    layer.on("click", function () { state.selected = p.area_id; showArea(p.area_id); keepAboveSheet(layer); });
    // Enter and Space open the panel as a click does, and focus moves into it
    layer.on("add", function () {
      var node = layer.getElement && layer.getElement();
      if (!node) { return; }
      node.setAttribute("tabindex", "0");
      node.setAttribute("role", "button");
      node.setAttribute("aria-label", p.name);
      node.addEventListener("keydown", function (e) {
        if (e.key !== "Enter" && e.key !== " ") { return; }
        e.preventDefault();
        state.selected = p.area_id;
        state.returnTo = node;
        showArea(p.area_id).then(function () { el("area-name").focus(); });
        keepAboveSheet(layer);
      });
    });
  }

  // on a phone the sheet covers the map's lower half: an area chosen there moves up into view
  function keepAboveSheet(layer) {
    if (!phone) { return; }
    var at = map.latLngToContainerPoint(layer.getBounds ? layer.getBounds().getCenter() : layer.getLatLng());
    var h = map.getSize().y;
    if (at.y > 0.4 * h) { map.panBy([0, at.y - 0.25 * h]); }
  }

  // A small line chart: the area and its four references, year by year.
  function drawChart(data) {
    var NS = "http://www.w3.org/2000/svg", W = 350, H = 200, pad = { l: 40, r: 10, t: 10, b: 24 };
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("width", W); svg.setAttribute("height", H); svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", t("chart_name") + ": " + data.area_name + ", " + data.indicator_name);
    var keys = ["area", "municipality", "social_housing", "social_housing_rest", "country"];
    var points = [];
    keys.forEach(function (k) { data.series[k].forEach(function (p) { if (p.value !== null) { points.push(p); } }); });
    var container = el("chart");
    container.innerHTML = "";
    if (!points.length) { container.textContent = t("no_data"); return; }
    var years = points.map(function (p) { return p.year; }), values = points.map(function (p) { return p.value; });
    var x0 = Math.min.apply(null, years), x1 = Math.max.apply(null, years);
    var y0 = Math.min(0, Math.min.apply(null, values)), y1 = Math.max.apply(null, values) * 1.05 || 1;
    var x = function (y) { return pad.l + (x1 === x0 ? 0.5 : (y - x0) / (x1 - x0)) * (W - pad.l - pad.r); };
    var y = function (v) { return H - pad.b - (v - y0) / (y1 - y0) * (H - pad.t - pad.b); };
    var line = function (x1_, y1_, x2_, y2_, colour) {
      var l = document.createElementNS(NS, "line");
      l.setAttribute("x1", x1_); l.setAttribute("y1", y1_); l.setAttribute("x2", x2_); l.setAttribute("y2", y2_); l.setAttribute("stroke", colour);
      svg.appendChild(l);
    };
    var text = function (tx, ty, s, anchor) {
      var e = document.createElementNS(NS, "text");
      e.setAttribute("x", tx); e.setAttribute("y", ty); e.setAttribute("font-size", "10"); e.setAttribute("text-anchor", anchor || "middle");
      e.textContent = s; svg.appendChild(e);
    };
    line(pad.l, H - pad.b, W - pad.r, H - pad.b, "#999");
    line(pad.l, pad.t, pad.l, H - pad.b, "#999");
    [y0, (y0 + y1) / 2, y1].forEach(function (v) { text(pad.l - 4, y(v) + 3, number(v, 0), "end"); });
    [x0, x1].forEach(function (yr) { text(x(yr), H - 8, String(yr)); });
    keys.forEach(function (k) {
      var ok = data.series[k].filter(function (p) { return p.value !== null; });
      if (!ok.length) { return; }
      var path = document.createElementNS(NS, "polyline");
      path.setAttribute("points", ok.map(function (p) { return x(p.year).toFixed(1) + "," + y(p.value).toFixed(1); }).join(" "));
      path.setAttribute("fill", "none");
      path.setAttribute("stroke", SERIES_COLOURS[k]);
      path.setAttribute("stroke-width", k === "area" ? "2.5" : "1.5");
      path.setAttribute("class", "series series-" + k);
      svg.appendChild(path);
    });
    container.appendChild(svg);
    var legendRow = document.createElement("div");
    legendRow.className = "chart-legend";
    keys.forEach(function (k) {
      var s = document.createElement("span"), i = document.createElement("i");
      i.style.background = SERIES_COLOURS[k];
      s.appendChild(i); s.appendChild(document.createTextNode(t(k)));
      legendRow.appendChild(s);
    });
    container.appendChild(legendRow);
    // the same figures as a table, for a screen reader and for reading them off
    var details = document.createElement("details"), summary = document.createElement("summary");
    summary.textContent = t("chart_table");
    details.appendChild(summary);
    var table = document.createElement("table");
    table.className = "chart-table";
    var head = table.insertRow();
    [t("th_year")].concat(keys.map(t)).forEach(function (h) { var th = document.createElement("th"); th.textContent = h; head.appendChild(th); });
    var allYears = [];
    keys.forEach(function (k) { data.series[k].forEach(function (p) { if (allYears.indexOf(p.year) < 0) { allYears.push(p.year); } }); });
    allYears.sort();
    allYears.forEach(function (year) {
      var row = table.insertRow();
      row.insertCell().textContent = String(year);
      keys.forEach(function (k) {
        var point = data.series[k].find(function (p) { return p.year === year; });
        row.insertCell().textContent = point ? (point.value === null ? t(point.status) : number(point.value, 1)) : "–";
      });
    });
    details.appendChild(table);
    container.appendChild(details);
    var hidden = data.series.area.filter(function (p) { return p.status === "suppressed"; }).map(function (p) { return p.year; });
    if (hidden.length) {
      var note = document.createElement("p");
      note.className = "note";
      note.textContent = hidden.join(", ") + ": " + t("suppressed");
      container.appendChild(note);
    }
  }

  // The area on every indicator: change in the area and in the reference, and the difference,
  // over the years chosen for a comparison (else each indicator's whole span).
  function drawScorecard(card) {
    var box = el("scorecard");
    box.innerHTML = "";
    var caption = document.createElement("h3");
    caption.textContent = t("scorecard") + " " + t("against_" + card.reference);
    box.appendChild(caption);
    var table = document.createElement("table");
    var head = table.insertRow();
    ["th_indicator", "th_area", "th_reference", "th_difference"].forEach(function (k) {
      var th = document.createElement("th"); th.textContent = t(k); head.appendChild(th);
    });
    card.items.forEach(function (item) {
      var row = table.insertRow();
      row.className = "scorecard-row";
      var name = item.indicator_name + (item.from ? " " + item.from + "–" + item.to : "");
      var verdict = item.stronger === true ? " ▲ " + t("stronger") : item.stronger === false ? " ▼ " + t("weaker") : "";
      var cells = item.status === "ok"
        ? [name, number(item.area_change, 1), number(item.reference_change, 1), number(item.difference_rounded, 1) + verdict]
        : [name, t(item.status), "", ""];
      cells.forEach(function (c) { row.insertCell().textContent = c; });
    });
    box.appendChild(table);
  }

  // The area's criteria in the year chosen: value, threshold, margin and status of each, and
  // the classifications that follow.
  function drawCriteria(data) {
    var box = el("criteria");
    box.innerHTML = "";
    if (el("mode").value !== "criteria") { return; }
    var year = Number(el("criteria-year").value);
    var entry = data.years.find(function (y) { return y.year === year; });
    if (!entry) { box.textContent = t("no_data"); return; }
    var caption = document.createElement("h3");
    caption.textContent = t("criteria_caption") + " " + year + " (" + entry.rules + ")";
    box.appendChild(caption);
    var table = document.createElement("table");
    var head = table.insertRow();
    ["th_criterion", "th_value", "th_threshold", "th_margin"].forEach(function (k) {
      var th = document.createElement("th"); th.textContent = t(k); head.appendChild(th);
    });
    entry.criteria.forEach(function (c) {
      var row = table.insertRow();
      row.className = "criteria-row";
      [c.id + ": " + t("status_" + c.status), number(c.value, 1), number(c.threshold, 1), number(c.margin, 1)].forEach(function (v) { row.insertCell().textContent = v; });
    });
    box.appendChild(table);
    var list = document.createElement("ul");
    entry.classifications.forEach(function (c) {
      var li = document.createElement("li");
      li.textContent = c.id + ": " + t("verdict_" + c.status) + (c.nearest_exit.length ? " (" + t("nearest_exit") + ": " + c.nearest_exit.join(", ") + ")" : "");
      list.appendChild(li);
    });
    box.appendChild(list);
    var note = document.createElement("p");
    note.className = "note";
    note.textContent = t("criteria_note");
    box.appendChild(note);
  }

  function closePanel() {
    document.body.removeAttribute("data-chart");
    ["chart", "scorecard", "criteria", "mine-body"].forEach(function (id) { el(id).innerHTML = ""; });
    el("mine").hidden = true;
    el("area-name").textContent = "";
    el("hint").hidden = false;
    document.body.classList.remove("panel-open");
    state.selected = null;
    if (state.returnTo) { state.returnTo.focus(); state.returnTo = null; } else { el("map").focus(); }
  }

  function showArea(areaId) {
    el("hint").hidden = true;
    document.body.classList.add("panel-open");
    var id = encodeURIComponent(areaId);
    var criteria = el("mode").value === "criteria" ? json("/v1/areas/" + id + "/criteria").then(drawCriteria) : Promise.resolve(drawCriteria({ years: [] }));
    var years = el("mode").value === "comparison" ? "&from=" + el("from").value + "&to=" + el("to").value : "";
    var card = json("/v1/areas/" + id + "/comparisons?reference=" + el("reference").value + years).then(drawScorecard);
    var chart = json("/v1/areas/" + id + "/series?indicator=" + encodeURIComponent(el("indicator").value)).then(function (data) {
      el("area-name").textContent = data.area_name + " (" + data.indicator_name + ")";
      drawChart(data);
      var csv = "/v1/areas/" + id + "/series.csv?indicator=" + encodeURIComponent(data.indicator) + "&lang=" + state.lang;
      el("chart").appendChild(anchor("series-csv", csv, t("csv_series")));
    });
    var own = signedIn.then(function () { return drawMine(areaId); });
    return Promise.all([card, chart, criteria, own]).then(function () { document.body.setAttribute("data-chart", areaId); });
  }

  // Signing in: the authorization code flow with PKCE (RFC 7636) at the issuer that
  // /map/config.json names, as a public client. The access token lives in this closure only:
  // never in storage, a cookie or an address; a reload forgets it (the provider's own session
  // makes signing in again quick). Only the verifier and state wait in sessionStorage for the
  // redirect back, and are removed on return.
  var auth = { config: null, token: null, me: null, departments: [], message: null };

  function base64url(bytes) {
    var text = "";
    new Uint8Array(bytes).forEach(function (b) { text += String.fromCharCode(b); });
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function randomText() { var a = new Uint8Array(32); crypto.getRandomValues(a); return base64url(a); }
  // (the page is /map, also when opened as /map/: one redirect URI to register)
  function redirectUri() { return location.origin + location.pathname.replace(/\/$/, ""); }
  function discovery() {
    return fetch(auth.config.issuer.replace(/\/$/, "") + "/.well-known/openid-configuration").then(function (r) {
      if (!r.ok) { throw new Error("discovery: " + r.status); }
      return r.json();
    });
  }

  function signIn() {
    var verifier = randomText(), st = randomText();
    return Promise.all([discovery(), crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))]).then(function (r) {
      var doc = r[0];
      sessionStorage.setItem(SIGN_IN_KEY, JSON.stringify({ verifier: verifier, state: st, search: location.search, token_endpoint: doc.token_endpoint }));
      var q = new URLSearchParams({
        response_type: "code", client_id: auth.config.client_id, redirect_uri: redirectUri(), scope: auth.config.scope,
        state: st, code_challenge: base64url(r[1]), code_challenge_method: "S256", ui_locales: state.lang
      });
      if (auth.config.resource) { q.set("resource", auth.config.resource); }
      location.assign(doc.authorization_endpoint + "?" + q.toString());
    }).catch(function () { auth.message = t("sign_in_failed"); drawAccount(); });
  }

  // the code for a token at the token endpoint, once; a state or issuer that is not the one
  // this page sent off to is refused (RFC 9700 4.7, RFC 9207)
  function finishSignIn() {
    var s = returned && returned.saved;
    if (!s || returned.state !== s.state || returned.error || !returned.code ||
        (returned.iss && returned.iss.replace(/\/$/, "") !== auth.config.issuer.replace(/\/$/, ""))) {
      auth.message = t("sign_in_failed");
      return Promise.resolve();
    }
    var form = new URLSearchParams({
      grant_type: "authorization_code", code: returned.code, redirect_uri: redirectUri(),
      client_id: auth.config.client_id, code_verifier: s.verifier
    });
    if (auth.config.resource) { form.set("resource", auth.config.resource); }
    return fetch(s.token_endpoint, { method: "POST", body: form }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok || !body.access_token) { throw new Error("token: " + r.status); }
        auth.token = body.access_token;
        return loadCaller();
      });
    }).catch(function () { auth.token = null; auth.message = t("sign_in_failed"); });
  }

  // a /v1/me answer with the token; a 401 means it has expired or been refused: signed out
  function mine(url) {
    return fetch(url, { headers: { Authorization: "Bearer " + auth.token, "Accept-Language": state.lang } }).then(function (r) {
      if (r.status === 401) { signOut(t("sign_in_expired")); throw new Error("signed out"); }
      if (!r.ok) { throw new Error(url + ": " + r.status); }
      return r.json();
    });
  }

  function loadCaller() {
    return Promise.all([mine("/v1/me"), mine("/v1/me/departments")]).then(function (r) {
      auth.me = r[0];
      auth.departments = r[1].items;
      auth.message = null;
    });
  }

  function signOut(message) {
    auth.token = null; auth.me = null; auth.departments = [];
    auth.message = message || null;
    drawAccount();
    el("mine").hidden = true;
    el("mine-body").innerHTML = "";
  }

  function drawAccount() {
    if (!auth.config) { return; }
    el("account").hidden = false;
    var signedIn = auth.token !== null && auth.me !== null;
    el("sign-in").hidden = signedIn;
    el("sign-out").hidden = !signedIn;
    el("signed-in").textContent = signedIn ? t("signed_in_as") + " " + auth.me.name : (auth.message || "");
    document.body.setAttribute("data-signed-in", signedIn ? "true" : "false");
  }

  // the caller's departments in the area, each year by year beside the area on the indicator shown
  function drawMine(areaId) {
    var box = el("mine-body");
    if (!auth.token) { el("mine").hidden = true; box.innerHTML = ""; return Promise.resolve(); }
    var here = auth.departments.filter(function (d) { return d.area_id === areaId; });
    var code = encodeURIComponent(el("indicator").value);
    return Promise.all(here.map(function (d) {
      return mine("/v1/me/departments/" + encodeURIComponent(d.department_id) + "/series?indicator=" + code + "&lang=" + state.lang);
    })).then(function (answers) {
      el("mine").hidden = false;
      box.innerHTML = "";
      if (!answers.length) {
        var none = document.createElement("p");
        none.textContent = t("mine_none");
        box.appendChild(none);
        return;
      }
      answers.forEach(function (a) {
        var h = document.createElement("h4");
        h.textContent = a.department_name + " (" + a.department_id + ")";
        box.appendChild(h);
        var table = document.createElement("table");
        table.className = "mine-table";
        var caption = document.createElement("caption");
        caption.className = "note";
        caption.textContent = a.indicator_name;
        table.appendChild(caption);
        var head = table.insertRow();
        [t("th_year"), t("department"), t("area")].forEach(function (h) { var th = document.createElement("th"); th.textContent = h; head.appendChild(th); });
        var cell = function (p) { return p ? (p.value === null ? t(p.status) : number(p.value, 1)) : "–"; };
        a.series.department.forEach(function (p) {
          var row = table.insertRow();
          row.className = "mine-row";
          var area = (a.series.area || []).find(function (q) { return q.year === p.year; });
          [String(p.year), cell(p), cell(area)].forEach(function (v) { row.insertCell().textContent = v; });
        });
        box.appendChild(table);
      });
    }).catch(function () {
      // (no figures rather than another area's: signed out, or the service could not answer)
      box.innerHTML = "";
      el("mine").hidden = !auth.token;
      if (auth.token) { var p = document.createElement("p"); p.textContent = t("no_data"); box.appendChild(p); }
    });
  }

  var signedIn = fetch("/map/config.json").then(function (r) { return r.json(); }).then(function (c) {
    if (!c.sign_in) { return; }
    auth.config = c.sign_in;
    return (returned ? finishSignIn() : Promise.resolve()).then(drawAccount);
  }).catch(function () { /* the map works without signing in */ });

  function start() {
    Promise.all([json("/v1/indicators"), json("/v1/map/municipalities?precision=5"), json("/v1/datasets"),
      json("/map/vendor/natural-earth/land.geojson"), json("/v1/rules")]).then(function (r) {
      state.indicators = r[0].items;
      var years = r[4].years, cy = el("criteria-year");
      years.forEach(function (y) { var o = document.createElement("option"); o.value = y; o.textContent = y; cy.appendChild(o); });
      cy.value = years[years.length - 1];
      if (!years.length) { el("mode").querySelector("option[value=criteria]").disabled = true; }
      land.addData(r[3]);
      outlines.addData(r[1]);
      var served = r[2].items.find(function (d) { return d.version === r[2].served_version; });
      if (served) { state.dataset = served; }
      translate();
      el("indicator").value = params.get("indicator") || (state.indicators.some(function (i) { return i.code === "outside_work_education"; }) ? "outside_work_education" : state.indicators[0].code);
      var wanted = params.get("mode");
      el("mode").value = wanted === "comparison" || (wanted === "criteria" && years.length) ? wanted : "values";
      fillYears();
      // the choice of departments only where the dataset says which ones the plans covered
      var indicator = state.indicators.find(function (i) { return i.code === el("indicator").value; });
      var span = indicator && indicator.years.length > 1 ? "&from=" + indicator.years[0] + "&to=" + indicator.years[indicator.years.length - 1] : null;
      var plans = span ? fetch("/v1/comparisons/coverage?indicator=" + encodeURIComponent(indicator.code) + span).then(function (r) { return r.ok; }) : Promise.resolve(false);
      return plans.catch(function () { return false; }).then(function (has) {
        el("coverage-choice").hidden = !has;
        if (has && params.get("coverage") === "throughout") { el("coverage").value = "throughout"; }
        return reload();
      });
    }).catch(function (e) { el("hint").textContent = String(e); document.body.setAttribute("data-error", String(e)); });
  }

  el("close").addEventListener("click", closePanel);
  el("sign-in").addEventListener("click", signIn);
  el("sign-out").addEventListener("click", function () { signOut(null); el("sign-in").focus(); });
  // the sheet's handle on a phone: dragged down by a third of the sheet, it dismisses it
  // (pointer events, so a finger, a pen and a mouse alike; the close button does it by key)
  el("handle").addEventListener("pointerdown", function (e) {
    var panel = el("panel"), startY = e.clientY, height = panel.getBoundingClientRect().height;
    el("handle").setPointerCapture(e.pointerId);
    panel.style.transition = "none";
    var move = function (m) { panel.style.transform = "translateY(" + Math.max(0, m.clientY - startY) + "px)"; };
    var up = function (u) {
      el("handle").removeEventListener("pointermove", move);
      el("handle").removeEventListener("pointerup", up);
      el("handle").removeEventListener("pointercancel", up);
      panel.style.transition = ""; panel.style.transform = "";
      if (u.type === "pointerup" && u.clientY - startY > height / 3) { closePanel(); }
    };
    el("handle").addEventListener("pointermove", move);
    el("handle").addEventListener("pointerup", up);
    el("handle").addEventListener("pointercancel", up);
  });
  el("panel").addEventListener("keydown", function (e) { if (e.key === "Escape") { closePanel(); } });
  // the zoom buttons and the legend before the areas in the tab order
  var corners = map.getContainer().querySelector(".leaflet-control-container");
  map.getContainer().insertBefore(corners, map.getContainer().firstChild);
  el("indicator").addEventListener("change", function () { fillYears(); reload(); });
  ["mode", "year", "from", "to", "reference", "coverage", "criteria-year", "criteria-class"].forEach(function (id) { el(id).addEventListener("change", reload); });
  el("year").addEventListener("change", function () { state.yearChosen = true; });
  el("lang").addEventListener("click", function () {
    state.lang = state.lang === "da" ? "en" : "da";
    translate();
    reload();
  });
  start();
})();
