"""make_rmt_64_slots.py OUT: the random 64-slot RMT (d 64, 4 heads, 1 layer, L 8, vocab 256) of the recording
and export benchmarks (run_record_bench.sh, run_storage_floor.sh), written to OUT. Never commit the file."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import torch  # noqa: E402
from memscope_file import write_model  # noqa: E402
from rmt_ref import init_weights  # noqa: E402

cfg = dict(vocab_size=256, d_model=64, n_heads=4, n_layers=1, d_ff=128, n_mem=64, segment_len=8,
           n_positions=136, mask="causal")
write_model(sys.argv[1], "rmt", cfg, init_weights(cfg, torch.Generator().manual_seed(3)),
            source="tests/bench/run_record_bench.sh: random 64-slot RMT for the export benchmark")
