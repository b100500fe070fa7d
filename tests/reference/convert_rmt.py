#!/usr/bin/env python3
"""Converts a GPT-2 RMT checkpoint of booydar/recurrent-memory-transformer into a Memscope RMT model file.

That code wraps a Hugging Face GPT2LMHeadModel in MemoryCell/RecurrentWrapper, so its state_dict holds
`memory_cell.model.transformer.*` (HF GPT-2 names, Conv1D weights [in, out]), `memory_cell.memory` [m, d]
and `memory_cell.model.lm_head.weight` (tied to wte), plus, in older transformers versions, the attention
buffers `attn.bias` / `attn.masked_bias`. Memscope's RMT layout (DESIGN.md §3.2) uses the same names, so the
conversion strips prefixes, drops the buffers, checks the LM head is tied, infers vocab_size, d_model,
n_layers, d_ff, n_mem and n_positions from the shapes, and writes the file with the config in its metadata.
n_heads and segment_len are not visible in a state_dict and must be given. Any problem exits with status 1
and a message naming the file and the key.

Usage: convert_rmt.py IN.pt OUT.safetensors --n-heads H --segment-len L [--mask causal|blocks]
       [--n-positions N] [--dtype F32|F16|BF16] [--unsafe-load]
"""

import argparse
import hashlib
import os
import re
import sys

import torch

import rmt_ref
from memscope_file import write_model

WRAPPER_KEYS = ("model_state_dict", "state_dict")
PREFIXES = (("memory_cell.model.", ""), ("memory_cell.memory", "memory"))
LAYER_KEY = re.compile(r"^transformer\.h\.(\d+)\.")


class ConversionError(Exception):
    """A checkpoint that cannot be converted; the message names the key and what was expected."""


def load_state_dict(path, unsafe):
    """Loads a checkpoint and returns its flat state_dict (unwrapping model_state_dict / state_dict)."""
    if not os.path.isfile(path):
        raise ConversionError("no such file")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=not unsafe)
    except Exception as err:  # torch raises many kinds; all mean "cannot read this file"
        hint = "" if unsafe else " (if it is a trusted checkpoint holding more than tensors, try --unsafe-load)"
        raise ConversionError(f"cannot load: {err}{hint}") from err
    for key in WRAPPER_KEYS:
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    if not isinstance(obj, dict) or not obj:
        raise ConversionError("does not hold a state_dict (expected a dict of tensors, possibly under "
                              f"{' or '.join(WRAPPER_KEYS)})")
    for key, value in obj.items():
        if not isinstance(value, torch.Tensor):
            raise ConversionError(f"key {key!r} is a {type(value).__name__}, not a tensor")
    return obj


def rename(state):
    """Strips the booydar prefixes; returns (tensors by Memscope name, lm_head or None, dropped buffer names)."""
    tensors, dropped, lm_head = {}, [], None
    for key, value in state.items():
        name = key[len("module."):] if key.startswith("module.") else key
        for old, new in PREFIXES:
            if name.startswith(old):
                name = new + name[len(old):]
                break
        else:
            raise ConversionError(f"key {key!r} is not part of a booydar RMT GPT-2 checkpoint "
                                  "(expected memory_cell.model.* or memory_cell.memory)")
        if name.endswith((".attn.bias", ".attn.masked_bias")) and LAYER_KEY.match(name):
            dropped.append(key)  # HF attention buffers (causal mask, masking constant): not weights
            continue
        if name == "lm_head.weight":
            lm_head = value
            continue
        if name in tensors:
            raise ConversionError(f"key {key!r} maps to {name!r}, which another key already provided")
        tensors[name] = value
    return tensors, lm_head, dropped


def infer_config(tensors, args):
    """Infers the RMT config from tensor shapes plus the command-line fields shapes cannot tell."""
    def shape_of(name, ndim):
        if name not in tensors:
            raise ConversionError(f"key {name!r} is missing")
        shape = tuple(tensors[name].shape)
        if len(shape) != ndim:
            raise ConversionError(f"key {name!r} has shape {list(shape)}, expected {ndim} dimensions")
        return shape

    vocab, d = shape_of("transformer.wte.weight", 2)
    positions, d_pos = shape_of("transformer.wpe.weight", 2)
    n_mem, d_mem = shape_of("memory", 2)
    if d_pos != d or d_mem != d:
        raise ConversionError(f"transformer.wpe.weight / memory widths {d_pos} / {d_mem} differ from "
                              f"transformer.wte.weight width {d}")
    layers = sorted({int(m.group(1)) for m in map(LAYER_KEY.match, tensors) if m})
    if not layers or layers != list(range(len(layers))):
        raise ConversionError(f"transformer.h.* layer indices {layers} are not 0..n-1")
    d_ff = shape_of("transformer.h.0.mlp.c_fc.weight", 2)[1]
    if args.n_heads <= 0 or d % args.n_heads:
        raise ConversionError(f"--n-heads {args.n_heads} does not divide d_model {d}")
    n_positions = positions
    if args.n_positions is not None:
        if args.n_positions > positions:
            raise ConversionError(f"--n-positions {args.n_positions} exceeds the {positions} rows of "
                                  "transformer.wpe.weight")
        n_positions = args.n_positions
    if n_positions < 2 * n_mem + args.segment_len:
        raise ConversionError(f"n_positions {n_positions} (from transformer.wpe.weight or --n-positions) is "
                              f"fewer than 2 n_mem + segment_len = {2 * n_mem + args.segment_len}")
    return {"vocab_size": vocab, "d_model": d, "n_heads": args.n_heads, "n_layers": len(layers), "d_ff": d_ff,
            "n_mem": n_mem, "segment_len": args.segment_len, "n_positions": n_positions, "mask": args.mask}


def convert(args):
    """Runs the conversion; returns a summary line. Raises ConversionError on any problem."""
    state = load_state_dict(args.input, args.unsafe_load)
    tensors, lm_head, dropped = rename(state)
    config = infer_config(tensors, args)
    if config["n_positions"] < tensors["transformer.wpe.weight"].shape[0]:
        tensors["transformer.wpe.weight"] = tensors["transformer.wpe.weight"][:config["n_positions"]]

    expected = rmt_ref.tensor_shapes(config)
    for name in tensors:
        if name not in expected:
            raise ConversionError(f"key {name!r} is not part of an RMT with {config['n_layers']} layers")
    weights = {}
    for name, shape in expected.items():
        if name not in tensors:
            raise ConversionError(f"key {name!r} is missing (expected shape {list(shape)})")
        value = tensors[name]
        if tuple(value.shape) != tuple(shape):
            raise ConversionError(f"key {name!r} has shape {list(value.shape)}, expected {list(shape)}")
        if not value.is_floating_point():
            raise ConversionError(f"key {name!r} has dtype {value.dtype}, expected floating point")
        value = value.detach().to(torch.float32)
        if not bool(torch.isfinite(value).all()):
            raise ConversionError(f"key {name!r} holds NaN or infinite values")
        weights[name] = value

    if lm_head is None:
        tie_note = "no lm_head.weight in the checkpoint; the LM head is taken as tied to wte"
    elif tuple(lm_head.shape) != tuple(weights["transformer.wte.weight"].shape) or not torch.equal(
            lm_head.detach().to(torch.float32), weights["transformer.wte.weight"]):
        raise ConversionError("key 'memory_cell.model.lm_head.weight' differs from transformer.wte.weight; "
                              "Memscope's RMT ties the LM head to wte and cannot represent an untied head")
    else:
        tie_note = "lm_head.weight equals wte (tied)"

    digest = hashlib.sha256()
    with open(args.input, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    source = (f"convert_rmt.py from {os.path.basename(args.input)} (sha256 {digest.hexdigest()[:16]}), a "
              f"booydar/recurrent-memory-transformer GPT-2 checkpoint; n_heads {args.n_heads}, segment_len "
              f"{args.segment_len} and mask {args.mask} given on the command line")
    write_model(args.output, "rmt", config, weights, source, dtype=args.dtype)
    return (f"{args.input} -> {args.output}: {len(weights)} tensors as {args.dtype}, dropped {len(dropped)} "
            f"attention buffers, {tie_note}; config {config}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", help="checkpoint saved with torch.save (a state_dict, maybe wrapped)")
    parser.add_argument("output", help="Memscope model file to write (.safetensors)")
    parser.add_argument("--n-heads", type=int, required=True, help="attention heads (not in the state_dict)")
    parser.add_argument("--segment-len", type=int, required=True, help="segment length L used in training")
    parser.add_argument("--mask", choices=rmt_ref.MASKS, default="causal",
                        help="attention mask (default causal: what the HF wrapper does)")
    parser.add_argument("--n-positions", type=int, help="keep only the first N position embeddings")
    parser.add_argument("--dtype", choices=("F32", "F16", "BF16"), default="F32", help="storage dtype")
    parser.add_argument("--unsafe-load", action="store_true",
                        help="unpickle arbitrary objects (only for trusted files that weights_only rejects)")
    args = parser.parse_args(argv)
    if args.segment_len <= 0:
        parser.error("--segment-len must be positive")
    try:
        print(convert(args))
    except ConversionError as err:
        print(f"convert_rmt: {args.input}: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"convert_rmt: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
