#!/usr/bin/env bash
# Refreshes the vendored front-end files in crates/server/static/vendor from the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent htmx.org@2.0.11 echarts@5.6.0 >/dev/null \
  && tar xzf htmx.org-2.0.11.tgz && mv package htmx \
  && tar xzf echarts-5.6.0.tgz && mv package echarts)
cp "$tmp/htmx/dist/htmx.min.js" crates/server/static/vendor/
cp "$tmp/echarts/dist/echarts.min.js" crates/server/static/vendor/
echo "vendored htmx 2.0.11 and echarts 5.6.0"
