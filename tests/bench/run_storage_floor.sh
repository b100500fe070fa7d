#!/usr/bin/env bash
# The storage floor (issue 23's 3% target), never a test: bench-storage-floor on every benchmark config of
# run_record_bench.sh — the shipped copy RMT (d 64, 16 slots, L 8), the small Memformer and RMT (d 128,
# 16 slots, L 64) and the 64-slot RMT (d 64, L 8) — over the same tokens (N segments of 64 tokens, N·8 of
# the L 8 models), with 1 and 2 kernel threads; one JSON line each, then a table: per config the bytes a
# compact recording stores per segment and the least that storing them costs in each way (memcpy; one
# writev per group and one write per segment, each without and with fdatasync; SQLite with one blob per
# segment; SQLite with the recording's tables), as CPU µs per segment and as a share of the same process's
# plain step (medians and quartiles over the repeats).
# Run it under nice -n 10 on a shared machine and state the load it prints.
# usage: tests/bench/run_storage_floor.sh [BUILD_DIR] [N_SEGMENTS] [REPEATS]   (defaults .build/release 400 9)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-.build/release}
n=${2:-400}
repeats=${3:-9}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ninja -C "$build" tests/bench/bench-storage-floor >/dev/null
/usr/bin/python3 tests/bench/make_bench_models.py --out "$work/models" --only small-memformer small-rmt >/dev/null
/usr/bin/python3 tests/bench/make_rmt_64_slots.py "$work/models/rmt-64-slots.safetensors"
cp resources/models/copy-rmt.safetensors "$work/models/copy-rmt.safetensors"
echo "## Storage floor ($n segments of 64 tokens or the same tokens in segments of 8, $repeats repeats)"
lscpu | grep 'Model name' || true
echo "commit $(git rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%MZ), nice $(nice), scratch files in $work"
uptime
for threads in 1 2; do
  for m in copy-rmt:$((n * 8)) small-memformer:$n small-rmt:$n rmt-64-slots:$((n * 8)); do
    "$build/tests/bench/bench-storage-floor" "$work/models/${m%%:*}.safetensors" "${m##*:}" "$work" \
      --threads $threads --repeats "$repeats" | tee -a "$work/floor.jsonl"
  done
done
uptime
/usr/bin/python3 - "$work/floor.jsonl" <<'PY'
import json, os, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
ways = ("memcpy", "writev_group", "writev_group_fdatasync", "write", "write_fdatasync", "sqlite_blob",
        "sqlite_schema")
print("| config (K, d, L) | threads | stored per segment (state + transfer + row) | plain step CPU | "
      + " | ".join(f"{w}: CPU µs, % of step (quartiles)" for w in ways) + " |")
print("|---|---:|---:|---:|" + "---:|" * len(ways))
for r in rows:
    name = os.path.basename(r["model"]).removesuffix(".safetensors")
    cells = []
    for w in ways:
        cpu, ratio = r[w]["cpu_us"], r[w]["cpu_ratio"]
        cells.append(f"{cpu[1]:.1f}, **{100 * ratio[1]:.1f}%** ({100 * ratio[0]:.1f} .. {100 * ratio[2]:.1f}%)")
    print(f"| {name} ({r['K']}, {r['d']}, {r['L']}) | {r['threads']} | {r['stored_bytes_per_segment']:,} "
          f"({r['state_bytes']:,} + {r['transfer_bytes']:,} + {r['row_bytes']:.0f}) | {r['plain_cpu_us'][1]:.1f} µs | "
          + " | ".join(cells) + " |")
print()
print("| config | threads | group G (chunk C) | bytes written per segment: " + " / ".join(ways[1:]) + " | wall µs per segment, median: plain / " + " / ".join(ways) + " |")
print("|---|---:|---:|---:|---:|")
for r in rows:
    name = os.path.basename(r["model"]).removesuffix(".safetensors")
    written = " / ".join(f"{r[w]['written_bytes_per_segment']:,.0f}" for w in ways[1:])
    walls = " / ".join(f"{r[w]['wall_us'][1]:.1f}" for w in ways)
    print(f"| {name} | {r['threads']} | {r['group']} ({r['chunk_states']}) | {written} | "
          f"{r['plain_wall_us'][1]:.1f} / {walls} |")
PY
