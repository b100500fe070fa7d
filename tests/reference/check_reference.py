#!/usr/bin/env python3
"""Cross-checks the reference implementations against a second, differently built implementation.

memformer_ref.py, rmt_ref.py and membart_ref.py are the truth the C core is tested against, so they get their own test: here
the same models are rebuilt from torch's stock pieces (nn.MultiheadAttention with packed in-projections,
F.layer_norm, F.gelu), the writer is recomputed slot by slot and head by head with explicit loops, and the
RMT masks are rebuilt cell by cell from the DESIGN.md §3.2 sentences; MemBART's joint encoder attention is
recomputed row by row and head by head over the columns each row may see (its own slot and the tokens for a
memory row, everything for a token row), its decoder from nn.MultiheadAttention. Whole sessions must agree to 1e-10
in float64. Run: /usr/bin/python3 check_reference.py (exits non-zero on a mismatch).
"""

import math
import sys

import torch
import torch.nn.functional as F

import membart_ref
import memformer_ref
import rmt_ref
from make_fixtures import FIXTURE_INPUT, FIXTURE_MODELS, random_weights
from ref_common import gelu_erf, gelu_tanh

TOL = 1e-10
DT = torch.float64


def stock_attention(x_q, x_kv, w_q, b_q, w_k, b_k, w_v, b_v, w_o, b_o, n_heads, blocked=None):
    """nn.MultiheadAttention with nn.Linear-layout weights; `blocked` is True where attention is forbidden."""
    d = x_q.shape[-1]
    mha = torch.nn.MultiheadAttention(d, n_heads, batch_first=True, dtype=DT)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([w_q, w_k, w_v], dim=0))
        mha.in_proj_bias.copy_(torch.cat([b_q, b_k, b_v], dim=0))
        mha.out_proj.weight.copy_(w_o)
        mha.out_proj.bias.copy_(b_o)
        out, probs = mha(x_q[None], x_kv[None], x_kv[None], attn_mask=blocked, need_weights=True,
                         average_attn_weights=False)
    return out[0], probs[0]


def check(label, a, b, failures):
    err = (a - b).abs().max().item()
    if not err <= TOL:
        failures.append(f"{label}: differs by {err:.3g}")


# -- Memformer ------------------------------------------------------------------------------------------------

def memformer_stock_session(cfg, w, tokens):
    """Memformer session rebuilt from stock torch modules and loops."""
    cfg = memformer_ref.full_config(cfg)
    H, d, K, L = cfg["n_heads"], cfg["d_model"], cfg["n_slots"], cfg["segment_len"]
    d_h, tau = d // H, cfg["writer_temperature"]

    def ln(name, x):
        return F.layer_norm(x, (d,), w[name + ".weight"], w[name + ".bias"], eps=1e-5)

    def attn(prefix, x_q, x_kv, blocked=None):
        args = [w[f"{prefix}.{p}.{kind}"] for p in "qkvo" for kind in ("weight", "bias")]
        return stock_attention(x_q, x_kv, *args, H, blocked)

    def ffn(prefix, x):
        hidden = F.gelu(F.linear(x, w[prefix + ".fc1.weight"], w[prefix + ".fc1.bias"]))
        return F.linear(hidden, w[prefix + ".fc2.weight"], w[prefix + ".fc2.bias"])

    def writer(mem, enc):
        new = torch.zeros_like(mem)
        probs = torch.zeros(H, K, 1 + enc.shape[0], dtype=DT)
        q_all = F.linear(mem, w["writer.q.weight"], w["writer.q.bias"])
        ks_all = F.linear(mem, w["writer.k.weight"], w["writer.k.bias"])
        kt_all = F.linear(enc, w["writer.k.weight"], w["writer.k.bias"])
        vt_all = F.linear(enc, w["writer.v.weight"], w["writer.v.bias"])
        for i in range(K):
            u = torch.zeros(d, dtype=DT)
            for h in range(H):
                cols = slice(h * d_h, (h + 1) * d_h)
                scores = [float(q_all[i, cols] @ ks_all[i, cols])]
                scores += [float(q_all[i, cols] @ kt_all[j, cols]) for j in range(enc.shape[0])]
                scaled = [s / (math.sqrt(d_h) * tau) for s in scores]
                top = max(scaled)
                exps = [math.exp(s - top) for s in scaled]
                a = [e / sum(exps) for e in exps]
                probs[h, i] = torch.tensor(a, dtype=DT)
                u[cols] = a[0] * mem[i, cols]
                for j in range(enc.shape[0]):
                    u[cols] += a[1 + j] * vt_all[j, cols]
            shifted = u + w["memory.bias"][i]
            new[i] = shifted / math.sqrt(float(shifted @ shifted))
        return new, probs

    lm_head = w["tok_emb.weight"] if cfg["tie_embeddings"] else w["lm_head.weight"]
    bias = w["memory.bias"]
    mem = torch.stack([row / math.sqrt(float(row @ row)) for row in bias])
    segments = [tokens[i:i + L] for i in range(0, len(tokens), L)]
    out, prev = [], None
    for seg in segments:
        n = len(seg)
        rec = {"mem_in": mem.clone(), "logits": None}
        if prev is not None:
            y = w["tok_emb.weight"][[prev[0][-1]] + seg[:-1]] + w["dec.pos_emb.weight"][:n]
            future = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)
            for l in range(cfg["n_dec_layers"]):
                p = f"dec.layers.{l}"
                y = y + attn(p + ".self_attn", ln(p + ".ln1", y), ln(p + ".ln1", y), future)[0]
                y = y + attn(p + ".cross_attn", ln(p + ".ln2", y), prev[1])[0]
                y = y + ffn(p + ".ffn", ln(p + ".ln3", y))
            rec["logits"] = ln("dec.ln_f", y) @ lm_head.t()
        x = w["tok_emb.weight"][seg] + w["enc.pos_emb.weight"][:n]
        rec["reader"] = []
        for l in range(cfg["n_enc_layers"]):
            p = f"enc.layers.{l}"
            x = x + attn(p + ".self_attn", ln(p + ".ln1", x), ln(p + ".ln1", x))[0]
            o, probs = attn(p + ".mem_attn", ln(p + ".ln2", x), mem)
            x = x + o
            rec["reader"].append(probs)
            x = x + ffn(p + ".ffn", ln(p + ".ln3", x))
        enc = ln("enc.ln_f", x)
        mem, rec["writer"] = writer(mem, enc)
        rec["mem_out"] = mem
        out.append(rec)
        prev = (seg, enc)
    return out


# -- RMT ------------------------------------------------------------------------------------------------------

def literal_mask(kind, m, n):
    """The RMT mask built cell by cell from DESIGN.md's sentences; True = may attend."""
    t = 2 * m + n
    allowed = torch.zeros(t, t, dtype=torch.bool)
    for r in range(t):
        for c in range(t):
            if kind == "causal":
                allowed[r, c] = c <= r
            elif r < m:                      # read rows: the whole read block only
                allowed[r, c] = c < m
            elif r < m + n:                  # segment rows: read block and segment tokens up to themselves
                allowed[r, c] = c < m or (m <= c <= r)
            else:                            # write rows: everything
                allowed[r, c] = True
    return allowed


def rmt_stock_session(cfg, w, tokens):
    """RMT session rebuilt from stock torch modules (Conv1D weights transposed into nn.Linear layout)."""
    d, m, L = cfg["d_model"], cfg["n_mem"], cfg["segment_len"]

    def ln(name, x):
        return F.layer_norm(x, (d,), w[name + ".weight"], w[name + ".bias"], eps=1e-5)

    mem = w["memory"].clone()
    out = []
    for start in range(0, len(tokens), L):
        seg = tokens[start:start + L]
        n = len(seg)
        t = 2 * m + n
        x = torch.cat([mem, w["transformer.wte.weight"][seg], mem]) + w["transformer.wpe.weight"][:t]
        blocked = ~literal_mask(cfg["mask"], m, n)
        attns = []
        for l in range(cfg["n_layers"]):
            p = f"transformer.h.{l}"
            wq, wk, wv = w[p + ".attn.c_attn.weight"].t().split(d, dim=0)
            bq, bk, bv = w[p + ".attn.c_attn.bias"].split(d)
            h = ln(p + ".ln_1", x)
            o, probs = stock_attention(h, h, wq, bq, wk, bk, wv, bv, w[p + ".attn.c_proj.weight"].t(),
                                       w[p + ".attn.c_proj.bias"], cfg["n_heads"], blocked)
            x = x + o
            attns.append(probs)
            h = F.gelu(F.linear(ln(p + ".ln_2", x), w[p + ".mlp.c_fc.weight"].t(), w[p + ".mlp.c_fc.bias"]),
                       approximate="tanh")
            x = x + F.linear(h, w[p + ".mlp.c_proj.weight"].t(), w[p + ".mlp.c_proj.bias"])
        hf = ln("transformer.ln_f", x)
        out.append({"mem_in": mem, "logits": hf[m:m + n] @ w["transformer.wte.weight"].t(), "attn": attns,
                    "mem_out": hf[m + n:]})
        mem = hf[m + n:]
    return out


# -- MemBART --------------------------------------------------------------------------------------------------

def membart_stock_session(cfg, w, tokens):
    """MemBART session rebuilt from stock torch pieces and per-row, per-head loops."""
    cfg = membart_ref.full_config(cfg)
    d, K, L = cfg["d_model"], cfg["memory_len"], cfg["segment_len"]
    He, Hd = cfg["encoder_attention_heads"], cfg["decoder_attention_heads"]
    scale = math.sqrt(d) if cfg["scale_embedding"] else 1.0

    def ln(name, x):
        return F.layer_norm(x, (d,), w[name + ".weight"], w[name + ".bias"], eps=1e-5)

    def lin(name, x):
        return F.linear(x, w[name + ".weight"], w[name + ".bias"])

    def embed(side, ids):
        table = torch.nn.Embedding.from_pretrained(w["shared.weight"])
        pos = torch.nn.Embedding.from_pretrained(w[f"{side}.embed_positions.weight"])
        ids = torch.tensor(ids)
        return ln(f"{side}.layernorm_embedding", table(ids) * scale + pos(torch.arange(len(ids)) + 2))

    def attn(prefix, x_q, x_kv, heads, blocked=None):
        args = [w[f"{prefix}.{p}_proj.{kind}"] for p in ("q", "k", "v", "out") for kind in ("weight", "bias")]
        return stock_attention(x_q, x_kv, *args, heads, blocked)[0]

    out, memory, prev = [], torch.zeros(K, d, dtype=DT), None
    for start in range(0, len(tokens), L):
        seg = tokens[start:start + L]
        n = len(seg)
        rec = {"mem_in": memory, "logits": None}
        if prev is not None:
            y = embed("decoder", [cfg["bos_token_id"]] + seg[:-1])
            blocked = torch.ones(n, n, dtype=torch.bool).triu(1)
            src = torch.cat([memory, prev])
            for l in range(cfg["decoder_layers"]):
                p = f"decoder.layers.{l}"
                y = ln(p + ".self_attn_layer_norm", y + attn(p + ".self_attn", y, y, Hd, blocked))
                y = ln(p + ".encoder_attn_layer_norm", y + attn(p + ".encoder_attn", y, src, Hd))
                y = ln(p + ".final_layer_norm", y + lin(p + ".fc2", F.gelu(lin(p + ".fc1", y))))
            rec["logits"] = y @ w["shared.weight"].t() + w["final_logits_bias"][0]
        old = ln("encoder.memory_layer_norm", memory + w["encoder.memory_bias"][0])
        m, x = old, embed("encoder", seg)
        reads, writes = [], []
        for l in range(cfg["encoder_layers"]):
            p = f"encoder.layers.{l}.self_attn"
            q = torch.cat([lin(p + ".mem_q_proj", m), lin(p + ".q_proj", x)])
            k = torch.cat([lin(p + ".mem_k_proj", m), lin(p + ".k_proj", x)])
            v = torch.cat([lin(p + ".mem_v_proj", m), lin(p + ".v_proj", x)])
            dh = d // He
            probs = torch.zeros(He, K + n, K + n, dtype=DT)
            ctx = torch.zeros(K + n, d, dtype=DT)
            for i in range(K + n):
                cols = [i] + list(range(K, K + n)) if i < K else list(range(K + n))
                for h in range(He):
                    sl = slice(h * dh, (h + 1) * dh)
                    a = torch.softmax(torch.stack([q[i, sl] @ k[j, sl] for j in cols]) / math.sqrt(dh), dim=0)
                    probs[h, i, cols] = a
                    ctx[i, sl] = sum(a[c] * v[j, sl] for c, j in enumerate(cols))
            reads.append(probs[:, K:, :K])
            writes.append(torch.stack([torch.cat([probs[h, i, i:i + 1], probs[h, i, K:]])
                                       for h in range(He) for i in range(K)]).reshape(He, K, 1 + n))
            L_ = f"encoder.layers.{l}"
            x = ln(L_ + ".self_attn_layer_norm", x + lin(p + ".out_proj", ctx[K:]))
            x = ln(L_ + ".final_layer_norm", x + lin(L_ + ".fc2", F.gelu(lin(L_ + ".fc1", x))))
            m = ln(L_ + ".mem_self_attn_layer_norm", m + lin(p + ".mem_out_proj", ctx[:K]))
            m = ln(L_ + ".mem_final_layer_norm", m + lin(L_ + ".mem_fc2", F.gelu(lin(L_ + ".mem_fc1", m))))
        gate = torch.sigmoid(lin("encoder.memory_gate_net.dense2", F.gelu(lin("encoder.memory_gate_net.dense", m))))
        memory = gate * m + (1 - gate) * old
        rec.update(mem_out=memory, gate=gate[:, 0], membart_read=reads, membart_write=writes)
        out.append(rec)
        prev = x
    return out


def main():
    failures = []
    tokens = list(FIXTURE_INPUT)
    for seed in (1234, 99):
        for name, (arch, cfg, _) in FIXTURE_MODELS.items():
            weights = random_weights(arch, cfg, seed)
            w64 = {k: v.to(DT) for k, v in weights.items()}
            if arch == "membart":
                ours = membart_ref.MemBart(cfg, {k: v.numpy() for k, v in weights.items()}).run_session(tokens)
                theirs = membart_stock_session(cfg, w64, tokens)
                maps = ("membart_read", "membart_write")
            elif arch == "memformer":
                ours = memformer_ref.Memformer(cfg, {k: v.numpy() for k, v in weights.items()}).run_session(tokens)
                theirs = memformer_stock_session(cfg, w64, tokens)
                maps = ("reader",)
            else:
                ours = rmt_ref.RMT(cfg, {k: v.numpy() for k, v in weights.items()}).run_session(tokens)
                theirs = rmt_stock_session(rmt_ref.full_config(cfg), w64, tokens)
                maps = ("attn",)
                for n in (1, 5, 8):
                    check(f"{name} mask n={n}", rmt_ref.segment_mask(cfg["mask"], cfg["n_mem"], n).int(),
                          literal_mask(cfg["mask"], cfg["n_mem"], n).int(), failures)
            for t, (a, b) in enumerate(zip(ours, theirs)):
                label = f"seed {seed} {name} seg {t}"
                extra = ("writer",) if arch == "memformer" else ("gate",) if arch == "membart" else ()
                for key in ("mem_in", "mem_out") + extra:
                    check(f"{label} {key}", a[key], b[key], failures)
                if (a["logits"] is None) != (b["logits"] is None):
                    failures.append(f"{label}: logits present in one implementation only")
                elif a["logits"] is not None:
                    check(f"{label} logits", a["logits"], b["logits"], failures)
                for key in maps:
                    for l, (pa, pb) in enumerate(zip(a[key], b[key])):
                        check(f"{label} {key}.{l}", pa, pb, failures)
            print(f"seed {seed} {name}: compared {len(ours)} segments")
    x = torch.linspace(-6, 6, 101, dtype=DT)
    check("gelu_erf", gelu_erf(x), F.gelu(x), failures)
    check("gelu_tanh", gelu_tanh(x), F.gelu(x, approximate="tanh"), failures)
    for failure in failures:
        print("MISMATCH", failure)
    print("check_reference:", "FAILED" if failures else "reference agrees with the stock-module rebuild")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
