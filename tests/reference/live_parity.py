#!/usr/bin/env python3
"""Checks the C core against freshly generated random fixtures, so parity does not rest on one seed.

It picks a seed (time-based unless --seed is given, and prints it so a failure can be reproduced), runs
make_fixtures.py with that seed into DIR (moving on to the next seed, up to MAX_SEEDS in all, when
make_fixtures says the seed's random models would not exercise one of its checks), then runs the C
parity checker `PATH MODEL EXPECTED` (exit 0 = match) on every model/expected pair. Exits non-zero if generation or any comparison fails.

Usage: live_parity.py --parity PATH --workdir DIR [--seed S]
"""

import argparse
import os
import subprocess
import sys
import time

from make_fixtures import FIXTURE_MODELS, WEAK_SEED_EXIT

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_SEEDS = 10


def parity_command(path):
    """The command that runs a parity checker; Python stand-ins run under this interpreter."""
    return [sys.executable, path] if path.endswith(".py") else [path]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parity", required=True, help="parity checker executable: PATH MODEL EXPECTED")
    parser.add_argument("--workdir", required=True, help="directory for the generated fixtures")
    parser.add_argument("--seed", type=int, help="fixture seed (default: derived from the time)")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else int(time.time() * 1000) % 1_000_000
    print(f"live_parity: seed {seed} (rerun with --seed {seed})")

    for _ in range(MAX_SEEDS):
        generate = [sys.executable, os.path.join(HERE, "make_fixtures.py"), "--seed", str(seed), "--out",
                    args.workdir]
        print("$", " ".join(generate))
        code = subprocess.run(generate).returncode
        if code != WEAK_SEED_EXIT:
            break
        seed += 1
        print(f"live_parity: those models would not exercise every check; seed {seed} (rerun with --seed {seed})")
    if code != 0:
        print(f"live_parity: FAILED to generate fixtures with seed {seed}", file=sys.stderr)
        return 1

    failed = []
    for name in FIXTURE_MODELS:
        model = os.path.join(args.workdir, f"{name}.safetensors")
        expected = os.path.join(args.workdir, f"{name}.expected.safetensors")
        cmd = parity_command(args.parity) + [model, expected]
        print("$", " ".join(cmd))
        code = subprocess.run(cmd).returncode
        print(f"{'ok  ' if code == 0 else 'FAIL'} {name} (exit {code})")
        if code != 0:
            failed.append(name)
    print(f"live_parity: seed {seed}:", f"{len(failed)} FAILED ({', '.join(failed)})" if failed else "all match")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
