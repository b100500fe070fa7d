#!/usr/bin/env python3
"""Writes the seeds of fuzz-import (tests/fuzz/import-seeds/): tiny GPT-2 RMT checkpoints as the public RMT code
and accelerate save them (tests/reference/hf_checkpoint.py), in fuzz-import.c's input format — config.json,
SEPARATOR, the weights[, SEPARATOR, the index]. Vocabulary 256 (the fuzzer imports with the bytes tokenizer),
d 8, 2 heads, 1 layer, d_ff 32, 2 memory tokens, n_positions 12, F16. Run with /usr/bin/python3 (torch)."""

import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))

import torch  # noqa: E402

import hf_checkpoint as hf  # noqa: E402
import rmt_ref  # noqa: E402

SEPARATOR = b"\n\xff\xff\n"
CONFIG = {"vocab_size": 256, "d_model": 8, "n_heads": 2, "n_layers": 1, "d_ff": 32, "n_mem": 2, "segment_len": 4,
          "n_positions": 12, "mask": "causal"}


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
    return 0


if __name__ == "__main__":
    sys.exit(main())
