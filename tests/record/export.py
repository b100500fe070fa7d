#!/usr/bin/env python3
"""memscope-cli export and compare, end to end, checked with real tools.

A Memformer and an RMT run of the fixture models are recorded; every view is
exported as PNG, SVG and PDF and each file is checked as a reader of a paper
would rely on: the PNG has the requested size and records its DPI in pHYs,
the PDF embeds every font (no Type 3, per pdffonts) and keeps heatmap cells
unblurred (/Interpolate false), the SVG is valid XML whose heatmap image is
marked for crisp rendering; comparisons (panels named by the runs' names), `export --view all` (one file
per view, OUT-VIEW.EXT) and the error cases exit as documented (1 for
failures, 2 for usage) and leave no file behind.

usage: export.py CLI FIXTURE_DIR CASE
"""
import csv
import json
import os
import re
import sqlite3
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "render"))
from check_export import check_pdf_fonts_and_images, png_decode, png_dpi  # noqa: E402
sys.path.insert(0, HERE)
from slot_arrays import unpack_slots  # noqa: E402

VIEWS = {  # view: extra arguments, is it a heatmap
    "retention": ([], True), "types": ([], False), "provenance": ([], True), "similarity": ([], True),
    "read": ([], True), "read-usage": ([], True), "representation": ([], True), "write": (["--segment", "2", "--head", "1"], True), "nll": ([], False),
    "read-heads": (["--segment", "2"], True), "write-heads": (["--segment", "2"], True),
}


def cli(binary, *args):
    return subprocess.run([binary, *args], capture_output=True, text=True)


def recorded(binary, fixtures, tmp, models=("memformer", "rmt_blocks")):
    text = os.path.join(tmp, "in.txt")
    with open(text, "wb") as f:
        f.write(bytes((i * 31 + i // 3) % 256 for i in range(400)))
    db = os.path.join(tmp, "runs.sqlite")
    for model in models:
        r = cli(binary, "record", os.path.join(fixtures, model + ".safetensors"), text, "--recording", db)
        assert r.returncode == 0, r.stderr
    return db


def distinct_colours(path):
    width, height, channels, rows, _ = png_decode(path)
    return len({bytes(row[x * channels:x * channels + 3]) for row in rows for x in range(0, width, 3)})


def every_view_every_format(binary, fixtures):
    with tempfile.TemporaryDirectory() as tmp:
        db = recorded(binary, fixtures, tmp)
        for run in ("1", "2"):
            for view, (extra, heatmap) in VIEWS.items():
                stem = os.path.join(tmp, f"run{run}-{view}")
                r = cli(binary, "export", db, "--run", run, "--view", view, *extra, "--out", stem + ".png",
                        "--dpi", "150", "--json")
                assert r.returncode == 0, (view, r.stderr)
                info = json.loads(r.stdout)
                assert info["out"] == stem + ".png" and info["width_in"] == 3.5, info
                width, height, _, _, chunks = png_decode(stem + ".png")
                assert (width, height) == (525, round(3.5 * 0.62 * 150)), (view, width, height)
                dpi = png_dpi(chunks, stem)
                assert abs(dpi[0] - 150) < 0.5, dpi
                assert distinct_colours(stem + ".png") > (20 if heatmap else 4), f"{view}: the figure looks empty"

                r = cli(binary, "export", db, "--run", run, "--view", view, *extra, "--out", stem + ".pdf",
                        "--preset", "neurips")
                assert r.returncode == 0, (view, r.stderr)
                if heatmap:
                    check_pdf_fonts_and_images(stem + ".pdf")
                else:
                    fonts = subprocess.run(["pdffonts", stem + ".pdf"], capture_output=True, text=True).stdout
                    lines = fonts.splitlines()[2:]
                    assert lines and all(l.split()[-5] == "yes" and "Type 3" not in l for l in lines), fonts

                r = cli(binary, "export", db, "--run", run, "--view", view, *extra, "--out", stem + ".svg",
                        "--width-in", "4", "--height-in", "3")
                assert r.returncode == 0, (view, r.stderr)
                root = ET.parse(stem + ".svg").getroot()
                assert root.get("width") in ("288pt", "288") and root.get("height") in ("216pt", "216"), root.attrib
                images = [e for e in root.iter() if e.tag.endswith("image")]
                if heatmap:
                    assert images and all(e.get("image-rendering") == "optimizeSpeed" for e in images), view
        print(f"{len(VIEWS)} views x 2 runs x PNG/PDF/SVG: ok")


def compare(binary, fixtures):
    with tempfile.TemporaryDirectory() as tmp:
        # runs 1 and 3: the same Memformer model (same shapes); run 2: RMT with 6 slots instead of 4
        db = recorded(binary, fixtures, tmp, ("memformer", "rmt_blocks", "memformer"))
        for view, fmt, diff, runs in (("retention", "png", True, "1,3"), ("retention", "png", False, "1,2"),
                                      ("similarity", "pdf", False, "1,2"), ("nll", "svg", True, "1,2"),
                                      ("types", "png", False, "1,2")):
            out = os.path.join(tmp, f"cmp-{view}.{fmt}")
            args = ["compare", db, "--runs", runs, "--view", view, "--out", out, "--preset", "double"]
            r = cli(binary, *args + (["--diff"] if diff else []))
            assert r.returncode == 0, (view, r.stderr)
            assert os.path.getsize(out) > 1000
        # a shared scale: one colorbar for both panels, a second only with --diff
        out = os.path.join(tmp, "cmp-retention.pdf")
        assert cli(binary, "compare", db, "--runs", "1,2", "--view", "retention", "--out", out).returncode == 0
        _, images = check_pdf_fonts_and_images(out)
        assert images == 3, images   # two panels + one shared colorbar
        assert cli(binary, "compare", db, "--runs", "1,3", "--view", "retention", "--diff", "--out", out).returncode == 0
        _, images = check_pdf_fonts_and_images(out)
        assert images == 5, images   # + the difference panel and its diverging colorbar
        r = cli(binary, "compare", db, "--runs", "1,2", "--view", "retention", "--diff", "--out", out)
        assert r.returncode == 1 and "equal shapes" in r.stderr, r.stderr
        r = cli(binary, "compare", db, "--runs", "1,2", "--view", "types", "--diff", "--out", out)
        assert r.returncode == 1 and "no difference" in r.stderr, r.stderr
        r = cli(binary, "compare", db, "--runs", "1,9", "--view", "types", "--out", os.path.join(tmp, "x.png"))
        assert r.returncode == 1 and "no run 9" in r.stderr and not os.path.exists(os.path.join(tmp, "x.png"))
        # every view at once, one naming scheme: OUT with -VIEW before the extension
        out = os.path.join(tmp, "all.png")
        r = cli(binary, "export", db, "--run", "2", "--view", "all", "--out", out, "--dpi", "60")
        assert r.returncode == 0, r.stderr
        for view in VIEWS:
            assert os.path.getsize(os.path.join(tmp, f"all-{view}.png")) > 500, view
        assert not os.path.exists(out)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def number(field):
    return float("nan") if field == "" else float(field)


def csv_export(binary, fixtures):
    """--out FILE.csv writes the numbers of the view the figure is drawn from: the recording's own
    retention under the axis labels, NLL per series, binned columns named by their segments."""
    with tempfile.TemporaryDirectory() as tmp:
        db = recorded(binary, fixtures, tmp)
        with sqlite3.connect(db) as c:
            K = {1: 4, 2: 6}
            stored = {run: [unpack_slots(blob, K[run], "retention") for (blob,) in c.execute(
                "SELECT retention FROM segments WHERE run_id = ? ORDER BY segment", (run,))] for run in (1, 2)}
            nll = [t / n if n else None for n, t in c.execute(
                "SELECT n_predicted, total_nll FROM segments WHERE run_id = 1 ORDER BY segment")]
        out = os.path.join(tmp, "retention.csv")
        r = cli(binary, "export", db, "--run", "2", "--view", "retention", "--out", out, "--json")
        assert r.returncode == 0, r.stderr
        info = json.loads(r.stdout)
        rows = read_csv(out)
        S = len(stored[2])
        assert info["rows"] == 6 and info["cols"] == S, info
        assert rows[0][0] == "memory slot \\ segment" and rows[0][1:] == [str(t) for t in range(S)], rows[0]
        assert [row[0] for row in rows[1:]] == [str(i) for i in range(6)]
        for i in range(6):
            for t in range(S):
                assert struct.unpack("<f", struct.pack("<f", number(rows[1 + i][1 + t])))[0] == stored[2][t][i]

        # the same numbers the figure shows: binned to 10 columns, each the mean of its segments
        r = cli(binary, "export", db, "--run", "1", "--view", "retention", "--columns", "10", "--out", out)
        assert r.returncode == 0, r.stderr
        rows = read_csv(out)
        S = len(stored[1])
        width = -(-S // 10)
        assert rows[0][1] == f"0..{width - 1}", rows[0]
        for i in range(4):
            for c, cell in enumerate(rows[1 + i][1:]):
                seg = stored[1][c * width:(c + 1) * width]
                assert abs(number(cell) - sum(s[i] for s in seg) / len(seg)) < 1e-6, (i, c)

        # series: one column per run and series
        out = os.path.join(tmp, "nll.csv")
        r = cli(binary, "compare", db, "--runs", "1,2", "--view", "nll", "--out", out)
        assert r.returncode == 0, r.stderr
        rows = read_csv(out)
        # panels and columns are named by the runs' names
        assert rows[0][0] == "segment" and len(rows[0]) == 3, rows[0]
        assert "memformer" in rows[0][1] and rows[0][1].endswith(" (run 1): mean NLL"), rows[0]
        assert "rmt" in rows[0][2] and rows[0][2].endswith(" (run 2): mean NLL"), rows[0]
        for t, want in enumerate(nll):
            got = number(rows[1 + t][1])
            assert (want is None and got != got) or abs(got - want) < 1e-5, (t, got, want)

        # attention: the columns named by the layout's blocks
        out = os.path.join(tmp, "write.csv")
        r = cli(binary, "export", db, "--run", "2", "--view", "write", "--segment", "3", "--out", out)
        assert r.returncode == 0, r.stderr
        header = read_csv(out)[0]
        assert header[0] == "write block slot \\ position: read block | tokens | write block", header[0]
        assert header[1] == "read block 0" and header[7].startswith("tokens 0 “") and header[-1] == "write block 5", header
        # a token column says its token: this byte model's tokens are the segment's bytes
        with sqlite3.connect(db) as c:
            text = c.execute("SELECT text FROM segments WHERE run_id = 2 AND segment = 3").fetchone()[0]
        shown = {ord(" "): "␣", ord("\n"): "↵"}
        want = [shown.get(b, chr(b) if 0x21 <= b < 0x7f else f"\\x{b:02x}") for b in text]
        assert [h[h.index("“") + 1:-1] for h in header[7:7 + len(text)]] == want, (header, text)

        # every layer and head: cells named by their tile, then the tile's slot or token; the mean tile
        # is the read view's mean over heads
        out = os.path.join(tmp, "read-heads.csv")
        r = cli(binary, "export", db, "--run", "2", "--view", "read-heads", "--segment", "3", "--out", out)
        assert r.returncode == 0, r.stderr
        grid = read_csv(out)
        assert grid[0][1] == "head 0, slot 0" and grid[0][-1].startswith("mean, slot "), grid[0]
        assert grid[1][0] == f"layer 0, token 0 “{want[0]}”", grid[1][0]
        single = os.path.join(tmp, "read.csv")
        assert cli(binary, "export", db, "--run", "2", "--view", "read", "--segment", "3", "--layer", "0",
                   "--out", single).returncode == 0
        mean = read_csv(single)
        cols = len(mean[0]) - 1
        for i, row in enumerate(mean[1:]):
            assert grid[1 + i][0].endswith(row[0][row[0].index(" "):]), (grid[1 + i][0], row[0])
            assert [number(x) for x in grid[1 + i][-cols:]] == [number(x) for x in row[1:]], i
    print("CSV: retention equals the stored values, binned columns their means, NLL per run, attention blocks, "
          "every layer and head")


def errors(binary, fixtures):
    with tempfile.TemporaryDirectory() as tmp:
        db = recorded(binary, fixtures, tmp)
        out = os.path.join(tmp, "fig.png")
        usage = [
            ["--view", "heat", "--out", out],
            ["--view", "retention", "--out", os.path.join(tmp, "fig.jpg")],
            ["--view", "retention", "--out", out, "--preset", "a4"],
            ["--view", "retention", "--out", out, "--colormap", "jet"],
            ["--view", "retention", "--out", out, "--width-in", "3"],
            ["--view", "write", "--out", out, "--head", "first"],
            ["--view", "retention"],
        ]
        for args in usage:
            r = cli(binary, "export", db, "--run", "1", *args)
            assert r.returncode == 2 and r.stderr.strip(), (args, r.returncode, r.stderr)
        failures = [
            (["--run", "5", "--view", "retention", "--out", out], "no run 5"),
            (["--run", "1", "--view", "write", "--segment", "999", "--out", out], "out of range"),
            (["--run", "1", "--view", "read", "--segment", "1", "--layer", "7", "--out", out], "out of range"),
            (["--run", "1", "--view", "provenance", "--slot", "99", "--out", out], "out of range"),
            (["--run", "1", "--view", "retention", "--out", os.path.join(tmp, "no", "such", "dir", "f.png")],
             "f.png"),
        ]
        for args, words in failures:
            r = cli(binary, "export", db, *args)
            assert r.returncode == 1 and words in r.stderr, (args, r.returncode, r.stderr)
        assert not os.path.exists(out), "a failed export left a file"
        assert sorted(os.listdir(tmp)) == ["in.txt", "runs.sqlite"], os.listdir(tmp)  # one file, nothing beside
        r = cli(binary, "export", os.path.join(fixtures, "memformer.safetensors"), "--run", "1", "--view",
                "retention", "--out", out)
        assert r.returncode == 1 and "not a Memscope recording" in r.stderr, r.stderr
        for cmd in ("export", "compare"):
            r = cli(binary, cmd, "--help")
            assert r.returncode == 0 and "--view" in r.stdout


def main():
    binary, fixtures, case = sys.argv[1:4]
    globals()[case](binary, fixtures)
    print(f"{case}: ok")


if __name__ == "__main__":
    main()
