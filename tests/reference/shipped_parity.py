#!/usr/bin/env python3
"""C parity on a shipped trained model: the float64 reference steps MODEL over the first --segments segments of
TEXT (byte tokens), writes the expected file, and the C parity checker (tests/core/parity.c) must match it
within its 1e-4. The fixtures test the engines on random weights; this tests them on the weights a user opens
(trained attention is sharper, and the memory of a trained model is what the figures show).

usage: shipped_parity.py --parity BIN --model FILE --text FILE [--segments N] --workdir DIR
Exit 0 when the C core matches; the parity checker's report is printed either way.
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
from memscope_file import load_model, session_tensors, write_expected  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parity", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--text", required=True)
    ap.add_argument("--segments", type=int, default=24)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    _, meta = read_safetensors(a.model)
    config = json.loads(meta["memscope.config"])
    if config["vocab_size"] != 256:
        sys.exit(f"shipped_parity.py: {a.model} is not a byte-level model (vocab_size {config['vocab_size']})")
    with open(a.text, "rb") as f:
        tokens = list(f.read(a.segments * config["segment_len"]))
    arch, _, model = load_model(a.model, torch.float64)
    with torch.no_grad():
        expected = session_tensors(arch, model.run_session(tokens))
    os.makedirs(a.workdir, exist_ok=True)
    path = os.path.join(a.workdir, os.path.basename(a.model).replace(".safetensors", ".expected.safetensors"))
    write_expected(path, expected, {"fixture.model": os.path.basename(a.model), "fixture.arch": arch,
                                    "fixture.nll_unit": "nats"})
    r = subprocess.run([a.parity, a.model, path])
    sys.exit(r.returncode)


if __name__ == "__main__":
    main()
