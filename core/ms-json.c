/* ms-json.c — the constant-memory pre-scan of JSON text from files
 * (ms-json.h): bracket depth outside strings and a count of values. */
#include "ms-json.h"
#include "ms-error.h"

#include <string.h>

gboolean
ms_json_check_shape (const char *text, gssize len, int max_depth, guint64 max_values,
                     const char *label, const char *what, GError **error)
{
  size_t n = len < 0 ? strlen (text) : (size_t) len;
  int depth = 0;
  guint64 values = 1;
  gboolean in_string = FALSE, escaped = FALSE;
  for (size_t i = 0; i < n; i++)
    {
      char ch = text[i];
      if (in_string)
        {
          if (escaped)
            escaped = FALSE;
          else if (ch == '\\')
            escaped = TRUE;
          else if (ch == '"')
            in_string = FALSE;
          continue;
        }
      switch (ch)
        {
        case '"':
          in_string = TRUE;
          break;
        case '[':
        case '{':
          if (++depth > max_depth)
            {
              g_set_error (error, MS_ERROR, MS_ERROR_FORMAT,
                           "%s: %s nests JSON arrays and objects deeper than %d levels (at byte %zu); "
                           "a Memscope file needs far fewer", label, what, max_depth, i);
              return FALSE;
            }
          values++;
          break;
        case ']':
        case '}':
          depth = MAX (depth - 1, 0);
          break;
        case ',':
          values++;
          break;
        default:
          break;
        }
      if (values > max_values)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_FORMAT,
                       "%s: %s holds more than %" G_GUINT64_FORMAT " JSON values (at byte %zu); "
                       "a Memscope file needs far fewer", label, what, max_values, i);
          return FALSE;
        }
    }
  return TRUE;
}
