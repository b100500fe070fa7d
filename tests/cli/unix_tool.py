#!/usr/bin/env python3
"""memscope-cli as a Unix tool, one meson test per case.

Text arguments in UTF-8 work in a UTF-8 locale and in the C locale; --help
speaks the locale's character set; every --json output is valid JSON whatever
the paths hold; names and paths reach the terminal with control characters
escaped; numeric options are strict (negative, out of range or not a number
is a usage error, exit 2, naming the option); --runs takes exactly two ids;
errors name their file; `run` and `record` read their input a segment at a
time (with the bytes tokenizer and with a BPE one), so their peak memory does
not grow with the input.

Every child runs with an explicit locale (LANG/LC_ALL set here), never the
machine's.

usage: unix_tool.py CLI FIXTURE_DIR CASE
"""
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile_models import run_measured  # noqa: E402

UTF8 = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
C = {"LANG": "C", "LC_ALL": "C"}


def env(locale):
    e = {k: v for k, v in os.environ.items() if not k.startswith("LC_") and k != "LANG"}
    e.update(locale)
    return e


def cli(binary, *args, locale=UTF8):
    return subprocess.run([binary, *args], capture_output=True, env=env(locale))


def text(b):
    return b.decode("utf-8", errors="replace")


class Ctx:
    def __init__(self, binary, fixtures, tmp):
        self.cli, self.fixtures, self.tmp = binary, fixtures, tmp
        self.model = os.path.join(fixtures, "memformer.safetensors")
        self.input = os.path.join(tmp, "input.txt")
        with open(self.input, "w") as f:
            f.write("The memory holds what each segment wrote, and the writer decides. " * 3)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def record(self, recording, *extra, locale=UTF8):
        r = cli(self.cli, "record", "--recording", recording, "--max-segments", "4", *extra, self.model, self.input,
                locale=locale)
        assert r.returncode == 0, text(r.stderr)
        return r


def utf8_arguments(c):
    """--name and --title in UTF-8 under a UTF-8 locale and under C."""
    for i, locale in enumerate((UTF8, C)):
        rec = c.path(f"names{i}.sqlite")
        c.record(rec, "--name", "Café run", locale=locale)
        r = cli(c.cli, "runs", "--json", rec, locale=locale)
        assert r.returncode == 0, text(r.stderr)
        assert json.loads(r.stdout)[0]["name"] == "Café run", r.stdout
        r = cli(c.cli, "export", "--run", "1", "--view", "retention", "--title", "Retention α−β",
                "--out", c.path(f"fig{i}.svg"), rec, locale=locale)
        assert r.returncode == 0, text(r.stderr)
        svg = open(c.path(f"fig{i}.svg"), encoding="utf-8").read()
        assert "α" in svg or "&#945;" in svg or "glyph" in svg, "title not drawn"


def help_in_locale(c):
    """--help writes ≥ in a UTF-8 locale."""
    r = cli(c.cli, "export", "--help")
    assert r.returncode == 0, text(r.stderr)
    assert "≥" in r.stdout.decode("utf-8"), r.stdout


def json_paths(c):
    """A path with a quote, a backslash and a newline: record/export/runs --json stay valid JSON."""
    weird = c.path('q"uo\\te\nd')
    os.mkdir(weird)
    rec = os.path.join(weird, "rec.sqlite")
    r = c.record(rec, "--json")
    out = json.loads(r.stdout)
    assert out["recording"] == rec and out["run"] == 1, out
    fig = os.path.join(weird, 'fig "1".png')
    r = cli(c.cli, "export", "--json", "--run", "1", "--view", "retention", "--out", fig, rec)
    assert r.returncode == 0, text(r.stderr)
    out = json.loads(r.stdout)
    assert out["out"] == fig and out["runs"] == [1] and out["view"] == "retention", out
    csv = os.path.join(weird, 'numbers "1".csv')
    r = cli(c.cli, "export", "--json", "--run", "1", "--view", "nll", "--out", csv, rec)
    assert r.returncode == 0, text(r.stderr)
    assert json.loads(r.stdout)["out"] == csv


def control_characters(c):
    """A run name with ESC, BEL, CR and a newline is printed escaped."""
    rec = c.path("ctrl.sqlite")
    name = "evil\x1b[2J\x07name\r\nsecond line"
    r = c.record(rec, "--name", name)
    for out in (r.stdout, cli(c.cli, "runs", rec).stdout):
        assert b"\x1b" not in out and b"\x07" not in out and b"\r" not in out, out
        assert out.count(b"\n") == 1, out
        assert b"\\x1b[2J\\x07name\\r\\nsecond line" in out, out
    r = cli(c.cli, "runs", "--json", rec)
    assert json.loads(r.stdout)[0]["name"] == name


def strict_numbers(c):
    """Negative, out-of-range and malformed numbers are usage errors naming the option."""
    rec = c.path("strict.sqlite")
    c.record(rec)
    export = ["export", "--run", "1", "--view", "read", "--out", c.path("x.png"), rec]
    cases = [
        (export + ["--segment", "-5"], "--segment"),
        (export + ["--slot", "-5"], "--slot"),
        (export + ["--layer", "-1"], "--layer"),
        (export + ["--segment", "abc"], "--segment"),
        (export + ["--segment", "99999999999"], "--segment"),
        (export + ["--first", "-2"], "--first"),
        (export + ["--columns", "0"], "--columns"),
        (export + ["--dpi", "-3"], "--dpi"),
        (export + ["--width-in", "nan", "--height-in", "2"], "--width-in"),
        (export + ["--retain-at", "2"], "--retain-at"),
        (export + ["--head", "-1"], "--head"),
        (export + ["--head", " 1"], "--head"),
        (export + ["--segment", "\x1b[2J"], "--segment"),
        (["export", "--run", "-1", "--view", "nll", "--out", c.path("x.png"), rec], "--run"),
        (["record", "--recording", c.path("s2.sqlite"), "--max-segments", "-5", c.model, c.input], "--max-segments"),
        (["record", "--recording", c.path("s2.sqlite"), "--segment-len", "-5", c.model, c.input], "--segment-len"),
        (["record", "--recording", c.path("s2.sqlite"), "--resume", "0", c.model, c.input], "--resume"),
        (["run", "--segment-len", "-1", c.model, c.input], "--segment-len"),
        (["run", "--segment-len", "0x10", c.model, c.input], "--segment-len"),
    ]
    for args, option in cases:
        r = cli(c.cli, *args)
        err = text(r.stderr)
        assert r.returncode == 2, f"{args}: exit {r.returncode}: {err}"
        assert option in err, f"{args}: message lacks {option}: {err}"
        assert b"\x1b" not in r.stderr, f"{args}: raw escape in {err!r}"
    assert not os.path.exists(c.path("s2.sqlite"))


def runs_exactly_two(c):
    rec = c.path("two.sqlite")
    c.record(rec)
    c.record(rec)
    base = ["compare", "--view", "retention", "--out", c.path("cmp.png"), rec]
    for bad in ("1,2,3", "1", "1,", ",2", "1,2,", "1;2", "0,1", "1,-2"):
        r = cli(c.cli, *base, "--runs", bad)
        assert r.returncode == 2 and "--runs" in text(r.stderr), f"{bad}: exit {r.returncode}: {text(r.stderr)}"
    r = cli(c.cli, *base, "--runs", "1,2")
    assert r.returncode == 0, text(r.stderr)


def errors_name_the_file(c):
    """Out-of-range segment, layer, head and slot name the recording."""
    rec = c.path("named.sqlite")
    c.record(rec)
    for extra in (["--view", "read", "--segment", "99"], ["--view", "read", "--layer", "99"],
                  ["--view", "read", "--head", "99"], ["--view", "provenance", "--slot", "99"]):
        r = cli(c.cli, "export", "--run", "1", *extra, "--out", c.path("e.png"), rec)
        err = text(r.stderr)
        assert r.returncode == 1, f"{extra}: exit {r.returncode}: {err}"
        assert rec in err, f"{extra}: message lacks the recording: {err}"
    r = cli(c.cli, "export", "--run", "7", "--view", "nll", "--out", c.path("e.png"), rec)
    assert r.returncode == 1 and rec in text(r.stderr), text(r.stderr)


def peak_rss(argv, extra_env=None):
    code, err, rss_mb = run_measured(argv, env={**env(UTF8), **(extra_env or {})})
    assert code == 0, err
    return rss_mb


def vm_hwm_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run_streams_input(c):
    """`run` on a 64 MB input prints its first segments while its peak RSS
    (VmHWM) stays far below the input's size; a whole-file read holds 5
    bytes per input byte before the first segment.  The run is stopped
    after 200 segment lines: stepping the whole file would take long."""
    big = c.path("big.txt")
    chunk = bytes(range(32, 127)) * 1000
    with open(big, "wb") as f:
        for _ in range(64 * 11):
            f.write(chunk)
    rmt = os.path.join(c.fixtures, "rmt_causal.safetensors")
    proc = subprocess.Popen([c.cli, "run", rmt, big], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=env(UTF8))
    counted = {"lines": 0}

    def count_lines():   # block-buffered: lines arrive a few KB at a time
        for _ in proc.stdout:
            counted["lines"] += 1

    reader = threading.Thread(target=count_lines, daemon=True)
    reader.start()
    peak = 0.0
    try:
        # until 200 lines were printed, the run ended, or the peak already fails
        while counted["lines"] <= 200 and proc.poll() is None and peak < 48:
            peak = max(peak, vm_hwm_mb(proc.pid))
            time.sleep(0.02)
        if proc.poll() is None:
            peak = max(peak, vm_hwm_mb(proc.pid))
    finally:
        proc.kill()
        proc.wait()
    lines = counted["lines"]
    print(f"peak RSS {peak:.1f} MB after {lines} lines of output on a 64 MB input")
    assert peak < 48, f"peak RSS {peak:.1f} MB on a 64 MB input"
    assert lines > 200, f"run ended after {lines} lines"


def record_streams_input(c):
    """`record --max-segments 5` on a 1 MB and a 32 MB input: the peak RSS
    grows by far less than the input (hashing and reading it a piece at a
    time; a whole-file read holds 5 bytes per input byte)."""
    small, big = c.path("small.txt"), c.path("big.txt")
    chunk = bytes(range(32, 127)) * 1000
    with open(small, "wb") as f:
        f.write(chunk * 11)
    with open(big, "wb") as f:
        for _ in range(32 * 11):
            f.write(chunk)
    rmt = os.path.join(c.fixtures, "rmt_causal.safetensors")
    rss = []
    for i, path in enumerate((small, big)):
        rec = c.path(f"stream{i}.sqlite")
        rss.append(peak_rss([c.cli, "record", "--recording", rec, "--max-segments", "5", rmt, path]))
        r = cli(c.cli, "runs", "--json", rec)
        run = json.loads(r.stdout)[0]
        assert run["segments_done"] == 5 and run["status"] == "complete", run
    print(f"peak RSS: {rss[0]:.1f} MB on 1 MB, {rss[1]:.1f} MB on 32 MB")
    assert rss[1] - rss[0] < 8, f"peak RSS grew by {rss[1] - rss[0]:.1f} MB for 31 MB more input"


def words_file(path, n_bytes, seed):
    """English-like words (the BPE fixture's merges fire on them) in lines, n_bytes long."""
    rnd = random.Random(seed)
    words = ("the of and to in is was that for on with as by at from memory segment token slot model attention "
             "layer head read write retention provenance recurrent transformer long input context").split()
    with open(path, "w") as f:
        n = 0
        while n < n_bytes:
            line = " ".join(rnd.choice(words) for _ in range(12)) + ".\n"
            f.write(line)
            n += len(line)


def bpe_streams_input(c):
    """With a BPE tokenizer (rmt_bpe), `record --max-segments 5` on a 1 MB
    and a 24 MB input: opening the input encodes all of it once (to count
    its tokens) and the segments are encoded a piece at a time, so the peak
    RSS grows by far less than the input; encoding the whole text at once
    holds its bytes and about a token id per 4 bytes of it."""
    small, big = c.path("small-words.txt"), c.path("big-words.txt")
    words_file(small, 1 << 20, 1)
    words_file(big, 24 << 20, 2)
    bpe = os.path.join(c.fixtures, "rmt_bpe.safetensors")
    # Under AddressSanitizer freed blocks wait in a quarantine (256 MB by default) before reuse, so the
    # peak would grow with the bytes encoded, not with what is held: no quarantine for this measurement.
    asan = {"ASAN_OPTIONS": ":".join(filter(None, (os.environ.get("ASAN_OPTIONS"), "quarantine_size_mb=0")))}
    rss = []
    for i, path in enumerate((small, big)):
        rec = c.path(f"bpe-stream{i}.sqlite")
        rss.append(peak_rss([c.cli, "record", "--recording", rec, "--max-segments", "5", bpe, path], asan))
        run = json.loads(cli(c.cli, "runs", "--json", rec).stdout)[0]
        assert run["segments_done"] == 5 and run["status"] == "complete", run
    print(f"peak RSS: {rss[0]:.1f} MB on 1 MB, {rss[1]:.1f} MB on 24 MB")
    assert rss[1] - rss[0] < 8, f"peak RSS grew by {rss[1] - rss[0]:.1f} MB for 23 MB more input"


CASES = [utf8_arguments, help_in_locale, json_paths, control_characters, strict_numbers, runs_exactly_two,
         errors_name_the_file, run_streams_input, record_streams_input, bpe_streams_input]


def main():
    binary, fixtures, case = sys.argv[1:4]
    with tempfile.TemporaryDirectory() as tmp:
        {f.__name__: f for f in CASES}[case](Ctx(binary, fixtures, tmp))
    print(f"{case}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
