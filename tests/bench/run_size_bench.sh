#!/usr/bin/env bash
# What a compact recording costs per token for every benchmark config (issue 23's size target), never a
# test: memscope-cli record of each model into a fresh recording, then tests/bench/recording_size.py on it —
# bytes per token of the whole file beside the target (K·d·4 + K·K·4) / L + 64 and the pages of each
# table with the share SQLite leaves unused.  Sizes do not depend on the machine's load; one JSON line
# per config.
#
#   tests/bench/run_size_bench.sh [--build DIR] [--dir DIR] [--gpt2] [--paper]
#
# copy-rmt: the shipped copy RMT (d 64, 16 slots, L 8) on the copy demo repeated, 20,000 tokens;
# small-rmt, small-memformer: make_bench_models.py's (d 128, 16 slots, L 64), 400 segments of random bytes;
# rmt-64-slots: the 64-slot RMT of run_record_bench.sh's export benchmark (d 64, L 8), 10,000 segments;
# --paper: paper-rmt and paper-memformer (d 512, 32 slots, L 128), 100 segments;
# --gpt2: the GPT-2-small-shape RMT (random weights, d 768, 16 memory tokens, L 512), 10 segments of
# English-like words (the model file is 498 MB; recording it takes about a minute on one thread).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=.build/release
dir=
gpt2=0
paper=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --gpt2) gpt2=1; shift ;;
    --paper) paper=1; shift ;;
    *) echo "usage: $0 [--build DIR] [--dir DIR] [--gpt2] [--paper]" >&2; exit 2 ;;
  esac
done
if [ -z "$dir" ]; then
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
fi
mkdir -p "$dir"
cli="$build/app/memscope-cli"
ninja -C "$build" app/memscope-cli >/dev/null
echo "## Compact recording size per token ($cli)"
lscpu | grep 'Model name' || true
echo "commit $(git rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%MZ)"

only=(small-memformer small-rmt)
[ "$paper" = 1 ] && only+=(paper-memformer paper-rmt)
[ "$gpt2" = 1 ] && only+=(gpt2-rmt)
/usr/bin/python3 tests/bench/make_bench_models.py --out "$dir" --only "${only[@]}" >/dev/null
/usr/bin/python3 - "$dir/rmt-64-slots.safetensors" <<'PY'
import sys
sys.path.insert(0, "tests/reference")
import torch
from memscope_file import write_model
from rmt_ref import init_weights
cfg = dict(vocab_size=256, d_model=64, n_heads=4, n_layers=1, d_ff=128, n_mem=64, segment_len=8,
           n_positions=136, mask="causal")
write_model(sys.argv[1], "rmt", cfg, init_weights(cfg, torch.Generator().manual_seed(3)),
            source="tests/bench/run_size_bench.sh: random 64-slot RMT (run_record_bench.sh's export benchmark)")
PY
(yes "$(cat resources/inputs/copy-demo.txt)" || true) | head -c 20000 > "$dir/copy.txt"
/usr/bin/python3 -c "import random, sys; random.seed(5); sys.stdout.buffer.write(bytes(random.randrange(256) for _ in range(80000)))" > "$dir/random.txt"
/usr/bin/python3 - "$dir/words.txt" <<'PY'
import random, sys
random.seed(23)
words = ("the of and to in is was that for on with as by at from his her memory segment token slot model "
         "attention layer head read write retention provenance recurrent transformer long input context").split()
with open(sys.argv[1], "w") as f:
    for _ in range(4000):
        f.write(" ".join(random.choice(words) for _ in range(12)) + ".\n")
PY

size() {   # size NAME MODEL INPUT [record options]
  local name=$1 model=$2 input=$3
  shift 3
  rm -f "$dir/$name.sqlite"
  "$cli" record "$model" "$input" --recording "$dir/$name.sqlite" "$@" >/dev/null
  printf '{"config": "%s", ' "$name"
  /usr/bin/python3 tests/bench/recording_size.py "$dir/$name.sqlite" | cut -c2-
}
size copy-rmt resources/models/copy-rmt.safetensors "$dir/copy.txt"
size small-rmt "$dir/small-rmt.safetensors" "$dir/random.txt" --max-segments 400
size small-memformer "$dir/small-memformer.safetensors" "$dir/random.txt" --max-segments 400
size rmt-64-slots "$dir/rmt-64-slots.safetensors" "$dir/random.txt" --max-segments 10000
if [ "$paper" = 1 ]; then
  size paper-rmt "$dir/paper-rmt.safetensors" "$dir/random.txt" --max-segments 100
  size paper-memformer "$dir/paper-memformer.safetensors" "$dir/random.txt" --max-segments 100
fi
if [ "$gpt2" = 1 ]; then
  size gpt2-rmt "$dir/gpt2-rmt.safetensors" "$dir/words.txt" --max-segments 10
fi
