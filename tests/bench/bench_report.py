#!/usr/bin/env python3
"""Turns run_bench.sh's raw JSON lines into the Markdown report: `bench_report.py RAW.jsonl [--out FILE]`.

Throughput: per (model, threads, impl) the fastest of the repeats (on a shared machine other work can only slow
a run down), and tok/s and GFLOP/s from it; ratio = C tok/s / PyTorch tok/s; % of sgemm peak = C GFLOP/s /
the best bench-sgemm peak at the same thread count over all passes. Memory: bench-core's peak RSS (getrusage
ru_maxrss) after the short and the long run, 1 thread.
"""

import argparse
import json
import statistics
import sys
from collections import defaultdict

TARGETS = {"small": 2.0, "paper": 1.3}  # C / PyTorch throughput the core aims for
MODELS = ["small-memformer", "small-rmt", "paper-memformer", "paper-rmt", "gpt2-rmt"]
# GPT-2-small RMT (issue 22): % of the sgemm peak at 1 and 2 threads, load time, peak RSS / weights' f32 size
GPT2_PEAK_TARGETS = {1: 90.0, 2: 85.0}
GPT2_LOAD_TARGET_S = 3.0
GPT2_RSS_TARGET = 1.3


def fmt_int(x):
    return "—" if x is None else f"{x:,.0f}"


def fmt(x, digits=1):
    return "—" if x is None else f"{x:,.{digits}f}"


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def best_run(runs):
    """The fastest run."""
    return min(runs, key=lambda r: r["seconds"])


def starved(r):
    """A 1-thread run whose thread got less than 90% of the wall time on a CPU."""
    return r["threads"] == 1 and r.get("cpu_seconds") is not None and r["cpu_seconds"] < 0.9 * r["seconds"]


def report(rows):
    meta = next((r for r in rows if r.get("run") == "meta"), {})
    meta_end = next((r for r in rows if r.get("run") == "meta_end"), {})
    peaks = {}
    for r in rows:
        if r.get("run") == "sgemm" and r["peak_gflops"] > peaks.get(r["threads"], {}).get("peak_gflops", -1):
            peaks[r["threads"]] = r
    n_sgemm = sum(1 for r in rows if r.get("run") == "sgemm")
    groups = defaultdict(list)
    for r in rows:
        if r.get("run") == "throughput":
            groups[(r["model"], r["threads"], r["impl"])].append(r)

    out = ["# Memscope benchmark results", ""]
    out.append(f"Machine: {meta.get('cpu', '?')}, {meta.get('nproc', '?')} CPUs; 1-minute load average "
               f"{meta.get('loadavg_start', 0):.2f} at start, {meta_end.get('loadavg_end', 0):.2f} at the end "
               f"(the benchmark itself keeps 1–2 CPUs busy). Commit {meta.get('commit') or '?'}"
               f"{' (with uncommitted changes)' if meta.get('dirty') else ''}."
               f"{' **Quick smoke run: the numbers mean nothing.**' if meta.get('quick') else ''}")
    cores = sorted({r.get("blas_core") for r in rows if r.get("blas_core")})
    env = meta.get("openblas_coretype_env")
    how = {"auto": f"OPENBLAS_CORETYPE={env}, chosen as memscope and memscope-cli choose it "
                   "(ms_blas_better_coretype), since OpenBLAS's own pick was an old kernel set",
           "forced": f"forced with --coretype {env}",
           "environment": f"OPENBLAS_CORETYPE={env} from the environment",
           "native": "OpenBLAS's own choice"}.get(meta.get("coretype_source"),
                                                 f"OPENBLAS_CORETYPE={env}" if env else "auto-detected")
    out.append(f"OpenBLAS kernel core: {', '.join(cores) or '?'} ({how}).")
    if not env and any(c in ("Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom") for c in cores) \
            and (meta.get("avx2") or meta.get("avx512f")):
        out.append("**OpenBLAS did not recognise this CPU** (it has AVX2/AVX-512 but OpenBLAS picked pre-AVX "
                   "kernels), so every matrix product, in C and in PyTorch alike, runs at a fraction of the "
                   "machine's speed. `run_bench.sh` without `--native-blas` (or with `--coretype SkylakeX`) measures the real "
                   "thing.")
    out.append("Baseline: PyTorch 1.13 eager, float32, batched heads (tests/bench/bench_torch.py). "
               f"Throughput: the fastest of {meta.get('repeats', '?')} runs per cell.")
    out.append("")
    for t in sorted(peaks):
        shapes = ", ".join(f"{s['m']}³ {s['gflops']:.1f}" for s in peaks[t]["shapes"])
        out.append(f"- sgemm peak, {t} thread{'s' if t > 1 else ''}: **{peaks[t]['peak_gflops']:.1f} GFLOP/s** "
                   f"(best pass of {sum(1 for r in rows if r.get('run') == 'sgemm' and r['threads'] == t)}; "
                   f"square sizes, GFLOP/s: {shapes})")
    out.append("")

    out.append("## Throughput")
    out.append("")
    out.append("| config | arch | threads | C tok/s | PyTorch tok/s | ratio C/PyTorch | target | C GFLOP/s "
               "| % of sgemm peak | PyTorch GFLOP/s | ratio of medians | median of paired ratios |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    spreads, nll_notes, checks = [], [], []
    for model in MODELS:
        config, _ = model.split("-", 1)
        for t in (1, 2):
            c_runs, p_runs = groups.get((model, t, "c"), []), groups.get((model, t, "torch"), [])
            if not c_runs and not p_runs:
                continue
            c = best_run(c_runs) if c_runs else None
            p = best_run(p_runs) if p_runs else None
            for runs in (c_runs, p_runs):
                if len(runs) > 1:
                    secs = [r["seconds"] for r in runs]
                    spreads.append((max(secs) - min(secs)) / statistics.median(secs))
            arch = (c or p)["arch"]
            ratio = c["tokens_per_s"] / p["tokens_per_s"] if c and p else None
            target = TARGETS.get(config)
            met = "" if ratio is None or target is None else (" ✓" if ratio >= target else " ✗")
            peak = peaks.get(t, {}).get("peak_gflops")
            pct = 100 * c["gflops"] / peak if c and peak else None
            median_ratio = paired_ratio = None
            if c_runs and p_runs:
                median_ratio = (statistics.median(r["tokens_per_s"] for r in c_runs)
                                / statistics.median(r["tokens_per_s"] for r in p_runs))
                # run_bench.sh runs C and then PyTorch back to back in every repeat: the i-th runs of each
                # saw the same state of the machine, so their ratio is the estimate drift disturbs least
                paired_ratio = statistics.median(c["tokens_per_s"] / p["tokens_per_s"]
                                                 for c, p in zip(c_runs, p_runs))
            out.append(f"| {config} | {arch} | {t} | {fmt_int(c and c['tokens_per_s'])} "
                       f"| {fmt_int(p and p['tokens_per_s'])} | {fmt(ratio, 2)}{met} "
                       f"| {'≥ ' + str(target) if target else '—'} | {fmt(c and c['gflops'])} | {fmt(pct)}% | {fmt(p and p['gflops'])} "
                       f"| {fmt(median_ratio, 2)} | {fmt(paired_ratio, 2)} |")
            if c and p and c.get("mean_nll") is not None and p.get("mean_nll") is not None:
                nll_notes.append(abs(c["mean_nll"] - p["mean_nll"]))
        for r in groups.get((model, 1, "torch"), []):
            if "check_max_abs_diff" in r:
                checks.append(f"{model} {r['check_max_abs_diff']:.2g} nats over {r['check_tokens']} tokens")
    out.append("")
    if spreads:
        out.append(f"Run-to-run spread (max − min) / median of the wall time: up to {100 * max(spreads):.0f}% "
                   f"(median {100 * statistics.median(spreads):.0f}%).")
    out.append("Ratio of medians: the same ratio from the median runs instead of the fastest, as a second "
               "estimate; median of paired ratios: the median over repeats of C's speed over PyTorch's in the "
               "same repeat (run back to back), the estimate the machine's drift disturbs least. Where the "
               "three disagree, the difference is noise.")
    timed = [r for r in rows if r.get("run") == "throughput"]
    n_starved = sum(1 for r in timed if starved(r))
    n_busy = sum(1 for r in rows if r.get("busy_before", 0) >= 10)
    best_starved = [f"{r['impl']} {r['model']}" for g in groups.values() for r in [best_run(g)] if starved(r)]
    out.append(f"{n_starved} of {sum(1 for r in timed if r['threads'] == 1)} one-thread runs got less than 90% "
               f"of a CPU (thread CPU time / wall time); {n_busy} measurements started on a machine ≥ 10% busy "
               f"with other work" + (f"; starved best runs: {', '.join(best_starved)}." if best_starved else "."))
    if nll_notes:
        out.append(f"C and PyTorch compute the same thing: their mean NLL over the timed tokens differs by at "
                   f"most {max(nll_notes):.1e} nats.")
    if checks:
        out.append("The fast float32 PyTorch forward against the float64 reference (first 3 segments), max |ΔNLL|: "
                   + "; ".join(checks) + ".")
    out.append("")

    out.extend(gpt2_section(rows, groups, peaks))

    rss = defaultdict(dict)
    for r in rows:
        if r.get("run") == "rss":
            rss[r["model"]][r["n_tokens"]] = r
    if rss:
        out.append("## Peak RSS of the C core (1 thread)")
        out.append("")
        counts = sorted({n for per in rss.values() for n in per})
        nominal = lambda n: f"~{round(n, -3):,}" if n >= 1000 else f"{n:,}"  # noqa: E731
        short, long_ = nominal(counts[0]), nominal(counts[-1])
        out.append(f"| config | arch | RSS after load (KiB) | peak RSS, {short} tokens (KiB) "
                   f"| peak RSS, {long_} tokens (KiB) | growth (KiB) | end − after load, {short} / {long_} (KiB) "
                   f"| long run tok/s |")
        out.append("|---|---|---:|---:|---:|---:|---:|---:|")
        for model in MODELS:
            per = rss.get(model)
            if not per:
                continue
            config, _ = model.split("-", 1)
            a = min(per.items())[1]
            b = max(per.items())[1]
            grow = lambda r: (f"{r['rss_end_kb'] - r['rss_after_load_kb']:+,}"  # noqa: E731
                              if r.get("rss_end_kb") and r.get("rss_after_load_kb") else "—")
            out.append(f"| {config} | {a['arch']} | {fmt_int(a.get('rss_after_load_kb'))} "
                       f"| {fmt_int(a['peak_rss_kb'])} | {fmt_int(b['peak_rss_kb'])} "
                       f"| {b['peak_rss_kb'] - a['peak_rss_kb']:+,} | {grow(a)} / {grow(b)} "
                       f"| {fmt_int(b['tokens_per_s'])} |")
        out.append("")
        out.append("Token counts are rounded up to whole segments. RSS after load includes the model "
                   "(F32 weights held in memory) and the OpenBLAS buffers; peak RSS also counts the load, which "
                   "converts the file a slice at a time and drops the mapped pages behind it, so the file and "
                   "the weights are never both resident. \"end − after load\" is "
                   "what the session and its run added to the resident set: the same after the short and the "
                   "long run means nothing grows with the sequence. Separate processes start a few hundred KiB "
                   "apart, so differences that small are noise.")
        out.append("")
    return "\n".join(out)


def gpt2_section(rows, groups, peaks):
    """The GPT-2-small RMT's targets: % of the sgemm peak at 1 and 2 threads, load time, peak RSS."""
    c_all = [r for r in rows if r.get("impl") == "c" and r.get("model") == "gpt2-rmt"]
    if not c_all:
        return []
    out = ["## GPT-2-small RMT (d 768, 12 layers, 12 heads, vocab 50,257, m 16, L 512)", ""]
    loads = [r.get("loadavg") for r in rows if r.get("loadavg") is not None
             and (r.get("model") == "gpt2-rmt" or r.get("run") == "sgemm")]
    if loads:
        out.append(f"1-minute load average during these measurements: {min(loads):.1f}–{max(loads):.1f}.")
        out.append("")
    out.append("| threads | C tok/s | PyTorch tok/s | C/PyTorch | C GFLOP/s | sgemm peak | % of sgemm peak | target "
               "| load average of the C run |")
    out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for t in (1, 2):
        c_runs, p_runs = groups.get(("gpt2-rmt", t, "c"), []), groups.get(("gpt2-rmt", t, "torch"), [])
        if not c_runs:
            continue
        c = best_run(c_runs)
        p = best_run(p_runs) if p_runs else None
        peak = peaks.get(t, {}).get("peak_gflops")
        pct = 100 * c["gflops"] / peak if peak else None
        target = GPT2_PEAK_TARGETS[t]
        met = "" if pct is None else (" ✓" if pct >= target else " ✗")
        ratio = c["tokens_per_s"] / p["tokens_per_s"] if p else None
        out.append(f"| {t} | {fmt(c['tokens_per_s'])} | {fmt(p and p['tokens_per_s'])} | {fmt(ratio, 2)} "
                   f"| {fmt(c['gflops'])} | {fmt(peak)} | {fmt(pct)}%{met} | ≥ {target:.0f}% "
                   f"| {fmt(c.get('loadavg'))} |")
    out.append("")
    cpu_peaks = {}
    for r in rows:
        if r.get("run") == "sgemm" and r.get("peak_cpu_gflops"):
            cpu_peaks[r["threads"]] = max(cpu_peaks.get(r["threads"], 0), r["peak_cpu_gflops"])
    if cpu_peaks:
        out.append("By CPU time instead of the wall clock (GFLOP per second of the process's CPU time over the "
                   "thread count: what the program did with the CPU time it got, which other work on the machine "
                   "disturbs much less; at 2 threads the workers' spinning between kernels counts as time, on "
                   "both sides):")
        out.append("")
        out.append("| threads | C GFLOP/s (best run) | sgemm peak (best pass) | % of sgemm peak | target |")
        out.append("|---:|---:|---:|---:|---:|")
        for t in (1, 2):
            c_runs = [r for r in groups.get(("gpt2-rmt", t, "c"), []) if r.get("process_cpu_seconds")]
            if not c_runs or t not in cpu_peaks:
                continue
            best = max(r["flops"] / (r["process_cpu_seconds"] / t) * 1e-9 for r in c_runs)
            pct = 100 * best / cpu_peaks[t]
            met = " ✓" if pct >= GPT2_PEAK_TARGETS[t] else " ✗"
            out.append(f"| {t} | {fmt(best)} | {fmt(cpu_peaks[t])} | {fmt(pct)}%{met} | ≥ {GPT2_PEAK_TARGETS[t]:.0f}% |")
        out.append("")
    load_s = [r["load_seconds"] for r in c_all if r.get("load_seconds") is not None]
    weights = max(r["n_params"] for r in c_all) * 4
    peak_rss = max(r["peak_rss_kb"] for r in c_all if r["threads"] == 1) * 1024
    if load_s:
        best, worst = min(load_s), max(load_s)
        out.append(f"- Load (ms_model_load, wall clock): fastest {best:.2f} s, slowest {worst:.2f} s over "
                   f"{len(load_s)} loads; target < {GPT2_LOAD_TARGET_S:.0f} s"
                   f"{' ✓' if best < GPT2_LOAD_TARGET_S else ' ✗'}.")
    out.append(f"- Peak RSS (1 thread, largest of the runs): {peak_rss / 1e6:,.0f} MB against the weights' f32 size "
               f"{weights / 1e6:,.0f} MB: **{peak_rss / weights:.2f}×**; target ≤ {GPT2_RSS_TARGET}×"
               f"{' ✓' if peak_rss / weights <= GPT2_RSS_TARGET else ' ✗'}.")
    out.append("")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("raw", help="JSON lines written by run_bench.sh")
    parser.add_argument("--out", help="Markdown file to write (default: stdout)")
    args = parser.parse_args(argv)
    text = report(load(args.raw))
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
