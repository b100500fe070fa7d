#!/usr/bin/env python3
"""Writes the seeds of fuzz-import (tests/fuzz/import-seeds/): tiny GPT-2 RMT checkpoints as the public RMT code
and accelerate save them (tests/reference/hf_checkpoint.py), in fuzz-import.c's input format — config.json,
SEPARATOR, the weights[, SEPARATOR, the index]. Vocabulary 256 (the fuzzer imports with the bytes tokenizer),
d 8, 2 heads, 1 layer, d_ff 32, 2 memory tokens, n_positions 12, F16; and `membart`, a MemBART of qywu/memformers
as save_pretrained writes it (model_type bart, memory_len 2, 1 + 1 layers, max_position_embeddings 6, the tied
encoder/decoder embed_tokens present). Run with /usr/bin/python3 (torch)."""

import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))

import torch  # noqa: E402

import hf_checkpoint as hf  # noqa: E402
import membart_ref  # noqa: E402
import rmt_ref  # noqa: E402

SEPARATOR = b"\n\xff\xff\n"
CONFIG = {"vocab_size": 256, "d_model": 8, "n_heads": 2, "n_layers": 1, "d_ff": 32, "n_mem": 2, "segment_len": 4,
          "n_positions": 12, "mask": "causal"}
MEMBART = {"vocab_size": 256, "d_model": 8, "encoder_attention_heads": 2, "decoder_attention_heads": 2,
           "encoder_layers": 1, "decoder_layers": 1, "encoder_ffn_dim": 16, "decoder_ffn_dim": 16, "memory_len": 2,
           "max_position_embeddings": 6, "segment_len": 4}


def membart_seed():
    """config.json + SEPARATOR + model.safetensors of a tiny MemBART checkpoint."""
    w = membart_ref.init_weights(MEMBART, torch.Generator().manual_seed(5))
    tensors = {(k if k == "final_logits_bias" else "model." + k): v.half() for k, v in w.items()}
    for side in ("encoder", "decoder"):
        tensors[f"model.{side}.embed_tokens.weight"] = tensors["model.shared.weight"].clone()
    config = {k: v for k, v in MEMBART.items() if k != "segment_len"}
    config.update(model_type="bart", architectures=["MemBartForConditionalGeneration"], bos_token_id=0)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.safetensors")
        hf.save_safetensors(path, tensors, {"format": "pt"})
        return json.dumps(config).encode() + SEPARATOR + open(path, "rb").read()


def main():
    out = os.path.join(HERE, "import-seeds")
    os.makedirs(out, exist_ok=True)
    stored, _ = hf.rounded(rmt_ref.init_weights(CONFIG, torch.Generator().manual_seed(5)), "F16")
    for name, kwargs in (("single", dict(lm_head="tied", buffers=True, prefix="module.")),
                         ("sharded", dict(lm_head="absent", shards=2))):
        with tempfile.TemporaryDirectory() as folder:
            hf.write_checkpoint(folder, CONFIG, stored, **kwargs)
            parts = [open(os.path.join(folder, "config.json"), "rb").read()]
            if kwargs.get("shards", 1) == 1:
                parts.append(open(os.path.join(folder, "model.safetensors"), "rb").read())
            else:
                # fuzz-import writes one shard: merge both shards' tensors into it and point the index at it.
                tensors = hf.state_dict(stored, CONFIG["n_positions"], lm_head=kwargs["lm_head"])
                shard = os.path.join(folder, "merged.safetensors")
                hf.save_safetensors(shard, tensors, {"format": "pt"})
                parts.append(open(shard, "rb").read())
                index = {"metadata": {"total_size": 0},
                         "weight_map": {n: "model-00001-of-00001.safetensors" for n in tensors}}
                parts.append(json.dumps(index).encode())
        with open(os.path.join(out, name), "wb") as f:
            f.write(SEPARATOR.join(parts))
    with open(os.path.join(out, "membart"), "wb") as f:
        f.write(membart_seed())
    return 0


if __name__ == "__main__":
    sys.exit(main())
