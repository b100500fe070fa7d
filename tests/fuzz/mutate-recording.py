#!/usr/bin/env python3
"""mutate-recording.py REPLAY SEED... — a deterministic, structure-aware mutation fuzz of the recording
reader: mutants of the seed recordings (made by this build's memscope-cli, recording-seeds.sh), each edited
through Python's sqlite3 so that every mutation lands in a value the reader uses rather than in SQLite's page
format (which the libFuzzer target, fuzz-recording-read.c, covers), each run through REPLAY
(fuzz-replay-recording: every run listed, every view loaded whole and zoomed, attention stored or replayed,
tokens, NLL, texts — the workbench's reads, without the window).  A mutant must be refused with a message
or read: REPLAY exits 0, with no sanitizer report, within the timeout.

The mutations are what a consistent forgery needs and byte flips rarely reach: an integer set to an edge
value or off by one, a BLOB's f32 or f16 values set to inf, NaN, 1e30, −1 or 2 at random places, a BLOB cut
or grown by a value or a whole row of a matrix (with its rows or n_states changed to match, so the lengths
agree), a BLOB or integer copied from another row (another segment's attention, another run's memory), a row
copied under a free key or deleted, a number in a model's configuration changed.  Mutant i of seed s uses
random.Random(f"{s}:{i}"), so a failure is reproduced by its number alone.

Environment: FUZZ_MUTANTS (mutants per seed, default 24), FUZZ_ONLY=SEED:I (one mutant, kept and named).
Exit 1 naming each mutant that failed, with its mutations.
"""
import os
import random
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile

TIMEOUT = 300
MARKS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "runtime error:")
INTS = [0, 1, -1, 2, 3, 7, 8, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 62,
        -(2 ** 31), -(2 ** 63)]
F32 = [float("inf"), float("-inf"), float("nan"), 1e30, -1.0, 2.0, 1.0000001, -0.0, 1e-45, 3.4e38]
F16 = [0x7C00, 0xFC00, 0x7E00, 0xC000, 0x4000, 0x3C01, 0x8000, 0x7BFF, 0x0001]


def tables(c):
    return [name for (name,) in c.execute("SELECT name FROM sqlite_schema WHERE type = 'table' "
                                           "AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def columns(c, table):
    return [(row[1], (row[2] or "").upper()) for row in c.execute(f"PRAGMA table_info({table})")]


def pick_row(c, rng, table):
    rowids = [r for (r,) in c.execute(f"SELECT rowid FROM {table}")]
    return rng.choice(rowids) if rowids else None


def mutate_blob(rng, blob, log):
    b = bytearray(blob)
    op = rng.randrange(5)
    if op == 0 and len(b) >= 4:                      # f32 values
        for _ in range(rng.randint(1, 3)):
            at = 4 * rng.randrange(len(b) // 4)
            v = rng.choice(F32)
            b[at:at + 4] = struct.pack("<f", v)
            log.append(f"f32[{at // 4}]={v}")
    elif op == 1 and len(b) >= 2:                    # f16 values, or 12-bit codes' bytes
        for _ in range(rng.randint(1, 3)):
            at = 2 * rng.randrange(len(b) // 2)
            v = rng.choice(F16)
            b[at:at + 2] = struct.pack("<H", v)
            log.append(f"u16[{at // 2}]={v:#x}")
    elif op == 2:                                    # cut
        n = min(len(b), rng.choice([1, 2, 4, 8, len(b) // 2 or 1]))
        del b[len(b) - n:]
        log.append(f"cut {n}")
    elif op == 3:                                    # grow
        n = rng.choice([1, 2, 4, 8, len(b) or 1])
        b += bytes(rng.randrange(256) for _ in range(n)) if rng.random() < 0.5 else b[:n] or b"\0" * n
        log.append(f"grow {n}")
    else:                                            # bytes
        for _ in range(rng.randint(1, 4)):
            if b:
                at = rng.randrange(len(b))
                b[at] = rng.randrange(256)
        log.append("bytes")
    return bytes(b)


def reshape(c, rng, log):
    """A matrix or chunk one row (or state) longer or shorter, its lengths kept consistent."""
    if rng.random() < 0.5 and "attention" in tables(c):
        rowid = pick_row(c, rng, "attention")
        if rowid is None:
            return
        rows, cols, dtype, data = c.execute("SELECT rows, cols, dtype, data FROM attention WHERE rowid = ?",
                                            (rowid,)).fetchone()
        size = 2 if dtype == "f16" else 4
        if not isinstance(rows, int) or not isinstance(cols, int) or not isinstance(data, bytes):
            return
        d = rng.choice([-1, 1])
        line = cols * size
        data = data[:len(data) - line] if d < 0 else data + data[:line]
        # every head of the same segment, kind and layer, or just this one
        where = ("rowid IN (SELECT a.rowid FROM attention a, attention b WHERE b.rowid = ? AND a.run_id = b.run_id "
                 "AND a.segment = b.segment AND a.kind = b.kind AND a.layer = b.layer)") if rng.random() < 0.6 \
            else "rowid = ?"
        for (r,) in c.execute(f"SELECT rowid FROM attention WHERE {where}", (rowid,)).fetchall():
            c.execute("UPDATE attention SET rows = rows + ?, data = ? WHERE rowid = ?", (d, data, r))
        log.append(f"attention {rowid} rows {d:+d}")
    elif "memory" in tables(c) and "n_states" in dict(columns(c, "memory")):
        rowid = pick_row(c, rng, "memory")
        if rowid is None:
            return
        n, rows, cols, data, transfer = c.execute("SELECT n_states, rows, cols, data, transfer FROM memory "
                                                  "WHERE rowid = ?", (rowid,)).fetchone()
        if not all(isinstance(x, int) for x in (n, rows, cols)) or not isinstance(data, bytes):
            return
        d = rng.choice([-1, 1])
        state, tstate = rows * cols * 4, rows * rows * 4
        data = data[:len(data) - state] if d < 0 else data + data[-state:]
        if isinstance(transfer, bytes):
            transfer = transfer[:len(transfer) - tstate] if d < 0 else transfer + transfer[-tstate:]
        c.execute("UPDATE memory SET n_states = n_states + ?, data = ?, transfer = ? WHERE rowid = ?",
                  (d, data, transfer, rowid))
        log.append(f"memory {rowid} n_states {d:+d}")


def mutate_once(c, rng, log):
    ts = tables(c)
    op = rng.randrange(10)
    if op == 0:
        reshape(c, rng, log)
        return
    # the tables a view reads per segment first: a broken model or run row stops a read at its start
    weights = {"segments": 4, "memory": 3, "attention": 3}
    table = rng.choices(ts, [weights.get(t, 1) for t in ts])[0]
    rowid = pick_row(c, rng, table)
    if rowid is None:
        return
    cols = columns(c, table)
    if op == 1:                                      # a row copied under a free key, or deleted
        if rng.random() < 0.5:
            c.execute(f"DELETE FROM {table} WHERE rowid = ?", (rowid,))
            log.append(f"{table} {rowid} deleted")
        else:
            free = c.execute(f"SELECT max(rowid) + 1 FROM {table}").fetchone()[0]
            names = ", ".join(n for n, _ in cols)
            c.execute(f"INSERT INTO {table} (rowid, {names}) SELECT ?, {names} FROM {table} WHERE rowid = ?",
                      (free if rng.random() < 0.5 else rowid + 1, rowid))
            log.append(f"{table} {rowid} copied")
        return
    name, decl = rng.choice(cols)
    value = c.execute(f"SELECT {name} FROM {table} WHERE rowid = ?", (rowid,)).fetchone()[0]
    if op == 2:                                      # from another row of the same column
        other = pick_row(c, rng, table)
        new = c.execute(f"SELECT {name} FROM {table} WHERE rowid = ?", (other,)).fetchone()[0]
        log.append(f"{table}.{name} {rowid} = row {other}'s")
    elif name == "config" and isinstance(value, str):
        keys = [k for (k,) in c.execute("SELECT key FROM json_each(?) WHERE type = 'integer'", (value,))]
        if not keys:
            return
        key = rng.choice(keys)
        new = c.execute("SELECT json_set(?, '$.' || ?, json_extract(?, '$.' || ?) + ?)",
                        (value, key, value, key, rng.choice([-1, 1, 8, -8]))).fetchone()[0]
        log.append(f"{table}.config.{key} changed")
    elif isinstance(value, bytes):
        new = mutate_blob(rng, value, log)
        log.append(f"{table}.{name} {rowid}")
    elif isinstance(value, int) or "INT" in decl:
        base = value if isinstance(value, int) else 0
        new = rng.choice(INTS) if rng.random() < 0.5 else base + rng.choice([-1, 1, -2, 2])
        log.append(f"{table}.{name} {rowid} = {new}")
    elif isinstance(value, float) or "REAL" in decl:
        new = rng.choice([float("inf"), -1.0, float("nan"), 1e308, 0.0])
        log.append(f"{table}.{name} {rowid} = {new}")
    else:
        new = rng.choice(["", "x" * 300, "none", "f32", "incomplete", "\x00", None])
        log.append(f"{table}.{name} {rowid} = {new!r:.20}")
    c.execute(f"UPDATE {table} SET {name} = ? WHERE rowid = ?", (new, rowid))


def make_mutant(seed, path, key):
    rng = random.Random(key)
    shutil.copyfile(seed, path)
    log = []
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("PRAGMA ignore_check_constraints = ON")
    c.execute("PRAGMA foreign_keys = OFF")
    for _ in range(rng.randint(1, 3)):
        try:
            mutate_once(c, rng, log)
        except (sqlite3.Error, OverflowError, ValueError) as e:   # SQLite itself refuses that row
            log.append(f"(refused: {e})")
    c.close()
    return log


def main():
    replay, seeds = sys.argv[1], sys.argv[2:]
    per_seed = int(os.environ.get("FUZZ_MUTANTS", "24"))
    only = os.environ.get("FUZZ_ONLY")
    failures, n = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            label = os.path.basename(seed)
            for i in range(per_seed):
                key = f"{label}:{i}"
                if only and only != key:
                    continue
                path = os.path.join(tmp, f"{label}-{i}.sqlite")
                log = make_mutant(seed, path, key)
                n += 1
                try:
                    r = subprocess.run([replay, path], capture_output=True, text=True, errors="replace",
                                       timeout=TIMEOUT, env=dict(os.environ, FUZZ_WHOLE="1"))
                    bad = r.returncode != 0 or any(m in r.stderr for m in MARKS)
                    what = f"exit {r.returncode}\n{r.stderr[-3000:]}"
                except subprocess.TimeoutExpired:
                    bad, what = True, f"no answer within {TIMEOUT} s"
                if bad:
                    kept = os.path.join(os.getcwd(), f"mutant-{label}-{i}.sqlite")
                    shutil.copyfile(path, kept)
                    failures.append(f"FUZZ_ONLY={key} ({'; '.join(log)}), kept as {kept}: {what}")
                os.unlink(path)
    print(f"{n} mutants of {len(seeds)} seeds, {len(failures)} failures")
    for f in failures[:20]:
        print("FAIL", f, file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
