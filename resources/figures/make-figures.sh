#!/usr/bin/env bash
# Regenerates the copy-task figures (tests/reference/README.md) from the shipped trained models:
# records copy-memformer and copy-rmt on resources/inputs/copy-demo.txt and
# exports the retention, provenance and slot-type comparisons (Memformer =
# run A, left; RMT = run B, right) as PNG at the double-column preset.
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
echo "wrote resources/figures/copy-{retention,provenance,types}.png"
