#!/usr/bin/python3
"""Writes a synthetic olmoe-jsonl routing log for the import benchmark (not committed data).

  scripts/gen_routing_log.py OUT [--requests 2500] [--tokens 1000] [--layers 4]
                             [--experts 8] [--top-k 2] [--order layer-major|token-major]
                             [--seed 1]

Rows are those of the first logger format of REFERENCE.md ({"dataset", "problem_id",
"layer", "experts", "gating_probs", "token_idx"}): requests one after another, and within a
request layer-major (every token at layer 0, then every token at layer 1, ...) by default.
Experts are distinct uniform draws, weights a renormalised pair of uniforms. The default is
10^7 rows (about 1.2 GB) for the model tests/trace/data/tiny_moe.toml (4 MoE layers, 8
experts, top-2). Deterministic for a seed.
"""
import argparse
import random
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--requests", type=int, default=2500)
    ap.add_argument("--tokens", type=int, default=1000)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--experts", type=int, default=8)
    ap.add_argument("--top-k", type=int, default=2)
    ap.add_argument("--order", choices=["layer-major", "token-major"], default="layer-major")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if not 1 <= a.top_k <= a.experts:
        sys.exit("gen_routing_log.py: --top-k must be in 1..--experts")
    rng = random.Random(a.seed)
    ids = list(range(a.experts))
    with open(a.out, "w", buffering=1 << 20) as f:
        for p in range(a.requests):
            # One request's routes, then its rows in the chosen order.
            routes = {}
            for t in range(a.tokens):
                for l in range(a.layers):
                    ex = rng.sample(ids, a.top_k)
                    w = sorted((rng.random() + 1e-3 for _ in ex), reverse=True)
                    s = sum(w)
                    routes[t, l] = (ex, [round(x / s, 4) for x in w])
            order = ([(t, l) for l in range(a.layers) for t in range(a.tokens)]
                     if a.order == "layer-major" else
                     [(t, l) for t in range(a.tokens) for l in range(a.layers)])
            lines = []
            for t, l in order:
                ex, w = routes[t, l]
                lines.append('{"dataset": "bench", "problem_id": %d, "layer": %d, "experts": [%s], '
                             '"gating_probs": [%s], "token_idx": %d}\n'
                             % (p, l, ", ".join(map(str, ex)), ", ".join(map(repr, w)), t))
            f.write("".join(lines))


if __name__ == "__main__":
    main()
