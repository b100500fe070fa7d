#!/usr/bin/env python3
"""tiny-model.py SRC DST [TOKENIZER_JSON] — a small fuzz seed for the model
loader from the model file SRC: the same architecture, tensor names, dtypes
and metadata, at the smallest widths the engines take (d_model 8 in two heads,
d_ff 16, segments of 4 tokens, 2 memory slots; MemBART under its own config
keys, its decoder 12 wide and 4 positions), with deterministic small weights.  The loader and one session step then take a fraction of the
fixture's time and each mutation still reaches every check.  With
TOKENIZER_JSON (a file starting with a tokenizer.json object), that
tokenizer is embedded as memscope.tokenizer and vocab_size follows it.
"""
import json
import math
import struct
import sys

TINY = {"d_model": 8, "n_heads": 2, "d_ff": 16, "segment_len": 4, "n_slots": 2, "n_mem": 2}
# MemBART keeps the public config.json's keys: its decoder has a width of its own, and its position tables
# hold max_position_embeddings + 2 rows (BART's offset)
TINY_MEMBART = {"d_model": 8, "encoder_attention_heads": 2, "decoder_attention_heads": 2, "encoder_ffn_dim": 16,
                "decoder_ffn_dim": 12, "segment_len": 4, "memory_len": 2, "max_position_embeddings": 4}


def read(path):
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    return json.loads(blob[8:8 + n])


def encode(values, dtype):
    if dtype == "F32":
        return struct.pack(f"<{len(values)}f", *values)
    if dtype == "F16":
        return struct.pack(f"<{len(values)}e", *values)
    if dtype == "BF16":
        return b"".join(struct.pack("<f", v)[2:] for v in values)
    raise SystemExit(f"tiny-model.py: dtype {dtype} not handled")


def main():
    src, dst = sys.argv[1:3]
    header = read(src)
    meta = header.pop("__metadata__")
    config = json.loads(meta["memscope.config"])
    if len(sys.argv) > 3:
        with open(sys.argv[3], "rb") as f:
            text = f.read().decode("utf-8", errors="ignore")
        tokenizer, _ = json.JSONDecoder().raw_decode(text[text.index("{"):])
        ids = list(tokenizer["model"]["vocab"].values()) + [t["id"] for t in tokenizer.get("added_tokens", [])]
        meta["memscope.tokenizer"] = json.dumps(tokenizer, ensure_ascii=False)
        new_vocab = max(ids) + 1
    else:
        new_vocab = config["vocab_size"]
    # each width of the source file, by value, and the width it becomes
    membart = meta.get("memscope.arch") == "membart"
    old, new = dict(config), dict(config)
    for key, value in (TINY_MEMBART if membart else TINY).items():
        if key in new:
            new[key] = value
    new["vocab_size"] = new_vocab
    if "n_positions" in new:
        new["n_positions"] = 2 * new["n_mem"] + new["segment_len"]
    if membart:
        pairs = [(old[key], new[key]) for key in ("d_model", "encoder_ffn_dim", "decoder_ffn_dim", "memory_len",
                                                  "vocab_size")]
        pairs += [(old["max_position_embeddings"] + 2, new["max_position_embeddings"] + 2), (1, 1)]
    else:
        pairs = [(old["d_model"], new["d_model"]), (3 * old["d_model"], 3 * new["d_model"]),
                 (old["d_ff"], new["d_ff"]), (old["segment_len"], new["segment_len"]),
                 (old["vocab_size"], new["vocab_size"])]
        pairs += [(old[key], new[key]) for key in ("n_slots", "n_mem", "n_positions") if key in old]
    widths = dict(pairs)
    assert len(widths) == len(pairs), "two widths of the source file are equal: cannot map them"
    meta["memscope.config"] = json.dumps(new, sort_keys=True)
    meta["memscope.source"] = f"tests/fuzz/tiny-model.py from {meta.get('memscope.source', '?')[:60]}"

    data = bytearray()
    out = {"__metadata__": meta}
    for i, (name, t) in enumerate(sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])):
        shape = [widths[d] for d in t["shape"]]
        count = math.prod(shape)
        values = [0.05 * math.sin(1.7 * i + 0.37 * k) for k in range(count)]
        if (".ln" in name or "layer_norm" in name or "layernorm" in name) and name.endswith(".weight"):
            # layernorm gains near 1
            values = [1.0 + v for v in values]
        blob = encode(values, t["dtype"])
        out[name] = {"dtype": t["dtype"], "shape": shape, "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    text = json.dumps(out, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(dst, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + bytes(data))


main()
