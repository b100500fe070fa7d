#!/usr/bin/env python3
"""Recording into a hostile older recording: `record MODEL INPUT --recording FILE` on a file of schema 6 or 7
upgrades it to the current schema (core/ms-db.c, one transaction per step) and adds a run.

The files: structure-aware mutants (tests/fuzz/mutate-recording.py: values, BLOB lengths, keys, rows and
configurations changed through sqlite3) of the committed schema-6 and schema-7 recordings
(tests/data/recordings), and targeted ones the 6 -> 7 step meets: a memory row keyed for another segment, a
memory row of a run that does not exist (both refused naming the failed upgrade, the file left as it was), a
segment's transfer of the wrong length (upgraded; readers refuse it), a run id of 2^31 - 1 (the next run's id
would be 2^31, which no reader accepts: refused naming the id).  Each `record` must exit 0 or 1 within its timeout,
never with a signal or a sanitizer report; exit 1 names the file.  Afterwards the file is either unchanged
(an upgrade that fails leaves every page as it was, in rollback-journal mode, no -wal or -shm beside it; only
SQLite's change counters in the header count the journal-mode switches), or consistent: `PRAGMA integrity_check` says ok, its schema version is the original or the
current one, no -journal is left, and `runs` reads it (exit 0 or 1, no crash); when `record` succeeded the new
run is listed, complete.

usage: hostile_upgrade.py CLI FIXTURE_DIR MUTATE_PY
Environment: MEMSCOPE_UPGRADE_MUTANTS (mutants per seed, default 16).
"""
import importlib.util
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
RECORDINGS = os.path.join(HERE, "..", "data", "recordings")
TIMEOUT = 300
MARKS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "runtime error:")
MUTANTS = int(os.environ.get("MEMSCOPE_UPGRADE_MUTANTS", "16"))
CURRENT = 8


def cli(binary, *args):
    try:
        return subprocess.run([binary, *args], capture_output=True, text=True, errors="replace", timeout=TIMEOUT,
                              env=dict(os.environ, LC_ALL="C.UTF-8"))
    except subprocess.TimeoutExpired:
        return None


def version(path):
    with open(path, "rb") as f:
        head = f.read(100)
    return int.from_bytes(head[60:64], "big", signed=True) if len(head) >= 64 else None


def same_content(now, before):
    """@now is @before but for the header's change counters (bytes 24-27 and 92-95, which SQLite counts up on each
    change of journal mode), in the same rollback-journal mode (bytes 18 and 19: 1)."""
    def blank(b):
        return b[:24] + bytes(4) + b[28:92] + bytes(4) + b[96:]
    return len(now) == len(before) and now[18:20] == b"\x01\x01" and blank(now) == blank(before)


def check(binary, model, text, path, label, failures, err=None):
    with open(path, "rb") as f:
        before = f.read()
    was = version(path)
    r = cli(binary, "record", model, text, "--recording", path, "--max-segments", "3", "--json")
    if r is None:
        failures.append(f"{label}: record: no answer within {TIMEOUT} s")
        return None
    mark = next((m for m in MARKS if m in r.stderr), None)
    if err is not None:
        err.append(r.stderr)
    if mark or r.returncode not in (0, 1):
        failures.append(f"{label}: record: exit {r.returncode} {mark or ''}\n{r.stderr[-2000:]}")
        return r.returncode
    if r.returncode == 1 and path not in r.stderr:
        failures.append(f"{label}: record: the error does not name the file: {r.stderr.strip()}")
    with open(path, "rb") as f:
        unchanged = f.read() == before
    if os.path.exists(path + "-journal"):
        failures.append(f"{label}: record left a -journal beside the file")
    if not unchanged:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as c:
            ok = c.execute("PRAGMA integrity_check").fetchone()[0]
            now = c.execute("PRAGMA user_version").fetchone()[0]
        if ok != "ok" or now not in (was, CURRENT):
            failures.append(f"{label}: record (exit {r.returncode}) left the file changed and inconsistent: "
                            f"integrity {ok!r}, schema {was} -> {now}")
    runs = cli(binary, "runs", path, "--json")
    if runs is None or runs.returncode not in (0, 1) or any(m in runs.stderr for m in MARKS):
        failures.append(f"{label}: runs after record: {runs and runs.returncode} {runs and runs.stderr[-1000:]}")
    elif r.returncode == 0:
        made = json.loads(r.stdout).get("run")
        listed = json.loads(runs.stdout) if runs.returncode == 0 else None
        if version(path) != CURRENT:
            failures.append(f"{label}: record succeeded but the file is at schema {version(path)}")
        if listed is not None and not any(x.get("id") == made and x.get("status") == "complete"
                                           for x in (listed.get("runs", listed) if isinstance(listed, dict)
                                                     else listed)):
            failures.append(f"{label}: record made run {made!r}, which runs does not list complete: {runs.stdout[:500]}")
    print(f"{label}: record exit {r.returncode}"
          + (f": {(r.stderr.strip().splitlines() or [''])[-1][:240]}" if r.returncode else "")
          + ("" if unchanged else f" (file now schema {version(path)})"))
    return r.returncode


def main():
    binary, fixtures, mutate = sys.argv[1:4]
    spec = importlib.util.spec_from_file_location("mutate_recording", mutate)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    failures, n = [], 0
    model = os.path.join(fixtures, "rmt_causal.safetensors")
    with tempfile.TemporaryDirectory() as tmp:
        text = os.path.join(tmp, "in.txt")
        with open(text, "wb") as f:
            f.write(b"an input recorded into an older file, " * 4)
        # name: (edit, words an exit 1 must hold and the file left unchanged; None: exit 0 or 1)
        upgrade_6 = ("cannot upgrade the recording from schema 6 to 7", "damaged or altered")
        targeted = {
            6: {"memory keyed for another segment": (
                    "UPDATE memory SET id = id + 7 WHERE id = (SELECT max(id) FROM memory)", upgrade_6),
                "memory of a run that does not exist": (
                    "UPDATE memory SET run_id = 99 WHERE id = (SELECT max(id) FROM memory)", upgrade_6),
                "transfer of the wrong length": (
                    "UPDATE segments SET transfer = x'0000803f' WHERE id = (SELECT max(id) FROM segments)", None),
                "run id 2^31 - 1": (
                    "UPDATE runs SET id = 2147483647 WHERE id = (SELECT max(id) FROM runs)", upgrade_6)},
            7: {"run id 2^31 - 1": (
                    "PRAGMA foreign_keys = OFF; UPDATE runs SET id = 2147483647 WHERE id = (SELECT max(id) FROM runs); "
                    "UPDATE segments SET run_id = 2147483647 WHERE run_id = (SELECT max(id) FROM runs); "
                    "UPDATE memory SET run_id = 2147483647 WHERE run_id = (SELECT max(id) FROM runs)",
                    ("a new run would have id 2147483648",)),
                "n_states 0": ("UPDATE memory SET n_states = 0 WHERE id = (SELECT max(id) FROM memory)", None)},
        }
        for v in (6, 7):
            seed = os.path.join(RECORDINGS, f"recording-v{v}.sqlite")
            for name, (sql, words) in targeted[v].items():
                path = os.path.join(tmp, f"v{v}-{name.replace(' ', '_')}.sqlite")
                shutil.copy(seed, path)
                with sqlite3.connect(path) as c:
                    c.execute("PRAGMA ignore_check_constraints = ON")
                    c.executescript(sql)
                with open(path, "rb") as f:
                    before = f.read()
                n += 1
                label = f"schema {v}, {name}"
                err = []
                code = check(binary, model, text, path, label, failures, err)
                if words is not None:
                    with open(path, "rb") as f:
                        same = same_content(f.read(), before) and not any(os.path.exists(path + x)
                                                                          for x in ("-wal", "-shm", "-journal"))
                    if code != 1 or not all(w in err[0] for w in words) or (v == 6 and not same):
                        failures.append(f"{label}: record exit {code}, where exit 1 naming {words} and the file "
                                        f"{'unchanged' if v == 6 else 'consistent'} were expected: {err and err[0]}")
            for i in range(MUTANTS):
                path = os.path.join(tmp, f"v{v}-mutant-{i}.sqlite")
                log = mod.make_mutant(seed, path, f"upgrade:v{v}:{i}")
                n += 1
                check(binary, model, text, path, f"schema {v}, mutant {i} ({'; '.join(log)})", failures)
                for side in ("", "-wal", "-shm"):
                    if os.path.exists(path + side):
                        os.unlink(path + side)
    for f in failures:
        print("FAIL", f, file=sys.stderr)
    assert not failures, f"{len(failures)} of {n} recordings into hostile older files failed"
    print(f"{n} hostile schema-6 and schema-7 files recorded into: each refused naming the file or upgraded, "
          "never left inconsistent")


if __name__ == "__main__":
    main()
