#!/usr/bin/env python3
"""A finished recording is one shareable file, read from anywhere.

What a user relies on: after `record` finishes, is cancelled or fails
cleanly, the recording is a single file (no -wal or -shm beside it) in
rollback-journal mode, which they can mail, and which `runs` and `export`
read from a folder they cannot write or from a read-only mount, whatever
journal mode it was left in (a recorder killed mid-run leaves WAL mode, and
transactions in a -wal beside it: those committed are read, a torn one is
not);
resuming such a file switches it back to WAL while it records and leaves it
one file again.  Files are inspected with Python's own sqlite3 module.

usage: shareable.py CLI FIXTURE_DIR CASE
Exit 77 (meson's skip) when the case needs root and mount and has neither.
"""
import os
import shutil
import signal
import struct
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing

SKIP = 77


def cli(binary, *args, env=None, user=None):
    cmd = [binary, *args]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


def text_input(tmp, n_bytes):
    path = os.path.join(tmp, "input.txt")
    with open(path, "wb") as f:
        f.write(bytes((i * 7919 + i // 13) % 256 for i in range(n_bytes)))
    return path


def header_mode(db):
    """The journal mode the file's header records: 'wal' (bytes 18, 19 = 2) or 'rollback' (1)."""
    with open(db, "rb") as f:
        head = f.read(20)
    return {1: "rollback", 2: "wal"}[head[18]]


def assert_one_file(db):
    for side in ("-wal", "-shm", "-journal"):
        assert not os.path.exists(db + side), f"{db}{side} is left beside the recording"
    assert header_mode(db) == "rollback", "the recording was left in WAL mode"
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def make_wal_mode(db):
    """A copy of @db left in WAL mode the way a killed recorder leaves it (no side files)."""
    with closing(sqlite3.connect(db)) as c:
        c.execute("PRAGMA journal_mode = DELETE")
        assert c.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal"
    assert header_mode(db) == "wal" and not os.path.exists(db + "-wal")


def wal_checksum(data, s0, s1, big):
    """SQLite's WAL checksum of @data (a multiple of 8 bytes), carried on from (s0, s1)."""
    words = struct.unpack((">" if big else "<") + f"{len(data) // 4}I", data)
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[i + 1] + s0) & 0xFFFFFFFF
    return s0, s1


def wal_big_endian(wal):
    """Rewrites the WAL file @wal as a big-endian machine writes it (magic 0x377f0683: checksums over
    big-endian words), keeping its frames up to the first whose checksum breaks."""
    with open(wal, "rb") as f:
        log = bytearray(f.read())
    page = struct.unpack(">I", log[8:12])[0]
    log[0:4] = struct.pack(">I", 0x377F0683)
    s = wal_checksum(bytes(log[:24]), 0, 0, True)
    log[24:32] = struct.pack(">II", *s)
    at = 32
    while at + 24 + page <= len(log):
        s = wal_checksum(bytes(log[at:at + 8]), *s, True)
        s = wal_checksum(bytes(log[at + 24:at + 24 + page]), *s, True)
        log[at + 16:at + 24] = struct.pack(">II", *s)
        at += 24 + page
    with open(wal, "wb") as f:
        f.write(log)


def leave_wal_commits(db, folder):
    """Copies of @db into @folder left in WAL mode with transactions only in their -wal (no -shm), as a
    recorder killed before its checkpoint leaves them: 'wal-commits.sqlite', whose WAL renames run 1,
    'wal-torn.sqlite', whose WAL also renames run 2 in a transaction cut short (its last frame torn), and
    'wal-big-endian.sqlite', the first with its WAL as a big-endian machine writes it.  Returns their
    paths."""
    with tempfile.TemporaryDirectory() as scratch:
        work = shutil.copy(db, os.path.join(scratch, "w.sqlite"))
        c = sqlite3.connect(work, isolation_level=None)
        assert c.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal"
        c.execute("PRAGMA wal_autocheckpoint = 0")
        c.execute("UPDATE runs SET name = 'renamed in the WAL' WHERE id = 1")
        committed = os.path.getsize(work + "-wal")
        c.execute("UPDATE runs SET name = 'torn away' WHERE id = 2")
        out = []
        for name, length in (("wal-commits.sqlite", committed), ("wal-torn.sqlite", os.path.getsize(work + "-wal") - 100)):
            dst = shutil.copy(work, os.path.join(folder, name))
            with open(work + "-wal", "rb") as src, open(dst + "-wal", "wb") as f:
                f.write(src.read()[:length])
            out.append(dst)
        c.close()
    big = shutil.copy(out[0], os.path.join(folder, "wal-big-endian.sqlite"))
    shutil.copy(out[0] + "-wal", big + "-wal")
    wal_big_endian(big + "-wal")
    out.append(big)
    for dst in out:
        assert header_mode(dst) == "wal" and not os.path.exists(dst + "-shm")
    return out


def check_wal_commits(binary, paths, user=None):
    """`runs` reads what the -wal committed: run 1 renamed; the torn transaction's rename of run 2 is not."""
    for path in paths:
        r = cli(binary, "runs", path, user=user)
        assert r.returncode == 0, (path, r.stderr)
        assert "renamed in the WAL" in r.stdout, (path, r.stdout)
        assert "torn away" not in r.stdout, (path, r.stdout)
        assert not os.path.exists(path + "-shm")


def status(db, run=1):
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as c:
        return c.execute("SELECT status FROM runs WHERE id = ?", (run,)).fetchone()[0]


def record_two(binary, fixtures, tmp):
    """A recording holding a Memformer and an RMT run, as `record` leaves it."""
    db, text = os.path.join(tmp, "shared.sqlite"), text_input(tmp, 400)
    for model in ("memformer", "rmt_causal"):
        r = cli(binary, "record", os.path.join(fixtures, model + ".safetensors"), text, "--recording", db,
                "--max-segments", "4")
        assert r.returncode == 0, r.stderr
    return db


def check_reads(binary, db, out_dir, user=None):
    """`runs` lists both runs and `export` writes a figure of each, from @db where it lies."""
    r = cli(binary, "runs", db, user=user)
    assert r.returncode == 0, (db, r.stderr)
    assert len([line for line in r.stdout.splitlines() if "complete" in line]) == 2, r.stdout
    for run, view in (("1", "retention"), ("2", "write")):
        out = os.path.join(out_dir, f"run{run}-{view}.png")
        r = cli(binary, "export", db, "--run", run, "--view", view, "--out", out, user=user)
        assert r.returncode == 0, (db, view, r.stderr)
        with open(out, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    for side in ("-wal", "-shm"):
        assert not os.path.exists(db + side)


def one_file(binary, fixtures):
    with tempfile.TemporaryDirectory() as tmp:
        db = record_two(binary, fixtures, tmp)
        assert_one_file(db)
        model, text = os.path.join(fixtures, "memformer.safetensors"), text_input(tmp, 24000)
        # cancelled (SIGINT once a segment is committed): still one file, the run incomplete
        cancelled = os.path.join(tmp, "cancelled.sqlite")
        p = subprocess.Popen([binary, "record", model, text, "--recording", cancelled],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while not os.path.exists(cancelled + "-wal") and p.poll() is None:
            time.sleep(0.01)
        p.send_signal(signal.SIGINT)
        p.wait(timeout=120)
        assert p.returncode in (0, 1, 130), p.returncode
        assert_one_file(cancelled)
        assert status(cancelled) in ("incomplete", "complete")
        # failed (a full disk, SQLite's max_page_count): still one file
        full = os.path.join(tmp, "full.sqlite")
        env = dict(os.environ, MEMSCOPE_TEST_MAX_PAGE_COUNT="40")
        r = cli(binary, "record", model, text, "--recording", full, env=env)
        assert r.returncode == 1, (r.returncode, r.stderr)
        assert_one_file(full)
        assert status(full) == "incomplete"
        print("complete, cancelled and failed recordings are each one file in rollback-journal mode")


def read_only_folder(binary, fixtures):
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        folder = os.path.join(tmp, "shared")
        os.mkdir(folder)
        db = record_two(binary, fixtures, folder)
        wal = os.path.join(folder, "wal.sqlite")
        shutil.copy(db, wal)
        make_wal_mode(wal)
        wal_commits = leave_wal_commits(db, folder)
        out = os.path.join(tmp, "out")
        os.mkdir(out)
        os.chmod(out, 0o777)
        for f in os.listdir(folder):
            os.chmod(os.path.join(folder, f), 0o444)
        os.chmod(folder, 0o555)
        # root may write anywhere: read as nobody then
        user = 65534 if os.geteuid() == 0 else None
        try:
            for f in (db, wal):
                check_reads(binary, f, out, user=user)
            check_wal_commits(binary, wal_commits, user=user)
        finally:
            os.chmod(folder, 0o755)
        print("read from a folder the user cannot write, in rollback and in WAL mode, with transactions left in "
              "a -wal" + (" (as nobody)" if user else ""))


def read_only_mount(binary, fixtures):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        print("SKIP: a read-only bind mount needs root (run the record suite as root to test it)")
        return SKIP
    with tempfile.TemporaryDirectory() as tmp:
        folder, mnt, out = (os.path.join(tmp, d) for d in ("shared", "mnt", "out"))
        for d in (folder, mnt, out):
            os.mkdir(d)
        db = record_two(binary, fixtures, folder)
        make_wal_mode(shutil.copy(db, os.path.join(folder, "wal.sqlite")))
        leave_wal_commits(db, folder)
        if subprocess.run(["mount", "--bind", folder, mnt], capture_output=True).returncode != 0:
            print("SKIP: mount --bind is not permitted here (a container without CAP_SYS_ADMIN)")
            return SKIP
        try:
            r = subprocess.run(["mount", "-o", "remount,bind,ro", mnt], capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
            try:
                open(os.path.join(mnt, "probe"), "w").close()
                raise AssertionError("the bind mount is writable")
            except OSError:
                pass
            for name in ("shared.sqlite", "wal.sqlite"):
                check_reads(binary, os.path.join(mnt, name), out)
            check_wal_commits(binary, [os.path.join(mnt, n) for n in ("wal-commits.sqlite", "wal-torn.sqlite",
                                                                      "wal-big-endian.sqlite")])
        finally:
            subprocess.run(["umount", mnt])
        print("read from a read-only bind mount, in rollback and in WAL mode, with transactions left in a -wal")


def resume_rollback(binary, fixtures):
    with tempfile.TemporaryDirectory() as tmp:
        model, text = os.path.join(fixtures, "memformer.safetensors"), text_input(tmp, 6000)
        db = os.path.join(tmp, "r.sqlite")
        env = dict(os.environ, MEMSCOPE_TEST_MAX_PAGE_COUNT="40")
        assert cli(binary, "record", model, text, "--recording", db, env=env).returncode == 1
        assert_one_file(db)
        assert status(db) == "incomplete"
        # the resume records in WAL mode (crash safety): kill it once it has committed a segment
        p = subprocess.Popen([binary, "record", model, text, "--recording", db, "--resume", "1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while not os.path.exists(db + "-wal") and p.poll() is None:
            time.sleep(0.005)
        assert os.path.exists(db + "-wal"), "resuming did not switch the recording back to WAL"
        p.kill()
        p.wait(timeout=120)
        assert header_mode(db) == "wal"
        r = cli(binary, "record", model, text, "--recording", db, "--resume", "1")
        assert r.returncode == 0, r.stderr
        assert status(db) == "complete"
        assert_one_file(db)
        print("a recording left in rollback mode resumed in WAL mode and was left one file")


def relative_model(binary, fixtures):
    """A model given by a relative path is found again from any working directory:
    a compact run's write attention is replayed from the model the run names."""
    binary = os.path.abspath(binary)
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "models"))
        os.makedirs(os.path.join(tmp, "recordings"))
        shutil.copy(os.path.join(fixtures, "rmt_causal.safetensors"), os.path.join(tmp, "models", "m.safetensors"))
        text = text_input(tmp, 400)
        r = subprocess.run([binary, "record", os.path.join("models", "m.safetensors"), text,
                            "--recording", os.path.join("recordings", "r.sqlite"), "--max-segments", "3"],
                           capture_output=True, text=True, cwd=tmp)
        assert r.returncode == 0, r.stderr
        db = os.path.join(tmp, "recordings", "r.sqlite")
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as c:
            stored = c.execute("SELECT path FROM models").fetchone()[0]
            attn = c.execute("SELECT attn_dtype FROM runs").fetchone()[0]
        assert attn == "none", attn
        assert stored == os.path.join(os.path.realpath(tmp), "models", "m.safetensors"), stored
        out = os.path.join(tmp, "write.csv")
        r = subprocess.run([binary, "export", db, "--run", "1", "--view", "write", "--segment", "2", "--out", out],
                           capture_output=True, text=True, cwd="/")
        assert r.returncode == 0, r.stderr
        with open(out) as f:
            assert len(f.read().splitlines()) > 1
        print("a model given by a relative path is stored absolute and replayed from another directory")


def main():
    binary, fixtures, case = sys.argv[1:4]
    result = globals()[case](binary, fixtures)
    sys.exit(result or 0)


if __name__ == "__main__":
    main()
