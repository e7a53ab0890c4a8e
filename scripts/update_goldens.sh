#!/usr/bin/env bash
# Regenerates tests/regression/golden/<config>.stats.json for every configs/*.toml, and
# tests/regression/golden/rtl/<config>.stats.json for every configs/rtl/*.toml (those need
# the RTL build, the default).
# Run it only when a change of results is intended, and say why in the commit.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
update() {  # update CONFIG GOLDEN
  local out
  out=$(mktemp -d)
  ./build/moesim run "$1" --quiet --out "$out"
  cp "$out/stats.json" "$2"
  rm -rf "$out"
  echo "updated $2"
}
for cfg in configs/*.toml; do
  update "$cfg" "tests/regression/golden/$(basename "$cfg" .toml).stats.json"
done
mkdir -p tests/regression/golden/rtl
for cfg in configs/rtl/*.toml; do
  update "$cfg" "tests/regression/golden/rtl/$(basename "$cfg" .toml).stats.json"
done
