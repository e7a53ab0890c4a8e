#!/usr/bin/env bash
# Speed of `moesim gemm` (docs/scalesim.md): a generated SCALE-Sim GEMM topology of SHAPES
# layers (default 1,000; M, N and K uniform in 1..8192 from SEED, default 1) on each shipped
# SCALE-Sim config and dataflow, REPEAT times each (default 3). Prints the wall time of the
# whole process (start to exit, CSV and JSON written) and the command's own figure.
# MOESIM picks the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
moesim=${MOESIM:-./build/moesim}
shapes=${SHAPES:-1000}
seed=${SEED:-1}
repeat=${REPEAT:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$shapes" "$seed" >"$tmp/topology.csv" <<'PY'
import random, sys
n, seed = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(seed)
print("Layer, M, N, K,")
for i in range(n):
    print(f"gemm{i}, {rng.randint(1, 8192)}, {rng.randint(1, 8192)}, {rng.randint(1, 8192)},")
PY
echo "topology: $shapes GEMM layers (seed $seed), $(stat -c %s "$tmp/topology.csv") bytes"
for run in "--cfg configs/scalesim/edge_moe_16x16_ws.cfg" \
           "--cfg configs/scalesim/array_32x32_os.cfg --os-drain overlapped" \
           "--rows 128 --cols 128 --dataflow is"; do
  for i in $(seq "$repeat"); do
    t0=$(date +%s%N)
    out=$("$moesim" gemm "$tmp/topology.csv" $run --quiet --csv "$tmp/r.csv" --json "$tmp/r.json")
    t1=$(date +%s%N)
    own=$(echo "$out" | sed -n 's/^ *simulated *\(.*\)$/\1/p')
    rows=$(($(wc -l <"$tmp/r.csv") - 1))
    printf '%-62s run %d: %d rows, process %.3f s (command: %s)\n' "$run" "$i" "$rows" \
      "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e9 }')" "$own"
  done
done
