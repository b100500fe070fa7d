"""recording_size.py RECORDING [--run N] — what a recording costs per token, beside issue 23's target.

Prints one JSON line: the file's bytes per token of the run's recorded tokens (the whole file, so a
file of one run includes its fixed pages: schema, models, runs, empty tables; and without them, the
pages of segments, memory and attention alone, which is what a short run of a long one costs), the target (K·d·4 + K·K·4) / L + 64 bytes per token from the
run's model (K slots, width d) and segment length L, and per table the pages, the bytes SQLite leaves
unused in them and their share of the bytes per token (SQLite's dbstat).  Never a test: a benchmark
helper for run_million_bench.sh and the tables of tests/bench/README.md.
"""
import argparse
import json
import sqlite3


def measure(path, run=1):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    config, segment_len = con.execute("SELECT m.config, r.segment_len FROM runs r JOIN models m ON m.id = r.model_id "
                                      "WHERE r.id = ?", (run,)).fetchone()
    config = json.loads(config)
    K = next(config[k] for k in ("n_slots", "n_mem", "memory_len") if k in config)
    d = config["d_model"]
    tokens = con.execute("SELECT max(token_end) FROM segments WHERE run_id = ?", (run,)).fetchone()[0] or 0
    segments = con.execute("SELECT count(*) FROM segments WHERE run_id = ?", (run,)).fetchone()[0]
    page = con.execute("PRAGMA page_size").fetchone()[0]
    pages = con.execute("PRAGMA page_count").fetchone()[0]
    tables = {}
    try:
        for name, n, unused in con.execute("SELECT name, count(*), sum(unused) FROM dbstat GROUP BY name "
                                           "ORDER BY count(*) DESC"):
            if n > 1:
                tables[name] = {"pages": n, "unused_pct": round(100 * unused / (n * page), 1),
                                "bytes_per_token": round(n * page / max(tokens, 1), 1)}
    except sqlite3.OperationalError:   # an SQLite without the dbstat table
        pass
    con.close()
    size = page * pages
    per_segment_tables = sum(tables[t]["pages"] for t in ("segments", "memory", "attention") if t in tables)
    return {"tokens": tokens, "segments": segments, "recording_bytes": size, "page_size": page,
            "bytes_per_token": round(size / max(tokens, 1), 1),
            "bytes_per_token_without_fixed_pages": round(per_segment_tables * page / max(tokens, 1), 1),
            "target_bytes_per_token": round((K * d * 4 + K * K * 4) / segment_len + 64, 1),
            "n_slots": K, "d_model": d, "segment_len": segment_len, "tables": tables}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("recording")
    parser.add_argument("--run", type=int, default=1)
    args = parser.parse_args()
    print(json.dumps(measure(args.recording, args.run)))
