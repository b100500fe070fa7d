#!/usr/bin/env python3
"""Trains the small Memformer and RMT models Memscope ships, on the copy and recall tasks (tasks.py).

The forward passes here are batched float32 versions of memformer_ref.py / rmt_ref.py (DESIGN.md §3), with
parameters named exactly as in the model file; `--self-check` (and every run, before training) compares them
with the float64 references on two instances (logits and memory within 1e-4), so what is trained is what the
C core runs. Training is backpropagation through time over all segments of an instance (6 to 8 segments of
L tokens; the whole graph fits, so no truncation and no memory replay are needed), cross-entropy on the
answer tokens only, AdamW with a linear warm-up and a constant rate afterwards, gradient clipping at 1.

Deterministic for a given command line: torch runs on one thread, weights come from torch.manual_seed(SEED),
training instances from the tasks.py stream seeded with 1_000_003 * (SEED + 1) (never the small seeds eval
uses), and the run stops either after --steps steps or, at a check every --check-every steps, once accuracy
on 512 held-out instances (stream seed 7_000_001 + SEED) reaches --stop-at; both are functions of the command
line alone. The model file's memscope.source records the exact command line (with --steps set to the steps
actually run, which reproduces the file byte for byte), and the per-token accuracy of the final model on
1000 fresh instances of the seed-0 stream (the stream `memscope-cli eval` uses by default) with and without
the memory reset at every segment, computed here in float32 — `memscope-cli eval` is the authority.

usage: /usr/bin/python3 tests/reference/train.py --arch memformer|rmt --task copy|recall --seed S --steps N
       --out FILE [--d-model 64 --n-heads 4 --layers 2 --d-ff 256 --slots 8 --segment-len 8 --batch 32
       --lr 1e-3 --check-every 250 --stop-at 0.99]
"""

import argparse
import math
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before torch loads OpenBLAS: one thread per trainer
os.environ.setdefault("OMP_NUM_THREADS", "1")
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import memformer_ref  # noqa: E402
import rmt_ref  # noqa: E402
import tasks  # noqa: E402
from memscope_file import write_model  # noqa: E402

LN_EPS = 1e-5


# -- batched forward passes (float32, differentiable) ---------------------------------------------------------

def _ln(w, prefix, x):
    return F.layer_norm(x, (x.shape[-1],), w[prefix + ".weight"], w[prefix + ".bias"], LN_EPS)


def _heads(x, n_heads):
    """[B, T, d] -> [B, H, T, d_h]."""
    b, t, d = x.shape
    return x.view(b, t, n_heads, d // n_heads).transpose(1, 2)


def _merge(x):
    """[B, H, T, d_h] -> [B, T, d]."""
    b, h, t, dh = x.shape
    return x.transpose(1, 2).reshape(b, t, h * dh)


# How the attention products are computed (--products): "broadcast" multiplies and sums whole tensors, which
# beat torch 1.13's bmm while OpenBLAS ran its fallback (Prescott) kernels on this CPU, and is what the copy
# models were trained with; "matmul" is torch.matmul, much faster per product once OpenBLAS runs its AVX-512
# kernels (OPENBLAS_CORETYPE=SkylakeX).  The two round differently, so a model is reproduced byte for byte
# only with the setting (and OpenBLAS kernels) it was trained with; memscope.source records both.
PRODUCTS = {"broadcast": lambda a, b: (a.unsqueeze(-1) * b.unsqueeze(-3)).sum(-2), "matmul": torch.matmul}
_products = PRODUCTS["broadcast"]


def _bmm(a, b):
    """a [..., n, k] @ b [..., k, m] with the --products method."""
    return _products(a, b)


def _attention(q, k, v, n_heads, allowed=None, probs_out=None):
    """Multi-head attention; the probabilities [B, H, Tq, Tk] are appended to the list probs_out if given."""
    qh, kh, vh = _heads(q, n_heads), _heads(k, n_heads), _heads(v, n_heads)
    logits = _bmm(qh, kh.transpose(-1, -2)) / math.sqrt(qh.shape[-1])
    if allowed is not None:
        logits = logits.masked_fill(~allowed, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    if probs_out is not None:
        probs_out.append(probs)
    return _merge(_bmm(probs, vh))


class MemformerNet:
    """Memformer over a dict of parameters; segments of a batch [B, L] at a time."""

    def __init__(self, cfg, w):
        self.cfg, self.w = memformer_ref.full_config(cfg), w
        self.H = self.cfg["n_heads"]
        self.taps = None  # a list: the first layer's outputs and the tokens they sit on (--aux-prev)
        # --aux-route: {"enc": [per segment, the last encoder layer's memory attention], "dec": {segment: the
        # last decoder layer's cross-attention}}
        self.route_taps = None

    def _lin(self, prefix, x):
        return F.linear(x, self.w[prefix + ".weight"], self.w[prefix + ".bias"])

    def _block(self, prefix, xq, xkv, allowed=None, probs_out=None):
        q, k, v = self._lin(prefix + ".q", xq), self._lin(prefix + ".k", xkv), self._lin(prefix + ".v", xkv)
        return self._lin(prefix + ".o", _attention(q, k, v, self.H, allowed, probs_out))

    def _ffn(self, prefix, x):
        return self._lin(prefix + ".fc2", F.gelu(self._lin(prefix + ".fc1", x)))

    def initial_memory(self, batch):
        b = self.w["memory.bias"]
        return (b / b.norm(dim=1, keepdim=True)).unsqueeze(0).expand(batch, -1, -1)

    def encode(self, seg, memory):
        w, n = self.w, seg.shape[1]
        x = F.embedding(seg, w["tok_emb.weight"]) + w["enc.pos_emb.weight"][:n]
        for l in range(self.cfg["n_enc_layers"]):
            p = f"enc.layers.{l}"
            h = _ln(w, p + ".ln1", x)
            x = x + self._block(p + ".self_attn", h, h)
            last = l == self.cfg["n_enc_layers"] - 1 and self.route_taps is not None
            x = x + self._block(p + ".mem_attn", _ln(w, p + ".ln2", x), memory,
                                probs_out=self.route_taps["enc"] if last else None)
            x = x + self._ffn(p + ".ffn", _ln(w, p + ".ln3", x))
            if l == 0 and self.taps is not None:
                self.taps.append((x, seg))
        return _ln(w, "enc.ln_f", x)

    def write(self, memory, enc):
        H, tau = self.H, self.cfg["writer_temperature"]
        q = _heads(self._lin("writer.q", memory), H)
        k_self = _heads(self._lin("writer.k", memory), H)
        k_tok = _heads(self._lin("writer.k", enc), H)
        v_tok = _heads(self._lin("writer.v", enc), H)
        v_self = _heads(memory, H)
        logits = torch.cat([(q * k_self).sum(-1, keepdim=True), _bmm(q, k_tok.transpose(-1, -2))], dim=-1)
        probs = torch.softmax(logits / (math.sqrt(q.shape[-1]) * tau), dim=-1)
        u = _merge(probs[..., :1] * v_self + _bmm(probs[..., 1:], v_tok)) + self.w["memory.bias"]
        return u / u.norm(dim=-1, keepdim=True)

    def decode(self, inputs, enc_prev):
        w, n = self.w, inputs.shape[1]
        y = F.embedding(inputs, w["tok_emb.weight"]) + w["dec.pos_emb.weight"][:n]
        causal = torch.ones(n, n, dtype=torch.bool).tril()
        for l in range(self.cfg["n_dec_layers"]):
            p = f"dec.layers.{l}"
            h = _ln(w, p + ".ln1", y)
            y = y + self._block(p + ".self_attn", h, h, causal)
            last = l == self.cfg["n_dec_layers"] - 1 and self.route_taps is not None
            y = y + self._block(p + ".cross_attn", _ln(w, p + ".ln2", y), enc_prev,
                                probs_out=self.route_taps["dec_last"] if last else None)
            y = y + self._ffn(p + ".ffn", _ln(w, p + ".ln3", y))
            if l == 0 and self.taps is not None:
                self.taps.append((y, inputs))
        head = w["tok_emb.weight"] if self.cfg["tie_embeddings"] else w["lm_head.weight"]
        return _ln(w, "dec.ln_f", y) @ head.t()

    def predicting_logits(self, tokens, reset_memory=False, scored=None):
        """tokens [B, N] (N a multiple of L) -> (logits [B, N, V], row i predicts token i; list of memory
        states M_1..M_S). Rows of the first segment, and of segments whose tokens `scored` [B, N] (bool)
        never marks, are zero: their decoder is skipped, since nothing trains or scores them."""
        B, N = tokens.shape
        L = self.cfg["segment_len"]
        m0 = self.initial_memory(B)
        memory, prev, out, memories = m0, None, [], []
        for s in range(0, N, L):
            seg = tokens[:, s:s + L]
            if reset_memory:
                memory = m0
            if prev is None or (scored is not None and not bool(scored[:, s:s + L].any())):
                out.append(torch.zeros(B, seg.shape[1], self.cfg["vocab_size"]))
            else:
                inputs = torch.cat([tokens[:, s - 1:s], seg[:, :-1]], dim=1)
                out.append(self.decode(inputs, prev))
                if self.route_taps is not None:
                    self.route_taps["dec"][s // L] = self.route_taps["dec_last"].pop()
            enc = self.encode(seg, memory)
            memory = self.write(memory, enc)
            memories.append(memory)
            prev = enc
        return torch.cat(out, dim=1), memories


class RMTNet:
    """RMT (GPT-2 blocks, Conv1D layout) over a dict of parameters; segments of a batch at a time."""

    def __init__(self, cfg, w):
        self.cfg, self.w = rmt_ref.full_config(cfg), w
        self.H = self.cfg["n_heads"]
        self.taps = None  # a list: the first layer's outputs and the tokens they sit on (--aux-prev)
        self.read_taps = None  # a list: per segment, the last layer's segment rows over the read block (--aux-read)

    def initial_memory(self, batch):
        return self.w["memory"].unsqueeze(0).expand(batch, -1, -1)

    def forward_segment(self, seg, memory):
        w, cfg = self.w, self.cfg
        m, n, d = cfg["n_mem"], seg.shape[1], cfg["d_model"]
        t = 2 * m + n
        x = torch.cat([memory, F.embedding(seg, w["transformer.wte.weight"]), memory], dim=1) + w["transformer.wpe.weight"][:t]
        allowed = rmt_ref.segment_mask(cfg["mask"], m, n)
        for l in range(cfg["n_layers"]):
            p = f"transformer.h.{l}"
            qkv = _ln(w, p + ".ln_1", x) @ w[p + ".attn.c_attn.weight"] + w[p + ".attn.c_attn.bias"]
            last = l == cfg["n_layers"] - 1 and self.read_taps is not None
            probs = [] if last else None
            ctx = _attention(qkv[..., :d], qkv[..., d:2 * d], qkv[..., 2 * d:], self.H, allowed, probs)
            if last:
                self.read_taps.append(probs[0][:, :, m:m + n, :m])
            x = x + ctx @ w[p + ".attn.c_proj.weight"] + w[p + ".attn.c_proj.bias"]
            h = _ln(w, p + ".ln_2", x) @ w[p + ".mlp.c_fc.weight"] + w[p + ".mlp.c_fc.bias"]
            x = x + F.gelu(h, approximate="tanh") @ w[p + ".mlp.c_proj.weight"] + w[p + ".mlp.c_proj.bias"]
            if l == 0 and self.taps is not None:
                self.taps.append((x[:, m:m + n], seg))
        hf = _ln(w, "transformer.ln_f", x)
        return hf[:, m:m + n] @ w["transformer.wte.weight"].t(), hf[:, m + n:]

    def predicting_logits(self, tokens, reset_memory=False, scored=None):
        """tokens [B, N] -> (logits [B, N, V] with row i predicting token i (row 0 zero, never scored),
        list of memory states). `scored` is accepted for symmetry with MemformerNet and ignored: every
        segment's forward pass also writes the memory."""
        B, N = tokens.shape
        L = self.cfg["segment_len"]
        m0 = self.initial_memory(B)
        memory, rows, memories = m0, [], []
        for s in range(0, N, L):
            if reset_memory:
                memory = m0
            logits, memory = self.forward_segment(tokens[:, s:s + L], memory)
            rows.append(logits)
            memories.append(memory)
        logits = torch.cat(rows, dim=1)
        return torch.cat([torch.zeros_like(logits[:, :1]), logits[:, :-1]], dim=1), memories


NETS = {"memformer": MemformerNet, "rmt": RMTNet}


# -- configuration and initialisation ----------------------------------------------------------------------

def make_config(args):
    if args.arch == "memformer":
        return memformer_ref.full_config({
            "vocab_size": 256, "d_model": args.d_model, "n_heads": args.n_heads, "d_ff": args.d_ff,
            "n_enc_layers": args.layers, "n_dec_layers": args.layers, "n_slots": args.slots,
            "segment_len": args.segment_len, "writer_temperature": 0.5, "tie_embeddings": True})
    return rmt_ref.full_config({
        "vocab_size": 256, "d_model": args.d_model, "n_heads": args.n_heads, "n_layers": args.layers,
        "d_ff": args.d_ff, "n_mem": args.slots, "segment_len": args.segment_len,
        "n_positions": 2 * args.slots + args.segment_len, "mask": args.mask})


def init_params(arch, cfg):
    """Fresh trainable parameters (float32): LayerNorm gains 1 and biases 0, other biases 0, matrices and
    embeddings N(0, 0.02 * sqrt(128 / d)); Memformer's memory.bias N(0, 1) (unit rows after normalising);
    RMT's memory N(0, 0.5)."""
    shapes = (memformer_ref if arch == "memformer" else rmt_ref).tensor_shapes(cfg)
    std = 0.02 * math.sqrt(128 / cfg["d_model"])
    params = {}
    for name, shape in shapes.items():
        is_ln = any(f".{k}." in name or name.startswith(f"{k}.") for k in
                    ("ln1", "ln2", "ln3", "ln_f", "ln_1", "ln_2")) or ".ln_f." in name
        if is_ln and name.endswith(".weight"):
            value = torch.ones(shape)
        elif name == "memory.bias":
            value = torch.randn(shape)
        elif name == "memory":
            value = 0.5 * torch.randn(shape)
        elif name.endswith(".bias"):
            value = torch.zeros(shape)
        else:
            value = std * torch.randn(shape)
        params[name] = torch.nn.Parameter(value)
    return params


# -- data, loss, accuracy ----------------------------------------------------------------------------------

# Curriculum: easier variants of each task (tasks.py keyword arguments), then the task itself. Learning the
# full tasks from scratch sits on a loss plateau at chance for thousands of steps (the gradient has to find
# a write -> several retains -> read path at once); one hop first teaches writing and reading, longer
# distances then teach retention. Copy ends with two instances back to back (`repeat`): the memory must let
# go of a string once it has been reproduced and take in the next one, which is what the copy demo shows.
CURRICULUM = {
    "copy": [dict(string_segments=1, distractor_segments=0), dict(string_segments=1, distractor_segments=1),
             dict(string_segments=2, distractor_segments=1), dict(), dict(repeat=2)],
    "recall": [dict(pairs=1, context_segments=2), dict(pairs=2, context_segments=3),
               dict(pairs=3, context_segments=4), dict(pairs=4, context_segments=5), dict()],
}
# bind-first: recall starts by binding keys to values inside one segment, as many pairs as fit with their
# queries (segment_len // 6, at most 4; needs segment_len >= 12), where elimination among stored values
# cannot pass the level (it scores 0.75 with two pairs, 0.52 with four)
CURRICULUM_BIND_FIRST = {"copy": CURRICULUM["copy"],
                         "recall": [dict(pairs=None, in_segment=True)] + CURRICULUM["recall"]}
LEVEL_UP_ACCURACY = 0.9  # move on when the running batch accuracy (EMA 0.9) at the current level reaches it


def batch(task, segment_len, rng, n, variant=None):
    """n sequences from `rng`: (tokens LongTensor [n, N], answer BoolTensor [n, N]). Each is one instance,
    or with variant["repeat"] = r, r instances back to back."""
    variant = dict(variant or {})
    repeat = variant.pop("repeat", 1)
    items = []
    for _ in range(n):
        parts = [tasks.generate(task, segment_len, rng, **variant) for _ in range(repeat)]
        items.append((b"".join(t for t, _ in parts), [a for _, answer in parts for a in answer]))
    tokens = torch.tensor([list(t) for t, _ in items], dtype=torch.long)
    answer = torch.tensor([a for _, a in items], dtype=torch.bool)
    return tokens, answer


def loss_and_correct(net, tokens, answer, reset_memory=False):
    """(cross-entropy on the answer tokens, answers right, answers, the memory states M_1..M_S)."""
    logits, memories = net.predicting_logits(tokens, reset_memory, scored=answer)
    sel = logits[answer]
    target = tokens[answer]
    loss = F.cross_entropy(sel, target)
    correct = int((sel.argmax(dim=-1) == target).sum())
    return loss, correct, int(answer.sum()), memories


# --aux-prev: the tokens 1 and 2 back, which is where a pair "K=v" has its key seen from its value and a
# query "K?v" its key seen from the '?' that predicts the value
AUX_OFFSETS = (1, 2)


def aux_prev_loss(net, readouts):
    """Mean cross-entropy of predicting, from the first layer's output at every token (net.taps), the tokens
    AUX_OFFSETS positions earlier in the same segment, through linear readouts that only the trainer has.
    It asks the first layer for previous-token heads, the first half of the binding circuit."""
    losses = []
    for hidden, toks in net.taps:
        for k, readout in zip(AUX_OFFSETS, readouts):
            if toks.shape[1] > k:
                losses.append(F.cross_entropy((hidden[:, k:] @ readout.t()).flatten(0, 1), toks[:, :-k].flatten()))
    return sum(losses) / len(losses)


def first_query_segment(answer, segment_len):
    """Index of the first segment with an answer token (the same for every instance of a batch)."""
    return int(answer[0].nonzero()[0]) // segment_len


def answered_keys(tokens, answer):
    """(instance, position, key index) of every answer token: recall's "K?v" has its key K two before the
    value; the key index is K's place in RECALL_KEYS (negative or >= 16 for other tokens)."""
    rows, cols = answer.nonzero(as_tuple=True)
    return rows, cols, tokens[rows, cols - 2] - tasks.RECALL_KEYS[0]


def aux_probe_loss(net, memories, tokens, answer, probe):
    """Cross-entropy of a trainer-only probe that reads each queried pair's value out of the memory state
    the first query segment starts from, given the pair's key (the token two before each answer): one
    attention head from the key's embedding over the memory slots, then a linear readout. It asks the
    memory to hold values addressable by their keys. None on levels without a query after the memory."""
    L = net.cfg["segment_len"]
    first = first_query_segment(answer, L)
    if first == 0:
        return None
    memory = memories[first - 1]                                       # [B, K, d]
    rows, cols = answer.nonzero(as_tuple=True)
    emb = net.w["tok_emb.weight"] if "tok_emb.weight" in net.w else net.w["transformer.wte.weight"]
    q = emb[tokens[rows, cols - 2]] @ probe[0]                         # [P, d]
    k = memory[rows] @ probe[1]                                        # [P, K, d]
    weights = torch.softmax((k @ q.unsqueeze(-1)).squeeze(-1) / math.sqrt(q.shape[-1]), dim=-1)
    read = (weights.unsqueeze(-1) * memory[rows]).sum(1)               # [P, d]
    return F.cross_entropy(read @ probe[2].t(), tokens[rows, cols])


# The auxiliary losses, --aux-NAME WEIGHT (0: off), in the order the model file's command line lists them.
# Their parameters are the trainer's own and never go into the model file.
AUX_LOSSES = {
    "prev": "predict the tokens 1 and 2 back from the first layer's output at every token (aux_prev_loss)",
    "probe": "recall: a probe reads each pair's value out of the memory given its key (aux_probe_loss)",
    "slots": "recall: memory slot k holds the value of the k-th key from its pair's segment until the "
             "queries (aux_slots_loss)",
    "read": "recall, RMT: each query's '?' attends, in the last layer, to the read slot of its key "
            "(aux_read_loss; with --aux-slots)",
    "route": "recall, Memformer: slot k reaches the query of the k-th key through the encoder and decoder, "
             "laid out by position (aux_route_loss; with --aux-slots)",
}


NOTHING_YET = len(tasks.RECALL_VALUES)   # --aux-slots: the class of a slot whose key has no pair yet


def slot_targets(tokens, answer, segment_len, n_slots):
    """--aux-slots: for each memory state written by a context segment (M_1 .. M_C, C the segments before
    the first query segment) and each key k (the k-th letter of RECALL_KEYS, k < n_slots), the value digit
    of key k's pair if it was written by then, else 10 (nothing yet): LongTensor [C, B, n_slots], or None
    on levels without a query after the memory."""
    first = first_query_segment(answer, segment_len)
    if first == 0:
        return None
    B = tokens.shape[0]
    context = tokens[:, :first * segment_len]
    key = context - tasks.RECALL_KEYS[0]
    is_key = (key >= 0) & (key < n_slots)
    is_key[:, -2:] = False                                      # a pair "K=v" needs its value two on
    value = torch.zeros_like(context)
    value[:, :-2] = context[:, 2:] - tasks.RECALL_VALUES[0]
    rows, cols = is_key.nonzero(as_tuple=True)
    targets = torch.full((first, B, n_slots), NOTHING_YET, dtype=torch.long)
    for r, c in zip(rows.tolist(), cols.tolist()):
        targets[c // segment_len:, r, key[r, c]] = value[r, c]
    return targets


def aux_slots_loss(memories, targets, readout):
    """Cross-entropy of a trainer-only linear readout (11 classes: a digit or nothing yet) of each memory
    slot k after each context segment against slot_targets: asks the writer to keep key k's value in slot
    k from the segment that holds the pair until the queries."""
    states = torch.stack(memories[:targets.shape[0]])[:, :, :targets.shape[2]]   # [C, B, K, d]
    return F.cross_entropy((states @ readout.t()).flatten(0, 2), targets.flatten())


def aux_read_loss(net, tokens, answer):
    """RMT, --aux-read: for each answer token, minus the log of the last layer's attention (mean over heads)
    from the row that predicts it (the query's '?') to read slot k, k being the query's key (the k-th letter
    of RECALL_KEYS; with --aux-slots the slot that holds its value). None when no key has a slot."""
    probs = torch.cat(net.read_taps, dim=2)                             # [B, H, N, m]
    rows, cols, key = answered_keys(tokens, answer)
    keep = (key >= 0) & (key < probs.shape[-1])
    if not bool(keep.any()):
        return None
    rows, cols, key = rows[keep], cols[keep], key[keep]
    p = probs[rows, :, cols - 1, key].mean(dim=-1)                      # [P]
    return -torch.log(p + 1e-9).mean()


def aux_route_loss(net, tokens, answer):
    """Memformer, --aux-route: the Memformer's decoder sees the memory only through the encoding of the
    segment before, so the route from slot to query is laid out by position. In the last encoder layer's
    memory attention of every segment whose encoding a query segment decodes from, token i's head h
    (h < K / L) should attend to slot (K / L) · i + h; in the last decoder layer's cross-attention, the
    row that predicts an answer (mean over heads) should attend to the encoder token holding its key's
    slot, k // (K / L). Minus the log of each, averaged. With --aux-slots slot k holds the k-th key."""
    L = net.cfg["segment_len"]
    K = net.cfg["n_slots"]
    per = K // L
    if first_query_segment(answer, L) == 0:
        return None
    queried = sorted({int(c) // L for c in answer[0].nonzero()[:, 0]})
    token = torch.arange(L)
    losses = []
    for s in queried:
        probs = net.route_taps["enc"][s - 1]                              # [B, H, L, K]
        for h in range(per):
            losses.append(-torch.log(probs[:, h, token, per * token + h] + 1e-9).mean())
    rows, cols, key = answered_keys(tokens, answer)
    keep = (key >= 0) & (key < K)
    rows, cols, key = rows[keep], cols[keep], key[keep]
    dec = torch.stack([net.route_taps["dec"][int(c) // L][r, :, int(c) % L, int(k) // per]
                       for r, c, k in zip(rows, cols, key)])              # [P, H]
    losses.append(-torch.log(dec.mean(dim=-1) + 1e-9).mean())
    return sum(losses) / len(losses)


@torch.no_grad()
def accuracy(net, task, seed, n, reset_memory=False, chunk=128, variant=None):
    rng = tasks.SplitMix64(seed)
    correct = total = 0
    for start in range(0, n, chunk):
        tokens, answer = batch(task, net.cfg["segment_len"], rng, min(chunk, n - start), variant)
        _, c, t, _ = loss_and_correct(net, tokens, answer, reset_memory)
        correct, total = correct + c, total + t
    return correct / total


# -- the reference check ------------------------------------------------------------------------------------

@torch.no_grad()
def self_check(arch, cfg, params, task):
    """Batched float32 forward == float64 reference (memformer_ref / rmt_ref) on two instances."""
    weights = {k: v.detach().clone() for k, v in params.items()}
    net = NETS[arch](cfg, weights)
    ref = (memformer_ref.Memformer if arch == "memformer" else rmt_ref.RMT)(cfg, weights)
    tokens, _ = batch(task, cfg["segment_len"], tasks.SplitMix64(99), 2)
    logits, memories = net.predicting_logits(tokens)
    worst = 0.0
    for b in range(2):
        records = ref.run_session(tokens[b].tolist())
        L = cfg["segment_len"]
        for t, r in enumerate(records):
            worst = max(worst, float((memories[t][b].double() - r["mem_out"]).abs().max()))
            if arch == "memformer" and t > 0:
                worst = max(worst, float((logits[b, t * L:(t + 1) * L].double() - r["logits"]).abs().max()))
            if arch == "rmt":
                mine = logits[b, t * L + 1:(t + 1) * L].double()
                worst = max(worst, float((mine - r["logits"][:-1]).abs().max()))
    if worst > 1e-4:
        raise SystemExit(f"train.py: batched forward differs from the reference by {worst:.3g}")
    return worst


# -- main ---------------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", choices=sorted(NETS), required=True)
    ap.add_argument("--task", choices=tasks.TASKS, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--n-heads", type=int, default=4)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--d-ff", type=int, default=256)
    ap.add_argument("--slots", type=int, default=8)
    ap.add_argument("--segment-len", type=int, default=8)
    ap.add_argument("--mask", choices=rmt_ref.MASKS, default="blocks")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--check-every", type=int, default=250)
    ap.add_argument("--stop-at", type=float, default=0.99)
    ap.add_argument("--dtype", choices=("F32", "F16"), default="F32")
    ap.add_argument("--max-minutes", type=float, default=0,
                    help="stop after this much wall time (the file then records --steps = the steps run, "
                         "which reproduces it: the learning rate is constant after warm-up)")
    ap.add_argument("--curriculum", choices=("auto", "bind-first", "none"), default="auto",
                    help="auto: start on easier variants of the task (CURRICULUM) and move on at "
                         f"{LEVEL_UP_ACCURACY} running batch accuracy; bind-first: recall's curriculum after a "
                         "level binding two pairs in one segment (a diagnostic, segment_len >= 12); none: the "
                         "task from the first step")
    ap.add_argument("--pair-offset", type=int, default=None,
                    help="recall experiment: every pair at this offset of its segment (all levels and the "
                         "held-out and final accuracies)")
    for name, what in AUX_LOSSES.items():
        ap.add_argument(f"--aux-{name}", type=float, default=0.0, help=f"weight of an auxiliary loss: {what}")
    ap.add_argument("--products", choices=sorted(PRODUCTS), default="broadcast",
                    help="how attention products are computed (see PRODUCTS; broadcast reproduces the copy models)")
    ap.add_argument("--self-check", action="store_true", help="only compare with the reference and exit")
    args = ap.parse_args()
    if args.aux_route > 0 and (args.slots % args.segment_len or args.slots // args.segment_len > args.n_heads):
        ap.error("--aux-route lays slots out over the encoder's tokens and heads: --slots must be a multiple of "
                 "--segment-len, at most --n-heads times it")
    global _products
    _products = PRODUCTS[args.products]

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    cfg = make_config(args)
    params = init_params(args.arch, cfg)
    worst = self_check(args.arch, cfg, params, args.task)
    print(f"self-check: batched float32 forward within {worst:.2g} of the float64 reference", flush=True)
    if args.self_check:
        return
    net = NETS[args.arch](cfg, params)
    # the auxiliary losses' own parameters (trained, never written to the model file)
    d, vocab = cfg["d_model"], cfg["vocab_size"]
    std = 0.02 * math.sqrt(128 / d)
    readouts = [torch.nn.Parameter(std * torch.randn(vocab, d)) for _ in AUX_OFFSETS] if args.aux_prev > 0 else []
    probe = [torch.nn.Parameter(std * torch.randn(shape)) for shape in ((d, d), (d, d), (vocab, d))] \
        if args.aux_probe > 0 else []
    slot_readout = [torch.nn.Parameter(std * torch.randn(NOTHING_YET + 1, d))] if args.aux_slots > 0 else []
    trained = list(params.values()) + readouts + probe + slot_readout
    opt = torch.optim.AdamW(trained, lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)
    rng = tasks.SplitMix64(1_000_003 * (args.seed + 1))
    curricula = {"auto": CURRICULUM, "bind-first": CURRICULUM_BIND_FIRST, "none": {}}
    levels = [dict(level) for level in curricula[args.curriculum].get(args.task, [dict()])]
    for level in levels:
        if level.get("pairs", 0) is None:
            level["pairs"] = min(tasks.RECALL_PAIRS, args.segment_len // 6)
    task_variant = {}
    if args.pair_offset is not None:
        task_variant = dict(pair_offset=args.pair_offset)
        for level in levels:
            level.update(task_variant)
    level, running = 0, 0.0
    start = time.time()
    step, held_out = 0, 0.0
    while step < args.steps:
        for group in opt.param_groups:
            group["lr"] = args.lr * min(1.0, (step + 1) / args.warmup)
        # a quarter of the steps revisit an earlier level, so what was learnt there is kept
        current = level if level == 0 or rng.below(4) else rng.below(level)
        tokens, answer = batch(args.task, args.segment_len, rng, args.batch, levels[current])
        net.taps = [] if readouts else None
        reading = args.aux_read > 0 and args.arch == "rmt" and not levels[current].get("in_segment")
        net.read_taps = [] if reading else None
        routing = args.aux_route > 0 and args.arch == "memformer" and not levels[current].get("in_segment")
        net.route_taps = {"enc": [], "dec": {}, "dec_last": []} if routing else None
        loss, correct, total, memories = loss_and_correct(net, tokens, answer)
        read = aux_read_loss(net, tokens, answer) if reading else None
        net.read_taps = None
        routed = aux_route_loss(net, tokens, answer) if routing else None
        net.route_taps = None
        objective = loss + args.aux_prev * aux_prev_loss(net, readouts) if readouts else loss
        net.taps = None
        probed = aux_probe_loss(net, memories, tokens, answer, probe) \
            if probe and not levels[current].get("in_segment") else None
        if probed is not None:
            objective = objective + args.aux_probe * probed
        targets = slot_targets(tokens, answer, args.segment_len, min(args.slots, len(tasks.RECALL_KEYS))) \
            if slot_readout and not levels[current].get("in_segment") else None
        slotted = aux_slots_loss(memories, targets, slot_readout[0]) if targets is not None else None
        if slotted is not None:
            objective = objective + args.aux_slots * slotted
        if read is not None:
            objective = objective + args.aux_read * read
        if routed is not None:
            objective = objective + args.aux_route * routed
        opt.zero_grad()
        objective.backward()
        torch.nn.utils.clip_grad_norm_(trained, 1.0)
        opt.step()
        step += 1
        if current == level:
            running = 0.9 * running + 0.1 * correct / total
            if running >= LEVEL_UP_ACCURACY and level + 1 < len(levels):
                level, running = level + 1, 0.0
                print(f"step {step}: curriculum level {level} {levels[level] or '(the task)'}  "
                      f"{time.time() - start:.0f} s", flush=True)
        out_of_time = args.max_minutes > 0 and time.time() - start > 60 * args.max_minutes
        if level + 1 < len(levels) and not out_of_time:
            if step % args.check_every == 0:
                print(f"step {step}: loss {loss.item():.4f} level {level} running acc {running:.3f}  "
                      f"{time.time() - start:.0f} s"
                      + (f"  slots loss {slotted.item():.4f}" if slotted is not None else "")
                      + (f"  read loss {read.item():.4f}" if read is not None else "")
                      + (f"  route loss {routed.item():.4f}" if routed is not None else ""), flush=True)
        elif step % args.check_every == 0 or step == args.steps or out_of_time:
            held_out = accuracy(net, args.task, 7_000_001 + args.seed, 512, variant=task_variant)
            print(f"step {step}: loss {loss.item():.4f} batch acc {correct / total:.3f} held-out acc "
                  f"{held_out:.4f}  {time.time() - start:.0f} s", flush=True)
            # the last level's own running accuracy counts too (copy: the second string of a pair)
            if (held_out >= args.stop_at and running >= args.stop_at) or out_of_time:
                break
    wall = time.time() - start
    final = accuracy(net, args.task, 0, 1000, variant=task_variant)
    reset = accuracy(net, args.task, 0, 1000, reset_memory=True, variant=task_variant)
    print(f"done: {step} steps in {wall:.0f} s; accuracy {final:.4f}, reset-memory {reset:.4f} "
          f"(1000 instances, seed 0, float32)", flush=True)

    command = (f"tests/reference/train.py --arch {args.arch} --task {args.task} --seed {args.seed} "
               f"--steps {step} --d-model {args.d_model} --n-heads {args.n_heads} --layers {args.layers} "
               f"--d-ff {args.d_ff} --slots {args.slots} --segment-len {args.segment_len} --mask {args.mask} "
               f"--batch {args.batch} --lr {args.lr} --warmup {args.warmup} --check-every {args.check_every} "
               f"--stop-at {args.stop_at} --dtype {args.dtype} --curriculum {args.curriculum}"
               + (f" --products {args.products}" if args.products != "broadcast" else "")
               + (f" --pair-offset {args.pair_offset}" if args.pair_offset is not None else "")
               + "".join(f" --aux-{name} {getattr(args, 'aux_' + name)}" for name in AUX_LOSSES
                         if getattr(args, "aux_" + name) > 0))
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    if coretype:
        command = f"OPENBLAS_CORETYPE={coretype} {command}"
    source = (f"{command} (Memscope's trainer, torch {torch.__version__}, 1 thread): {args.arch} trained on the "
              f"{args.task} task (tests/reference/tasks.py, segment_len {args.segment_len}) from seed {args.seed} "
              f"for {step} steps of {args.batch} instances, full backpropagation through time over all "
              f"segments, AdamW lr {args.lr}. Final per-token accuracy on the answer "
              f"tokens of 1000 fresh instances (seed 0): {final:.4f}; with the memory reset at every segment: "
              f"{reset:.4f} (PyTorch float32; memscope-cli eval is the authority).")
    weights = {k: v.detach().clone() for k, v in params.items()}
    write_model(args.out, args.arch, cfg, weights, source, dtype=args.dtype)
    print(f"wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()
