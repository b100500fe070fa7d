#!/usr/bin/env python3
"""Bits per byte by segment index, with the memory and with it reset, as the C core measures them.

    memory-by-segment.py --cli BIN --out FIGURE.png [--csv FILE] [--split test] NAME=MODEL... -- TEXT...

For every model and text, `memscope-cli run --json` and `run --json --reset-memory` give each segment's summed
NLL over its predicted tokens; segment t's bits per byte is that sum / ln 2 over the bytes of those tokens.
Segments are pooled over the texts by index: indices 0-7 one by one, then powers-of-two bins [8, 16),
[16, 32), ... (later bins hold fewer texts: only the long ones reach them). The figure (one line per model
with its memory, dashed with the memory reset) is drawn as PDF by hand, with the standard Helvetica font, and
rasterised by pdftoppm (poppler-utils), so nothing here needs a plotting library; --csv writes the numbers,
and a Markdown table goes to standard output. Standard library only.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

COLOURS = [(0.12, 0.47, 0.71), (0.85, 0.37, 0.01), (0.17, 0.63, 0.17), (0.58, 0.40, 0.74)]


def bins_of(index):
    """The bin a segment index falls in: (first index, last index + 1)."""
    if index < 8:
        return (index, index + 1)
    lo = 1 << (index.bit_length() - 1)
    return (lo, 2 * lo)


def measure(cli, model, text, reset):
    """{bin: [bits, bytes]} for one run of the C core."""
    args = [cli, "run", model, text, "--json"] + (["--reset-memory"] if reset else [])
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"memory-by-segment.py: {' '.join(args)} failed: {r.stderr.strip()}")
    out = {}
    for seg in json.loads(r.stdout)["segments"]:
        if not seg["n_predicted"]:
            continue
        tokens = seg["tokens"]
        unpredicted = tokens[:len(tokens) - seg["n_predicted"]]   # a run's first token(s) have no prediction
        n_bytes = (seg["byte_end"] - seg["byte_begin"]) - sum(t["end"] - t["start"] for t in unpredicted)
        cell = out.setdefault(bins_of(seg["segment"]), [0.0, 0])
        cell[0] += seg["mean_nll"] * seg["n_predicted"] / math.log(2)
        cell[1] += n_bytes
    return out


def first_differing_index(model):
    """The first segment index where the memory can change a prediction: 1 for an RMT (segment 0 starts from
    M_0 either way), 2 for a Memformer (its segment 1 is decoded from segment 0's encoding, which read M_0)."""
    with open(model, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        if n > 1 << 24:
            sys.exit(f"memory-by-segment.py: {model}: a header of {n} bytes is not a model file's")
        arch = json.loads(f.read(n)).get("__metadata__", {}).get("memscope.arch")
    return 2 if arch == "memformer" else 1


def pdf_text(s):
    return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def draw(path, series, bins, dpi, split):
    """series: [(label, colour, {bin: (with memory, reset)})]; split names the texts ("held-out", "test").
    Writes the PNG at `path`."""
    W, H = 480.0, 300.0                      # points
    left, right, bottom, top = 52.0, 150.0, 42.0, 22.0
    pw, ph = W - left - right, H - bottom - top
    values = [v for _, _, curve in series for pair in curve.values() for v in pair]
    lo, hi = math.floor(min(values) * 4) / 4, math.ceil(max(values) * 4) / 4
    xs = {b: i for i, b in enumerate(bins)}
    X = lambda i: left + pw * (i + 0.5) / len(bins)                     # noqa: E731
    Y = lambda v: bottom + ph * (v - lo) / (hi - lo)                    # noqa: E731
    ops = ["0.6 w 0 0 0 RG", f"{left} {bottom} {pw} {ph} re S", "BT /F1 8 Tf ET"]
    step = 0.25 if hi - lo <= 2 else 0.5
    v = lo
    while v <= hi + 1e-9:
        ops.append(f"0.85 0.85 0.85 RG 0.4 w {left} {Y(v):.2f} m {left + pw} {Y(v):.2f} l S")
        ops.append(f"BT /F1 8 Tf 0 0 0 rg {left - 24} {Y(v) - 3:.2f} Td ({v:.2f}) Tj ET")
        v += step
    for b, i in xs.items():
        label = str(b[0]) if b[0] < 1024 else f"{b[0] // 1024}k"   # 1k = 1024: five digits do not fit a column
        ops.append(f"BT /F1 7 Tf 0 0 0 rg {X(i) - 2.0 * len(label):.2f} {bottom - 11} Td ({label}) Tj ET")
    ops.append(f"BT /F1 8 Tf 0 0 0 rg {left + pw / 2 - 125:.2f} {bottom - 26} Td (segment index "
               f"\\(from 8 on, bins [8, 16\\), [16, 32\\), ...; pooled over {pdf_text(split)} texts\\)) Tj ET")
    ops.append(f"BT /F1 9 Tf 0 0 0 rg 14 {bottom + ph / 2 - 30:.2f} Td 0 1 -1 0 14 {bottom + ph / 2 - 30:.2f} Tm "
               "(bits per byte) Tj ET")
    ops.append(f"BT /F1 10 Tf 0 0 0 rg {left} {H - 15} Td ({pdf_text(split.capitalize())} bits per byte: "
               "memory \\(solid\\) vs reset every segment \\(dashed\\)) Tj ET")
    for k, (label, colour, curve) in enumerate(series):
        r, g, b_ = colour
        for which, dash in ((0, "[] 0 d"), (1, "[3 2] 0 d")):
            pts = [(X(xs[b]), Y(curve[b][which])) for b in bins if b in curve]
            path_ops = " ".join(f"{x:.2f} {y:.2f} {'m' if j == 0 else 'l'}" for j, (x, y) in enumerate(pts))
            ops.append(f"{r} {g} {b_} RG 1.2 w {dash} {path_ops} S [] 0 d")
        ly = bottom + ph - 14 - 26 * k
        lx = left + pw + 10
        ops.append(f"{r} {g} {b_} RG 1.2 w {lx} {ly} m {lx + 16} {ly} l S")
        ops.append(f"{r} {g} {b_} RG 1.2 w [3 2] 0 d {lx} {ly - 10} m {lx + 16} {ly - 10} l S [] 0 d")
        ops.append(f"BT /F1 8 Tf 0 0 0 rg {lx + 20} {ly - 3} Td ({pdf_text(label)}) Tj ET")
        ops.append(f"BT /F1 7 Tf 0.3 0.3 0.3 rg {lx + 20} {ly - 13} Td (memory reset) Tj ET")
    content = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {W} {H}] /Contents 4 0 R "
         "/Resources << /Font << /F1 5 0 R >> >> >>").encode(),
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, 1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    with tempfile.TemporaryDirectory() as work:
        src = os.path.join(work, "figure.pdf")
        with open(src, "wb") as f:
            f.write(pdf)
        stem = os.path.join(work, "figure")
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-singlefile", src, stem], check=True)
        os.replace(stem + ".png", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--csv")
    ap.add_argument("--dpi", type=int, default=200)
    ap.add_argument("--split", default="held-out", help="what the texts are, for the figure's labels")
    ap.add_argument("items", nargs="+", help="NAME=MODEL ... -- TEXT ...")
    a = ap.parse_args()
    if "--" in a.items:
        cut = a.items.index("--")
        models, texts = a.items[:cut], a.items[cut + 1:]
    else:
        models = [i for i in a.items if "=" in i]
        texts = [i for i in a.items if "=" not in i]
    if not models or not texts:
        ap.error("give NAME=MODEL pairs, then --, then the texts")
    series, all_bins = [], set()
    rows = ["model,first_segment,last_segment,bytes,bits_per_byte_memory,bits_per_byte_reset"]
    table = []
    for k, item in enumerate(models):
        name, model = item.split("=", 1)
        pooled = [{}, {}]
        for text in texts:
            for which in (0, 1):
                for b, (bits, n) in measure(a.cli, model, text, which == 1).items():
                    cell = pooled[which].setdefault(b, [0.0, 0])
                    cell[0] += bits
                    cell[1] += n
        curve = {b: (pooled[0][b][0] / pooled[0][b][1], pooled[1][b][0] / pooled[1][b][1])
                 for b in pooled[0] if pooled[0][b][1] and b in pooled[1]}
        all_bins |= set(curve)
        series.append((name, COLOURS[k % len(COLOURS)], curve))
        for b in sorted(curve):
            rows.append(f"{name},{b[0]},{b[1] - 1},{pooled[0][b][1]},{curve[b][0]:.4f},{curve[b][1]:.4f}")
        total = [sum(c[0] for c in p.values()) / sum(c[1] for c in p.values()) for p in pooled]
        first = first_differing_index(model)
        worst = max(curve[b][0] - curve[b][1] for b in curve if b[0] >= first)
        table.append(f"| {name} | {total[0]:.3f} | {total[1]:.3f} | {total[1] - total[0]:.3f} | {-worst:.3f} |")
    bins = sorted(all_bins)
    draw(a.out, series, bins, a.dpi, a.split)
    if a.csv:
        with open(a.csv, "w") as f:
            f.write("\n".join(rows) + "\n")
    print("| model | bits/byte, memory | bits/byte, reset | gain | smallest gain at a segment index the memory "
          "can change (RMT from 1, Memformer from 2) |")
    print("|---|---|---|---|---|")
    print("\n".join(table))
    print(f"wrote {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
