#!/usr/bin/env python3
"""Minimal safetensors reader and writer for Memscope's reference tools.

Memscope model files and the expected-output fixtures are safetensors files (DESIGN.md §2): an 8-byte
little-endian u64 header length N, N bytes of JSON (padded with spaces so the data starts on an 8-byte
boundary), then the raw little-endian tensor bytes. Each header entry is
{"dtype", "shape", "data_offsets": [begin, end]} with offsets relative to the start of the data; the optional
"__metadata__" entry maps strings to strings. This module implements the format with numpy only (the
`safetensors` package is not used), and offers `write_raw_safetensors` for tests that need to craft broken or
hostile files on purpose.
"""

import json
import struct

import numpy as np

try:  # torch is optional here; it is only needed to accept torch tensors and for exact BF16 rounding.
    import torch
except ImportError:  # pragma: no cover - the reference tools always run with torch
    torch = None

# Element sizes of every dtype the reader understands. The Memscope loader accepts only F32, F16 and BF16;
# the others are here so tests can read back whatever they crafted.
DTYPE_SIZES = {
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2,
    "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
}
_NUMPY_DTYPES = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2",
    "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?",
}
WRITABLE_FLOAT_DTYPES = ("F32", "F16", "BF16")
HEADER_LIMIT = 100 * 1024 * 1024  # same bound as the C loader (DESIGN.md §2)


def _to_numpy(value):
    """Returns `value` (torch tensor, numpy array or nested list) as a numpy array, detached and on the CPU."""
    if torch is not None and isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        if value.dtype == torch.bfloat16:
            value = value.float()
        return value.numpy()
    return np.asarray(value)


def float32_to_bf16_bits(array):
    """Rounds a float array to bfloat16 (round to nearest, ties to even) and returns the raw uint16 bits."""
    f32 = np.ascontiguousarray(array, dtype=np.float32)
    bits = f32.view(np.uint32).astype(np.uint64)
    is_nan = np.isnan(f32)
    rounding = 0x7FFF + ((bits >> 16) & 1)
    rounded = ((bits + rounding) >> 16).astype(np.uint16)
    # Keep NaNs NaN (rounding could carry a NaN payload into infinity).
    rounded[is_nan] = ((bits[is_nan] >> 16) | 0x40).astype(np.uint16)
    return rounded


def bf16_bits_to_float32(bits):
    """Expands raw bfloat16 bits (uint16 array) to float32 exactly."""
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def encode_tensor(value, dtype):
    """Returns (shape, raw little-endian bytes) of `value` stored as `dtype` ("F32", "F16" or "BF16")."""
    array = _to_numpy(value)
    if dtype == "F32":
        raw = np.ascontiguousarray(array, dtype="<f4")
    elif dtype == "F16":
        raw = np.ascontiguousarray(array.astype(np.float32), dtype="<f2")
    elif dtype == "BF16":
        raw = np.ascontiguousarray(float32_to_bf16_bits(array.astype(np.float32)), dtype="<u2")
    else:
        raise ValueError(f"unsupported dtype {dtype!r} for writing (use F32, F16 or BF16)")
    return list(array.shape), raw.tobytes()


def _padded_header_bytes(header):
    """Serialises a header dict to JSON bytes padded with spaces to a multiple of 8."""
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    return text + b" " * (-len(text) % 8)


def write_raw_safetensors(path, header, data=b"", header_len=None, pad=True):
    """Writes a safetensors-shaped file from parts, without any validation.

    `header` is a dict (serialised as JSON), a str or bytes (written as is, so it may be invalid JSON).
    `data` is the raw tensor buffer. `header_len` overrides the 8-byte length field (to lie about N);
    `pad` adds spaces so the header length is a multiple of 8. Meant for bad-input tests.
    """
    if isinstance(header, dict):
        header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    elif isinstance(header, str):
        header_bytes = header.encode("utf-8")
    else:
        header_bytes = bytes(header)
    if pad:
        header_bytes += b" " * (-len(header_bytes) % 8)
    length = len(header_bytes) if header_len is None else header_len
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", length))
        f.write(header_bytes)
        f.write(bytes(data))


def write_safetensors(path, tensors, metadata=None, dtype="F32", dtypes=None):
    """Writes `tensors` (name -> torch tensor or numpy array) to a safetensors file at `path`.

    `metadata` is a str -> str dict stored as "__metadata__". `dtype` is the storage dtype of every tensor
    ("F32", "F16" or "BF16"); `dtypes` optionally overrides it per tensor name. Tensors are laid out without
    gaps, wider dtypes first, so every tensor starts on a multiple of its element size.
    """
    dtypes = dict(dtypes or {})
    unknown = set(dtypes) - set(tensors)
    if unknown:
        raise KeyError(f"dtype override for unknown tensors: {sorted(unknown)}")
    entries = []
    for index, (name, value) in enumerate(tensors.items()):
        if not isinstance(name, str) or name == "__metadata__":
            raise ValueError(f"invalid tensor name {name!r}")
        tensor_dtype = dtypes.get(name, dtype)
        shape, raw = encode_tensor(value, tensor_dtype)
        entries.append((-DTYPE_SIZES[tensor_dtype], index, name, tensor_dtype, shape, raw))
    entries.sort()

    header = {}
    if metadata:
        for key, value in metadata.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError(f"metadata must map str to str, got {key!r}: {value!r}")
        header["__metadata__"] = dict(metadata)
    chunks = []
    offset = 0
    for _, _, name, tensor_dtype, shape, raw in entries:
        header[name] = {"dtype": tensor_dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)

    header_bytes = _padded_header_bytes(header)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for raw in chunks:
            f.write(raw)


def read_header(path):
    """Returns (header dict, data start offset, file bytes) of a safetensors file, checking its framing."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: file is {len(blob)} bytes, shorter than the 8-byte header length")
    (length,) = struct.unpack("<Q", blob[:8])
    if length > HEADER_LIMIT or 8 + length > len(blob):
        raise ValueError(f"{path}: header length {length} does not fit in a {len(blob)}-byte file")

    def no_duplicates(pairs):
        seen = {}
        for key, value in pairs:
            if key in seen:
                raise ValueError(f"{path}: duplicate header key {key!r}")
            seen[key] = value
        return seen

    header = json.loads(blob[8:8 + length].decode("utf-8"), object_pairs_hook=no_duplicates)
    if not isinstance(header, dict):
        raise ValueError(f"{path}: header is not a JSON object")
    return header, 8 + length, blob


def read_safetensors(path, keep_dtype=False):
    """Reads a safetensors file; returns (tensors: name -> numpy array, metadata: dict).

    Float tensors come back as float32, as the C loader converts them, unless `keep_dtype` is true (then F16
    stays float16 and BF16 is returned as its raw uint16 bits). Offsets, sizes and overlaps are checked.
    """
    header, data_start, blob = read_header(path)
    data_len = len(blob) - data_start
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    ranges = []
    for name, entry in header.items():
        dtype = entry.get("dtype")
        if dtype not in DTYPE_SIZES:
            raise ValueError(f"{path}: tensor {name!r} has unknown dtype {dtype!r}")
        shape = [int(n) for n in entry["shape"]]
        begin, end = (int(n) for n in entry["data_offsets"])
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if not 0 <= begin <= end <= data_len or end - begin != count * DTYPE_SIZES[dtype]:
            raise ValueError(f"{path}: tensor {name!r} has data_offsets [{begin}, {end}] that do not match "
                             f"shape {shape} x {dtype} inside a {data_len}-byte buffer")
        ranges.append((begin, end, name))
        raw = np.frombuffer(blob, dtype=_NUMPY_DTYPES[dtype], count=count, offset=data_start + begin)
        array = raw.reshape(shape).copy()
        if not keep_dtype:
            if dtype == "BF16":
                array = bf16_bits_to_float32(array)
            elif dtype in ("F16", "F64"):
                array = array.astype(np.float32)
        tensors[name] = array
    ranges.sort()
    for (b0, e0, n0), (b1, e1, n1) in zip(ranges, ranges[1:]):
        if b1 < e0:
            raise ValueError(f"{path}: tensors {n0!r} and {n1!r} overlap")
    return tensors, metadata
