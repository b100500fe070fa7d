#!/usr/bin/env python3
"""A Python stand-in for Memscope's C parity checker, with the same command line: MODEL EXPECTED.

It recomputes the expected-file tensors from the model file with the reference running in float32 (as the C
core does) and compares them with EXPECTED: every tensor present with the same shape, NaN exactly where NaN
is expected, elsewhere |actual - expected| <= 1e-4 + 1e-4 |expected|. Exit 0 on a match, 1 otherwise. It
exists to test the plumbing of test_convert_rmt.py and live_parity.py (and the fixtures themselves) before
or apart from the C checker: `live_parity.py --parity tests/reference/ref_parity.py ...`.
"""

import sys

import torch

from memscope_file import compare_expected, load_model, session_tensors
from safetensors_io import read_safetensors


def main(argv):
    if len(argv) != 3:
        print("usage: ref_parity.py MODEL EXPECTED", file=sys.stderr)
        return 2
    model_path, expected_path = argv[1], argv[2]
    try:
        expected, _ = read_safetensors(expected_path)
        arch, _, model = load_model(model_path, torch.float32)
        tokens = [int(t) for t in expected["tokens"]]
        actual = session_tensors(arch, model.run_session(tokens))
    except (OSError, ValueError, KeyError) as err:
        print(f"ref_parity: {err}", file=sys.stderr)
        return 1
    problems = compare_expected(expected, {k: v.numpy() for k, v in actual.items()})
    for problem in problems[:20]:
        print(f"ref_parity: {model_path}: {problem}", file=sys.stderr)
    print(f"ref_parity: {model_path} vs {expected_path}: "
          f"{'MISMATCH' if problems else 'match'} ({len(expected)} tensors)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
