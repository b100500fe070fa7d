#!/usr/bin/env python3
"""Bad-input cases for memscope-cli, one meson test per case.

Each case crafts a hostile or broken file from a committed fixture model
(standard library only: the safetensors container is rewritten by hand), runs
`memscope-cli info` or `run` on it, and checks what a user relies on: exit
code 1 (never a crash, never 0), and a message on stderr that names the file
and, where there is one, the tensor or setting that was wrong.

usage: bad_input.py CLI FIXTURE_DIR CASE
"""
import json
import math
import os
import struct
import subprocess
import sys
import tempfile


def read_container(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def write_container(path, header_text, data):
    """header_text is written verbatim so cases can break JSON on purpose. Returns path."""
    blob = header_text.encode() if isinstance(header_text, str) else header_text
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(blob)) + blob + data)
    return path


def rewrite(src, dst, edit):
    """Loads src, lets edit(header, data) change it, writes dst; returns dst."""
    header, raw = read_container(src)
    data = bytearray(raw)
    result = edit(header, data)
    if result is not None:
        header, data = result
    write_container(dst, json.dumps(header), bytes(data))
    return dst


def set_config(header, **changes):
    cfg = json.loads(header["__metadata__"]["memscope.config"])
    cfg.update(changes)
    header["__metadata__"]["memscope.config"] = json.dumps(cfg)


def case_files(fixtures, tmp):
    """Yields (name, command, file, words the message must contain)."""
    mf = os.path.join(fixtures, "memformer.safetensors")
    rmt = os.path.join(fixtures, "rmt_blocks.safetensors")
    p = lambda name: os.path.join(tmp, name)

    def empty():
        open(p("empty.safetensors"), "wb").close()
        return "info", [p("empty.safetensors")], ["empty.safetensors", "too short"]

    def truncated():
        with open(mf, "rb") as f:
            raw = f.read()
        with open(p("truncated.safetensors"), "wb") as f:
            f.write(raw[: len(raw) // 2])
        return "info", [p("truncated.safetensors")], ["truncated.safetensors", "outside the data buffer"]

    def truncated_header():
        with open(mf, "rb") as f:
            raw = f.read()
        with open(p("cut.safetensors"), "wb") as f:
            f.write(raw[:100])
        return "info", [p("cut.safetensors")], ["cut.safetensors", "past the end"]

    def oversized_header():
        with open(p("huge.safetensors"), "wb") as f:
            f.write(struct.pack("<Q", 200 * 1024 * 1024) + b"{}")
        return "info", [p("huge.safetensors")], ["huge.safetensors", "100 MiB"]

    def not_json():
        write_container(p("notjson.safetensors"), "this is not json at all!", b"")
        return "info", [p("notjson.safetensors")], ["notjson.safetensors", "not valid JSON"]

    def json_not_object():
        write_container(p("array.safetensors"), "[1, 2, 3]", b"")
        return "info", [p("array.safetensors")], ["array.safetensors", "not a JSON object"]

    def duplicate_names():
        header, data = read_container(mf)
        entry = json.dumps(header["enc.ln_f.bias"])
        text = json.dumps(header)
        text = text[:-1] + ', "enc.ln_f.bias": ' + entry + "}"
        write_container(p("dup.safetensors"), text, data)
        return "info", [p("dup.safetensors")], ["dup.safetensors", "enc.ln_f.bias", "twice"]

    def overlapping():
        def edit(h, d):
            a = h["enc.ln_f.weight"]["data_offsets"]
            b = h["enc.ln_f.bias"]
            size = b["data_offsets"][1] - b["data_offsets"][0]
            b["data_offsets"] = [a[0] + 4, a[0] + 4 + size]
        rewrite(mf, p("overlap.safetensors"), edit)
        return "info", [p("overlap.safetensors")], ["overlap.safetensors", "overlap", "enc.ln_f"]

    def out_of_range():
        def edit(h, d):
            o = h["memory.bias"]["data_offsets"]
            size = o[1] - o[0]
            h["memory.bias"]["data_offsets"] = [len(d) - size + 64, len(d) + 64]
        rewrite(mf, p("range.safetensors"), edit)
        return "info", [p("range.safetensors")], ["range.safetensors", "memory.bias", "outside the data buffer"]

    def negative_offset():
        def edit(h, d):
            h["memory.bias"]["data_offsets"] = [-8, 4]
        rewrite(mf, p("neg.safetensors"), edit)
        return "info", [p("neg.safetensors")], ["neg.safetensors", "memory.bias", "non-negative"]

    def unsupported_dtype():
        def edit(h, d):
            h["memory.bias"]["dtype"] = "I64"
            shape = h["memory.bias"]["shape"]
            h["memory.bias"]["shape"] = [shape[0], shape[1] // 2]
        rewrite(mf, p("dtype.safetensors"), edit)
        return "info", [p("dtype.safetensors")], ["dtype.safetensors", "memory.bias", "I64", "F32"]

    def size_mismatch():
        def edit(h, d):
            h["memory.bias"]["shape"] = [h["memory.bias"]["shape"][0], 3]
        rewrite(mf, p("bytes.safetensors"), edit)
        return "info", [p("bytes.safetensors")], ["bytes.safetensors", "memory.bias", "bytes"]

    def missing_tensor():
        def edit(h, d):
            del h["writer.v.weight"]
        rewrite(mf, p("missing.safetensors"), edit)
        return "info", [p("missing.safetensors")], ["missing.safetensors", "writer.v.weight", "missing"]

    def wrong_shape():
        # transposing a non-square weight keeps the byte size but not the shape
        def edit(h, d):
            s = h["transformer.h.1.mlp.c_fc.weight"]["shape"]
            h["transformer.h.1.mlp.c_fc.weight"]["shape"] = [s[1], s[0]]
        rewrite(rmt, p("shape.safetensors"), edit)
        return "info", [p("shape.safetensors")], ["shape.safetensors", "transformer.h.1.mlp.c_fc.weight", "shape"]

    def config_inconsistent():
        def edit(h, d):
            cfg = json.loads(h["__metadata__"]["memscope.config"])
            set_config(h, n_slots=cfg["n_slots"] + 2)
        rewrite(mf, p("config.safetensors"), edit)
        return "info", [p("config.safetensors")], ["config.safetensors", "memory.bias", "shape"]

    def config_invalid():
        def edit(h, d):
            set_config(h, n_heads=5)
        rewrite(mf, p("heads.safetensors"), edit)
        return "info", [p("heads.safetensors")], ["heads.safetensors", "n_heads", "divisible"]

    def huge_config():
        # a config whose sessions could never be allocated is refused at load
        def edit(h, d):
            set_config(h, segment_len=1 << 24)
        rewrite(mf, p("huge-config.safetensors"), edit)
        return "info", [p("huge-config.safetensors")], ["huge-config.safetensors", "GiB", "segment_len"]

    def rmt_positions_too_few():
        def edit(h, d):
            set_config(h, n_positions=4)
        rewrite(rmt, p("positions.safetensors"), edit)
        return "info", [p("positions.safetensors")], ["positions.safetensors", "n_positions"]

    def newer_format():
        def edit(h, d):
            h["__metadata__"]["memscope.format"] = "7"
        rewrite(mf, p("newer.safetensors"), edit)
        return "info", [p("newer.safetensors")], ["newer.safetensors", "memscope.format", "newer"]

    def not_memscope():
        def edit(h, d):
            del h["__metadata__"]
        rewrite(mf, p("plain.safetensors"), edit)
        return "info", [p("plain.safetensors")], ["plain.safetensors", "memscope.format"]

    def missing_file():
        return "info", [p("does-not-exist.safetensors")], ["does-not-exist.safetensors"]

    def empty_input():
        open(p("empty.txt"), "wb").close()
        return "run", [mf, p("empty.txt")], ["empty.txt", "empty"]

    def missing_input():
        return "run", [mf, p("nowhere.txt")], ["nowhere.txt"]

    return {f.__name__: f for f in [
        empty, truncated, truncated_header, oversized_header, not_json, json_not_object, duplicate_names,
        overlapping, out_of_range, negative_offset, unsupported_dtype, size_mismatch, missing_tensor,
        wrong_shape, config_inconsistent, config_invalid, huge_config, rmt_positions_too_few, newer_format, not_memscope,
        missing_file, empty_input, missing_input]}


def nan_weights(cli, fixtures, tmp):
    """NaN weights load with a warning that names the tensor, exit 0."""
    mf = os.path.join(fixtures, "memformer.safetensors")

    nan_bits = {"F32": struct.pack("<f", math.nan), "F16": struct.pack("<H", 0x7E00),
                "BF16": struct.pack("<H", 0x7FC0)}

    def edit(h, d):
        t = h["enc.layers.0.ffn.fc1.bias"]
        nan = nan_bits[t["dtype"]]
        begin = t["data_offsets"][0]
        d[begin:begin + len(nan)] = nan
    path = rewrite(mf, os.path.join(tmp, "nan.safetensors"), edit)
    r = subprocess.run([cli, "info", path], capture_output=True, text=True)
    assert r.returncode == 0, f"exit {r.returncode}: {r.stderr}"
    assert "warning" in r.stderr and "enc.layers.0.ffn.fc1.bias" in r.stderr and "NaN" in r.stderr, r.stderr


def non_utf8_input(cli, fixtures, tmp):
    """Invalid UTF-8 is fine for the bytes tokenizer: every byte is a token."""
    path = os.path.join(tmp, "latin1.txt")
    with open(path, "wb") as f:
        f.write(bytes(range(256)) * 3)
    for model in ("memformer", "rmt_causal"):
        r = subprocess.run([cli, "run", "--json", os.path.join(fixtures, model + ".safetensors"), path],
                           capture_output=True, text=True)
        assert r.returncode == 0, f"{model}: exit {r.returncode}: {r.stderr}"
        out = json.loads(r.stdout)
        assert sum(s["n_tokens"] for s in out["segments"]) == 768, out


def main():
    cli, fixtures, case = sys.argv[1:4]
    with tempfile.TemporaryDirectory() as tmp:
        if case in ("nan_weights", "non_utf8_input"):
            globals()[case](cli, fixtures, tmp)
            print(f"{case}: ok")
            return 0
        command, args, words = case_files(fixtures, tmp)[case]()
        r = subprocess.run([cli, command] + args, capture_output=True, text=True)
        problems = []
        if r.returncode != 1:
            problems.append(f"exit code {r.returncode}, expected 1")
        for w in words:
            if w not in r.stderr:
                problems.append(f"message lacks {w!r}")
        print(f"{case}: memscope-cli {command} -> exit {r.returncode}: {r.stderr.strip()}")
        if problems:
            print("FAILED: " + "; ".join(problems))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
