#!/usr/bin/env python3
"""A small byte-level BPE tokenizer and a test model that embeds it.

    small_bpe.py tokenizer OUT.json            the tokenizer.json alone
    small_bpe.py model FIXTURES OUT.safetensors

The tokenizer has GPT-2's 256 byte tokens (in GPT-2's order, so a byte's id
is not its value) and up to N_MERGES merges learned here
from a fixed English-like text with runs of spaces, tabs and newlines (so
words, space-prefixed words and whitespace runs all merge), in Hugging
Face's tokenizer.json form with GPT-2's pipeline.  The model is the
rmt_causal fixture (vocabulary 256) with its token embedding grown to the
tokenizer's vocabulary (the new rows deterministic and small) and the
tokenizer embedded as memscope.tokenizer: a model whose tokens are not
bytes, small enough for every test and the sanitizers.
tests/data/fixtures/rmt_bpe.safetensors was written by `model`.
Standard library only; the same script gives the same bytes.
"""
import json
import re
import struct
import sys

N_MERGES = 300
TRAIN = ("The memory of the model is written at the end of each segment, and the tokens of the next segment "
         "read it.  It's what the recurrent memory transformer does: it doesn't forget what it's told, "
         "they'll say, and we've seen it.\n\n\tdef step(self, tokens):\n\t\treturn self.memory\n"
         "    indented    with    spaces    and\ttabs\t\tand\n\n\nnewlines   the end.  ") * 4 + \
        "numbers 1234 5678 2026 and the theory of the thermal theme there then "


def byte_alphabet():
    """GPT-2's byte -> character table."""
    prints = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, n = {}, 0
    for b in range(256):
        if b in prints:
            table[b] = chr(b)
        else:
            table[b] = chr(0x100 + n)
            n += 1
    return table


def learn_merges(text, n_merges):
    """Plain BPE training over words cut roughly like GPT-2 (a space joins the word after it; whitespace
    runs are words): returns the merges as pairs of token strings, in rank order."""
    alphabet = byte_alphabet()
    words = {}
    for w in re.findall(r" ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+", text):
        key = tuple(alphabet[b] for b in w.encode())
        words[key] = words.get(key, 0) + 1
    merges = []
    for _ in range(n_merges):
        pairs = {}
        for w, k in words.items():
            for a, b in zip(w, w[1:]):
                pairs[a, b] = pairs.get((a, b), 0) + k
        if not pairs:
            break
        best = max(sorted(pairs), key=lambda p: pairs[p])   # ties: the first in sorted order
        merges.append(best)
        joined = best[0] + best[1]
        new = {}
        for w, k in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(joined)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new[tuple(out)] = new.get(tuple(out), 0) + k
        words = new
    return merges


def tokenizer_json():
    # the byte tokens in GPT-2's order (by their characters: '!' is 0), so a token's id is not its byte
    vocab = {c: i for i, c in enumerate(sorted(byte_alphabet().values()))}
    merges = learn_merges(TRAIN, N_MERGES)
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    return json.dumps({
        "version": "1.0", "added_tokens": [], "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                          "use_regex": True},
        "post_processor": None, "decoder": {"type": "ByteLevel"},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "vocab": vocab,
                  "merges": [f"{a} {b}" for a, b in merges]},
    }, ensure_ascii=False, separators=(",", ":")), len(vocab)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    return header, data[8 + n:]


def write_model(fixtures, out):
    header, body = read_safetensors(f"{fixtures}/rmt_causal.safetensors")
    meta = header.pop("__metadata__")
    text, vocab_size = tokenizer_json()
    tensors = {}
    for name, t in header.items():
        assert t["dtype"] == "F32", name
        begin, end = t["data_offsets"]
        tensors[name] = (t["shape"], body[begin:end])
    shape, wte = tensors["transformer.wte.weight"]
    d = shape[1]
    # rows for the new tokens: a fixed linear congruential sequence, uniform in [-0.05, 0.05)
    state, extra = 22, []
    for _ in range((vocab_size - shape[0]) * d):
        state = (state * 6364136223846793005 + 1442695040888963407) % 2 ** 64
        extra.append(((state >> 11) / 2 ** 53 - 0.5) * 0.1)
    tensors["transformer.wte.weight"] = ([vocab_size, d], wte + struct.pack(f"<{len(extra)}f", *extra))
    config = json.loads(meta["memscope.config"])
    config["vocab_size"] = vocab_size
    meta.update({"memscope.config": json.dumps(config), "memscope.tokenizer": text,
                 "memscope.source": "tests/tokenizer/small_bpe.py: the rmt_causal fixture with a "
                                    f"{vocab_size}-token byte-level BPE tokenizer"})
    out_header, offset, blobs = {"__metadata__": meta}, 0, []
    for name in sorted(tensors):
        shape, blob = tensors[name]
        out_header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    head = json.dumps(out_header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "tokenizer":
        with open(sys.argv[2], "w", encoding="utf-8") as f:
            f.write(tokenizer_json()[0])
    elif len(sys.argv) == 4 and sys.argv[1] == "model":
        write_model(sys.argv[2], sys.argv[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
