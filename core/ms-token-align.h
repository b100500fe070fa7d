/* ms-token-align.h — the tokens of two runs over one input, aligned by the
 * bytes they stand for.
 *
 * Two models with different tokenizers cut one text into different tokens
 * (a bytes model one per byte, a BPE model a word piece each), and so into
 * different segments.  What lines them up is the input's bytes: each token
 * stands for a byte range [start, end) of the input (the recording stores
 * them, ms_recording_segment_tokens), and a token of run A corresponds to
 * the tokens of run B whose ranges overlap its own.  On that, the segment
 * of run B that holds a byte is found (ms_recording_find_segment_at_byte)
 * and a token-axis view of run B (read or write attention of one segment)
 * is put on run A's tokens, cell for cell, so the two compare and subtract
 * (ms_view_data_align_tokens).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Bytes [start, end) of an input. */
typedef struct {
  guint64 start, end;
} MsByteRange;

/* The tokens among @n @tokens (ranges in input order, each after the one
 * before it, as a segment's tokens are) that overlap [@start, @end): returns
 * how many, and the index of the first in *@first.  0 (and *@first the
 * index where such a token would be) when none does or the range is
 * empty.  O(log n + the count). */
size_t ms_token_align_range (const MsByteRange *tokens, size_t n, guint64 start, guint64 end, size_t *first);

/* How many bytes @a and @b have in common. */
guint64 ms_byte_range_overlap (const MsByteRange *a, const MsByteRange *b);

G_END_DECLS
