#!/usr/bin/env python3
"""shrink-seed.py SRC DST — a small fuzz seed from the recording SRC: its
first three segments of every run (later segments, attention and memory
states dropped; a complete run's n_segments cut to match, an incomplete one
stays incomplete), rewritten with 512-byte pages in rollback-journal mode.
The schema is left exactly as SRC has it, whatever its version, so the
reader takes the same paths; a libFuzzer input is then a few tens of KiB
instead of hundreds, and each mutation lands in something the reader uses.
"""
import shutil
import sqlite3
import sys

KEEP = 3

src, dst = sys.argv[1:3]
shutil.copyfile(src, dst)
db = sqlite3.connect(dst, isolation_level=None)
db.execute("PRAGMA journal_mode = DELETE")
tables = {name for (name,) in db.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
db.execute("BEGIN")
for table in ("segments", "attention", "memory", "retention", "reset_memory"):
    if table in tables:
        columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        key = "idx" if "idx" in columns else "segment"
        db.execute(f"DELETE FROM {table} WHERE {key} >= ?", (KEEP,))
if "causal" in tables:
    db.execute("DELETE FROM causal WHERE source >= ?", (KEEP,))
db.execute("UPDATE runs SET n_segments = min(n_segments, ?) WHERE status = 'complete'", (KEEP,))
if "segments_done" in {row[1] for row in db.execute("PRAGMA table_info(runs)")}:
    db.execute("UPDATE runs SET segments_done = min(segments_done, ?)", (KEEP,))
db.execute("COMMIT")
db.execute("PRAGMA page_size = 512")
db.execute("VACUUM")
db.close()
