#!/usr/bin/env python3
"""A recording shared with a hostile -wal (and -shm) beside it.

A -wal travels with its recording when a recorder was killed before its
checkpoint; whoever mails the pair may have broken or forged the -wal.  What
Memscope does with a -wal it finds beside a recording it reads: SQLite
applies every transaction the -wal committed (frames carrying the header's
salts and an unbroken checksum chain, up to the last commit frame) and
ignores the rest; a -wal with a bad header is ignored.  Where SQLite can make
the -shm (a folder the reader may write) SQLite does this itself, and the
-shm it makes stays beside the file (read-only handles never checkpoint;
any -shm found there is rebuilt from the -wal, never trusted, when no writer
has it open); where it cannot (a read-only folder or medium), Memscope reads
the file and the committed frames into memory (core/ms-db-wal.c) by the
same rules.  Either way the recording file itself is never written, and
what the -wal commits is read as untrusted as the file's own pages.

Each hostile -wal is read by `runs`, `export` (retention, nll, write) and
the Python module in both places (the read-only folder as `nobody` when run
as root): every command exits 0 or 1 within its timeout, never with a signal
or a sanitizer report, an exit 1 names the recording, the recording's bytes
are unchanged, and an honest -wal cut short still shows its committed
transactions.  The -wal variants: garbage, a header cut short, a header alone, the last
frame torn, committed transactions beside a file whose header says rollback
mode (SQLite applies a -wal it finds whatever the header says), another
recording's -wal, every committed page replaced by garbage under valid
checksums, a commit claiming 2^31 pages (with page 1's header claiming them
too or not), a frame for page 2^32 - 1, a 512-byte-page -wal beside an 8
KiB-page file, page 1 with another page size, and transactions SQLite itself
committed holding hostile values (retention inf, n_segments -1, a segment
row deleted); some with a garbage -shm beside them.

The readers' work budget counts what is really there: beside the -wals whose
commit claims 2^31 pages (and an honest one; SQLite's page_count is 2^31
where page 1 claims them too), an expensive query run under the budget of
one call (budget-probe for the C reader, the Python module's own query) is
refused after at most as many progress ticks as the bytes of the file and
its -wal allow, where a budget from the claimed page count would let it run
for 2^31 pages' worth.

usage: hostile_wal.py CLI FIXTURE_DIR BUDGET_PROBE
"""
import os
import random
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
from contextlib import closing

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "app", "python"))
import memscope  # noqa: E402
import memscope._database  # noqa: E402  (its progress handler, counted by check_budget)

TIMEOUT = 120
MARKS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "runtime error:")


def cli(binary, *args, user=None):
    cmd = [binary, *args]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=TIMEOUT,
                              env=dict(os.environ, LC_ALL="C.UTF-8"))
    except subprocess.TimeoutExpired:
        return None


def wal_checksum(data, s0, s1, big=False):
    words = struct.unpack((">" if big else "<") + f"{len(data) // 4}I", data)
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[i + 1] + s0) & 0xFFFFFFFF
    return s0, s1


def frames(log):
    """(page size, [(page number, commit size, page bytes)]) of WAL bytes @log, every whole frame."""
    page = struct.unpack(">I", log[8:12])[0]
    out, at = [], 32
    while page and at + 24 + page <= len(log):
        pgno, commit = struct.unpack(">II", log[at:at + 8])
        out.append((pgno, commit, bytes(log[at + 24:at + 24 + page])))
        at += 24 + page
    return page, out


def build_wal(page, pages, salts=(0x1234, 0x5678)):
    """A WAL whose header and every frame carry valid checksums: @pages [(pgno, commit, bytes)]."""
    head = struct.pack(">IIIIII", 0x377F0682, 3007000, page, 0, *salts)
    s = wal_checksum(head, 0, 0)
    log = bytearray(head + struct.pack(">II", *s))
    for pgno, commit, data in pages:
        data = data[:page].ljust(page, b"\0")
        fh = struct.pack(">IIII", pgno, commit, *salts)
        s = wal_checksum(fh[:8], *s)
        s = wal_checksum(data, *s)
        log += fh + struct.pack(">II", *s) + data
    return bytes(log)


def recording(binary, fixtures, tmp, name, model, n=200):
    text = os.path.join(tmp, name + ".txt")
    with open(text, "wb") as f:
        f.write(bytes((i * 131 + len(name)) % 251 for i in range(n)))
    db = os.path.join(tmp, name + ".sqlite")
    r = cli(binary, "record", os.path.join(fixtures, model + ".safetensors"), text, "--recording", db,
            "--max-segments", "6", "--attn", "f32")
    assert r is not None and r.returncode == 0, r and r.stderr
    return db


def wal_of(db, tmp, name, *sql):
    """(file bytes, -wal bytes): @db in WAL mode with @sql committed only in its -wal (one transaction each)."""
    work = os.path.join(tmp, name + ".work.sqlite")
    shutil.copy(db, work)
    c = sqlite3.connect(work, isolation_level=None)
    assert c.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal"
    c.execute("PRAGMA wal_autocheckpoint = 0")
    c.execute("PRAGMA ignore_check_constraints = ON")
    c.execute("PRAGMA foreign_keys = OFF")
    for s in sql:
        s(c) if callable(s) else c.execute(s)
    with open(work, "rb") as f:
        main = f.read()
    with open(work + "-wal", "rb") as f:
        log = f.read()
    c.close()
    return main, log


def variants(binary, fixtures, tmp):
    """name -> (file bytes, -wal bytes, -shm bytes or None, what `runs` must show or None)."""
    base = recording(binary, fixtures, tmp, "base", "memformer")
    other = recording(binary, fixtures, tmp, "other", "rmt_causal")
    rng = random.Random(7)
    main, honest = wal_of(base, tmp, "honest", "UPDATE runs SET name = 'renamed in the WAL' WHERE id = 1",
                          "UPDATE runs SET name = 'torn away' WHERE id = 1")
    page, fr = frames(honest)
    first_commit = next(i for i, f in enumerate(fr) if f[1]) + 1
    committed = honest[:32 + first_commit * (24 + page)]
    _, other_log = wal_of(other, tmp, "other", "UPDATE runs SET name = 'from another recording' WHERE id = 1")
    salts = struct.unpack(">II", honest[16:24])
    n_pages = fr[first_commit - 1][1]
    garbage_pages = [(pgno, commit, rng.randbytes(page)) for pgno, commit, _ in fr]
    page1 = bytearray(main[:page])
    page1[16:18] = struct.pack(">H", 512)
    page1_big = bytearray(next((d for p, _, d in fr if p == 1), main[:page]))
    page1_big[28:32] = struct.pack(">I", 2 ** 31)   # the in-header database size
    out = {
        "garbage": (main, rng.randbytes(100000), None, None),
        "header cut short": (main, honest[:20], None, None),
        "header alone": (main, honest[:32], None, None),
        "last frame torn": (main, honest[:-100], None, "renamed in the WAL"),
        "committed only": (main, committed, rng.randbytes(32768), "renamed in the WAL"),
        "committed, beside a rollback-mode file": (main[:18] + b"\x01\x01" + main[20:], committed, None,
                                                   "renamed in the WAL"),
        "another recording's": (main, other_log, None, None),
        "garbage pages, valid checksums": (main, build_wal(page, garbage_pages, salts), rng.randbytes(32768), None),
        "commit of 2^31 pages": (main, build_wal(page, [(p, 2 ** 31 if c else 0, d) for p, c, d in fr], salts),
                                 None, None),
        # (SQLite takes the database's size from page 1 where page 1 agrees with the commit: a page_count
        # of 2^31 pages)
        "commit of 2^31 pages, page 1 agreeing": (main, build_wal(page, [(1, 0, bytes(page1_big))] + [
            (p, 2 ** 31 if c else 0, d) for p, c, d in fr if p != 1], salts), None, None),
        "page 2^32 - 1": (main, build_wal(page, [(2 ** 32 - 1, 0, rng.randbytes(page)), (1, n_pages, main[:page])],
                                          salts), None, None),
        "512-byte pages": (main, build_wal(512, [(1, 0, main[:512]), (2, 0, rng.randbytes(512)),
                                                 (3, n_pages, rng.randbytes(512))], salts), None, None),
        "page 1 with another page size": (main, build_wal(page, [(1, n_pages, bytes(page1))], salts), None, None),
    }
    def retention_inf(c):
        blob, = c.execute("SELECT retention FROM segments WHERE run_id = 1 AND segment = 1").fetchone()
        c.execute("UPDATE segments SET retention = ? WHERE run_id = 1 AND segment = 1",
                  (struct.pack("<f", float("inf")) + blob[4:],))

    for name, sql in (("retention inf", retention_inf),
                      ("n_segments -1", "UPDATE runs SET n_segments = -1 WHERE id = 1"),
                      ("a segment row deleted", "DELETE FROM segments WHERE run_id = 1 AND segment = 2")):
        m, log = wal_of(base, tmp, name.replace(" ", "_"), sql)
        out["committed: " + name] = (m, log, rng.randbytes(32768) if name == "n_segments -1" else None, None)
    return out


# The readers' work budget (core/ms-db.c, app/python/memscope/_database.py): progress ticks of TICK
# virtual machine instructions, TICKS_PER_PAGE per page plus TICKS_MIN per call.
TICK, TICKS_PER_PAGE, TICKS_MIN = 1000, 400, 100000
BUDGET_CASES = ("commit of 2^31 pages", "commit of 2^31 pages, page 1 agreeing", "committed only")
# What every query of a read runs: a recursive count of LIMIT rows stands for an expensive query a file
# could plant (the schema check refuses views, so a test cannot plant one in the file itself).
PLANTED = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT ?) SELECT count(*) FROM c"


def bound_ticks(db):
    """The most progress ticks one call may take on @db: its pages counted from the bytes of the file
    and its -wal on disk (each frame of the -wal holds one page), never from what a commit claims."""
    with open(db, "rb") as f:
        head = f.read(100)
    page = struct.unpack(">H", head[16:18])[0]
    page = 65536 if page == 1 else page
    size = os.path.getsize(db) + (os.path.getsize(db + "-wal") if os.path.exists(db + "-wal") else 0)
    return (size // page + 1) * TICKS_PER_PAGE + TICKS_MIN


def check_budget(probe, db, label, user, failures):
    """The planted query on @db, LIMIT rows of at least two instructions each (twice the bound's work):
    the C reader (@probe) and the Python module refuse it, naming @db, within bound_ticks(@db)."""
    bound = bound_ticks(db)
    limit = bound * TICK
    r = cli(probe, db, str(limit), user=user)
    if r is None or r.returncode not in (0, 1) or any(m in r.stderr for m in MARKS):
        failures.append(f"{label}: budget-probe: {r and r.returncode} {r and r.stderr[-2000:]}")
    elif r.returncode == 1:   # refused when opened: fine, if it names the file
        if db not in r.stderr:
            failures.append(f"{label}: budget-probe: the error does not name the recording: {r.stderr}")
    else:
        out = dict(line.split(" ", 1) for line in r.stdout.splitlines())
        print(f"{label}: C reader, planted query of {limit} rows: armed {out.get('armed')} ticks "
              f"(bound {bound}), used {out.get('used')}: {r.stdout.splitlines()[-1][:200]}")
        if not (0 < int(out["armed"]) <= bound and int(out["used"]) <= int(out["armed"]) + 1):
            failures.append(f"{label}: C reader: budget armed {out['armed']} ticks, used {out['used']}, "
                            f"where the file and its -wal allow {bound}")
        if "refused" not in out or db not in out["refused"] or "took more work" not in out["refused"]:
            failures.append(f"{label}: C reader: the planted query of {limit} rows was not refused as "
                            f"taking more work than the file can need: {r.stdout}")
    if user is not None:
        return
    ticks = [0]
    progress = memscope._database.Database._progress

    def counted(self):
        ticks[0] += 1
        return progress(self)

    memscope._database.Database._progress = counted
    try:
        with memscope.open(db) as rec:
            ticks[0] = 0
            rows = rec._db.query(PLANTED, (limit,), "a planted query")
        failures.append(f"{label}: Python: the planted query of {limit} rows was not refused: {rows} "
                        f"after {ticks[0]} ticks (the file and its -wal allow {bound})")
    except memscope.MemscopeError as e:
        print(f"{label}: Python, planted query: {ticks[0]} ticks (bound {bound}): {str(e)[:200]}")
        if "planted query" in str(e) and ("took more work" not in str(e) or ticks[0] > bound + 1):
            failures.append(f"{label}: Python: refused after {ticks[0]} ticks (bound {bound}): {e}")
        if db not in str(e):
            failures.append(f"{label}: Python: the MemscopeError does not name the file: {e}")
    finally:
        memscope._database.Database._progress = progress


def main():
    binary, fixtures, probe = sys.argv[1:4]
    failures, n = [], 0
    user = 65534 if os.geteuid() == 0 else None
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        cases = variants(binary, fixtures, tmp)
        for where in ("writable folder", "read-only folder"):
            folder = os.path.join(tmp, where.replace(" ", "-"))
            os.mkdir(folder)
            out = os.path.join(tmp, "out-" + where.replace(" ", "-"))
            os.mkdir(out)
            os.chmod(out, 0o777)
            paths = {}
            for i, (name, (main_bytes, log, shm, shows)) in enumerate(cases.items()):
                db = os.path.join(folder, f"wal{i}.sqlite")
                for path, data in ((db, main_bytes), (db + "-wal", log), (db + "-shm", shm)):
                    if data is not None:
                        with open(path, "wb") as f:
                            f.write(data)
                        os.chmod(path, 0o444 if where == "read-only folder" else 0o644)
                paths[name] = db
            if where == "read-only folder":
                os.chmod(folder, 0o555)
            try:
                for name, (main_bytes, _, _, shows) in cases.items():
                    db, label = paths[name], f"{where}, -wal {name}"
                    as_user = user if where == "read-only folder" else None
                    for args in (["runs", db], *(["export", db, "--run", "1", "--view", v, "--out",
                                                  os.path.join(out, f"{v}.csv")] for v in ("retention", "nll", "write"))):
                        n += 1
                        r = cli(binary, *args, user=as_user)
                        what = f"{label}: memscope-cli {args[0]} {' '.join(args[2:6])}"
                        if r is None:
                            failures.append(f"{what}: no answer within {TIMEOUT} s")
                            continue
                        if args[0] == "runs" or r.returncode:
                            print(f"{what}: exit {r.returncode}", (r.stderr.strip().splitlines() or [""])[-1][:300])
                        mark = next((m for m in MARKS if m in r.stderr), None)
                        if mark or r.returncode not in (0, 1):
                            failures.append(f"{what}: exit {r.returncode} {mark or ''}\n{r.stderr[-2000:]}")
                        elif r.returncode == 1 and db not in r.stderr:
                            failures.append(f"{what}: the error does not name the recording: {r.stderr.strip()}")
                        elif args[0] == "runs" and shows and (r.returncode != 0 or shows not in r.stdout
                                                              or "torn away" in r.stdout):
                            failures.append(f"{what}: does not show what the -wal committed ({shows!r}): "
                                            f"{r.stdout}{r.stderr}")
                    if as_user is None:   # the Python module reads the same (as root: SQLite's own WAL reading)
                        try:
                            with memscope.open(db) as rec:
                                for run in rec.runs():
                                    run.retention(), run.nll(), run.memory()
                        except memscope.MemscopeError as e:
                            if db not in str(e):
                                failures.append(f"{label}: Python: the MemscopeError does not name the file: {e}")
                        except Exception as e:   # noqa: BLE001
                            failures.append(f"{label}: Python: {type(e).__name__}: {e}")
                    if name in BUDGET_CASES:
                        check_budget(probe, db, label, as_user, failures)
                    with open(db, "rb") as f:
                        if f.read() != main_bytes:
                            failures.append(f"{label}: reading changed the recording file")
            finally:
                os.chmod(folder, 0o755)
    for f in failures:
        print("FAIL", f, file=sys.stderr)
    assert not failures, f"{len(failures)} of {n} reads failed"
    print(f"{len(cases)} hostile -wal files, each beside a recording in a writable and a read-only folder: "
          f"{n} reads, each read or refused naming the file")


if __name__ == "__main__":
    main()
