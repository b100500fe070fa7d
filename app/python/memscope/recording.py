"""Reading a Memscope recording with Python's sqlite3 and numpy.

A recording comes from other people, so it is opened read-only (an SQLite
``mode=ro`` URI, or ``immutable=1`` where a file left in WAL mode sits on
read-only media), its schema version and schema are checked before any
query, every query runs under a work budget (a planted quadratic query is
stopped), and every BLOB's length is checked against the run's configuration
before it becomes an array.  Whatever is wrong with a file is a
MemscopeError naming the file and what was expected; nothing else escapes.

Shapes (S segments of a run, K memory slots, d model width, H heads, n tokens
of a segment): per-segment quantities are (S,) and per-slot ones (S, K),
segment first; memory states (S + 1, K, d), [t] the memory before segment t.

This file holds the public classes, Recording, Run and View.  Beside it:
_format.py, what a recording may hold and MemscopeError; _database.py,
opening a file and querying it under the budget; _schema.py, the schemas
and the views that show an older one as the current one; _decode.py, a
stored BLOB as a numpy array.
"""

import csv
import io
import json
import math
import os
import shutil
import socket
import subprocess
import tempfile

import numpy as np

from . import _database, _decode
from ._decode import f32_finite as _f32_finite
# every name of _format stays importable from here, where it was defined before
from ._format import (ARCHITECTURES, ATTENTION_STORAGE, CAUSAL_REPLACEMENTS, MAX_CAUSAL_HORIZON,  # noqa: F401
                      MAX_DIMENSION, MAX_RESULT_VALUES, MAX_SLOTS, MAX_STATE_VALUES, RANGE_SLACK, SCHEMA_VERSION,
                      SLOT_QUANTITIES, STATUSES, MemscopeError)


# Segments of transfer and token share provenance() holds at a time.
PROVENANCE_WINDOW = 4096


def _positive(config, key, label, limit=MAX_DIMENSION):
    value = config.get(key)
    if type(value) is not int or value < 1 or value > limit:
        raise MemscopeError(f"{label}: the model configuration's {key} is {value!r} where an integer from 1 to "
                            f"{limit} was expected (the recording is damaged or altered)")
    return value


class Run:
    """One run of a recording: its description, and its quantities as numpy
    arrays.

    Attributes: id, name, arch ("memformer", "rmt"), config (the model's
    configuration, a dict), model_path, model_sha256, input_path,
    segment_len, n_segments (planned), segments_done (committed: the S of
    the arrays), status ("complete", "incomplete", or "recording" while its
    writer is alive on this host), attn ("f16", "f32": attention stored;
    "none": a compact run, whose attention memscope-cli replays), created,
    n_slots (K), d_model (d), n_heads (H), vocab_size."""

    def __init__(self, recording, row):
        self._rec = recording
        (self.id, self.name, self.model_path, self.model_sha256, self.input_path, self.arch, config_text,
         segment_len, n_segments, done, status, attn, self.created, writer_pid, writer_host, n_tokens,
         n_rows) = row
        label = f"{recording.path}: run {self.id}"
        if type(self.id) is not int or not 1 <= self.id < 2 ** 31:
            raise MemscopeError(f"{recording.path}: a run's id is {self.id!r}, not between 1 and 2^31 - 1 "
                                "(the recording is damaged or altered)")
        self.label = label
        if self.arch not in ARCHITECTURES:
            raise MemscopeError(f"{label}: its model's architecture {self.arch!r} is not one this module reads "
                                f"({', '.join(ARCHITECTURES)})")
        try:
            config = json.loads(config_text) if isinstance(config_text, str) else None
        except (ValueError, RecursionError):
            config = None
        if not isinstance(config, dict):
            raise MemscopeError(f"{label}: its model's configuration is not a JSON object (the recording is "
                                "damaged or altered)")
        self.config = config
        arch = ARCHITECTURES[self.arch]
        self.n_slots = _positive(config, arch["slots"], label, MAX_SLOTS)
        self.d_model = _positive(config, "d_model", label)
        self.n_heads = _positive(config, arch["heads"], label)
        self.vocab_size = _positive(config, "vocab_size", label)
        model_segment_len = _positive(config, "segment_len", label)
        # read usage sums a read matrix's rows (one per token of a segment) per slot: in [0, segment_len]
        self._slot_range = {q: (-1.0 if q == "representation" else 0.0,
                                float(model_segment_len) if q == "read_usage" else 1.0) for q in SLOT_QUANTITIES}
        self._layers = {kind: (_positive(config, key, label) if key else 1) for kind, key in arch["layers"].items()}
        if self.n_slots * self.d_model > MAX_STATE_VALUES:
            raise MemscopeError(f"{label}: its model's memory ({self.n_slots} x {self.d_model}) is larger than any "
                                "Memscope records (the recording is damaged or altered)")
        wrong = None
        if type(segment_len) is not int or not 1 <= segment_len <= model_segment_len:
            wrong = "segment_len is not between 1 and the model's segment_len"
        elif type(n_tokens) is not int or not 0 <= n_tokens < 2 ** 31:
            wrong = "n_tokens is negative or too large"
        elif type(n_segments) is not int or not 0 <= n_segments <= (n_tokens + segment_len - 1) // segment_len:
            wrong = "n_segments is not between 0 and the segments its n_tokens fill"
        elif not 0 <= done <= n_segments or n_rows != done:
            wrong = "its segment rows are not segments 0, 1, ... up to at most n_segments"
        if wrong:
            raise MemscopeError(f"{label}, table runs: {wrong} (segment_len {segment_len!r}, n_tokens {n_tokens!r}, "
                                f"n_segments {n_segments!r}, {n_rows} segment rows, the last segment {done - 1}): "
                                "the recording is damaged or altered")
        self.segment_len, self.n_segments, self.segments_done, self.n_tokens = segment_len, n_segments, done, n_tokens
        if status not in STATUSES:
            raise MemscopeError(f"{label}: status {status!r} is not one Memscope writes (incomplete or complete)")
        if status == "incomplete" and type(writer_pid) is int and writer_pid > 0 \
                and writer_host == socket.gethostname() and _alive(writer_pid):
            status = "recording"
        self.status = status
        if attn not in ATTENTION_STORAGE:
            raise MemscopeError(f"{label}: attention storage {attn!r} is not one Memscope writes (f16, f32 or none)")
        self.attn = attn
        if not isinstance(self.name, str) or not isinstance(self.model_path, str) \
                or not isinstance(self.input_path, str):
            raise MemscopeError(f"{label}: its name, model path or input path is not text (the recording is "
                                "damaged or altered)")

    def __repr__(self):
        return (f"<memscope.Run {self.id} {self.name!r}: {self.arch}, {self.segments_done}/{self.n_segments} "
                f"segments, {self.status}>")

    # ---- per segment ----

    def _window(self, first, last):
        S = self.segments_done
        last = S if last is None else last
        if type(first) is not int or type(last) is not int or not 0 <= first <= last <= S:
            raise MemscopeError(f"{self.label}: the segment window {first!r} ... {last!r} is not within "
                                f"0 ... {S} (the run has {S} committed segments)")
        return first, last

    def _segment_rows(self, columns, first, last):
        """Rows of segments [first, last) in order, each (segment, *columns),
        keys checked against their columns."""
        first, last = self._window(first, last)
        if first == last:
            return []
        base = self.id << 32
        rows = self._rec._query(
            f"SELECT id, segment, {', '.join(columns)} FROM segments WHERE id BETWEEN ? AND ? ORDER BY id",
            (base + first, base + last - 1), "reading segments")
        out = []
        for expected, row in enumerate(rows, start=first):
            if row[0] - base != expected or row[1] != expected:
                raise MemscopeError(f"{self.label}, table segments, segment {row[1]!r}: row {row[0]} holds segment "
                                    f"{row[1]!r} where segment {expected} was expected (the recording is damaged "
                                    "or altered)")
            out.append((expected,) + tuple(row[2:]))
        if len(out) != last - first:
            raise MemscopeError(f"{self.label}, table segments: {len(out)} rows for segments {first} ... {last - 1} "
                                "(the recording is damaged or altered)")
        return out

    def _f32(self, blob, n, table, segment, column, nullable=True):
        return _decode.f32(blob, n, f"{self.label}, table {table}, segment {segment}: {column}", nullable)

    def _slots(self, blob, n, quantity, segment):
        return _decode.slots(blob, n, quantity, self._slot_range[quantity],
                             f"{self.label}, table segments, segment {segment}: {quantity}")

    def _in_range(self, values, lo, hi, where, nan=True):
        _decode.in_range(values, lo, hi, f"{self.label}, {where}", nan)

    def slot_quantity(self, quantity, first=0, last=None):
        """(S, K) float32: @quantity ("retention", "token_share",
        "representation", "read_usage", "gate") of every slot after each
        segment of [first, last); NaN where not stored (the gate of an engine
        without one, or of a file before schema 7).  A token share not
        stored (schema 8) is what the transfer leaves: 1 - its row sums."""
        if quantity not in SLOT_QUANTITIES:
            raise ValueError(f"quantity must be one of {', '.join(SLOT_QUANTITIES)}")
        K = self.n_slots
        rows = self._segment_rows([quantity], first, last)
        out = np.empty((len(rows), K), dtype=np.float32)
        for i, (t, blob) in enumerate(rows):
            out[i] = self._slots(blob, K, quantity, t)
        derived = [i for i, (t, blob) in enumerate(rows) if blob is None]
        if quantity == "token_share" and derived:
            T = self.transfer(rows[0][0], rows[-1][0] + 1)
            out[derived] = (1 - T[derived].astype(np.float64).sum(axis=2)).astype(np.float32)
        return out

    def retention(self, first=0, last=None):
        """(S, K) retention r_t[i]: the share of new slot i drawn from the old memory."""
        return self.slot_quantity("retention", first, last)

    def token_share(self, first=0, last=None):
        """(S, K) 1 - retention: the share drawn from the segment's tokens."""
        return self.slot_quantity("token_share", first, last)

    def representation(self, first=0, last=None):
        """(S, K) representation retention cos(M_{t+1}[i], M_t[i])."""
        return self.slot_quantity("representation", first, last)

    def read_usage(self, first=0, last=None):
        """(S, K) read attention the segment's tokens give each slot, mean over layers."""
        return self.slot_quantity("read_usage", first, last)

    def gate(self, first=0, last=None):
        """(S, K) an engine's update gate per slot (MemBART's alpha): the share of
        the new slot taken from the layers' output; NaN where the engine has none."""
        return self.slot_quantity("gate", first, last)

    def transfer(self, first=0, last=None):
        """(S, K, K) float32: T[t, i, j], the share of new slot i drawn from
        old slot j in segment t (rows sum to the retention); diag(retention)
        for a segment that stores none (schemas 1 and 2)."""
        K = self.n_slots
        rows = self._segment_rows(["retention"], first, last)
        if not rows:
            return np.zeros((0, K, K), dtype=np.float32)
        # the chunks are read and checked against the run's sizes before (S, K, K) is sized by them
        stored = self._states(rows[0][0], rows[-1][0] + 1, "transfer", K * K)
        if len(rows) * K * K > MAX_RESULT_VALUES:
            raise MemscopeError(f"{self.label}: the transfer of segments {rows[0][0]} ... {rows[-1][0]} is "
                                f"{len(rows)} x {K} x {K} values, more than the {MAX_RESULT_VALUES} one call returns; "
                                "read it in windows (first, last)")
        out = np.zeros((len(rows), K, K), dtype=np.float32)
        for i, ((t, retention), blob) in enumerate(zip(rows, stored)):
            if blob is None:
                np.fill_diagonal(out[i], self._slots(retention, K, "retention", t))
            else:
                out[i] = np.frombuffer(blob, dtype="<f4").reshape(K, K)
                # T[i, j] a share in [0, 1], each row's sum too (what it leaves came from the tokens)
                where = f"table memory, segment {t}: the transfer"
                self._in_range(out[i], 0.0, 1.0, where)
                self._in_range(out[i].astype(np.float64).sum(axis=1), -np.inf, 1.0, where + "'s row sums")
        return out

    def _states(self, first, last, column, n):
        """[bytes or None]: the @n f32 values of @column ("data": the memory
        state after the segment, "transfer": its transfer, None where the
        chunk stores none) of each segment of [first, last) (-1: the initial
        memory), from the memory chunks that hold them (core/ms-db.h: a chunk
        holds the states after segments segment ... segment + n_states - 1),
        each checked against its key and the run's sizes."""
        K, d = self.n_slots, self.d_model
        base = self.id << 32
        start = self._rec._query("SELECT max(id) FROM memory WHERE id BETWEEN ? AND ?", (base, base + first + 1),
                                 "reading memory states")[0][0]
        rows = [] if start is None else self._rec._query(
            f"SELECT id, run_id, segment, n_states, rows, cols, {column} FROM memory WHERE id BETWEEN ? AND ? "
            "ORDER BY id", (start, base + last), "reading memory states")
        out, t = [], first
        for key, run_id, segment, count, r, c, blob in rows:
            label = f"{self.label}, table memory, segment {segment!r}"
            if key - base - 1 != segment or run_id != self.id or type(count) is not int \
                    or not 1 <= count <= 65536 or not segment <= t < segment + count:
                raise MemscopeError(f"{label}: row {key} holds {count!r} states from segment {segment!r} where the "
                                    f"chunk holding the memory after segment {t} was expected (the recording is "
                                    "damaged or altered)")
            if r != K or c != d:
                raise MemscopeError(f"{label}: the memory states are {r!r} x {c!r} where {K} x {d} was expected "
                                    "(the recording is damaged or altered)")
            if blob is not None and (not isinstance(blob, bytes) or len(blob) != 4 * n * count):
                size = len(blob) if isinstance(blob, bytes) else type(blob).__name__
                raise MemscopeError(f"{label}: {column} holds {size} bytes where {count} x {n} f32 values were "
                                    "expected (the recording is damaged or altered)")
            if blob is None and column == "data":
                raise MemscopeError(f"{label}: data is NULL (the recording is damaged or altered)")
            while t < min(last, segment + count):
                j = t - segment
                out.append(None if blob is None else blob[4 * n * j:4 * n * (j + 1)])
                t += 1
        if t < last:
            what = "the initial memory" if t < 0 else f"the memory after segment {t}"
            raise MemscopeError(f"{self.label}, table memory: {what} is missing (the recording is damaged or "
                                "altered)")
        return out

    def nll(self, first=0, last=None):
        """(S,) float32: the mean NLL (nats) over the tokens of each segment
        that had a prediction; NaN for a segment without one."""
        rows = self._segment_rows(["n_predicted", "total_nll"], first, last)
        out = np.empty(len(rows), dtype=np.float32)
        for i, (t, n_predicted, total) in enumerate(rows):
            if type(n_predicted) is not int or not 0 <= n_predicted <= self.segment_len:
                raise MemscopeError(f"{self.label}, table segments, segment {t}: n_predicted is {n_predicted!r} "
                                    f"where 0 to the run's segment_len {self.segment_len} was expected (the "
                                    "recording is damaged or altered)")
            if total is not None and (not isinstance(total, (int, float)) or (n_predicted > 0 and not (
                    math.isnan(total) or (0 <= total < math.inf and _f32_finite(total / n_predicted))))):
                raise MemscopeError(f"{self.label}, table segments, segment {t}: total_nll is {total!r} where a "
                                    f"finite sum of NLL >= 0 over its {n_predicted} predicted tokens (a mean a float32 "
                                    "holds) was expected (the recording is damaged or altered)")
            out[i] = np.nan if n_predicted == 0 or total is None else total / n_predicted
        return out

    def token_nll(self, segment):
        """(n,) float32: each token's NLL in segment @segment (NaN: no prediction)."""
        (t, begin, end, blob), = self._segment_rows(["token_begin", "token_end", "nll"], segment, segment + 1)
        out = self._f32(blob, self._n_tokens(t, begin, end), "segments", t, "nll", nullable=False)
        with np.errstate(invalid="ignore"):
            wrong = np.flatnonzero(np.isinf(out) | (out < 0))
        if len(wrong):
            raise MemscopeError(f"{self.label}, table segments, segment {t}: token {wrong[0]} has NLL "
                                f"{out[wrong[0]]!r} where a finite value >= 0 or NaN (no prediction) was expected (the "
                                "recording is damaged or altered)")
        return out

    def _n_tokens(self, t, begin, end):
        if type(begin) is not int or type(end) is not int or not 1 <= end - begin <= self.segment_len:
            raise MemscopeError(f"{self.label}, table segments, segment {t}: the token range {begin!r} ... {end!r} "
                                f"is not 1 to segment_len {self.segment_len} tokens (the recording is damaged or "
                                "altered)")
        return end - begin

    def slot_types(self, retain_at=0.9, overwrite_at=0.1, first=0, last=None):
        """(S, 3) float64: per segment the fractions of the K slots that
        retain (r >= retain_at), mix, and overwrite (r <= overwrite_at),
        compared in single precision as the C core does; a NaN retention
        counts in none of the three."""
        r = self.retention(first, last)
        retain = r >= np.float32(retain_at)
        overwrite = ~retain & (r <= np.float32(overwrite_at))
        mixed = ~retain & ~overwrite & ~np.isnan(r)
        counts = np.stack([retain.sum(1), mixed.sum(1), overwrite.sum(1)], axis=1)
        return counts / float(self.n_slots)

    def provenance(self, slot=None, horizon=None):
        """(S, S + 1) float64: row t is the memory after segment t, column 0
        the share of it that comes from the initial memory, column s + 1 the
        share from segment s (0 for sources after t) — the mean over slots,
        or slot @slot's.  Computed from the stored transfer and token shares
        (DESIGN §5.3): P_0 = 1, P_{t+1} = T_t P_t with segment t's token
        share added in its own column.  O(S^2 K) memory and time.

        With @horizon H: (S, H + 3), memory and time bounded by H — column 0
        the initial memory, column 1 every segment before t - H together
        ("older"), column 2 + j segment t - H + j (the last is t itself);
        NaN where that segment would lie before segment 0 (export --horizon)."""
        K = self.n_slots
        if slot is not None and (type(slot) is not int or not 0 <= slot < K):
            raise MemscopeError(f"{self.label}: slot {slot!r} is out of range (the run has {K} slots)")
        if horizon is not None and (type(horizon) is not int or horizon < 1):
            raise ValueError("horizon must be a positive int")
        S = self.segments_done
        width = S + 1 if horizon is None else horizon + 3
        P = np.zeros((K, width))
        P[:, 0] = 1
        out = np.zeros((S, width))
        for t in range(S):
            if t % PROVENANCE_WINDOW == 0:   # the transfer and shares a window at a time: memory bounded by H
                T = self.transfer(t, min(S, t + PROVENANCE_WINDOW))
                share = self.token_share(t, min(S, t + PROVENANCE_WINDOW))
            P = T[t % PROVENANCE_WINDOW].astype(np.float64) @ P
            if horizon is None:
                P[:, t + 1] = share[t % PROVENANCE_WINDOW]
            else:
                # counted back from t - 1 before the step: shift one segment back, t - 1 - H joins "older"
                P = np.concatenate([P[:, :1], P[:, 1:2] + P[:, 2:3], P[:, 3:],
                                    share[t % PROVENANCE_WINDOW][:, None]], axis=1)
            out[t] = P.mean(axis=0) if slot is None else P[slot]
            if horizon is not None:
                out[t, 1] = np.nan if t - horizon - 1 < 0 else out[t, 1]
                before = max(0, horizon - t)   # rows 2 … 2 + before - 1 name segments before 0
                out[t, 2:2 + before] = np.nan
        return out

    def memory(self, first=0, last=None):
        """(S + 1, K, d) float32 for the whole run: [t] is M_t, the memory
        before segment t ([0] the initial memory, [S] after the last
        segment); with a window, M_first ... M_last.  Exact: the recorder
        stores f32."""
        first, last = self._window(first, last)
        K, d = self.n_slots, self.d_model
        # M_t is stored as the memory after segment t - 1; every state's bytes are read and checked before the
        # array is sized, so a configuration claiming a huge memory allocates nothing the file does not hold
        states = self._states(first - 1, last, "data", K * d)
        out = np.empty((last - first + 1, K, d), dtype=np.float32)
        for i, blob in enumerate(states):
            out[i] = np.frombuffer(blob, dtype="<f4").reshape(K, d)
        return out

    def similarity(self):
        """(S, S) float64: the cosine of the whole memory states after
        segments t and u; NaN for a state that is zero or not finite."""
        states = self.memory()[1:].reshape(self.segments_done, -1).astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            norms = np.sqrt((states * states).sum(axis=1))
        ok = np.isfinite(norms) & (norms > 0)
        unit = np.zeros_like(states)
        unit[ok] = states[ok] / norms[ok, None]
        out = np.clip(unit @ unit.T, -1.0, 1.0)
        out[~ok, :] = np.nan
        out[:, ~ok] = np.nan
        return out

    # ---- causal retention (schema 6; memscope-cli causal computes it) ----

    def reset_memory_nll(self, first=0, last=None):
        """(S,) float32: each segment's mean NLL with the memory reset to
        M_0 before it (the baseline memscope-cli causal stores, as ``run
        --reset-memory`` computes it); NaN for a segment without a
        prediction or not computed."""
        first, last = self._window(first, last)
        base = self.id << 32
        rows = self._rec._query("SELECT id, segment, n_predicted, total_nll FROM reset_memory "
                                "WHERE id BETWEEN ? AND ? ORDER BY id", (base + first, base + last - 1),
                                "reading the reset-memory baseline")
        out = np.full(last - first, np.nan, dtype=np.float32)
        for key, segment, n_predicted, total in rows:
            if key - base != segment or not first <= segment < last:
                raise MemscopeError(f"{self.label}, table reset_memory, segment {segment!r}: row {key} does not hold "
                                    "the segment its key names (the recording is damaged or altered)")
            if type(n_predicted) is not int or not 0 <= n_predicted <= self.segment_len \
                    or (total is not None and (not isinstance(total, (int, float)) or not (
                        math.isnan(total) or (0 <= total < math.inf and _f32_finite(total / max(n_predicted, 1)))))):
                raise MemscopeError(f"{self.label}, table reset_memory, segment {segment}: n_predicted "
                                    f"{n_predicted!r} or total_nll {total!r} is not what Memscope writes (the "
                                    "recording is damaged or altered)")
            out[segment - first] = np.nan if n_predicted == 0 or total is None else total / n_predicted
        return out

    def causal(self, replacement="initial", slot=None):
        """Causal retention as memscope-cli causal stored it, for
        @replacement ("initial", "zeros", "permute", "knockout", "skip"; a
        knockout row per @slot): (sources (n,) int64, delta_nll (n, H)
        float32, delta_accuracy (n, H) float32 or None), value [i, k] for
        target segment sources[i] + 1 + k (NaN: past the run's end or no
        prediction).  Empty arrays when nothing was computed."""
        if replacement not in CAUSAL_REPLACEMENTS:
            raise ValueError(f"replacement must be one of {', '.join(CAUSAL_REPLACEMENTS)}")
        rows = self._rec._query("SELECT source, horizon, delta_nll, delta_accuracy, slot FROM causal WHERE run_id = ? "
                                "AND replacement = ? AND slot = ? ORDER BY source",
                                (self.id, replacement, -1 if slot is None else slot), "reading causal retention")
        H = rows[0][1] if rows else 0
        if rows and (type(H) is not int or not 1 <= H <= MAX_CAUSAL_HORIZON):   # before anything is sized by it
            raise MemscopeError(f"{self.label}, table causal, {replacement} source {rows[0][0]!r}: the horizon is "
                                f"{H!r} where 1 to {MAX_CAUSAL_HORIZON} was expected (the recording is damaged or "
                                "altered)")
        sources = np.empty(len(rows), dtype=np.int64)
        nll = np.empty((len(rows), H), dtype=np.float32)
        accuracy = np.full((len(rows), H), np.nan, dtype=np.float32)
        any_accuracy = False
        for i, (source, horizon, dn, da, _) in enumerate(rows):
            where = f"{self.label}, table causal, {replacement} source {source!r}"
            if type(source) is not int or not 0 <= source < self.segments_done or horizon != H \
                    or type(H) is not int or not 1 <= H <= MAX_CAUSAL_HORIZON:
                raise MemscopeError(f"{where}: the source or its horizon {horizon!r} is not one of the run's (the "
                                    "recording is damaged or altered)")
            sources[i] = source
            nll[i] = self._f32(dn, H, "causal", source, "delta_nll", nullable=False)
            # a difference of two finite NLLs is finite, of two accuracies in [-1, 1]; NaN: no prediction
            if np.isinf(nll[i]).any():
                raise MemscopeError(f"{where}: delta_nll holds an infinite value where finite differences of NLL "
                                    "(or NaN) were expected (the recording is damaged or altered)")
            if da is not None:
                accuracy[i] = self._f32(da, H, "causal", source, "delta_accuracy", nullable=False)
                self._in_range(accuracy[i], -1.0, 1.0, f"table causal, {replacement} source {source}: "
                               "delta_accuracy")
                any_accuracy = True
        return sources, nll, accuracy if any_accuracy else None

    # ---- one segment's text, tokens and attention ----

    def text(self, segment):
        """The bytes of the input that segment @segment covers."""
        (t, blob), = self._segment_rows(["text"], segment, segment + 1)
        if not isinstance(blob, bytes):
            raise MemscopeError(f"{self.label}, table segments, segment {t}: text is not a BLOB (the recording is "
                                "damaged or altered)")
        return blob

    def tokens(self, segment):
        """The tokens of segment @segment: (ids (n,) int32, ranges (n, 2)
        int64), each token's id and the bytes [start, end) of the run's input
        it stands for.  A segment tokenized by bytes (every segment before
        schema 5) has one token per byte, its value."""
        (t, begin, end, text, byte_begin, ids, ends), = self._segment_rows(
            ["token_begin", "token_end", "text", "byte_begin", "token_ids", "token_ends"], segment, segment + 1)
        n = self._n_tokens(t, begin, end)
        bad = f"{self.label}, table segments, segment {t}"
        if not isinstance(text, bytes):
            raise MemscopeError(f"{bad}: text is not a BLOB (the recording is damaged or altered)")
        if byte_begin is None:
            byte_begin = begin
        # at or after the segment's first token, and small enough that no byte offset overflows int64
        if type(byte_begin) is not int or not begin <= byte_begin <= 2 ** 62:
            raise MemscopeError(f"{bad}: byte_begin is {byte_begin!r} where an offset in the input at or after the "
                                f"segment's first token {begin} was expected (the recording is damaged or altered)")
        if ids is None and ends is None:
            if len(text) != n:
                raise MemscopeError(f"{bad}: a segment tokenized by bytes holds {len(text)} bytes of text for {n} "
                                    "tokens (the recording is damaged or altered)")
            token_ids = np.frombuffer(text, dtype=np.uint8).astype(np.int32)
            token_ends = np.arange(1, n + 1, dtype=np.int64)
        else:
            if not isinstance(ids, bytes) or not isinstance(ends, bytes) or len(ids) != 4 * n or len(ends) != 4 * n:
                raise MemscopeError(f"{bad}: token_ids and token_ends do not hold {n} values each (the recording is "
                                    "damaged or altered)")
            token_ids = np.frombuffer(ids, dtype="<i4").astype(np.int32)
            token_ends = np.frombuffer(ends, dtype="<u4").astype(np.int64)
            if token_ends[0] < 1 or np.any(np.diff(token_ends) < 1) or token_ends[-1] != len(text):
                raise MemscopeError(f"{bad}: the token ends do not rise to the text's length {len(text)} (the "
                                    "recording is damaged or altered)")
        if token_ids.min() < 0 or token_ids.max() >= self.vocab_size:
            raise MemscopeError(f"{bad}: a token id lies outside the model's vocabulary of {self.vocab_size} (the "
                                "recording is damaged or altered)")
        starts = np.concatenate([[0], token_ends[:-1]])
        return token_ids, np.stack([starts, token_ends], axis=1) + byte_begin

    def n_layers(self, kind):
        """How many layers offer attention of @kind ("read", "write"); 1 for a
        kind stored once per segment (Memformer's writer)."""
        if kind not in ("read", "write"):
            raise ValueError("kind must be 'read' or 'write'")
        return self._layers[kind]

    def attention_shape(self, segment, kind):
        """(rows, cols) of segment @segment's @kind attention."""
        (t, begin, end), = self._segment_rows(["token_begin", "token_end"], segment, segment + 1)
        return ARCHITECTURES[self.arch]["shape"][kind](self.n_slots, self._n_tokens(t, begin, end))

    def attention(self, segment, kind="read", layer=None, head=None):
        """(rows, cols) float32: one attention matrix of segment @segment —
        @kind "read" (tokens x slots) or "write" (slots x positions), of
        @layer (default: the last) and @head (default: the mean over heads).
        A run that stored attention (f16, f32) is read from the file; a
        compact run's is replayed by memscope-cli from the stored memory, bit
        for bit what f32 storage holds (Recording's cli and model say which
        memscope-cli and which model file)."""
        segment, layer, head = self._attention_args(segment, kind, layer, head)
        rows, cols = self.attention_shape(segment, kind)
        if self.attn == "none":
            return self._rec._replayed_attention(self, segment, kind, layer, head)
        base = self.id << 32
        found = self._rec._query(
            "SELECT a.head, a.rows, a.cols, a.dtype, a.data FROM segments s JOIN attention a "
            "ON a.id BETWEEN s.attn_first AND s.attn_first + s.attn_count - 1 "
            "WHERE s.id = ? AND s.segment = ? AND a.kind = ? AND a.layer = ? AND (? < 0 OR a.head = ?) ORDER BY a.head",
            (base + segment, segment, kind, layer, -1 if head is None else head, -1 if head is None else head),
            "reading attention")
        total = np.zeros((rows, cols), dtype=np.float32)
        heads = []
        for h, r, c, dtype, blob in found:
            size = {"f16": 2, "f32": 4}.get(dtype)
            if size is None or (r, c) != (rows, cols) or not isinstance(blob, bytes) or len(blob) != r * c * size \
                    or type(h) is not int or not 0 <= h < self.n_heads or h in heads:
                raise MemscopeError(f"{self.label}, segment {segment}: a stored {kind} attention matrix of layer "
                                    f"{layer} (head {h!r}, {r!r} x {c!r}, dtype {dtype!r}, "
                                    f"{len(blob) if isinstance(blob, bytes) else 'no'} bytes) does not match the "
                                    f"run's {rows} x {cols} or its own shape and dtype (the recording is damaged)")
            heads.append(h)
            one = np.frombuffer(blob, dtype=ATTENTION_STORAGE[dtype]).astype(np.float32).reshape(rows, cols)
            # attention weights are softmax outputs: in [0, 1], or NaN
            self._in_range(one, 0.0, 1.0, f"table attention, segment {segment}: {kind} attention of layer {layer}, "
                           f"head {h}")
            # summed in float32 in head order and divided once, as the C reader does
            total += one
        if not heads:
            raise MemscopeError(f"{self.label} has no {kind} attention for segment {segment}, layer {layer}"
                                + (f", head {head}" if head is not None else "") + " (the recording is damaged)")
        if head is None and len(heads) != self.n_heads:
            raise MemscopeError(f"{self.label}, segment {segment}: {len(heads)} heads of {kind} attention stored for "
                                f"layer {layer} where {self.n_heads} were expected (the recording is damaged)")
        return total / np.float32(len(heads))

    def attention_heads(self, segment, kind="read", layer=None):
        """(H, rows, cols) float32: every head of one attention matrix."""
        return np.stack([self.attention(segment, kind, layer, h) for h in range(self.n_heads)])

    def _attention_args(self, segment, kind, layer, head):
        n_layers = self.n_layers(kind)
        S = self.segments_done
        segment = S - 1 if segment is None else segment
        layer = n_layers - 1 if layer is None else layer
        for what, value, n in (("segment", segment, S), ("layer", layer, n_layers),
                               ("head", head if head is not None else 0, self.n_heads)):
            if type(value) is not int or not 0 <= value < n:
                raise MemscopeError(f"{self.label}: {what} {value!r} is out of range (the run has {n}: 0 ... {n - 1})")
        return segment, layer, head

    # ---- any view, through memscope-cli ----

    def view(self, view, **options):
        """The numbers behind one of memscope-cli's views (``memscope-cli
        export --view VIEW --out FILE.csv``): a View with row and column
        names and a (rows, cols) float64 array (NaN: no data).  @options are
        export's options without the dashes, e.g. segment=3, layer=0,
        head="mean", first=0, last=100, columns=200, reduce="max"."""
        return self._rec._export_csv(self, view, options)


class View:
    """A view's numbers as memscope-cli exports them: @corner (the axes, e.g.
    "memory slot \\ segment"), @columns and @rows (their names) and @values
    (rows, cols) float64, NaN where the view has no data.  Stacked and line
    views (types, nll) have one row per segment and one column per series,
    as their CSV does."""

    def __init__(self, corner, columns, rows, values):
        self.corner, self.columns, self.rows, self.values = corner, columns, rows, values

    def __repr__(self):
        return f"<memscope.View {self.corner!r}: {self.values.shape[0]} x {self.values.shape[1]}>"


def parse_csv(text, label="CSV"):
    """A View from the CSV memscope-cli export writes."""
    table = list(csv.reader(io.StringIO(text)))
    if not table or not table[0]:
        raise MemscopeError(f"{label}: empty")
    header, body = table[0], table[1:]
    try:
        values = np.array([[float(x) if x != "" else np.nan for x in r[1:]] for r in body], dtype=np.float64)
    except ValueError as e:
        raise MemscopeError(f"{label}: not a view's numbers: {e}") from None
    if any(len(r) != len(header) for r in body):
        raise MemscopeError(f"{label}: rows of different lengths")
    return View(header[0], header[1:], [r[0] for r in body], values.reshape(len(body), len(header) - 1))


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except PermissionError:
        return True
    except (OSError, OverflowError):
        return False


def _find_cli(explicit):
    if explicit:
        return explicit
    if os.environ.get("MEMSCOPE_CLI"):
        return os.environ["MEMSCOPE_CLI"]
    # from a checkout: app/python/memscope/ -> .build/release/app/memscope-cli
    here = os.path.dirname(os.path.abspath(__file__))
    built = os.path.join(here, "..", "..", "..", ".build", "release", "app", "memscope-cli")
    if os.access(built, os.X_OK):
        return os.path.normpath(built)
    found = shutil.which("memscope-cli")
    if found:
        return found
    return None


class Recording:
    """A Memscope recording, opened read-only.

    ``memscope.open(path, cli=None, model=None)``: @cli is the memscope-cli
    to replay compact runs' attention and draw views with (default: the
    MEMSCOPE_CLI environment variable, the checkout's .build/release build
    when this module runs from a checkout, then memscope-cli on PATH);
    @model names where a compact run's model file is now, if it moved
    (``export --model``).  Use as a context manager, or close()."""

    def __init__(self, path, cli=None, model=None):
        self.path = os.fspath(path)
        self.cli = cli
        self.model = model
        self._grids = {}   # (run, segment, kind) -> a replayed segment's attention grid
        self._db = _database.Database(self.path)
        self.schema_version = self._db.schema_version

    def _query(self, sql, args, what, factor=1):
        return self._db.query(sql, args, what, factor)

    def close(self):
        self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"<memscope.Recording {self.path!r}, schema {self.schema_version}>"

    # ---- runs ----

    _RUN_SQL = (
        "SELECT r.id, r.name, m.path, m.sha256, r.input_path, m.arch, m.config, r.segment_len, r.n_segments, "
        "(SELECT coalesce(max(id) + 1 - r.id * 4294967296, 0) FROM segments "
        " WHERE id BETWEEN r.id * 4294967296 AND r.id * 4294967296 + 4294967295), "
        "r.status, r.attn_dtype, r.created, r.writer_pid, r.writer_host, r.n_tokens, "
        "(SELECT count(*) FROM segments WHERE id BETWEEN r.id * 4294967296 AND r.id * 4294967296 + 4294967295) "
        "FROM runs r JOIN models m ON m.id = r.model_id")

    def runs(self):
        """Every run, oldest first (a list of Run)."""
        return [Run(self, row) for row in self._query(self._RUN_SQL + " ORDER BY r.id", (), "listing runs")]

    def run(self, run_id):
        """The run @run_id (a Run)."""
        if type(run_id) is not int:
            raise ValueError("run_id must be an int")
        rows = self._query(self._RUN_SQL + " WHERE r.id = ?", (run_id,), "reading a run")
        if not rows:
            raise MemscopeError(f"{self.path}: there is no run {run_id} (see memscope-cli runs {self.path})")
        return Run(self, rows[0])

    # ---- through memscope-cli ----

    def _export_csv(self, run, view, options):
        cli = _find_cli(self.cli)
        if not cli:
            raise MemscopeError(f"{self.path}: run {run.id}: this needs memscope-cli, which was not found: pass "
                                "cli= to memscope.open, set MEMSCOPE_CLI, or put memscope-cli on PATH")
        with tempfile.TemporaryDirectory(prefix="memscope-") as folder:
            out = os.path.join(folder, "view.csv")
            args = [cli, "export", self.path, "--run", str(run.id), "--view", str(view), "--out", out]
            for key, value in options.items():
                args += ["--" + key.replace("_", "-"), str(value)]
            if self.model and "model" not in options:
                args += ["--model", os.fspath(self.model)]
            try:
                done = subprocess.run(args, capture_output=True, text=True, env=dict(os.environ, LC_ALL="C.UTF-8"))
            except OSError as e:
                raise MemscopeError(f"{self.path}: cannot run {cli}: {e}") from None
            if done.returncode != 0:
                message = done.stderr.strip().replace("memscope-cli export: ", "").replace("memscope-cli: ", "")
                raise MemscopeError(message or f"{self.path}: {cli} export failed ({done.returncode})")
            with io.open(out, encoding="utf-8") as f:
                return parse_csv(f.read(), f"{self.path}: run {run.id}, view {view}")

    def _replayed_attention(self, run, segment, kind, layer, head):
        """One tile of the @kind-heads view (every layer x head and the mean
        of one segment, replayed by memscope-cli once per segment and kind,
        the last few kept)."""
        key = (run.id, segment, kind)
        grid = self._grids.pop(key, None)
        if grid is None:
            grid = run.view(kind + "-heads", segment=segment).values.astype(np.float32)
        self._grids[key] = grid
        while len(self._grids) > 8:
            del self._grids[next(iter(self._grids))]
        rows, cols = run.attention_shape(segment, kind)
        L, H = run.n_layers(kind), run.n_heads
        if grid.shape != (L * rows, (H + 1) * cols):
            raise MemscopeError(f"{run.label}, segment {segment}: memscope-cli gave a {grid.shape[0]} x "
                                f"{grid.shape[1]} grid of {kind} attention where {L} x {H + 1} tiles of {rows} x "
                                f"{cols} were expected")
        c = H if head is None else head   # the mean is the last tile of a row
        return grid[layer * rows:(layer + 1) * rows, c * cols:(c + 1) * cols].copy()
