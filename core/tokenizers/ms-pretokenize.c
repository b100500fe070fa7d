/* ms-pretokenize.c — GPT-2's pre-tokenization rule on GLib's Unicode tables
 * and GPT-2's byte-to-unicode alphabet.
 *
 * The rule, 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+,
 * is evaluated without a regex engine: at each position the alternatives are
 * tried in the rule's order, and since each alternative is a run of one
 * character class, the first that matches decides the pre-token.  The only
 * lookahead is \s+(?!\S): a whitespace run followed by anything but its end
 * gives up its last character, which then starts the next pre-token (a
 * space before a word joins it; any other lone whitespace stands alone). */
#include "ms-tokenizer-private.h"

typedef enum { CLASS_LETTER, CLASS_NUMBER, CLASS_SPACE, CLASS_OTHER } CharClass;

/* Unicode's White_Space property (what \s means in Python's regex module
 * and Rust's regex): the separators Zs, Zl, Zp and the controls U+0009 to
 * U+000D and U+0085.  JavaScript's \s differs on two characters (it adds
 * U+FEFF and leaves out U+0085). */
static gboolean
is_white_space (gunichar c)
{
  if (c < 0x80)
    return c == ' ' || (c >= 0x09 && c <= 0x0d);
  if (c == 0x85)
    return TRUE;
  GUnicodeType type = g_unichar_type (c);
  return type == G_UNICODE_SPACE_SEPARATOR || type == G_UNICODE_LINE_SEPARATOR
         || type == G_UNICODE_PARAGRAPH_SEPARATOR;
}

static CharClass
class_of (gunichar c)
{
  if (c < 0x80)
    {
      if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
        return CLASS_LETTER;
      if (c >= '0' && c <= '9')
        return CLASS_NUMBER;
      return is_white_space (c) ? CLASS_SPACE : CLASS_OTHER;
    }
  switch (g_unichar_type (c))
    {
    case G_UNICODE_LOWERCASE_LETTER:
    case G_UNICODE_UPPERCASE_LETTER:
    case G_UNICODE_TITLECASE_LETTER:
    case G_UNICODE_MODIFIER_LETTER:
    case G_UNICODE_OTHER_LETTER:
      return CLASS_LETTER;
    case G_UNICODE_DECIMAL_NUMBER:
    case G_UNICODE_LETTER_NUMBER:
    case G_UNICODE_OTHER_NUMBER:
      return CLASS_NUMBER;
    default:
      return is_white_space (c) ? CLASS_SPACE : CLASS_OTHER;
    }
}

/* Decodes the character at @p (@avail ≥ 1 bytes) by RFC 3629: returns its
 * length and sets *@c and *@cls.  A byte that does not start a valid
 * sequence (overlong forms, surrogates and values past U+10FFFF are
 * invalid) is a character of one byte in CLASS_OTHER, *@c = (gunichar) −1. */
static int
next_char (const guint8 *p, size_t avail, gunichar *c, CharClass *cls)
{
  guint8 b = p[0];
  if (b < 0x80)
    {
      *c = b;
      *cls = class_of (b);
      return 1;
    }
  int len;
  gunichar v, min;
  if (b >= 0xc2 && b <= 0xdf)
    len = 2, v = b & 0x1f, min = 0x80;
  else if (b >= 0xe0 && b <= 0xef)
    len = 3, v = b & 0x0f, min = 0x800;
  else if (b >= 0xf0 && b <= 0xf4)
    len = 4, v = b & 0x07, min = 0x10000;
  else
    goto invalid;
  if ((size_t) len > avail)
    goto invalid;
  for (int k = 1; k < len; k++)
    {
      if ((p[k] & 0xc0) != 0x80)
        goto invalid;
      v = v << 6 | (p[k] & 0x3f);
    }
  if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
    goto invalid;
  *c = v;
  *cls = class_of (v);
  return len;
invalid:
  *c = (gunichar) -1;
  *cls = CLASS_OTHER;
  return 1;
}

/* The end of the pre-token that starts at @i (< @n). */
static size_t
pre_token_end (const guint8 *s, size_t n, size_t i)
{
  if (s[i] == '\'' && i + 1 < n)
    {
      guint8 a = s[i + 1], b = i + 2 < n ? s[i + 2] : 0;
      if (a == 's' || a == 't' || a == 'm' || a == 'd')
        return i + 2;
      if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
        return i + 3;
    }
  gunichar c;
  CharClass cls;
  size_t j = i + next_char (s + i, n - i, &c, &cls);
  CharClass run = cls;
  if (c == ' ' && j < n)
    {
      gunichar c2;
      CharClass cls2;
      int len2 = next_char (s + j, n - j, &c2, &cls2);
      if (cls2 != CLASS_SPACE)
        {
          run = cls2;
          j += len2;
        }
    }
  if (run != CLASS_SPACE)
    {
      while (j < n)
        {
          int len = next_char (s + j, n - j, &c, &cls);
          if (cls != run)
            break;
          j += len;
        }
      return j;
    }
  /* a whitespace run: all of it at the end of the text, else all but its
   * last character when it has more than one */
  size_t last = i;
  int count = 1;
  while (j < n)
    {
      int len = next_char (s + j, n - j, &c, &cls);
      if (cls != CLASS_SPACE)
        break;
      last = j;
      j += len;
      count++;
    }
  if (j == n || count == 1)
    return j;
  return last;
}

size_t
ms_tokenizer_pre_tokenize (const uint8_t *text, size_t n, uint32_t **bounds)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (uint32_t));
  for (size_t i = 0; i < n;)
    {
      size_t end = pre_token_end (text, n, i);
      uint32_t pair[2] = { (uint32_t) i, (uint32_t) end };
      g_array_append_vals (out, pair, 2);
      i = end;
    }
  size_t count = out->len / 2;
  *bounds = (uint32_t *) g_array_free (out, FALSE);
  return count;
}

/* ---- GPT-2's byte-level alphabet ------------------------------------- */

/* Bytes that print as themselves ('!'..'~', '¡'..'¬', '®'..'ÿ') keep their
 * code point; the other 68 take U+0100 onwards in byte order. */
static gboolean
byte_prints (guint8 b)
{
  return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
}

gunichar
ms_byte_level_char (guint8 byte)
{
  if (byte_prints (byte))
    return byte;
  gunichar n = 0;
  for (int b = 0; b < byte; b++)
    n += !byte_prints ((guint8) b);
  return 0x100 + n;
}

int
ms_byte_level_byte (gunichar c)
{
  if (c < 0x100)
    return byte_prints ((guint8) c) ? (int) c : -1;
  if (c >= 0x100 + 68)
    return -1;
  gunichar n = c - 0x100;
  for (int b = 0; b < 256; b++)
    if (!byte_prints ((guint8) b) && n-- == 0)
      return b;
  return -1;
}
