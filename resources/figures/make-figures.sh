#!/usr/bin/env bash
# Regenerates the copy-task figures (tests/reference/README.md) from the shipped trained models:
# records copy-memformer and copy-rmt on resources/inputs/copy-demo.txt and
# exports the retention, provenance and slot-type comparisons (Memformer =
# run A, left; RMT = run B, right) as PNG at the double-column preset; and
# the README's MemBART figure: the untrained demo MemBART's write attention
# in segment 20 of the demo text (what the view draws for MemBART).
#   resources/figures/make-figures.sh [BUILD_DIR]     (default .build/release)
set -euo pipefail
cd "$(dirname "$0")/../.."
cli=${1:-.build/release}/app/memscope-cli
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for arch in memformer rmt; do
  "$cli" record "resources/models/copy-$arch.safetensors" resources/inputs/copy-demo.txt \
    --recording "$work/copy.sqlite" --name "$arch" >/dev/null
done
for view in retention provenance types; do
  "$cli" compare "$work/copy.sqlite" --runs 1,2 --view "$view" --preset double --dpi 200 \
    --out "resources/figures/copy-$view.png"
done
"$cli" record resources/models/demo-membart-untrained.safetensors resources/inputs/text-demo.txt \
  --max-segments 40 --recording "$work/membart.sqlite" >/dev/null
"$cli" export "$work/membart.sqlite" --run 1 --view write --segment 20 --preset single --dpi 200 \
  --out resources/figures/membart-write.png
echo "wrote resources/figures/copy-{retention,provenance,types}.png, resources/figures/membart-write.png"
