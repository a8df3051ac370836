#!/usr/bin/env bash
# Re-vendor the dashboard's charting library from npm (no build step at run time; works offline).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
(cd "$tmp" && npm pack chart.js@4.6.1 >/dev/null && tar xzf chart.js-4.6.1.tgz)
cp "$tmp/package/dist/chart.umd.min.js" src/shopmind/web/static/vendor/chart.umd.min.js
cp "$tmp/package/LICENSE.md" src/shopmind/web/static/vendor/chart.js.LICENSE.md
rm -rf "$tmp"
