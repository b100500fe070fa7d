#!/usr/bin/env python3
"""The shipped language models (resources/models/text-*) and what their memory is worth, by the C core.

Cases (usage: text_models.py CASE --cli BIN --models DIR --inputs DIR):

memory_helps      `memscope-cli run` gives lower bits per byte than `run --reset-memory` for each model of
                  MODELS, the Memformer and the RMTs alike, on held-out text the models never saw: over the whole
                  of resources/inputs/text-demo.txt by at least the model's total margin; at each segment index 1
                  to 7, pooled over the starts of the 37 held-out documents (held-out-starts.json: one document's
                  segment is a few bytes, a heading's line of asterisks, and says little alone), by at least its
                  index margin; and in each bin [8, 16), [16, 32), ... of the demo text (as in the README's
                  figure) by at least its bin margin. Where the memory cannot differ the two runs must agree
                  (within 1e-6): segment 0 (M_0 either way) and the Memformer's segment 1 (decoded from segment
                  0's encoding, which read M_0 either way). The models' memscope.source names the trainer, the
                  corpus and the steps.
import_reproduces `memscope-cli import` of the shipped Hugging Face-style folder text-rmt-bpe/ (written by
                  the trainer) gives, byte for byte, the shipped text-rmt-bpe.safetensors.
"""

import argparse
import filecmp
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

# model -> (total margin, index margin, bin margin): how many bits per byte the memory must save over the whole
# demo text, at each of the segment indices 1-7 pooled over the held-out documents' starts, and in each bin of
# the demo text from 8 on. Set below what the shipped models measure (README, "What the memory is worth") and
# far above the run-to-run noise of the C core, which is none: the numbers are deterministic.
MODELS = {"text-memformer": (0.3, 0.05, 0.15), "text-rmt": (0.5, 0.1, 0.2), "text-rmt-bpe": (0.2, 0.1, 0.1)}


def check(cond, message):
    if not cond:
        print("FAIL:", message)
        sys.exit(1)


def run(*args):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True)


def metadata(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n))["__metadata__"]


def bin_of(index):
    """Indices 0-7 stand alone; from 8 on, powers-of-two bins [8, 16), [16, 32), ... named by their start."""
    return index if index < 8 else 1 << (index.bit_length() - 1)


def bits_by_bin(cli, model, text, reset):
    """{bin: (bits, bytes)} over the predicted tokens of each segment, and the totals."""
    r = run(cli, "run", model, text, "--json", *(["--reset-memory"] if reset else []))
    check(r.returncode == 0, f"memscope-cli run {model}: {r.stderr}")
    out = {}
    for seg in json.loads(r.stdout)["segments"]:
        if not seg["n_predicted"]:
            continue
        tokens = seg["tokens"]
        unpredicted = tokens[:len(tokens) - seg["n_predicted"]]
        n_bytes = seg["byte_end"] - seg["byte_begin"] - sum(t["end"] - t["start"] for t in unpredicted)
        b = bin_of(seg["segment"])
        bits, count = out.get(b, (0.0, 0))
        out[b] = (bits + seg["mean_nll"] * seg["n_predicted"] / math.log(2), count + n_bytes)
    return out


def add(into, bins):
    for b, (bits, n) in bins.items():
        cell = into.get(b, (0.0, 0))
        into[b] = (cell[0] + bits, cell[1] + n)


def starts_by_index(cli, model, starts, work, reset):
    """{index: (bits, bytes)} for the segment indices 0-7, pooled over the held-out documents' starts."""
    out = {}
    for k, doc in enumerate(starts):
        path = os.path.join(work, f"start-{k}.txt")
        with open(path, "wb") as f:
            f.write(doc["text"].encode("utf-8"))
        add(out, {b: v for b, v in bits_by_bin(cli, model, path, reset).items() if b < 8})
    return out


def memory_helps(a):
    text = os.path.join(a.inputs, "text-demo.txt")
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "held-out-starts.json"), encoding="utf-8") as f:
        starts = json.load(f)["documents"]
    check(len(starts) == 37, f"held-out-starts.json holds {len(starts)} documents, not the 37 held out")
    work = tempfile.TemporaryDirectory()
    for name, (total_margin, index_margin, bin_margin) in MODELS.items():
        path = os.path.join(a.models, name + ".safetensors")
        check(os.path.exists(path), f"{path} is missing")
        source = metadata(path)["memscope.source"]
        if name.endswith("bpe"):
            check("memscope-cli import" in source, f"{name}: memscope.source does not name the import: {source}")
        else:
            for word in ("train_lm.py", "--steps", "python3.11-doc"):
                check(word in source, f"{name}: memscope.source lacks {word!r}: {source}")
        memory, reset = bits_by_bin(a.cli, path, text, False), bits_by_bin(a.cli, path, text, True)
        total = [sum(v[0] for v in d.values()) / sum(v[1] for v in d.values()) for d in (memory, reset)]
        # indices 0-7 from the documents' starts, the bins from 8 on from the demo text
        memory = {**starts_by_index(a.cli, path, starts, work.name, False), **{b: v for b, v in memory.items() if b >= 8}}
        reset = {**starts_by_index(a.cli, path, starts, work.name, True), **{b: v for b, v in reset.items() if b >= 8}}
        print(f"{name}: {total[0]:.4f} bits per byte with the memory, {total[1]:.4f} reset")
        check(total[1] - total[0] >= total_margin,
              f"{name}: the memory gains {total[1] - total[0]:.4f} bits per byte, less than {total_margin}")
        arch = metadata(path)["memscope.arch"]
        same = {0, 1} if arch == "memformer" else {0}
        check(set(memory) == set(reset) and len(memory) > 8, f"{name}: the runs cover segment indices "
              f"{sorted(memory)} and {sorted(reset)}")
        for b in sorted(memory):
            m, r = memory[b][0] / memory[b][1], reset[b][0] / reset[b][1]
            print(f"  segment {b}{'' if b < 8 else f'-{2 * b - 1}'}: {m:.4f} vs {r:.4f}")
            if b in same:   # the memory is M_0 either way
                check(abs(m - r) <= 1e-6, f"{name}: segment {b}: {m!r} bits per byte with the memory, {r!r} "
                                          "reset, where the memory is M_0 in both runs")
                continue
            margin = index_margin if b < 8 else bin_margin
            check(r - m >= margin, f"{name}: segment {b}{'' if b < 8 else f'-{2 * b - 1}'}: {m:.4f} bits "
                                   f"per byte with the memory, {r:.4f} reset: less than {margin} apart")


def import_reproduces(a):
    folder = os.path.join(a.models, "text-rmt-bpe")
    shipped = os.path.join(a.models, "text-rmt-bpe.safetensors")
    config = json.loads(metadata(shipped)["memscope.config"])
    with tempfile.TemporaryDirectory() as work:
        out = os.path.join(work, "text-rmt-bpe.safetensors")
        r = run(a.cli, "import", folder, "--out", out, "--segment-len", config["segment_len"],
                "--mask", config["mask"])
        check(r.returncode == 0, f"memscope-cli import {folder}: {r.stderr}")
        check(filecmp.cmp(out, shipped, shallow=False), f"importing {folder} does not give {shipped}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case", choices=("memory_helps", "import_reproduces"))
    ap.add_argument("--cli", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--inputs", required=True)
    a = ap.parse_args()
    globals()[a.case](a)
    print("ok")


if __name__ == "__main__":
    main()
