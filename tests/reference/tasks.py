#!/usr/bin/env python3
"""The two memory tasks Memscope's trained models learn, generated exactly as core/ms-tasks.c does.

Every token is a printable ASCII byte (the `bytes` tokenizer, no specials), every part of an instance is
aligned to segments of `segment_len` = L tokens (the model's), and an instance is a token list plus an answer
mask: accuracy is measured on the answer tokens only. Both tasks need information from segments the
answers are not in, so a model whose memory is reset at every segment can only guess.

PRNG (shared with C): splitmix64. The state is a uint64 initialised to the seed; `next()` adds
0x9E3779B97F4A7C15 to the state and returns mix(state) with
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;  z = (z ^ (z >> 27)) * 0x94D049BB133111EB;  z ^ (z >> 31)
(all modulo 2^64). `below(n)` = next() % n. Instances are drawn one after the other from one stream, so
`--seed S --n N` means the first N instances of the stream seeded with S.

copy (L >= 2), chance 1/8:
    string      2 segments: 2L symbols, each COPY_ALPHABET[below(8)], COPY_ALPHABET = "abcdefgh"
    distractor  2 segments: the separator '|', then 2L-2 digits FILLER_DIGITS[below(10)] ("0123456789"),
                then the marker '>'
    answer      2 segments: the string again (these 2L tokens are the answer tokens)
    e.g. L=8, seed 1:  "bhgdbaff" "agbgacad" "|5142645" "6399114>" "bhgdbaff" "agbgacad"

recall (L >= 3), chance 1/10: 4 key->value pairs written "K=v", keys distinct uppercase letters from
RECALL_KEYS = "ABCDEFGHIJKLMNOP", values digits "0123456789"; draws in this order:
    keys        partial Fisher-Yates over RECALL_KEYS: for i in 0..3: j = i + below(16 - i), swap(i, j);
                the keys are the first 4 letters
    values      for i in 0..3: RECALL_VALUES[below(10)]
    segments    partial Fisher-Yates over [0 .. 4]: for i in 0..3: j = i + below(5 - i), swap(i, j);
                pair i goes to context segment seg[i]. The 6th (last) context segment is always filler:
                Memformer decodes the first query segment from the encoding of the segment before it, which
                would otherwise hand it a pair without any memory.
    offsets     for i in 0..3: below(L - 2); pair i is written at token seg[i]*L + offset
    order       Fisher-Yates over [0 .. 3]: for i in 0..3: j = i + below(4 - i), swap(i, j)
    context     6 segments of '.' with the 4 pairs written in
    queries     pairs queried in `order` as "K?v", floor(L/3) queries per segment, each query segment padded
                with '.' to L tokens (ceil(4 / floor(L/3)) segments); the values v are the answer tokens
    e.g. L=8, seed 1:  "..B=1..." ".....G=3" "....K=5." "....F=8." "........" "........" "G?3B?1.." "K?5F?8.."

Command line: `tasks.py TASK --segment-len L [--seed S] [--n N] [--mask]` prints N instances, one a line
(with --mask a second line per instance marking answer tokens with '^'); `--out FILE` instead writes the N
instances back to back, with nothing between or after them (the demo inputs in resources/inputs/).
"""

import argparse

MASK64 = (1 << 64) - 1

COPY_ALPHABET = b"abcdefgh"
FILLER_DIGITS = b"0123456789"
COPY_STRING_SEGMENTS = 2
COPY_DISTRACTOR_SEGMENTS = 2

RECALL_KEYS = b"ABCDEFGHIJKLMNOP"
RECALL_VALUES = b"0123456789"
RECALL_PAIRS = 4
RECALL_CONTEXT_SEGMENTS = 6

TASKS = ("copy", "recall")
CHANCE = {"copy": 1.0 / len(COPY_ALPHABET), "recall": 1.0 / len(RECALL_VALUES)}
MIN_SEGMENT_LEN = {"copy": 2, "recall": 3}


class SplitMix64:
    """splitmix64 (Steele, Lea, Flood 2014), bit-identical to ms_rng_* in core/ms-tasks.c."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n


def _shuffle_prefix(items, count, rng):
    """Partial Fisher-Yates: for i < count swap items[i] with items[i + below(len - i)]."""
    for i in range(count):
        j = i + rng.below(len(items) - i)
        items[i], items[j] = items[j], items[i]
    return items


def task_length(task, segment_len):
    """Tokens in one instance of `task` for segments of `segment_len`."""
    L = segment_len
    if task == "copy":
        return (2 * COPY_STRING_SEGMENTS + COPY_DISTRACTOR_SEGMENTS) * L
    per = L // 3
    return (RECALL_CONTEXT_SEGMENTS + -(-RECALL_PAIRS // per)) * L


def copy_instance(rng, segment_len, string_segments=COPY_STRING_SEGMENTS,
                  distractor_segments=COPY_DISTRACTOR_SEGMENTS):
    """One copy instance: (tokens bytes, answer mask list of bool). Other segment counts than the defaults
    are easier variants for the trainer's curriculum only; C generates the defaults."""
    L = segment_len
    n_str = string_segments * L
    string = bytes(COPY_ALPHABET[rng.below(len(COPY_ALPHABET))] for _ in range(n_str))
    filler = bytes(FILLER_DIGITS[rng.below(len(FILLER_DIGITS))] for _ in range(distractor_segments * L - 2))
    if distractor_segments == 0:  # curriculum only: the answer follows the string at once
        filler = b""
    tokens = string + (b"|" + filler + b">" if distractor_segments else b"") + string
    answer = [False] * (len(tokens) - n_str) + [True] * n_str
    return tokens, answer


def recall_instance(rng, segment_len, pairs=RECALL_PAIRS, context_segments=RECALL_CONTEXT_SEGMENTS,
                    in_segment=False, pair_offset=None):
    """One recall instance: (tokens bytes, answer mask list of bool). Fewer pairs or context segments than
    the defaults are easier variants for the trainer's curriculum only (context_segments > pairs); C
    generates the defaults. in_segment (curriculum only): a filler segment, then one segment holding the
    pairs back to back from offset below(L - 6P + 1) and at once every pair queried in random order, so
    that binding keys to values can be learnt in context, without the memory."""
    L = segment_len
    P, C = pairs, context_segments
    keys = _shuffle_prefix(list(RECALL_KEYS), P, rng)[:P]
    values = [RECALL_VALUES[rng.below(len(RECALL_VALUES))] for _ in range(P)]
    if in_segment:
        if 6 * P > L:
            raise ValueError(f"{P} pairs and their queries do not fit in a segment of {L}")
        start = rng.below(L - 6 * P + 1)
        order = _shuffle_prefix(list(range(P)), P, rng)
        body = b"".join(bytes([keys[i], ord("="), values[i]]) for i in range(P))
        body += b"".join(bytes([keys[i], ord("?"), values[i]]) for i in order)
        segment = b"." * start + body + b"." * (L - start - len(body))
        answer = [False] * (L + start + 3 * P) + [False, False, True] * P + [False] * (L - start - 6 * P)
        return b"." * L + segment, answer
    segs = _shuffle_prefix(list(range(C - 1)), P, rng)[:P]  # the last context segment stays filler
    # pair_offset (experiment): every pair at this offset of its segment, no offsets drawn
    offsets = [rng.below(L - 2) for _ in range(P)] if pair_offset is None else [pair_offset] * P
    order = _shuffle_prefix(list(range(P)), P, rng)
    context = bytearray(b"." * (C * L))
    for i in range(P):
        at = segs[i] * L + offsets[i]
        context[at:at + 3] = bytes([keys[i], ord("="), values[i]])
    per = L // 3
    tokens = bytearray(context)
    answer = [False] * len(context)
    for start in range(0, P, per):
        segment = bytearray()
        seg_answer = []
        for i in order[start:start + per]:
            segment += bytes([keys[i], ord("?"), values[i]])
            seg_answer += [False, False, True]
        segment += b"." * (L - len(segment))
        seg_answer += [False] * (L - len(seg_answer))
        tokens += segment
        answer += seg_answer
    return bytes(tokens), answer


def generate(task, segment_len, rng, **variant):
    """Draws the next instance of `task` from `rng`: (tokens bytes, answer mask). `variant` (keyword
    arguments of copy_instance / recall_instance) selects a curriculum variant; empty = the task itself."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}, expected one of {TASKS}")
    if segment_len < MIN_SEGMENT_LEN[task]:
        raise ValueError(f"task {task} needs segment_len >= {MIN_SEGMENT_LEN[task]}")
    return (copy_instance if task == "copy" else recall_instance)(rng, segment_len, **variant)


def instances(task, segment_len, seed, n):
    """The first `n` instances of the stream seeded with `seed`."""
    rng = SplitMix64(seed)
    return [generate(task, segment_len, rng) for _ in range(n)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("task", choices=TASKS)
    ap.add_argument("--segment-len", type=int, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n", type=int, default=1)
    ap.add_argument("--mask", action="store_true", help="also print a line marking answer tokens with ^")
    ap.add_argument("--out", help="write the instances back to back to this file instead")
    args = ap.parse_args()
    if args.out:
        with open(args.out, "wb") as f:
            for tokens, _ in instances(args.task, args.segment_len, args.seed, args.n):
                f.write(tokens)
        return
    for tokens, answer in instances(args.task, args.segment_len, args.seed, args.n):
        print(tokens.decode("ascii"))
        if args.mask:
            print("".join("^" if a else " " for a in answer).rstrip())


if __name__ == "__main__":
    main()
