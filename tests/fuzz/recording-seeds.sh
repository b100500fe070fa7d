#!/bin/sh
# recording-seeds.sh CLI PYTHON DIR MEMFORMER RMT RMT_BLOCKS INPUT RMT_BPE MEMBART OLD... —
# the recording fuzz target's seeds in DIR: recordings made with
# memscope-cli (both architectures in one file, the Memformer storing f16
# attention, the RMT compact: its attention is replayed with the model named
# in the file; a second RMT layout with f32 attention; a compact Memformer
# run of short segments cut short by --max-segments; a model whose tokens are
# not bytes, with f16 attention; a MemBART, whose segments store its gate;
# each a few segments of INPUT; the compact
# runs with causal retention and the reset-memory baseline), and OLD, the committed recordings of older schemas (seed-v1.sqlite
# … in argument order).  Each is shrunk by shrink-seed.py (three segments
# per run, 512-byte pages): small seeds give the fuzzer many more
# executions, each reaching the same code.
set -eu
cli=$1 python=$2 dir=$3 memformer=$4 rmt=$5 rmt_blocks=$6 input=$7 rmt_bpe=$8 membart=$9
shift 9
mkdir -p "$dir"
rm -f "$dir"/seed-*.sqlite "$dir"/full-*.sqlite
"$cli" record --recording "$dir/full-both.sqlite" --max-segments 3 --attn f16 "$memformer" "$input" >/dev/null
"$cli" record --recording "$dir/full-both.sqlite" --max-segments 3 "$rmt" "$input" >/dev/null
"$cli" record --recording "$dir/full-rmt-f32.sqlite" --max-segments 2 --attn f32 "$rmt_blocks" "$input" >/dev/null
"$cli" record --recording "$dir/full-none.sqlite" --max-segments 4 --segment-len 3 --attn none "$memformer" "$input" >/dev/null
# causal retention and the reset-memory baseline (schema 6) of the compact runs
"$cli" causal "$dir/full-both.sqlite" --run 2 --horizon 2 >/dev/null
"$cli" causal "$dir/full-none.sqlite" --run 1 --horizon 2 --replace knockout >/dev/null
# a gate per slot (schema 7)
"$cli" record --recording "$dir/full-both.sqlite" --max-segments 3 "$membart" "$input" >/dev/null
shrink=$(dirname "$0")/shrink-seed.py
# segments of a BPE model store their token ids and byte ranges
"$cli" record --recording "$dir/full-bpe.sqlite" --max-segments 3 --attn f16 "$rmt_bpe" "$input" >/dev/null
for name in both rmt-f32 none bpe; do
  "$python" "$shrink" "$dir/full-$name.sqlite" "$dir/seed-$name.sqlite"
  rm -f "$dir/full-$name.sqlite"
done
v=1
for old in "$@"; do
  "$python" "$shrink" "$old" "$dir/seed-v$v.sqlite"
  v=$((v + 1))
done
