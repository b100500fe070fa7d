#!/usr/bin/env python3
"""Independent PyTorch reference of MemBART as Memscope defines it (core/README.md, "MemBART").

MemBART is the first author's public Memformer: a BART encoder-decoder whose encoder carries K memory rows
through every layer beside the tokens. Written from a reading of the public code (qywu/memformers), in plain
float64 functions over a dict of weights named as in the Memscope model file: the public model's state_dict
keys without the `model.` prefix, the tied copies (encoder/decoder embed_tokens, lm_head) left out.

One step over segment x_t (n tokens) with the carried memory M_t [K, d] (M_0 = 0):

    M~  = LN_mem(M_t + memory_bias)                              # the memory the layers start from
    X   = LN_emb(shared[x_t] * s + pos_enc[2 .. n+1])            # s = sqrt(d) if scale_embedding else 1
    per encoder layer (post-LN), one attention over the K + n rows [M~; X]:
        queries/keys/values of memory rows use mem_{q,k,v}_proj, of token rows {q,k,v}_proj;
        a memory row may attend to its own slot and to every token; a token row to every slot and token;
        M~ = LN(M~ + mem_out_proj(ctx_mem));  M~ = LN(M~ + mem_fc2(gelu(mem_fc1(M~))))
        X  = LN(X + out_proj(ctx_tok));       X  = LN(X + fc2(gelu(fc1(X))))
    alpha   = sigmoid(dense2(gelu(dense(M~))))                   # [K, 1], one gate per slot
    M_{t+1} = alpha * M~ + (1 - alpha) * LN_mem(M_t + memory_bias)
    H_t     = X

The decoder (BART's, post-LN, learned positions with offset 2, embedding LayerNorm) reads the tokens
y = [bos, x_t[0 .. n-2]] causally and cross-attends to [M_{t+1}; H_t] with no mask, as the public model's
encoder output is that concatenation; logits = Y shared^T + final_logits_bias.

Memscope's stepping (run_session): step t first predicts segment t from the previous step's encoder output
[M_t; H_{t-1}] (teacher-forced from bos, as the public fine-tuning code feeds its decoder), then encodes
segment t with M_t and writes M_{t+1}. Segment 0 has no prediction (NaN). Segments are fed as they are, with
no <s> ... </s> around them, so every encoder position is one of the segment's tokens.
"""

import math

import torch

from ref_common import (attention_core, causal_mask, gelu_erf, layer_norm, linear, nll_from_logits, split_segments,
                        typed_weights)

POSITION_OFFSET = 2  # BART's learned positions start at row 2 of the table
DEFAULTS = {"activation_function": "gelu", "scale_embedding": False, "bos_token_id": 0}
REQUIRED = ("vocab_size", "d_model", "encoder_layers", "decoder_layers", "encoder_attention_heads",
            "decoder_attention_heads", "encoder_ffn_dim", "decoder_ffn_dim", "memory_len",
            "max_position_embeddings", "segment_len")


def full_config(config):
    """Returns `config` with defaults filled in, after checking what the engine needs."""
    cfg = dict(DEFAULTS)
    cfg.update(config)
    missing = [k for k in REQUIRED if k not in cfg]
    if missing:
        raise ValueError(f"membart config lacks {missing}")
    for key in ("encoder_attention_heads", "decoder_attention_heads"):
        if cfg["d_model"] % cfg[key]:
            raise ValueError(f"membart d_model must be a multiple of {key}")
    if cfg["activation_function"] != "gelu":
        raise ValueError("membart activation_function must be 'gelu'")
    if cfg["segment_len"] > cfg["max_position_embeddings"]:
        raise ValueError("membart segment_len must be at most max_position_embeddings")
    return cfg


def _linear_shapes(prefix, out, inp):
    return {f"{prefix}.weight": (out, inp), f"{prefix}.bias": (out,)}


def _ln_shapes(prefix, d):
    return {f"{prefix}.weight": (d,), f"{prefix}.bias": (d,)}


def tensor_shapes(config):
    """Every tensor a MemBART model file must hold, name -> shape, in a stable order."""
    cfg = full_config(config)
    v, d, K = cfg["vocab_size"], cfg["d_model"], cfg["memory_len"]
    positions = cfg["max_position_embeddings"] + POSITION_OFFSET
    shapes = {"shared.weight": (v, d), "encoder.embed_positions.weight": (positions, d)}
    shapes.update(_ln_shapes("encoder.layernorm_embedding", d))
    for l in range(cfg["encoder_layers"]):
        p = f"encoder.layers.{l}"
        for proj in ("q", "k", "v", "out", "mem_q", "mem_k", "mem_v", "mem_out"):
            shapes.update(_linear_shapes(f"{p}.self_attn.{proj}_proj", d, d))
        shapes.update(_ln_shapes(f"{p}.self_attn_layer_norm", d))
        shapes.update(_linear_shapes(f"{p}.fc1", cfg["encoder_ffn_dim"], d))
        shapes.update(_linear_shapes(f"{p}.fc2", d, cfg["encoder_ffn_dim"]))
        shapes.update(_ln_shapes(f"{p}.final_layer_norm", d))
        shapes.update(_ln_shapes(f"{p}.mem_self_attn_layer_norm", d))
        shapes.update(_linear_shapes(f"{p}.mem_fc1", cfg["encoder_ffn_dim"], d))
        shapes.update(_linear_shapes(f"{p}.mem_fc2", d, cfg["encoder_ffn_dim"]))
        shapes.update(_ln_shapes(f"{p}.mem_final_layer_norm", d))
    shapes.update(_ln_shapes("encoder.memory_layer_norm", d))
    shapes["encoder.memory_bias"] = (1, K, d)
    shapes.update(_linear_shapes("encoder.memory_gate_net.dense", d, d))
    shapes.update(_linear_shapes("encoder.memory_gate_net.dense2", 1, d))
    shapes["decoder.embed_positions.weight"] = (positions, d)
    shapes.update(_ln_shapes("decoder.layernorm_embedding", d))
    for l in range(cfg["decoder_layers"]):
        p = f"decoder.layers.{l}"
        for attn in ("self_attn", "encoder_attn"):
            for proj in ("q", "k", "v", "out"):
                shapes.update(_linear_shapes(f"{p}.{attn}.{proj}_proj", d, d))
            shapes.update(_ln_shapes(f"{p}.{attn}_layer_norm", d))
        shapes.update(_linear_shapes(f"{p}.fc1", cfg["decoder_ffn_dim"], d))
        shapes.update(_linear_shapes(f"{p}.fc2", d, cfg["decoder_ffn_dim"]))
        shapes.update(_ln_shapes(f"{p}.final_layer_norm", d))
    shapes["final_logits_bias"] = (1, v)
    return shapes


# Standard deviations of the random initialisation. Post-LN keeps every stream O(1) per element, so query
# and key weights of 0.35 make attention clearly non-uniform (a wrong mask, scale or index shows); the
# memory rows' keys get larger weights so a slot's own column carries real mass beside the tokens; the gate's
# second layer is large enough that alpha spreads over (0, 1) instead of sitting at 1/2.
INIT_STD = {"emb": 0.15, "pos": 0.5, "qk": 0.3, "mem_qk": 0.3, "vo": 0.25, "fc1": 0.3, "fc2": 0.2,
            "ln_gain": 0.1, "bias": 0.1, "memory": 1.0, "gate": 0.3, "gate_out": 0.3, "logits_bias": 0.1}


def init_weights(config, generator, std=None):
    """Random float32 weights for `config`, drawn from `generator` (a torch.Generator)."""
    s = dict(INIT_STD)
    s.update(std or {})
    weights = {}
    for name, shape in tensor_shapes(config).items():
        noise = torch.randn(shape, generator=generator, dtype=torch.float64)
        if name == "shared.weight":
            value = s["emb"] * noise
        elif name.endswith("embed_positions.weight"):
            value = s["pos"] * noise
        elif name == "encoder.memory_bias":
            value = s["memory"] * noise
        elif name == "final_logits_bias":
            value = s["logits_bias"] * noise
        elif "layer_norm" in name or "layernorm" in name:
            value = (1.0 + s["ln_gain"] * noise) if name.endswith(".weight") else s["bias"] * noise
        elif name.endswith(".bias"):
            value = s["bias"] * noise
        elif "memory_gate_net.dense2" in name:
            value = s["gate_out"] * noise
        elif "memory_gate_net.dense" in name:
            value = s["gate"] * noise
        elif ".mem_q_proj." in name or ".mem_k_proj." in name:
            value = s["mem_qk"] * noise
        elif name.endswith(("q_proj.weight", "k_proj.weight")):
            value = s["qk"] * noise
        elif "fc1" in name:
            value = s["fc1"] * noise
        elif "fc2" in name:
            value = s["fc2"] * noise
        else:  # v and out projections
            value = s["vo"] * noise
        weights[name] = value.to(torch.float32)
    return weights


class MemBart:
    """MemBART forward pass over fixed weights (a dict name -> array), computed in `dtype`."""

    def __init__(self, config, weights, dtype=torch.float64):
        self.cfg = full_config(config)
        self.w = typed_weights("membart", tensor_shapes(self.cfg), weights, dtype)
        self.dtype = dtype
        d = self.cfg["d_model"]
        self.embed_scale = math.sqrt(d) if self.cfg["scale_embedding"] else 1.0

    # -- pieces ---------------------------------------------------------------------------------------------

    def _lin(self, prefix, x):
        return linear(x, self.w[prefix + ".weight"], self.w[prefix + ".bias"])

    def _ln(self, prefix, x):
        return layer_norm(x, self.w[prefix + ".weight"], self.w[prefix + ".bias"])

    def _embed(self, side, ids):
        n = len(ids)
        x = self.w["shared.weight"][torch.tensor(ids, dtype=torch.long)] * self.embed_scale
        x = x + self.w[f"{side}.embed_positions.weight"][POSITION_OFFSET:POSITION_OFFSET + n]
        return self._ln(f"{side}.layernorm_embedding", x)

    def _attend(self, prefix, x_q, x_kv, n_heads, allowed=None):
        q = self._lin(prefix + ".q_proj", x_q)
        k = self._lin(prefix + ".k_proj", x_kv)
        v = self._lin(prefix + ".v_proj", x_kv)
        ctx, probs = attention_core(q, k, v, n_heads, allowed)
        return self._lin(prefix + ".out_proj", ctx), probs

    def memory_start(self, memory):
        """LN_mem(M_t + memory_bias): the memory the encoder layers start from, and the gate's old memory."""
        return self._ln("encoder.memory_layer_norm", memory + self.w["encoder.memory_bias"][0])

    def initial_memory(self):
        """M_0 [K, d]: zeros, as the public code constructs it."""
        return torch.zeros(self.cfg["memory_len"], self.cfg["d_model"], dtype=self.dtype)

    # -- encoder and memory update ------------------------------------------------------------------------

    def joint_mask(self, n):
        """Bool mask [K+n, K+n] of the encoder's one attention: memory row i sees slot i and every token."""
        K = self.cfg["memory_len"]
        allowed = torch.ones(K + n, K + n, dtype=torch.bool)
        allowed[:K, :K] = torch.eye(K, dtype=torch.bool)
        return allowed

    def encode(self, segment, memory):
        """Encodes token ids `segment` (length n) with the carried memory M_t [K, d].

        Returns (H [n, d], M_{t+1} [K, d], alpha [K], read per layer [H, n, K], write per layer [H, K, 1+n]).
        Read: the token rows' weights on the memory columns. Write: each memory row's weight on its own slot
        (column 0) and on the tokens.
        """
        cfg, w = self.cfg, self.w
        K, n, heads = cfg["memory_len"], len(segment), cfg["encoder_attention_heads"]
        old = self.memory_start(memory)
        m = old
        x = self._embed("encoder", segment)
        allowed = self.joint_mask(n)
        reads, writes = [], []
        for l in range(cfg["encoder_layers"]):
            p = f"encoder.layers.{l}.self_attn"
            q = torch.cat([self._lin(p + ".mem_q_proj", m), self._lin(p + ".q_proj", x)])
            k = torch.cat([self._lin(p + ".mem_k_proj", m), self._lin(p + ".k_proj", x)])
            v = torch.cat([self._lin(p + ".mem_v_proj", m), self._lin(p + ".v_proj", x)])
            ctx, probs = attention_core(q, k, v, heads, allowed)            # probs [H, K+n, K+n]
            reads.append(probs[:, K:, :K])
            diagonal = torch.diagonal(probs[:, :K, :K], dim1=1, dim2=2).unsqueeze(-1)
            writes.append(torch.cat([diagonal, probs[:, :K, K:]], dim=-1))
            L = f"encoder.layers.{l}"
            x = self._ln(L + ".self_attn_layer_norm", x + self._lin(p + ".out_proj", ctx[K:]))
            x = self._ln(L + ".final_layer_norm", x + self._lin(L + ".fc2", gelu_erf(self._lin(L + ".fc1", x))))
            m = self._ln(L + ".mem_self_attn_layer_norm", m + self._lin(p + ".mem_out_proj", ctx[:K]))
            m = self._ln(L + ".mem_final_layer_norm",
                         m + self._lin(L + ".mem_fc2", gelu_erf(self._lin(L + ".mem_fc1", m))))
        gate = "encoder.memory_gate_net"
        alpha = torch.sigmoid(self._lin(gate + ".dense2", gelu_erf(self._lin(gate + ".dense", m))))  # [K, 1]
        new_memory = alpha * m + (1 - alpha) * old
        return x, new_memory, alpha[:, 0], reads, writes

    # -- decoder ------------------------------------------------------------------------------------------

    def decode(self, inputs, encoder_out):
        """BART decoder over input ids `inputs` (length n) cross-attending to `encoder_out` [K + n_prev, d].

        Returns logits [n, V]; row j predicts the token after inputs[j].
        """
        cfg = self.cfg
        heads = cfg["decoder_attention_heads"]
        y = self._embed("decoder", inputs)
        mask = causal_mask(len(inputs))
        for l in range(cfg["decoder_layers"]):
            p = f"decoder.layers.{l}"
            out, _ = self._attend(p + ".self_attn", y, y, heads, mask)
            y = self._ln(p + ".self_attn_layer_norm", y + out)
            out, _ = self._attend(p + ".encoder_attn", y, encoder_out, heads)
            y = self._ln(p + ".encoder_attn_layer_norm", y + out)
            y = self._ln(p + ".final_layer_norm", y + self._lin(p + ".fc2", gelu_erf(self._lin(p + ".fc1", y))))
        return y @ self.w["shared.weight"].t() + self.w["final_logits_bias"][0]

    # -- a whole session ----------------------------------------------------------------------------------

    def run_session(self, tokens):
        """Steps through `tokens` segment by segment (Memscope's session convention, see the module doc).

        Returns one dict per segment t with: tokens, mem_in M_t, mem_out M_{t+1}, logits [n, V] (None for
        t = 0), nll [n] (NaN for t = 0), gate alpha [K], membart_read and membart_write (lists over encoder
        layers of [H, n, K] and [H, K, 1+n]).
        """
        segments = split_segments(tokens, self.cfg["segment_len"])
        memory = self.initial_memory()
        previous = None  # H_{t-1}
        records = []
        for segment in segments:
            record = {"tokens": segment, "mem_in": memory, "logits": None,
                      "nll": torch.full((len(segment),), float("nan"), dtype=self.dtype)}
            if previous is not None:
                logits = self.decode([self.cfg["bos_token_id"]] + segment[:-1], torch.cat([memory, previous]))
                record["logits"] = logits
                record["nll"] = torch.tensor([nll_from_logits(logits[j], segment[j]) for j in range(len(segment))],
                                             dtype=self.dtype)
            encoded, memory, alpha, reads, writes = self.encode(segment, memory)
            record.update(mem_out=memory, gate=alpha, membart_read=reads, membart_write=writes)
            records.append(record)
            previous = encoded
        return records
