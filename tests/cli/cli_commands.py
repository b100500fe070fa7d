#!/usr/bin/env python3
"""memscope-cli info and run, end to end, against independent numbers.

`info --json` must report the parameter count and tensor table that the file
header itself states; `run --json` must report per-segment NLL that matches
the PyTorch reference's per-token NLL stored in the committed fixture
(tests/data/fixtures/*.expected.safetensors), count predicted tokens as the
design says (Memformer: every token after the first segment; RMT: every
token after the first), and usage errors must exit 2.

usage: cli_commands.py CLI FIXTURE_DIR CASE
"""
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bad_input import read_container  # noqa: E402


def f32_tensor(header, data, name):
    t = header[name]
    assert t["dtype"] == "F32", name
    b, e = t["data_offsets"]
    return list(struct.unpack(f"<{(e - b) // 4}f", data[b:e]))


def cli(binary, *args):
    return subprocess.run([binary, *args], capture_output=True, text=True)


def info_json(binary, fixtures):
    for name in ("memformer", "rmt_causal", "rmt_blocks"):
        path = os.path.join(fixtures, name + ".safetensors")
        r = cli(binary, "info", "--json", path)
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        header, _ = read_container(path)
        meta = header.pop("__metadata__")
        assert out["arch"] == meta["memscope.arch"]
        assert out["config"]["d_model"] == json.loads(meta["memscope.config"])["d_model"]
        total = sum(math.prod(t["shape"]) for t in header.values())
        assert out["n_params"] == total, (out["n_params"], total)
        assert sorted(t["name"] for t in out["tensors"]) == sorted(header), "tensor table differs from the file"
        assert all(t["used"] for t in out["tensors"])
        text = cli(binary, "info", path)
        assert text.returncode == 0, text.stderr
        assert meta["memscope.arch"] in text.stdout and str(total) in text.stdout
        assert all(t in text.stdout for t in header), "text table lacks tensors"


def run_matches_reference(binary, fixtures):
    for name in ("memformer", "rmt_causal", "rmt_blocks"):
        header, data = read_container(os.path.join(fixtures, name + ".expected.safetensors"))
        tokens = [int(x) for x in f32_tensor(header, data, "tokens")]
        lengths = [int(x) for x in f32_tensor(header, data, "segment_lengths")]
        with tempfile.NamedTemporaryFile(suffix=".txt", delete=False) as f:
            f.write(bytes(tokens))
        try:
            r = cli(binary, "run", "--json", os.path.join(fixtures, name + ".safetensors"), f.name)
        finally:
            os.unlink(f.name)
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        assert [s["segment"] for s in out["segments"]] == list(range(len(lengths)))
        expected_predicted = len(tokens) - (lengths[0] if name == "memformer" else 1)
        assert out["n_predicted"] == expected_predicted, (out["n_predicted"], expected_predicted)
        total = 0.0
        for t, seg in enumerate(out["segments"]):
            nll = [x for x in f32_tensor(header, data, f"seg.{t}.nll") if not math.isnan(x)]
            assert seg["n_predicted"] == len(nll)
            if nll:
                assert abs(seg["mean_nll"] - sum(nll) / len(nll)) < 1e-4, (name, t, seg["mean_nll"])
            else:
                assert seg["mean_nll"] is None
            mem_in = f32_tensor(header, data, f"seg.{t}.mem_in")
            mem_out = f32_tensor(header, data, f"seg.{t}.mem_out")
            delta = math.sqrt(sum((a - b) ** 2 for a, b in zip(mem_out, mem_in)) / sum(a * a for a in mem_in))
            assert abs(seg["memory_delta"] - delta) < 1e-4, (name, t, seg["memory_delta"], delta)
            total += sum(nll)
        assert abs(out["total_nll"] - total) < 1e-3


def segment_len_option(binary, fixtures):
    model = os.path.join(fixtures, "rmt_causal.safetensors")
    with tempfile.NamedTemporaryFile(suffix=".txt", delete=False) as f:
        f.write(b"abcdefghijklmnopq")  # 17 bytes
    try:
        r = cli(binary, "run", "--json", "--segment-len", "5", model, f.name)
        assert r.returncode == 0, r.stderr
        assert [s["n_tokens"] for s in json.loads(r.stdout)["segments"]] == [5, 5, 5, 2]
        r = cli(binary, "run", "--segment-len", "9", model, f.name)
        assert r.returncode == 2 and "segment" in r.stderr, (r.returncode, r.stderr)
    finally:
        os.unlink(f.name)


def usage_errors(binary, fixtures):
    model = os.path.join(fixtures, "memformer.safetensors")
    for args in ([], ["frobnicate"], ["info"], ["info", model, "extra"], ["run", model],
                 ["run", "--no-such-flag", model, model], ["run", "--segment-len", "x", model, model]):
        r = cli(binary, *args)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert r.stderr.strip(), args
    for args in (["--help"], ["info", "--help"], ["run", "--help"]):
        r = cli(binary, *args)
        assert r.returncode == 0 and "Usage" in r.stdout, (args, r.stdout)


def main():
    binary, fixtures, case = sys.argv[1:4]
    globals()[case](binary, fixtures)
    print(f"{case}: ok")


if __name__ == "__main__":
    main()
