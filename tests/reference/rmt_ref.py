#!/usr/bin/env python3
"""Independent PyTorch reference of the Recurrent Memory Transformer as Memscope defines it (DESIGN.md §3.2).

GPT-2 blocks with Hugging Face tensor names and Conv1D layout (weight [in, out], y = x W + b), run in float64.
Each segment is processed as X = [M_t; wte[x_t]; M_t] + wpe[0..T-1] with T = 2m + L_t under either the plain
causal mask or the paper's block mask; the segment rows after ln_f give the next-token logits (LM head tied
to wte) and the write rows after ln_f become M_{t+1}. Loss is next-token over the concatenated stream.
"""

import torch

from ref_common import attention_core, conv1d, gelu_tanh, layer_norm, nll_from_logits, split_segments, typed_weights

REQUIRED = ("vocab_size", "d_model", "n_heads", "n_layers", "d_ff", "n_mem", "segment_len", "n_positions",
            "mask")
MASKS = ("causal", "blocks")


def full_config(config):
    """Checks an RMT config (DESIGN.md §3.2) and returns a copy."""
    cfg = dict(config)
    missing = [k for k in REQUIRED if k not in cfg]
    if missing:
        raise ValueError(f"rmt config lacks {missing}")
    if cfg["mask"] not in MASKS:
        raise ValueError(f"rmt mask must be one of {MASKS}, got {cfg['mask']!r}")
    if cfg["d_model"] % cfg["n_heads"]:
        raise ValueError("rmt d_model must be a multiple of n_heads")
    if cfg["n_positions"] < 2 * cfg["n_mem"] + cfg["segment_len"]:
        raise ValueError("rmt n_positions must be at least 2 n_mem + segment_len")
    return cfg


def tensor_shapes(config):
    """Every tensor an RMT model file must hold, name -> shape (HF GPT-2 names, Conv1D [in, out] layout)."""
    cfg = full_config(config)
    v, d, d_ff = cfg["vocab_size"], cfg["d_model"], cfg["d_ff"]
    shapes = {"transformer.wte.weight": (v, d), "transformer.wpe.weight": (cfg["n_positions"], d)}
    for l in range(cfg["n_layers"]):
        p = f"transformer.h.{l}"
        shapes.update({
            f"{p}.ln_1.weight": (d,), f"{p}.ln_1.bias": (d,),
            f"{p}.attn.c_attn.weight": (d, 3 * d), f"{p}.attn.c_attn.bias": (3 * d,),
            f"{p}.attn.c_proj.weight": (d, d), f"{p}.attn.c_proj.bias": (d,),
            f"{p}.ln_2.weight": (d,), f"{p}.ln_2.bias": (d,),
            f"{p}.mlp.c_fc.weight": (d, d_ff), f"{p}.mlp.c_fc.bias": (d_ff,),
            f"{p}.mlp.c_proj.weight": (d_ff, d), f"{p}.mlp.c_proj.bias": (d,),
        })
    shapes["transformer.ln_f.weight"] = (d,)
    shapes["transformer.ln_f.bias"] = (d,)
    shapes["memory"] = (cfg["n_mem"], d)
    return shapes


# Standard deviations of the random initialisation; see memformer_ref.INIT_STD for the reasoning.
INIT_STD = {"emb": 0.5, "pos": 0.5, "qk": 0.25, "vo": 0.18, "fc": 0.3, "proj": 0.15, "ln_gain": 0.1,
            "bias": 0.1, "memory": 1.0}


def init_weights(config, generator, std=None):
    """Random float32 weights for `config`, drawn from `generator` (a torch.Generator)."""
    s = dict(INIT_STD)
    s.update(std or {})
    weights = {}
    for name, shape in tensor_shapes(config).items():
        noise = torch.randn(shape, generator=generator, dtype=torch.float64)
        if name == "transformer.wte.weight":
            value = s["emb"] * noise
        elif name == "transformer.wpe.weight":
            value = s["pos"] * noise
        elif name == "memory":
            value = s["memory"] * noise
        elif ".ln_" in name and name.endswith(".weight"):
            value = 1.0 + s["ln_gain"] * noise
        elif name.endswith(".bias"):
            value = s["bias"] * noise
        elif ".mlp.c_fc." in name:
            value = s["fc"] * noise
        elif ".mlp.c_proj." in name:
            value = s["proj"] * noise
        elif ".attn.c_attn." in name:  # columns q | k | v
            d = shape[0]
            value = torch.cat([s["qk"] * noise[:, :2 * d], s["vo"] * noise[:, 2 * d:]], dim=1)
        else:  # attn.c_proj
            value = s["vo"] * noise
        weights[name] = value.to(torch.float32)
    return weights


def segment_mask(kind, n_mem, seg_len):
    """Bool mask [T, T] (True = may attend) for one segment, T = 2 n_mem + seg_len.

    causal: the plain lower triangle. blocks: read rows see the read block only; segment rows see the read
    block and segment tokens up to and including themselves; write rows see everything.
    """
    t = 2 * n_mem + seg_len
    if kind == "causal":
        return torch.ones(t, t, dtype=torch.bool).tril()
    if kind != "blocks":
        raise ValueError(f"unknown mask {kind!r}")
    mask = torch.zeros(t, t, dtype=torch.bool)
    mask[:n_mem, :n_mem] = True
    seg = slice(n_mem, n_mem + seg_len)
    mask[seg, :n_mem] = True
    mask[seg, seg] = torch.ones(seg_len, seg_len, dtype=torch.bool).tril()
    mask[n_mem + seg_len:, :] = True
    return mask


class RMT:
    """RMT forward pass over fixed weights (a dict name -> array), computed in `dtype`."""

    def __init__(self, config, weights, dtype=torch.float64):
        self.cfg = full_config(config)
        self.w = typed_weights("rmt", tensor_shapes(self.cfg), weights, dtype)

    def initial_memory(self):
        """M_0 [m, d] = the `memory` tensor as stored."""
        return self.w["memory"].clone()

    def _ln(self, prefix, x):
        return layer_norm(x, self.w[prefix + ".weight"], self.w[prefix + ".bias"])

    def forward_segment(self, segment, memory):
        """Runs one segment. Returns (logits [L_t, V], M_{t+1} [m, d], attention per layer [H, T, T])."""
        w, cfg = self.w, self.cfg
        m, n, d = cfg["n_mem"], len(segment), cfg["d_model"]
        t = 2 * m + n
        if t > cfg["n_positions"]:
            raise ValueError(f"segment of {n} tokens needs {t} positions, model has {cfg['n_positions']}")
        ids = torch.tensor(segment, dtype=torch.long)
        x = torch.cat([memory, w["transformer.wte.weight"][ids], memory], dim=0) + w["transformer.wpe.weight"][:t]
        allowed = segment_mask(cfg["mask"], m, n)
        attentions = []
        for l in range(cfg["n_layers"]):
            p = f"transformer.h.{l}"
            h = self._ln(p + ".ln_1", x)
            qkv = conv1d(h, w[p + ".attn.c_attn.weight"], w[p + ".attn.c_attn.bias"])  # [T, 3d]: q | k | v
            q, k, v = qkv[:, :d], qkv[:, d:2 * d], qkv[:, 2 * d:]
            ctx, probs = attention_core(q, k, v, cfg["n_heads"], allowed)
            attentions.append(probs)
            x = x + conv1d(ctx, w[p + ".attn.c_proj.weight"], w[p + ".attn.c_proj.bias"])
            h = self._ln(p + ".ln_2", x)
            h = gelu_tanh(conv1d(h, w[p + ".mlp.c_fc.weight"], w[p + ".mlp.c_fc.bias"]))
            x = x + conv1d(h, w[p + ".mlp.c_proj.weight"], w[p + ".mlp.c_proj.bias"])
        hf = self._ln("transformer.ln_f", x)
        logits = hf[m:m + n] @ w["transformer.wte.weight"].t()
        return logits, hf[m + n:], attentions

    def run_session(self, tokens):
        """Steps through `tokens` segment by segment.

        Returns one dict per segment t with: tokens, mem_in, mem_out, logits [L_t, V], attn (list over layers
        of [H, T, T]) and nll [L_t] in nats: token 0 is predicted by the last logits row of segment t-1 (NaN
        for t = 0), token j >= 1 by row j-1 of segment t.
        """
        memory = self.initial_memory()
        carry = None  # last logits row of the previous segment
        records = []
        for segment in split_segments(tokens, self.cfg["segment_len"]):
            logits, new_memory, attentions = self.forward_segment(segment, memory)
            nll = [float("nan") if carry is None else nll_from_logits(carry, segment[0])]
            nll += [nll_from_logits(logits[j - 1], segment[j]) for j in range(1, len(segment))]
            records.append({"tokens": segment, "mem_in": memory, "mem_out": new_memory, "logits": logits,
                            "attn": attentions, "nll": torch.tensor(nll, dtype=memory.dtype)})
            carry = logits[-1]
            memory = new_memory
        return records
