#!/usr/bin/env python3
"""Recording end to end through memscope-cli, one meson test per case.

What a user relies on: a recording killed with SIGKILL mid-run stays a
valid recording whose committed segments are complete and whose run is marked
incomplete, and resuming it gives exactly what an uninterrupted run gives; a
reader can open the recording while it is written; files that are not
recordings, a read-only location and a full disk give a clear message and
exit 1 without leaving anything half-written; recordings of older schemas
read as they are and upgrade with every value kept.  Recordings are
inspected with Python's own sqlite3 module, independently of Memscope's
reader.

usage: recording.py CLI FIXTURE_DIR CASE
"""
import json
import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slot_arrays import narrow_bytes, unpack_slots  # noqa: E402

MODELS = {"memformer": (2, 2), "rmt_causal": (2, 4)}
QUANTITIES = ("retention", "token_share", "representation", "read_usage")  # schema 4 and 5's per-slot columns
# what schema 1-3 called them, and their attention kinds
QUANTITIES_V3 = ("old_share", "token_share", "cos_prev", "read_usage")
KINDS_V3 = {"reader": "read", "rmt_read": "read", "writer": "write", "rmt_write": "write"}


def cli(binary, *args, env=None):
    return subprocess.run([binary, *args], capture_output=True, text=True, env=env)


def long_input(tmp, n_bytes=24000):
    path = os.path.join(tmp, "long.txt")
    with open(path, "wb") as f:
        f.write(bytes((i * 7919 + i // 13) % 256 for i in range(n_bytes)))
    return path


def ro(db):
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True)


def committed(db):
    try:
        with ro(db) as c:
            return c.execute("SELECT count(*) FROM segments WHERE run_id = 1").fetchone()[0]
    except sqlite3.Error:
        return 0


def memory_states(c, run):
    """[(segment, rows, cols, data, transfer)]: the memory state after each committed segment of run @run
    (segment -1: the initial memory) and that segment's transfer (None where not stored), in order, unpacked
    here independently of the C reader: schema 7 stores them in memory chunks of n_states consecutive states
    (core/ms-db.h; the states after the run's last committed segment are unwritten room), older schemas one
    memory row per state and the transfer in segments.transfer."""
    version = c.execute("PRAGMA user_version").fetchone()[0]
    index = "idx" if version <= 3 else "segment"
    done = c.execute(f"SELECT count(*) FROM segments WHERE run_id = ?", (run,)).fetchone()[0]
    if version < 7:
        transfers = dict(c.execute(f"SELECT {index}, transfer FROM segments WHERE run_id = ?", (run,)).fetchall())
        return [(t, r, k, data, transfers.get(t)) for t, r, k, data in
                c.execute("SELECT segment, rows, cols, data FROM memory WHERE run_id = ? ORDER BY segment", (run,))]
    out = []
    for first, n, r, k, transfer, data in c.execute("SELECT segment, n_states, rows, cols, transfer, data FROM memory"
                                                    " WHERE run_id = ? ORDER BY id", (run,)):
        assert first == len(out) - 1 and len(data) == n * r * k * 4, (first, n, len(out))
        assert transfer is None or len(transfer) == n * r * r * 4, (first, n, len(transfer))
        for j in range(n):
            if first + j < done:
                out.append((first + j, r, k, data[j * r * k * 4:(j + 1) * r * k * 4],
                            transfer and transfer[j * r * r * 4:(j + 1) * r * r * 4]))
    return out


def run_contents(db, run):
    """Everything a run recorded except bookkeeping (times, pid, name)."""
    with ro(db) as c:
        q = lambda sql: c.execute(sql, (run,)).fetchall()
        return {
            "segments": q("SELECT segment, token_begin, token_end, text, nll, n_predicted, total_nll, memory_delta,"
                          f" {', '.join(QUANTITIES)}, attn_count FROM segments"
                          " WHERE run_id = ? ORDER BY segment"),
            "attention": q("SELECT segment, kind, layer, head, rows, cols, dtype, data FROM attention"
                           " WHERE run_id = ? ORDER BY segment, kind, layer, head"),
            "memory": memory_states(c, run),
            "run": q("SELECT n_tokens, segment_len, n_segments, attn_dtype, status,"
                     " (SELECT count(*) FROM segments WHERE run_id = runs.id) FROM runs WHERE id = ?"),
        }


KEY = 1 << 32  # since schema 3: segments.id = run_id * 2^32 + segment, memory.id = run_id * 2^32 + segment + 1


def check_committed_complete(db, run, model, f32_below=0):
    """Every committed segment has all its rows; nothing beyond them; the rowid keys say what the columns say.
    A compact run (attn_dtype none, the default) has no attention rows at all. Segments before @f32_below
    were recorded by an older build, whose per-slot arrays are all f32."""
    n_layers, n_heads = MODELS[model]
    with ro(db) as c:
        compact = c.execute("SELECT attn_dtype FROM runs WHERE id = ?", (run,)).fetchone()[0] == "none"
        expected = 0 if compact else n_heads * (n_layers + (1 if model == "memformer" else n_layers))
        kinds = {row[0] for row in c.execute("SELECT DISTINCT kind FROM attention WHERE run_id = ?", (run,))}
        assert kinds == (set() if compact else {"read", "write"}), kinds
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        status, k = c.execute("SELECT r.status, (SELECT rows FROM memory WHERE run_id = r.id AND segment = -1)"
                              " FROM runs r WHERE id = ?", (run,)).fetchone()
        done = c.execute("SELECT count(*) FROM segments WHERE run_id = ?", (run,)).fetchone()[0]
        for table in ("segments",) + (() if compact else ("attention",)):
            top = c.execute(f"SELECT max(segment) FROM {table} WHERE run_id = ?", (run,)).fetchone()[0]
            assert top == done - 1, (table, top, done)
        # the memory chunks hold the states after segments -1 … done - 1 and start at none after them
        assert [m[0] for m in memory_states(c, run)] == list(range(-1, done))
        assert c.execute("SELECT max(segment) FROM memory WHERE run_id = ?", (run,)).fetchone()[0] <= done - 1
        rows = c.execute(f"SELECT segment, attn_first, attn_count, {', '.join(f'length({q})' for q in QUANTITIES)}"
                         " FROM segments WHERE run_id = ? ORDER BY segment", (run,)).fetchall()
        assert [r[0] for r in rows] == list(range(done))
        for t, first, count, *lengths in rows:
            assert count == expected, (t, count, expected)
            if compact:
                assert first is None, (t, first)
            else:
                # the segment's matrices are exactly the rows first .. first + count - 1
                in_range = c.execute("SELECT count(*), min(segment), max(segment) FROM attention"
                                     " WHERE id BETWEEN ? AND ?", (first, first + count - 1)).fetchone()
                assert in_range == (expected, t, t), (t, in_range)
            assert c.execute("SELECT count(*) FROM attention WHERE run_id = ? AND segment = ?",
                             (run, t)).fetchone()[0] == expected
            # schema 8 (core/ms-recording-names.h): the retention f32 where it is Memformer's diagonal
            # transfer, else 12-bit; no token share (what the transfer leaves); representation 12-bit; read
            # usage f16
            narrow = narrow_bytes("retention", k)
            if t < f32_below:
                assert lengths == [4 * k] * 4, (t, lengths, k)
            else:
                assert lengths == [4 * k if model == "memformer" else narrow, None, narrow, 2 * k], (t, lengths, k)
            # the rowid keys the readers seek by (ms-db.h), computed here independently
            assert c.execute("SELECT segment FROM segments WHERE id = ?", (run * KEY + t,)).fetchone() == (t,)
            first, n = c.execute("SELECT segment, n_states FROM memory WHERE id BETWEEN ? AND ? ORDER BY id DESC "
                                 "LIMIT 1", (run * KEY, run * KEY + t + 1)).fetchone()
            assert first <= t < first + n, (t, first, n)
    return done, status


def kill_and_resume(binary, fixtures, model):
    with tempfile.TemporaryDirectory() as tmp:
        text = long_input(tmp)
        path = os.path.join(fixtures, model + ".safetensors")
        db, db_ref = os.path.join(tmp, "killed.sqlite"), os.path.join(tmp, "reference.sqlite")
        # attention stored (f16): a compact recording of these tiny models can finish its 1200 segments
        # while the reader below starts, before the kill
        args = [path, text, "--max-segments", "1200", "--attn", "f16"]
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
        # The recorder runs at the lowest priority and is stopped (SIGSTOP) as soon as 40 segments are
        # committed, so that on a loaded machine this poller sees the run mid-way rather than finished.
        proc = subprocess.Popen([binary, "record", *args, "--recording", db], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                preexec_fn=lambda: os.nice(19))
        deadline = time.monotonic() + 60
        while committed(db) < 40 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.002)
        if proc.poll() is None:
            proc.send_signal(signal.SIGSTOP)
        # a reader opens the recording while the recorder writes, and sees it live
        listing = cli(binary, "runs", "--json", db)
        assert listing.returncode == 0, listing.stderr
        live = json.loads(listing.stdout)[0]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL, f"recorder ended by itself first: {proc.returncode}"
        assert live["status"] == "recording", live

        done, status = check_committed_complete(db, 1, model)
        assert 40 <= done < 1200 and status == "incomplete", (done, status)
        after = json.loads(cli(binary, "runs", "--json", db).stdout)[0]
        assert after["status"] == "incomplete" and after["segments_done"] == done, after
        print(f"{model}: killed after {done} committed segments; integrity ok; run incomplete")

        r = cli(binary, "record", path, text, "--recording", db, "--resume", "1", env=env)
        assert r.returncode == 0, r.stderr
        r = cli(binary, "record", *args, "--recording", db_ref, env=env)
        assert r.returncode == 0, r.stderr
        resumed, reference = run_contents(db, 1), run_contents(db_ref, 1)
        for table in reference:
            assert resumed[table] == reference[table], f"{table} differs after resuming"
        assert reference["run"][0][4:] == ("complete", 1200)
        print(f"{model}: resumed run identical to an uninterrupted one (1200 segments)")


def kill_and_resume_memformer(binary, fixtures):
    kill_and_resume(binary, fixtures, "memformer")


def kill_and_resume_rmt(binary, fixtures):
    kill_and_resume(binary, fixtures, "rmt_causal")


def attention_storage(binary, fixtures):
    """--attn f32 stores exact floats, f16 half the bytes, none no attention; runs lists all three."""
    with tempfile.TemporaryDirectory() as tmp:
        text, db = long_input(tmp, 200), os.path.join(tmp, "r.sqlite")
        model = os.path.join(fixtures, "rmt_blocks.safetensors")
        for attn in ("f16", "f32", "none"):
            r = cli(binary, "record", model, text, "--recording", db, "--attn", attn, "--name", attn)
            assert r.returncode == 0, r.stderr
        with ro(db) as c:
            sizes = dict(c.execute("SELECT r.name, coalesce(sum(length(a.data)), 0) FROM runs r LEFT JOIN attention a"
                                   " ON a.run_id = r.id GROUP BY r.id").fetchall())
            dtypes = {row[0] for row in c.execute("SELECT DISTINCT dtype FROM attention WHERE run_id = 1")}
        assert sizes["f32"] == 2 * sizes["f16"] > 0 and sizes["none"] == 0, sizes
        assert dtypes == {"f16"}
        runs = cli(binary, "runs", db)
        lines = runs.stdout.strip().splitlines()
        assert runs.returncode == 0 and len(lines) == 3, runs.stdout
        assert all(line.split("\t")[4] == "complete" for line in lines), lines
        assert lines[1].split("\t")[1] == "f32" and lines[1].split("\t")[3] == "25/25", lines


def full_disk(binary, fixtures):
    """A real SQLITE_FULL (SQLite's max_page_count fault injection): exit 1, the committed segments stay
    valid, and the run resumes once space is back."""
    with tempfile.TemporaryDirectory() as tmp:
        text, db = long_input(tmp, 4000), os.path.join(tmp, "full.sqlite")
        model = os.path.join(fixtures, "memformer.safetensors")
        env = dict(os.environ, MEMSCOPE_TEST_MAX_PAGE_COUNT="30")
        r = cli(binary, "record", model, text, "--recording", db, env=env)
        assert r.returncode == 1, (r.returncode, r.stderr)
        assert "full" in r.stderr and db in r.stderr and "resume" in r.stderr, r.stderr
        done, status = check_committed_complete(db, 1, "memformer")
        assert 0 < done < 500 and status == "incomplete", (done, status)
        r = cli(binary, "record", model, text, "--recording", db, "--resume", "1")
        assert r.returncode == 0, r.stderr
        assert check_committed_complete(db, 1, "memformer") == (500, "complete")


def not_sqlite(binary, fixtures):
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "notes.sqlite")
        with open(db, "w") as f:
            f.write("these are my notes, not a database\n" * 100)
        before = open(db).read()
        for args in (["runs", db], ["record", os.path.join(fixtures, "memformer.safetensors"),
                                    os.path.join(fixtures, "memformer.safetensors"), "--recording", db]):
            r = cli(binary, *args)
            assert r.returncode == 1 and db in r.stderr and "not a Memscope recording" in r.stderr, r.stderr
        assert open(db).read() == before, "the file was modified"


def other_sqlite(binary, fixtures):
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "other.sqlite")
        with sqlite3.connect(db) as c:
            c.execute("CREATE TABLE photos (id INTEGER)")
        r = cli(binary, "runs", db)
        assert r.returncode == 1 and "not a Memscope recording" in r.stderr, r.stderr


def newer_schema(binary, fixtures):
    with tempfile.TemporaryDirectory() as tmp:
        text, db = long_input(tmp, 100), os.path.join(tmp, "new.sqlite")
        model = os.path.join(fixtures, "memformer.safetensors")
        assert cli(binary, "record", model, text, "--recording", db).returncode == 0
        with sqlite3.connect(db) as c:
            c.execute("PRAGMA user_version = 99")
        for args in (["runs", db], ["record", model, text, "--recording", db]):
            r = cli(binary, *args)
            assert r.returncode == 1 and "newer" in r.stderr and db in r.stderr and "99" in r.stderr, r.stderr
        with ro(db) as c:
            assert c.execute("SELECT count(*) FROM runs").fetchone()[0] == 1


def upgraded_matches_original(original, upgraded, run=1):
    """The upgraded file holds what the older file held for run @run: every segment, memory and attention row
    (attention kinds under their schema-4 names) and the per-slot quantities: schema 1 and 2 kept one retention
    row per slot, now one f32 array per quantity (NULL, i.e. NaN, as NaN); schema 3's arrays are kept as they
    were, under their new column names. The older segments were tokenized by bytes: their token columns stay
    NULL (byte_begin is token_begin, the ids are the text's bytes)."""
    with ro(original) as a, ro(upgraded) as b:
        version = a.execute("PRAGMA user_version").fetchone()[0]
        index = "idx" if version <= 3 else "segment"
        cols = "token_begin, token_end, text, nll, n_predicted, total_nll, memory_delta"
        old = a.execute(f"SELECT {index}, {cols} FROM segments WHERE run_id = ? ORDER BY {index}",
                        (run,)).fetchall()
        if version >= 5:
            cols = "token_begin, token_end, text, nll, n_predicted, total_nll, memory_delta, byte_begin, " \
                   "token_ids, token_ends"
            old = a.execute(f"SELECT segment, {cols} FROM segments WHERE run_id = ? ORDER BY segment", (run,)).fetchall()
        else:
            assert b.execute("SELECT count(*) FROM segments WHERE run_id = ? AND segment < ? AND (byte_begin IS NOT "
                             "NULL OR token_ids IS NOT NULL OR token_ends IS NOT NULL)", (run, len(old))).fetchone()[0] == 0
        assert old and old == b.execute(f"SELECT segment, {cols} FROM segments WHERE run_id = ? ORDER BY segment",
                                        (run,)).fetchall()
        assert memory_states(a, run) == memory_states(b, run)
        cols = "segment, kind, layer, head, rows, cols, dtype, data"
        before = sorted((t, KINDS_V3.get(k, k), *rest) for t, k, *rest in
                        a.execute(f"SELECT {cols} FROM attention WHERE run_id = ?", (run,)))
        assert before == sorted(b.execute(f"SELECT {cols} FROM attention WHERE run_id = ?", (run,)).fetchall())
        if version >= 3:
            names = QUANTITIES_V3 if version == 3 else QUANTITIES
            assert a.execute(f"SELECT {', '.join(names)} FROM segments WHERE run_id = ? ORDER BY {index}",
                             (run,)).fetchall() == \
                b.execute(f"SELECT {', '.join(QUANTITIES)} FROM segments WHERE run_id = ? ORDER BY segment",
                          (run,)).fetchall()
            return len(old)
        n_slots = a.execute("SELECT max(slot) + 1 FROM retention").fetchone()[0]
        for t in (row[0] for row in old):
            rows = a.execute(f"SELECT slot, {', '.join(QUANTITIES_V3)} FROM retention WHERE run_id = ? AND segment = ?"
                             " ORDER BY slot", (run, t)).fetchall()
            assert [r[0] for r in rows] == list(range(n_slots))
            arrays = b.execute(f"SELECT {', '.join(QUANTITIES)} FROM segments WHERE id = ?", (run * KEY + t,)).fetchone()
            for q, blob in enumerate(arrays):
                got = struct.unpack(f"<{n_slots}f", blob)
                for r, x in zip(rows, got):
                    want = r[1 + q]
                    assert (x != x) if want is None else abs(x - want) <= 1e-7 * max(1.0, abs(want)), (t, q, x, want)
    return len(old)


def check_schema_current(db):
    """An upgraded file has exactly the tables and columns a new one has."""
    with ro(db) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == 8
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        columns = {t: [row[1] for row in c.execute(f"PRAGMA table_info({t})")]
                   for t in ("models", "runs", "segments", "attention", "memory")}
        assert "resume_state" not in columns["runs"] and "segments_done" not in columns["runs"], columns
        assert columns["segments"][:3] == ["id", "run_id", "segment"], columns
        assert {"retention", "token_share", "representation", "read_usage"} <= set(columns["segments"]), columns
        assert not {"idx", "old_share", "cos_prev"} & set(columns["segments"]), columns
        assert columns["segments"][-4:] == ["byte_begin", "token_ids", "token_ends", "gate"], columns
        assert "transfer" not in columns["segments"], columns
        assert columns["memory"] == ["id", "run_id", "segment", "n_states", "rows", "cols", "transfer", "data"], columns
        tables = {row[0] for row in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert tables == {"models", "runs", "segments", "attention", "memory", "causal", "reset_memory"}, tables
        kinds = {row[0] for row in c.execute("SELECT DISTINCT kind FROM attention")}
        assert kinds <= {"read", "write"}, kinds


def old_recording(fixtures, version, tmp):
    """Copies tests/data/recordings/recording-v@version.sqlite into @tmp twice: the file a test reads and
    upgrades, and an untouched original to compare with. Returns (source, copy, original)."""
    source = os.path.join(fixtures, "..", "recordings", f"recording-v{version}.sqlite")
    db, original = os.path.join(tmp, f"v{version}.sqlite"), os.path.join(tmp, "original.sqlite")
    for copy in (db, original):
        shutil.copyfile(source, copy)
    return source, db, original


# The views the two-run fixture recordings (schema 5 and later) are drawn with, and their arguments.
TWO_RUN_FIGURES = {"retention": [], "types": [], "nll": [], "provenance": [], "similarity": [],
                   "read": ["--segment", "12"], "write": ["--segment", "17", "--head", "1"]}


def old_two_run_recording(binary, fixtures, version, tmp):
    """old_recording of a schema-@version fixture holding run 1 (rmt_blocks, 30 segments) and run 2
    (memformer, 20 segments), with their models copied beside it (they are stored by file name alone);
    `runs` must list both complete. Returns (source, copy, original)."""
    source, db, original = old_recording(fixtures, version, tmp)
    for name in ("rmt_blocks", "memformer"):
        shutil.copyfile(os.path.join(fixtures, name + ".safetensors"), os.path.join(tmp, name + ".safetensors"))
    assert_runs(binary, db, [(30, "complete", "rmt"), (20, "complete", "memformer")])
    return source, db, original


def assert_runs(binary, db, expected):
    """`runs --json` lists the runs of @db as @expected: [(segments_done, status, arch)], oldest first."""
    r = cli(binary, "runs", "--json", db)
    assert r.returncode == 0, r.stderr
    runs = json.loads(r.stdout)
    assert [(x["segments_done"], x["status"], x["arch"]) for x in runs] == expected, runs


def export_figures(binary, db, runs, figures, out_dir, tag):
    """Exports from @db, for every run id in @runs, every view of @figures ({view: extra arguments}) as SVG
    into @out_dir (file names carry @tag); each export must exit 0. Returns {(run, view): the SVG text}."""
    drawn = {}
    for run in runs:
        for view, args in figures.items():
            out = os.path.join(out_dir, f"{view}-{run}-{tag}.svg")
            r = cli(binary, "export", db, "--run", run, "--view", view, *args, "--out", out)
            assert r.returncode == 0, (run, view, r.stderr)
            with open(out) as f:
                drawn[run, view] = f.read()
    return drawn


def same_bytes(a, b):
    with open(a, "rb") as f, open(b, "rb") as g:
        return f.read() == g.read()


def read_then_upgrade(binary, version, paths, tmp, figures, upgrade, kept, changed=()):
    """The schema-@version fixture, as old_recording copied it (@paths: source, copy, original), read as it is
    and then upgraded: every view of @figures ([(run ids, {view: extra arguments})]) exports from the copy, and
    reading leaves it byte for byte unchanged; memscope-cli @upgrade (its arguments) then succeeds and leaves
    the copy at the current schema with every stored value of the runs in @kept ({run id: committed segments})
    as the original held it, drawing the same figures but those in @changed ((run id, view)), which differ.
    Returns what the upgrade printed."""
    source, db, original = paths
    before, after = {}, {}
    for runs, views in figures:
        before.update(export_figures(binary, db, runs, views, tmp, f"v{version}"))
    assert same_bytes(source, db), f"reading a schema-{version} recording modified it"
    r = cli(binary, *upgrade)
    assert r.returncode == 0, r.stderr
    check_schema_current(db)
    for run, segments in kept.items():
        assert upgraded_matches_original(original, db, run) == segments, run
    for runs, views in figures:
        after.update(export_figures(binary, db, runs, views, tmp, "upgraded"))
    for key in before:
        same = before[key] == after[key]
        assert same != (key in changed), f"{key}: the upgraded file draws {'the same' if same else 'another'} figure"
    return r.stdout


def schema_1_recording(binary, fixtures):
    """tests/data/recordings/recording-v1.sqlite was written by the schema-1 build (the memformer fixture on
    long_input(4000), stopped by a full disk after 44 segments). Read-only, it lists and exports as it is
    (through views with the current schema's tables) and stays unchanged. Recording into it upgrades it in
    place to schema 4 (1 → 2 → 3 → 4) with every stored value kept, and its run exports the same figures as
    before. Resuming that run finishes it like an uninterrupted recording by this build. (Like, not bit for
    bit: the file's 44 segments come from older kernels whose float rounding differed; bit-exact resuming
    within one build is what kill_and_resume_* check.)"""
    with tempfile.TemporaryDirectory() as tmp:
        source, db, original = old_recording(fixtures, 1, tmp)
        text, db_ref = long_input(tmp, 4000), os.path.join(tmp, "v4.sqlite")
        assert_runs(binary, db, [(44, "incomplete", "memformer")])
        figures = {"retention": [], "types": [], "nll": [], "read": ["--segment", "43"],
                   "write": ["--segment", "17", "--head", "1"]}
        model = os.path.join(fixtures, "memformer.safetensors")
        # a second, one-segment run: a writer upgrades the file, and run 1 stays as it was (through --db,
        # the option's older name, still accepted)
        read_then_upgrade(binary, 1, (source, db, original), tmp, [(["1"], figures)],
                          ["record", model, text, "--db", db, "--max-segments", "1", "--name", "second"], {1: 44})
        assert check_committed_complete(db, 1, "memformer", f32_below=44) == (44, "incomplete")
        worst = resume_like_fresh(binary, model, text, db, 1, db_ref, 44)
        print(f"schema-1 run upgraded and resumed: memory within {worst:.2g} of an uninterrupted recording")


def resume_like_fresh(binary, model, text, db, run, db_ref, f32_below):
    """Resumes the memformer run @run of @db on long_input(4000), whose first @f32_below segments an older
    build recorded, and checks it against an uninterrupted recording by this build into @db_ref: the same
    tokens and counts, NLL and memory states within float rounding (its first segments may come from older
    kernels). Returns the largest memory difference."""
    r = cli(binary, "record", model, text, "--recording", db, "--resume", str(run))
    assert r.returncode == 0, r.stderr
    with ro(db) as c:
        attn = c.execute("SELECT attn_dtype FROM runs WHERE id = ?", (run,)).fetchone()[0]
    assert cli(binary, "record", model, text, "--recording", db_ref, "--attn", attn).returncode == 0
    assert check_committed_complete(db, run, "memformer", f32_below) == (500, "complete")
    resumed, reference = run_contents(db, run), run_contents(db_ref, 1)
    assert resumed["run"] == reference["run"] and reference["run"][0][4:] == ("complete", 500)
    for mine, theirs in zip(resumed["segments"], reference["segments"]):
        assert mine[:4] == theirs[:4] and mine[5] == theirs[5], (mine[:6], theirs[:6])  # tokens, text, counts
        assert abs(mine[6] - theirs[6]) <= 1e-3 * max(1.0, abs(theirs[6])), (mine[0], mine[6], theirs[6])
    assert len(resumed["segments"]) == len(reference["segments"]) == 500
    # the memory states, within float rounding (a replay from the wrong state differs by far more)
    worst = 0.0
    for mine, theirs in zip(resumed["memory"], reference["memory"]):
        assert mine[:3] == theirs[:3]
        a = struct.unpack(f"<{len(mine[3]) // 4}f", mine[3])
        b = struct.unpack(f"<{len(theirs[3]) // 4}f", theirs[3])
        worst = max(worst, max(abs(x - y) for x, y in zip(a, b)))
    assert len(resumed["memory"]) == 501 and worst < 1e-4, worst
    return worst


def upgrade_then_resume_run_2(binary, fixtures, version, done, tmp):
    """The schema-@version fixture of run 1 (rmt_blocks on long_input(4000), 30 segments, complete) and run 2
    (the memformer fixture on the same input, stopped after @done segments): read as it is, upgraded by
    recording a one-segment third run into it with every value kept, then run 2 resumed to the end like an
    uninterrupted recording. Returns the upgraded file."""
    source, db, original = old_recording(fixtures, version, tmp)
    text, db_ref = long_input(tmp, 4000), os.path.join(tmp, "fresh.sqlite")
    assert_runs(binary, db, [(30, "complete", "rmt"), (done, "incomplete", "memformer")])
    model = os.path.join(fixtures, "memformer.safetensors")
    read_then_upgrade(binary, version, (source, db, original), tmp, [(["1", "2"], TWO_RUN_FIGURES)],
                      ["record", model, text, "--recording", db, "--max-segments", "1", "--name", "third"],
                      {1: 30, 2: done})
    assert check_committed_complete(db, 2, "memformer", f32_below=done) == (done, "incomplete")
    worst = resume_like_fresh(binary, model, text, db, 2, db_ref, done)
    print(f"schema-{version} runs upgraded, run 2 resumed: memory within {worst:.2g} of an uninterrupted recording")
    return db


def schema_3_recording(binary, fixtures):
    """tests/data/recordings/recording-v3.sqlite was written by the schema-3 build: run 1 the rmt_blocks
    fixture on long_input(4000), 30 segments, complete; run 2 the memformer fixture on the same input, stopped
    by a full disk after 72 segments; f16 attention of every kind. Read-only, it lists and draws every view
    as it is (its idx, old_share, cos_prev and per-architecture attention kinds read through views with
    schema 4's names) and stays byte for byte unchanged. Recording into it upgrades it to schema 4 with every
    value kept and the same figures; run 2 then resumes to the end."""
    with tempfile.TemporaryDirectory() as tmp:
        upgrade_then_resume_run_2(binary, fixtures, 3, 72, tmp)


def schema_4_recording(binary, fixtures):
    """tests/data/recordings/recording-v4.sqlite was written by the schema-4 build: run 1 the rmt_blocks
    fixture on long_input(4000), 30 segments, complete; run 2 the memformer fixture on the same input, killed
    after 65 segments; f16 attention of every kind; no writer pid or host. Read-only, it lists and draws every
    view as it is (its segments read as tokenized by bytes through a view with schema 5's token columns) and
    stays byte for byte unchanged. Recording into it upgrades it to schema 5 with every value kept and the same
    figures; run 2 then resumes to the end."""
    with tempfile.TemporaryDirectory() as tmp:
        db = upgrade_then_resume_run_2(binary, fixtures, 4, 65, tmp)
        with ro(db) as c:   # the new run's segment: bytes, so its ids and ends are the text's own
            assert c.execute("SELECT byte_begin, token_ids, token_ends FROM segments WHERE run_id = 3").fetchall() \
                == [(0, None, None)]


def schema_5_recording(binary, fixtures):
    """tests/data/recordings/recording-v5.sqlite was written by the schema-5 build: run 1 the rmt_blocks
    fixture on long_input(4000), 30 segments, compact; run 2 the memformer fixture on the same input, 20
    segments, f16 attention; both complete; the models stored by file name alone, found beside the recording.
    Read-only, it lists and draws every view as it is (no causal retention or reset-memory baseline: the tables
    read as empty) and stays byte for byte unchanged. `causal` upgrades it to the current schema with every value kept and
    the same figures, and stores run 1's causal retention and reset-memory baseline."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = old_two_run_recording(binary, fixtures, 5, tmp)
        db = paths[1]
        # run 1's NLL view gains the reset-memory baseline as a second line
        done = json.loads(read_then_upgrade(binary, 5, paths, tmp, [(["1", "2"], TWO_RUN_FIGURES)],
                                            ["causal", db, "--run", "1", "--horizon", "4", "--json"],
                                            {1: 30, 2: 20}, changed={("1", "nll")}))
        assert (done["sources_computed"], done["reset_memory_segments"]) == (29, 30), done
        with ro(db) as c:
            assert c.execute("SELECT count(*) FROM causal WHERE run_id = 1").fetchone()[0] == 29
            assert c.execute("SELECT count(*) FROM reset_memory WHERE run_id = 1").fetchone()[0] == 30
        print("schema-5 recording read as it is, upgraded by causal")


def upgrade_by_causal_run_2(binary, version, paths, tmp):
    """read_then_upgrade of a schema-@version two-run fixture whose run 1 holds causal retention (@paths from
    old_two_run_recording): its views and run 1's causal view read as they are, and `causal` on run 2
    (horizon 2) upgrades it; run 2's NLL view gains the reset-memory baseline as a second line."""
    read_then_upgrade(binary, version, paths, tmp, [(["1", "2"], TWO_RUN_FIGURES), (["1"], {"causal": []})],
                      ["causal", paths[1], "--run", "2", "--horizon", "2", "--json"], {1: 30, 2: 20},
                      changed={("2", "nll")})


def schema_6_recording(binary, fixtures):
    """tests/data/recordings/recording-v6.sqlite was written by the schema-6 build: run 1 the rmt_blocks
    fixture on long_input(4000), 30 segments, compact, with causal retention (initial, horizon 4) and the
    reset-memory baseline; run 2 the memformer fixture on the same input, 20 segments, f16 attention; both
    complete; the models stored by file name alone. Schema 6 kept one memory row per state and the transfer
    in segments. Read-only, it lists and draws every view as it is (its memory rows read as chunks of one
    state) and stays byte for byte unchanged; replayed attention of its compact run is the same. `causal`
    upgrades it to the current schema (each transfer moved into its memory row) with every value kept and the
    same figures."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = old_two_run_recording(binary, fixtures, 6, tmp)
        db = paths[1]
        upgrade_by_causal_run_2(binary, 6, paths, tmp)
        with ro(db) as c:
            # run 1 (RMT) stores a transfer per segment, now beside its memory state; run 2 (Memformer) none
            assert c.execute("SELECT count(*) FROM memory WHERE run_id = 1 AND transfer IS NOT NULL").fetchone()[0] == 30
            assert c.execute("SELECT count(*) FROM memory WHERE run_id = 2 AND transfer IS NOT NULL").fetchone()[0] == 0
            assert c.execute("SELECT count(*) FROM segments WHERE gate IS NOT NULL").fetchone()[0] == 0
        print("schema-6 recording read as it is, upgraded by causal")


def schema_7_recording(binary, fixtures):
    """tests/data/recordings/recording-v7.sqlite was written by the schema-7 build as recording-v6.sqlite was
    by the schema-6 one (run 1 rmt_blocks, 30 segments, compact, causal initial horizon 4 and the reset-memory
    baseline; run 2 memformer, 20 segments, f16 attention). Its per-slot arrays are f32. Read-only, it draws
    every view as it is and stays byte for byte unchanged. `causal` upgrades it to schema 8, where the tables
    stay and every value is kept; a run recorded into it then stores narrow arrays (core/ms-recording-names.h)
    beside the older runs' f32 ones, and both kinds read."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = old_two_run_recording(binary, fixtures, 7, tmp)
        db = paths[1]
        upgrade_by_causal_run_2(binary, 7, paths, tmp)

        model = os.path.join(tmp, "rmt_blocks.safetensors")
        r = cli(binary, "record", model, long_input(tmp, 4000), "--recording", db, "--max-segments", "30")
        assert r.returncode == 0, r.stderr
        with ro(db) as c:
            lengths = c.execute("SELECT run_id, length(retention), token_share IS NULL FROM segments WHERE segment = 0"
                                " ORDER BY run_id").fetchall()
            k, k2 = (c.execute("SELECT rows FROM memory WHERE run_id = ? AND segment = -1", (run,)).fetchone()[0]
                     for run in (1, 2))
            old, new = (c.execute("SELECT retention FROM segments WHERE run_id = ? ORDER BY segment", (run,)).fetchall()
                        for run in (1, 3))
        assert lengths == [(1, 4 * k, 0), (2, 4 * k2, 0), (3, narrow_bytes("retention", k), 1)], lengths
        # the same model on the same input: the narrow retention is the f32 one to within half a 12-bit step
        for (a,), (b,) in zip(old, new):
            for x, y in zip(unpack_slots(a, k, "retention"), unpack_slots(b, k, "retention")):
                assert abs(x - y) <= 0.5 / 4094 + 1e-6, (x, y)
        export_figures(binary, db, ["3"], TWO_RUN_FIGURES, tmp, "v8")
        print("schema-7 recording read as it is, upgraded by causal; a schema-8 run beside it reads")


def read_only_location(binary, fixtures):
    # /proc refuses new files even to root (CI runs as root, so chmod would not do)
    db = "/proc/self/memscope-test.sqlite"
    model = os.path.join(fixtures, "memformer.safetensors")
    with tempfile.TemporaryDirectory() as tmp:
        r = cli(binary, "record", model, long_input(tmp, 100), "--recording", db)
    assert r.returncode == 1 and db in r.stderr, (r.returncode, r.stderr)
    assert not os.path.exists(db)


def missing_run(binary, fixtures):
    with tempfile.TemporaryDirectory() as tmp:
        text, db = long_input(tmp, 100), os.path.join(tmp, "r.sqlite")
        model = os.path.join(fixtures, "memformer.safetensors")
        assert cli(binary, "record", model, text, "--recording", db).returncode == 0
        r = cli(binary, "record", model, text, "--recording", db, "--resume", "7")
        assert r.returncode == 1 and "no run 7" in r.stderr, r.stderr
        r = cli(binary, "record", model, text, "--recording", db, "--resume", "1")
        assert r.returncode == 1 and "already complete" in r.stderr, r.stderr
        other = os.path.join(fixtures, "rmt_causal.safetensors")
        with ro(db) as c:
            c.execute("SELECT 1")
        # resuming with another model file than the run's is refused
        with sqlite3.connect(db) as c:
            c.execute("UPDATE runs SET status = 'incomplete' WHERE id = 1")
        r = cli(binary, "record", other, text, "--recording", db, "--resume", "1")
        assert r.returncode == 1 and "another model" in r.stderr, r.stderr
        r = cli(binary, "runs", os.path.join(tmp, "absent.sqlite"))
        assert r.returncode == 1 and "no such recording" in r.stderr, r.stderr
        assert not os.path.exists(os.path.join(tmp, "absent.sqlite"))


def damaged_values(binary, fixtures):
    """A recording comes from other people: a stored word Memscope never writes (a run status, an attention
    dtype), an attention BLOB that does not match its own shape, or a compact run's memory state that is not K x d
    f32 values is reported, naming the file, not read."""
    with tempfile.TemporaryDirectory() as tmp:
        text, db = long_input(tmp, 200), os.path.join(tmp, "r.sqlite")
        model = os.path.join(fixtures, "rmt_blocks.safetensors")
        assert cli(binary, "record", model, text, "--recording", db, "--attn", "f16").returncode == 0
        assert cli(binary, "record", model, text, "--recording", db).returncode == 0
        write = ["export", db, "--run", "1", "--view", "write", "--segment", "3", "--out", os.path.join(tmp, "w.svg")]
        assert cli(binary, *write).returncode == 0
        # run 2 is compact: its attention is replayed from the memory state before the segment, which must be
        # exactly K x d f32 values
        replayed = ["export", db, "--run", "2", "--view", "write", "--segment", "3", "--out", os.path.join(tmp, "c.svg")]
        assert cli(binary, *replayed).returncode == 0
        with sqlite3.connect(db) as c:
            # the memory chunk holding the state after segment 2 (core/ms-db.h)
            c.execute("UPDATE memory SET data = CAST(data || x'00' AS BLOB) WHERE id = (SELECT max(id) FROM memory "
                      "WHERE run_id = 2 AND segment <= 2)")
        r = cli(binary, *replayed)
        assert r.returncode == 1 and db in r.stderr and "damaged" in r.stderr, (r.returncode, r.stderr)
        with sqlite3.connect(db) as c:
            # one head of segment 3's last-layer write attention loses its last value
            c.execute("UPDATE attention SET data = substr(data, 1, length(data) - 2) WHERE id ="
                      " (SELECT max(id) FROM attention WHERE run_id = 1 AND segment = 3 AND kind = 'write')")
        r = cli(binary, *write)
        assert r.returncode == 1 and db in r.stderr and "damaged" in r.stderr, (r.returncode, r.stderr)
        with sqlite3.connect(db) as c:
            c.execute("PRAGMA ignore_check_constraints = ON")
            c.execute("UPDATE runs SET status = 'paused' WHERE id = 1")
        r = cli(binary, "runs", db)
        assert r.returncode == 1 and db in r.stderr and "paused" in r.stderr, (r.returncode, r.stderr)


def usage(binary, fixtures):
    model = os.path.join(fixtures, "memformer.safetensors")
    for args in (["record", model, model], ["record", model, model, "--recording", "x", "--attn", "f8"],
                 ["record", model, model, "--recording", "x", "--segment-len", "99"], ["runs"]):
        r = cli(binary, *args)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
    for cmd in ("record", "runs"):
        r = cli(binary, cmd, "--help")
        assert r.returncode == 0 and "Usage" in r.stdout
    # the file is a recording in the help and in the messages: --recording, never --db or "database"
    r = cli(binary, "record", "--help")
    assert "--recording" in r.stdout and "--db" not in r.stdout and "database" not in r.stdout, r.stdout
    r = cli(binary, "record", model, model)
    assert "--recording FILE is required" in r.stderr, r.stderr


def main():
    binary, fixtures, case = sys.argv[1:4]
    globals()[case](binary, fixtures)
    print(f"{case}: ok")


if __name__ == "__main__":
    main()
