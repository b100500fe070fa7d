#!/usr/bin/env python3
"""End-to-end test of app/memscope-convert.py and of the C core on a converted checkpoint.

It builds a random reference RMT, saves it with torch.save exactly as booydar/recurrent-memory-transformer's
RecurrentWrapper state_dict looks (memory_cell.model.transformer.*, memory_cell.memory, the tied
memory_cell.model.lm_head.weight and the HF attn.bias / attn.masked_bias buffers), runs the converter on a
plain and on a wrapped ({"model_state_dict": ...}) checkpoint, checks every converted tensor equals the
original bit for bit and the config was inferred right, writes the reference's expected output for a
multi-segment input, and runs the C parity checker `PATH MODEL EXPECTED` (exit 0 = match). It also checks
the converter refuses an untied LM head, a missing key, an unknown key, a LoRA key, a pickle that
weights_only=True cannot load and a .safetensors input (for `memscope-cli import`) with exit status 1 and a
message naming the key or saying what to do. Exits non-zero if anything fails.

Usage: test_convert_rmt.py --parity PATH --workdir DIR
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch

import rmt_ref
from memscope_file import load_model, session_tensors, write_expected
from safetensors_io import read_safetensors

HERE = os.path.dirname(os.path.abspath(__file__))
CONVERTER = os.path.join(HERE, "..", "..", "app", "memscope-convert.py")
CONFIG = {"vocab_size": 256, "d_model": 32, "n_heads": 4, "n_layers": 2, "d_ff": 96, "n_mem": 5,
          "segment_len": 7, "n_positions": 24, "mask": "blocks"}
INPUT = "Convert, then compare: ümlauts & ß too.".encode("utf-8")  # 41 bytes: segments 7,7,7,7,7,6


def parity_command(path):
    """The command that runs a parity checker; Python stand-ins run under this interpreter."""
    return [sys.executable, path] if path.endswith(".py") else [path]


def booydar_state_dict(weights, n_positions):
    """A state_dict keyed like RecurrentWrapper(MemoryCell(GPT2LMHeadModel)) with weights from `weights`."""
    state = {"memory_cell.memory": weights["memory"].clone()}
    causal = torch.tril(torch.ones(n_positions, n_positions, dtype=torch.bool)).view(1, 1, n_positions,
                                                                                     n_positions)
    for name, value in weights.items():
        if name == "memory":
            continue
        state["memory_cell.model." + name] = value.clone()
        if name.endswith(".ln_1.weight"):  # one pair of buffers per block, as older transformers saved them
            block = name[:-len(".ln_1.weight")]
            state[f"memory_cell.model.{block}.attn.bias"] = causal.clone()
            state[f"memory_cell.model.{block}.attn.masked_bias"] = torch.tensor(-1e4)
    # Tied: the same storage as wte, as HF's state_dict() reports it.
    state["memory_cell.model.lm_head.weight"] = state["memory_cell.model.transformer.wte.weight"]
    return state


class Run:
    """Collects step results and prints them as they happen."""

    def __init__(self):
        self.failures = []

    def step(self, ok, what):
        print(f"{'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            self.failures.append(what)
        return ok


def convert(in_path, out_path, extra=()):
    cmd = [sys.executable, CONVERTER, in_path, out_path,
           "--n-heads", str(CONFIG["n_heads"]), "--segment-len", str(CONFIG["segment_len"]),
           "--mask", CONFIG["mask"], *extra]
    return subprocess.run(cmd, capture_output=True, text=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parity", required=True, help="parity checker executable: PATH MODEL EXPECTED")
    parser.add_argument("--workdir", required=True, help="directory for the generated files")
    parser.add_argument("--seed", type=int, default=4321)
    args = parser.parse_args(argv)
    os.makedirs(args.workdir, exist_ok=True)
    run = Run()

    weights = rmt_ref.init_weights(CONFIG, torch.Generator().manual_seed(args.seed))
    state = booydar_state_dict(weights, CONFIG["n_positions"])
    plain_pt = os.path.join(args.workdir, "booydar_rmt.pt")
    wrapped_pt = os.path.join(args.workdir, "booydar_rmt_wrapped.pt")
    torch.save(state, plain_pt)
    torch.save({"model_state_dict": state, "epoch": 3}, wrapped_pt)
    print(f"saved booydar-style checkpoints ({len(state)} keys, seed {args.seed}) to {plain_pt}, {wrapped_pt}")

    model_path = os.path.join(args.workdir, "converted_rmt.safetensors")
    for pt, out in ((wrapped_pt, model_path + ".wrapped"), (plain_pt, model_path)):
        result = convert(pt, out)
        if not run.step(result.returncode == 0, f"memscope-convert.py {os.path.basename(pt)}"):
            print(result.stdout + result.stderr)
            return 1
        tensors, metadata = read_safetensors(out)
        run.step(set(tensors) == set(weights), "converted file holds exactly the RMT tensors")
        run.step(all(np.array_equal(tensors[k], weights[k].numpy()) for k in weights if k in tensors),
                 "converted tensors equal the originals bit for bit")
        run.step(json.loads(metadata.get("memscope.config", "{}")) == CONFIG, "inferred config matches")
        run.step(metadata.get("memscope.arch") == "rmt" and metadata.get("memscope.format") == "1",
                 "metadata names format 1, arch rmt")

    # Reference output for the converted model, then the C parity checker on it.
    expected_path = os.path.join(args.workdir, "converted_rmt.expected.safetensors")
    arch, _, model = load_model(model_path)
    write_expected(expected_path, session_tensors(arch, model.run_session(list(INPUT))),
                   {"fixture.seed": str(args.seed), "fixture.model": os.path.basename(model_path),
                    "fixture.arch": arch, "fixture.nll_unit": "nats"})
    print(f"wrote {expected_path} for a {len(INPUT)}-token input")
    result = subprocess.run(parity_command(args.parity) + [model_path, expected_path], capture_output=True,
                            text=True)
    print(result.stdout + result.stderr, end="")
    run.step(result.returncode == 0, f"parity checker {args.parity} on the converted model")

    # The converter must refuse what it cannot represent, naming the key.
    bad_cases = {
        "untied": ("lm_head", lambda s: s.__setitem__("memory_cell.model.lm_head.weight",
                                                      s["memory_cell.model.lm_head.weight"] + 0.5)),
        "missing": ("transformer.h.1.mlp.c_proj.bias",
                    lambda s: s.pop("memory_cell.model.transformer.h.1.mlp.c_proj.bias")),
        "unknown": ("memory_cell.extra.gate", lambda s: s.__setitem__("memory_cell.extra.gate", torch.ones(3))),
        "shape": ("transformer.h.0.attn.c_attn.weight",
                  lambda s: s.__setitem__("memory_cell.model.transformer.h.0.attn.c_attn.weight",
                                          torch.zeros(3 * CONFIG["d_model"], CONFIG["d_model"]))),
        "lora": ("LoRA", lambda s: s.__setitem__(
            "memory_cell.model.transformer.h.0.attn.c_attn.lora_A.default.weight", torch.zeros(4, CONFIG["d_model"]))),
    }
    for label, (key, damage) in bad_cases.items():
        broken = dict(state)
        damage(broken)
        pt = os.path.join(args.workdir, f"booydar_rmt_{label}.pt")
        torch.save(broken, pt)
        result = convert(pt, os.path.join(args.workdir, f"bad_{label}.safetensors"))
        run.step(result.returncode == 1 and key in result.stderr and pt in result.stderr,
                 f"converter rejects the {label} checkpoint naming {key!r}: {result.stderr.strip()}")

    # What weights_only=True cannot load, and .safetensors, get a message saying what to do instead.
    pickled = os.path.join(args.workdir, "booydar_rmt_trainer.pt")
    torch.save({"model_state_dict": state, "trainer": Run()}, pickled)
    result = convert(pickled, os.path.join(args.workdir, "bad_trainer.safetensors"))
    run.step(result.returncode == 1 and "weights_only=True" in result.stderr and "state_dict()" in result.stderr,
             f"converter explains a pickle holding Python objects: {result.stderr.strip()}")
    result = convert(model_path, os.path.join(args.workdir, "bad_input.safetensors"))
    run.step(result.returncode == 1 and "memscope-cli import" in result.stderr,
             f"converter sends a .safetensors input to memscope-cli import: {result.stderr.strip()}")

    print("test_convert_rmt:", f"{len(run.failures)} FAILED" if run.failures else "all passed")
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
