#!/usr/bin/env python3
"""A model whose tokens are not bytes, end to end: run, record, resume, views, compare.

The model is tests/data/fixtures/rmt_bpe.safetensors (the rmt_causal fixture with the small byte-level BPE
tokenizer of tests/tokenizer/small_bpe.py embedded).  The input holds what a BPE tokenizer finds hard: long
whitespace runs, multi-byte characters, bytes that are not UTF-8; it stays small enough for the sanitizers
(the text reader's own read boundaries are tokenizer-stream's to test).  The reference for every token is
`memscope-cli tokenize --json` over the whole file.

usage: tokens.py CLI FIXTURE_DIR CASE
"""
import csv
import json
import os
import sqlite3
import struct
import subprocess
import sys
import tempfile


def cli(binary, *args):
    return subprocess.run([binary, *args], capture_output=True, text=True, errors="replace")


def make_input(tmp):
    parts = []
    for i in range(120):
        parts.append(f"The memory of the model is written at the end of segment {i}. It's what it does:\n")
        if i % 17 == 0:
            parts.append(" " * (300 + i) + "\t\t\n\n")
        if i % 23 == 0:
            parts.append("caf\u00e9 \u4e2d\u6587 \U0001F44D\U0001F3FD \u3000 ")
    data = "".join(parts).encode() + b"\xff\xfe bytes \xc3 that are not UTF-8 \xe2\x80"
    assert len(data) > 10_000
    path = os.path.join(tmp, "in.txt")
    with open(path, "wb") as f:
        f.write(data)
    return path, data


def escaped(token):
    """A token's text as Memscope shows it (ms_token_escape), written here from its definition."""
    out, i = [], 0
    while i < len(token):
        for n in (4, 3, 2, 1):
            try:
                c = token[i:i + n].decode()
                if len(c) == 1:
                    break
            except UnicodeDecodeError:
                pass
        else:
            out.append(f"\\x{token[i]:02x}")
            i += 1
            continue
        o = ord(c)
        if c == " ":
            out.append("␣")
        elif c == "\n":
            out.append("↵")
        elif o < 0x21 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif o >= 0x80 and not c.isprintable() and c not in "\u3000":
            out.append(f"\\u{{{o:04x}}}")
        else:
            out.append(c)
        i += len(c.encode())
    return "".join(out)


def whole_tokens(binary, model, path):
    r = cli(binary, "tokenize", "--json", model, path)
    assert r.returncode == 0, r.stderr
    return [(t["id"], t["start"], t["end"]) for t in json.loads(r.stdout)["tokens"]]


def run_tokens(binary, fixtures):
    """run --json: each segment's tokens (ids, byte ranges, text) are the whole file's tokens in order,
    segment_len at a time, and the segments' bytes tile the file."""
    model = os.path.join(fixtures, "rmt_bpe.safetensors")
    with tempfile.TemporaryDirectory() as tmp:
        path, data = make_input(tmp)
        want = whole_tokens(binary, model, path)
        r = cli(binary, "run", "--json", model, path)
        assert r.returncode == 0, r.stderr
        segments = json.loads(r.stdout)["segments"]
        got, at = [], 0
        for s in segments:
            assert s["byte_begin"] == at and s["n_tokens"] == len(s["tokens"]), s["segment"]
            assert s["n_tokens"] == 8 or s is segments[-1], s
            for t in s["tokens"]:
                got.append((t["id"], t["start"], t["end"]))
                assert t["text"] == escaped(data[t["start"]:t["end"]]), t
            at = s["byte_end"]
        assert at == len(data) and got == want, (at, len(data), len(got), len(want))
        assert len(segments) == -(-len(want) // 8)
        r = cli(binary, "run", model, path)
        assert r.returncode == 0 and "bits per token" in r.stdout, r.stdout[-300:]
    print(f"run: {len(want)} tokens in {len(segments)} segments, as the whole file tokenizes")


def stored_tokens(db, run):
    """The ids and absolute byte ranges a run's segments store, in order, with each segment's text."""
    out, texts = [], []
    with sqlite3.connect(db) as c:
        for begin, end, text, byte_begin, ids, ends in c.execute(
                "SELECT token_begin, token_end, text, byte_begin, token_ids, token_ends FROM segments "
                "WHERE run_id = ? ORDER BY segment", (run,)):
            n = end - begin
            ids, ends = struct.unpack(f"<{n}i", ids), struct.unpack(f"<{n}I", ends)
            at = 0
            for i, e in zip(ids, ends):
                out.append((i, byte_begin + at, byte_begin + e))
                at = e
            assert at == len(text)
            texts.append((byte_begin, text))
    return out, texts


def record_tokens(binary, fixtures):
    """record stores each segment's token ids and byte ranges (schema 5) exactly as the whole file
    tokenizes, and its text; a run cut short resumes (the reader re-reads the input to the stored token)
    to the same rows as an uninterrupted recording; the read view names its rows by token text; the
    compact recording's replayed attention equals the stored f32 attention."""
    model = os.path.join(fixtures, "rmt_bpe.safetensors")
    with tempfile.TemporaryDirectory() as tmp:
        path, data = make_input(tmp)
        want = whole_tokens(binary, model, path)
        db = os.path.join(tmp, "r.sqlite")
        r = cli(binary, "record", model, path, "--recording", db, "--attn", "f32")
        assert r.returncode == 0, r.stderr
        got, texts = stored_tokens(db, 1)
        assert got == want, (len(got), len(want))
        for byte_begin, text in texts:
            assert data[byte_begin:byte_begin + len(text)] == text

        # killed after 40 segments: resuming steps on from the stored token
        cut = os.path.join(tmp, "cut.sqlite")
        assert cli(binary, "record", model, path, "--recording", cut, "--attn", "f32").returncode == 0
        with sqlite3.connect(cut) as c:
            for table in ("segments", "memory", "attention"):
                c.execute(f"DELETE FROM {table} WHERE run_id = 1 AND segment >= 40")
            c.execute("UPDATE runs SET status = 'incomplete', finished = NULL")
        r = cli(binary, "record", model, path, "--recording", cut, "--resume", "1")
        assert r.returncode == 0, r.stderr
        cols = "segment, token_begin, token_end, text, nll, byte_begin, token_ids, token_ends"
        with sqlite3.connect(db) as a, sqlite3.connect(cut) as b:
            assert a.execute(f"SELECT {cols} FROM segments ORDER BY id").fetchall() == \
                b.execute(f"SELECT {cols} FROM segments ORDER BY id").fetchall()

        # the read view's rows are the segment's tokens, by their text
        out = os.path.join(tmp, "read.csv")
        r = cli(binary, "export", db, "--run", "1", "--view", "read", "--segment", "5", "--out", out)
        assert r.returncode == 0, r.stderr
        with open(out, newline="") as f:
            rows = list(csv.reader(f))
        seg = want[40:48]
        shown = [data[s:e].decode().replace(" ", "␣").replace("\n", "↵") for _, s, e in seg]
        assert [row[0] for row in rows[1:]] == [f"{j} “{t}”" for j, t in enumerate(shown)], \
            ([row[0] for row in rows[1:]], shown)

        # compact (the default): attention replayed from the stored ids equals the stored f32 attention
        compact = os.path.join(tmp, "compact.sqlite")
        assert cli(binary, "record", model, path, "--recording", compact, "--max-segments", "12").returncode == 0
        for view in ("read", "write"):
            outs = []
            for d in (db, compact):
                o = os.path.join(tmp, f"{view}-{len(outs)}.csv")
                r = cli(binary, "export", d, "--run", "1", "--view", view, "--segment", "11", "--out", o)
                assert r.returncode == 0, r.stderr
                with open(o) as f:
                    outs.append(f.read())
            assert outs[0] == outs[1], view
    print(f"record: {len(want)} tokens stored as the file tokenizes; resumed alike; tokens named; replay exact")


def compare_tokenizers(binary, fixtures):
    """Runs of a bytes model and a BPE model over one input compare on the BPE run's tokens: the byte
    model's read attention rows, averaged over each BPE token's bytes, from the byte model's segment that
    holds those bytes; its write attention to tokens summed over each token's bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "in.txt")
        data = b"The memory of the model is written at the end.  " * 6
        with open(path, "wb") as f:
            f.write(data)
        db = os.path.join(tmp, "r.sqlite")
        for name in ("rmt_bpe", "rmt_causal"):
            r = cli(binary, "record", os.path.join(fixtures, name + ".safetensors"), path, "--recording", db,
                    "--attn", "f32")
            assert r.returncode == 0, r.stderr
        bpe, _ = stored_tokens(db, 1)
        segment = 2
        toks = bpe[segment * 8:segment * 8 + 8]

        def read_csv(args):
            out = os.path.join(tmp, "x.csv")
            r = cli(binary, *args, "--out", out)
            assert r.returncode == 0, r.stderr
            with open(out, newline="") as f:
                return list(csv.reader(f))

        rows = read_csv(["compare", db, "--runs", "1,2", "--view", "read", "--segment", str(segment), "--diff"])
        a_rows = [r for r in rows[1:] if r[0].endswith("(run 1)")]
        b_rows = [r for r in rows[1:] if r[0].endswith("(run 2)")]
        assert len(a_rows) == len(b_rows) == 8 and [r[1] for r in a_rows] == [r[1] for r in b_rows]
        # the byte model's rows, independently: its segment holding the first BPE token's first byte
        L = 8
        start = toks[0][1]
        b_seg = start // L
        byte_rows = read_csv(["export", db, "--run", "2", "--view", "read", "--segment", str(b_seg)])[1:]
        for j, (_, s, e) in enumerate(toks):
            inside = [k for k in range(s, e) if b_seg * L <= k < (b_seg + 1) * L]
            for col in range(6):
                got = b_rows[j][2 + col]
                if not inside:
                    assert got == "", (j, got)
                    continue
                want = sum(float(byte_rows[k - b_seg * L][1 + col]) for k in inside) / len(inside)
                assert abs(float(got) - want) < 1e-6, (j, col, got, want)
        # write attention: the byte model's weight on each byte, summed over a BPE token's bytes
        rows = read_csv(["compare", db, "--runs", "1,2", "--view", "write", "--segment", str(segment)])
        header = rows[0]
        first = header.index(next(h for h in header if h.startswith("tokens 0")))
        b_rows = [r for r in rows[1:] if r[0].endswith("(run 2)")]
        byte_write = read_csv(["export", db, "--run", "2", "--view", "write", "--segment", str(b_seg)])
        bfirst = next(i for i, h in enumerate(byte_write[0]) if h.startswith("tokens 0"))
        for slot in range(6):
            for j, (_, s, e) in enumerate(toks):
                inside = [k for k in range(s, e) if b_seg * L <= k < (b_seg + 1) * L]
                got = b_rows[slot][first + j]
                if not inside:
                    assert got == "", (slot, j, got)
                    continue
                want = sum(float(byte_write[1 + slot][bfirst + k - b_seg * L]) for k in inside)
                assert abs(float(got) - want) < 1e-6, (slot, j, got, want)
    print("compare: a byte model's attention put on a BPE run's tokens by their bytes")


def eval_bpe(binary, fixtures):
    """eval's tasks are laid out one byte per token position, which a BPE tokenizer would merge: eval
    refuses a BPE model (exit 1), naming the file and its tokenizer, saying why and what to run instead;
    a bytes model of the same architecture still evaluates."""
    model = os.path.join(fixtures, "rmt_bpe.safetensors")
    r = cli(binary, "eval", model, "--task", "copy", "--n", "2", "--json", "--predictions")
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == "", r.stdout
    for needle in (model, "bpe", "one byte per token position", "--reset-memory", "run MODEL TEXT"):
        assert needle in r.stderr, (needle, r.stderr)
    r = cli(binary, "eval", model, "--task", "recall", "--n", "1")
    assert r.returncode == 1 and "recall task" in r.stderr, r.stderr
    r = cli(binary, "eval", os.path.join(fixtures, "rmt_causal.safetensors"), "--task", "copy", "--n", "2", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["n"] == 2, r.stderr
    print("eval: refuses a BPE model, saying why")


if __name__ == "__main__":
    binary, fixtures, case = sys.argv[1:4]
    globals()[case](binary, fixtures)
