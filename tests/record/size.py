#!/usr/bin/env python3
"""Issue 23's size target as a test: a compact recording costs at most (K·d·4 + K·K·4) / L + 64 bytes per
token (K slots, width d, segment length L).

rmt_64_slots  A random 64-slot RMT (K 64, d 64, L 8, the export benchmark's model of tests/bench/), whose
              per-slot arrays weigh most against its memory and transfer of any benchmark config, recorded
              compact on random bytes for 1,200 and for 2,400 segments. What each further token costs,
              (bytes of the second file − bytes of the first) / (tokens of the second − tokens of the first),
              must be within the target (4,160 bytes). The sizes are deterministic (no timing): SQLite's pages
              over the same rows, whatever the machine; page granularity moves the difference by at most one
              8 KiB page over 9,600 tokens.

usage: size.py CLI REFERENCE_DIR CASE
"""
import os
import random
import subprocess
import sys
import tempfile


def rmt_64_slots(binary, reference):
    sys.path.insert(0, reference)
    import torch
    from memscope_file import write_model
    from rmt_ref import init_weights
    K, d, L = 64, 64, 8
    cfg = dict(vocab_size=256, d_model=d, n_heads=4, n_layers=1, d_ff=128, n_mem=K, segment_len=L,
               n_positions=L + 2 * K, mask="causal")
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "rmt-64-slots.safetensors")
        write_model(model, "rmt", cfg, init_weights(cfg, torch.Generator().manual_seed(3)),
                    source="tests/record/size.py: random 64-slot RMT")
        text = os.path.join(tmp, "random.txt")
        rng = random.Random(5)
        with open(text, "wb") as f:
            f.write(bytes(rng.randrange(256) for _ in range(2400 * L)))
        sizes = {}
        for segments in (1200, 2400):
            db = os.path.join(tmp, f"r{segments}.sqlite")
            r = subprocess.run([binary, "record", model, text, "--recording", db, "--max-segments", str(segments)],
                               capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
            sizes[segments] = os.path.getsize(db)
        per_token = (sizes[2400] - sizes[1200]) / (1200 * L)
        target = (K * d * 4 + K * K * 4) / L + 64
        print(f"64-slot RMT: {per_token:.1f} bytes per further token (target {target:.0f}; files "
              f"{sizes[1200]} and {sizes[2400]} bytes)")
        assert per_token <= target, (per_token, target)


def main():
    binary, reference, case = sys.argv[1:4]
    globals()[case](binary, reference)
    print(f"{case}: ok")


if __name__ == "__main__":
    main()
