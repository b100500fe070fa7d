#!/usr/bin/env python3
"""Building blocks shared by the Memformer and RMT reference implementations.

Plain functions over torch tensors (no nn.Module state), written to follow DESIGN.md §3 literally: LayerNorm
with eps 1e-5, the two GELU variants, and multi-head attention that returns its probabilities so fixtures can
record them. Heads split the model dimension into contiguous blocks: head h owns columns h*d_h .. (h+1)*d_h-1.
The reference runs in float64; these helpers work in whatever dtype their inputs have.
"""

import math

import numpy as np
import torch

LN_EPS = 1e-5


def typed_weights(arch, shapes, weights, dtype):
    """{name: tensor in `dtype`} for every tensor of `shapes` ({name: shape}), from `weights` (a dict name ->
    array, read as float32 first); a tensor missing from `weights` raises KeyError naming `arch`, one of another
    shape ValueError."""
    out = {}
    for name, shape in shapes.items():
        if name not in weights:
            raise KeyError(f"{arch} weights lack {name}")
        value = torch.as_tensor(np.asarray(weights[name], dtype=np.float32)).to(dtype)
        if tuple(value.shape) != tuple(shape):
            raise ValueError(f"{name}: shape {tuple(value.shape)}, expected {shape}")
        out[name] = value
    return out


def layer_norm(x, weight, bias):
    """LayerNorm over the last dimension with eps 1e-5 (biased variance, like torch and the C core)."""
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + LN_EPS) * weight + bias


def gelu_erf(x):
    """Exact GELU: 0.5 x (1 + erf(x / sqrt 2)). Memformer's FFN."""
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def gelu_tanh(x):
    """GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). GPT-2 / RMT's FFN."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def linear(x, weight, bias):
    """nn.Linear convention: weight [out, in], y = x Wᵀ + b."""
    return x @ weight.t() + bias


def conv1d(x, weight, bias):
    """HF GPT-2 Conv1D convention: weight [in, out], y = x W + b."""
    return x @ weight + bias


def split_heads(x, n_heads):
    """[T, d] -> [H, T, d_h]."""
    t, d = x.shape
    return x.reshape(t, n_heads, d // n_heads).transpose(0, 1)


def merge_heads(x):
    """[H, T, d_h] -> [T, H * d_h]."""
    h, t, dh = x.shape
    return x.transpose(0, 1).reshape(t, h * dh)


def attention_core(q, k, v, n_heads, allowed=None):
    """Scaled dot-product attention over already projected q [Tq, d], k and v [Tk, d].

    `allowed` is an optional bool mask [Tq, Tk] (True = may attend); masked logits are -inf, so their
    probabilities are exactly 0. A row with nothing allowed is a bug and raises. Returns
    (context [Tq, d] with heads concatenated, probabilities [H, Tq, Tk]).
    """
    qh, kh, vh = split_heads(q, n_heads), split_heads(k, n_heads), split_heads(v, n_heads)
    d_h = qh.shape[-1]
    logits = qh @ kh.transpose(1, 2) / math.sqrt(d_h)  # [H, Tq, Tk]
    if allowed is not None:
        if not bool(allowed.any(dim=1).all()):
            raise ValueError("attention mask has a fully masked row")
        logits = logits.masked_fill(~allowed, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    return merge_heads(probs @ vh), probs


def causal_mask(t, device=None):
    """Lower-triangular bool mask [t, t]: row i may attend to columns 0..i."""
    return torch.ones(t, t, dtype=torch.bool, device=device).tril()


def nll_from_logits(logits_row, target):
    """Negative log-likelihood in nats of token `target` under one logits row [V]."""
    return float(-torch.log_softmax(logits_row, dim=-1)[int(target)])


def split_segments(tokens, segment_len):
    """Splits a token list into consecutive segments of `segment_len` (the last may be shorter)."""
    return [list(tokens[i:i + segment_len]) for i in range(0, len(tokens), segment_len)]
