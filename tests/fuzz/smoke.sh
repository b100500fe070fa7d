#!/bin/sh
# smoke.sh FUZZER MAX_LEN SEED... — a short libFuzzer run from the seeds (CI
# smoke test); any crash, leak or sanitizer report fails it.  Seconds:
# $FUZZ_SECONDS.  A seed that is a folder contributes the files in it.
set -eu
fuzzer=$(realpath "$1"); max_len=$2; shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
for seed in "$@"; do
  if [ -d "$seed" ]; then cp "$seed"/* "$work/corpus/"; else cp "$seed" "$work/corpus/"; fi
done
cd "$work"
exec "$fuzzer" -max_total_time="${FUZZ_SECONDS:-60}" -max_len="$max_len" -rss_limit_mb=4096 -print_final_stats=1 corpus
