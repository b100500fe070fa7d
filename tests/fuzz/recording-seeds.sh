#!/bin/sh
# recording-seeds.sh CLI DIR MODEL INPUT — records the fuzz target's seed
# recordings into DIR with memscope-cli: both architectures in one file (the
# Memformer storing f16 attention, the RMT compact: its attention is
# replayed with the model named in the file), a second RMT layout with f32
# attention, and a compact Memformer run of short segments, each a few
# segments of INPUT so the images stay small.  The committed older-schema recordings are seeds beside them.
set -eu
cli=$1 dir=$2 memformer=$3 rmt=$4 rmt_blocks=$5 input=$6
mkdir -p "$dir"
rm -f "$dir"/seed-*.sqlite
"$cli" record --recording "$dir/seed-both.sqlite" --max-segments 3 --attn f16 "$memformer" "$input" >/dev/null
"$cli" record --recording "$dir/seed-both.sqlite" --max-segments 3 "$rmt" "$input" >/dev/null
"$cli" record --recording "$dir/seed-rmt-f32.sqlite" --max-segments 2 --attn f32 "$rmt_blocks" "$input" >/dev/null
"$cli" record --recording "$dir/seed-none.sqlite" --max-segments 4 --segment-len 3 --attn none "$memformer" "$input" >/dev/null
