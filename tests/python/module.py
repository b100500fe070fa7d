#!/usr/bin/env python3
"""The memscope Python module (app/python/memscope) against the C reader.

Every number the module gives is compared with what memscope-cli gives for
the same file: each view's CSV (`export --out FILE.csv`: retention,
representation, read usage, slot types, NLL, provenance (mean and one slot,
and over a horizon), similarity, read-heads and write-heads (every layer,
head and the head mean) and read and write), `runs --json`, `tokenize --json`, `run --reset-memory --json` and
`causal --json` (schema 6's tables), and the C writer's own
memory_delta and representation columns against the module's memory states.
The files: the committed recordings of schemas 1 to 7 (read as they are),
and recordings made now by memscope-cli of the three architectures (Memformer,
RMT with both masks, MemBART), compact
(whose attention the module gets through memscope-cli's replay) and with f32
and f16 attention (read from the file), including a BPE model's run.  And
defensive reading: altered files are refused with a MemscopeError naming the
file, never another exception.

usage: module.py CLI FIXTURE_DIR CASE
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "app", "python"))
import memscope  # noqa: E402

RECORDINGS = os.path.join(HERE, "..", "data", "recordings")
# CSV holds nine significant digits (a float reads back exactly).  The module
# computes provenance and similarity in float64 where the C core sums in
# float32 (provenance) or stores mean unit vectors as float32 (similarity).
EXACT = dict(rtol=0, atol=0)
FLOAT32_SUMS = dict(rtol=0, atol=2e-6)


def cli(binary, *args, check=True):
    r = subprocess.run([binary, *args], capture_output=True, text=True, env=dict(os.environ, LC_ALL="C.UTF-8"))
    if check:
        assert r.returncode == 0, f"{args}: {r.stderr}"
    return r


def export(binary, db, run, view, *extra):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "v.csv")
        cli(binary, "export", db, "--run", str(run), "--view", view, "--out", out, *extra)
        with open(out, encoding="utf-8") as f:
            return memscope.parse_csv(f.read(), out)


def same(name, got, want, tol):
    """@got equals @want within @tol; EXACT: as float32 values (a CSV's nine digits name one float32)."""
    dtype = np.float32 if tol is EXACT else np.float64
    got, want = np.asarray(got).astype(dtype), np.asarray(want, dtype=np.float64).astype(dtype)
    assert got.shape == want.shape, f"{name}: shape {got.shape}, the C reader's {want.shape}"
    np.testing.assert_allclose(got, want, equal_nan=True, err_msg=name, **tol)


def rec_version(con):
    return con.execute("PRAGMA user_version").fetchone()[0]


def check_run(binary, db, run, attention_segments=None):
    """Every view of @run against the C reader's CSV."""
    S, K = run.segments_done, run.n_slots
    tag = f"{os.path.basename(db)} run {run.id} ({run.arch}, attn {run.attn})"
    for view, got in (("retention", run.retention()), ("representation", run.representation()),
                      ("read-usage", run.read_usage())):
        v = export(binary, db, run.id, view)
        assert v.columns == [str(t) for t in range(S)] and v.rows == [str(i) for i in range(K)], (view, v)
        same(f"{tag}: {view}", got.T, v.values, EXACT)
    v = export(binary, db, run.id, "types")
    assert v.columns == ["retain", "mixed", "overwrite"], v.columns
    same(f"{tag}: types", run.slot_types().astype(np.float32), v.values, EXACT)
    v = export(binary, db, run.id, "types", "--retain-at", "0.6", "--overwrite-at", "0.4")
    same(f"{tag}: types 0.6/0.4", run.slot_types(0.6, 0.4).astype(np.float32), v.values, EXACT)
    v = export(binary, db, run.id, "nll")
    assert v.columns[0] == "mean NLL", v.columns
    same(f"{tag}: nll", run.nll()[:, None], v.values[:, :1], EXACT)
    if "memory reset at every segment" in v.columns:   # the NLL view's second line, once causal computed it
        k = v.columns.index("memory reset at every segment")
        same(f"{tag}: reset-memory nll", run.reset_memory_nll()[:, None], v.values[:, k:k + 1],
             {"rtol": 1e-5, "atol": 1e-6})
    # provenance: rows are sources -1 ... S-1, columns the segments; the C view has no value for a source
    # after the segment, the module's array 0
    future = np.tril(np.ones((S + 1, S), dtype=bool), k=-2)
    for slot in (None, K - 1):
        p = run.provenance(slot=slot).T
        assert np.all(p[future] == 0), f"{tag}: provenance from the future"
        p[future] = np.nan
        v = export(binary, db, run.id, "provenance", *(["--slot", str(slot)] if slot is not None else []))
        assert v.rows == [str(s) for s in range(-1, S)], v.rows
        same(f"{tag}: provenance slot {slot}", p, v.values, FLOAT32_SUMS)
    # provenance over a horizon H: the initial memory, "older" (before t - H) and t - H ... t, against the C view
    # and against the full provenance folded by hand
    full = run.provenance()
    for horizon, slot in ((1, None), (3, K - 1), (S + 2, None)):
        got = run.provenance(slot=slot, horizon=horizon)
        v = export(binary, db, run.id, "provenance", "--horizon", str(horizon),
                   *(["--slot", str(slot)] if slot is not None else []))
        assert v.rows == ["initial", "older"] + [f"t-{k}" for k in range(horizon, 0, -1)] + ["t"], v.rows
        assert v.columns == [str(t) for t in range(S)], v.columns
        same(f"{tag}: provenance horizon {horizon} slot {slot}", got.T, v.values, FLOAT32_SUMS)
        whole = full if slot is None else run.provenance(slot=slot)
        folded = np.full((S, horizon + 3), np.nan)
        for t in range(S):
            folded[t, 0] = whole[t, 0]
            if t - horizon - 1 >= 0:
                folded[t, 1] = whole[t, 1:t - horizon + 1].sum()
            for j in range(horizon + 1):
                if t - horizon + j >= 0:
                    folded[t, 2 + j] = whole[t, t - horizon + j + 1]
        same(f"{tag}: horizon {horizon} folded", got, folded, dict(rtol=0, atol=1e-9))
    # read in windows of 2 segments of transfer and shares (the module's are 4,096): the same numbers exactly
    window, horizon_3 = memscope.recording.PROVENANCE_WINDOW, run.provenance(slot=K - 1, horizon=3)
    memscope.recording.PROVENANCE_WINDOW = 2
    try:
        same(f"{tag}: provenance in windows of 2", run.provenance(), full, dict(rtol=0, atol=0))
        same(f"{tag}: provenance horizon 3 in windows of 2", run.provenance(slot=K - 1, horizon=3), horizon_3,
             dict(rtol=0, atol=0))
    finally:
        memscope.recording.PROVENANCE_WINDOW = window
    same(f"{tag}: similarity", run.similarity(), export(binary, db, run.id, "similarity").values, FLOAT32_SUMS)
    # the memory states against the C writer's own numbers of them
    M = run.memory().astype(np.float64)
    assert M.shape == (S + 1, K, run.d_model)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = (M[1:] * M[:-1]).sum(2) / np.sqrt((M[1:] ** 2).sum(2) * (M[:-1] ** 2).sum(2))
        delta = np.sqrt(((M[1:] - M[:-1]) ** 2).sum((1, 2)) / (M[:-1] ** 2).sum((1, 2)))
    rep = run.representation()
    if not np.all(np.isnan(rep)):
        # schema 8 stores it as 12-bit fixed point over [-1, 1] (core/ms-recording-names.h): half a step
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            narrow = rec_version(con) >= 8
        same(f"{tag}: representation from memory", cos, rep, dict(rtol=0, atol=1 / 4094 + 1e-5 if narrow else 1e-5))
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    stored = [r[0] for r in con.execute(f"SELECT memory_delta FROM segments WHERE run_id = ? ORDER BY "
                                        f"{'segment' if rec_version(con) >= 4 else 'idx'}", (run.id,))]
    con.close()
    assert len(stored) == S
    same(f"{tag}: memory_delta from memory", delta, [np.nan if x is None else x for x in stored],
         dict(rtol=1e-5, atol=1e-6))
    # attention: every layer and head and the mean against the read-heads and write-heads grids (layers down,
    # heads and then the mean across), and the head mean and last head of the last layer against read and write
    for t in attention_segments if attention_segments is not None else sorted({0, S - 1}):
        for kind in ("read", "write"):
            rows, cols = run.attention_shape(t, kind)
            grid = export(binary, db, run.id, kind + "-heads", "--segment", str(t)).values
            L = run.n_layers(kind)
            assert grid.shape == (L * rows, (run.n_heads + 1) * cols), (grid.shape, L, rows, cols)
            for layer in range(L):
                for h, head in enumerate(list(range(run.n_heads)) + [None]):
                    same(f"{tag}: {kind}-heads segment {t} layer {layer} head {head}", run.attention(t, kind, layer, head),
                         grid[layer * rows:(layer + 1) * rows, h * cols:(h + 1) * cols], EXACT)
            layer_args = ["--layer", str(L - 1)] if memscope.ARCHITECTURES[run.arch]["layers"][kind] else []
            for head in (None, run.n_heads - 1):
                v = export(binary, db, run.id, kind, "--segment", str(t), *layer_args,
                           "--head", "mean" if head is None else str(head))
                same(f"{tag}: {kind} segment {t} head {head}", run.attention(t, kind, None, head), v.values, EXACT)
            assert run.attention_heads(t, kind).shape == (run.n_heads, rows, cols)


def check_runs_list(binary, db, rec):
    listed = json.loads(cli(binary, "runs", db, "--json").stdout)
    listed = listed["runs"] if isinstance(listed, dict) else listed
    runs = rec.runs()
    assert [r["id"] for r in listed] == [r.id for r in runs], (listed, runs)
    for want, got in zip(listed, runs):
        assert want["name"] == got.name and want["arch"] == got.arch, (want, got)
        assert want["segments_done"] == got.segments_done and want["n_segments"] == got.n_segments, (want, got)
        assert want["status"] == got.status, (want, got)


def committed_schemas(binary, fixtures):
    """The committed recordings of schemas 1 to 7, read as they are (those of schemas 5 to 7 name their
    models by file name alone: the compact runs replay with the fixtures copied beside them)."""
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("rmt_blocks", "memformer"):
            shutil.copy(os.path.join(fixtures, name + ".safetensors"), tmp)
        for v in (1, 2, 3, 4, 5, 6, 7):
            db = os.path.join(tmp, f"recording-v{v}.sqlite")
            shutil.copy(os.path.join(RECORDINGS, f"recording-v{v}.sqlite"), db)
            with memscope.open(db) as rec:
                assert rec.schema_version == v, rec
                check_runs_list(binary, db, rec)
                for run in rec.runs():
                    check_run(binary, db, run)
            with open(os.path.join(RECORDINGS, f"recording-v{v}.sqlite"), "rb") as a, open(db, "rb") as b:
                assert a.read() == b.read(), "the module changed the recording"


def input_text(tmp, n=300):
    path = os.path.join(tmp, "in.txt")
    words = ["memory", "slot", "segment", " the", " of", "copy", "recall", "\n", "token", "42", "é", "🙂"]
    with open(path, "w", encoding="utf-8") as f:
        f.write(" ".join(words[(i * 7 + i // 5) % len(words)] for i in range(n)))
    return path


def fresh(binary, fixtures):
    """Recordings made now: both architectures compact, f32 and f16; a BPE
    model's run; compact attention equals stored f32 attention."""
    with tempfile.TemporaryDirectory() as tmp:
        text = input_text(tmp)
        db = os.path.join(tmp, "runs.sqlite")
        for model, storage in (("memformer", ("none", "f32", "f16")), ("rmt_causal", ("none", "f32", "f16")),
                               ("rmt_blocks", ("none", "f32")), ("membart", ("none", "f32"))):
            for attn in storage:
                cli(binary, "record", os.path.join(fixtures, model + ".safetensors"), text, "--recording", db,
                    "--attn", attn, "--name", f"{model} {attn}", "--max-segments", "12")
        cli(binary, "record", os.path.join(fixtures, "rmt_bpe.safetensors"), text, "--recording", db,
            "--name", "bpe none", "--max-segments", "12")
        cli(binary, "record", os.path.join(fixtures, "rmt_bpe.safetensors"), text, "--recording", db,
            "--attn", "f32", "--name", "bpe f32", "--max-segments", "12")
        # causal retention (schema 6) of two runs: skip over 3 targets, knockout over 2
        causal_skip = json.loads(cli(binary, "causal", db, "--run", "4", "--replace", "skip", "--horizon", "3",  # rmt_causal none
                                     "--json").stdout)
        causal_knockout = json.loads(cli(binary, "causal", db, "--run", "1", "--replace", "knockout", "--horizon",
                                         "2", "--max-sources", "4", "--json").stdout)
        with memscope.open(db) as rec:
            assert rec.schema_version == memscope.SCHEMA_VERSION
            check_runs_list(binary, db, rec)
            runs = rec.runs()
            by_name = {r.name: r for r in runs}
            for run in runs:
                check_run(binary, db, run, attention_segments=[run.segments_done - 1])
            # a compact run's attention (replayed by memscope-cli) is the f32 run's stored attention, bit for bit
            for model in ("memformer", "rmt_causal", "rmt_blocks", "membart", "bpe"):
                compact, full = by_name[f"{model} none"], by_name[f"{model} f32"]
                assert compact.attn == "none" and full.attn == "f32"
                for q in memscope.SLOT_QUANTITIES:
                    same(f"{model}: {q}", compact.slot_quantity(q), full.slot_quantity(q), EXACT)
                same(f"{model}: memory", compact.memory(), full.memory(), EXACT)
                for t in range(compact.segments_done):
                    for kind in ("read", "write"):
                        for layer in range(compact.n_layers(kind)):
                            same(f"{model}: {kind} {t} {layer}", compact.attention_heads(t, kind, layer),
                                 full.attention_heads(t, kind, layer), EXACT)
                            same(f"{model}: {kind} {t} {layer} mean", compact.attention(t, kind, layer),
                                 full.attention(t, kind, layer), EXACT)
                full_write = by_name["memformer f32"].attention(1, "write")
            # causal retention and the reset-memory baseline as memscope-cli causal stored them
            rmt, memformer = by_name["rmt_causal none"], by_name["memformer none"]
            assert rmt.name == "rmt_causal none" and memformer.name == "memformer none", (rmt, memformer)
            sources, dnll, dacc = rmt.causal("skip")
            S = rmt.segments_done
            n = causal_skip["sources_computed"]
            assert sources.tolist() == list(range(n)) and n >= S - 3, (sources, S)
            assert dnll.shape == (n, 3) and dacc is None, (dnll.shape, dacc)
            # value k of source s is target s + 1 + k: finite inside the run, NaN past its end
            inside = sources[:, None] + 1 + np.arange(3)[None, :] < S
            assert np.all(np.isfinite(dnll[inside])) and np.all(np.isnan(dnll[~inside])), dnll
            for slot in range(memformer.n_slots):
                sources, dnll, _ = memformer.causal("knockout", slot=slot)
                assert sources.tolist() == [0, 1, 2, 3] and dnll.shape == (4, 2), (slot, sources, dnll.shape)
            assert causal_knockout["sources_computed"] == 4, causal_knockout
            assert rmt.causal("initial")[0].size == 0
            for run in (rmt, memformer):
                reset = json.loads(cli(binary, "run", os.path.join(fixtures, run.name.split()[0] + ".safetensors"),
                                       text, "--reset-memory", "--json").stdout)["segments"][:run.segments_done]
                same(f"{run.name}: reset-memory NLL", run.reset_memory_nll(),
                     [np.nan if s["n_predicted"] == 0 else s["mean_nll"] for s in reset], dict(rtol=1e-6, atol=1e-6))
            # tokens: the segments' tokens are tokenize's, with the input's byte ranges
            bpe = by_name["bpe none"]
            toks = json.loads(cli(binary, "tokenize", os.path.join(fixtures, "rmt_bpe.safetensors"), text,
                                  "--json").stdout)
            toks = toks["tokens"] if isinstance(toks, dict) else toks
            ids = np.concatenate([bpe.tokens(t)[0] for t in range(bpe.segments_done)])
            ranges = np.concatenate([bpe.tokens(t)[1] for t in range(bpe.segments_done)])
            n = len(ids)
            assert n > bpe.segments_done and [t["id"] for t in toks[:n]] == ids.tolist()
            assert [[t["start"], t["end"]] for t in toks[:n]] == ranges.tolist()
            with open(text, "rb") as f:
                data = f.read()
            assert b"".join(bpe.text(t) for t in range(bpe.segments_done)) == data[:ranges[-1, 1]]
            same("bpe token nll", np.concatenate([bpe.token_nll(t) for t in range(bpe.segments_done)]).size, n, EXACT)
        # a compact run whose model moved: found through model=, and without it an error naming the file
        model = os.path.join(tmp, "m.safetensors")
        shutil.copy(os.path.join(fixtures, "memformer.safetensors"), model)
        moved_db = os.path.join(tmp, "moved.sqlite")
        cli(binary, "record", model, text, "--recording", moved_db, "--max-segments", "3")
        moved = os.path.join(tmp, "elsewhere", "m.safetensors")
        os.makedirs(os.path.dirname(moved))
        os.rename(model, moved)
        with memscope.open(moved_db) as rec:
            try:
                rec.run(1).attention(1, "write")
                raise AssertionError("a moved model was not reported")
            except memscope.MemscopeError as e:
                assert "moved.sqlite" in str(e) and "--model" in str(e), e
        with memscope.open(moved_db, model=moved) as rec:
            same("moved model", rec.run(1).attention(1, "write"), full_write, EXACT)
            rec.cli = "/nonexistent/memscope-cli"
            try:
                rec.run(1).attention(2, "read")   # a segment not replayed yet
                raise AssertionError("a missing memscope-cli was not reported")
            except memscope.MemscopeError as e:
                assert "moved.sqlite" in str(e) and "memscope-cli" in str(e), e


def expect_refused(path, *needles, call=lambda rec: [r.nll() for r in rec.runs()]):
    try:
        with memscope.open(path) as rec:
            call(rec)
    except memscope.MemscopeError as e:
        assert path in str(e), f"the message does not name the file: {e}"
        for needle in needles:
            assert needle in str(e), f"{needle!r} not in {e}"
        return str(e)
    raise AssertionError(f"{path}: not refused")


def altered(binary, fixtures):
    """Files a recording may be tampered into: refused with a MemscopeError
    naming the file, never another exception, never a hang."""
    with tempfile.TemporaryDirectory() as tmp:
        text = input_text(tmp, 60)
        good = os.path.join(tmp, "good.sqlite")
        cli(binary, "record", os.path.join(fixtures, "rmt_causal.safetensors"), text, "--recording", good,
            "--attn", "f16", "--max-segments", "4")

        def mutant(name, *sql, version=None):
            path = os.path.join(tmp, name + ".sqlite")
            shutil.copy(good, path)
            con = sqlite3.connect(path)
            con.execute("PRAGMA ignore_check_constraints = ON")   # a tampered file need not keep them
            for s in sql:
                con.execute(s)
            if version is not None:
                con.execute(f"PRAGMA user_version = {version}")
            con.commit()
            con.close()
            return path

        expect_refused(os.path.join(tmp, "missing.sqlite"), "no such recording")
        junk = os.path.join(tmp, "junk.sqlite")
        with open(junk, "wb") as f:
            f.write(b"not a database at all" * 100)
        expect_refused(junk, "not an SQLite database")
        expect_refused(mutant("newer", version=memscope.SCHEMA_VERSION + 1), "newer than this module reads")
        expect_refused(mutant("negative", version=-1), "which no Memscope writes")
        expect_refused(mutant("view", "CREATE VIEW extra AS SELECT 1"), "schema is not the one")
        expect_refused(mutant("trigger", "CREATE TRIGGER t AFTER INSERT ON runs BEGIN SELECT 1; END"),
                       "schema is not the one")
        expect_refused(mutant("index", "CREATE INDEX extra ON segments (run_id)"), "schema is not the one")
        expect_refused(mutant("generated", "ALTER TABLE segments ADD COLUMN g AS (1)"), "schema is not the one")
        # a view in place of a table that never ends: refused by the schema check before any query
        expect_refused(mutant("recursive", "DROP TABLE runs", "CREATE VIEW runs AS WITH RECURSIVE c(x) AS "
                              "(SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x AS id FROM c"), "schema is not the one")
        expect_refused(mutant("short_retention", "UPDATE segments SET retention = x'00000000' WHERE segment = 1"),
                       "retention holds 4 bytes", call=lambda rec: rec.run(1).retention())
        expect_refused(mutant("text_retention", "UPDATE segments SET retention = 'abcdabcdabcdabcdabcdabcd'"),
                       "retention holds", call=lambda rec: rec.run(1).retention())
        # (memory chunks, core/ms-db.h: the one from segment 1 holds segments 1 and 2)
        expect_refused(mutant("short_transfer", "UPDATE memory SET transfer = x'0000' WHERE segment = 1"),
                       "transfer holds 2 bytes", call=lambda rec: rec.run(1).provenance())
        expect_refused(mutant("short_memory", "UPDATE memory SET data = substr(data, 1, 8) WHERE segment = 0"),
                       "table memory", call=lambda rec: rec.run(1).memory())
        expect_refused(mutant("memory_shape", "UPDATE memory SET rows = 3, cols = 64 WHERE segment = 0"),
                       "3 x 64", call=lambda rec: rec.run(1).similarity())
        expect_refused(mutant("no_initial_memory", "DELETE FROM memory WHERE segment = -1"),
                       "table memory", call=lambda rec: rec.run(1).memory())
        expect_refused(mutant("attention_blob", "UPDATE attention SET data = x'00' WHERE rowid = (SELECT min(rowid) "
                              "FROM attention WHERE kind = 'read' AND layer = 1)"),
                       "does not match", call=lambda rec: rec.run(1).attention(0, "read"))
        expect_refused(mutant("attention_shape", "UPDATE attention SET rows = cols, cols = rows"),
                       "does not match", call=lambda rec: rec.run(1).attention(0, "write"))
        expect_refused(mutant("copied_segment", "UPDATE segments SET segment = 0 WHERE segment = 1"),
                       "where segment 1 was expected")
        expect_refused(mutant("far_segment", "UPDATE segments SET id = id + 100000, segment = segment + 100000 "
                              "WHERE segment = 3"), "table runs")
        expect_refused(mutant("n_predicted", "UPDATE segments SET n_predicted = 1000000"), "n_predicted")
        expect_refused(mutant("status", "UPDATE runs SET status = 'done'"), "status 'done'")
        expect_refused(mutant("dtype", "UPDATE runs SET attn_dtype = 'f64'"), "attention storage 'f64'")
        expect_refused(mutant("slots", "UPDATE models SET config = json_set(config, '$.n_mem', 16777216)"),
                       "n_mem")
        expect_refused(mutant("config", "UPDATE models SET config = '[[[[[['"), "not a JSON object")
        expect_refused(mutant("arch", "UPDATE models SET arch = 'llama'"), "architecture 'llama'")
        expect_refused(mutant("token_ids", "UPDATE segments SET token_ids = x'ffffff7f', token_ends = x'01000000' "
                              "WHERE segment = 0"), "token_ids", call=lambda rec: rec.run(1).tokens(0))
        expect_refused(mutant("segment_len", "UPDATE runs SET segment_len = 100000"), "segment_len")
        cli(binary, "causal", good, "--run", "1", "--horizon", "2")
        expect_refused(mutant("causal_blob", "UPDATE causal SET delta_nll = x'0000' WHERE source = 1"),
                       "delta_nll holds 2 bytes", call=lambda rec: rec.run(1).causal())
        expect_refused(mutant("causal_source", "UPDATE causal SET source = 100 WHERE source = 1"),
                       "table causal", call=lambda rec: rec.run(1).causal())
        expect_refused(mutant("reset_key", "UPDATE reset_memory SET segment = segment + 1 WHERE segment = 0"),
                       "table reset_memory", call=lambda rec: rec.run(1).reset_memory_nll())
        # SQLite's own damage: pages overwritten
        damaged = os.path.join(tmp, "pages.sqlite")
        with open(good, "rb") as f:
            data = bytearray(f.read())
        page = int.from_bytes(data[16:18], "big") or 65536
        for p in range(1, len(data) // page):
            if p % 2:
                data[p * page + 8:p * page + 200] = bytes(range(192))
        with open(damaged, "wb") as f:
            f.write(bytes(data))
        try:
            with memscope.open(damaged) as rec:
                for run in rec.runs():
                    run.retention(), run.memory(), run.provenance()
        except memscope.MemscopeError as e:
            assert damaged in str(e), e
        # the untouched file reads, and opening never wrote it
        with open(good, "rb") as f:
            before = f.read()
        with memscope.open(good) as rec:
            assert rec.run(1).memory().shape[0] == 5
        with open(good, "rb") as f:
            assert f.read() == before


CASES = {"committed_schemas": committed_schemas, "fresh": fresh, "altered": altered}

if __name__ == "__main__":
    binary, fixtures, case = sys.argv[1:4]
    CASES[case](binary, fixtures)
    print(f"{case}: ok")
