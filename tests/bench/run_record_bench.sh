#!/usr/bin/env bash
# The recording benchmark (issue 3), never a test:
#   1. bench-record: the small Memformer and RMT benchmark models over N segments, plain vs recorded
#      (9 runs each way) with attention storage ATTN (default none: the compact recording memscope-cli
#      record makes; f16 or f32 store every layer and head), with 1 and with 2 kernel threads (the
#      recorder's writer thread then shares the second core); overhead, bytes per segment and per token
#      against the compact target, and (compact) the time to replay one segment's attention;
#   2. memscope-cli export of the retention heatmap of a 10,000-segment, 64-slot recording, as PNG and
#      PDF, timed over 5 runs each.
# usage: tests/bench/run_record_bench.sh [BUILD_DIR] [N_SEGMENTS] [ATTN]   (defaults .build/release 400 none)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-.build/release}
n=${2:-400}
attn=${3:-none}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ninja -C "$build" >/dev/null
/usr/bin/python3 tests/bench/make_bench_models.py --out "$work/models" --only small-memformer small-rmt >/dev/null
echo "## Recording overhead ($n segments, --attn $attn)"
lscpu | grep 'Model name' || true
uptime
for threads in 1 2; do
  for m in small-memformer small-rmt; do
    "$build/tests/bench/bench-record" "$work/models/$m.safetensors" "$n" "$work" --threads $threads --attn "$attn"
  done
done

echo "## Exporting the retention heatmap of a 10,000-segment, 64-slot recording"
/usr/bin/python3 - "$work/long.safetensors" <<'PY'
import sys
sys.path.insert(0, "tests/reference")
import torch
from memscope_file import write_model
from rmt_ref import init_weights
cfg = dict(vocab_size=256, d_model=64, n_heads=4, n_layers=1, d_ff=128, n_mem=64, segment_len=8,
           n_positions=136, mask="causal")
write_model(sys.argv[1], "rmt", cfg, init_weights(cfg, torch.Generator().manual_seed(3)),
            source="tests/bench/run_record_bench.sh: random 64-slot RMT for the export benchmark")
PY
/usr/bin/python3 -c "import random, string, sys; random.seed(5); sys.stdout.write(''.join(random.choices(string.ascii_letters, k=80000)))" > "$work/long.txt"
/usr/bin/python3 - "$build/app/memscope-cli" "$work" <<'PY'
import os, subprocess, sys, time
cli, work = sys.argv[1:3]
t = time.perf_counter()
subprocess.run([cli, "record", f"{work}/long.safetensors", f"{work}/long.txt", "--recording", f"{work}/long.sqlite",
                "--attn", "none"], check=True, stdout=subprocess.DEVNULL)
size = sum(os.path.getsize(f"{work}/long.sqlite{x}") for x in ("", "-wal") if os.path.exists(f"{work}/long.sqlite{x}"))
print(f"recorded 10,000 segments (--attn none) in {time.perf_counter() - t:.1f} s; recording {size} bytes "
      f"({size / 10000:.0f} bytes per segment)")
for fmt in ("png", "pdf"):
    times = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([cli, "export", f"{work}/long.sqlite", "--run", "1", "--view", "retention", "--out",
                        f"{work}/retention.{fmt}", "--preset", "double"], check=True)
        times.append(time.perf_counter() - t)
    print(f"export retention .{fmt} (10,000 x 64 cells): median {sorted(times)[2]:.3f} s, max {max(times):.3f} s")
PY
