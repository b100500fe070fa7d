#!/usr/bin/env python3
"""`memscope-cli import` of MemBART checkpoints laid out as the public code (qywu/memformers, a Hugging Face
BART underneath) saves them, end to end, against the float64 reference tests/reference/membart_ref.py.

The checkpoint folder is what `MemBartForConditionalGeneration.save_pretrained` writes: config.json with
MemBartConfig's keys (model_type "bart", memory_len, the BART settings, token ids, architectures), the
state_dict under `model.` plus `final_logits_bias`, and BART's tokenizer files vocab.json + merges.txt
(a byte-level BPE whose first ids are <s>, <pad>, </s>, <unk> and whose last is <mask>).

Cases (one per meson test):
- safetensors: model.safetensors without the tied copies (as safetensors saving drops them), F32;
- tied_copies: model.safetensors with model.encoder.embed_tokens, model.decoder.embed_tokens and lm_head
  present and equal to model.shared (as older saves keep them), under a `module.` prefix, F16;
- bin: a pytorch_model.bin (a pickle) through app/memscope-convert.py, which writes model.safetensors beside
  config.json, then the C import;
- demo: the shipped resources/models/demo-membart-untrained.safetensors is what make_membart_demo.py makes
  (byte for byte), and a recording of it on the demo text draws every view (PNG and CSV), compares with the
  demo Memformer, and its write attention rows (own slot | tokens) sum to 1;
- refusals: a plain BART (no memory_len), an embed_tokens copy that differs from shared, a missing memory
  tensor, a segment length beyond max_position_embeddings: exit 1, a message naming the file, no output.

For the imports the C core's per-token NLL, logits, memory states and attention over the tokenizer's ids
match the reference's float64 forward within 1e-4 (the parity checker of tests/core), and `info --json`
names the architecture and the embedded tokenizer.

usage: membart_import_test.py --cli MEMSCOPE_CLI --parity PARITY --convert CONVERTER --workdir DIR CASE
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import hf_checkpoint as hf  # noqa: E402
import membart_ref  # noqa: E402
from memscope_file import session_tensors, write_expected  # noqa: E402

TRAIN_TEXT = (b"the memory of the model keeps what the segment said; the encoder reads the memory and the gate "
              b"writes the memory again. memory rows attend to their own slot and to the tokens. ") * 3
N_MERGES = 30
SEGMENT_LEN = 6


def bart_vocab():
    """BART-style vocab.json ids: <s> <pad> </s> <unk>, the byte-level BPE tokens, then <mask>."""
    vocab, merges = hf.small_bpe(TRAIN_TEXT, N_MERGES)
    out = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for token, index in sorted(vocab.items(), key=lambda kv: kv[1]):
        out[token] = len(out)
    out["<mask>"] = len(out)
    return out, merges


def hf_config(vocab_size):
    """config.json as MemBartConfig.save_pretrained writes it (the keys that matter, and some that do not)."""
    return {
        "_name_or_path": "membart-small", "architectures": ["MemBartForConditionalGeneration"],
        "model_type": "bart", "memory_len": 5, "vocab_size": vocab_size, "d_model": 32,
        "encoder_layers": 2, "decoder_layers": 2, "encoder_attention_heads": 4, "decoder_attention_heads": 2,
        "encoder_ffn_dim": 64, "decoder_ffn_dim": 48, "max_position_embeddings": 16, "activation_function": "gelu",
        "dropout": 0.1, "attention_dropout": 0.0, "activation_dropout": 0.0, "init_std": 0.02,
        "encoder_layerdrop": 0.0, "decoder_layerdrop": 0.0, "classifier_dropout": 0.0, "scale_embedding": False,
        "use_cache": True, "num_labels": 3, "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2,
        "is_encoder_decoder": True, "decoder_start_token_id": 2, "forced_eos_token_id": 2,
        "num_hidden_layers": 2, "torch_dtype": "float32", "transformers_version": "4.26.1",
    }


def engine_config(cfg):
    keep = [k for k in membart_ref.REQUIRED if k in cfg] + ["bos_token_id", "scale_embedding", "activation_function"]
    out = {k: cfg[k] for k in keep}
    out["segment_len"] = SEGMENT_LEN
    return out


def state_dict(weights, copies, prefix=""):
    """The public model's state_dict from Memscope-named weights: `model.` before all but final_logits_bias,
    and the tied copies of shared when `copies`."""
    out = {}
    for name, value in weights.items():
        out[prefix + (name if name == "final_logits_bias" else "model." + name)] = value
    if copies:
        for name in ("model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight", "lm_head.weight"):
            out[prefix + name] = weights["shared.weight"].clone()
    return out


def write_folder(folder, cfg, tensors, vocab, merges, dtype=torch.float32, pickle=False):
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    vocab_text, merges_text = hf.vocab_merges_files(vocab, merges)
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        f.write(vocab_text)
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write(merges_text)
    stored = {k: v.to(dtype) for k, v in tensors.items()}
    if pickle:
        torch.save(stored, os.path.join(folder, "pytorch_model.bin"))
    else:
        hf.save_safetensors(os.path.join(folder, "model.safetensors"), stored, {"format": "pt"})
    return {k: v.float() for k, v in stored.items()}


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def check_import(args, folder, weights, label):
    out = os.path.join(args.workdir, label + ".safetensors")
    res = run([args.cli, "import", folder, "--out", out, "--segment-len", str(SEGMENT_LEN)])
    if res.returncode != 0:
        raise AssertionError(f"{label}: import failed: {res.stderr}")
    info = json.loads(run([args.cli, "info", out, "--json"]).stdout)
    text = json.dumps(info)
    if '"membart"' not in text or "bpe" not in text.lower():
        raise AssertionError(f"{label}: info --json does not name membart and a BPE tokenizer: {text[:300]}")
    cfg = engine_config(hf_config(weights["shared.weight"].shape[0]))
    model = membart_ref.MemBart(cfg, {k: v.numpy() for k, v in weights.items()})
    vocab_size = cfg["vocab_size"]
    tokens = [int(t) for t in torch.randint(0, vocab_size, (3 * SEGMENT_LEN + 2,),
                                            generator=torch.Generator().manual_seed(5))]
    expected = os.path.join(args.workdir, label + ".expected.safetensors")
    write_expected(expected, session_tensors("membart", model.run_session(tokens)), {"fixture.arch": "membart"})
    res = run([args.parity, out, expected])
    if res.returncode != 0:
        raise AssertionError(f"{label}: the imported model does not match the reference:\n{res.stdout}{res.stderr}")
    print(f"ok {label}: {res.stdout.strip().splitlines()[-1]}")


def refused(args, folder, what, needle, extra=()):
    out = os.path.join(args.workdir, "refused.safetensors")
    if os.path.exists(out):
        os.unlink(out)
    res = run([args.cli, "import", folder, "--out", out, "--segment-len", str(SEGMENT_LEN), *extra])
    if res.returncode != 1 or needle not in res.stderr or os.path.exists(out):
        raise AssertionError(f"refusal '{what}': exit {res.returncode}, stderr {res.stderr!r}, expected {needle!r}")
    print(f"ok refused {what}: {res.stderr.strip()}")


def demo_case(args):
    root = os.path.normpath(os.path.join(HERE, "..", ".."))
    shipped = os.path.join(root, "resources", "models", "demo-membart-untrained.safetensors")
    remade = os.path.join(args.workdir, "demo-membart-untrained.safetensors")
    res = run([sys.executable, os.path.join(root, "tests", "reference", "make_membart_demo.py"), "--cli", args.cli,
               "--out", remade])
    if res.returncode != 0:
        raise AssertionError(f"make_membart_demo.py failed: {res.stderr}")
    with open(shipped, "rb") as a, open(remade, "rb") as b:
        if a.read() != b.read():
            raise AssertionError(f"{shipped} is not what make_membart_demo.py makes; regenerate it")
    recording = os.path.join(args.workdir, "demo.sqlite")
    if os.path.exists(recording):
        os.unlink(recording)
    text = os.path.join(root, "resources", "inputs", "demo.txt")
    for model in (shipped, os.path.join(root, "resources", "models", "demo-memformer.safetensors")):
        res = run([args.cli, "record", model, text, "--recording", recording, "--max-segments", "6"])
        if res.returncode != 0:
            raise AssertionError(f"record {model}: {res.stderr}")
    for ext in ("png", "csv"):
        res = run([args.cli, "export", recording, "--run", "1", "--view", "all", "--out",
                   os.path.join(args.workdir, "membart." + ext)])
        if res.returncode != 0:
            raise AssertionError(f"export --view all .{ext}: {res.stderr}")
    drawn = sorted(f for f in os.listdir(args.workdir) if f.startswith("membart-") and f.endswith(".png"))
    if len(drawn) < 9:
        raise AssertionError(f"export --view all drew only {drawn}")
    res = run([args.cli, "compare", recording, "--runs", "1,2", "--view", "retention", "--diff", "--out",
               os.path.join(args.workdir, "compare.pdf")])
    if res.returncode != 0:
        raise AssertionError(f"compare with the demo Memformer: {res.stderr}")
    write_csv = os.path.join(args.workdir, "write.csv")
    res = run([args.cli, "export", recording, "--run", "1", "--view", "write", "--segment", "2", "--out", write_csv])
    if res.returncode != 0:
        raise AssertionError(f"export --view write: {res.stderr}")
    with open(write_csv, encoding="utf-8") as f:
        rows = f.read().splitlines()[1:]
    sums = [sum(float(x) for x in row.split(",")[1:]) for row in rows]
    if len(sums) != 8 or max(abs(x - 1) for x in sums) > 1e-4:
        raise AssertionError(f"write attention rows (own slot | tokens) should sum to 1 for 8 slots: {sums}")
    print(f"ok demo: {len(drawn)} views drawn, compare drawn, write rows sum to 1 ({len(sums)} slots)")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cli", required=True)
    p.add_argument("--parity", required=True)
    p.add_argument("--convert", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("case", choices=("safetensors", "tied_copies", "bin", "demo", "refusals"))
    args = p.parse_args(argv)
    args.workdir = os.path.join(args.workdir, args.case)
    os.makedirs(args.workdir, exist_ok=True)

    vocab, merges = bart_vocab()
    cfg = hf_config(len(vocab))
    weights = membart_ref.init_weights(engine_config(cfg), torch.Generator().manual_seed(11))
    folder = os.path.join(args.workdir, "checkpoint")
    if args.case == "safetensors":
        stored = write_folder(folder, cfg, state_dict(weights, False), vocab, merges)
        check_import(args, folder, {k[6:] if k.startswith("model.") else k: v for k, v in stored.items()}, "st")
    elif args.case == "tied_copies":
        stored = write_folder(folder, cfg, state_dict(weights, True, "module."), vocab, merges, torch.float16)
        named = {}
        for k, v in stored.items():
            k = k[len("module."):]
            if k.startswith("model.") and "embed_tokens" not in k:
                named[k[6:]] = v
            elif k == "final_logits_bias":
                named[k] = v
        check_import(args, folder, named, "tied")
    elif args.case == "bin":
        stored = write_folder(folder, cfg, state_dict(weights, True), vocab, merges, pickle=True)
        res = run([sys.executable, args.convert, os.path.join(folder, "pytorch_model.bin"),
                   os.path.join(folder, "model.safetensors"), "--arch", "membart"])
        if res.returncode != 0:
            raise AssertionError(f"memscope-convert.py failed: {res.stdout}{res.stderr}")
        os.unlink(os.path.join(folder, "pytorch_model.bin"))
        named = {k[6:]: v for k, v in stored.items() if k.startswith("model.") and "embed_tokens" not in k}
        named["final_logits_bias"] = stored["final_logits_bias"]
        check_import(args, folder, named, "bin")
    elif args.case == "demo":
        demo_case(args)
    else:
        plain = dict(cfg)
        del plain["memory_len"]
        write_folder(folder, plain, state_dict(weights, False), vocab, merges)
        refused(args, folder, "plain BART", "plain BART")
        bad = state_dict(weights, True)
        bad["model.decoder.embed_tokens.weight"] = bad["model.decoder.embed_tokens.weight"] + 1.0
        write_folder(folder, cfg, bad, vocab, merges)
        refused(args, folder, "untied copy", "differs from shared.weight")
        missing = state_dict(weights, False)
        del missing["model.encoder.memory_bias"]
        write_folder(folder, cfg, missing, vocab, merges)
        refused(args, folder, "missing memory", "encoder.memory_bias")
        write_folder(folder, cfg, state_dict(weights, False), vocab, merges)
        res = run([args.cli, "import", folder, "--out", os.path.join(args.workdir, "x.safetensors"),
                   "--segment-len", "17"])
        if res.returncode != 1 or "max_position_embeddings" not in res.stderr:
            raise AssertionError(f"segment length 17 > 16 positions: exit {res.returncode}, {res.stderr!r}")
        print(f"ok refused long segments: {res.stderr.strip()}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as err:
        print(f"FAIL {err}", file=sys.stderr)
        sys.exit(1)
