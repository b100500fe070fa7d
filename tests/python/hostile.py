#!/usr/bin/env python3
"""Hostile recordings read by the memscope Python module (app/python/memscope).

A recording is a file from elsewhere: whatever it holds, every method of a
Run either returns what its docstring promises or raises a MemscopeError
naming the file.  Never another exception (IndexError, struct.error, a numpy
shape or broadcast error, MemoryError), never an allocation sized by a number
in the file before the bytes behind it were checked (this test runs under an
address-space limit, RLIMIT_AS, of ADDRESS_SPACE bytes), never a value no
writer stores passed on as data.

- `targeted`: one mutant per rule, each refused with a MemscopeError naming
  the file and the table: a causal horizon of 2^40, -1 and text (sized an
  array before it was checked), f32 retention inf and 4, f16 read usage inf
  and -2, a transfer entry of 1e30 and rows summing to 5.4, a total NLL inf,
  -5 and 1e308 (its mean overflows a float32), a reset-memory total NLL inf,
  a per-token NLL -1, a causal delta NLL inf and a delta accuracy 3, a
  stored attention weight inf and 2, a byte_begin of 2^63 - 1 (its byte
  ranges wrapped to negative int64) and a configuration claiming 8192 x
  32768 memory values (sized a whole-run array before any state was read);
  and one more measured: a configuration claiming 8192 slots of width 1
  asked for its transfer is refused from the memory rows with at most
  TRANSFER_PEAK bytes allocated (an (S, 8192, 8192) array was sized first).
- `mutants`: the structure-aware mutants of tests/fuzz/mutate-recording.py
  (values, BLOB lengths, keys, rows and configurations changed through
  sqlite3) of a schema-8 recording made now and of the committed schema-6
  and -7 recordings, MUTANTS per seed (MEMSCOPE_PY_MUTANTS), each read
  through every method; whatever a method returns must have its documented
  shape and every value in its documented range; retention and NLL, when
  memscope-cli reads the same mutant too, must equal its CSV.

usage: hostile.py CLI FIXTURE_DIR MUTATE_PY CASE     CASE: targeted | mutants
"""
import importlib.util
import math
import os
import resource
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import tracemalloc

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "app", "python"))
import memscope  # noqa: E402

RECORDINGS = os.path.join(HERE, "..", "data", "recordings")
ADDRESS_SPACE = 3 << 30
MUTANTS = int(os.environ.get("MEMSCOPE_PY_MUTANTS", "16"))
SLACK = 1e-3   # memscope's RANGE_SLACK
TRANSFER_PEAK = 64 << 20


def cli(binary, *args, check=True):
    r = subprocess.run([binary, *args], capture_output=True, text=True, env=dict(os.environ, LC_ALL="C.UTF-8"),
                       errors="replace")
    if check:
        assert r.returncode == 0, f"{args}: {r.stderr}"
    return r


def base_recording(binary, fixtures, tmp):
    """Run 1: Memformer, f16 attention, causal retention (initial) and the reset-memory baseline; run 2: RMT,
    f32 attention; run 3: the BPE RMT, compact (token ids and byte ranges stored)."""
    text = os.path.join(tmp, "in.txt")
    with open(text, "wb") as f:
        f.write(b"".join(b"the %d memory slot keeps %d of what it read. " % (i, i * 7) for i in range(6)))
    db = os.path.join(tmp, "base.sqlite")
    for model, extra in (("memformer", ["--attn", "f16"]), ("rmt_blocks", ["--attn", "f32"]), ("rmt_bpe", [])):
        cli(binary, "record", os.path.join(fixtures, model + ".safetensors"), text, "--recording", db,
            "--max-segments", "6", *extra)
    cli(binary, "causal", db, "--run", "1", "--replace", "initial", "--horizon", "3")
    return db


def limit_address_space():
    """The rest of this process may map at most ADDRESS_SPACE bytes; children (memscope-cli, perhaps under
    ASan, which maps terabytes of shadow) get the limit lifted again."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, hard))
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


def every_read(run):
    """(name, thunk) for every read of @run the module offers, with the shape and range each result must
    have.  Compact runs' attention needs memscope-cli and is left to module.py."""
    S, K, d = run.segments_done, run.n_slots, run.d_model
    reads = [
        ("retention", run.retention, (S, K), (0, 1)),
        ("token_share", run.token_share, (S, K), (0, 1)),
        ("representation", run.representation, (S, K), (-1, 1)),
        ("read_usage", run.read_usage, (S, K), (0, run.config.get("segment_len", 0))),
        ("gate", run.gate, (S, K), (0, 1)),
        ("transfer", run.transfer, (S, K, K), (0, 1)),
        ("nll", run.nll, (S,), (0, math.inf)),
        ("reset_memory_nll", run.reset_memory_nll, (S,), (0, math.inf)),
        ("slot_types", run.slot_types, (S, 3), (0, 1)),
        ("memory", run.memory, (S + 1, K, d), None),
        ("similarity", run.similarity, (S, S), (-1, 1)),
        ("provenance", run.provenance, (S, S + 1), None),
        ("provenance h2", lambda: run.provenance(horizon=2), (S, 5), None),
        ("causal", lambda: run.causal("initial"), None, None),
    ]
    for t in sorted({0, S - 1}) if S else []:
        reads += [(f"text {t}", lambda t=t: run.text(t), None, None),
                  (f"tokens {t}", lambda t=t: run.tokens(t), None, None),
                  (f"token_nll {t}", lambda t=t: run.token_nll(t), None, (0, math.inf))]
        if run.attn != "none":
            for kind in ("read", "write"):
                reads.append((f"{kind} attention {t}", lambda t=t, kind=kind: run.attention(t, kind),
                              lambda t=t, kind=kind: run.attention_shape(t, kind), (0, 1)))
    return reads


def check_value(name, value, shape, bounds):
    """The problems of one result: its shape, and values outside @bounds (NaN allowed, inf never)."""
    if name == "causal":
        sources, dn, da = value
        if dn.shape != (len(sources), dn.shape[1] if dn.ndim == 2 else -1) or np.isinf(dn).any():
            return f"causal: delta_nll of shape {dn.shape} for {len(sources)} sources, or infinite"
        if da is not None and (da.shape != dn.shape or (np.abs(np.nan_to_num(da)) > 1 + SLACK).any()):
            return "causal: delta_accuracy outside [-1, 1]"
        return None
    if name.startswith("tokens"):
        ids, ranges = value
        if ranges.ndim != 2 or len(ranges) != len(ids) or (ranges < 0).any() or (ranges[:, 1] <= ranges[:, 0]).any():
            return f"{name}: byte ranges {ranges[:3].tolist()}… are not rising non-negative offsets"
        return None
    if name.startswith("text"):
        return None if isinstance(value, bytes) else f"{name}: not bytes"
    value = np.asarray(value)
    shape = shape() if callable(shape) else shape
    if shape is not None and value.shape != shape:
        return f"{name}: shape {value.shape} where {shape} was documented"
    if bounds is not None:
        lo, hi = bounds
        with np.errstate(invalid="ignore"):
            v = value.astype(np.float64)
            bad = np.isinf(v) | (v < lo - SLACK) | (v > hi + SLACK)
        if bad.any():
            return f"{name}: {v[bad][:3].tolist()} outside [{lo}, {hi}]"
    return None


def read_mutant(path, problems, label):
    """Every read of every run of @path: each returns a documented result or raises a MemscopeError naming
    @path.  Returns {(run, read): array} of what was read."""
    got = {}

    def attempt(what, thunk):
        try:
            return True, thunk()
        except memscope.MemscopeError as e:
            if path not in str(e):
                problems.append(f"{label}: {what}: the MemscopeError does not name the file: {e}")
        except Exception as e:   # noqa: BLE001 — the point of the test: nothing else may escape
            problems.append(f"{label}: {what}: {type(e).__name__}: {e}")
        return False, None

    ok, rec = attempt("open", lambda: memscope.open(path, cli="/nonexistent/memscope-cli"))
    if not ok:
        return got
    with rec:
        ok, runs = attempt("runs", rec.runs)
        ids = [r.id for r in runs] if ok else []
        for run_id in ids or [1, 2, 3]:
            ok, run = attempt(f"run {run_id}", lambda: rec.run(run_id))
            if not ok:
                continue
            for name, thunk, shape, bounds in every_read(run):
                ok, value = attempt(f"run {run_id} {name}", thunk)
                if ok:
                    wrong = check_value(name, value, shape, bounds)
                    if wrong:
                        problems.append(f"{label}: run {run_id} {wrong}")
                    got[(run_id, name)] = value
    return got


def refused(path, *needles, call):
    """@call(rec) on @path must raise a MemscopeError naming the file and each of @needles."""
    try:
        with memscope.open(path, cli="/nonexistent/memscope-cli") as rec:
            result = call(rec)
    except memscope.MemscopeError as e:
        missing = [n for n in (path,) + needles if n not in str(e)]
        return f"the message lacks {missing}: {e}" if missing else None
    except Exception as e:   # noqa: BLE001
        return f"{type(e).__name__}: {e}"
    return f"not refused; read {str(result)[:200]}"


def prefix(table, column, where, head, into=None):
    """An edit: each row of @table matching @where gets @column's BLOB with its first bytes replaced by @head,
    stored in @into (default @column)."""
    def edit(con):
        rows = con.execute(f"SELECT rowid, {column} FROM {table} WHERE {where}").fetchall()
        assert rows, f"no {table} row where {where}"
        for rowid, blob in rows:
            con.execute(f"UPDATE {table} SET {into or column} = ? WHERE rowid = ?", (head + blob[len(head):], rowid))
    return edit


def targeted(binary, fixtures, mutate):
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        good = base_recording(binary, fixtures, tmp)
        restore = limit_address_space()
        con = sqlite3.connect(good)
        K1 = con.execute("SELECT json_extract(config, '$.n_slots') FROM models WHERE id = 1").fetchone()[0]
        con.close()
        f32 = lambda *v: struct.pack(f"<{len(v)}f", *v)   # noqa: E731
        f16 = lambda *v: struct.pack(f"<{len(v)}e", *v)   # noqa: E731
        seg = lambda run, t: (run << 32) + t               # noqa: E731
        cases = [
            ("causal horizon 2^40", ["UPDATE causal SET horizon = 1 << 40"], lambda r: r.run(1).causal(), "causal"),
            ("causal horizon -1", ["UPDATE causal SET horizon = -1"], lambda r: r.run(1).causal(), "causal"),
            ("causal horizon text", ["UPDATE causal SET horizon = 'x'"], lambda r: r.run(1).causal(), "causal"),
            ("retention inf", [("UPDATE segments SET retention = ? WHERE id = ?", (f32(math.inf, *[0.5] * (K1 - 1)),
                                                                                  seg(1, 1)))],
             lambda r: r.run(1).retention(), "retention"),
            ("retention 4", [("UPDATE segments SET retention = ? WHERE id = ?", (f32(*[0.5] * (K1 - 1), 4.0),
                                                                                seg(1, 0)))],
             lambda r: r.run(1).retention(), "retention"),
            ("read usage f16 inf", [("UPDATE segments SET read_usage = ? WHERE id = ?",
                                     (f16(math.inf, *[0.5] * (K1 - 1)), seg(1, 2)))],
             lambda r: r.run(1).read_usage(), "read_usage"),
            ("read usage f16 -2", [("UPDATE segments SET read_usage = ? WHERE id = ?",
                                    (f16(-2.0, *[0.5] * (K1 - 1)), seg(1, 2)))],
             lambda r: r.run(1).read_usage(), "read_usage"),
            ("transfer 1e30", [("UPDATE memory SET transfer = ? WHERE id = ?",
                                (f32(1e30, *[0.0] * (K1 * K1 - 1)), seg(1, 0) + 1))],
             lambda r: r.run(1).transfer(), "transfer"),
            ("transfer rows sum 5.4", [("UPDATE memory SET transfer = ? WHERE id = ?",
                                        (f32(*[5.4 / K1] * (K1 * K1)), seg(1, 0) + 1))],
             lambda r: r.run(1).transfer(), "transfer"),
            ("total nll inf", [("UPDATE segments SET total_nll = ? WHERE id = ?", (math.inf, seg(1, 1)))],
             lambda r: r.run(1).nll(), "total_nll"),
            ("total nll 1e308", [("UPDATE segments SET total_nll = 1e308 WHERE id = ?", (seg(1, 1),))],
             lambda r: r.run(1).nll(), "total_nll"),
            ("total nll -5", [("UPDATE segments SET total_nll = -5 WHERE id = ?", (seg(1, 1),))],
             lambda r: r.run(1).nll(), "total_nll"),
            ("reset-memory total nll inf", [("UPDATE reset_memory SET total_nll = ? WHERE id = ?",
                                             (math.inf, seg(1, 0)))],
             lambda r: r.run(1).reset_memory_nll(), "reset_memory"),
            ("token nll -1", [prefix("segments", "nll", f"id = {seg(1, 0)}", f32(-1.0))],
             lambda r: r.run(1).token_nll(0), "nll"),
            ("causal delta nll inf", [prefix("causal", "delta_nll", "1", f32(math.inf))],
             lambda r: r.run(1).causal(), "delta_nll"),
            ("causal delta accuracy 3", [prefix("causal", "delta_nll", "1", f32(3.0), into="delta_accuracy")],
             lambda r: r.run(1).causal(), "delta_accuracy"),
            ("attention f16 inf", [prefix("attention", "data", "run_id = 1 AND segment = 0 AND kind = 'read'",
                                          f16(math.inf))],
             lambda r: r.run(1).attention(0, "read", layer=0), "attention"),
            ("attention f32 2", [prefix("attention", "data", "run_id = 2 AND segment = 1 AND kind = 'write'",
                                        f32(2.0))],
             lambda r: r.run(2).attention(1, "write"), "attention"),
            ("byte_begin 2^63 - 1", [("UPDATE segments SET byte_begin = ? WHERE id = ?", (2 ** 63 - 1, seg(3, 1)))],
             lambda r: r.run(3).tokens(1), "byte_begin"),
            ("memory 8192 x 32768", ["UPDATE models SET config = json_set(config, '$.n_slots', 8192, '$.d_model', "
                                     "32768) WHERE id = 1"],
             lambda r: r.run(1).memory(), "memory"),
        ]
        for name, edits, call, needle in cases:
            path = os.path.join(tmp, name.replace(" ", "_").replace("^", "") + ".sqlite")
            shutil.copy(good, path)
            con = sqlite3.connect(path)
            con.execute("PRAGMA ignore_check_constraints = ON")
            for edit in edits:
                if callable(edit):
                    edit(con)
                    continue
                sql, args = (edit, ()) if isinstance(edit, str) else edit
                assert con.execute(sql, args).rowcount >= 1, f"{name}: {sql} changed nothing"
            con.commit()
            con.close()
            wrong = refused(path, needle, call=call)
            if wrong:
                failures.append(f"{name}: {wrong}")
        # 8192 slots of width 1 claimed, no transfer stored: refused from the memory rows before an (S, 8192, 8192)
        # array is sized by the claim (numpy reports its buffers to tracemalloc)
        path = os.path.join(tmp, "transfer_8192_slots.sqlite")
        shutil.copy(good, path)
        con = sqlite3.connect(path)
        con.execute("UPDATE models SET config = json_set(config, '$.n_slots', 8192, '$.d_model', 1) WHERE id = 1")
        con.commit()
        con.close()
        tracemalloc.start()
        wrong = refused(path, "memory", call=lambda r: r.run(1).transfer())
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        if wrong or peak > TRANSFER_PEAK:
            failures.append(f"transfer 8192 slots: {wrong or 'refused'}; {peak} bytes allocated at the peak")
        # the untouched file reads, every read as documented
        problems = []
        read_mutant(good, problems, "the untouched recording")
        failures += problems
        restore()
    for f in failures:
        print("FAIL", f, file=sys.stderr)
    assert not failures, f"{len(failures)} hostile recordings were not refused cleanly"
    print(f"targeted: {len(cases) + 1} hostile recordings refused, each naming the file")


def c_csv(binary, path, run, view, tmp):
    out = os.path.join(tmp, "view.csv")
    r = cli(binary, "export", path, "--run", str(run), "--view", view, "--out", out, check=False)
    if r.returncode != 0:
        return None
    with open(out, encoding="utf-8") as f:
        return memscope.parse_csv(f.read(), out).values


def mutants(binary, fixtures, mutate):
    spec = importlib.util.spec_from_file_location("mutate_recording", mutate)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    problems, n = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        seeds = [base_recording(binary, fixtures, tmp), os.path.join(RECORDINGS, "recording-v6.sqlite"),
                 os.path.join(RECORDINGS, "recording-v7.sqlite")]
        for seed in seeds:
            label = os.path.basename(seed)
            for i in range(MUTANTS):
                path = os.path.join(tmp, f"mutant-{label}-{i}.sqlite")
                log = mod.make_mutant(seed, path, f"py:{label}:{i}")
                n += 1
                restore = limit_address_space()
                try:
                    got = read_mutant(path, problems, f"{label}:{i} ({'; '.join(log)})")
                finally:
                    restore()
                # what both readers read must agree: the module passes on no value the C reader refuses or reads
                # otherwise (retention and NLL: the CSV holds them as float32 values)
                for (run_id, name), value in got.items():
                    if name not in ("retention", "nll"):
                        continue
                    want = c_csv(binary, path, run_id, name, tmp)
                    if want is None:
                        continue
                    want = want.T if name == "retention" else want[:, 0]
                    if want.shape != value.shape or not np.array_equal(want.astype(np.float32), value,
                                                                       equal_nan=True):
                        problems.append(f"{label}:{i} ({'; '.join(log)}): run {run_id} {name} differs from "
                                        "memscope-cli export's")
                os.unlink(path)
    for p in problems[:30]:
        print("FAIL", p, file=sys.stderr)
    assert not problems, f"{len(problems)} problems in {n} mutants"
    print(f"mutants: {n} mutants read, every result documented or a MemscopeError naming the file")


CASES = {"targeted": targeted, "mutants": mutants}

if __name__ == "__main__":
    binary, fixtures, mutate, case = sys.argv[1:5]
    CASES[case](binary, fixtures, mutate)
