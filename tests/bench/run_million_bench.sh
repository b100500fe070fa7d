#!/usr/bin/env bash
# A million tokens end to end (issue 23), never a test: memscope-cli record of at least N tokens (default
# 1,000,000) into a compact recording, reporting the wall time, the process's CPU time, its peak RSS and
# the recording's size (bytes per token); then, with --gui, bench-gui on that recording, opened twice
# (the recording and a copy of it, so the window compares two such runs).
#
#   tests/bench/run_million_bench.sh [--build DIR] [--model copy-rmt|gpt2-rmt] [--tokens N] [--threads T]
#                                    [--dir DIR] [--gui]
#
# copy-rmt: the shipped trained copy RMT (resources/models; d 64, 16 slots, L 8) on the copy demo input
#   repeated to N bytes (its tokenizer is bytes): 125,000 segments per million tokens.
# gpt2-rmt: the GPT-2-small-shape RMT of make_bench_models.py (random weights; d 768, 12 layers, 16 memory
#   tokens, L 512, a 50,257-id BPE tokenizer) on pseudo-random English-like text, recorded for
#   ceil(N / 512) segments (--max-segments).  One thread runs it at a few hundred tokens per second: about
#   an hour per million tokens on a quiet machine.
# Run it under `nice -n 10` on a shared machine, and report the load it ran under (printed first).
# --dir keeps the model, input and recording there (default: a temporary folder, removed at the end
# unless --gui needs it).  The size target beside the measurement is issue 23's, (K·d·4 + K·K·4) / L + 64
# bytes per token (tests/bench/recording_size.py, which also breaks the file down by table).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=.build/release
model=copy-rmt
tokens=1000000
threads=1
dir=
gui=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --tokens) tokens=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --gui) gui=1; shift ;;
    *) echo "usage: $0 [--build DIR] [--model copy-rmt|gpt2-rmt] [--tokens N] [--threads T] [--dir DIR] [--gui]" >&2
       exit 2 ;;
  esac
done
if [ -z "$dir" ]; then
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
fi
mkdir -p "$dir"
ninja -C "$build" app/memscope-cli >/dev/null

echo "## A million tokens: $model, $tokens tokens, $threads thread(s)"
lscpu | grep 'Model name' || true
echo "commit $(git rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%MZ), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

case "$model" in
  copy-rmt)
    model_file=resources/models/copy-rmt.safetensors
    input="$dir/copy-million.txt"
    # the copy demo (two copy instances) again and again, one token per byte
    (yes "$(cat resources/inputs/copy-demo.txt)" || true) | head -c "$tokens" > "$input"
    limit=()
    ;;
  gpt2-rmt)
    /usr/bin/python3 tests/bench/make_bench_models.py --out "$dir" --only gpt2-rmt >/dev/null
    model_file="$dir/gpt2-rmt.safetensors"
    input="$dir/words.txt"
    # about 4.5 bytes per token of the synthetic tokenizer's words: 8 bytes per token leaves room
    /usr/bin/python3 - "$input" "$tokens" <<'PY'
import random, sys
random.seed(23)
words = ("the of and to in is was that for on with as by at from his her memory segment token slot model "
         "attention layer head read write retention provenance recurrent transformer long input context").split()
with open(sys.argv[1], "w") as f:
    n = 0
    while n < 8 * int(sys.argv[2]):
        line = " ".join(random.choice(words) for _ in range(12)) + ".\n"
        f.write(line)
        n += len(line)
PY
    limit=(--max-segments $(( (tokens + 511) / 512 )))
    ;;
  *) echo "unknown model $model (copy-rmt or gpt2-rmt)" >&2; exit 2 ;;
esac

db="$dir/million.sqlite"
rm -f "$db" "$db-wal" "$db-shm"
MEMSCOPE_THREADS=$threads /usr/bin/python3 - "$build/app/memscope-cli" "$model_file" "$input" "$db" "${limit[@]}" <<'PY'
import json, os, resource, sqlite3, subprocess, sys, time
sys.path.insert(0, "tests/bench")
from recording_size import measure
cli, model, text, db, *limit = sys.argv[1:]
t = time.perf_counter()
subprocess.run([cli, "record", model, text, "--recording", db, "--name", os.path.basename(model), *limit],
               check=True, stdout=subprocess.DEVNULL)
wall = time.perf_counter() - t
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
size = os.path.getsize(db)
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
segments, recorded = con.execute("SELECT count(*), max(token_end) FROM segments").fetchone()
con.close()
print(json.dumps({"bench": "million", "model": os.path.basename(model), "tokens": recorded, "segments": segments,
                  "threads": int(os.environ["MEMSCOPE_THREADS"]), "wall_seconds": round(wall, 1),
                  "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
                  "tokens_per_second": round(recorded / wall), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
                  "recording_bytes": size, "bytes_per_token": round(size / recorded, 1),
                  "target_bytes_per_token": measure(db)["target_bytes_per_token"],
                  "load_after": open("/proc/loadavg").read().split()[:3]}))
PY

if [ "$gui" = 1 ]; then
  ninja -C "$build" tests/bench/bench-gui >/dev/null
  cp "$db" "$dir/million-b.sqlite"
  echo "load average before bench-gui: $(cut -d' ' -f1-3 /proc/loadavg)"
  xvfb-run -a env GSK_RENDERER=cairo GTK_A11Y=none \
    "$build/tests/bench/bench-gui" --recording "$db" --recording "$dir/million-b.sqlite"
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
