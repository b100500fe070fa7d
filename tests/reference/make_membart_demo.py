#!/usr/bin/env python3
"""Writes the shipped MemBART demo, resources/models/demo-membart-untrained.safetensors: a small MemBART with
random weights (untrained), made the way a user gets a MemBART into Memscope.

The public code's training (qywu/memformers) needs TorchFly and Hugging Face transformers, neither of which
can be installed here, and no trained checkpoint can be downloaded; so the demo is a randomly initialised
model, written as `MemBartForConditionalGeneration.save_pretrained` lays a folder out (config.json with
MemBartConfig's keys, model.safetensors under `model.`, final_logits_bias) and converted by
`memscope-cli import --tokenizer bytes`. Its memory, attention and gate are those of random weights: it shows
what the views draw for MemBART, not what a trained MemBART remembers.

usage: make_membart_demo.py --cli MEMSCOPE_CLI [--seed S] [--out FILE]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch

import hf_checkpoint as hf
import membart_ref

CONFIG = {"vocab_size": 256, "d_model": 64, "encoder_layers": 2, "decoder_layers": 2,
          "encoder_attention_heads": 4, "decoder_attention_heads": 4, "encoder_ffn_dim": 128,
          "decoder_ffn_dim": 128, "memory_len": 8, "max_position_embeddings": 32, "activation_function": "gelu",
          "scale_embedding": False, "bos_token_id": 0}
SEGMENT_LEN = 32


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cli", required=True, help="memscope-cli")
    p.add_argument("--seed", type=int, default=1234)
    here = os.path.dirname(os.path.abspath(__file__))
    p.add_argument("--out", default=os.path.join(here, "..", "..", "resources", "models",
                                                  "demo-membart-untrained.safetensors"))
    args = p.parse_args(argv)
    cfg = dict(CONFIG, segment_len=SEGMENT_LEN)
    weights = membart_ref.init_weights(cfg, torch.Generator().manual_seed(args.seed))
    with tempfile.TemporaryDirectory() as tmp:
        folder = os.path.join(tmp, f"membart-untrained-random-seed{args.seed}")
        os.makedirs(folder)
        hf_config = dict(CONFIG, model_type="bart", architectures=["MemBartForConditionalGeneration"],
                         pad_token_id=1, eos_token_id=2, decoder_start_token_id=2, is_encoder_decoder=True)
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(hf_config, f, indent=2)
        stored = {(k if k == "final_logits_bias" else "model." + k): v.half() for k, v in weights.items()}
        hf.save_safetensors(os.path.join(folder, "model.safetensors"), stored, {"format": "pt"})
        res = subprocess.run([args.cli, "import", folder, "--out", args.out, "--segment-len", str(SEGMENT_LEN),
                              "--tokenizer", "bytes"], capture_output=True, text=True)
        sys.stdout.write(res.stdout)
        sys.stderr.write(res.stderr)
        return res.returncode


if __name__ == "__main__":
    sys.exit(main())
