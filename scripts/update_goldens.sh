#!/usr/bin/env bash
# Regenerates tests/regression/golden/<config>.stats.json for every configs/*.toml.
# Run it only when a change of results is intended, and say why in the commit.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
for cfg in configs/*.toml; do
  name=$(basename "$cfg" .toml)
  out=$(mktemp -d)
  ./build/moesim run "$cfg" --quiet --out "$out"
  cp "$out/stats.json" "tests/regression/golden/$name.stats.json"
  rm -rf "$out"
  echo "updated tests/regression/golden/$name.stats.json"
done
