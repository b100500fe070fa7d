#!/usr/bin/env python3
"""Task accuracy of a Memscope model computed with the PyTorch reference — the independent check of
`memscope-cli eval` (core/ms-eval.c).

The instances come from tasks.py (the same stream as the C generator for one seed). Each instance runs from a
fresh memory M_0 through memformer_ref / rmt_ref segment by segment (segments of the model's segment_len);
the prediction for a token is the argmax of the logits row that predicts it (Memformer: the decoder row j of
segment t; RMT: row j-1 of the same segment, or the previous segment's last row for j = 0). Accuracy is
correct answer tokens / answer tokens. With `reset_memory` the memory is set back to M_0 before every
segment while the previous segment's encoding (Memformer) or last logits row (RMT) is kept — exactly what
ms-eval.h documents.

`evaluate.py MODEL --task copy|recall [--n N] [--seed S] [--reset-memory]` prints a JSON object with
accuracy, n_correct, n_answer_tokens, near_ties (answer tokens whose top-2 logits differ by less than
1e-3, where float32 and float64 may legitimately disagree), and per instance the predicted answer tokens
with their near-tie flags.
"""

import argparse
import json

import torch

import tasks
from memscope_file import load_model

NEAR_TIE = 1e-3


def instance_logits(arch, model, tokens, reset_memory):
    """Per-token predicting logits [N, V] (row i predicts token i; NaN rows where nothing predicts it)."""
    L = model.cfg["segment_len"]
    ids = list(tokens)
    n = len(ids)
    V = model.cfg["vocab_size"]
    out = torch.full((n, V), float("nan"), dtype=torch.float64)
    m0 = model.initial_memory()
    memory = m0
    previous = None  # Memformer: (segment, H_{t-1});  RMT: last logits row
    for start in range(0, n, L):
        seg = ids[start:start + L]
        if reset_memory:
            memory = m0
        if arch == "memformer":
            if previous is not None:
                prev_tokens, prev_encoded = previous
                out[start:start + len(seg)] = model.decode([prev_tokens[-1]] + seg[:-1], prev_encoded)
            encoded, _ = model.encode(seg, memory)
            memory, _ = model.write(memory, encoded)
            previous = (seg, encoded)
        else:
            logits, memory, _ = model.forward_segment(seg, memory)
            if previous is not None:
                out[start] = previous
            out[start + 1:start + len(seg)] = logits[:-1]
            previous = logits[-1]
    return out


def evaluate(path, task, n, seed, reset_memory=False):
    """Returns a dict with accuracy, n_correct, n_answer_tokens, near_ties for `n` instances from `seed`."""
    arch, config, model = load_model(path)
    correct = total = near = 0
    predictions, ties = [], []
    for tokens, answer in tasks.instances(task, config["segment_len"], seed, n):
        logits = instance_logits(arch, model, tokens, reset_memory)
        predictions.append([])
        ties.append([])
        for i, is_answer in enumerate(answer):
            if not is_answer:
                continue
            total += 1
            row = logits[i]
            if torch.isnan(row).any():
                predictions[-1].append(-1)
                ties[-1].append(False)
                continue
            top = torch.topk(row, 2).values
            tie = float(top[0] - top[1]) < NEAR_TIE
            near += int(tie)
            predictions[-1].append(int(torch.argmax(row)))
            ties[-1].append(tie)
            correct += int(predictions[-1][-1] == tokens[i])
    return {"accuracy": correct / total, "n_correct": correct, "n_answer_tokens": total, "near_ties": near,
            "n": n, "seed": seed, "task": task, "reset_memory": reset_memory, "predictions": predictions,
            "near_tie_mask": ties}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--task", choices=tasks.TASKS, required=True)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reset-memory", action="store_true")
    args = ap.parse_args()
    print(json.dumps(evaluate(args.model, args.task, args.n, args.seed, args.reset_memory)))


if __name__ == "__main__":
    main()
