#!/usr/bin/env python3
"""Memscope model files and expected-output files, as the reference tools read and write them.

A model file is a safetensors file whose metadata says memscope.format "1", memscope.arch, memscope.config
(the architecture's config as a JSON string), memscope.tokenizer "bytes" and memscope.source (DESIGN.md §2).
An expected file holds what the reference computes for one input: `tokens` [N] and `segment_lengths` [S]
(as floats), then per segment t `seg.{t}.mem_in`, `seg.{t}.mem_out`, `seg.{t}.nll` (nats, NaN where nothing
predicts the token), `seg.{t}.logits`, and the attention maps (Memformer: `seg.{t}.reader.{l}` [H,L_t,K] and
`seg.{t}.writer` [H,K,1+L_t]; RMT: `seg.{t}.attn.{l}` [H,T,T]; MemBART: `seg.{t}.membart_read.{l}` [H,L_t,K]
and `seg.{t}.membart_write.{l}` [H,K,1+L_t], and the gate `seg.{t}.gate` [K]). All stored as F32.
"""

import json

import numpy as np
import torch

import membart_ref
import memformer_ref
import rmt_ref
from safetensors_io import read_safetensors, write_safetensors

ARCHS = {"memformer": memformer_ref, "rmt": rmt_ref, "membart": membart_ref}
MODEL_CLASSES = {"memformer": memformer_ref.Memformer, "rmt": rmt_ref.RMT, "membart": membart_ref.MemBart}


def model_metadata(arch, config, source):
    """The __metadata__ block of a Memscope model file."""
    return {
        "memscope.format": "1",
        "memscope.arch": arch,
        "memscope.config": json.dumps(config, sort_keys=True),
        "memscope.tokenizer": "bytes",
        "memscope.source": source,
    }


def write_model(path, arch, config, weights, source, dtype="F32"):
    """Writes a Memscope model file after checking the weights cover exactly the architecture's tensors."""
    module = ARCHS[arch]
    config = module.full_config(config)
    shapes = module.tensor_shapes(config)
    if set(weights) != set(shapes):
        raise ValueError(f"{path}: tensor set differs from the {arch} layout: "
                         f"missing {sorted(set(shapes) - set(weights))}, extra {sorted(set(weights) - set(shapes))}")
    ordered = {name: weights[name] for name in shapes}
    write_safetensors(path, ordered, model_metadata(arch, config, source), dtype=dtype)


def load_model(path, dtype=torch.float64):
    """Reads a Memscope model file and returns (arch, config, reference model computing in `dtype`)."""
    tensors, metadata = read_safetensors(path)
    if metadata.get("memscope.format") != "1":
        raise ValueError(f"{path}: memscope.format is {metadata.get('memscope.format')!r}, expected \"1\"")
    arch = metadata.get("memscope.arch")
    if arch not in ARCHS:
        raise ValueError(f"{path}: memscope.arch is {arch!r}, expected one of {sorted(ARCHS)}")
    config = json.loads(metadata["memscope.config"])
    return arch, config, MODEL_CLASSES[arch](config, tensors, dtype=dtype)


def session_tensors(arch, records):
    """Flattens the records of a reference `run_session` into expected-file tensors (float64 torch)."""
    out = {}
    all_tokens = [tok for r in records for tok in r["tokens"]]
    out["tokens"] = torch.tensor(all_tokens, dtype=torch.float64)
    out["segment_lengths"] = torch.tensor([len(r["tokens"]) for r in records], dtype=torch.float64)
    for t, r in enumerate(records):
        out[f"seg.{t}.mem_in"] = r["mem_in"]
        out[f"seg.{t}.mem_out"] = r["mem_out"]
        out[f"seg.{t}.nll"] = r["nll"]
        if r["logits"] is not None:
            out[f"seg.{t}.logits"] = r["logits"]
        if arch == "memformer":
            for l, probs in enumerate(r["reader"]):
                out[f"seg.{t}.reader.{l}"] = probs
            out[f"seg.{t}.writer"] = r["writer"]
        elif arch == "membart":
            out[f"seg.{t}.gate"] = r["gate"]
            for kind in ("membart_read", "membart_write"):
                for l, probs in enumerate(r[kind]):
                    out[f"seg.{t}.{kind}.{l}"] = probs
        else:
            for l, probs in enumerate(r["attn"]):
                out[f"seg.{t}.attn.{l}"] = probs
    return out


def write_expected(path, tensors, metadata):
    """Writes an expected-output file (every tensor as F32)."""
    write_safetensors(path, {k: v.to(torch.float32) for k, v in tensors.items()}, metadata, dtype="F32")


def compare_expected(expected, actual, atol=1e-4, rtol=1e-4):
    """Compares two expected-file tensor dicts (numpy). Returns a list of problems (empty when they match).

    NaN must sit where NaN is expected; elsewhere |a - e| <= atol + rtol |e|.
    """
    problems = []
    for name in sorted(set(expected) | set(actual)):
        if name not in actual:
            problems.append(f"{name}: missing")
            continue
        if name not in expected:
            problems.append(f"{name}: unexpected")
            continue
        e, a = np.asarray(expected[name], np.float64), np.asarray(actual[name], np.float64)
        if e.shape != a.shape:
            problems.append(f"{name}: shape {a.shape}, expected {e.shape}")
            continue
        if not np.array_equal(np.isnan(e), np.isnan(a)):
            problems.append(f"{name}: NaN pattern differs")
            continue
        ok = ~np.isnan(e)
        err = np.abs(a[ok] - e[ok]) - (atol + rtol * np.abs(e[ok]))
        if err.size and err.max() > 0:
            worst = int(np.argmax(err))
            problems.append(f"{name}: off by {np.abs(a[ok] - e[ok])[worst]:.3g} at flat index {worst}")
    return problems
