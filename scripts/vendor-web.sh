#!/usr/bin/env bash
# Refreshes what the map page vendors from the npm registry (the page must work with no
# internet access, so everything is built into the binary from src/web/vendor):
#   - Leaflet;
#   - MapLibre GL JS, for front ends that draw the vector tiles (/tiles/areas.json);
#   - the land under the map: Natural Earth's country outlines (public domain, from the
#     world-atlas package), Denmark at 1:10m and its neighbours Sweden and Germany at 1:50m,
#     as GeoJSON with four decimals (about 10 m). Without basemap tiles, and with municipality
#     outlines only where an extract carries them, this is what shows where the areas lie.
#
#   scripts/vendor-web.sh [LEAFLET_VERSION]
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=${1:-1.9.4}
MAPLIBRE=${MAPLIBRE:-5.24.1}
WORLD_ATLAS=2.0.2
TOPOJSON_CLIENT=3.1.0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unpack() { # package version → $tmp/package-name
  (cd "$tmp" && npm pack --loglevel=error "$1@$2" >/dev/null && mkdir "$1" && tar xzf "$1-$2.tgz" -C "$1" --strip-components=1)
}

unpack leaflet "$VERSION"
mkdir -p src/web/vendor/leaflet
cp "$tmp/leaflet/dist/leaflet.js" "$tmp/leaflet/dist/leaflet.css" "$tmp/leaflet/LICENSE" src/web/vendor/leaflet/
echo "$VERSION" > src/web/vendor/leaflet/VERSION
echo "vendored leaflet $VERSION into src/web/vendor/leaflet"

unpack maplibre-gl "$MAPLIBRE"
mkdir -p src/web/vendor/maplibre-gl
cp "$tmp/maplibre-gl/dist/maplibre-gl.js" "$tmp/maplibre-gl/dist/maplibre-gl.css" "$tmp/maplibre-gl/LICENSE.txt" src/web/vendor/maplibre-gl/
echo "$MAPLIBRE" > src/web/vendor/maplibre-gl/VERSION
echo "vendored maplibre-gl $MAPLIBRE into src/web/vendor/maplibre-gl"

unpack world-atlas "$WORLD_ATLAS"
unpack topojson-client "$TOPOJSON_CLIENT"
mkdir -p src/web/vendor/natural-earth
node - "$tmp" > src/web/vendor/natural-earth/land.geojson <<'JS'
const dir = process.argv[2];
const topojson = require(`${dir}/topojson-client/dist/topojson-client.js`);
const read = (scale) => {
  const topology = require(`${dir}/world-atlas/countries-${scale}.json`);
  return topojson.feature(topology, topology.objects.countries).features;
};
const round = (c) => (typeof c[0] === "number" ? c.map((x) => Math.round(x * 1e4) / 1e4) : c.map(round));
// RFC 7946's right-hand rule: exteriors counterclockwise, holes clockwise (TopoJSON's
// spherical convention is the other way round)
const area2 = (ring) => ring.slice(1).reduce((s, p, i) => s + (ring[i][0] * p[1] - p[0] * ring[i][1]), 0);
const orient = (polygon) => polygon.map((ring, i) => ((area2(ring) > 0) === (i === 0) ? ring : ring.slice().reverse()));
const pick = (features, name) => {
  const f = features.find((f) => f.properties.name === name);
  if (!f) throw new Error(`no ${name} in Natural Earth`);
  const polygons = f.geometry.type === "Polygon" ? [f.geometry.coordinates] : f.geometry.coordinates;
  return { type: "Feature", properties: { name }, geometry: { type: "MultiPolygon", coordinates: polygons.map((p) => orient(round(p))) } };
};
const large = read("10m"), medium = read("50m");
const features = [pick(large, "Denmark"), pick(medium, "Sweden"), pick(medium, "Germany")];
process.stdout.write(JSON.stringify({ type: "FeatureCollection", features }) + "\n");
JS
cp "$tmp/world-atlas/LICENSE" src/web/vendor/natural-earth/LICENSE-world-atlas
cat > src/web/vendor/natural-earth/README.md <<TXT
land.geojson: Denmark (1:10m), Sweden and Germany (1:50m) from Natural Earth's Admin 0
countries, version 4.1.0, as redistributed by the npm package world-atlas@$WORLD_ATLAS
(TopoJSON; LICENSE-world-atlas), turned into GeoJSON with topojson-client@$TOPOJSON_CLIENT
and rounded to four decimals by scripts/vendor-web.sh. Natural Earth is in the public domain:
https://www.naturalearthdata.com/about/terms-of-use/
TXT
echo "vendored Natural Earth land (world-atlas $WORLD_ATLAS) into src/web/vendor/natural-earth"
