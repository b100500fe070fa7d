#!/usr/bin/python3
"""memscope-convert.py — a GPT-2 RMT checkpoint saved as a PyTorch pickle (.pt, .bin) into a Memscope model.

For checkpoints of booydar/recurrent-memory-transformer saved with torch.save: a state_dict (or one under
"model_state_dict" / "state_dict") of a RecurrentWrapper(MemoryCell(GPT2LMHeadModel)): `memory_cell.memory`
[m, d] and `memory_cell.model.transformer.*` (Hugging Face GPT-2 names, Conv1D weights [in, out]), possibly
under `module.`, the LM head tied to wte (present and equal, or absent) and, from older transformers, the
attention buffers `attn.bias` / `attn.masked_bias` (dropped). Memscope's RMT layout (DESIGN §3.2) has the
same names, so converting strips prefixes; the configuration comes from the shapes plus --n-heads and
--segment-len, which a state_dict does not hold. The file is loaded with torch.load(weights_only=True):
tensors and plain containers only, never arbitrary code.

With --arch membart it reads a MemBART checkpoint of qywu/memformers saved as a pickle (the
pytorch_model.bin of a save_pretrained folder) and writes its state_dict unchanged as OUT.safetensors, the
model.safetensors of that folder, for `memscope-cli import FOLDER --out MODEL.safetensors --segment-len N`
to read with config.json, vocab.json and merges.txt (names, shapes and tied copies are checked there).

Checkpoints in .safetensors (a Hugging Face folder, accelerate's save_model) need no Python:
`memscope-cli import CHECKPOINT --out MODEL.safetensors --segment-len N` reads them in C.

Usage: memscope-convert.py IN.pt OUT.safetensors --n-heads H --segment-len L [--mask causal|blocks]
       [--n-positions N] [--dtype F32|F16|BF16] [--tokenizer tokenizer.json]
       memscope-convert.py pytorch_model.bin FOLDER/model.safetensors --arch membart [--dtype F32|F16|BF16]
Exit status 0 on success, 1 with a message naming the file and the key on any problem, 2 on usage errors.
Needs Python 3 and PyTorch ≥ 1.13 (Debian: python3-torch).
"""

import argparse
import hashlib
import json
import os
import re
import struct
import sys

WRAPPER_KEYS = ("model_state_dict", "state_dict")
PREFIXES = (("memory_cell.model.", ""), ("memory_cell.memory", "memory"))
LAYER_KEY = re.compile(r"^transformer\.h\.(\d+)\.")
BUFFER_KEY = re.compile(r"^transformer\.h\.\d+\.attn\.(bias|masked_bias)$")
MASKS = ("causal", "blocks")
# Key patterns of backbones Memscope has no engine for, and what they are.
OTHER_BACKBONES = ((re.compile(r"(^|\.)layers\.\d+\.self_attn\.q_proj\."), "a Llama-family backbone"),
                   (re.compile(r"(^|\.)gpt_neox\."), "a GPT-NeoX (Pythia) backbone"),
                   (re.compile(r"(^|\.)decoder\.layers\.\d+\.self_attn\."), "an OPT/BART-style backbone"))


class ConversionError(Exception):
    """A checkpoint that cannot be converted; the message names the key and what to do."""


def tensor_shapes(cfg):
    """Every tensor of a Memscope RMT (DESIGN §3.2), name -> shape, in file order."""
    v, d, f = cfg["vocab_size"], cfg["d_model"], cfg["d_ff"]
    shapes = {"transformer.wte.weight": (v, d), "transformer.wpe.weight": (cfg["n_positions"], d)}
    for l in range(cfg["n_layers"]):
        p = f"transformer.h.{l}"
        shapes.update({
            f"{p}.ln_1.weight": (d,), f"{p}.ln_1.bias": (d,),
            f"{p}.attn.c_attn.weight": (d, 3 * d), f"{p}.attn.c_attn.bias": (3 * d,),
            f"{p}.attn.c_proj.weight": (d, d), f"{p}.attn.c_proj.bias": (d,),
            f"{p}.ln_2.weight": (d,), f"{p}.ln_2.bias": (d,),
            f"{p}.mlp.c_fc.weight": (d, f), f"{p}.mlp.c_fc.bias": (f,),
            f"{p}.mlp.c_proj.weight": (f, d), f"{p}.mlp.c_proj.bias": (d,),
        })
    shapes["transformer.ln_f.weight"] = (d,)
    shapes["transformer.ln_f.bias"] = (d,)
    shapes["memory"] = (cfg["n_mem"], d)
    return shapes


def write_safetensors(path, tensors, metadata, dtype, torch):
    """Writes float tensors (name -> torch tensor) as `dtype` with `metadata`, atomically."""
    target = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[dtype]
    header, chunks, offset = {"__metadata__": metadata}, [], 0
    for name, value in tensors.items():
        value = value.detach().to(target).contiguous().cpu()
        if target == torch.bfloat16:
            raw = value.view(torch.int16).numpy().astype("<i2").tobytes()
        else:
            raw = value.numpy().astype("<f4" if target == torch.float32 else "<f2").tobytes()
        header[name] = {"dtype": dtype, "shape": list(value.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = path + ".convert-tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)
    os.replace(tmp, path)


def load_state_dict(path, torch):
    """Loads a checkpoint with weights_only=True; returns its flat state_dict (unwrapping the usual keys)."""
    if path.endswith(".safetensors"):
        raise ConversionError("a .safetensors file needs no Python: use "
                              "`memscope-cli import CHECKPOINT --out MODEL.safetensors --segment-len N` "
                              "(CHECKPOINT: this file with config.json beside it, or its folder)")
    if not os.path.isfile(path):
        raise ConversionError("no such file")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many kinds; all mean "cannot read this file safely"
        reason = str(err).split("WeightsUnpickler error:")[-1].strip().splitlines()
        raise ConversionError(
            f"cannot be loaded with torch.load(weights_only=True) ({reason[0] if reason else type(err).__name__}). "
            "The file holds "
            "Python objects besides tensors (an optimizer, a trainer, a whole model). In the environment that "
            "trained it, save the weights alone — torch.save(model.state_dict(), 'ckpt.pt'), or "
            "accelerator.save_model(model, folder) for .safetensors that `memscope-cli import` reads — and "
            "convert that") from err
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
    """Strips the public code's prefixes; returns (tensors by Memscope name, lm_head or None, dropped keys)."""
    tensors, dropped, lm_head = {}, [], None
    for key, value in state.items():
        if "lora_" in key or key.startswith("base_model.model."):
            raise ConversionError(f"key {key!r} is a LoRA adapter weight: merge the adapters into the model first "
                                  "(PEFT: model.merge_and_unload()), save its state_dict and convert that")
        for pattern, what in OTHER_BACKBONES:
            if pattern.search(key):
                raise ConversionError(f"key {key!r} belongs to {what}; Memscope runs Recurrent Memory Transformers "
                                      "on a GPT-2 backbone (booydar/recurrent-memory-transformer) only")
        name = key
        while name.startswith("module."):
            name = name[len("module."):]
        for old, new in PREFIXES:
            if name.startswith(old):
                name = new + name[len(old):]
                break
        if not (name.startswith("transformer.") or name in ("memory", "lm_head.weight")):
            raise ConversionError(f"key {key!r} is not part of a GPT-2 RMT checkpoint of "
                                  "booydar/recurrent-memory-transformer (expected memory_cell.model.* or "
                                  "memory_cell.memory)")
        if BUFFER_KEY.match(name):
            dropped.append(key)  # HF attention buffers (causal mask, masking constant): not weights
            continue
        if name == "lm_head.weight":
            lm_head = (key, value)
            continue
        if name in tensors:
            raise ConversionError(f"key {key!r} maps to {name!r}, which another key already provided")
        tensors[name] = value
    return tensors, lm_head, dropped


def infer_config(tensors, args):
    """The RMT configuration from tensor shapes plus the options the state_dict cannot tell."""
    def shape_of(name, ndim):
        if name not in tensors:
            if name == "memory":
                raise ConversionError("key 'memory_cell.memory' is missing: not a Recurrent Memory Transformer "
                                      "checkpoint (a plain GPT-2 has no memory)")
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
        raise ConversionError(f"--segment-len {args.segment_len} does not fit: {n_mem} memory tokens before and "
                              f"after a segment need 2 x {n_mem} + {args.segment_len} = "
                              f"{2 * n_mem + args.segment_len} positions, but there are {n_positions}; pass "
                              f"--segment-len at most {n_positions - 2 * n_mem}")
    return {"vocab_size": vocab, "d_model": d, "n_heads": args.n_heads, "n_layers": len(layers), "d_ff": d_ff,
            "n_mem": n_mem, "segment_len": args.segment_len, "n_positions": n_positions, "mask": args.mask}


def read_tokenizer(path, vocab_size):
    """The text of a tokenizer.json to embed (memscope.tokenizer); the C loader validates it fully."""
    if path is None:
        if vocab_size != 256:
            raise ConversionError(f"the vocabulary has {vocab_size} ids, so the model needs its tokenizer: pass "
                                  "--tokenizer tokenizer.json (or import a folder with `memscope-cli import`, which "
                                  "also reads vocab.json + merges.txt)")
        return "bytes"
    try:
        with open(path, "rb") as f:
            raw = f.read(64 * 1024 * 1024 + 1)
    except OSError as err:
        raise ConversionError(f"cannot read the tokenizer {path}: {err.strerror}") from err
    if len(raw) > 64 * 1024 * 1024:
        raise ConversionError(f"the tokenizer {path} is larger than 64 MiB")
    try:
        text = raw.decode("utf-8")
        vocab = json.loads(text)["model"]["vocab"]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, RecursionError) as err:
        raise ConversionError(f"{path} is not a Hugging Face tokenizer.json with a model.vocab") from err
    n_ids = len(vocab) + sum(1 for t in json.loads(text).get("added_tokens") or [] if t.get("content") not in vocab)
    if n_ids != vocab_size:
        raise ConversionError(f"the tokenizer {path} has {n_ids} ids but transformer.wte.weight has {vocab_size} "
                              "rows; pass the tokenizer the model was trained with")
    return text


def convert(args, torch):
    """Runs the conversion; returns a summary line. Raises ConversionError on any problem."""
    state = load_state_dict(args.input, torch)
    tensors, lm_head, dropped = rename(state)
    config = infer_config(tensors, args)
    if config["n_positions"] < tensors["transformer.wpe.weight"].shape[0]:
        tensors["transformer.wpe.weight"] = tensors["transformer.wpe.weight"][:config["n_positions"]]

    expected = tensor_shapes(config)
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
        tie_note = "no lm_head.weight in the checkpoint; the LM head is tied to wte"
    else:
        key, head = lm_head
        if tuple(head.shape) != tuple(weights["transformer.wte.weight"].shape) or not torch.equal(
                head.detach().to(torch.float32), weights["transformer.wte.weight"]):
            raise ConversionError(f"key {key!r} is an untied LM head: it differs from transformer.wte.weight. "
                                  "Memscope's RMT ties the LM head to the token embedding as GPT-2 does and cannot "
                                  "run a model with a separate head")
        tie_note = "lm_head.weight equals wte (tied)"
    tokenizer = read_tokenizer(args.tokenizer, config["vocab_size"])

    digest = hashlib.sha256()
    with open(args.input, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    source = (f"memscope-convert.py from {os.path.basename(args.input)} (sha256 {digest.hexdigest()[:16]}), a "
              f"booydar/recurrent-memory-transformer GPT-2 checkpoint; n_heads {args.n_heads}, segment_len "
              f"{args.segment_len} and mask {args.mask} given on the command line")
    metadata = {"memscope.format": "1", "memscope.arch": "rmt",
                "memscope.config": json.dumps(config, sort_keys=True), "memscope.tokenizer": tokenizer,
                "memscope.source": source}
    write_safetensors(args.output, weights, metadata, args.dtype, torch)
    return (f"{args.input} -> {args.output}: {len(weights)} tensors as {args.dtype}, dropped {len(dropped)} "
            f"attention buffers, {tie_note}; config {config}")


def convert_membart(args, torch):
    """A MemBART pickle's state_dict, unchanged, as the model.safetensors of its Hugging Face folder."""
    state = load_state_dict(args.input, torch)
    for key, value in state.items():
        if not value.is_floating_point():
            raise ConversionError(f"key {key!r} has dtype {value.dtype}; a MemBART state_dict holds float tensors")
    if not any(k.endswith("encoder.memory_bias") for k in state):
        raise ConversionError("has no model.encoder.memory_bias: not a MemBART (qywu/memformers) state_dict")
    # tied copies share storage in the pickle; each is written as its own tensor
    write_safetensors(args.output, {k: v.clone() for k, v in state.items()}, {"format": "pt"}, args.dtype, torch)
    return (f"{args.input} -> {args.output}: {len(state)} tensors as {args.dtype}; now run "
            f"`memscope-cli import {os.path.dirname(args.output) or '.'} --out MODEL.safetensors --segment-len N`")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="memscope-convert.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("input", help="checkpoint saved with torch.save (a state_dict, maybe wrapped)")
    parser.add_argument("output", help="Memscope model file to write (.safetensors)")
    parser.add_argument("--arch", choices=("rmt", "membart"), default="rmt",
                        help="rmt (default): write a Memscope model; membart: write the folder's model.safetensors")
    parser.add_argument("--n-heads", type=int, help="attention heads (not in the state_dict; rmt)")
    parser.add_argument("--segment-len", type=int, help="segment length L used in training (rmt)")
    parser.add_argument("--mask", choices=MASKS, default="causal",
                        help="attention mask (default causal: what the HF wrapper does)")
    parser.add_argument("--n-positions", type=int, help="keep only the first N position embeddings")
    parser.add_argument("--dtype", choices=("F32", "F16", "BF16"), default="F32", help="storage dtype")
    parser.add_argument("--tokenizer", help="tokenizer.json to embed (needed unless the vocabulary is 256 bytes)")
    args = parser.parse_args(argv)
    if args.arch == "rmt" and (args.n_heads is None or args.segment_len is None):
        parser.error("--n-heads and --segment-len are required for an RMT")
    if args.arch == "rmt" and args.segment_len <= 0:
        parser.error("--segment-len must be positive")
    try:
        import torch  # noqa: PLC0415 - a clear message beats an ImportError trace
    except ImportError:
        print("memscope-convert.py: needs PyTorch (Debian: apt install python3-torch) to read pickle checkpoints; "
              "for .safetensors checkpoints use `memscope-cli import`", file=sys.stderr)
        return 1
    try:
        print(convert_membart(args, torch) if args.arch == "membart" else convert(args, torch))
    except ConversionError as err:
        print(f"memscope-convert.py: {args.input}: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"memscope-convert.py: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
