/* fuzz-sections.h — how the fuzz targets that take several files in one
 * input (fuzz-import, fuzz-tokenizer) cut it into sections: separated by
 * SEPARATOR, as import-seeds.py and the tokenizer seeds join them. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SEPARATOR "\n\xff\xff\n"

/* The next section of [*@p, @end), up to SEPARATOR or the end, and its
 * length in *@len; *@p moves past it and its separator. */
static inline const uint8_t *
next_section (const uint8_t **p, const uint8_t *end, size_t *len)
{
  const uint8_t *start = *p;
  const uint8_t *sep = memmem (start, end - start, SEPARATOR, 4);
  *len = (sep ? sep : end) - start;
  *p = sep ? sep + 4 : end;
  return start;
}
