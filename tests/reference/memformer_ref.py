#!/usr/bin/env python3
"""Independent PyTorch reference of Memformer as Memscope defines it (DESIGN.md §3.1).

Plain functions over a dict of weights named exactly as in the model file, run in float64 to serve as the
truth the C core is checked against. An encoder (pre-LN; self-attention, memory read, FFN per layer) turns a
segment into H; a slot-attention writer updates the K unit-norm memory slots; a decoder predicts a segment
from the previous segment's H. `run_session` follows Memscope's stepping convention: step t first decodes
segment t from the stored H_{t-1} (t > 0), then encodes segment t reading M_t and writes M_{t+1}.
"""

import math

import torch

from ref_common import (attention_core, causal_mask, gelu_erf, layer_norm, linear, nll_from_logits,
                        split_heads, split_segments, typed_weights)

DEFAULTS = {"writer_temperature": 0.5, "tie_embeddings": True}
REQUIRED = ("vocab_size", "d_model", "n_heads", "d_ff", "n_enc_layers", "n_dec_layers", "n_slots",
            "segment_len")


def full_config(config):
    """Returns `config` with defaults filled in, after checking the fields DESIGN.md §3.1 requires."""
    cfg = dict(DEFAULTS)
    cfg.update(config)
    missing = [k for k in REQUIRED if k not in cfg]
    if missing:
        raise ValueError(f"memformer config lacks {missing}")
    if cfg["d_model"] % cfg["n_heads"]:
        raise ValueError("memformer d_model must be a multiple of n_heads")
    return cfg


def _block_shapes(prefix, d):
    """Shapes of one attention block's q, k, v, o nn.Linear(d, d) layers."""
    shapes = {}
    for p in ("q", "k", "v", "o"):
        shapes[f"{prefix}.{p}.weight"] = (d, d)
        shapes[f"{prefix}.{p}.bias"] = (d,)
    return shapes


def _layer_shapes(prefix, d, d_ff, attn_names):
    shapes = {}
    for ln in ("ln1", "ln2", "ln3"):
        shapes[f"{prefix}.{ln}.weight"] = (d,)
        shapes[f"{prefix}.{ln}.bias"] = (d,)
    for name in attn_names:
        shapes.update(_block_shapes(f"{prefix}.{name}", d))
    shapes[f"{prefix}.ffn.fc1.weight"] = (d_ff, d)
    shapes[f"{prefix}.ffn.fc1.bias"] = (d_ff,)
    shapes[f"{prefix}.ffn.fc2.weight"] = (d, d_ff)
    shapes[f"{prefix}.ffn.fc2.bias"] = (d,)
    return shapes


def tensor_shapes(config):
    """Every tensor a Memformer model file must hold, name -> shape, in a stable order."""
    cfg = full_config(config)
    v, d, L, K, d_ff = cfg["vocab_size"], cfg["d_model"], cfg["segment_len"], cfg["n_slots"], cfg["d_ff"]
    shapes = {"tok_emb.weight": (v, d), "enc.pos_emb.weight": (L, d), "dec.pos_emb.weight": (L, d)}
    for l in range(cfg["n_enc_layers"]):
        shapes.update(_layer_shapes(f"enc.layers.{l}", d, d_ff, ("self_attn", "mem_attn")))
    shapes["enc.ln_f.weight"] = (d,)
    shapes["enc.ln_f.bias"] = (d,)
    for p in ("q", "k", "v"):
        shapes[f"writer.{p}.weight"] = (d, d)
        shapes[f"writer.{p}.bias"] = (d,)
    shapes["memory.bias"] = (K, d)
    for l in range(cfg["n_dec_layers"]):
        shapes.update(_layer_shapes(f"dec.layers.{l}", d, d_ff, ("self_attn", "cross_attn")))
    shapes["dec.ln_f.weight"] = (d,)
    shapes["dec.ln_f.bias"] = (d,)
    if not cfg["tie_embeddings"]:
        shapes["lm_head.weight"] = (v, d)
    return shapes


# Standard deviations of the random initialisation. Query/key weights are large enough that attention is
# clearly non-uniform (a wrong mask, scale or index in the C core changes the numbers a lot); value/output
# weights are small so the residual stream stays O(1) and float32 rounding stays far below the 1e-4 parity
# tolerance. Memory rows have unit norm while token rows have norm ~sqrt(d), so the projections applied to
# memory (mem_attn.k, writer.q) get larger weights and the writer's input H is scaled down (enc.ln_f gain):
# that way the writer's self column gets real mass, which is what tests its raw-slot self value.
INIT_STD = {"emb": 0.5, "pos": 0.5, "qk": 0.3, "mem_qk": 1.2, "writer_k": 1.0, "vo": 0.18, "fc1": 0.3,
            "fc2": 0.15, "ln_gain": 0.1, "bias": 0.1, "memory": 1.0, "enc_out_gain": 0.3}


def init_weights(config, generator, std=None):
    """Random float32 weights for `config`, drawn from `generator` (a torch.Generator)."""
    s = dict(INIT_STD)
    s.update(std or {})
    weights = {}
    for name, shape in tensor_shapes(config).items():
        noise = torch.randn(shape, generator=generator, dtype=torch.float64)
        if name in ("tok_emb.weight", "lm_head.weight"):
            value = s["emb"] * noise
        elif name.endswith("pos_emb.weight"):
            value = s["pos"] * noise
        elif name == "memory.bias":
            value = s["memory"] * noise
        elif name == "enc.ln_f.weight":
            value = s["enc_out_gain"] * (1.0 + s["ln_gain"] * noise)
        elif ".ln" in name and name.endswith(".weight"):
            value = 1.0 + s["ln_gain"] * noise
        elif name.endswith(".bias"):
            value = s["bias"] * noise
        elif ".fc1." in name:
            value = s["fc1"] * noise
        elif ".fc2." in name:
            value = s["fc2"] * noise
        elif name == "writer.q.weight" or name.endswith("mem_attn.k.weight"):
            value = s["mem_qk"] * noise
        elif name == "writer.k.weight":
            value = s["writer_k"] * noise
        elif name.endswith((".q.weight", ".k.weight")):
            value = s["qk"] * noise
        else:  # v and o projections
            value = s["vo"] * noise
        weights[name] = value.to(torch.float32)
    return weights


class Memformer:
    """Memformer forward pass over fixed weights (a dict name -> array), computed in `dtype`."""

    def __init__(self, config, weights, dtype=torch.float64):
        self.cfg = full_config(config)
        self.w = typed_weights("memformer", tensor_shapes(self.cfg), weights, dtype)
        self.lm_head = self.w["tok_emb.weight"] if self.cfg["tie_embeddings"] else self.w["lm_head.weight"]
        self.n_heads = self.cfg["n_heads"]
        self.d_h = self.cfg["d_model"] // self.n_heads

    # -- pieces ---------------------------------------------------------------------------------------------

    def _ln(self, prefix, x):
        return layer_norm(x, self.w[prefix + ".weight"], self.w[prefix + ".bias"])

    def _attend(self, prefix, x_q, x_kv, allowed=None):
        """One attention block: q from x_q, k and v from x_kv, then the o projection. Returns (out, probs)."""
        w = self.w
        q = linear(x_q, w[prefix + ".q.weight"], w[prefix + ".q.bias"])
        k = linear(x_kv, w[prefix + ".k.weight"], w[prefix + ".k.bias"])
        v = linear(x_kv, w[prefix + ".v.weight"], w[prefix + ".v.bias"])
        ctx, probs = attention_core(q, k, v, self.n_heads, allowed)
        return linear(ctx, w[prefix + ".o.weight"], w[prefix + ".o.bias"]), probs

    def _ffn(self, prefix, x):
        w = self.w
        hidden = gelu_erf(linear(x, w[prefix + ".fc1.weight"], w[prefix + ".fc1.bias"]))
        return linear(hidden, w[prefix + ".fc2.weight"], w[prefix + ".fc2.bias"])

    # -- the three stages -----------------------------------------------------------------------------------

    def initial_memory(self):
        """M_0 [K, d]: memory.bias rows scaled to unit L2 norm."""
        b = self.w["memory.bias"]
        return b / b.norm(dim=1, keepdim=True)

    def encode(self, segment, memory):
        """Encodes token ids `segment` (length L_t) reading `memory` [K, d].

        Returns (H [L_t, d], reader probabilities per encoder layer, each [H, L_t, K]).
        """
        n = len(segment)
        ids = torch.tensor(segment, dtype=torch.long)
        x = self.w["tok_emb.weight"][ids] + self.w["enc.pos_emb.weight"][:n]
        readers = []
        for l in range(self.cfg["n_enc_layers"]):
            p = f"enc.layers.{l}"
            h = self._ln(p + ".ln1", x)
            out, _ = self._attend(p + ".self_attn", h, h)  # bidirectional: no mask
            x = x + out
            out, read = self._attend(p + ".mem_attn", self._ln(p + ".ln2", x), memory)
            x = x + out
            readers.append(read)
            x = x + self._ffn(p + ".ffn", self._ln(p + ".ln3", x))
        return self._ln("enc.ln_f", x), readers

    def write(self, memory, encoded):
        """Slot-attention writer and biased normalisation: M_t [K, d], H [L_t, d] -> (M_{t+1}, W [H, K, 1+L_t]).

        Column 0 of W is each slot's weight on itself; its value is the raw slot head slice M_t[i]^(h).
        """
        w = self.w
        n_heads, tau = self.n_heads, self.cfg["writer_temperature"]
        q = split_heads(linear(memory, w["writer.q.weight"], w["writer.q.bias"]), n_heads)   # [H, K, d_h]
        k_self = split_heads(linear(memory, w["writer.k.weight"], w["writer.k.bias"]), n_heads)
        k_tok = split_heads(linear(encoded, w["writer.k.weight"], w["writer.k.bias"]), n_heads)  # [H, L, d_h]
        v_tok = split_heads(linear(encoded, w["writer.v.weight"], w["writer.v.bias"]), n_heads)
        v_self = split_heads(memory, n_heads)                                                   # [H, K, d_h]

        self_logit = (q * k_self).sum(dim=-1, keepdim=True)                                     # [H, K, 1]
        token_logits = q @ k_tok.transpose(1, 2)                                                # [H, K, L]
        logits = torch.cat([self_logit, token_logits], dim=-1) / (math.sqrt(self.d_h) * tau)
        probs = torch.softmax(logits, dim=-1)                                                   # [H, K, 1+L]

        u = probs[..., :1] * v_self + probs[..., 1:] @ v_tok                                   # [H, K, d_h]
        u = u.transpose(0, 1).reshape(memory.shape)                                             # [K, d]
        shifted = u + w["memory.bias"]
        return shifted / shifted.norm(dim=1, keepdim=True), probs

    def decode(self, inputs, encoded):
        """Decoder over input ids `inputs` (length L_t) cross-attending to `encoded` [L_prev, d].

        Returns logits [L_t, V]; row j predicts the token after inputs[j].
        """
        n = len(inputs)
        ids = torch.tensor(inputs, dtype=torch.long)
        y = self.w["tok_emb.weight"][ids] + self.w["dec.pos_emb.weight"][:n]
        mask = causal_mask(n)
        for l in range(self.cfg["n_dec_layers"]):
            p = f"dec.layers.{l}"
            h = self._ln(p + ".ln1", y)
            out, _ = self._attend(p + ".self_attn", h, h, mask)
            y = y + out
            out, _ = self._attend(p + ".cross_attn", self._ln(p + ".ln2", y), encoded)
            y = y + out
            y = y + self._ffn(p + ".ffn", self._ln(p + ".ln3", y))
        return self._ln("dec.ln_f", y) @ self.lm_head.t()

    # -- a whole session ------------------------------------------------------------------------------------

    def run_session(self, tokens):
        """Steps through `tokens` segment by segment (Memscope's session convention).

        Returns one dict per segment t with: tokens, mem_in M_t, mem_out M_{t+1}, logits [L_t, V] (None for
        t = 0), nll [L_t] in nats (all NaN for t = 0), reader (list over encoder layers of [H, L_t, K]) and
        writer [H, K, 1+L_t].
        """
        segments = split_segments(tokens, self.cfg["segment_len"])
        memory = self.initial_memory()
        previous = None  # (segment tokens, H) of segment t-1
        records = []
        for t, segment in enumerate(segments):
            record = {"tokens": segment, "mem_in": memory, "logits": None,
                      "nll": torch.full((len(segment),), float("nan"), dtype=memory.dtype)}
            if previous is not None:
                prev_tokens, prev_encoded = previous
                inputs = [prev_tokens[-1]] + segment[:-1]
                logits = self.decode(inputs, prev_encoded)
                record["logits"] = logits
                record["nll"] = torch.tensor([nll_from_logits(logits[j], segment[j]) for j in range(len(segment))],
                                             dtype=memory.dtype)
            encoded, readers = self.encode(segment, memory)
            memory, writer = self.write(memory, encoded)
            record.update(mem_out=memory, reader=readers, writer=writer)
            records.append(record)
            previous = (segment, encoded)
        return records
