#!/usr/bin/env python3
"""`memscope-cli causal` end to end.

reference   On the copy demo, for the shipped copy Memformer and RMT, every ΔNLL(s, t) stored by `causal` for
            the replacements initial, zeros, permute, skip and knockout (slot 3) equals the float64 PyTorch
            reference run with the memory after s replaced (tests/reference/causal_ref.py) within 2e-3 nats per
            token. The C core computes in f32: per-token NLLs of up to about 20 nats carry rounding of a few
            1e-6 relative, and replaying through up to eight segments compounds it; 2e-3 is far below the
            effects measured (nats) and far above that rounding.
cli         Usage errors exit 2; a missing run or recording exits 1 naming the file; --json reports what was
            computed; a second call computes nothing; --max-sources computes in pieces.

usage: causal.py CLI MODELS_DIR INPUTS_DIR REFERENCE_DIR CASE
"""
import json
import os
import sqlite3
import struct
import subprocess
import sys
import tempfile

TOLERANCE = 2e-3


def cli(binary, *args):
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=600)


def stored(db, run, replacement, slot=-1):
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        rows = c.execute("SELECT source, horizon, delta_nll FROM causal WHERE run_id = ? AND replacement = ? AND "
                         "slot = ? ORDER BY source", (run, replacement, slot)).fetchall()
    return {s: struct.unpack(f"<{h}f", blob) for s, h, blob in rows}


def case_reference(a):
    sys.path.insert(0, a.reference)
    from memscope_file import load_model
    import causal_ref
    text = os.path.join(a.inputs, "copy-demo.txt")
    tokens = list(open(text, "rb").read())
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "c.sqlite")
        for run, arch in enumerate(("memformer", "rmt"), start=1):
            path = os.path.join(a.models, f"copy-{arch}.safetensors")
            r = cli(a.cli, "record", path, text, "--recording", db)
            assert r.returncode == 0, r.stderr
            _, _, model = load_model(path)
            original = causal_ref.segment_nlls(arch, model, tokens)
            cases = [(name, -1, causal_ref.REPLACEMENTS[name]) for name in ("initial", "zeros", "permute", "skip")]
            cases.append(("knockout", 3, causal_ref.knockout(3)))
            worst, compared = 0.0, 0
            for name, slot, replace in cases:
                r = cli(a.cli, "causal", db, "--run", str(run), "--replace", name, "--horizon", "8")
                assert r.returncode == 0, r.stderr
                rows = stored(db, run, name, slot)
                assert sorted(rows) == list(range(len(original) - 1)), (name, sorted(rows))
                for s, deltas in rows.items():
                    replaced = causal_ref.segment_nlls(arch, model, tokens, s, replace)
                    for k, got in enumerate(deltas):
                        t = s + 1 + k
                        if t >= len(original) or original[t] is None:
                            assert got != got, f"{arch} {name} ({s}, {t}): {got} where NaN was expected"
                            continue
                        want = replaced[t] - original[t]
                        assert abs(got - want) <= TOLERANCE, \
                            f"{arch} {name} slot {slot}: ΔNLL({s}, {t}) = {got:.6f}, reference {want:.6f}"
                        worst = max(worst, abs(got - want))
                        compared += 1
            print(f"ok: copy-{arch}: {compared} ΔNLL values within {worst:.2g} of the float64 reference")


def case_cli(a):
    text = os.path.join(a.inputs, "copy-demo.txt")
    model = os.path.join(a.models, "copy-rmt.safetensors")
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "c.sqlite")
        r = cli(a.cli, "record", model, text, "--recording", db)
        assert r.returncode == 0, r.stderr
        for bad in (["--run", "1", "--replace", "nothing"], ["--run", "0"], ["--run", "1", "--horizon", "0"],
                    ["--run", "1", "--horizon", "100000"], [], ["--run", "1", "--max-sources", "-1"]):
            r = cli(a.cli, "causal", db, *bad)
            assert r.returncode == 2, (bad, r.returncode, r.stderr)
        r = cli(a.cli, "causal", db, "--run", "7")
        assert r.returncode == 1 and db in r.stderr, r.stderr
        missing = os.path.join(tmp, "missing.sqlite")
        r = cli(a.cli, "causal", missing, "--run", "1")
        assert r.returncode == 1 and missing in r.stderr and not os.path.exists(missing), r.stderr
        r = cli(a.cli, "causal", db, "--run", "1", "--max-sources", "4", "--json")
        assert r.returncode == 0, r.stderr
        got = json.loads(r.stdout)
        assert (got["sources_computed"], got["sources_left"], got["reset_memory_segments"], got["task_input"]) \
            == (4, 7, 12, True), got
        r = cli(a.cli, "causal", db, "--run", "1", "--json")
        got = json.loads(r.stdout)
        assert (got["sources_computed"], got["sources_stored"], got["sources_left"]) == (7, 4, 0), got
        r = cli(a.cli, "causal", db, "--run", "1", "--json")
        got = json.loads(r.stdout)
        assert (got["sources_computed"], got["segments_replayed"]) == (0, 0), got
        # the recording is left one shareable file
        assert not os.path.exists(db + "-wal"), os.listdir(tmp)
        print("ok: causal usage, errors, pieces")


def main():
    class A:
        pass
    a = A()
    a.cli, a.models, a.inputs, a.reference, case = sys.argv[1:6]
    {"reference": case_reference, "cli": case_cli}[case](a)


if __name__ == "__main__":
    main()
