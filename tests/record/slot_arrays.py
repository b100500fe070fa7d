"""The per-slot arrays of a recording's segments table, unpacked here from core/ms-recording-names.h's
description, independently of the C reader and of the Python module: f32 (4 K bytes, every schema), or since
schema 8 narrow — read usage IEEE half (2 K bytes), the others 12-bit fixed point over their range (two codes
in three little-endian bytes; code q stands for lo + q (hi - lo) / 4094, 4095 for NaN)."""
import struct

RANGES = {"retention": (0.0, 1.0), "token_share": (0.0, 1.0), "gate": (0.0, 1.0), "representation": (-1.0, 1.0)}


def narrow_bytes(quantity, K):
    return 2 * K if quantity == "read_usage" else (3 * K + 1) // 2


def unpack_slots(blob, K, quantity):
    """[K floats] (each a float32 value) of @quantity's stored @blob; None for NULL."""
    if blob is None:
        return None
    if len(blob) == 4 * K:
        return list(struct.unpack(f"<{K}f", blob))
    assert len(blob) == narrow_bytes(quantity, K), (quantity, len(blob), K)
    if quantity == "read_usage":
        return list(struct.unpack(f"<{K}e", blob))
    lo, hi = RANGES[quantity]
    codes = []
    for g in range(0, len(blob), 3):
        group = int.from_bytes(blob[g:g + 3], "little")
        codes += [group & 0xfff, group >> 12]
    return [float("nan") if q == 4095 else struct.unpack("<f", struct.pack("<f", lo + q * (hi - lo) / 4094))[0]
            for q in codes[:K]]
