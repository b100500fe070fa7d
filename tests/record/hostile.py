#!/usr/bin/env python3
"""A corpus of hostile recordings, made at test time from a real one.

Recordings are mailed around and downloaded, so Memscope must read any file
without crashing, hanging or drawing garbage as if it were data.  This test
records a real file with the current memscope-cli (so the corpus follows every
schema change), then derives mutants from it with Python's own sqlite3 module:
every column of every table set to values a tampered or damaged file may hold
(-1, 2^31, 2^62, 0, huge indices; one-byte, empty, 1 MB and TEXT BLOBs; NULL),
a copied segment row, absurd model configurations, planted views, triggers,
tables and indices, a view in place of `runs` that never ends, changed column
definitions, damaged pages and bad user_versions.  Each mutant is listed with
`runs`, drawn by every view of `export`, and resumed with `record --resume`.

Each command must exit 0, 1 or 2 within its timeout: never a signal, a hang or
a sanitizer report (the sanitize build runs this test too).  Where the file's
schema or version is not what Memscope writes, every command must refuse it
(exit 1, naming the file).

The full cross product of columns and values takes long under the sanitizers;
by default each column gets a rotating sample of its values (every value still
reaches some column of every type), and MEMSCOPE_HOSTILE_ALL=1 runs all.

usage: hostile.py CLI FIXTURE_DIR CASE     CASE: columns:TABLE | rows | values | schema | pages
"""
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile

TIMEOUT = 120          # seconds per command; a hang is a failure, whatever the machine's speed
VIEWS = ("retention", "types", "provenance", "similarity", "read", "read-usage", "representation", "write", "nll",
         "causal", "causal-slots", "forgetting", "read-heads", "write-heads", "gate")
SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "runtime error:",
                   "MemorySanitizer", "ThreadSanitizer")
KEY = 1 << 32

INTS = [-1, 2 ** 31, 2 ** 62, 0, -1000, 100000, 2 ** 31 - 1, -(2 ** 63)]
BLOBS = [b"\x01", b"", bytes(1 << 20), "text", b"\xff" * 7]
TEXTS = ["", "f64", "x" * 1000, "\x1b[31mred\x1b[0m"]
ALL = os.environ.get("MEMSCOPE_HOSTILE_ALL") == "1"


def cli(binary, *args):
    try:
        r = subprocess.run([binary, *args], capture_output=True, text=True, timeout=TIMEOUT, errors="replace")
    except subprocess.TimeoutExpired:
        return None
    return r


def base_recording(binary, fixtures, tmp):
    """Run 1: Memformer with stored f16 attention; run 2: RMT, compact (attention by replay); run 3: RMT with
    a BPE tokenizer (rmt_bpe), compact, so its segments store token ids and byte ranges.  Runs 1 and 3 have
    causal retention (initial; knockout) and the reset-memory baseline."""
    text = os.path.join(tmp, "in.txt")
    with open(text, "wb") as f:
        f.write(bytes((i * 31 + i // 3) % 256 for i in range(160)))
    db = os.path.join(tmp, "base.sqlite")
    runs = [("memformer", ["--attn", "f16"]), ("rmt_blocks", []), ("rmt_bpe", [])]
    for model, extra in runs:
        r = cli(binary, "record", os.path.join(fixtures, model + ".safetensors"), text, "--recording", db, *extra)
        assert r is not None and r.returncode == 0, r and r.stderr
    # causal retention and the reset-memory baseline (schema 6): run 1 with the initial memory, run 3 slot by slot
    for run, replace, horizon in ((1, "initial", "3"), (3, "knockout", "2")):
        r = cli(binary, "causal", db, "--run", str(run), "--replace", replace, "--horizon", horizon)
        assert r is not None and r.returncode == 0, r and r.stderr
    # run 2 as a killed recorder leaves it: its last segment never committed, so resuming has work to do
    # (and checks the run's rows before it does any)
    c = sqlite3.connect(db, isolation_level=None)
    last = c.execute("SELECT max(segment) FROM segments WHERE run_id = 2").fetchone()[0]
    c.execute("DELETE FROM segments WHERE run_id = 2 AND segment = ?", (last,))
    # (a memory chunk the last segment started goes with it; one it wrote into keeps a state nobody reads)
    c.execute("DELETE FROM memory WHERE run_id = 2 AND segment = ?", (last,))
    c.execute("DELETE FROM attention WHERE run_id = 2 AND segment = ?", (last,))
    c.execute("UPDATE runs SET status = 'incomplete', finished = NULL WHERE id = 2")
    # a finished recording may still be in WAL mode; the mutants are plain copies of one file
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.execute("PRAGMA journal_mode = DELETE")
    c.close()
    models = {1: os.path.join(fixtures, "memformer.safetensors"), 2: os.path.join(fixtures, "rmt_blocks.safetensors"),
              3: os.path.join(fixtures, "rmt_bpe.safetensors")}
    return db, text, models


class Checker:
    def __init__(self, binary, text, models):
        self.binary, self.text, self.models = binary, text, models
        self.failures, self.commands, self.mutants = [], 0, 0

    def command(self, name, db, args, refuse):
        self.commands += 1
        r = cli(self.binary, *args)
        what = f"{name}: memscope-cli {' '.join(a if len(a) < 80 else a[:80] + '…' for a in args)}"
        if r is None:
            self.failures.append(f"{what}: no answer within {TIMEOUT} s")
            return
        report = next((m for m in SANITIZER_MARKS if m in r.stderr), None)
        if report or r.returncode not in (0, 1, 2):
            self.failures.append(f"{what}: exit {r.returncode}{', ' + report if report else ''}\n"
                                 + r.stderr[-3000:])
        elif refuse and r.returncode == 0:
            self.failures.append(f"{what}: read a recording whose schema or version Memscope never writes")
        elif r.returncode == 1 and db not in r.stderr:
            self.failures.append(f"{what}: the error does not name the file: {r.stderr.strip()}")

    def read_all(self, name, db, run, tmp, refuse=False, resume=True):
        """runs, every view of export, and a resume, on mutant @db."""
        self.mutants += 1
        self.command(name, db, ["runs", db], refuse)
        for view in VIEWS:
            out = os.path.join(tmp, f"{view}.csv" if view not in ("read", "retention") else f"{view}.png")
            self.command(name, db, ["export", db, "--run", str(run), "--view", view, "--out", out], refuse)
        if refuse:   # recording a new run into it migrates or writes it: refused before anything is written
            self.command(name, db, ["record", self.models[run], self.text, "--recording", db], refuse)
        if resume:
            self.command(name, db, ["record", self.models[run], self.text, "--recording", db, "--resume", str(run)],
                         refuse)

    def finish(self):
        print(f"{self.mutants} mutants, {self.commands} commands, {len(self.failures)} failures")
        for f in self.failures[:40]:
            print("FAIL", f, file=sys.stderr)
        assert not self.failures, f"{len(self.failures)} of {self.commands} commands misbehaved"


def mutant(base, tmp, name):
    path = os.path.join(tmp, name + ".sqlite")
    shutil.copyfile(base, path)
    return path


def columns(c):
    for (table,) in c.execute("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                              "ORDER BY name").fetchall():
        for _, col, decl, _, _, pk in c.execute(f"PRAGMA table_info({table})").fetchall():
            yield table, col, decl.upper(), pk


def values_for(decl, col, k):
    """The values to try in a column of type @decl: all with MEMSCOPE_HOSTILE_ALL, else a rotating sample
    of three (k-th column of its type) plus the values that matter most for sizes and indices."""
    if "INT" in decl:
        pool = INTS + [None, "7"]
        must = [-1, 2 ** 31] if col in ("segment", "id", "rows", "cols", "n_segments", "segment_len", "n_tokens",
                                        "attn_first", "attn_count", "layer", "head", "token_begin", "token_end",
                                        "n_predicted", "model_id") else []
    elif "BLOB" in decl:
        pool = BLOBS + [None, 3]
        must = [b"", "text"]
    elif "REAL" in decl:
        pool = [float("inf"), -1.0, 1e308, None, "text"]
        must = []
    else:
        pool = TEXTS + [None, 5, b"\x00\x01"]
        must = []
    if ALL:
        return pool
    sample = [pool[(k * 2 + i) % len(pool)] for i in range(2)]
    return must + [v for v in sample if v not in must][:max(1, 3 - len(must))]


def case_columns(binary, fixtures, only_table):
    with tempfile.TemporaryDirectory() as tmp:
        base, text, models = base_recording(binary, fixtures, tmp)
        check = Checker(binary, text, models)
        with sqlite3.connect(base) as c:
            cols = list(columns(c))
        cols = [col for col in cols if col[0] == only_table]
        assert cols, f"the recording has no table {only_table}"
        seen = {}
        for table, col, decl, pk in cols:
            k = seen[decl] = seen.get(decl, -1) + 1
            for n, value in enumerate(values_for(decl, col, k)):
                name = f"{table}.{col}={value!r}"[:60] if not isinstance(value, bytes) \
                    else f"{table}.{col}=blob{len(value)}"
                db = mutant(base, tmp, f"m{len(seen)}_{col}_{n}")
                with sqlite3.connect(db) as c:
                    c.execute("PRAGMA ignore_check_constraints = ON")
                    c.execute("PRAGMA foreign_keys = OFF")
                    # the last row of the table for the run this mutant targets (rotating runs), so the
                    # default segment of the attention views is the damaged one
                    run = 1 + (k + n) % 3
                    where = {"runs": f"id = {run}",
                             "models": f"id = (SELECT model_id FROM runs WHERE id = {run})"}.get(
                                 table, f"run_id = {run}")
                    rowid = c.execute(f"SELECT max(rowid) FROM {table} WHERE {where}").fetchone()[0]
                    try:
                        c.execute(f"UPDATE {table} SET {col} = ? WHERE rowid = ?", (value, rowid))
                    except sqlite3.Error:
                        continue     # NOT NULL or a clashing key: SQLite itself refuses to write that file
                check.read_all(name, db, run, tmp)
        check.finish()


def case_rows(binary, fixtures):
    """Rows that break the file's keys: a copied segment row, a segment index far past the run's end, a memory
    state of a segment that never was, a model with an absurd configuration, inconsistent attention shapes."""
    with tempfile.TemporaryDirectory() as tmp:
        base, text, models = base_recording(binary, fixtures, tmp)
        check = Checker(binary, text, models)
        special = {
            "segment copied": "INSERT INTO segments SELECT id + 1, run_id, segment, token_begin, token_end, text, "
                              "nll, n_predicted, total_nll, memory_delta, retention, token_share, representation, read_usage, "
                              "attn_first, attn_count, byte_begin, token_ids, token_ends, gate FROM segments "
                              "WHERE id = (SELECT max(id) FROM segments WHERE run_id = 1)",
            "segment 100000": f"UPDATE segments SET id = {KEY} + 100000, segment = 100000 "
                              "WHERE id = (SELECT max(id) FROM segments WHERE run_id = 1)",
            "segment 2^31-2": f"UPDATE segments SET id = {KEY} + 2147483646, segment = 2147483646 "
                              "WHERE id = (SELECT max(id) FROM segments WHERE run_id = 1)",
            "memory segment -1000": f"UPDATE memory SET id = {KEY} - 999, segment = -1000 "
                                    "WHERE id = (SELECT max(id) FROM memory WHERE run_id = 1)",
            "16777216 slots": "UPDATE models SET config = json_set(config, '$.n_slots', 16777216, '$.n_mem', 16777216)",
            "2^31 layers": "UPDATE models SET config = json_set(config, '$.n_enc_layers', 2147483648, "
                           "'$.n_layers', 2147483648)",
            "segment_len 4": "UPDATE runs SET segment_len = 4",
            "n_segments -1": "UPDATE runs SET n_segments = -1",
            "attention rows of another head": "UPDATE attention SET rows = rows + 1 WHERE id % 2 = 0",
            "attention dtype f64": "UPDATE attention SET dtype = 'f64', data = data || data",
            "attention product overflows": "UPDATE attention SET rows = 65536, cols = 65536",
            "attention negative product": "UPDATE attention SET rows = -2, cols = -3",
            "attn_first elsewhere": "UPDATE segments SET attn_first = 1 WHERE run_id = 1",
            "attn_count 2^31": "UPDATE segments SET attn_count = 2147483647 WHERE run_id = 1",
            # run 3's tokens (schema 5): ids, ends and byte_begin that contradict the segment
            "token id past the vocabulary": "UPDATE segments SET token_ids = X'FFFFFF7F' || substr(token_ids, 5) "
                                            "WHERE run_id = 3",
            "token id negative": "UPDATE segments SET token_ids = X'FFFFFFFF' || substr(token_ids, 5) WHERE run_id = 3",
            "token ends not rising": "UPDATE segments SET token_ends = zeroblob(length(token_ends)) WHERE run_id = 3",
            "token ends past the text": "UPDATE segments SET text = substr(text, 1, 1) WHERE run_id = 3",
            "token ends short": "UPDATE segments SET token_ends = substr(token_ends, 1, 4) WHERE run_id = 3",
            "token ids without ends": "UPDATE segments SET token_ends = NULL WHERE run_id = 3",
            "token ids 2^31 long": "UPDATE segments SET token_end = token_begin + 2147483647 WHERE run_id = 3",
            "byte_begin before the tokens": "UPDATE segments SET byte_begin = -5 WHERE run_id = 3",
            "bytes in a BPE run": "UPDATE segments SET token_ids = NULL, token_ends = NULL WHERE run_id = 3",
        }
        # resuming trusts nothing: run 2 is incomplete; each of these must be refused (exit 1, naming the file),
        # while the untouched copy resumes (exit 0)
        resume_refused = {
            "": None,
            "segment copied": "INSERT INTO segments SELECT id + 1, run_id, segment, token_begin, token_end, text, "
                              "nll, n_predicted, total_nll, memory_delta, retention, token_share, representation, read_usage, "
                              "attn_first, attn_count, byte_begin, token_ids, token_ends, gate FROM segments "
                              "WHERE id = (SELECT max(id) FROM segments WHERE run_id = 2)",
            "segment_len 4": "UPDATE runs SET segment_len = 4 WHERE id = 2",
            "n_segments -1": "UPDATE runs SET n_segments = -1 WHERE id = 2",
            "n_segments 2^31": "UPDATE runs SET n_segments = 2147483648 WHERE id = 2",
            "n_tokens + 100": "UPDATE runs SET n_tokens = n_tokens + 100 WHERE id = 2",
            "a memory state missing": "DELETE FROM memory WHERE run_id = 2 AND segment = 0",
            "a segment missing": "DELETE FROM segments WHERE run_id = 2 AND segment = 1",
        }
        for n, (name, sql) in enumerate(resume_refused.items()):
            db = mutant(base, tmp, f"resume{n}")
            with sqlite3.connect(db) as c:
                c.execute("PRAGMA ignore_check_constraints = ON")
                if sql:
                    c.executescript(sql)
            r = cli(binary, "record", models[2], text, "--recording", db, "--resume", "2")
            check.commands += 1
            want = 1 if sql else 0
            if r is None or r.returncode != want or (sql and db not in r.stderr):
                check.failures.append(f"resume with {name or 'nothing changed'}: exit "
                                      f"{r and r.returncode}, expected {want}: {r and r.stderr}")
        # a per-slot array one value short is an error naming the file, table, run and segment, never
        # a figure with a made-up slot (every writer stores one value per slot)
        for column, view in (("retention", "retention"), ("read_usage", "read-usage"),
                             ("representation", "representation")):
            db = mutant(base, tmp, f"short-{column}")
            with sqlite3.connect(db) as c:
                c.execute(f"UPDATE segments SET {column} = substr({column}, 1, length({column}) - 4) "
                          "WHERE id = (SELECT max(id) FROM segments WHERE run_id = 1)")
            r = cli(binary, "export", db, "--run", "1", "--view", view, "--out", os.path.join(tmp, "short.csv"))
            check.commands += 1
            words = (db, "run 1", "table segments", "segment ", column, "one per slot")
            if r is None or r.returncode != 1 or not all(w in r.stderr for w in words):
                check.failures.append(f"{column} one value short: exit {r and r.returncode}, expected 1 naming "
                                      f"{words}: {r and r.stderr}")
        for n, (name, sql) in enumerate(special.items()):
            db = mutant(base, tmp, f"special{n}")
            with sqlite3.connect(db) as c:
                c.execute("PRAGMA ignore_check_constraints = ON")
                c.executescript(sql)
            for run in (3,) if "run_id = 3" in sql else (1, 2):
                check.read_all(name, db, run, tmp)
        check.finish()


def f32(*values):
    return struct.pack(f"<{len(values)}f", *values)


def edit_blobs(c, table, column, where, change):
    """Rewrites BLOB @column of the rows of @table matching @where as change(bytes)."""
    for rowid, blob in c.execute(f"SELECT rowid, {column} FROM {table} WHERE {where}").fetchall():
        if blob is not None:
            c.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (change(bytes(blob)), rowid))


def case_values(binary, fixtures):
    """Schema 8's arrays with their right lengths but contents no writer stores: stored attention of another
    segment, shape or head count than the model's layout gives the segment (each BLOB still the bytes its own
    rows × cols take), weights outside [0, 1], per-slot arrays out of their range in f32 and f16, transfers
    whose entries or row sums leave [0, 1], a total NLL that is infinite, negative or whose mean overflows a
    float, a causal ΔNLL that is infinite, a reset-memory NLL below 0.  Each view that reads
    the damaged value must refuse it (exit 1, naming the file, the table and what was expected), never draw
    it or read past a matrix's end; memory states that are NaN or infinite are the model's output as far as
    the file can tell, so every view must only end cleanly (exit 0 or 1) on them."""
    with tempfile.TemporaryDirectory() as tmp:
        base, text, models = base_recording(binary, fixtures, tmp)
        check = Checker(binary, text, models)
        last1 = "run_id = 1 AND segment = (SELECT max(segment) FROM segments WHERE run_id = 1)"
        inf16 = b"\x00\x7c"
        # name: (edit(c), run, {view: words the error must hold})
        cases = {
            # every head of layer 1 one token short, its BLOB cut to match: the heads agree with each other
            "read layer 1 a row short": (
                lambda c: edit_blobs(c, "attention", "data", f"{last1} AND kind = 'read' AND layer = 1",
                                     lambda b: b[:len(b) - len(b) // 8]) or c.execute(
                    f"UPDATE attention SET rows = rows - 1 WHERE {last1} AND kind = 'read' AND layer = 1"),
                1, {"read": ("table attention", "shape"), "read-heads": ("table attention", "shape")}),
            "attn_first at segment 0": (
                lambda c: c.execute("UPDATE segments SET attn_first = (SELECT attn_first FROM segments WHERE run_id = 1 "
                                    f"AND segment = 0) WHERE {last1}"),
                1, {"read": ("another run or segment",), "write": ("another run or segment",),
                    "write-heads": ("another run or segment",)}),
            "a head stored twice": (
                lambda c: c.execute(f"UPDATE attention SET head = 0 WHERE {last1} AND head = 1"),
                1, {"read": ("heads",), "write": ("heads",)}),
            "attention weight inf": (
                lambda c: edit_blobs(c, "attention", "data", f"{last1} AND kind = 'write'", lambda b: inf16 + b[2:]),
                1, {"write": ("attention weight", "[0, 1]"), "write-heads": ("attention weight",)}),
            "retention inf (f32)": (
                lambda c: edit_blobs(c, "segments", "retention", last1, lambda b: f32(float("inf")) + b[4:]),
                1, {"retention": ("table segments", "retention", "[0, 1]"), "types": ("retention",),
                    "provenance": ("retention",)}),
            "retention 4 (f32)": (
                lambda c: edit_blobs(c, "segments", "retention", "run_id = 1 AND segment = 0",
                                     lambda b: f32(4.0) + b[4:]),
                1, {"retention": ("retention", "[0, 1]"), "provenance": ("retention",)}),
            "read usage inf (f16)": (
                lambda c: edit_blobs(c, "segments", "read_usage", "run_id = 2 AND segment = 1",
                                     lambda b: inf16 + b[2:]),
                2, {"read-usage": ("table segments", "read_usage")}),
            "read usage negative (f16)": (
                lambda c: edit_blobs(c, "segments", "read_usage", "run_id = 2 AND segment = 1",
                                     lambda b: b"\x00\xc0" + b[2:]),
                2, {"read-usage": ("read_usage",)}),
            "transfer 1e30": (
                lambda c: edit_blobs(c, "memory", "transfer", "run_id = 2 AND segment = 1",
                                     lambda b: f32(1e30) + b[4:]),
                2, {"provenance": ("table memory", "transfer")}),
            "transfer rows summing to 5.4": (
                lambda c: edit_blobs(c, "memory", "transfer", "run_id = 2 AND segment = 0",
                                     lambda b: f32(*[0.9] * (len(b) // 4))),
                2, {"provenance": ("table memory", "transfer", "at most 1")}),
            "total_nll inf": (
                lambda c: c.execute("UPDATE segments SET total_nll = 9e999 WHERE run_id = 2 AND segment = 1"),
                2, {"nll": ("table segments", "total_nll")}),
            # finite, but its mean over the segment's tokens overflows a float (was drawn as an infinite NLL)
            "total_nll 1e308": (
                lambda c: c.execute("UPDATE segments SET total_nll = 1e308 WHERE run_id = 2 AND segment = 1"),
                2, {"nll": ("table segments", "total_nll")}),
            "total_nll negative": (
                lambda c: c.execute("UPDATE segments SET total_nll = -5 WHERE run_id = 1 AND segment = 2"),
                1, {"nll": ("total_nll",)}),
            # the chunk before the state read has a first segment of −2^63 (segment − first would overflow)
            "memory segment -2^63": (
                lambda c: c.execute("UPDATE memory SET segment = -9223372036854775808 WHERE run_id = 2 AND segment = 1"),
                2, {"similarity": ("table memory",), "provenance": ("table memory",)}),
            # token_end − token_begin would overflow: the attention views and replay refuse the segment
            "token_end -2^63": (
                lambda c: c.execute("UPDATE segments SET token_end = -9223372036854775808 WHERE run_id = 2 AND segment = "
                                    "(SELECT max(segment) FROM segments WHERE run_id = 2)"),
                2, {"read": ("table segments", "tokens"), "write": ("table segments", "tokens")}),
            "stored token_begin -2^63": (
                lambda c: c.execute(f"UPDATE segments SET token_begin = -9223372036854775808 WHERE {last1}"),
                1, {"read": ("table",), "write": ("table",)}),
            # causal retention and the reset-memory baseline (run 1 has both): values no computation gives
            "causal delta_nll inf": (
                lambda c: edit_blobs(c, "causal", "delta_nll", "run_id = 1", lambda b: f32(float("inf")) + b[4:]),
                1, {"causal": ("table causal",), "forgetting": ("table causal",)}),
            "reset_memory nll -1": (
                lambda c: edit_blobs(c, "reset_memory", "nll", "run_id = 1 AND segment = 2", lambda b: f32(-1.0) + b[4:]),
                1, {"nll": ("table reset_memory",)}),
            "memory states NaN": (
                lambda c: edit_blobs(c, "memory", "data", "run_id = 2", lambda b: b"\x00\x00\xc0\x7f" * (len(b) // 4)),
                2, {}),
            "memory states inf": (
                lambda c: edit_blobs(c, "memory", "data", "run_id = 2", lambda b: f32(float("inf")) + b[4:]),
                2, {}),
        }
        for n, (name, (change, run, refused)) in enumerate(cases.items()):
            db = mutant(base, tmp, f"values{n}")
            with sqlite3.connect(db) as c:
                c.execute("PRAGMA ignore_check_constraints = ON")
                change(c)
            for view in refused:
                out = os.path.join(tmp, f"{view}.csv")
                r = cli(binary, "export", db, "--run", str(run), "--view", view, "--out", out)
                check.commands += 1
                words = (db,) + refused[view]
                if r is None or r.returncode != 1 or not all(w in r.stderr for w in words):
                    check.failures.append(f"{name}: export --view {view}: exit {r and r.returncode}, expected 1 naming "
                                          f"{words}: {r and r.stderr[-2000:]}")
            check.read_all(name, db, run, tmp)
        check.finish()


def case_schema(binary, fixtures):
    """Files whose schema or version Memscope never writes: every command refuses them (exit 1)."""
    with tempfile.TemporaryDirectory() as tmp:
        base, text, models = base_recording(binary, fixtures, tmp)
        check = Checker(binary, text, models)
        with sqlite3.connect(base) as c:
            version = c.execute("PRAGMA user_version").fetchone()[0]
        plants = {
            "a view": "CREATE VIEW extra AS SELECT * FROM runs",
            "a trigger": "CREATE TRIGGER t AFTER INSERT ON segments BEGIN DELETE FROM runs; END",
            "another table": "CREATE TABLE extra (x)",
            "an index": "CREATE INDEX extra ON segments (run_id)",
            "a changed column": "ALTER TABLE runs ADD COLUMN extra INTEGER",
            "a renamed column": "ALTER TABLE segments RENAME COLUMN token_share TO token_part",
            "runs a recursive view": "ALTER TABLE runs RENAME TO runs_real; CREATE VIEW runs AS "
                                     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
                                     "SELECT r.* FROM runs_real r, n",
            "user_version -1": "PRAGMA user_version = -1",
            "user_version -2^31": "PRAGMA user_version = -2147483648",
            f"user_version {version + 1}": f"PRAGMA user_version = {version + 1}",
            "user_version 2^31-1": "PRAGMA user_version = 2147483647",
            "user_version 2": "PRAGMA user_version = 2",
            "user_version 0": "PRAGMA user_version = 0",
        }
        for n, (name, sql) in enumerate(plants.items()):
            db = mutant(base, tmp, f"plant{n}")
            with sqlite3.connect(db) as c:
                c.execute("PRAGMA legacy_alter_table = ON")
                c.executescript(sql)
            check.read_all(name, db, 1, tmp, refuse=True)
        check.finish()


def case_pages(binary, fixtures):
    """Damaged pages: garbage over one page at a time (SQLite may or may not notice; Memscope never crashes)."""
    with tempfile.TemporaryDirectory() as tmp:
        base, text, models = base_recording(binary, fixtures, tmp)
        check = Checker(binary, text, models)
        with sqlite3.connect(base) as c:
            page_size = c.execute("PRAGMA page_size").fetchone()[0]
        size = os.path.getsize(base)
        n_pages = size // page_size
        pages = range(1, n_pages) if ALL else sorted({1, 2, 3, n_pages // 2, n_pages - 1} & set(range(1, n_pages)))
        for page in pages:
            for pattern, offset in ((b"\xff", 0), (b"\x00", 0), (b"\x7f", page_size // 2)):
                db = mutant(base, tmp, f"page{page}")
                with open(db, "r+b") as f:
                    f.seek(page * page_size + offset)
                    f.write(pattern * (page_size - offset if offset else 64))
                check.read_all(f"page {page} {pattern!r}@{offset}", db, 1 + page % 2, tmp)
        # a header page whose btree pointers go astray
        db = mutant(base, tmp, "header")
        with open(db, "r+b") as f:
            f.seek(100)
            f.write(b"\x0d\x00\x00\x00\x01\xff\xf0")
        check.read_all("page 0 header", db, 1, tmp)
        check.finish()


def main():
    binary, fixtures, case = sys.argv[1:4]
    if case.startswith("columns:"):
        case_columns(binary, fixtures, case.split(":", 1)[1])
    else:
        {"rows": case_rows, "schema": case_schema, "pages": case_pages, "values": case_values}[case](binary, fixtures)


if __name__ == "__main__":
    main()
