#!/usr/bin/env python3
"""Writes the random Memscope model files the benchmarks run on.

`make_bench_models.py --out DIR [--force] [--only NAME ...]` writes four untrained F32 models, drawn with the
reference's random initialisation (tests/reference: memformer_ref.init_weights / rmt_ref.init_weights) and
written with its model-file writer (memscope_file.write_model):

  small-memformer   d 128, 4 heads, d_ff 512, 4 encoder + 4 decoder layers, K 16, L 64, vocab 256
  small-rmt         d 128, 4 heads, d_ff 512, 4 layers, m 16, L 64, vocab 256, causal mask, n_positions 96
  paper-memformer   d 512, 8 heads, d_ff 2048, 4 encoder + 8 decoder layers, K 32, L 128, vocab 256
  paper-rmt         d 512, 8 heads, d_ff 2048, 12 layers, m 32, L 128, vocab 256, causal mask, n_positions 192
  gpt2-rmt          GPT-2 small: d 768, 12 heads, d_ff 3072, 12 layers, m 16, L 512, vocab 50,257, causal mask,
                    n_positions 1024 (the babilong setting), with a byte-level BPE tokenizer of 50,257 ids
                    embedded (synthetic merges: GPT-2's own vocabulary is not needed to time token ids)

`--only gpt2-rmt` writes only that one (498 MB, about a minute); run_bench.sh --gpt2 makes and times it.

The reference's INIT_STD is tuned for its tiny fixtures (d 32, d_ff 64 or 128, 2 layers): sharp attention
that catches index errors. At d 512 and 12 layers those gains make a network whose float32 and float64 runs
disagree by many nats (the reference's own float32 run is off by up to 18 nats on paper-rmt), so no float32
cross-check would mean anything. The benchmark models therefore scale every fan-in-d weight's std by
sqrt(32 / d) and every fan-in-d_ff weight's by sqrt(d_ff_fixture / d_ff) (the usual 1/sqrt(fan-in) rule,
anchored at the fixture sizes); float32 then stays within ~1e-4 nats of float64. Speed does not depend on it.

A file that already exists with the same architecture and configuration is kept (the paper models are a few
hundred MB), unless --force. The files are benchmark inputs only: write them to a build or tmp directory and
never commit them. Run with Debian's /usr/bin/python3 (torch + numpy).
"""

import argparse
import json
import math
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))

import torch  # noqa: E402

import memformer_ref  # noqa: E402
import rmt_ref  # noqa: E402
from memscope_file import model_metadata, write_model  # noqa: E402
from safetensors_io import write_safetensors  # noqa: E402

SMALL = {"vocab_size": 256, "d_model": 128, "n_heads": 4, "d_ff": 512, "segment_len": 64}
PAPER = {"vocab_size": 256, "d_model": 512, "n_heads": 8, "d_ff": 2048, "segment_len": 128}
GPT2_SMALL = {"vocab_size": 50257, "d_model": 768, "n_heads": 12, "d_ff": 3072, "segment_len": 512}

# name -> (arch, config, torch.Generator seed)
BENCH_MODELS = {
    "small-memformer": ("memformer", dict(SMALL, n_enc_layers=4, n_dec_layers=4, n_slots=16,
                                          writer_temperature=0.5, tie_embeddings=True), 9101),
    "small-rmt": ("rmt", dict(SMALL, n_layers=4, n_mem=16, n_positions=2 * 16 + 64, mask="causal"), 9102),
    "paper-memformer": ("memformer", dict(PAPER, n_enc_layers=4, n_dec_layers=8, n_slots=32,
                                          writer_temperature=0.5, tie_embeddings=True), 9103),
    "paper-rmt": ("rmt", dict(PAPER, n_layers=12, n_mem=32, n_positions=2 * 32 + 128, mask="causal"), 9104),
    "gpt2-rmt": ("rmt", dict(GPT2_SMALL, n_layers=12, n_mem=16, n_positions=1024, mask="causal"), 9105),
}
# The models run_bench.sh times by default; gpt2-rmt on request (--gpt2).
DEFAULT_MODELS = ("small-memformer", "small-rmt", "paper-memformer", "paper-rmt")

MODULES = {"memformer": memformer_ref, "rmt": rmt_ref}

# INIT_STD keys of weights whose fan-in is d_model, and of those whose fan-in is d_ff, per architecture, with
# the d_ff of the reference fixtures the stds were tuned on (tests/reference/make_fixtures.py).
FAN_IN_D = {"memformer": ("qk", "mem_qk", "writer_k", "vo", "fc1"), "rmt": ("qk", "vo", "fc")}
FAN_IN_FF = {"memformer": ("fc2", 64), "rmt": ("proj", 128)}
FIXTURE_D = 32


def bench_std(arch, config):
    """The reference INIT_STD, scaled by 1/sqrt(fan-in) from the fixture sizes to `config`'s."""
    std = dict(MODULES[arch].INIT_STD)
    for key in FAN_IN_D[arch]:
        std[key] *= math.sqrt(FIXTURE_D / config["d_model"])
    key, fixture_ff = FAN_IN_FF[arch]
    std[key] *= math.sqrt(fixture_ff / config["d_ff"])
    return std


def stored_arch_config(path):
    """(arch, config dict, source) from a model file's header, or None when it is missing or unreadable."""
    try:
        with open(path, "rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            if length > 100 << 20:
                return None
            meta = json.loads(f.read(length).decode("utf-8")).get("__metadata__", {})
        return (meta.get("memscope.arch"), json.loads(meta.get("memscope.config", "null")),
                meta.get("memscope.source"))
    except (OSError, ValueError, struct.error):
        return None


def byte_alphabet():
    """GPT-2's byte -> character map: printable bytes stand for themselves, the others for 256, 257, …"""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


def synthetic_bpe_tokenizer(vocab_size):
    """A byte-level BPE tokenizer.json (GPT-2's layout) with `vocab_size` ids: the 256 byte tokens, then
    pairs of byte tokens merged in a fixed order, the last id <|endoftext|>.  Valid for the loader; its
    merges mean nothing (the benchmark feeds token ids, not text)."""
    alphabet = [byte_alphabet()[b] for b in range(256)]
    vocab = {c: i for i, c in enumerate(alphabet)}
    merges = []
    pairs = ((a, b) for a in alphabet for b in alphabet)
    while len(vocab) < vocab_size - 1:
        a, b = next(pairs)
        merges.append(f"{a} {b}")
        vocab[a + b] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    return json.dumps({
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": vocab_size - 1, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": True, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                  "vocab": vocab, "merges": merges},
    }, ensure_ascii=False)


def make_model(out_dir, name, force=False):
    """Writes DIR/{name}.safetensors unless a file made the same way is there; returns a description."""
    arch, config, seed = BENCH_MODELS[name]
    module = MODULES[arch]
    config = module.full_config(config)
    path = os.path.join(out_dir, f"{name}.safetensors")
    std = bench_std(arch, config)
    source = (f"tests/bench/make_bench_models.py: random untrained benchmark model '{name}' "
              f"(reference init_weights, torch.Generator seed {seed}, std {json.dumps(std, sort_keys=True)})")
    if not force and stored_arch_config(path) == (arch, json.loads(json.dumps(config)), source):
        return f"{path}: up to date"
    generator = torch.Generator().manual_seed(seed)
    weights = module.init_weights(config, generator, std)
    n_params = sum(int(w.numel()) for w in weights.values())
    tmp = path + ".tmp"
    if config["vocab_size"] == 256:
        write_model(tmp, arch, config, weights, source, dtype="F32")
    else:
        metadata = model_metadata(arch, config, source)
        metadata["memscope.tokenizer"] = synthetic_bpe_tokenizer(config["vocab_size"])
        write_safetensors(tmp, {n: weights[n] for n in module.tensor_shapes(config)}, metadata, dtype="F32")
    os.replace(tmp, path)
    return f"{path}: {arch}, {n_params} parameters, {os.path.getsize(path)} bytes"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="directory for the model files (created if missing)")
    parser.add_argument("--force", action="store_true", help="rewrite files that are already up to date")
    parser.add_argument("--only", nargs="+", choices=sorted(BENCH_MODELS), help="write only these models")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    for name in args.only or DEFAULT_MODELS:
        print(make_model(args.out, name, args.force), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
