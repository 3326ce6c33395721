#!/usr/bin/env bash
# Rebuilds datasets/binance-2024-08-08 from the real capture in ../shared/data (needs `npm run build` first).
# Segments are committed gzipped (*.arrow.gz); readers unpack them on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-../shared/data/binance-2024-08-08}
out=datasets/binance-2024-08-08
rm -f "$out"/*.arrow "$out"/*.arrow.gz "$out"/manifest.json
node bin/latencylab.js import hftbacktest \
  "$src"/spot_btcusdt_20240808.gz "$src"/spot_btcusdt_20240809.gz "$src"/usdm_btcusdt_20240808.gz \
  "$src"/spot_ethusdt_20240808.gz "$src"/spot_ethusdt_20240809.gz "$src"/usdm_ethusdt_20240808.gz \
  --out "$out" --segment-rows 500000
for f in "$out"/*.arrow; do gzip -9 -n -c "$f" > "$f.gz"; done
install -m 644 "$src"/LICENSE "$out"/LICENSE
ls -la "$out"
