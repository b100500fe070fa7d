#!/usr/bin/env bash
# Regenerates the figures of the text models (README, "What the memory is worth"):
#   text-bits-by-segment.png  test bits per byte by segment index, each shipped text model with its
#                             memory and with it reset at every segment (memory-by-segment.py, the C core's
#                             `run` and `run --reset-memory` over every document of the test split,
#                             tests/eval/test-split.json: Debian's sphinx-doc; over
#                             resources/inputs/text-demo.txt when sphinx-doc is not installed)
#   text-retention.png, text-types.png   Memformer (run A, left) and RMT (run B, right) on the demo text
#   text-rmt-write.png, text-memformer-write.png   one mid-document segment's write attention
#   text-forgetting.png       causal retention of the same two runs: mean ΔNLL against t − s (memscope-cli causal)
# and prints the slot-type fractions by document position (the numbers the README quotes).
#   resources/figures/make-text-figures.sh [BUILD_DIR]     (default .build/release)
set -euo pipefail
cd "$(dirname "$0")/../.."
cli=${1:-.build/release}/app/memscope-cli
out=resources/figures
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# the test split's documents, as tests/eval/test-split.json lists them
mapfile -t texts < <(/usr/bin/python3 -c 'import json, os, sys
split = json.load(open(sys.argv[1]))
if os.path.isdir(split["root"]):
    print("\n".join(os.path.join(split["root"], d["path"]) for d in split["documents"]))' tests/eval/test-split.json)
split=test
if [ ${#texts[@]} -eq 0 ]; then
  echo "make-text-figures.sh: the test split is missing (Debian's sphinx-doc); measuring on the demo text alone" >&2
  texts=(resources/inputs/text-demo.txt)
  split=demo
fi
/usr/bin/python3 "$out/memory-by-segment.py" --cli "$cli" --out "$out/text-bits-by-segment.png" \
  --csv "$work/bits.csv" --split "$split" \
  "Memformer=resources/models/text-memformer.safetensors" "RMT=resources/models/text-rmt.safetensors" \
  "RMT, BPE=resources/models/text-rmt-bpe.safetensors" -- "${texts[@]}"

for arch in memformer rmt; do
  "$cli" record "resources/models/text-$arch.safetensors" resources/inputs/text-demo.txt \
    --recording "$work/text.sqlite" --name "$arch" >/dev/null
  "$cli" export "$work/text.sqlite" --run $([ $arch = memformer ] && echo 1 || echo 2) --view types \
    --out "$work/types-$arch.csv"
done
for view in retention types; do
  "$cli" compare "$work/text.sqlite" --runs 1,2 --view "$view" --preset double --dpi 200 \
    --out "$out/text-$view.png" >/dev/null
done
n=$(($(wc -l < "$work/types-rmt.csv") - 1))
for arch in memformer rmt; do
  "$cli" export "$work/text.sqlite" --run $([ $arch = memformer ] && echo 1 || echo 2) --view write \
    --segment $((n / 2)) --preset single --dpi 200 --out "$out/text-$arch-write.png" >/dev/null
done

# Slot-type fractions by where the segment lies in the document: its first 4 segments, segments 4-63, then
# the rest in thirds (early, middle, late).
/usr/bin/python3 - "$work/types-memformer.csv" "$work/types-rmt.csv" <<'PY'
import csv, sys
print("| model | segments | retain | mixed | overwrite |")
print("|---|---|---:|---:|---:|")
for name, path in zip(("Memformer", "RMT"), sys.argv[1:]):
    rows = [r for r in csv.DictReader(open(path))]
    n = len(rows)
    third = (n - 64) // 3
    spans = [("0-3", 0, 4), ("4-63", 4, 64), (f"64-{63 + third}", 64, 64 + third),
             (f"{64 + third}-{63 + 2 * third}", 64 + third, 64 + 2 * third), (f"{64 + 2 * third}-{n - 1}", 64 + 2 * third, n)]
    for label, a, b in spans:
        part = rows[a:b]
        mean = {k: sum(float(r[k]) for r in part) / len(part) for k in ("retain", "mixed", "overwrite")}
        print(f"| {name} | {label} | {mean['retain']:.2f} | {mean['mixed']:.2f} | {mean['overwrite']:.2f} |")
PY
echo "wrote $out/text-{bits-by-segment,retention,types,memformer-write,rmt-write}.png" >&2

# Causal retention (memscope-cli causal): the memory after each of 64 mid-document source segments s replaced
# by M_0, the run replayed for 16 segments; mean ΔNLL (nats per token) at t - s, over the sources.
for run in 1 2; do
  "$cli" causal "$work/text.sqlite" --run $run --horizon 16 --first $((n / 2)) --last $((n / 2 + 64)) >/dev/null
done
# text-forgetting.png: the same, drawn (the forgetting view of both runs on one scale), beside text-retention.png
"$cli" compare "$work/text.sqlite" --runs 1,2 --view forgetting --preset double --dpi 200 \
  --out "$out/text-forgetting.png" >/dev/null
/usr/bin/python3 - "$work/text.sqlite" <<'PY'
import sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
print("| model | " + " | ".join(f"t-s={k}" for k in (1, 2, 3, 4, 8)) + " |")
print("|---|" + "---:|" * 5)
for run, name in ((1, "Memformer"), (2, "RMT")):
    sums, counts = [0.0] * 16, [0] * 16
    for (blob,) in db.execute("SELECT delta_nll FROM causal WHERE run_id = ? AND replacement = 'initial' "
                              "AND slot = -1", (run,)):
        for k, v in enumerate(struct.unpack(f"<{len(blob) // 4}f", blob)):
            if v == v:
                sums[k] += v
                counts[k] += 1
    print(f"| {name} | " + " | ".join(f"{sums[k - 1] / counts[k - 1]:.3f}" for k in (1, 2, 3, 4, 8)) + " |")
PY
