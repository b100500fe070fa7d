"""storage_floor_smoke.py BENCH MODEL: bench-storage-floor runs on a few segments of the shipped copy RMT and
prints one JSON line whose stored sizes are those ms-db.h gives a compact copy-RMT segment. Times are not
checked (never pass or fail on time), only that each is a number."""
import json
import math
import subprocess
import sys
import tempfile

bench, model = sys.argv[1:3]
K, d, L = 16, 64, 8   # the copy RMT (resources/models/copy-rmt.safetensors)
with tempfile.TemporaryDirectory() as work:
    out = subprocess.run([bench, model, "40", work, "--repeats", "2"], check=True, capture_output=True, text=True)
lines = out.stdout.splitlines()
assert len(lines) == 1, f"expected one JSON line, got {len(lines)}: {out.stdout!r}"
r = json.loads(lines[0])
assert (r["K"], r["d"], r["L"], r["segments"], r["repeats"]) == (K, d, L, 40, 2), r
# its memory state (f32) and its write layout's K × K transfer (not diagonal), per segment
assert r["state_bytes"] == K * d * 4 and r["transfer_bytes"] == K * K * 4, r
# a segments row holds at least the text (L bytes) and the NLL (L f32) of its tokens
assert L + 4 * L <= r["row_bytes"] < 4096, r
assert r["stored_bytes_per_segment"] == round(r["state_bytes"] + r["transfer_bytes"] + r["row_bytes"]), r
assert 1 <= r["group"] <= r["chunk_states"] <= 40, r
for way in ("memcpy", "writev_group", "writev_group_fdatasync", "write", "write_fdatasync", "sqlite_blob",
            "sqlite_schema"):
    for key in ("cpu_us", "wall_us", "cpu_ratio", "wall_ratio"):
        q1, median, q3 = r[way][key]
        assert all(math.isfinite(x) and x >= 0 for x in (q1, median, q3)) and q1 <= median <= q3, (way, key, r[way])
# appending each segment's bytes once writes exactly those bytes (where /proc/self/io counts them)
for way in ("writev_group", "writev_group_fdatasync", "write", "write_fdatasync"):
    assert r[way]["written_bytes_per_segment"] in (-1, r["stored_bytes_per_segment"]), (way, r[way])
print(f"ok: {r['stored_bytes_per_segment']} bytes stored per segment")
