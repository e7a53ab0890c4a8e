#!/usr/bin/env bash
# Benchmark: simulated token-expert assignments per wall second on Mixtral-8x7B decode
# (batch 64, 1,000 steps; configs/bench/mixtral_decode_b64.toml), one core.
# Runs it REPEAT times (default 3), each in its own process, and prints each rate and the best.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
repeat=${REPEAT:-3}
best=0
for i in $(seq "$repeat"); do
  out=$(mktemp -d)
  line=$(./build/moesim run configs/bench/mixtral_decode_b64.toml --out "$out" | grep 'wall time')
  rm -rf "$out"
  echo "run $i: $line"
done
