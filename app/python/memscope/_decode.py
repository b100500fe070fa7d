"""Stored arrays as numpy arrays.

A BLOB's length is checked against what the run's configuration says it
holds before it becomes an array, and its values against the range a writer
stores (as the C reader checks them): a value no writer stores is damage,
never data.  Every failure is a MemscopeError that begins with @where, which
names the file, the run, the table, the segment and the column."""

import numpy as np

from ._format import RANGE_SLACK, MemscopeError


def f32_finite(x):
    """Whether @x, a Python float, is finite as a float32 (as the C reader's (float) cast)."""
    with np.errstate(over="ignore"):
        return bool(np.isfinite(np.float32(x)))


def _size(blob):
    return len(blob) if isinstance(blob, bytes) else type(blob).__name__


def f32(blob, n, where, nullable=True):
    """(n,) float32: the little-endian f32 values @blob stores; NaN for a
    NULL @blob when @nullable."""
    if blob is None and nullable:
        return np.full(n, np.nan, dtype=np.float32)
    if not isinstance(blob, bytes) or len(blob) != 4 * n:
        raise MemscopeError(f"{where} holds {_size(blob)} bytes where {n} f32 values were expected (the recording "
                            "is damaged or altered)")
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


def slots(blob, n, quantity, value_range, where):
    """(n,) float32: the per-slot @quantity stored as @blob: f32, or since
    schema 8 its narrow width (core/ms-recording-names.h): read usage f16,
    the others 12-bit fixed point over their range, two codes in three
    little-endian bytes, 4095 for NaN.  NaN for NULL.  f32 and f16 values
    must lie in @value_range, (lo, hi)."""
    if blob is None:
        return np.full(n, np.nan, dtype=np.float32)
    narrow = 2 * n if quantity == "read_usage" else (3 * n + 1) // 2
    if not isinstance(blob, bytes) or len(blob) not in (4 * n, narrow):
        raise MemscopeError(f"{where} holds {_size(blob)} bytes where {n} values ({4 * n} bytes as f32, {narrow} "
                            "narrow) were expected (the recording is damaged or altered)")
    if len(blob) == 4 * n or quantity == "read_usage":
        values = np.frombuffer(blob, dtype="<f4" if len(blob) == 4 * n else "<f2").astype(np.float32)
        in_range(values, *value_range, where)
        return values
    b = np.frombuffer(blob + bytes(len(blob) % 3 and 1), dtype=np.uint8).astype(np.uint32).reshape(-1, 3)
    group = b[:, 0] | b[:, 1] << 8 | b[:, 2] << 16
    codes = np.stack([group & 0xfff, group >> 12], axis=1).reshape(-1)[:n]
    lo = -1.0 if quantity == "representation" else 0.0
    values = lo + codes.astype(np.float64) * (1.0 - lo) / 4094
    return np.where(codes == 4095, np.nan, values).astype(np.float32)


def in_range(values, lo, hi, where, nan=True):
    """Refuses @values (an array) unless each lies in [@lo, @hi] (within
    RANGE_SLACK) or is NaN (when @nan)."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    with np.errstate(invalid="ignore"):
        bad = ~((v >= lo - RANGE_SLACK) & (v <= hi + RANGE_SLACK))
    if nan:
        bad &= ~np.isnan(v)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise MemscopeError(f"{where} holds {v[i]!r} at index {i}, where a value in [{lo:g}, {hi:g}]"
                            f"{' (or NaN)' if nan else ''} was expected (the recording is damaged or altered)")
