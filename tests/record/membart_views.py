#!/usr/bin/env python3
"""MemBART through the recording, the views, the comparison, causal retention and the export, against the
float64 reference (tests/reference/membart_ref.py, causal_ref.py).

gate        The recording stores MemBART's gate α per slot and segment (schema 7), and the `gate` view and its
            CSV show it: on the membart fixture they equal the reference's α within 1e-5 (f32 against float64
            through two encoder layers of width 32), and the Python module's Run.gate() reads the same numbers.
            Known answers: the same model with the gate's output bias (encoder.memory_gate_net.dense2.bias)
            at +40 has α = 1 to f32 rounding (every slot rewritten from the layers' output) and at −40 α < 1e-15
            (the memory kept as LN_mem(M_t + b)), and then M_{t+1} is the reference's LN_mem(M_t + b) within
            1e-5. A Memformer and an RMT run store no gate: their gate view has no data, is left out of
            `export --view all` and is refused alone with a message naming the file and the view.
views       The membart fixture recorded beside the memformer and rmt_causal fixtures on the same input, with
            causal retention (initial, knockout) computed: `export --view all` draws every view of the table as
            PNG and writes every view as CSV; retention is the reference's last-layer own-slot share (mean over
            heads) within 1e-5; each stored ΔNLL(s, t) equals the reference replayed with the memory after s
            replaced within 2e-3 nats per token (causal.py's tolerance); `compare` draws MemBART against the
            Memformer and against RMT for every view the two runs share (write attention only against the
            Memformer: RMT's write rows have no own-slot column, and the refusal says so), and its CSV carries
            MemBART's own retention.

usage: membart_views.py CLI FIXTURES_DIR CASE
"""
import argparse
import csv
import math
import os
import sqlite3
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "..", "reference")
sys.path[:0] = [REFERENCE, os.path.join(HERE, "..", "..", "app", "python")]
import causal_ref  # noqa: E402
import memscope  # noqa: E402
from memscope_file import load_model  # noqa: E402
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402

GATE_TOLERANCE = 1e-5
CAUSAL_TOLERANCE = 2e-3


def cli(binary, *args):
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=600)


def ok(res, what):
    assert res.returncode == 0, f"{what}: exit {res.returncode}: {res.stderr}"
    return res


def input_file(tmp, n_bytes=200):
    path = os.path.join(tmp, "input.txt")
    with open(path, "wb") as f:
        f.write(bytes((i * 7919 + i // 13) % 256 for i in range(n_bytes)))
    return path


def csv_matrix(path):
    """A heatmap CSV as (column names, {row name: [float or NaN]})."""
    with open(path, encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0][1:], {r[0]: [float(x) if x else math.nan for x in r[1:]] for r in rows[1:]}


def reference_records(model_path, tokens):
    arch, _, model = load_model(model_path)
    assert arch == "membart"
    return model, model.run_session(tokens)


def export_csv(binary, db, run, view, tmp, *extra):
    out = os.path.join(tmp, f"{view}-{run}.csv")
    ok(cli(binary, "export", db, "--run", str(run), "--view", view, "--out", out, *extra), f"export {view} run {run}")
    return csv_matrix(out)


def check_gate_view(binary, db, run, tmp, want):
    """The gate CSV of @run against @want [S, K]; returns the largest difference."""
    cols, rows = export_csv(binary, db, run, "gate", tmp)
    S, K = want.shape
    assert len(cols) == S and len(rows) == K, (len(cols), len(rows), S, K)
    got = np.array([rows[str(i)] for i in range(K)]).T
    return float(np.max(np.abs(got - want)))


def case_gate(a):
    fixture = os.path.join(a.fixtures, "membart.safetensors")
    with tempfile.TemporaryDirectory() as tmp:
        text = input_file(tmp)
        tokens = list(open(text, "rb").read())
        tensors, metadata = read_safetensors(fixture)
        models = {"fixture": fixture}
        for name, bias in (("open", 40.0), ("closed", -40.0)):
            changed = dict(tensors)
            changed["encoder.memory_gate_net.dense2.bias"] = np.full((1,), bias, dtype=np.float32)
            models[name] = os.path.join(tmp, f"membart-{name}.safetensors")
            write_safetensors(models[name], changed, metadata)
        db = os.path.join(tmp, "r.sqlite")
        for run, name in enumerate(("fixture", "open", "closed"), start=1):
            ok(cli(a.cli, "record", models[name], text, "--recording", db), f"record {name}")
            model, records = reference_records(models[name], tokens)
            want = torch.stack([r["gate"] for r in records]).numpy()
            worst = check_gate_view(a.cli, db, run, tmp, want)
            assert worst <= GATE_TOLERANCE, f"{name}: gate view differs from the reference by {worst:.3g}"
            with memscope.open(db) as rec:
                stored = rec.run(run).gate()
            assert np.max(np.abs(stored - want)) <= GATE_TOLERANCE, f"{name}: Run.gate() {stored} vs {want}"
            if name == "open":
                assert np.all(stored == 1.0), stored
            elif name == "closed":
                assert np.all(stored < 1e-15), stored
                # α = 0: the memory after each segment is LN_mem(M_t + b), whatever the tokens
                with memscope.open(db) as rec:
                    states = rec.run(run).memory()
                for t, r in enumerate(records):
                    kept = model.memory_start(torch.as_tensor(states[t], dtype=torch.float64)).numpy()
                    assert np.max(np.abs(states[t + 1] - kept)) <= 1e-5, t
            print(f"ok gate {name}: α in [{want.min():.3g}, {want.max():.3g}], view within {worst:.2g} of the "
                  "reference")

        # engines without a gate: no data, left out of --view all, refused alone
        for run, fixture_name in ((4, "memformer"), (5, "rmt_causal")):
            ok(cli(a.cli, "record", os.path.join(a.fixtures, fixture_name + ".safetensors"), text, "--recording",
                   db), f"record {fixture_name}")
            res = cli(a.cli, "export", db, "--run", str(run), "--view", "gate", "--out", os.path.join(tmp, "g.csv"))
            assert res.returncode == 1 and "gate" in res.stderr and db in res.stderr, (res.returncode, res.stderr)
            ok(cli(a.cli, "export", db, "--run", str(run), "--view", "all", "--out",
                   os.path.join(tmp, f"all{run}.csv")), "export --view all")
            assert not os.path.exists(os.path.join(tmp, f"all{run}-gate.csv"))
        print("ok gate: Memformer and RMT runs have no gate view")


def case_views(a):
    with tempfile.TemporaryDirectory() as tmp:
        text = input_file(tmp, 160)
        tokens = list(open(text, "rb").read())
        db = os.path.join(tmp, "r.sqlite")
        for name in ("membart", "memformer", "rmt_causal"):
            ok(cli(a.cli, "record", os.path.join(a.fixtures, name + ".safetensors"), text, "--recording", db),
               f"record {name}")
        for replace in ("initial", "knockout"):
            ok(cli(a.cli, "causal", db, "--run", "1", "--horizon", "3", "--replace", replace), f"causal {replace}")

        # every view, as figures and as numbers
        res = ok(cli(a.cli, "export", "--help"), "export --help")
        names = res.stdout.split("One of: ")[1].split(" (export")[0].split(", ")
        assert "gate" in names and len(names) >= 15, names
        for ext in ("png", "csv"):
            ok(cli(a.cli, "export", db, "--run", "1", "--view", "all", "--out", os.path.join(tmp, f"mb.{ext}")),
               f"export --view all .{ext}")
            drawn = sorted(f[3:-4] for f in os.listdir(tmp) if f.startswith("mb-") and f.endswith("." + ext))
            assert drawn == sorted(names), f".{ext}: drew {drawn}, the views are {sorted(names)}"

        # retention: the last encoder layer's own-slot share, mean over heads
        model, records = reference_records(os.path.join(a.fixtures, "membart.safetensors"), tokens)
        cols, rows = export_csv(a.cli, db, 1, "retention", tmp)
        K = model.cfg["memory_len"]
        want = np.array([r["membart_write"][-1][:, :, 0].mean(0).numpy() for r in records])
        got = np.array([rows[str(i)] for i in range(K)]).T
        worst = float(np.max(np.abs(got - want)))
        assert worst <= GATE_TOLERANCE, f"retention differs from the reference by {worst:.3g}"

        # causal retention against the reference replayed
        original = causal_ref.segment_nlls("membart", model, tokens)
        compared, causal_worst = 0, 0.0
        for name, slot, replace in (("initial", -1, causal_ref.REPLACEMENTS["initial"]),
                                    ("knockout", 2, causal_ref.knockout(2))):
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
                stored = c.execute("SELECT source, horizon, delta_nll FROM causal WHERE run_id = 1 AND replacement = ?"
                                   " AND slot = ?", (name, slot)).fetchall()
            assert stored, name
            for s, h, blob in stored:
                replaced = causal_ref.segment_nlls("membart", model, tokens, after=s, replace=replace)
                for k, delta in enumerate(struct.unpack(f"<{h}f", blob)):
                    t = s + 1 + k
                    if t >= len(original) or original[t] is None:
                        assert math.isnan(delta), (name, s, t, delta)
                        continue
                    causal_worst = max(causal_worst, abs(delta - (replaced[t] - original[t])))
                    compared += 1
        assert compared > 0 and causal_worst <= CAUSAL_TOLERANCE, (compared, causal_worst)

        # the comparison with the paper Memformer and with RMT
        shared = [n for n in names if n not in ("causal", "causal-slots", "forgetting", "gate")]
        drawn = 0
        for other in (2, 3):
            for view in shared:
                out = os.path.join(tmp, f"cmp-{other}-{view}.svg")
                res = cli(a.cli, "compare", db, "--runs", f"1,{other}", "--view", view, "--out", out)
                if other == 3 and view == "write":
                    # RMT's write rows have no own-slot column to line up with MemBART's: refused, saying so
                    assert res.returncode == 1 and "run B has no self" in res.stderr, (view, res.stderr)
                    continue
                assert res.returncode == 0, (other, view, res.stderr)
                drawn += 1
            # the numbers of a comparison are each run's own
            out = os.path.join(tmp, f"cmp-{other}-retention.csv")
            ok(cli(a.cli, "compare", db, "--runs", f"1,{other}", "--view", "retention", "--out", out),
               "compare retention .csv")
            with open(out, encoding="utf-8") as f:
                table = list(csv.reader(f))
            mine = [[float(x) if x else math.nan for x in row[2:2 + len(cols)]] for row in table[1:]
                    if row[0] == table[1][0]]
            assert np.allclose(np.array(mine).T, got, rtol=0, atol=1e-7, equal_nan=True), (other, mine)
        print(f"ok views: {len(names)} views drawn and exported, retention within {worst:.2g}, {compared} ΔNLL "
              f"within {causal_worst:.2g} of the reference, {drawn} comparisons with the Memformer and RMT")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("cli")
    parser.add_argument("fixtures")
    parser.add_argument("case", choices=("gate", "views"))
    a = parser.parse_args()
    {"gate": case_gate, "views": case_views}[a.case](a)


if __name__ == "__main__":
    main()
