#!/usr/bin/env python3
"""Checks exported figures with tools that are not cairo.

    check_export.py png|pdf|svg|plots --sample-figures EXE --outdir DIR

Runs sample-figures into DIR, then checks, against its manifest.json:
  png    chunk CRCs, size from the DPI, the pHYs chunk, and the colours of
         known heatmap cells, decoded here with zlib and struct
  pdf    pdffonts: every font embedded, none Type 3; every image drawn
         with /Interpolate false; pdftoppm renders known cells' colours
  svg    well-formed XML; the cells are one image, one pixel per cell,
         with crisp image-rendering; the page size in points
  plots  the other sample figures are valid PNGs of the right size
Exits non-zero with a message on the first failure.
"""
import argparse
import base64
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class CheckFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def png_chunks(data, label):
    check(data[:8] == PNG_SIGNATURE, f"{label}: not a PNG (bad signature)")
    pos, chunks = 8, []
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        check(zlib.crc32(kind + body) == crc, f"{label}: bad CRC in {kind!r} chunk")
        chunks.append((kind, body))
        pos += 12 + length
    check(chunks and chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND", f"{label}: IHDR/IEND missing")
    return chunks


def png_decode(path):
    """Returns (width, height, channels, rows of bytes, chunks) of an 8-bit
    non-interlaced RGB or RGBA PNG."""
    data = open(path, "rb").read()
    chunks = png_chunks(data, path)
    width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    check(depth == 8 and ctype in (2, 6) and interlace == 0, f"{path}: unexpected PNG type {depth}/{ctype}")
    channels = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = width * channels
    rows, prev, pos = [], bytearray(stride), 0
    for _ in range(height):
        ftype, line = raw[pos], bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
            else:
                check(ftype == 0, f"{path}: bad filter type {ftype}")
        rows.append(line)
        prev = line
    return width, height, channels, rows, chunks


def png_dpi(chunks, label):
    phys = [body for kind, body in chunks if kind == b"pHYs"]
    check(len(phys) == 1, f"{label}: no pHYs chunk, so no DPI is recorded")
    x, y, unit = struct.unpack(">IIB", phys[0])
    check(unit == 1, f"{label}: pHYs unit is not the metre")
    return x * 0.0254, y * 0.0254


def assert_colour(got, want, tolerance, where):
    check(max(abs(g - w) for g, w in zip(got, want)) <= tolerance,
          f"{where}: colour {tuple(got)}, expected {tuple(want)} (+-{tolerance})")


def check_png(outdir, manifest):
    path = os.path.join(outdir, "heatmap.png")
    width, height, channels, rows, chunks = png_decode(path)
    dpi = manifest["dpi"]
    check((width, height) == (round(manifest["width_in"] * dpi), round(manifest["height_in"] * dpi)),
          f"{path}: {width} x {height} px is not {manifest['width_in']} x {manifest['height_in']} in at {dpi} dpi")
    xdpi, ydpi = png_dpi(chunks, path)
    check(abs(xdpi - dpi) < 0.5 and abs(ydpi - dpi) < 0.5, f"{path}: pHYs says {xdpi:.2f} x {ydpi:.2f} dpi")
    for cell in manifest["png_cells"]:
        x, y = int(cell["x"]), int(cell["y"])
        got = rows[y][x * channels:x * channels + 3]
        assert_colour(got, cell["rgb"], 1, f"{path} cell ({cell['row']}, {cell['col']})")
    print(f"ok png: {width} x {height} px, pHYs {xdpi:.1f} dpi, {len(manifest['png_cells'])} cells")


def check_pdf_fonts_and_images(path):
    """Every font embedded and none Type 3; every image /Interpolate false.
    Returns (fonts, images)."""
    fonts = subprocess.run(["pdffonts", path], check=True, capture_output=True, text=True).stdout
    lines = fonts.splitlines()[2:]
    check(lines, f"{path}: pdffonts lists no fonts, but the figure has text")
    for line in lines:
        check("Type 3" not in line, f"{path}: Type 3 font: {line}")
        # name type [type] encoding emb sub uni object ID: emb is 5th from the end.
        check(line.split()[-5] == "yes", f"{path}: font not embedded: {line}")

    data = open(path, "rb").read()
    images = len(re.findall(rb"/Subtype\s*/Image", data))
    crisp = len(re.findall(rb"/Interpolate\s+false", data))
    check(images >= 2, f"{path}: {images} images; expected the cells and the colorbar")
    check(crisp == images, f"{path}: {images} images but {crisp} with /Interpolate false")
    check(b"/Interpolate true" not in data, f"{path}: an image is interpolated")
    return len(lines), images


def check_pdf(outdir, manifest):
    path = os.path.join(outdir, "heatmap.pdf")
    n_fonts, images = check_pdf_fonts_and_images(path)
    check_pdf_fonts_and_images(os.path.join(outdir, "compare.pdf"))  # U+2212, Δ: beyond WinAnsi

    scale = 4  # pixels per point
    subprocess.run(["pdftoppm", "-r", str(72 * scale), "-singlefile", path, os.path.join(outdir, "heatmap-pdf")],
                   check=True)
    ppm = open(os.path.join(outdir, "heatmap-pdf.ppm"), "rb").read()
    match = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", ppm)
    check(match is not None, "pdftoppm wrote no binary PPM")
    width, height = int(match.group(1)), int(match.group(2))
    pixels = ppm[match.end():]
    for cell in manifest["pdf_cells"]:
        x, y = int(cell["x"] * scale), int(cell["y"] * scale)
        got = pixels[(y * width + x) * 3:(y * width + x) * 3 + 3]
        assert_colour(got, cell["rgb"], 2, f"{path} rendered by pdftoppm, cell ({cell['row']}, {cell['col']})")
    print(f"ok pdf: {n_fonts} fonts embedded, {images} images with /Interpolate false, "
          f"{len(manifest['pdf_cells'])} cells right in pdftoppm's {width} x {height} rendering")


def check_svg(outdir, manifest):
    path = os.path.join(outdir, "heatmap.svg")
    root = ET.parse(path).getroot()
    ns = {"svg": "http://www.w3.org/2000/svg"}
    check(root.tag == "{http://www.w3.org/2000/svg}svg", f"{path}: root is {root.tag}")
    check(root.get("width") == f"{manifest['width_in'] * 72:g}pt", f"{path}: width {root.get('width')}")
    images = root.findall(".//svg:image", ns)
    check(len(images) == 2, f"{path}: {len(images)} images; expected the cells and the colorbar")
    for image in images:
        check(image.get("image-rendering") == "optimizeSpeed", f"{path}: image without image-rendering")
        check("image-rendering:pixelated" in (image.get("style") or ""), f"{path}: image without pixelated")
    href = images[0].get("{http://www.w3.org/1999/xlink}href")
    check(href.startswith("data:image/png;base64,"), f"{path}: cells not an embedded PNG")
    chunks = png_chunks(base64.b64decode(href.split(",", 1)[1]), f"{path} cells")
    width, height = struct.unpack(">II", chunks[0][1][:8])
    check((width, height) == (manifest["cols"], manifest["rows"]),
          f"{path}: cell image {width} x {height}, expected one pixel per cell")
    # One image for all cells: no per-cell shapes.
    shapes = sum(1 for e in root.iter() if e.tag.split("}")[-1] in ("rect", "path", "use"))
    check(shapes < manifest["rows"] * manifest["cols"], f"{path}: {shapes} shapes for {manifest['rows']} x "
          f"{manifest['cols']} cells")
    print(f"ok svg: {len(images)} crisp images, cells {width} x {height} px, {shapes} shapes")


def check_plots(outdir, manifest):
    expected = {"stacked.png": (3.5, 3.5 * 0.62), "lines.png": (3.5, 3.5 * 0.62), "compare.png": (7.0, 2.2),
                "long-heatmap.png": (7.0, 7.0 * 0.62)}
    for name, (w_in, h_in) in expected.items():
        path = os.path.join(outdir, name)
        data = open(path, "rb").read()
        chunks = png_chunks(data, path)
        width, height = struct.unpack(">II", chunks[0][1][:8])
        dpi = manifest["dpi"]
        check((width, height) == (round(w_in * dpi), round(h_in * dpi)), f"{path}: {width} x {height} px")
        xdpi, _ = png_dpi(chunks, path)
        check(abs(xdpi - dpi) < 0.5, f"{path}: pHYs says {xdpi:.2f} dpi")
        print(f"ok {name}: {width} x {height} px at {xdpi:.0f} dpi")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("check", choices=["png", "pdf", "svg", "plots"])
    parser.add_argument("--sample-figures", required=True)
    parser.add_argument("--outdir", required=True)
    args = parser.parse_args()

    shutil.rmtree(args.outdir, ignore_errors=True)
    result = subprocess.run([args.sample_figures, args.outdir], capture_output=True, text=True)
    sys.stdout.write(result.stdout)
    if result.returncode != 0:
        print(f"sample-figures failed:\n{result.stderr}", file=sys.stderr)
        return 1
    manifest = json.load(open(os.path.join(args.outdir, "manifest.json")))
    try:
        {"png": check_png, "pdf": check_pdf, "svg": check_svg, "plots": check_plots}[args.check](
            args.outdir, manifest)
    except CheckFailed as failure:
        print(f"FAILED {args.check}: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
