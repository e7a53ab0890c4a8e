#!/usr/bin/env bash
# The comparisons of docs/fusion.md: fused against unfused kernels on one SN40L-like socket
# (Llama-2-7B and Mistral-7B, decode and prefill), hardware- against host-orchestrated
# launch, and the SN40L-like node against DGX H100/A100-like nodes (TP8). Prints one
# markdown table row per run: simulated time per step, kernels and launch time per step,
# spilled bytes, wall time of the run.
# Usage: scripts/fusion_compare.sh [build dir, default build] [PNG: bar chart of ms per step]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build}/moesim"
png="${2:-}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
unfused="--set mapping.fusion.kernels=none --set mapping.fusion.launch=host"
host="--set mapping.fusion.launch=host"
row() {  # row LABEL CONFIG ARGS...
  local label=$1 cfg=$2
  shift 2
  local dir="$out/$(echo "$label" | tr -c 'a-zA-Z0-9' _)"
  local t0 t1
  t0=$(date +%s.%N)
  "$bin" run "configs/$cfg.toml" --quiet --out "$dir" "$@" >/dev/null
  t1=$(date +%s.%N)
  /usr/bin/python3 - "$dir/stats.json" "$label" "$t0" "$t1" "$out/rows.tsv" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
s, st = j["summary"], j["stats"]
v = lambda k: st[k]["value"] if k in st else 0
steps = s["steps"]
print(f"| {sys.argv[2]} | {s['time_s'] / steps * 1e3:.3f} | {v('chip0.kernels.kernels') / steps:.0f} "
      f"| {v('chip0.kernels.launch_time') / steps * 1e3:.3f} "
      f"| {(v('chip0.kernels.spill_store_bytes') + v('chip0.kernels.spill_load_bytes')) / steps / 1e6:.1f} "
      f"| {s['bottleneck']} | {float(sys.argv[4]) - float(sys.argv[3]):.2f} |")
with open(sys.argv[5], "a") as f:
    f.write(f"{sys.argv[2]}\t{s['time_s'] / steps * 1e3}\t{v('chip0.kernels.launch_time') / steps * 1e3}\n")
PY
}
echo "| run | ms per step | kernels per step (chip0) | launch ms per step | spill MB per step | bottleneck | wall s |"
echo "|---|---|---|---|---|---|---|"
row "Llama-2-7B decode, SN40L, fused, hw launch" llama2_7b_decode_sn40l_fused
row "Llama-2-7B decode, SN40L, fused, host launch" llama2_7b_decode_sn40l_fused $host
row "Llama-2-7B decode, SN40L, unfused, host launch" llama2_7b_decode_sn40l_fused $unfused
row "Llama-2-7B decode, SN40L, unfused, hw launch" llama2_7b_decode_sn40l_fused --set mapping.fusion.kernels=none
row "Llama-2-7B decode b1, SN40L, fused, hw launch" llama2_7b_decode_sn40l_fused --set workload.batch=1
row "Llama-2-7B decode b1, SN40L, unfused, host launch" llama2_7b_decode_sn40l_fused --set workload.batch=1 $unfused
row "Llama-2-7B prefill 2048, SN40L, fused, hw launch" llama2_7b_prefill_sn40l_fused
row "Llama-2-7B prefill 2048, SN40L, fused, host launch" llama2_7b_prefill_sn40l_fused $host
row "Llama-2-7B prefill 2048, SN40L, unfused, host launch" llama2_7b_prefill_sn40l_fused $unfused
row "Mistral-7B prefill 2048, SN40L, fused, hw launch" mistral_7b_prefill_sn40l_fused
row "Mistral-7B prefill 2048, SN40L, unfused, host launch" mistral_7b_prefill_sn40l_fused $unfused
row "Mistral-7B decode, SN40L, fused, hw launch" mistral_7b_decode_sn40l_fused
row "Mistral-7B decode, SN40L, unfused, host launch" mistral_7b_decode_sn40l_fused $unfused
row "Llama-2-7B decode TP8, SN40L node, fused, hw launch" llama2_7b_decode_sn40l_node_tp8
row "Llama-2-7B decode TP8, SN40L node, unfused, host launch" llama2_7b_decode_sn40l_node_tp8 $unfused
row "Llama-2-7B decode TP8, DGX H100, unfused, host launch" llama2_7b_decode_dgx_h100_tp8
row "Llama-2-7B decode TP8, DGX H100, fused attention" llama2_7b_decode_dgx_h100_tp8 --set mapping.fusion.kernels=attention_block
row "Llama-2-7B decode TP8, DGX A100, unfused, host launch" llama2_7b_decode_dgx_a100_tp8
row "Llama-2-7B decode b1 TP8, SN40L node, fused, hw launch" llama2_7b_decode_sn40l_node_tp8 --set workload.batch=1
row "Llama-2-7B decode b1 TP8, DGX H100, unfused, host launch" llama2_7b_decode_dgx_h100_tp8 --set workload.batch=1
row "Llama-2-7B decode b1 TP8, DGX A100, unfused, host launch" llama2_7b_decode_dgx_a100_tp8 --set workload.batch=1
if [[ -n "$png" ]]; then
  /usr/bin/python3 - "$out/rows.tsv" "$png" <<'PY'
import sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
labels = [r[0] for r in rows]
total = [float(r[1]) for r in rows]
launch = [float(r[2]) for r in rows]
fig, ax = plt.subplots(figsize=(9, 0.32 * len(rows) + 1))
y = range(len(rows))
ax.barh(y, [t - l for t, l in zip(total, launch)], color="#4c72b0", label="rest of the step")
ax.barh(y, launch, left=[t - l for t, l in zip(total, launch)], color="#dd8452",
        label="kernel launch")
ax.set_yticks(list(y))
ax.set_yticklabels(labels, fontsize=7)
ax.invert_yaxis()
ax.set_xlabel("simulated ms per step (chip0)")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=110)
PY
  echo "wrote $png"
fi
