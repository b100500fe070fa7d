#!/usr/bin/env bash
# Regenerates the README's screenshot (resources/figures/workbench.png): the
# workbench test starts on the demo under Xvfb, as every UI test does, and
# its /workbench/readme-screenshot step saves the window comparing the two
# trained copy models' write attention of one segment, token by token.
#   resources/figures/make-screenshot.sh [BUILD_DIR]     (default .build/release)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-.build/release}
meson test -C "$build" workbench --test-args '-p /workbench/starts-on-demo -p /workbench/readme-screenshot' >/dev/null
cp "$build/tests/ui/screenshots/readme-workbench.png" resources/figures/workbench.png
echo "wrote resources/figures/workbench.png"
