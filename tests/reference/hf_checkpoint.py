#!/usr/bin/env python3
"""GPT-2 RMT checkpoints laid out as booydar/recurrent-memory-transformer and accelerate save them.

The public code wraps a Hugging Face GPT2LMHeadModel in MemoryCell (the memory tokens, a parameter
`memory` [m, d]) and RecurrentWrapper (holding the cell as `memory_cell`), so the trained model's state_dict is
`memory_cell.memory`, `memory_cell.model.transformer.*` (HF GPT-2 names, Conv1D weights [in, out]) and the
LM head `memory_cell.model.lm_head.weight`, which shares wte's storage. Saved through accelerate
(`save_model`, safetensors since accelerate 0.25) the shared head is removed and the file's metadata is
{"format": "pt"}; above a shard size the weights are split into `model-0000i-of-0000n.safetensors` with
`model.safetensors.index.json` ({"metadata": {"total_size"}, "weight_map": name -> file}). Older
transformers versions also saved each block's attention buffers: `attn.bias` (the causal mask, bool
[1, 1, n_positions, n_positions]) and `attn.masked_bias` (a scalar). A `module.` prefix appears when the
wrapper was saved from inside DistributedDataParallel. config.json is GPT2Config's, written by
`config.save_pretrained`; the tokenizer is `tokenizer.json` or `vocab.json` + `merges.txt`.

`write_checkpoint` writes such a folder from reference weights (rmt_ref names); `small_bpe` builds a small
byte-level BPE tokenizer (GPT-2's byte-to-unicode alphabet, merges learned from a text) so tests need no
downloaded vocabulary. The safetensors writer here handles the bool and scalar buffers that
safetensors_io.py's float writer does not.
"""

import json
import os
import struct
from collections import Counter

import numpy as np
import torch

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
_CODES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.bool: "BOOL",
          torch.uint8: "U8", torch.int64: "I64", torch.float64: "F64"}


def tensor_bytes(value):
    """(dtype code, shape, little-endian bytes) of a torch tensor, exactly as safetensors stores it."""
    value = value.detach().contiguous().cpu()
    code = _CODES[value.dtype]
    if value.dtype == torch.bfloat16:
        raw = value.view(torch.int16).numpy().astype("<i2").tobytes()
    elif value.dtype == torch.bool:
        raw = value.numpy().astype(np.uint8).tobytes()
    else:
        raw = value.numpy().astype(value.numpy().dtype.newbyteorder("<")).tobytes()
    return code, list(value.shape), raw


def save_safetensors(path, tensors, metadata):
    """Writes `tensors` (name -> torch tensor of any dtype above) in order, with `metadata`."""
    header, chunks, offset = {"__metadata__": metadata}, [], 0
    for name, value in tensors.items():
        code, shape, raw = tensor_bytes(value)
        header[name] = {"dtype": code, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)


def gpt2_config(config):
    """The config.json GPT2Config.save_pretrained writes for the RMT's backbone (rmt_ref config keys)."""
    return {
        "_name_or_path": "gpt2", "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": 0.1, "bos_token_id": config["vocab_size"] - 1, "embd_pdrop": 0.1,
        "eos_token_id": config["vocab_size"] - 1, "initializer_range": 0.02, "layer_norm_epsilon": 1e-05,
        "model_type": "gpt2", "n_ctx": config["n_positions"], "n_embd": config["d_model"],
        "n_head": config["n_heads"], "n_inner": None if config["d_ff"] == 4 * config["d_model"] else config["d_ff"],
        "n_layer": config["n_layers"], "n_positions": config["n_positions"], "reorder_and_upcast_attn": False,
        "resid_pdrop": 0.1, "scale_attn_by_inverse_layer_idx": False, "scale_attn_weights": True,
        "summary_activation": None, "summary_first_dropout": 0.1, "summary_proj_to_labels": True,
        "summary_type": "cls_index", "summary_use_proj": True,
        "task_specific_params": {"text-generation": {"do_sample": True, "max_length": 50}},
        "torch_dtype": "float32", "transformers_version": "4.36.2", "use_cache": True,
        "vocab_size": config["vocab_size"],
    }


def state_dict(weights, n_positions, lm_head="tied", buffers=False, prefix=""):
    """RecurrentWrapper(MemoryCell(GPT2LMHeadModel)).state_dict() for reference weights (rmt_ref names), in the
    order PyTorch lists it (a module's own parameters before its children's).

    lm_head: "tied" (present, wte's storage), "absent" (as accelerate's safetensors save leaves it) or
    "untied" (a different head). buffers: the attn.bias / attn.masked_bias buffers of older transformers.
    """
    state = {prefix + "memory_cell.memory": weights["memory"]}
    causal = torch.tril(torch.ones(n_positions, n_positions, dtype=torch.bool)).view(1, 1, n_positions, n_positions)
    for name, value in weights.items():
        if name == "memory":
            continue
        state[prefix + "memory_cell.model." + name] = value
        if buffers and name.endswith(".ln_1.bias"):
            block = name[:-len(".ln_1.bias")]
            state[f"{prefix}memory_cell.model.{block}.attn.bias"] = causal
            state[f"{prefix}memory_cell.model.{block}.attn.masked_bias"] = torch.tensor(-1e4)
    wte = state[prefix + "memory_cell.model.transformer.wte.weight"]
    if lm_head == "tied":
        state[prefix + "memory_cell.model.lm_head.weight"] = wte
    elif lm_head == "untied":
        state[prefix + "memory_cell.model.lm_head.weight"] = wte + 0.25
    return state


def rounded(weights, dtype):
    """The weights as stored in `dtype` ("F32", "F16", "BF16"), and their values back in float32."""
    stored = {k: v.to(DTYPES[dtype]) for k, v in weights.items()}
    return stored, {k: v.to(torch.float32) for k, v in stored.items()}


def write_checkpoint(folder, config, stored, lm_head="absent", buffers=False, prefix="", shards=1,
                     tokenizer=None, vocab_merges=None):
    """Writes a checkpoint folder: config.json, the weights (one model.safetensors, or `shards` files and the
    index), and the tokenizer (`tokenizer` as tokenizer.json text, or `vocab_merges` = (vocab.json text,
    merges.txt text)). `stored` are the weights in their storage dtype."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w", encoding="utf-8") as f:
        json.dump(gpt2_config(config), f, indent=2, sort_keys=True)
    state = state_dict(stored, config["n_positions"], lm_head=lm_head, buffers=buffers, prefix=prefix)
    meta = {"format": "pt"}
    if shards == 1:
        save_safetensors(os.path.join(folder, "model.safetensors"), state, meta)
    else:
        names = list(state)
        per = -(-len(names) // shards)
        weight_map, total = {}, 0
        for i in range(shards):
            file = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
            part = {n: state[n] for n in names[i * per:(i + 1) * per]}
            save_safetensors(os.path.join(folder, file), part, meta)
            for n, v in part.items():
                weight_map[n] = file
                total += v.numel() * v.element_size()
        with open(os.path.join(folder, "model.safetensors.index.json"), "w", encoding="utf-8") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    if tokenizer is not None:
        with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as f:
            f.write(tokenizer)
    if vocab_merges is not None:
        with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
            f.write(vocab_merges[0])
        with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
            f.write(vocab_merges[1])


def byte_alphabet():
    """GPT-2's byte -> printable character map (printable Latin-1 bytes stand for themselves; the other 68
    bytes take the code points from 256 on, in byte order)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def small_bpe(text, n_merges):
    """A byte-level BPE tokenizer learned from `text` (bytes): the 256 byte tokens and `n_merges` merges of the
    most frequent adjacent pair within space-led words. Returns (vocab: token -> id, merges: [(a, b)])."""
    alpha = byte_alphabet()
    vocab = {alpha[b]: b for b in range(256)}
    words = Counter()
    for i, word in enumerate(text.split(b" ")):
        if word:
            words[tuple(alpha[b] for b in ((b" " if i else b"") + word))] += 1
    merges = []
    while len(merges) < n_merges:
        pairs = Counter()
        for word, count in words.items():
            for a, b in zip(word, word[1:]):
                pairs[(a, b)] += count
        if not pairs:
            break
        (a, b), _ = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        if a + b in vocab:  # would repeat a token: stop rather than make an ambiguous vocabulary
            break
        merges.append((a, b))
        vocab[a + b] = len(vocab)
        merged = Counter()
        for word, count in words.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and word[i] == a and word[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] += count
        words = merged
    return vocab, merges


def tokenizer_json(vocab, merges):
    """Hugging Face tokenizer.json text of a GPT-2-style byte-level BPE tokenizer."""
    return json.dumps({
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                  "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges]},
    }, ensure_ascii=False)


def vocab_merges_files(vocab, merges):
    """(vocab.json text, merges.txt text) of the same tokenizer, as GPT-2 ships encoder.json and vocab.bpe."""
    return (json.dumps(vocab, ensure_ascii=False),
            "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
