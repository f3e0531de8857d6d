#!/bin/sh
# Build dist/viewer.min.js: sigma.js + graphology + src/viewer.js in one minified IIFE, with their licences.
# Needs node/npm once, at build time only: `cd neurograph/io/viewer && npm ci && sh build.sh`.
set -eu
cd "$(dirname "$0")"
[ -d node_modules ] || npm ci --no-audit --no-fund
mkdir -p dist
./node_modules/.bin/esbuild src/viewer.js --bundle --minify --format=iife --target=es2019 \
  --legal-comments=none --log-level=warning --outfile=dist/viewer.body.js
{
  printf '/*! neurograph report viewer. Bundles sigma %s and graphology %s (both MIT):\n' \
    "$(node -p 'require("./node_modules/sigma/package.json").version')" \
    "$(node -p 'require("./node_modules/graphology/package.json").version')"
  for lib in sigma graphology events; do
    lic=$(ls node_modules/$lib/LICENSE* 2>/dev/null | head -n 1 || true)
    [ -n "$lic" ] && { printf '\n--- %s (%s) ---\n' "$lib" "$(basename "$lic")"; sed 's#\*/#* /#g' "$lic"; }
  done
  printf '*/\n'
  cat dist/viewer.body.js
} > dist/viewer.min.js
rm dist/viewer.body.js
for lib in sigma graphology events; do
  lic=$(ls node_modules/$lib/LICENSE* 2>/dev/null | head -n 1 || true)
  [ -n "$lic" ] && cp "$lic" "dist/LICENSE.$lib.txt"
done
wc -c dist/viewer.min.js
