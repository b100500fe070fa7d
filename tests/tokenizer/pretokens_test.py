#!/usr/bin/env python3
"""Memscope's GPT-2 pre-tokenizer against V8's regular-expression engine,
on text that is not all UTF-8.

    pretokens_test.py --pretokens PRETOKENS_BINARY --workdir DIR

A deterministic 1 MiB corpus (make_corpus.py, another seed) gets bytes that
are not UTF-8 inserted at random places before ASCII bytes — stray continuation bytes, lead
bytes without their continuation, truncated characters, overlong forms,
encoded surrogates, bytes 0xF5..0xFF, NUL — and every pre-token must end at
the same byte in Memscope (pretokens.c) and in pretokens.js, which runs the
rule as a JavaScript regular expression over the bytes decoded as Python's
errors="surrogateescape" does.  Needs node (skipped, exit 77, without it
unless MEMSCOPE_REQUIRE_REFERENCES is set).
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_corpus  # noqa: E402

BAD = [b"\x80", b"\xbf", b"\xc3", b"\xe6\x97", b"\xf0\x9f\x91", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80",
       b"\xf5", b"\xff", b"\xfe\xff", b"\x00", b"\xc2", b"\xef\xbb"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pretokens", required=True)
    p.add_argument("--workdir", required=True)
    a = p.parse_args()
    node = shutil.which("node")
    if not node:
        if os.environ.get("MEMSCOPE_REQUIRE_REFERENCES"):
            print("FAIL - node is missing")
            return 1
        print("SKIP - node is missing")
        return 77
    os.makedirs(a.workdir, exist_ok=True)
    r = random.Random(23)
    text = make_corpus.corpus(1024 * 1024, 23).encode()
    pieces, at = [], 0
    while at < len(text):
        # insert only before an ASCII byte, so no inserted byte completes or
        # joins a character of the text (which would be a new character, not
        # an invalid byte, and might be one the two Unicode versions disagree on)
        end = at + r.randint(1, 200)
        while end < len(text) and text[end] >= 0x80:
            end += 1
        pieces.append(text[at:end])
        pieces.append(r.choice(BAD) + (b" " if r.random() < 0.2 else b"") + (b"'s" if r.random() < 0.05 else b""))
        at = end
    data = b"".join(pieces)
    path = os.path.join(a.workdir, "invalid-utf8.txt")
    with open(path, "wb") as f:
        f.write(data)
    ours = json.loads(subprocess.run([a.pretokens, path], check=True, capture_output=True).stdout)
    ref = json.loads(subprocess.run([node, os.path.join(HERE, "pretokens.js"), path], check=True,
                                    capture_output=True).stdout)
    first = next((i for i, (x, y) in enumerate(zip(ours, ref)) if x != y), None)
    if first is None and len(ours) != len(ref):
        first = min(len(ours), len(ref))
    if first is not None:
        start = ours[first - 1] if first else 0
        print(f"FAIL - pre-token {first} differs: ours ends at {ours[first:first + 3]}, the regex at "
              f"{ref[first:first + 3]}; bytes {data[max(0, start - 10):start + 20]!r}")
        return 1
    print(f"ok - {len(data)} bytes ({len(pieces) // 2} insertions of bytes that are not UTF-8): "
          f"{len(ours)} pre-tokens end where the regular expression ends them")
    shutil.rmtree(a.workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
