#!/usr/bin/env python3
"""Trains the language models Memscope ships as its demo: a Memformer and an RMT on real English text.

The text is the reStructuredText source of Python's documentation as Debian's python3.11-doc package installs
it (/usr/share/doc/python3.11/html/_sources, PSF License version 2; 11 MB in 497 files). Each file is one
document. The held-out split is every file under tutorial/ and howto/ (37 documents, about 0.95 MB); the
model trains on all the others and never sees a held-out byte. The held-out split serves as validation (runs
are watched and chosen on it); the test split is another package's text, read nowhere here
(tests/eval/test-split.json). resources/inputs/ holds held-out documents.

Why the memory matters on this text: a segment is short (16 bytes for the byte-level RMT, 4 for the
Memformer), so what lies one or more segments back decides much of the next byte: the word a segment
boundary cuts in two, the identifier a section keeps using, the indentation of a code block, a heading's
underline as long as its title.
With the memory reset at every segment an RMT sees only the bytes of its own segment, a Memformer only its own
and the one before it (its decoder reads the previous segment's encoding); with the memory they see the
whole document as far as the memory keeps it.

Training is truncated backpropagation through time over --bptt segments, on --batch streams that each walk
through documents from their first byte to their last: a stream's memory (and the Memformer's encoding of the
segment before) is carried from one step to the next, detached, and set back to M_0 where a stream starts a
new document, so the models learn both the initial memory and memories a thousand segments old, as the demo
runs them. Cross-entropy on every predicted token, AdamW with linear warm-up then a constant rate (so a run cut
by --max-minutes is reproduced by --steps = the steps it ran), gradient clipping at 1. The forward passes are
train.py's batched float32 twins of the float64 references, checked against them before training.

Tokenizers: `bytes` (vocabulary 256, a token is a byte), or `bpe`: a byte-level BPE with GPT-2's byte
alphabet and pre-tokenisation rule and --merges merges learned here from the training split (GPT-2's own
50,257-token vocabulary would put nearly all of a small model's weights and time in its embedding and
softmax). A bpe model (RMT only) is written as the Hugging Face-style folder the public RMT code saves
(hf_checkpoint.py): config.json, model.safetensors, vocab.json, merges.txt, for `memscope-cli import`.

Deterministic for a given command line and torch build: one thread, weights from torch.manual_seed(SEED),
document order from random.Random(SEED). memscope.source records the command with --steps set to the steps
run, and the held-out bits per byte with and without the memory computed here in float32 (the C core, through
`memscope-cli run` and `run --reset-memory`, is the authority).

usage: /usr/bin/python3 tests/reference/train_lm.py --arch memformer|rmt --out FILE|FOLDER
       [--tokenizer bytes|bpe --merges 768 --steps N --max-minutes M --segment-len 16 --slots 16 ...]
       /usr/bin/python3 tests/reference/train_lm.py --split held-out --list   the held-out documents
"""

import argparse
import json
import math
import os
import random
import re
import signal
import sys
import time
from collections import Counter, defaultdict

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_checkpoint  # noqa: E402
import memformer_ref  # noqa: E402
import rmt_ref  # noqa: E402
import train  # noqa: E402
from memscope_file import write_model  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402

CORPUS = "/usr/share/doc/python3.11/html/_sources"
CORPUS_PACKAGE = "python3.11-doc"
HELD_OUT = ("tutorial/", "howto/")


# -- the corpus ----------------------------------------------------------------------------------------------

def documents(root, split):
    """[(relative path, bytes)] of the corpus's .rst.txt files in `split` ("train" or "held-out"), sorted."""
    if not os.path.isdir(root):
        raise SystemExit(f"train_lm.py: no corpus at {root}: install Debian's {CORPUS_PACKAGE} "
                         "(app/bootstrap.sh test does) or pass --corpus")
    found = []
    for folder, _, files in os.walk(root):
        for name in files:
            if name.endswith(".rst.txt"):
                rel = os.path.relpath(os.path.join(folder, name), root)
                if rel.startswith(HELD_OUT) == (split == "held-out"):
                    found.append(rel)
    out = []
    for rel in sorted(found):
        with open(os.path.join(root, rel), "rb") as f:
            out.append((rel, f.read()))
    return out


# -- the BPE tokenizer ---------------------------------------------------------------------------------------

# GPT-2's pre-tokenisation rule in Python's re (no \p classes): a letter is [^\W\d_], a number \d, and the
# "other" class everything that is neither whitespace nor those (underscore included, as in GPT-2).
PRETOKEN = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+")


def pretokens(data):
    """GPT-2 pre-tokens of `data` (bytes, decoded as UTF-8 with surrogateescape), each as bytes."""
    text = data.decode("utf-8", "surrogateescape")
    return [m.group(0).encode("utf-8", "surrogateescape") for m in PRETOKEN.finditer(text)]


def learn_bpe(docs, n_merges):
    """Merges (pairs of GPT-2 alphabet strings, in rank order) learned over the pre-tokens of `docs`: the most
    frequent adjacent pair is merged until there are `n_merges`; ties go to the smaller pair. Pair counts are
    updated only in the words a merge touches."""
    alpha = hf_checkpoint.byte_alphabet()
    counts = Counter()
    for _, data in docs:
        counts.update(pretokens(data))
    words = [[alpha[b] for b in w] for w in counts]
    freq = list(counts.values())
    pairs, where = Counter(), defaultdict(set)
    for i, w in enumerate(words):
        for a, b in zip(w, w[1:]):
            pairs[a, b] += freq[i]
            where[a, b].add(i)
    merges = []
    while len(merges) < n_merges and pairs:
        best = min(pairs, key=lambda p: (-pairs[p], p))
        if pairs[best] <= 0:
            break
        merges.append(best)
        joined = best[0] + best[1]
        for i in list(where[best]):
            w = words[i]
            for a, b in zip(w, w[1:]):
                pairs[a, b] -= freq[i]
            out, j = [], 0
            while j < len(w):
                if j + 1 < len(w) and w[j] == best[0] and w[j + 1] == best[1]:
                    out.append(joined)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            words[i] = out
            for a, b in zip(out, out[1:]):
                pairs[a, b] += freq[i]
                where[a, b].add(i)
        del pairs[best]
        where.pop(best, None)
    return merges


class BPE:
    """GPT-2-style byte-level BPE: vocab.json's ids are the 256 byte tokens in GPT-2's alphabet order, then one
    token per merge."""

    def __init__(self, merges):
        alpha = hf_checkpoint.byte_alphabet()
        self.alpha = alpha
        # GPT-2's vocab.json orders the byte tokens by their characters' code points
        self.vocab = {alpha[b]: i for i, b in enumerate(sorted(range(256), key=lambda b: ord(alpha[b])))}
        for a, b in merges:
            self.vocab[a + b] = len(self.vocab)
        self.merges = merges
        self.rank = {m: r for r, m in enumerate(merges)}
        self.cache = {}

    def encode_word(self, word):
        ids = self.cache.get(word)
        if ids is not None:
            return ids
        parts = [self.alpha[b] for b in word]
        while len(parts) > 1:
            ranked = [(self.rank.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            r, i = min(ranked)
            if r == 1 << 30:
                break
            pair = (parts[i], parts[i + 1])
            out, j = [], 0
            while j < len(parts):
                if j + 1 < len(parts) and (parts[j], parts[j + 1]) == pair:
                    out.append(pair[0] + pair[1])
                    j += 2
                else:
                    out.append(parts[j])
                    j += 1
            parts = out
        ids = [self.vocab[p] for p in parts]
        self.cache[word] = ids
        return ids

    def encode(self, data):
        out = []
        for w in pretokens(data):
            out.extend(self.encode_word(w))
        return out

    def files(self):
        return hf_checkpoint.vocab_merges_files(self.vocab, self.merges)


# -- stateful training streams -------------------------------------------------------------------------------

class Streams:
    """`batch` streams, each walking through a document from its first token to its last, then through
    another drawn at random (weighted by length, so every token is equally likely to be trained on). With
    `new_document` > 0 a stream also leaves its document for a new one's first token with that probability at
    each step, so that documents' first segments, where the memory starts from M_0, are not rare in training
    (a document is some thousand steps of one stream otherwise)."""

    def __init__(self, docs, batch, span, rng, new_document=0.0):
        self.docs = [d for d in docs if len(d) > span + 1]
        self.weights = [len(d) for d in self.docs]
        self.span, self.rng, self.new_document = span, rng, new_document
        self.doc, self.pos = [None] * batch, [0] * batch

    def next(self):
        """(tokens [B, span + 1], fresh [B] bool: the row starts a new document and its memory is M_0)."""
        rows, fresh = [], []
        for b in range(len(self.doc)):
            leave = self.new_document > 0 and self.rng.random() < self.new_document
            if leave or self.doc[b] is None or self.pos[b] + self.span + 1 > len(self.docs[self.doc[b]]):
                self.doc[b] = self.rng.choices(range(len(self.docs)), self.weights)[0]
                self.pos[b] = 0
                fresh.append(True)
            else:
                fresh.append(False)
            rows.append(self.docs[self.doc[b]][self.pos[b]:self.pos[b] + self.span + 1])
            self.pos[b] += self.span
        return torch.stack(rows), torch.tensor(fresh)


def chunk_nll(arch, net, tokens, fresh, state, n_segments):
    """Runs `n_segments` segments of `tokens` [B, n_segments * L + 1] from `state` (None at the start) and
    returns (summed NLL in nats, predicted tokens, the state to carry, detached). The session convention
    (DESIGN.md §3): an RMT segment's row j predicts the token after it (the last row the next segment's first);
    a Memformer segment is predicted by its decoder from the previous segment's encoding, so a document's
    first segment is not predicted."""
    B, L = tokens.shape[0], net.cfg["segment_len"]
    m0 = net.initial_memory(B)
    keep = (~fresh).view(B, 1, 1)
    if arch == "rmt":
        memory = m0 if state is None else torch.where(keep, state, m0)
        total = 0.0
        for s in range(n_segments):
            logits, memory = net.forward_segment(tokens[:, s * L:(s + 1) * L], memory)
            target = tokens[:, s * L + 1:(s + 1) * L + 1]
            total = total + F.cross_entropy(logits.flatten(0, 1), target.flatten(), reduction="sum")
        return total, B * L * n_segments, memory.detach()
    if state is None:
        memory, enc_prev, last = m0, torch.zeros(B, L, net.cfg["d_model"]), torch.zeros(B, dtype=torch.long)
    else:
        memory, enc_prev, last = torch.where(keep, state[0], m0), state[1], state[2]
    total, count = 0.0, 0
    for s in range(n_segments):
        seg = tokens[:, s * L:(s + 1) * L]
        logits = net.decode(torch.cat([last[:, None], seg[:, :-1]], dim=1), enc_prev)
        nll = F.cross_entropy(logits.flatten(0, 1), seg.flatten(), reduction="none").view(B, L)
        scored = torch.ones(B, dtype=torch.bool) if s else ~fresh
        total = total + (nll * scored[:, None]).sum()
        count += int(scored.sum()) * L
        enc_prev = net.encode(seg, memory)
        memory = net.write(memory, enc_prev)
        last = seg[:, -1]
    return total, count, (memory.detach(), enc_prev.detach(), last)


@torch.no_grad()
def held_out_bits(net, docs, n_segments, bytes_per_token):
    """Bits per byte on the first `n_segments` segments of every held-out document that long, with the memory
    and with it reset at every segment (float32; `memscope-cli run` is the authority)."""
    L = net.cfg["segment_len"]
    rows = torch.stack([d[:n_segments * L] for d in docs if len(d) >= n_segments * L])
    out, by_segment = [], []
    for reset in (False, True):
        logits, _ = net.predicting_logits(rows, reset_memory=reset)
        nll = F.cross_entropy(logits[:, 1:].flatten(0, 1), rows[:, 1:].flatten(), reduction="none").view(len(rows), -1)
        # column i predicts token i + 1, which lies in segment (i + 1) // L
        nll = torch.cat([torch.full((len(rows), 1), float("nan")), nll], dim=1)
        if isinstance(net, train.MemformerNet):
            nll[:, :L] = float("nan")   # its first segment is not predicted
        by_segment.append(nll.view(len(rows), n_segments, L).nanmean(dim=(0, 2)) / math.log(2) / bytes_per_token)
        out.append(float(nll.nanmean()) / math.log(2) / bytes_per_token)
    return out + by_segment


# -- main ----------------------------------------------------------------------------------------------------

def make_config(args, vocab):
    if args.arch == "memformer":
        return memformer_ref.full_config({
            "vocab_size": vocab, "d_model": args.d_model, "n_heads": args.n_heads, "d_ff": args.d_ff,
            "n_enc_layers": args.layers, "n_dec_layers": args.layers, "n_slots": args.slots,
            "segment_len": args.segment_len, "writer_temperature": 0.5, "tie_embeddings": True})
    return rmt_ref.full_config({
        "vocab_size": vocab, "d_model": args.d_model, "n_heads": args.n_heads, "n_layers": args.layers,
        "d_ff": args.d_ff, "n_mem": args.slots, "segment_len": args.segment_len,
        "n_positions": 2 * args.slots + args.segment_len, "mask": args.mask})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", choices=sorted(train.NETS))
    ap.add_argument("--out", help="the model file (bytes) or checkpoint folder (bpe)")
    ap.add_argument("--corpus", default=CORPUS)
    ap.add_argument("--split", choices=("train", "held-out"), default="held-out")
    ap.add_argument("--list", action="store_true", help="list the --split documents and their sizes, and exit")
    ap.add_argument("--tokenizer", choices=("bytes", "bpe"), default="bytes")
    ap.add_argument("--merges", type=int, default=768)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--steps", type=int, default=100000)
    ap.add_argument("--max-minutes", type=float, default=0,
                    help="stop after this much CPU time of the training loop (the machine may be shared: wall "
                         "time depends on the load); SIGUSR1 also stops the run")
    ap.add_argument("--d-model", type=int, default=128)
    ap.add_argument("--n-heads", type=int, default=4)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--d-ff", type=int, default=512)
    ap.add_argument("--slots", type=int, default=16)
    ap.add_argument("--segment-len", type=int, default=16)
    ap.add_argument("--mask", choices=rmt_ref.MASKS, default="blocks")
    ap.add_argument("--bptt", type=int, default=8, help="segments per step that gradients flow through")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--eval-every", type=int, default=0,
                    help="every this many steps, print the held-out bits per byte with and without the memory "
                         "(no effect on the weights)")
    ap.add_argument("--dtype", choices=("F32", "F16"), default="F16")
    ap.add_argument("--memory-bias-scale", type=float, default=1.0,
                    help="Memformer: multiply memory.bias by this after initialising (or --init): M_0 = b / |b| "
                         "is unchanged, but the pull of every written slot back toward b (DESIGN.md 3.1, biased "
                         "memory normalisation) weakens, so a slot keeps more of what was written into it")
    ap.add_argument("--new-document", type=float, default=0.0,
                    help="each step, each stream leaves its document for a new one's start with this probability "
                         "(more documents' first segments in training)")
    ap.add_argument("--init", help="start from this model file's weights (the same architecture and sizes; "
                                   "its segment length may differ: a continuation on shorter segments)")
    args = ap.parse_args()

    if args.list:
        for rel, data in documents(args.corpus, args.split):
            print(f"{len(data):8d} {rel}")
        return
    if not args.arch or not args.out:
        ap.error("--arch and --out are required to train")
    if args.tokenizer == "bpe" and args.arch != "rmt":
        ap.error("--tokenizer bpe is for the RMT (written as a GPT-2 RMT checkpoint folder)")
    train._products = train.PRODUCTS["matmul"]
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    start = time.time()
    train_docs = documents(args.corpus, "train")
    held_docs = documents(args.corpus, "held-out")
    if args.tokenizer == "bpe":
        bpe = BPE(learn_bpe(train_docs, args.merges))
        encode, vocab = bpe.encode, len(bpe.vocab)
    else:
        bpe, encode, vocab = None, (lambda data: list(data)), 256
    as_ids = [torch.tensor(encode(data), dtype=torch.long) for _, data in train_docs]
    held_ids = [torch.tensor(encode(data), dtype=torch.long) for _, data in held_docs]
    n_train_bytes = sum(len(d) for _, d in train_docs)
    bytes_per_token = n_train_bytes / sum(len(d) for d in as_ids)
    print(f"corpus: {len(train_docs)} training documents, {n_train_bytes} bytes, {bytes_per_token:.3f} bytes "
          f"per token; {len(held_docs)} held-out documents, {sum(len(d) for _, d in held_docs)} bytes "
          f"({time.time() - start:.0f} s)", flush=True)

    cfg = make_config(args, vocab)
    params = train.init_params(args.arch, cfg)
    init_source = None
    if args.init:
        weights, meta = read_safetensors(args.init)
        weights = {k: torch.as_tensor(np.asarray(v, dtype=np.float32)) for k, v in weights.items()}
        # position embeddings [segment_len, d]: a shorter segment keeps the first rows
        weights = {k: v[:params[k].shape[0]] if "pos_emb" in k and k in params else v for k, v in weights.items()}
        if meta.get("memscope.arch") != args.arch or set(weights) != set(params) or any(
                tuple(weights[k].shape) != tuple(params[k].shape) for k in params):
            raise SystemExit(f"train_lm.py: {args.init} is not a {args.arch} of these sizes")
        for k in params:
            params[k].data.copy_(weights[k])
        init_source = meta.get("memscope.source", "")
    if args.memory_bias_scale != 1.0:
        if args.arch != "memformer":
            ap.error("--memory-bias-scale is for the Memformer")
        params["memory.bias"].data.mul_(args.memory_bias_scale)
    worst = train.self_check(args.arch, cfg, params, "copy")
    print(f"self-check: batched float32 forward within {worst:.2g} of the float64 reference", flush=True)
    net = train.NETS[args.arch](cfg, params)
    opt = torch.optim.AdamW(list(params.values()), lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)
    streams = Streams(as_ids, args.batch, args.bptt * args.segment_len, rng, args.new_document)
    state, step, running = None, 0, None
    # SIGUSR1 ends the run after the current step (evaluated and written as if --steps had said so)
    stop = []
    signal.signal(signal.SIGUSR1, lambda *_: stop.append(True))
    start, cpu_start = time.time(), time.process_time()
    while step < args.steps:
        for group in opt.param_groups:
            group["lr"] = args.lr * min(1.0, (step + 1) / args.warmup)
        tokens, fresh = streams.next()
        total, count, state = chunk_nll(args.arch, net, tokens, fresh, state, args.bptt)
        loss = total / count
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
        opt.step()
        step += 1
        bits = loss.item() / math.log(2) / bytes_per_token
        running = bits if running is None else 0.98 * running + 0.02 * bits
        out_of_time = bool(stop) or (args.max_minutes > 0 and time.process_time() - cpu_start > 60 * args.max_minutes)
        if step % args.log_every == 0 or step == args.steps or out_of_time:
            print(f"step {step}: {running:.3f} bits per byte (running mean)  {time.time() - start:.0f} s, "
                  f"{time.process_time() - cpu_start:.0f} s of CPU", flush=True)
        if args.eval_every and step % args.eval_every == 0 and not out_of_time:
            m, r, seg_m, seg_r = held_out_bits(net, held_ids, 32, bytes_per_token)
            saved = (seg_r - seg_m)[2 if args.arch == "memformer" else 1:]
            print(f"  held-out: {m:.3f} bits per byte with the memory, {r:.3f} reset; saved at segment indices "
                  f"{2 if args.arch == 'memformer' else 1}..31: smallest {float(saved.min()):.3f}, "
                  f"mean {float(saved.mean()):.3f}", flush=True)
        if out_of_time:
            break
    wall, cpu = time.time() - start, time.process_time() - cpu_start
    with_memory, reset, seg_memory, seg_reset = held_out_bits(net, held_ids, 32, bytes_per_token)
    print(f"done: {step} steps in {wall:.0f} s ({cpu:.0f} s of CPU); held-out {with_memory:.3f} bits per byte, {reset:.3f} with the "
          "memory reset (first 32 segments of each document, float32)", flush=True)
    saved = seg_reset - seg_memory
    first = 1 if args.arch == "memformer" else 0
    print("saved by the memory at segment index 1..31 (bits per byte): " +
          " ".join(f"{float(v):.2f}" for v in saved[1:]) + f"; smallest {float(saved[first + 1:].min()):.3f}",
          flush=True)

    command = (f"tests/reference/train_lm.py --arch {args.arch} --out {os.path.basename(args.out)} "
               f"--tokenizer {args.tokenizer}" + (f" --merges {args.merges}" if bpe else "") +
               f" --seed {args.seed} --steps {step} --d-model {args.d_model} --n-heads {args.n_heads} "
               f"--layers {args.layers} --d-ff {args.d_ff} --slots {args.slots} --segment-len {args.segment_len} "
               f"--mask {args.mask} --bptt {args.bptt} --batch {args.batch} --lr {args.lr} "
               f"--warmup {args.warmup} --dtype {args.dtype}"
               + (f" --memory-bias-scale {args.memory_bias_scale}" if args.memory_bias_scale != 1.0 else "")
               + (f" --new-document {args.new_document}" if args.new_document else "")
               + (f" --init {os.path.basename(args.init)}" if args.init else ""))
    source = (f"{command} (Memscope's trainer, torch {torch.__version__}, 1 thread): {args.arch} language model "
              f"trained on the reStructuredText sources of Python's documentation as Debian's {CORPUS_PACKAGE} "
              f"installs them (PSF License 2), held out: {', '.join(HELD_OUT)}; {step} steps of {args.batch} "
              f"streams x {args.bptt} segments of {args.segment_len} tokens, truncated backpropagation through "
              f"time with the memory carried between steps, AdamW lr {args.lr}. Held-out bits per byte on the "
              f"first 32 segments of each document: {with_memory:.3f} with the memory, {reset:.3f} with it reset "
              f"at every segment (PyTorch float32; memscope-cli run and run --reset-memory are the authority)."
              + (f" --init {os.path.basename(args.init)} was made by: {init_source}" if args.init else ""))
    weights = {k: v.detach().clone() for k, v in params.items()}
    if bpe:
        stored, _ = hf_checkpoint.rounded(weights, args.dtype)
        hf_checkpoint.write_checkpoint(args.out, cfg, stored, vocab_merges=bpe.files())
        with open(os.path.join(args.out, "memscope.source.txt"), "w", encoding="utf-8") as f:
            f.write(source + "\n")
    else:
        write_model(args.out, args.arch, cfg, weights, source, dtype=args.dtype)
    print(f"wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()
