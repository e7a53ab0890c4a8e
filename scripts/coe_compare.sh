#!/usr/bin/env bash
# The Composition of Experts comparison of docs/fusion.md: an SN40L-like node (8 sockets,
# TP8, expert models in DDR) against DGX H100- and DGX A100-like nodes (TP8, expert models
# in host memory over PCIe), each caching expert-model slices in HBM (LRU), for the batch
# sizes (1, 8) and output lengths (20, 200 tokens) of the SN40L paper (REFERENCE.md).
# Prints one markdown row per run (simulated time, model switches, mean switch time,
# kernels and launch time, wall time of the run), then the DGX / SN40L ratios.
# Usage: scripts/coe_compare.sh [build dir, default build] [requests, default 50]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build}/moesim"
requests="${2:-50}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
row() {  # row LABEL CONFIG BATCH TOKENS
  local label=$1 cfg=$2 batch=$3 tokens=$4
  local dir="$out/${cfg}_${batch}_${tokens}"
  local t0 t1
  t0=$(date +%s.%N)
  "$bin" run "configs/$cfg.toml" --quiet --out "$dir" --set workload.requests="$requests" \
    --set workload.batch="$batch" --set workload.output_tokens="$tokens" >/dev/null
  t1=$(date +%s.%N)
  /usr/bin/python3 - "$dir/stats.json" "$label" "$batch" "$tokens" "$t0" "$t1" "$out/rows.tsv" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
s, st = j["summary"], j["stats"]
v = lambda k: st[k]["value"] if k in st else 0
label, batch, tokens = sys.argv[2], sys.argv[3], sys.argv[4]
wall = float(sys.argv[6]) - float(sys.argv[5])
print(f"| {label} | {batch} | {tokens} | {s['time_s']:.3f} | {v('chip0.tiers.copies'):.0f} "
      f"| {v('chip0.tiers.hbm.hit_rate'):.3f} | {v('chip0.tiers.mean_copy_time') * 1e3:.1f} "
      f"| {v('chip0.tiers.copy_time'):.3f} | {v('chip0.kernels.kernels') / s['steps']:.0f} "
      f"| {v('chip0.kernels.launch_time'):.3f} | {wall:.1f} |")
with open(sys.argv[7], "a") as f:
    f.write(f"{label}\t{batch}\t{tokens}\t{s['time_s']}\t{v('chip0.tiers.mean_copy_time')}\n")
PY
}
echo "| node | batch | output tokens | simulated s | switches | HBM hit rate | mean switch ms | switch s (sum) | kernels per step (chip0) | launch s | wall s |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for batch in 1 8; do
  for tokens in 20 200; do
    row "SN40L node" coe_sn40l_node_tp8 "$batch" "$tokens"
    row "DGX H100" coe_dgx_h100_tp8 "$batch" "$tokens"
    row "DGX A100" coe_dgx_a100_tp8 "$batch" "$tokens"
  done
done
echo
echo "| batch | output tokens | end to end vs DGX H100 | vs DGX A100 | switching vs DGX H100 | vs DGX A100 |"
echo "|---|---|---|---|---|---|"
/usr/bin/python3 - "$out/rows.tsv" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    label, batch, tokens, t, sw = line.rstrip("\n").split("\t")
    rows[(label, batch, tokens)] = (float(t), float(sw))
for batch in ("1", "8"):
    for tokens in ("20", "200"):
        sn = rows[("SN40L node", batch, tokens)]
        h = rows[("DGX H100", batch, tokens)]
        a = rows[("DGX A100", batch, tokens)]
        print(f"| {batch} | {tokens} | {h[0] / sn[0]:.2f}x | {a[0] / sn[0]:.2f}x "
              f"| {h[1] / sn[1]:.2f}x | {a[1] / sn[1]:.2f}x |")
PY
