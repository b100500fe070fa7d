#!/usr/bin/env python3
"""`memscope-cli causal` end to end.

reference   On the copy demo, for the shipped copy Memformer and RMT, every ΔNLL(s, t) stored by `causal` for
            the replacements initial, zeros, permute, skip and knockout (slot 3) equals the float64 PyTorch
            reference run with the memory after s replaced (tests/reference/causal_ref.py) within 2e-3 nats per
            token. The C core computes in f32: per-token NLLs of up to about 20 nats carry rounding of a few
            1e-6 relative, and replaying through up to eight segments compounds it; 2e-3 is far below the
            effects measured (nats) and far above that rounding.
views       The views from what `causal` stored, checked against the recording's own rows: the causal CSV holds
            each stored ΔNLL(s, t) at row s, column t; causal-slots each slot's mean over the horizon of its
            knockout row; forgetting the mean over sources of ΔNLL at each t − s, one series per replacement;
            the NLL view the reset-memory baseline (the mean of each reset_memory row) and the mean NLL of the
            tokens the copy task scores (answer segments only). `export --view all` writes the causal views only
            for a run that has them; a run without gets an error naming the command that computes them.
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


def read_csv(path):
    import csv
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def num(text):
    return float(text) if text != "" else None


def case_views(a):
    text = os.path.join(a.inputs, "copy-demo.txt")
    model = os.path.join(a.models, "copy-memformer.safetensors")
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "c.sqlite")
        for _ in range(2):
            assert cli(a.cli, "record", model, text, "--recording", db).returncode == 0
        for replace in ("initial", "skip", "knockout"):
            r = cli(a.cli, "causal", db, "--run", "1", "--replace", replace, "--horizon", "6")
            assert r.returncode == 0, r.stderr
        out = os.path.join(tmp, "v.csv")
        # causal: row s, column t
        for replace in ("initial", "skip"):
            r = cli(a.cli, "export", db, "--run", "1", "--view", "causal", "--replace", replace, "--out", out)
            assert r.returncode == 0, r.stderr
            header, rows = read_csv(out)
            assert header[1:] == [str(t) for t in range(12)], header
            want = stored(db, 1, replace)
            for s, deltas in want.items():
                row = rows[s]
                assert row[0] == str(s)
                for k, d in enumerate(deltas):
                    t = s + 1 + k
                    if t < 12:
                        got = num(row[1 + t])
                        assert (got is None) == (d != d) and (got is None or abs(got - d) < 1e-6), (replace, s, t)
                assert all(num(row[1 + t]) is None for t in range(12) if t <= s or t > s + 6), (replace, s, row)
        # causal-slots: mean of each knockout row over its horizon
        r = cli(a.cli, "export", db, "--run", "1", "--view", "causal-slots", "--out", out)
        assert r.returncode == 0, r.stderr
        header, rows = read_csv(out)
        for slot in range(16):
            want = stored(db, 1, "knockout", slot)
            for s, deltas in want.items():
                vals = [d for d in deltas if d == d]
                got = num(rows[slot][1 + s])
                assert abs(got - sum(vals) / len(vals)) < 1e-5, (slot, s, got)
        # forgetting: per replacement, the mean over sources at each lag
        r = cli(a.cli, "export", db, "--run", "1", "--view", "forgetting", "--out", out)
        assert r.returncode == 0, r.stderr
        header, rows = read_csv(out)
        assert header == ["segments after the source (t − s)", "initial", "knockout", "skip"], header
        for col, replace in ((1, "initial"), (3, "skip")):
            want = stored(db, 1, replace)
            for lag in range(1, 7):
                vals = [d[lag - 1] for d in want.values() if d[lag - 1] == d[lag - 1]]
                got = num(rows[lag - 1][col])
                assert abs(got - sum(vals) / len(vals)) < 1e-5, (replace, lag, got)
        # nll: the baseline and the answer tokens
        r = cli(a.cli, "export", db, "--run", "1", "--view", "nll", "--out", out)
        assert r.returncode == 0, r.stderr
        header, rows = read_csv(out)
        assert header == ["segment", "mean NLL", "memory reset at every segment", "tokens the copy task scores"], header
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
            base = dict(c.execute("SELECT segment, total_nll / n_predicted FROM reset_memory WHERE run_id = 1 "
                                  "AND n_predicted > 0"))
        for t, row in enumerate(rows):
            if t in base:
                assert abs(num(row[2]) - base[t]) < 1e-4, (t, row, base[t])
            answer = t % 6 in (4, 5)
            assert (num(row[3]) is not None) == answer, (t, row)
            if answer:   # every token of an answer segment is scored
                assert abs(num(row[3]) - num(row[1])) < 1e-5, (t, row)
        # run 2 has none: --view all leaves the causal views out, --view causal says how to compute them
        r = cli(a.cli, "export", db, "--run", "2", "--view", "all", "--out", os.path.join(tmp, "all.csv"))
        assert r.returncode == 0, r.stderr
        made = sorted(os.listdir(tmp))
        assert "all-retention.csv" in made and not any(v in m for m in made for v in ("causal", "forgetting")), made
        r = cli(a.cli, "export", db, "--run", "2", "--view", "causal", "--out", out)
        assert r.returncode == 1 and "memscope-cli causal" in r.stderr and db in r.stderr, r.stderr
        r = cli(a.cli, "export", db, "--run", "1", "--view", "all", "--out", os.path.join(tmp, "one.csv"))
        assert r.returncode == 0, r.stderr
        made = sorted(os.listdir(tmp))
        assert {"one-causal.csv", "one-causal-slots.csv", "one-forgetting.csv"} <= set(made), made
        print("ok: causal views, the NLL view's series, --view all")


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
    {"reference": case_reference, "cli": case_cli, "views": case_views}[case](a)


if __name__ == "__main__":
    main()
