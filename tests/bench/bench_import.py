#!/usr/bin/env python3
"""`memscope-cli import` at the GPT-2-small shape: time, peak RSS, and the imported model against the reference.

`bench_import.py --cli MEMSCOPE_CLI --parity PARITY --workdir DIR [--dtype F32|BF16] [--shards N]` writes a
GPT-2-small RMT checkpoint folder exactly as booydar/recurrent-memory-transformer and accelerate save it
(tests/reference/hf_checkpoint.py: d 768, 12 heads, 12 layers, d_ff 3072, 16 memory tokens, n_positions
1024, vocab 50,257 with a synthetic byte-level BPE tokenizer.json; random weights as make_bench_models.py
draws them for gpt2-rmt; the tied head absent), imports it with `--segment-len 512` under /usr/bin/time (wall
seconds, peak RSS), and checks the imported model with the parity checker against the float64 reference on
two segments of pseudo-random token ids: every observation within 1e-4 absolute (`parity_abs_1e-4`; the
random model's logits reach ±30, so this can miss by a little), and the NLL's worst absolute error divided by
the smallest reference NLL, a bound on its relative error (`nll_rel_err_bound`, to hold under 1e-4). Prints
one JSON line. Not a test: it takes a few minutes and a few GB of disk.
"""

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import hf_checkpoint as hf  # noqa: E402
import rmt_ref  # noqa: E402
from make_bench_models import BENCH_MODELS, bench_std, synthetic_bpe_tokenizer  # noqa: E402
from memscope_file import session_tensors, write_expected  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cli", required=True)
    p.add_argument("--parity", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--dtype", choices=("F32", "F16", "BF16"), default="F32")
    p.add_argument("--shards", type=int, default=1)
    a = p.parse_args()
    os.makedirs(a.workdir, exist_ok=True)

    _, config, seed = BENCH_MODELS["gpt2-rmt"]
    config = rmt_ref.full_config(config)
    weights = rmt_ref.init_weights(config, torch.Generator().manual_seed(seed), bench_std("rmt", config))
    stored, values = hf.rounded(weights, a.dtype)
    del weights
    folder = os.path.join(a.workdir, f"gpt2-rmt-{a.dtype}-{a.shards}")
    shutil.rmtree(folder, ignore_errors=True)
    hf.write_checkpoint(folder, config, stored, lm_head="absent", shards=a.shards,
                        tokenizer=synthetic_bpe_tokenizer(config["vocab_size"]))
    del stored
    checkpoint_bytes = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))

    out = os.path.join(a.workdir, "gpt2-rmt-imported.safetensors")
    start = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-v", a.cli, "import", folder, "--out", out, "--segment-len",
                        str(config["segment_len"])], capture_output=True, text=True)
    wall = time.monotonic() - start
    if r.returncode != 0:
        print(r.stdout + r.stderr, file=sys.stderr)
        return 1
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))

    rng = random.Random(seed)
    ids = [rng.randrange(config["vocab_size"]) for _ in range(2 * config["segment_len"])]
    model = rmt_ref.RMT(config, values, dtype=torch.float64)
    records = model.run_session(ids)
    expected = os.path.join(a.workdir, "gpt2-rmt-imported.expected.safetensors")
    write_expected(expected, session_tensors("rmt", records), {"fixture.arch": "rmt", "fixture.nll_unit": "nats"})
    check = subprocess.run([a.parity, out, expected], capture_output=True, text=True)
    print(check.stdout + check.stderr, end="", file=sys.stderr)
    nll_err = re.search(r"nll\s+max \|core − reference\| = (\S+)", check.stdout)
    smallest = min(float(x) for rec in records for x in rec["nll"] if x == x)
    print(json.dumps({"bench": "import", "dtype": a.dtype, "shards": a.shards, "checkpoint_bytes": checkpoint_bytes,
                      "output_bytes": os.path.getsize(out), "wall_s": round(wall, 2),
                      "peak_rss_mb": round(rss_kb / 1024, 1), "parity_abs_1e-4": check.returncode == 0,
                      "nll_max_abs_err": float(nll_err.group(1)) if nll_err else None,
                      "nll_rel_err_bound": float(nll_err.group(1)) / smallest if nll_err else None}))
    return 0 if nll_err and float(nll_err.group(1)) / smallest <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
