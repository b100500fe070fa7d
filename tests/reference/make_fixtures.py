#!/usr/bin/env python3
"""Builds the tiny random models and expected outputs that check Memscope's C inference core.

`make_fixtures.py --seed S --out DIR` writes three small untrained models (`memformer`, `rmt_causal`,
`rmt_blocks`) as Memscope model files `DIR/{name}.safetensors`, runs the float64 references in
memformer_ref.py / rmt_ref.py / membart_ref.py over a fixed 29-byte multi-segment input (last segment short, non-ASCII UTF-8
bytes included) and writes `DIR/{name}.expected.safetensors` (format in memscope_file.py). The references
read the model back from disk, so the truth is computed from exactly the stored (F32, F16 or BF16) weights.
Before writing the expected file it checks the fixture is worth having: attention rows sum to 1, masked
entries are exactly 0, Memformer memory rows are unit-norm and the writer's self column carries real mass,
attention is clearly non-uniform (so a wrong mask, scale or index shows), and a float32 run of the reference
stays far inside the 1e-4 parity tolerance.

`make_fixtures.py --demo [--seed S]` instead writes the random demo models shipped in resources/models/ and
the demo text in resources/inputs/demo.txt.
"""

import argparse
import os
import sys

import torch

import membart_ref
import memformer_ref
import rmt_ref
from demo_text import DEMO_TEXT
from memscope_file import compare_expected, load_model, session_tensors, write_expected, write_model
from safetensors_io import read_safetensors

FIXTURE_INPUT = "The café kept 記憶: Ça va".encode("utf-8")  # 29 bytes: segments of 8, 8, 8, 5

# name -> (arch, config, storage dtype). The storage dtypes differ on purpose so the parity run also covers
# the loader's F16 and BF16 conversion (the reference computes from the stored, rounded values), and the
# half-precision files keep the fixtures small.
FIXTURE_MODELS = {
    "memformer": ("memformer", {
        "vocab_size": 256, "d_model": 32, "n_heads": 2, "d_ff": 64, "n_enc_layers": 2, "n_dec_layers": 2,
        "n_slots": 4, "segment_len": 8, "writer_temperature": 0.5, "tie_embeddings": True}, "F16"),
    "rmt_causal": ("rmt", {
        "vocab_size": 256, "d_model": 32, "n_heads": 4, "n_layers": 2, "d_ff": 128, "n_mem": 6,
        "segment_len": 8, "n_positions": 24, "mask": "causal"}, "F32"),
    "rmt_blocks": ("rmt", {
        "vocab_size": 256, "d_model": 32, "n_heads": 4, "n_layers": 2, "d_ff": 128, "n_mem": 6,
        "segment_len": 8, "n_positions": 24, "mask": "blocks"}, "BF16"),
    # One head of 32 dimensions: the C core's AVX-512 attention products (ms_attention_scores/_mix) in
    # every attention of both engines, the Memformer writer's included.  (d_model 64 with 2 heads drifted
    # past FLOAT32_BUDGET in the float32 reference's logits for 6 of 8 seeds.)
    "rmt_dh32": ("rmt", {
        "vocab_size": 256, "d_model": 32, "n_heads": 1, "n_layers": 2, "d_ff": 128, "n_mem": 6,
        "segment_len": 8, "n_positions": 24, "mask": "causal"}, "F16"),
    "memformer_dh32": ("memformer", {
        "vocab_size": 256, "d_model": 32, "n_heads": 1, "d_ff": 64, "n_enc_layers": 2, "n_dec_layers": 2,
        "n_slots": 4, "segment_len": 8, "writer_temperature": 0.5, "tie_embeddings": True}, "F16"),
    # MemBART with BART's and the public code's config.json keys; a short position table (the segment fills
    # it), and a second one of one 32-dimension head for the AVX-512 attention products.
    "membart": ("membart", {
        "vocab_size": 256, "d_model": 32, "encoder_attention_heads": 2, "decoder_attention_heads": 4,
        "encoder_ffn_dim": 64, "decoder_ffn_dim": 48, "encoder_layers": 2, "decoder_layers": 2,
        "memory_len": 4, "max_position_embeddings": 8, "segment_len": 8}, "F16"),
    "membart_dh32": ("membart", {
        "vocab_size": 256, "d_model": 32, "encoder_attention_heads": 1, "decoder_attention_heads": 1,
        "encoder_ffn_dim": 64, "decoder_ffn_dim": 64, "encoder_layers": 2, "decoder_layers": 1,
        "memory_len": 4, "max_position_embeddings": 12, "segment_len": 8, "scale_embedding": True}, "F32"),
}

DEMO_MODELS = {
    "demo-memformer": ("memformer", {
        "vocab_size": 256, "d_model": 64, "n_heads": 4, "d_ff": 256, "n_enc_layers": 2, "n_dec_layers": 2,
        "n_slots": 8, "segment_len": 32, "writer_temperature": 0.5, "tie_embeddings": True}),
    "demo-rmt": ("rmt", {
        "vocab_size": 256, "d_model": 64, "n_heads": 4, "n_layers": 2, "d_ff": 256, "n_mem": 8,
        "segment_len": 32, "n_positions": 64, "mask": "blocks"}),
}

DEMO_DTYPE = "F16"  # placeholders until trained models ship; half precision keeps the repository small

FLOAT32_BUDGET = 2.5e-5  # a float32 run of the reference must agree with float64 this well (tolerance 1e-4)


class FixtureError(Exception):
    """A generated fixture failed one of its self-checks."""


class WeakSeed(FixtureError):
    """The seed's random models would not exercise one of the checks (exit code WEAK_SEED_EXIT): not an
    error of the reference, another seed will do."""


WEAK_SEED_EXIT = 3


def random_weights(arch, config, seed):
    """Random float32 weights for one model, reproducible from `seed`."""
    generator = torch.Generator().manual_seed(seed)
    module = {"memformer": memformer_ref, "rmt": rmt_ref, "membart": membart_ref}[arch]
    return module.init_weights(config, generator)


def attention_maps(arch, config, records):
    """Yields (label, probabilities [..., rows, cols], allowed bool mask broadcastable to it) for checking."""
    for t, r in enumerate(records):
        if arch == "memformer":
            for l, probs in enumerate(r["reader"]):
                yield f"seg.{t}.reader.{l}", probs, torch.ones_like(probs, dtype=torch.bool)
            yield f"seg.{t}.writer", r["writer"], torch.ones_like(r["writer"], dtype=torch.bool)
        elif arch == "membart":
            # the read rows are a slice of one softmax (tokens over slots and tokens), so only the write rows,
            # whose other slots are masked, sum to 1 on their own
            for l, probs in enumerate(r["membart_write"]):
                yield f"seg.{t}.membart_write.{l}", probs, torch.ones_like(probs, dtype=torch.bool)
        else:
            mask = rmt_ref.segment_mask(config["mask"], config["n_mem"], len(r["tokens"]))
            for l, probs in enumerate(r["attn"]):
                yield f"seg.{t}.attn.{l}", probs, mask.expand_as(probs)


def check_records(name, arch, config, records):
    """Runs the self-checks on a float64 session; returns a one-line summary of attention sharpness."""
    for label, probs, allowed in attention_maps(arch, config, records):
        sums = probs.sum(dim=-1)
        if (sums - 1).abs().max() > 1e-12:
            raise FixtureError(f"{name}: {label} rows do not sum to 1 (worst {sums.sub(1).abs().max():.3g})")
        if bool((probs[~allowed] != 0).any()):
            raise FixtureError(f"{name}: {label} has non-zero probability on masked entries")
    if arch == "memformer":
        for t, r in enumerate(records):
            for which in ("mem_in", "mem_out"):
                norms = r[which].norm(dim=1)
                if (norms - 1).abs().max() > 1e-12:
                    raise FixtureError(f"{name}: seg.{t}.{which} rows are not unit-norm")
        # The writer's self column must carry real mass, or a wrong self value (projected instead of the
        # raw slot) would go unnoticed.
        self_share = torch.stack([r["writer"][..., 0] for r in records])
        if self_share.max() < 0.2:
            raise WeakSeed(f"{name}: writer self column peaks at {self_share.max():.3f}; it would not test "
                           "the raw-slot self value")

    if arch == "membart":
        # Both columns of the write rows and both sides of the gate must be exercised, or a wrong self
        # column or a gate applied the wrong way round would go unnoticed.
        self_share = torch.stack([w[..., 0] for r in records for w in r["membart_write"]])
        if self_share.max() < 0.2:
            raise WeakSeed(f"{name}: write self column peaks at {self_share.max():.3f}")
        gates = torch.cat([r["gate"] for r in records])
        if gates.max() - gates.min() < 0.25:
            raise WeakSeed(f"{name}: gate alpha stays in [{gates.min():.2f}, {gates.max():.2f}]")

    # Sharpness per kind of map: mean max probability against the mean uniform value 1/(allowed count),
    # over rows with more than one allowed column (a single allowed column is trivially 1).
    kinds = {}
    for label, probs, allowed in attention_maps(arch, config, records):
        kind = label.split(".")[2]
        count = allowed.sum(dim=-1).to(probs.dtype)
        rows = count > 1
        peak, uniform = probs.max(dim=-1).values[rows], 1.0 / count[rows]
        kinds.setdefault(kind, []).append((peak, uniform))
    summary = []
    for kind, parts in kinds.items():
        peak = torch.cat([p for p, _ in parts]).mean().item()
        uniform = torch.cat([u for _, u in parts]).mean().item()
        if peak < 1.5 * uniform or peak < uniform + 0.1:
            raise WeakSeed(f"{name}: {kind} attention is too uniform (mean max {peak:.3f} vs uniform "
                           f"{uniform:.3f}); it would not catch mask or scale errors")
        summary.append(f"{kind} mean max {peak:.2f} (uniform {uniform:.2f})")
    return "; ".join(summary)


def build_fixture(out_dir, name, arch, config, dtype, seed, tokens):
    """Writes one model (stored as `dtype`) and its expected file; returns a description line."""
    model_path = os.path.join(out_dir, f"{name}.safetensors")
    expected_path = os.path.join(out_dir, f"{name}.expected.safetensors")
    model_seed = seed * 100 + list(FIXTURE_MODELS).index(name)
    source = (f"tests/reference/make_fixtures.py --seed {seed}: random untrained test fixture '{name}' "
              f"(torch.Generator seed {model_seed})")
    write_model(model_path, arch, config, random_weights(arch, config, model_seed), source, dtype)

    # The truth is computed from the file as stored.
    _, _, model = load_model(model_path, torch.float64)
    records = model.run_session(tokens)
    sharpness = check_records(name, arch, config, records)
    expected = session_tensors(arch, records)

    _, _, model32 = load_model(model_path, torch.float32)
    expected32 = session_tensors(arch, model32.run_session(tokens))
    drift = compare_expected({k: v.numpy() for k, v in expected.items()},
                             {k: v.numpy() for k, v in expected32.items()}, atol=FLOAT32_BUDGET, rtol=0)
    if drift:
        raise FixtureError(f"{name}: float32 reference drifts beyond {FLOAT32_BUDGET}: {drift[:3]}")

    write_expected(expected_path, expected, {
        "fixture.seed": str(seed), "fixture.model": os.path.basename(model_path), "fixture.arch": arch,
        "fixture.nll_unit": "nats"})
    stored, _ = read_safetensors(expected_path)
    problems = compare_expected({k: v.numpy() for k, v in expected.items()}, stored, atol=1e-6, rtol=1e-6)
    if problems:
        raise FixtureError(f"{name}: expected file does not read back: {problems[:3]}")
    return (f"{name} ({dtype}): {os.path.getsize(model_path)} + {os.path.getsize(expected_path)} bytes, "
            f"{len(records)} segments; {sharpness}")


def make_fixtures(out_dir, seed, model_dtype=None):
    """Builds every test fixture into `out_dir`; `model_dtype` forces one storage dtype for all models."""
    os.makedirs(out_dir, exist_ok=True)
    tokens = list(FIXTURE_INPUT)
    for name, (arch, config, dtype) in FIXTURE_MODELS.items():
        print(build_fixture(out_dir, name, arch, config, model_dtype or dtype, seed, tokens))


def make_demo(repo_root, seed):
    """Writes the random demo models and the demo text into resources/."""
    model_dir = os.path.join(repo_root, "resources", "models")
    input_dir = os.path.join(repo_root, "resources", "inputs")
    os.makedirs(model_dir, exist_ok=True)
    os.makedirs(input_dir, exist_ok=True)
    text_path = os.path.join(input_dir, "demo.txt")
    with open(text_path, "w", encoding="utf-8") as f:
        f.write(DEMO_TEXT)
    print(f"{text_path}: {os.path.getsize(text_path)} bytes")

    tokens = list(DEMO_TEXT.encode("utf-8"))
    for index, (name, (arch, config)) in enumerate(DEMO_MODELS.items()):
        path = os.path.join(model_dir, f"{name}.safetensors")
        model_seed = seed * 100 + 50 + index
        source = (f"random untrained demo, replaced by trained models later "
                  f"(tests/reference/make_fixtures.py --demo --seed {seed}, torch.Generator seed {model_seed})")
        write_model(path, arch, config, random_weights(arch, config, model_seed), source, DEMO_DTYPE)
        _, _, model = load_model(path, torch.float64)
        sample = tokens[:4 * config["segment_len"]]
        sharpness = check_records(name, arch, config, model.run_session(sample))
        print(f"{path}: {os.path.getsize(path)} bytes; {sharpness}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1234, help="random seed (default 1234)")
    parser.add_argument("--out", help="fixture directory (required unless --demo)")
    parser.add_argument("--demo", action="store_true", help="write the demo models and text into resources/")
    parser.add_argument("--model-dtype", choices=("F32", "F16", "BF16"),
                        help="store every fixture model in this dtype (default: F16, F32, BF16 as listed)")
    args = parser.parse_args(argv)
    try:
        if args.demo:
            repo_root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
            make_demo(repo_root, args.seed)
        else:
            if not args.out:
                parser.error("--out DIR is required (or pass --demo)")
            make_fixtures(args.out, args.seed, args.model_dtype)
    except FixtureError as err:
        print(f"make_fixtures: {err}", file=sys.stderr)
        return WEAK_SEED_EXIT if isinstance(err, WeakSeed) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
