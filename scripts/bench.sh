#!/usr/bin/env bash
# Benchmarks. 1) Simulated token-expert assignments per wall second on Mixtral-8x7B decode
# (batch 64, 1,000 steps; configs/bench/mixtral_decode_b64.toml), one core.
# Runs it REPEAT times (default 3), each in its own process, and prints each rate.
# 2) Memory models and 3) full system with detailed vs fast memory: see below.
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

# Memory models: requests simulated per wall second, 1,000,000 64-byte reads through
# `moesim mem`, sequential and random, detailed DRAM and the fast model on the same stream (the
# fast runs keep the detailed default window: every read-queue slot, 1024 for one HBM3 stack,
# 32 for one DDR4 channel), and the banked SRAM (sequential, one-bank stride, random).
echo "memory models, 1,000,000 requests of 64 B:"
mem_rate() {
  local what=$1
  shift
  echo "  $what: $(./build/moesim mem "$@" --requests 1000000 | grep simulated | sed 's/^ *simulated *//')"
}
for p in seq random; do
  mem_rate "dram HBM3 $p" configs/mem/hbm3_detailed.toml --pattern "$p"
  mem_rate "dram DDR4-3200 $p" configs/mem/ddr4_detailed.toml --pattern "$p"
  mem_rate "fast HBM3 $p (window 1024)" configs/mem/hbm3_fast.toml --pattern "$p" --window 1024
  mem_rate "fast DDR4 $p (window 32)" configs/mem/ddr4_fast.toml --pattern "$p" --window 32
done
mem_rate "banked_sram seq" configs/mem/sram_banked.toml --pattern seq
mem_rate "banked_sram strided 1024 B (one bank)" configs/mem/sram_banked.toml --pattern strided --stride 1024
mem_rate "banked_sram random" configs/mem/sram_banked.toml --pattern random
# Idle time: 1,000 reads at cycle 0 and 1,000 writes at cycle 2,000 or 10^9 (160 k refreshes per
# pseudo-channel in the gap, applied arithmetically): both should take the same wall time.
gap=$(mktemp -d)
for at in 2000 1000000000; do
  /usr/bin/python3 -c 'import sys
for i in range(1000): print(0, i * 64, "R")
for i in range(1000): print(sys.argv[1], (1 << 20) + i * 64, "W")' "$at" >"$gap/t"
  echo "  dram HBM3 trace, second burst at cycle $at: $(./build/moesim mem configs/mem/hbm3_detailed.toml --trace "$gap/t" | grep simulated | sed 's/^ *simulated *//')"
done
rm -rf "$gap"

# Full system, detailed vs fast memory: Mixtral-8x7B decode (configs/mixtral_decode.toml) with
# the HBM tier fast, and cycle-level (configs/bench/mixtral_decode_detailed.toml, two HBM3
# stacks), over the first DETAILED_STEPS steps (default 1 of 16: the detailed model simulates
# every 64-byte request, ~700 M per step, minutes per step). Also the banked SRAM, all 16 steps.
# SKIP_DETAILED=1 skips the detailed run.
summary() {
  /usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print("simulated %.6f s, %.2f tokens/s" % (s["time_s"], s["tokens_per_s"]))' "$1/stats.json"
}
timed_run() {
  local cfg=$1
  shift
  local out
  out=$(mktemp -d)
  local wall
  wall=$( { /usr/bin/time -f %e ./build/moesim run "$cfg" --quiet --out "$out" "$@" >/dev/null; } 2>&1 | tail -1)
  echo "  $cfg $*: wall ${wall} s, $(summary "$out")"
  rm -rf "$out"
}
echo "full system:"
timed_run configs/mixtral_decode.toml
timed_run configs/mixtral_decode_banked_sram.toml
steps=${DETAILED_STEPS:-1}
timed_run configs/mixtral_decode.toml --set "workload.max_steps=$steps"
# The fast HBM calibrated against the detailed run below (1638.4 GB/s x 0.845, 40 ns): see
# hw_models/memory/README.md, "Full system: detailed vs fast".
timed_run configs/mixtral_decode.toml --set "workload.max_steps=$steps" \
  --set chip.memory.hbm.bandwidth=1638.4GB/s --set chip.memory.hbm.efficiency=0.845 \
  --set chip.memory.hbm.latency=40ns
if [ "${SKIP_DETAILED:-0}" != 1 ]; then
  timed_run configs/bench/mixtral_decode_detailed.toml --set "workload.max_steps=$steps"
fi
