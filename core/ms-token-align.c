/* ms-token-align.c — tokens of two runs aligned by their bytes
 * (ms-token-align.h). */
#include "ms-token-align.h"

size_t
ms_token_align_range (const MsByteRange *tokens, size_t n, guint64 start, guint64 end, size_t *first)
{
  /* the first token that ends after @start */
  size_t lo = 0, hi = n;
  while (lo < hi)
    {
      size_t mid = lo + (hi - lo) / 2;
      if (tokens[mid].end <= start)
        lo = mid + 1;
      else
        hi = mid;
    }
  *first = lo;
  size_t count = 0;
  while (start < end && lo + count < n && tokens[lo + count].start < end)
    count++;
  return count;
}

guint64
ms_byte_range_overlap (const MsByteRange *a, const MsByteRange *b)
{
  guint64 lo = MAX (a->start, b->start), hi = MIN (a->end, b->end);
  return hi > lo ? hi - lo : 0;
}
