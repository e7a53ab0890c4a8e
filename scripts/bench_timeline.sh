#!/usr/bin/env bash
# Cost of `moesim run --timeline` on the Mixtral-8x7B decode benchmark
# (configs/bench/mixtral_decode_b64.toml, 1,000 steps): the run's `wall time` line without a
# timeline, with the default window (first 100 steps) and with every step, REPEAT times each
# (default 3), and the timeline file's size per recorded step. MOESIM picks the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
moesim=${MOESIM:-./build/moesim}
repeat=${REPEAT:-3}
cfg=configs/bench/mixtral_decode_b64.toml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
wall() { "$moesim" run "$cfg" --out "$tmp/out" "$@" 2>/dev/null | sed -n 's/^ *wall time *\([0-9.]*\) s.*/\1/p'; }
for mode in none default all; do
  for i in $(seq "$repeat"); do
    case $mode in
      none) w=$(wall) ;;
      default) w=$(wall --timeline "$tmp/t.json") ;;
      all) w=$(wall --timeline "$tmp/t.json" --timeline-steps 0:) ;;
    esac
    size=""
    if [ "$mode" != none ]; then
      steps=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["otherData"]["steps_recorded"])' "$tmp/t.json")
      bytes=$(stat -c %s "$tmp/t.json")
      size=$(awk -v b="$bytes" -v s="$steps" 'BEGIN { printf "file %.1f MB, %d steps, %.0f kB/step", b / 1e6, s, b / s / 1e3 }')
    fi
    echo "$mode run $i: wall $w s $size"
  done
done
