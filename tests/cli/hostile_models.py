#!/usr/bin/env python3
"""Hostile model files for memscope-cli, one meson test per case.

Each case builds a file that attacks the loader's resources rather than its
rules (JSON nested 100,000 deep in the header or in memscope.config, a header
of millions of values, a configuration of 16,777,216 layers in a small file,
1.7 million empty tensors in a 100 MiB header), runs `memscope-cli info` on it
and checks what a user relies on: exit code 1 with a message naming the file,
no crash and no sanitizer report, and a peak resident size (the child's
ru_maxrss, from wait4) far below what parsing or binding such a file would
take.

usage: hostile_models.py CLI FIXTURE_DIR CASE
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bad_input import read_container, rewrite, set_config, write_container  # noqa: E402

# Peak resident size allowed for refusing any of these files; loading the
# fixture model itself takes a few tens of MB (more under AddressSanitizer).
MAX_RSS_MB = 400


def with_config(src, dst, **changes):
    return rewrite(src, dst, lambda header, data: set_config(header, **changes))


# Runs a command and reports its peak RSS.  It runs in a fresh, small Python
# process: a child's ru_maxrss includes what the forking process held before
# the exec, and this script may hold a 100 MiB header in memory.
MEASURE = """
import os, subprocess, sys, json
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
err = proc.stderr.read()
_, status, usage = os.wait4(proc.pid, 0)
json.dump({"code": os.waitstatus_to_exitcode(status), "err": err.decode(errors="replace"),
           "rss_mb": usage.ru_maxrss / 1024}, sys.stdout)
"""


def run_measured(argv, env=None):
    """Runs argv (in the environment @env, default this one's); returns (exit status or −signal, stderr, peak RSS
    in MB)."""
    r = subprocess.run([sys.executable, "-c", MEASURE] + argv, capture_output=True, text=True, check=True, env=env)
    out = json.loads(r.stdout)
    return out["code"], out["err"], out["rss_mb"]


def cases(fixtures, tmp):
    """name → () → (file, words the message must contain)."""
    mf = os.path.join(fixtures, "memformer.safetensors")
    rmt = os.path.join(fixtures, "rmt_causal.safetensors")
    p = lambda name: os.path.join(tmp, name)
    depth = 100_000

    def deep_header():
        text = '{"a": ' + "[" * depth + "]" * depth + "}"
        return write_container(p("deep-header.safetensors"), text, b""), ["deep-header.safetensors", "header", "nests"]

    def deep_config():
        header, data = read_container(mf)
        header["__metadata__"]["memscope.config"] = "[" * depth + "]" * depth
        path = write_container(p("deep-config.safetensors"), json.dumps(header), data)
        return path, ["deep-config.safetensors", "memscope.config", "nests"]

    def deep_config_in_object():
        header, data = read_container(mf)
        cfg = header["__metadata__"]["memscope.config"]
        header["__metadata__"]["memscope.config"] = cfg[:-1] + ', "x": ' + '{"y": ' * depth + "0" + "}" * depth + "}"
        path = write_container(p("deep-config2.safetensors"), json.dumps(header), data)
        return path, ["deep-config2.safetensors", "memscope.config", "nests"]

    def wide_header():
        # one tensor whose shape array holds four million values
        header, data = read_container(mf)
        header["memory.bias"]["shape"] = [1] * 4_000_000
        path = write_container(p("wide.safetensors"), json.dumps(header, separators=(",", ":")), data)
        return path, ["wide.safetensors", "header", "JSON values"]

    def many_empty_tensors():
        # 1.7 M empty tensors fill a header of almost 100 MiB
        entry = '"t%07d":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}'
        text = "{" + ",".join(entry % i for i in range(1_700_000)) + "}"
        assert len(text) < 100 * 1024 * 1024
        return write_container(p("empty-tensors.safetensors"), text, b""), ["empty-tensors.safetensors", "JSON values"]

    def huge_layers_memformer():
        path = with_config(mf, p("layers.safetensors"), n_enc_layers=16_777_216)
        return path, ["layers.safetensors", "memscope.config", "tensors", "layer counts"]

    def huge_layers_rmt():
        path = with_config(rmt, p("rmt-layers.safetensors"), n_layers=16_777_216)
        return path, ["rmt-layers.safetensors", "memscope.config", "tensors", "layer counts"]

    def huge_widths():
        # few layers, but d_ff and vocab_size far beyond what the file's data holds
        path = with_config(mf, p("widths.safetensors"), d_ff=16_777_216, vocab_size=16_777_216)
        return path, ["widths.safetensors", "memscope.config", "parameters", "bytes"]

    return {f.__name__: f for f in [deep_header, deep_config, deep_config_in_object, wide_header,
                                    many_empty_tensors, huge_layers_memformer, huge_layers_rmt, huge_widths]}


def huge_weights(cli, fixtures, tmp, model):
    """Every weight ±3e38 (finite, so no load warning): the first layer's
    output overflows; `run`, `record` and `eval` warn naming the segment
    and the layer, and still print valid JSON (`run` with no finite NLL
    counted)."""
    src = os.path.join(fixtures, model + ".safetensors")
    header, _ = read_container(src)
    data = bytearray()
    for name, t in header.items():   # rewritten as F32: ±3e38 is not finite in F16
        if name == "__metadata__":
            continue
        count = 1
        for dim in t["shape"]:
            count *= dim
        t["dtype"] = "F32"
        t["data_offsets"] = [len(data), len(data) + 4 * count]
        data += struct.pack("<2f", 3e38, -3e38) * (count // 2) + struct.pack("<f", 3e38) * (count % 2)
    path = write_container(os.path.join(tmp, "huge-weights.safetensors"), json.dumps(header), bytes(data))
    text = os.path.join(tmp, "input.txt")
    with open(text, "w") as f:
        f.write("The memory holds what the segment wrote. " * 4)
    layer = "transformer.h.0" if model.startswith("rmt") else "enc.layers.0"
    recording = os.path.join(tmp, "huge.sqlite")
    # run, record and eval share the warning; eval names the instance too
    for argv, where in ((["run", "--json", path, text], "segment 0"),
                        (["record", "--json", "--recording", recording, path, text], "segment 0"),
                        (["eval", "--json", "--task", "copy", "--n", "3", path], "instance 0, segment 0")):
        r = subprocess.run([cli] + argv, capture_output=True, text=True)
        print(f"huge_weights {model}: {argv[0]}: exit {r.returncode}: {r.stderr.strip()}")
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        if argv[0] == "run":
            assert out["n_predicted"] == 0, out
        for w in ("warning", "huge-weights.safetensors", where, layer, "NaN or infinite"):
            assert w in r.stderr, f"{argv[0]}: message lacks {w!r}"
    # a model whose output stays finite gets no such warning
    for argv in (["run", src, text], ["eval", "--task", "copy", "--n", "3", src],
                 ["record", "--recording", os.path.join(tmp, "fine.sqlite"), src, text]):
        r = subprocess.run([cli] + argv, capture_output=True, text=True)
        assert r.returncode == 0 and "NaN or infinite" not in r.stderr, (argv[0], r.stderr)


def main():
    cli, fixtures, case = sys.argv[1:4]
    with tempfile.TemporaryDirectory() as tmp:
        if case.startswith("huge_weights_"):
            huge_weights(cli, fixtures, tmp, case[len("huge_weights_"):])
            return 0
        path, words = cases(fixtures, tmp)[case]()
        code, err, rss = run_measured([cli, "info", path])
        print(f"{case}: memscope-cli info -> exit {code}, peak RSS {rss:.0f} MB: {err.strip()[:300]}")
        problems = []
        if code != 1:
            problems.append(f"exit {code}, expected 1")
        for w in words:
            if w not in err:
                problems.append(f"message lacks {w!r}")
        if "Sanitizer" in err or "runtime error" in err:
            problems.append("sanitizer report")
        if rss > MAX_RSS_MB:
            problems.append(f"peak RSS {rss:.0f} MB > {MAX_RSS_MB} MB")
        if problems:
            print("FAILED: " + "; ".join(problems))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
