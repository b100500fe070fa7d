#!/usr/bin/env python3
"""The PyTorch baseline for bench-core: `bench_torch.py MODEL N_TOKENS --threads T [--check]`.

Baseline: PyTorch 1.13 eager, float32, batched heads. The reference implementations in tests/reference are
written for exactness, not speed (float64, hand-written LayerNorm/GELU, a Python loop over tokens for the
NLL), so timing them would flatter the C core. This file holds a fair float32 forward of DESIGN.md §3 written
the way an eager PyTorch user would: F.linear / torch.addmm (Conv1D), F.layer_norm, F.gelu, all heads of an
attention in one batched matmul with the mask precomputed once, F.cross_entropy over a whole segment, under
torch.no_grad() with torch.set_num_threads(T); OpenBLAS (which this torch build calls for its matmuls) is
held to T threads as well, and OMP_WAIT_POLICY defaults to PASSIVE (see below). `--check` then compares its per-token NLL with the float64 reference
(memformer_ref / rmt_ref via memscope_file.load_model) on the first few segments of the same input and fails
loudly if they differ by more than float32 rounding (see check_against_reference).

Measurement mirrors bench-core.c exactly: the same splitmix64 byte stream (seed "memscope"), N_TOKENS rounded
up to full segments, one warm-up segment first (untimed), wall time on a monotonic clock, the same analytic
FLOP count, peak RSS from getrusage after the run. Prints one JSON line with the same fields. The mean NLL
over the timed tokens must agree with bench-core's to float32 rounding.

Run with Debian's /usr/bin/python3 (torch 1.13, numpy).
"""

import argparse
import json
import os
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "..", "reference")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="Memscope model file (.safetensors)")
    parser.add_argument("n_tokens", type=int, help="tokens to time (rounded up to full segments)")
    parser.add_argument("--threads", type=int, default=1, help="torch and OpenBLAS threads (default 1)")
    parser.add_argument("--check", action="store_true",
                        help="after timing, check the NLL against the float64 reference on a few segments")
    parser.add_argument("--check-segments", type=int, default=3, help="segments to check (default 3)")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.n_tokens < 0:
        parser.error("--threads must be >= 1 and N_TOKENS >= 0")
    return args


ARGS = parse_args(sys.argv[1:])
# Thread pools read these when the libraries load, so set them before importing torch.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)
# This torch runs its element-wise kernels on libgomp threads and its matmuls on OpenBLAS's own pthreads. With
# libgomp's default (spin-waiting) policy the idle OpenMP workers fight OpenBLAS for the CPUs, and on a 2-CPU
# machine PyTorch at 2 threads runs slower than at 1. Passive waiting is the standard remedy; without it
# the baseline would be handicapped. An explicit setting in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import ctypes  # noqa: E402
import ctypes.util  # noqa: E402
import resource  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

SEED = 0x6D656D73636F7065  # "memscope", as in bench-core.c
MASK64 = (1 << 64) - 1


def openblas_threads(threads):
    """Holds the OpenBLAS that torch loaded to `threads`; returns its core name (or None)."""
    for name in ("libopenblas.so.0", ctypes.util.find_library("openblas")):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            lib.openblas_set_num_threads(ctypes.c_int(threads))
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return lib.openblas_get_corename().decode()
        except (OSError, AttributeError):
            continue
    return None


def token_stream(count, vocab):
    """The first `count` tokens of bench-core's splitmix64 stream."""
    state, out = SEED, []
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        out.append((z ^ (z >> 31)) % vocab)
    return out


# -- model file --------------------------------------------------------------------------------------------

_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16}


def load_file(path):
    """(arch, config, {name: float32 torch tensor}) read tensor by tensor, without holding the whole file."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length).decode("utf-8"))
        start = 8 + length
        meta = header.pop("__metadata__", {})
        weights = {}
        for name, entry in header.items():
            dtype = _DTYPES[entry["dtype"]]
            begin, end = entry["data_offsets"]
            f.seek(start + begin)
            raw = np.frombuffer(f.read(end - begin), dtype=dtype).reshape(entry["shape"])
            if entry["dtype"] == "BF16":
                raw = (raw.astype(np.uint32) << 16).view(np.float32)
            weights[name] = torch.from_numpy(np.array(raw, dtype=np.float32))
    if meta.get("memscope.format") != "1":
        raise ValueError(f"{path}: not a Memscope model file")
    return meta["memscope.arch"], json.loads(meta["memscope.config"]), weights


# -- the two forwards (DESIGN.md §3), float32, batched heads ---------------------------------------------

def heads(x, n_heads):
    """[T, d] -> [H, T, d_h] (head h owns columns h·d_h ..)."""
    t, d = x.shape
    return x.view(t, n_heads, d // n_heads).transpose(0, 1)


def attend(q, k, v, n_heads, mask=None):
    """softmax(q kᵀ / √d_h, masked) v over all heads at once; q [Tq, d], k/v [Tk, d] -> [Tq, d]."""
    qh, kh, vh = heads(q, n_heads), heads(k, n_heads), heads(v, n_heads)
    logits = torch.matmul(qh, kh.transpose(1, 2)) * (qh.shape[-1] ** -0.5)
    if mask is not None:
        logits = logits.masked_fill(mask, float("-inf"))
    ctx = torch.matmul(torch.softmax(logits, dim=-1), vh)
    return ctx.transpose(0, 1).reshape(q.shape[0], q.shape[1])


class FastMemformer:
    """Memformer §3.1 with the session convention of ms-session.h: step t decodes t from H_{t-1}, then
    encodes t and writes the memory."""

    def __init__(self, cfg, w):
        self.cfg, self.w = cfg, w
        self.d, self.H, self.L = cfg["d_model"], cfg["n_heads"], cfg["segment_len"]
        self.tau = cfg.get("writer_temperature", 0.5)
        self.lm_head = w["tok_emb.weight"] if cfg.get("tie_embeddings", True) else w["lm_head.weight"]
        # True = masked (the future), built once.
        self.future = torch.ones(self.L, self.L, dtype=torch.bool).triu(1)
        self.enc = [self._layer(f"enc.layers.{l}", "mem_attn") for l in range(cfg["n_enc_layers"])]
        self.dec = [self._layer(f"dec.layers.{l}", "cross_attn") for l in range(cfg["n_dec_layers"])]
        self.reset()

    def _layer(self, p, second):
        w = self.w
        get = lambda n: w[f"{p}.{n}"]  # noqa: E731
        return {k: get(n) for k, n in {
            "ln1w": "ln1.weight", "ln1b": "ln1.bias", "ln2w": "ln2.weight", "ln2b": "ln2.bias",
            "ln3w": "ln3.weight", "ln3b": "ln3.bias",
            "sqw": "self_attn.q.weight", "sqb": "self_attn.q.bias", "skw": "self_attn.k.weight",
            "skb": "self_attn.k.bias", "svw": "self_attn.v.weight", "svb": "self_attn.v.bias",
            "sow": "self_attn.o.weight", "sob": "self_attn.o.bias",
            "xqw": f"{second}.q.weight", "xqb": f"{second}.q.bias", "xkw": f"{second}.k.weight",
            "xkb": f"{second}.k.bias", "xvw": f"{second}.v.weight", "xvb": f"{second}.v.bias",
            "xow": f"{second}.o.weight", "xob": f"{second}.o.bias",
            "f1w": "ffn.fc1.weight", "f1b": "ffn.fc1.bias", "f2w": "ffn.fc2.weight", "f2b": "ffn.fc2.bias",
        }.items()}

    def reset(self):
        b = self.w["memory.bias"]
        self.memory = b / b.norm(dim=1, keepdim=True)
        self.prev = None  # (last token of t-1, H_{t-1})

    def _block(self, x, P, kv_self_mask, mem, mem_is_x=False):
        d, H = self.d, self.H
        h = F.layer_norm(x, (d,), P["ln1w"], P["ln1b"])
        a = attend(F.linear(h, P["sqw"], P["sqb"]), F.linear(h, P["skw"], P["skb"]),
                   F.linear(h, P["svw"], P["svb"]), H, kv_self_mask)
        x = x + F.linear(a, P["sow"], P["sob"])
        h = F.layer_norm(x, (d,), P["ln2w"], P["ln2b"])
        a = attend(F.linear(h, P["xqw"], P["xqb"]), F.linear(mem, P["xkw"], P["xkb"]),
                   F.linear(mem, P["xvw"], P["xvb"]), H)
        x = x + F.linear(a, P["xow"], P["xob"])
        h = F.layer_norm(x, (d,), P["ln3w"], P["ln3b"])
        return x + F.linear(F.gelu(F.linear(h, P["f1w"], P["f1b"])), P["f2w"], P["f2b"])

    def step(self, ids):
        """ids: int64 tensor [n]. Returns per-token NLL [n] (NaN when nothing predicts it)."""
        w, n, d = self.w, ids.shape[0], self.d
        if self.prev is None:
            nll = torch.full((n,), float("nan"))
        else:
            last, enc_prev = self.prev
            y_ids = torch.cat([last, ids[:-1]])
            y = w["tok_emb.weight"][y_ids] + w["dec.pos_emb.weight"][:n]
            future = self.future[:n, :n]
            for P in self.dec:
                y = self._block(y, P, future, enc_prev)
            logits = torch.matmul(F.layer_norm(y, (d,), w["dec.ln_f.weight"], w["dec.ln_f.bias"]),
                                  self.lm_head.t())
            nll = F.cross_entropy(logits, ids, reduction="none")
        x = w["tok_emb.weight"][ids] + w["enc.pos_emb.weight"][:n]
        for P in self.enc:
            x = self._block(x, P, None, self.memory)
        enc = F.layer_norm(x, (d,), w["enc.ln_f.weight"], w["enc.ln_f.bias"])
        self.memory = self._write(self.memory, enc)
        self.prev = (ids[-1:], enc)
        return nll

    def _write(self, M, enc):
        w, H = self.w, self.H
        q = heads(F.linear(M, w["writer.q.weight"], w["writer.q.bias"]), H)                  # [H, K, dh]
        k_self = heads(F.linear(M, w["writer.k.weight"], w["writer.k.bias"]), H)
        k_tok = heads(F.linear(enc, w["writer.k.weight"], w["writer.k.bias"]), H)            # [H, n, dh]
        v_tok = heads(F.linear(enc, w["writer.v.weight"], w["writer.v.bias"]), H)
        scale = 1.0 / (q.shape[-1] ** 0.5 * self.tau)
        logits = torch.cat([(q * k_self).sum(-1, keepdim=True), torch.matmul(q, k_tok.transpose(1, 2))], -1)
        probs = torch.softmax(logits * scale, dim=-1)                                        # [H, K, 1+n]
        u = probs[..., :1] * heads(M, H) + torch.matmul(probs[..., 1:], v_tok)
        u = u.transpose(0, 1).reshape(M.shape) + w["memory.bias"]
        return u / u.norm(dim=1, keepdim=True)


class FastRMT:
    """RMT §3.2: GPT-2 blocks (HF Conv1D layout, addmm) over [M; tokens; M]."""

    def __init__(self, cfg, w):
        self.cfg, self.w = cfg, w
        self.d, self.H, self.m, self.L = cfg["d_model"], cfg["n_heads"], cfg["n_mem"], cfg["segment_len"]
        self.layers = []
        for l in range(cfg["n_layers"]):
            p = f"transformer.h.{l}"
            self.layers.append({k: w[f"{p}.{n}"] for k, n in {
                "ln1w": "ln_1.weight", "ln1b": "ln_1.bias", "aw": "attn.c_attn.weight", "ab": "attn.c_attn.bias",
                "pw": "attn.c_proj.weight", "pb": "attn.c_proj.bias", "ln2w": "ln_2.weight", "ln2b": "ln_2.bias",
                "fw": "mlp.c_fc.weight", "fb": "mlp.c_fc.bias", "mw": "mlp.c_proj.weight", "mb": "mlp.c_proj.bias",
            }.items()})
        self.masks = {}
        self.reset()

    def reset(self):
        self.memory = self.w["memory"].clone()
        self.carry = None  # last logits row of the previous segment

    def _mask(self, n):
        """Bool [T, T], True = masked."""
        if n not in self.masks:
            m, t = self.m, 2 * self.m + n
            if self.cfg["mask"] == "causal":
                allowed = torch.ones(t, t, dtype=torch.bool).tril()
            else:
                allowed = torch.zeros(t, t, dtype=torch.bool)
                allowed[:m, :m] = True
                allowed[m:m + n, :m] = True
                allowed[m:m + n, m:m + n] = torch.ones(n, n, dtype=torch.bool).tril()
                allowed[m + n:, :] = True
            self.masks[n] = ~allowed
        return self.masks[n]

    def step(self, ids):
        w, d, H, m, n = self.w, self.d, self.H, self.m, ids.shape[0]
        t = 2 * m + n
        x = torch.cat([self.memory, w["transformer.wte.weight"][ids], self.memory]) + w["transformer.wpe.weight"][:t]
        mask = self._mask(n)
        for P in self.layers:
            h = F.layer_norm(x, (d,), P["ln1w"], P["ln1b"])
            qkv = torch.addmm(P["ab"], h, P["aw"])
            a = attend(qkv[:, :d], qkv[:, d:2 * d], qkv[:, 2 * d:], H, mask)
            x = x + torch.addmm(P["pb"], a, P["pw"])
            h = F.layer_norm(x, (d,), P["ln2w"], P["ln2b"])
            h = F.gelu(torch.addmm(P["fb"], h, P["fw"]), approximate="tanh")
            x = x + torch.addmm(P["mb"], h, P["mw"])
        hf = F.layer_norm(x, (d,), w["transformer.ln_f.weight"], w["transformer.ln_f.bias"])
        logits = torch.matmul(hf[m:m + n], w["transformer.wte.weight"].t())
        first = (torch.full((1,), float("nan")) if self.carry is None
                 else F.cross_entropy(self.carry[None], ids[:1], reduction="none"))
        nll = torch.cat([first, F.cross_entropy(logits[:-1], ids[1:], reduction="none")])
        self.memory = hf[m + n:]
        self.carry = logits[-1]
        return nll


def build(arch, cfg, weights):
    return (FastMemformer if arch == "memformer" else FastRMT)(cfg, weights)


# -- FLOPs (the formula and its derivation: segment_macs in core/engines/*.c) ------------------------------

def segment_macs(arch, c):
    d, F_, V, L = c["d_model"], c["d_ff"], c["vocab_size"], c["segment_len"]
    if arch == "memformer":
        K = c["n_slots"]
        enc = 6 * L * d * d + 2 * K * d * d + 2 * L * L * d + 2 * L * K * d + 2 * L * d * F_
        writer = 2 * K * d * d + 2 * L * d * d + 2 * K * L * d + 2 * K * d
        dec = 8 * L * d * d + 4 * L * L * d + 2 * L * d * F_
        return c["n_enc_layers"] * enc + writer + c["n_dec_layers"] * dec + L * d * V
    T = 2 * c["n_mem"] + L
    return c["n_layers"] * (4 * T * d * d + 2 * T * T * d + 2 * T * d * F_) + L * d * V


# -- the check against the float64 reference ---------------------------------------------------------------

def check_against_reference(path, arch, cfg, weights, n_segments):
    """Per-token NLL of the fast float32 forward vs the reference over the stream's first segments.

    The truth is the float64 reference. Random untrained weights at the paper size give NLLs of tens of nats
    (up to ~70), so float32 itself is off by up to ~0.2 nats there: the reference's own float32 run sets the
    budget. Passes when max |fast - ref64| <= 2 max |ref32 - ref64| + 1e-3 and every segment's mean NLL is
    within 1e-3 + 1e-4 |mean| of the float64 one.
    """
    sys.path.insert(0, REFERENCE)
    from memscope_file import load_model  # noqa: E402

    L = cfg["segment_len"]
    tokens = token_stream(n_segments * L, cfg["vocab_size"])

    def ref_nll(dtype):
        _, _, ref = load_model(path, dtype)
        return torch.cat([r["nll"] for r in ref.run_session(tokens)]).to(torch.float64)

    with torch.no_grad():
        nll64, nll32 = ref_nll(torch.float64), ref_nll(torch.float32)
        model = build(arch, cfg, weights)
        ids = torch.tensor(tokens, dtype=torch.int64)
        fast = torch.cat([model.step(ids[i:i + L]) for i in range(0, len(tokens), L)]).to(torch.float64)
    if not torch.equal(torch.isnan(nll64), torch.isnan(fast)):
        raise AssertionError(f"{path}: NaN pattern of the NLL differs from the reference")
    ok = ~torch.isnan(nll64)
    worst = float((fast[ok] - nll64[ok]).abs().max())
    budget = 2 * float((nll32[ok] - nll64[ok]).abs().max()) + 1e-3
    if worst > budget:
        raise AssertionError(f"{path}: float32 batched forward differs from the float64 reference by up to "
                             f"{worst:.3g} nats; the reference's own float32 run allows {budget:.3g}")
    for s in range(n_segments):
        seg = slice(s * L, (s + 1) * L)
        a, b = nll64[seg][ok[seg]], fast[seg][ok[seg]]
        if a.numel() and abs(float(a.mean() - b.mean())) > 1e-3 + 1e-4 * abs(float(a.mean())):
            raise AssertionError(f"{path}: segment {s} mean NLL {float(b.mean()):.6f}, "
                                 f"reference {float(a.mean()):.6f}")
    return {"check_segments": n_segments, "check_tokens": int(ok.sum()), "check_max_abs_diff": worst,
            "check_budget": budget}


def peak_rss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main():
    torch.set_num_threads(ARGS.threads)
    blas_core = openblas_threads(ARGS.threads)
    arch, cfg, weights = load_file(ARGS.model)
    L, V = cfg["segment_len"], cfg["vocab_size"]
    n_segments = -(-ARGS.n_tokens // L)
    n_tokens = n_segments * L
    ids = torch.tensor(token_stream(L + n_tokens, V), dtype=torch.int64)
    model = build(arch, cfg, weights)

    result = {"impl": "torch", "model": os.path.basename(ARGS.model).removesuffix(".safetensors"), "arch": arch,
              "threads": ARGS.threads, "n_tokens": n_tokens, "segment_len": L, "segments": n_segments}
    with torch.no_grad():
        model.step(ids[:L])  # warm-up, untimed; gives Memformer its first encoding to decode from
        total, count, first = 0.0, 0, None
        c0 = time.thread_time()
        t0 = time.perf_counter()
        for s in range(n_segments):
            nll = model.step(ids[L + s * L:L + (s + 1) * L])
            valid = nll[~torch.isnan(nll)]
            seg_sum = float(valid.double().sum())
            total += seg_sum
            count += valid.numel()
            if s == 0:
                first = seg_sum / L
        seconds = time.perf_counter() - t0
        cpu_seconds = time.thread_time() - c0
    flops = 2.0 * segment_macs(arch, cfg) * n_segments
    result.update(seconds=round(seconds, 6), cpu_seconds=round(cpu_seconds, 6),
                  tokens_per_s=round(n_tokens / seconds, 2) if seconds > 0 else None,
                  flops=flops, gflops=round(flops / seconds * 1e-9, 3) if seconds > 0 else None,
                  peak_rss_kb=peak_rss_kb(),
                  mean_nll=round(total / count, 6) if count and np.isfinite(total) else None,
                  first_segment_nll=round(first, 6) if first is not None and np.isfinite(first) else None,
                  torch_version=torch.__version__, torch_threads=torch.get_num_threads(), blas_core=blas_core,
                  omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"),
                  baseline="PyTorch 1.13 eager, float32, batched heads")
    if ARGS.check:
        result.update(check_against_reference(ARGS.model, arch, cfg, weights, ARGS.check_segments))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
