#!/usr/bin/env bash
# Refreshes the map page's vendored Leaflet from the npm registry (the page must work with no
# internet access, so the library is built into the binary from src/web/vendor).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=${1:-1.9.4}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "leaflet@$VERSION" >/dev/null && tar xzf "leaflet-$VERSION.tgz")
mkdir -p src/web/vendor/leaflet
cp "$tmp/package/dist/leaflet.js" "$tmp/package/dist/leaflet.css" "$tmp/package/LICENSE" src/web/vendor/leaflet/
echo "$VERSION" > src/web/vendor/leaflet/VERSION
echo "vendored leaflet $VERSION into src/web/vendor/leaflet"
