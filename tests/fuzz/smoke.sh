#!/bin/sh
# A short libFuzzer run of the loader from the committed seeds (CI smoke
# test); any crash, leak or sanitizer report fails it.  Seconds: $FUZZ_SECONDS.
set -eu
fuzzer=$(realpath "$1"); shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
cp "$@" "$work/corpus/"
cd "$work"
exec "$fuzzer" -max_total_time="${FUZZ_SECONDS:-60}" -max_len=300000 -rss_limit_mb=4096 -print_final_stats=1 corpus
