#!/usr/bin/env python3
"""Where a recall model goes wrong: its accuracy per query position and per context segment of the queried
pair, on each curriculum level of the recall task (train.CURRICULUM) and on the task itself.

usage: /usr/bin/python3 tests/reference/recall_by_query.py MODEL [--n 512] [--seed 123]

Prints one line per level, "q<i>/seg<s>: accuracy (n)" for the i-th query of an instance whose pair was
written in context segment s. A model that keeps the values but does not bind them to their keys answers
the last query by elimination and the others by chance among the stored values (with 2 pairs: q1 ≈ 1.0,
q0 ≈ 0.5), which the overall accuracy alone does not show. Runs the trainer's float32 forward pass.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import tasks  # noqa: E402
import train  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--seed", type=int, default=123)
    args = ap.parse_args()
    torch.set_num_threads(1)
    tensors, meta = read_safetensors(args.model)
    arch, cfg = meta["memscope.arch"], json.loads(meta["memscope.config"])
    net = train.NETS[arch](cfg, {k: torch.as_tensor(v).float() for k, v in tensors.items()})
    L = net.cfg["segment_len"]
    for variant in train.CURRICULUM["recall"]:
        C = variant.get("context_segments", tasks.RECALL_CONTEXT_SEGMENTS)
        tokens, answer = train.batch("recall", L, tasks.SplitMix64(args.seed), args.n, variant)
        with torch.no_grad():
            logits, _ = net.predicting_logits(tokens, scored=answer)
        predicted = logits.argmax(-1)
        counts = {}
        for b in range(args.n):
            t = tokens[b].tolist()
            segment_of = {t[i]: i // L for i in range(C * L - 2) if t[i + 1] == ord("=")}
            query = 0
            for i in range(C * L, len(t)):
                if answer[b, i]:
                    key = (query, segment_of[t[i - 2]])   # "K?v": the key is two tokens before its value
                    c = counts.setdefault(key, [0, 0])
                    c[0] += int(predicted[b, i] == t[i])
                    c[1] += 1
                    query += 1
        print(variant or "the task", " ".join(f"q{q}/seg{s}: {c[0] / c[1]:.2f} ({c[1]})"
                                             for (q, s), c in sorted(counts.items())))


if __name__ == "__main__":
    main()
