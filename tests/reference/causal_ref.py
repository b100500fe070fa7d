#!/usr/bin/env python3
"""Causal retention computed by the float64 PyTorch reference — the independent check of core/ms-causal.c.

`segment_nlls(arch, model, tokens, after, replace)` steps the reference through `tokens` segment by segment from
M_0 (segments of the model's segment_len, the hand-over between segments as evaluate.instance_logits keeps it)
and returns each segment's mean NLL over the tokens that have a prediction (None where none has). With
`after = s` the memory after segment s is replaced by `replace(memory_after, memory_before, m0)` before segment
s + 1 reads it, exactly what ms-causal.h defines; the hand-over from segment s (its encoding, its last logits
row) is left as it was. ΔNLL(s, t) is then segment_nlls(…, s, replace)[t] − segment_nlls(…)[t].
"""

import torch

REPLACEMENTS = {
    "initial": lambda after, before, m0: m0.clone(),
    "zeros": lambda after, before, m0: torch.zeros_like(after),
    "permute": lambda after, before, m0: torch.roll(after, -1, dims=0),   # slot i takes slot i + 1
    "skip": lambda after, before, m0: before.clone(),
}


def knockout(slot):
    def replace(after, before, m0):
        out = after.clone()
        out[slot] = m0[slot]
        return out
    return replace


def segment_nlls(arch, model, tokens, after=None, replace=None):
    L = model.cfg["segment_len"]
    ids = list(tokens)
    m0 = model.initial_memory()
    memory = m0
    previous = None          # Memformer: (tokens, H_{t-1}); MemBART: H_{t-1}; RMT: last logits row
    out = []
    for t, start in enumerate(range(0, len(ids), L)):
        seg = ids[start:start + L]
        rows = [None] * len(seg)          # the logits row predicting each token
        before = memory
        if arch == "memformer":
            if previous is not None:
                logits = model.decode([previous[0][-1]] + seg[:-1], previous[1])
                rows = [logits[j] for j in range(len(seg))]
            encoded, _ = model.encode(seg, memory)
            memory, _ = model.write(memory, encoded)
            previous = (seg, encoded)
        elif arch == "membart":
            # the decoder reads [M_t; H_{t-1}]: a memory replaced after s reaches segment s + 1's prediction
            if previous is not None:
                logits = model.decode([model.cfg["bos_token_id"]] + seg[:-1], torch.cat([memory, previous]))
                rows = [logits[j] for j in range(len(seg))]
            previous, memory, *_ = model.encode(seg, memory)
        else:
            logits, memory, _ = model.forward_segment(seg, memory)
            rows = [previous] + [logits[j] for j in range(len(seg) - 1)]
            previous = logits[-1]
        if after == t:
            memory = replace(memory, before, m0)
        nll = [float(torch.logsumexp(r, 0) - r[tok]) for r, tok in zip(rows, seg) if r is not None]
        out.append(sum(nll) / len(nll) if nll else None)
    return out
