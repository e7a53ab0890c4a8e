#!/usr/bin/python3
"""Writes router logits for the logits-npz import test, and the same choices as a routing log.

make_logits.py OUT_DIR: writes in OUT_DIR
  logits.npz        layer_0..layer_3 (float32, tokens x 8), request, step  (np.savez, stored)
  logits_z.npz      the same, np.savez_compressed (deflate)
  logits16.npz      float16 logits (np.savez)
  logits3d.npy      one array, layers x tokens x experts (float32)
  layer_<l>.npy     one 2-D array per layer
  expected.jsonl    engine-jsonl rows: softmax top-2 of each (token, layer), raw probabilities
  expected16.jsonl  the same from the float16 logits
The model is tests/trace/data/tiny_moe.toml (4 MoE layers, 8 experts, top-2).
"""
import json
import os
import sys

import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(7)
layers, tokens, experts = 4, 24, 8
logits = (rng.standard_normal((layers, tokens, experts)) * 2).astype(np.float32)
# Two requests prefilled together (step 0: 6 + 4 tokens), then 7 decode steps of both.
request = np.array([0] * 6 + [1] * 4 + [0, 1] * 7, dtype=np.int64)
step = np.array([0] * 10 + [s for s in range(1, 8) for _ in range(2)], dtype=np.int32)
arrays = {f"layer_{l}": logits[l] for l in range(layers)}
np.savez(os.path.join(out, "logits.npz"), request=request, step=step, **arrays)
np.savez_compressed(os.path.join(out, "logits_z.npz"), request=request, step=step, **arrays)
np.savez(os.path.join(out, "logits16.npz"), request=request, step=step,
         **{k: v.astype(np.float16) for k, v in arrays.items()})
np.save(os.path.join(out, "logits3d.npy"), logits)
for l in range(layers):
    np.save(os.path.join(out, f"layer_{l}.npy"), logits[l])


def expected(lg, name):
    lg = lg.astype(np.float64)
    p = np.exp(lg - lg.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    with open(os.path.join(out, name), "w") as f:
        for t in range(tokens):
            for l in range(layers):
                order = np.argsort(-p[l, t], kind="stable")[:2]
                f.write(json.dumps({"type": "route", "req_id": int(request[t]),
                                    "token_idx": t, "layer": l,
                                    "topk_ids": [int(e) for e in order],
                                    "topk_weights": [float(np.float32(p[l, t, e]))
                                                     for e in order]}) + "\n")


expected(logits, "expected.jsonl")
expected(logits.astype(np.float16), "expected16.jsonl")
