"""Opening a recording read-only and reading it under a work budget.

A recording is opened with an SQLite ``mode=ro`` URI, or ``immutable=1``
where a file left in WAL mode sits on read-only media; its schema version
and schema are checked in one read transaction before any query, and an
older schema is read through TEMP views with the current tables' shape
(_schema.py).  Every query runs under a work budget, so a planted quadratic
query is stopped.  Failures are MemscopeError naming the file."""

import math
import os
import sqlite3
import urllib.parse

import numpy as np

from . import _schema
from ._format import MAX_SLOTS, SCHEMA_VERSION, MemscopeError

# SQLite's progress handler is called every BUDGET_TICK virtual machine
# instructions; an honest query over the tables Memscope writes needs at most
# a few hundred ticks per page of the file (as the C reader bounds it).
BUDGET_TICK = 1000
BUDGET_TICKS_PER_PAGE = 400
BUDGET_TICKS_MIN = 100000


class _F32Array:
    """f32_array(slot, value): packs schema 1 and 2's per-slot rows into one
    little-endian f32 array, value i at slot i (NaN for NULL and missing)."""

    def __init__(self):
        self.values = {}

    def step(self, slot, value):
        if not isinstance(slot, int) or slot < 0 or slot >= MAX_SLOTS:
            raise ValueError("slot out of range")
        self.values[slot] = math.nan if value is None else float(value)

    def finalize(self):
        if not self.values:
            return None
        out = np.full(max(self.values) + 1, np.nan, dtype="<f4")
        for slot, value in self.values.items():
            out[slot] = value
        return out.tobytes()


class Database:
    """The read-only SQLite connection to the recording at @path, its
    schema checked: schema_version, query() and close()."""

    def __init__(self, path):
        self.path = path
        self._pages = 0
        self._budget = -1
        self._db = self._connect()
        try:
            self.schema_version = self._check()
        except BaseException:
            self._db.close()
            raise

    def _connect(self):
        if not os.path.isfile(self.path):
            raise MemscopeError(f"{self.path}: no such recording")
        absolute = urllib.parse.quote(os.path.abspath(self.path))
        db = None
        try:
            db = sqlite3.connect(f"file:{absolute}?mode=ro", uri=True, isolation_level=None,
                                 check_same_thread=False)
            db.execute("PRAGMA user_version").fetchone()
            return self._harden(db)
        except sqlite3.DatabaseError as e:
            if db is not None:
                db.close()
            if "file is not a database" in str(e):
                raise MemscopeError(f"{self.path}: not a Memscope recording (not an SQLite database)") from None
            if "unable to open" not in str(e) and "readonly" not in str(e).replace(" ", ""):
                raise MemscopeError(f"{self.path}: cannot open the recording: {e}") from None
        # A WAL-mode file where its -shm cannot be made (read-only media or
        # folder): immutable=1 reads it without locks, right for a file
        # nobody writes — unless a -wal holds transactions it would not see.
        wal = self.path + "-wal"
        if os.path.exists(wal) and os.path.getsize(wal) > 0:
            raise MemscopeError(f"{self.path}: the recording was left in WAL mode, with transactions in {wal}, "
                                "where its -shm file cannot be made (a read-only folder or medium): copy the "
                                "recording and its -wal file to a folder you can write and open the copy there")
        try:
            db = sqlite3.connect(f"file:{absolute}?mode=ro&immutable=1", uri=True, isolation_level=None,
                                 check_same_thread=False)
            return self._harden(db)
        except sqlite3.DatabaseError as e:
            raise MemscopeError(f"{self.path}: cannot open the recording: {e}") from None

    def _harden(self, db):
        # No views or triggers from the file are ever run (the schema is
        # checked to have none), no function from the schema, and every page
        # is checked as it is read.
        db.execute("PRAGMA trusted_schema = OFF")
        db.execute("PRAGMA cell_size_check = ON")
        db.set_progress_handler(self._progress, BUDGET_TICK)
        return db

    def _progress(self):
        if self._budget < 0:
            return 0
        self._budget -= 1
        return 1 if self._budget < 0 else 0

    def _real_pages(self, pages, page_size):
        """@pages (PRAGMA page_count) at most what the file and its -wal hold
        on disk: a -wal's commit frame sets page_count to what it claims
        (2^31 pages, say), while a query can only visit pages the two hold.
        The -wal's size is taken first (a checkpoint moves its pages into the
        file before it may shrink it); an immutable open is only made where
        the -wal is empty or missing."""
        try:
            wal = os.path.getsize(self.path + "-wal") if os.path.exists(self.path + "-wal") else 0
            size = os.path.getsize(self.path)
        except OSError:
            return pages
        if page_size < 512:
            return pages
        return min(pages, (size + wal) // page_size + 1)

    def _arm(self, factor=1):
        self._budget = (max(self._pages, 0) * BUDGET_TICKS_PER_PAGE + BUDGET_TICKS_MIN) * factor

    def _check(self):
        """Checks the version and the schema in one read transaction, and
        puts the views over an older schema in place.  Returns the version."""
        db = self._db
        try:
            self._pages = self._real_pages(db.execute("PRAGMA page_count").fetchone()[0],
                                           db.execute("PRAGMA page_size").fetchone()[0])
            self._arm()
            db.execute("BEGIN")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            objects = db.execute("SELECT type, name, tbl_name, sql FROM main.sqlite_schema").fetchall()
            if version > SCHEMA_VERSION:
                raise MemscopeError(f"{self.path}: the recording has schema version {version}, newer than this "
                                    f"module reads ({SCHEMA_VERSION}); use the memscope module of a newer Memscope")
            if version < 1:
                raise MemscopeError(f"{self.path}: " + ("empty: not a Memscope recording" if version == 0 and not objects
                                                        else f"schema version {version}: not a Memscope recording"
                                                        if version == 0 else
                                                        f"the recording has schema version {version}, which no "
                                                        f"Memscope writes (versions 1 to {SCHEMA_VERSION})"))
            tables, keyed = _schema.TABLES[version]
            expected = {("table", t, t) for t in tables} | {("index", f"sqlite_autoindex_{t}_1", t) for t in keyed}
            found = {(o[0], o[1], o[2]) for o in objects}
            if found != expected:
                odd = sorted(found - expected) or sorted(expected - found)
                verb = "has" if found - expected else "lacks"
                raise MemscopeError(f"{self.path}: the recording's schema is not the one Memscope writes at version "
                                    f"{version}: it {verb} {odd[0][0]} {odd[0][1]} (the file was altered, or was "
                                    "not written by Memscope)")
            for o in objects:
                if o[0] == "index" and o[3] is not None:
                    raise MemscopeError(f"{self.path}: the recording's schema is not the one Memscope writes: index "
                                        f"{o[1]} is not an automatic one (the file was altered)")
            for table, columns in tables.items():
                have = db.execute(f"PRAGMA main.table_xinfo({table})").fetchall()
                if tuple(c[1] for c in have) != columns or any(c[6] != 0 for c in have):
                    raise MemscopeError(f"{self.path}: the recording's schema is not the one Memscope writes at "
                                        f"version {version}: table {table} has the columns "
                                        f"{', '.join(c[1] for c in have)} where {', '.join(columns)} were expected "
                                        "(the file was altered, or was not written by Memscope)")
            db.execute("COMMIT")
            if version < 3:
                db.create_aggregate("f32_array", 2, _F32Array)
            for sql in _schema.VIEWS[version]:
                db.execute(sql)
            db.execute("PRAGMA query_only = ON")   # after the TEMP views, which it would forbid
            return version
        except sqlite3.DatabaseError as e:
            raise self._fail("cannot read the recording", e) from None
        finally:
            self._budget = -1
            if db.in_transaction:
                db.execute("COMMIT")

    def _fail(self, what, e):
        message = str(e)
        if "file is not a database" in message:
            return MemscopeError(f"{self.path}: not a Memscope recording (not an SQLite database)")
        if "interrupted" in message:
            message += (" (reading it took more work than a recording of its size can need: the file was "
                        "altered)")
        return MemscopeError(f"{self.path}: {what}: {message}")

    def query(self, sql, args, what, factor=1):
        """Every row of @sql with @args, read under @factor times the file's
        work budget; @what names the read in a failure."""
        self._arm(factor)
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as e:
            raise self._fail(what, e) from None
        except (ValueError, OverflowError) as e:   # an f32_array slot out of range, a value Python cannot hold
            raise MemscopeError(f"{self.path}: {what}: {e} (the recording is damaged or altered)") from None
        finally:
            self._budget = -1

    def close(self):
        self._db.close()
