/* ms-json.h — a bound on JSON text from files, checked before json-glib
 * parses it.
 *
 * json-glib parses recursively and builds a node for every value, so deeply
 * nested text overflows its stack and a long flat text costs memory far
 * beyond the text's size.  ms_json_check_shape scans the text once, in
 * constant memory and without recursion, and refuses it before any parsing
 * when it nests deeper or holds more values than the caller allows.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Scans @len bytes of @text (−1: up to a NUL) as JSON punctuation: depth is
 * the number of '[' and '{' open outside strings (escapes inside strings
 * respected), values are counted as commas plus openers plus one (an upper
 * bound on the nodes of every member and element).  The text need not be
 * valid JSON: the parser judges that afterwards.  Returns TRUE when depth ≤
 * @max_depth and values ≤ @max_values; otherwise FALSE with @error
 * (MS_ERROR_FORMAT) "LABEL: WHAT nests deeper than … / holds more than …"
 * naming @label (the file) and @what ("header", "memscope.config"). */
gboolean ms_json_check_shape (const char *text, gssize len, int max_depth, guint64 max_values,
                              const char *label, const char *what, GError **error);

G_END_DECLS
