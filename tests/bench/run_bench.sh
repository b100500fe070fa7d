#!/usr/bin/env bash
# run_bench.sh — Memscope's benchmark: the C core against PyTorch, and the
# core's memory over long runs.  Not a test: nothing here passes or fails.
#
#   tests/bench/run_bench.sh [--quick] [--out FILE] [--repeats N]
#                            [--coretype NAME] [--no-rss] [--models "NAME ..."]
#
#   --quick          tiny token counts, one repeat: a smoke check of the
#                    whole pipeline in well under a minute
#   --out FILE       the Markdown report (default $BUILD_DIR/bench-results.md)
#   --repeats N      throughput runs per (model, threads, impl); the report
#                    takes the fastest (default 5)
#   --coretype NAME  export OPENBLAS_CORETYPE=NAME for every run (C and
#                    PyTorch share the same OpenBLAS); default: what the
#                    apps do (ms_blas_better_coretype: SkylakeX or Haswell
#                    when OpenBLAS 0.3.21 falls back to pre-AVX2 kernels on
#                    a CPU it does not know, else OpenBLAS's own choice)
#   --native-blas    leave OpenBLAS's own kernel choice alone
#   --no-rss         skip the long peak-RSS runs
#   --quiet-wait S   before each measurement wait up to S seconds (default
#                    60) for the other processes on the machine to leave
#                    the CPUs alone (< 10% busy over one second)
#   --models "..."   the models to time (default "small-memformer small-rmt
#                    paper-memformer paper-rmt"); gpt2-rmt is the GPT-2-small
#                    RMT (make_bench_models.py), timed over 1,024 tokens,
#                    its peak RSS over 1,024 and 4,096
#
# Environment: BUILD_DIR (default <repo>/build), MODELS_DIR (default
# $BUILD_DIR/bench-models), PYTHON (default /usr/bin/python3, which has torch).
#
# Steps: build bench-core and bench-sgemm; write the four random models
# (make_bench_models.py, kept if up to date); sgemm peak at 1 and 2 threads;
# C and PyTorch at 1 and 2 threads on each model (4096 tokens small, 2048
# paper), interleaved, --repeats times; sgemm again; C peak RSS after 1,000
# and 100,000 tokens at 1 thread; sgemm once more; then bench_report.py
# writes the tables.  On a shared machine a run can only be slowed down by
# others, never sped up, so the report takes the fastest repeat and the best
# sgemm pass, and says how many runs were starved of CPU.  Raw JSON lines
# go to $BUILD_DIR/bench-raw-<report name>.jsonl.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
MODELS=${MODELS_DIR:-$BUILD/bench-models}
PY=${PYTHON:-/usr/bin/python3}
OUT=$BUILD/bench-results.md
QUICK=0
REPEATS=5
RSS=1
CORETYPE=
QUIET_WAIT=60
NATIVE=0
MODEL_LIST="small-memformer small-rmt paper-memformer paper-rmt"

usage() { sed -n '2,/^set -e/p' "$0" | sed -e '/^set -e/d' -e 's/^# \{0,1\}//'; exit "${1:-2}"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --out) OUT=$2; shift ;;
    --out=*) OUT=${1#--out=} ;;
    --repeats) REPEATS=$2; shift ;;
    --repeats=*) REPEATS=${1#--repeats=} ;;
    --coretype) CORETYPE=$2; shift ;;
    --coretype=*) CORETYPE=${1#--coretype=} ;;
    --no-rss) RSS=0 ;;
    --native-blas) NATIVE=1 ;;
    --quiet-wait) QUIET_WAIT=$2; shift ;;
    --quiet-wait=*) QUIET_WAIT=${1#--quiet-wait=} ;;
    --models) MODEL_LIST=$2; shift ;;
    --models=*) MODEL_LIST=${1#--models=} ;;
    -h|--help) usage 0 ;;
    *) echo "run_bench.sh: unknown argument $1" >&2; usage ;;
  esac
  shift
done

if [ "$QUICK" = 1 ]; then
  N_SMALL=128; N_PAPER=256; N_GPT2=512; RSS_SHORT=128; RSS_LONG=1024; RSS_GPT2_LONG=1024
  REPEATS=1; SGEMM_SECONDS=0.05; QUIET_WAIT=0
else
  N_SMALL=4096; N_PAPER=2048; N_GPT2=1024; RSS_SHORT=1000; RSS_LONG=100000; RSS_GPT2_LONG=4096
  SGEMM_SECONDS=0.5
fi
if [ "$NATIVE" = 1 ]; then
  CORETYPE_SOURCE=native; CORETYPE=; unset OPENBLAS_CORETYPE
elif [ -n "$CORETYPE" ]; then
  CORETYPE_SOURCE=forced
elif [ -n "${OPENBLAS_CORETYPE:-}" ]; then
  CORETYPE_SOURCE=environment
else
  CORETYPE_SOURCE=auto
fi
if [ -n "$CORETYPE" ]; then
  export OPENBLAS_CORETYPE=$CORETYPE
fi
# Each program sets its own thread counts; keep stray settings from leaking in.
unset OMP_NUM_THREADS OPENBLAS_NUM_THREADS MKL_NUM_THREADS GOTO_NUM_THREADS || true

log() { printf '[run_bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Percent of all CPUs busy over the next second, from /proc/stat.
cpu_busy() {
  local _c u n s i w q sq st rest t1 i1 t2 i2
  read -r _c u n s i w q sq st rest < /proc/stat
  t1=$((u + n + s + i + w + q + sq + st)); i1=$((i + w))
  sleep 1
  read -r _c u n s i w q sq st rest < /proc/stat
  t2=$((u + n + s + i + w + q + sq + st)); i2=$((i + w))
  echo $((100 - 100 * (i2 - i1) / (t2 - t1 > 0 ? t2 - t1 : 1)))
}

# Waits (up to QUIET_WAIT seconds) until the machine is quiet; sets BUSY to
# the last reading, which record() stores with the result.
BUSY=0
wait_quiet() {
  [ "$QUIET_WAIT" -gt 0 ] || { BUSY=0; return; }
  local deadline=$((SECONDS + QUIET_WAIT)) said=0
  while :; do
    BUSY=$(cpu_busy)
    [ "$BUSY" -lt 10 ] && return
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "machine still ${BUSY}% busy after ${QUIET_WAIT}s; measuring anyway"
      return
    fi
    if [ "$said" = 0 ]; then log "machine ${BUSY}% busy with other work; waiting"; said=1; fi
    sleep 4
  done
}

# -- build ---------------------------------------------------------------------------------------------
if [ ! -f "$BUILD/build.ninja" ]; then
  log "meson setup $BUILD"
  meson setup "$BUILD" "$ROOT" >&2
fi
log "building bench-core, bench-sgemm"
meson compile -C "$BUILD" bench-core bench-sgemm >&2
BENCH_CORE=$BUILD/tests/bench/bench-core
BENCH_SGEMM=$BUILD/tests/bench/bench-sgemm
if [ "$CORETYPE_SOURCE" = auto ]; then
  CORETYPE=$("$BENCH_CORE" --better-coretype)
  if [ -n "$CORETYPE" ]; then
    export OPENBLAS_CORETYPE=$CORETYPE
    log "OpenBLAS fell back to old kernels here; using OPENBLAS_CORETYPE=$CORETYPE, as the apps do"
  else
    CORETYPE_SOURCE=native
  fi
fi

# -- models --------------------------------------------------------------------------------------------
log "models in $MODELS"
# shellcheck disable=SC2086  # MODEL_LIST is a list of words
"$PY" "$HERE/make_bench_models.py" --out "$MODELS" --only $MODEL_LIST >&2

RAW=$BUILD/bench-raw-$(basename "$OUT" .md).jsonl
: > "$RAW"

# Appends one JSON line from a program's stdout, tagged with the run kind.
record() {
  local tag=$1; shift
  local line
  wait_quiet
  if ! line=$("$@"); then
    echo "run_bench.sh: failed: $*" >&2
    exit 1
  fi
  line=$(printf '%s\n' "$line" | tail -n 1)
  local load
  load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo null)
  printf '%s\n' "{\"run\": \"$tag\", \"busy_before\": $BUSY, \"loadavg\": $load, ${line#\{}" >> "$RAW"
  printf '%s\n' "$line" | cut -c1-200 >&2
}

"$PY" - "$RAW" "$ROOT" "$QUICK" "$REPEATS" "$CORETYPE_SOURCE" <<'EOF'
import json, os, platform, subprocess, sys
raw, root, quick, repeats, coretype_source = sys.argv[1:6]
def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=root).stdout.strip()
    except OSError:
        return ""
cpu, flags = "", []
try:
    with open("/proc/cpuinfo") as f:
        info = f.read().splitlines()
    cpu = next((l.split(":", 1)[1].strip() for l in info if l.startswith("model name")), "")
    flags = next((l.split(":", 1)[1].split() for l in info if l.startswith("flags")), [])
except OSError:
    pass
meta = {"run": "meta", "cpu": cpu, "avx2": "avx2" in flags, "avx512f": "avx512f" in flags,
        "nproc": os.cpu_count(), "kernel": platform.release(),
        "loadavg_start": os.getloadavg()[0], "commit": sh("git", "rev-parse", "--short", "HEAD"),
        "dirty": bool(sh("git", "status", "--porcelain", "--untracked-files=no")),
        "quick": quick == "1", "repeats": int(repeats),
        "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"), "coretype_source": coretype_source}
with open(raw, "a") as f:
    f.write(json.dumps(meta) + "\n")
EOF

# -- sgemm peak (three passes over the run; the report takes the best) ----------------------------------
sgemm_pass() {
  for t in 1 2; do
    log "sgemm peak, $t thread(s), pass $1"
    record sgemm "$BENCH_SGEMM" --threads "$t" --min-seconds "$SGEMM_SECONDS"
  done
}
sgemm_pass 1

# -- throughput ----------------------------------------------------------------------------------------
for rep in $(seq 1 "$REPEATS"); do
  for model in $MODEL_LIST; do
    case $model in small-*) n=$N_SMALL ;; gpt2-*) n=$N_GPT2 ;; *) n=$N_PAPER ;; esac
    for t in 1 2; do
      log "throughput $model, $t thread(s), $n tokens, repeat $rep/$REPEATS"
      record throughput "$BENCH_CORE" "$MODELS/$model.safetensors" "$n" --threads "$t"
      check=()
      if [ "$rep" = 1 ] && [ "$t" = 1 ]; then check=(--check); fi
      record throughput "$PY" "$HERE/bench_torch.py" "$MODELS/$model.safetensors" "$n" --threads "$t" "${check[@]}"
    done
  done
done

sgemm_pass 2

# -- peak RSS over long runs ---------------------------------------------------------------------------
if [ "$RSS" = 1 ]; then
  for model in $MODEL_LIST; do
    long=$RSS_LONG
    case $model in gpt2-*) long=$RSS_GPT2_LONG ;; esac
    for n in "$RSS_SHORT" "$long"; do
      log "peak RSS $model, $n tokens, 1 thread"
      record rss "$BENCH_CORE" "$MODELS/$model.safetensors" "$n" --threads 1
    done
  done
fi

sgemm_pass 3

# -- report --------------------------------------------------------------------------------------------
"$PY" -c 'import json, os, sys; print(json.dumps({"run": "meta_end", "loadavg_end": os.getloadavg()[0]}))' >> "$RAW"
"$PY" "$HERE/bench_report.py" "$RAW" --out "$OUT"
log "wrote $OUT (raw: $RAW)"
