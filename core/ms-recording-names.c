/* ms-recording-names.c — the names a recording stores (ms-recording-names.h):
 * each table below is the one place its words are spelled. */
#include "ms-recording-names.h"
#include "ms-half.h"

#include <math.h>
#include <string.h>

static const struct {
  MsObsKind kind;
  const char *name;
} attention_kinds[] = {
  { MS_OBS_READ, "read" },
  { MS_OBS_WRITE, "write" },
};

const char *
ms_obs_kind_stored_name (MsObsKind kind)
{
  for (guint i = 0; i < G_N_ELEMENTS (attention_kinds); i++)
    if (attention_kinds[i].kind == kind)
      return attention_kinds[i].name;
  return NULL;
}

static const char *const attn_store_names[] = {
  [MS_ATTN_STORE_F16] = "f16",
  [MS_ATTN_STORE_F32] = "f32",
  [MS_ATTN_STORE_NONE] = "none",
};

gboolean
ms_attn_store_parse (const char *text, MsAttnStore *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (attn_store_names); i++)
    if (g_strcmp0 (text, attn_store_names[i]) == 0)
      {
        *out = (MsAttnStore) i;
        return TRUE;
      }
  return FALSE;
}

const char *
ms_attn_store_name (MsAttnStore store)
{
  g_return_val_if_fail ((guint) store < G_N_ELEMENTS (attn_store_names), NULL);
  return attn_store_names[store];
}

int
ms_attn_store_value_size (MsAttnStore store)
{
  return store == MS_ATTN_STORE_F16 ? 2 : store == MS_ATTN_STORE_F32 ? 4 : 0;
}

static const char *const slot_columns[MS_SLOT_N_QUANTITIES] = {
  [MS_SLOT_RETENTION] = "retention",
  [MS_SLOT_TOKEN_SHARE] = "token_share",
  [MS_SLOT_REPRESENTATION] = "representation",
  [MS_SLOT_READ_USAGE] = "read_usage",
  [MS_SLOT_GATE] = "gate",
};

const char *
ms_slot_quantity_column (MsSlotQuantity q)
{
  g_return_val_if_fail ((guint) q < MS_SLOT_N_QUANTITIES, NULL);
  return slot_columns[q];
}

static const char *const run_status_names[] = {
  [MS_RUN_PENDING] = "pending",
  [MS_RUN_RECORDING] = "recording",
  [MS_RUN_INCOMPLETE] = "incomplete",
  [MS_RUN_COMPLETE] = "complete",
};

const char *
ms_run_status_name (MsRunStatus status)
{
  g_return_val_if_fail ((guint) status < G_N_ELEMENTS (run_status_names), NULL);
  return run_status_names[status];
}

gboolean
ms_run_status_parse_stored (const char *text, MsRunStatus *status)
{
  /* Only these two are ever stored (the CHECK on runs.status). */
  static const MsRunStatus stored[] = { MS_RUN_INCOMPLETE, MS_RUN_COMPLETE };
  for (guint i = 0; i < G_N_ELEMENTS (stored); i++)
    if (g_strcmp0 (text, run_status_names[stored[i]]) == 0)
      {
        *status = stored[i];
        return TRUE;
      }
  return FALSE;
}

/* ---- per-slot arrays (ms-recording-names.h) ---- */

/* The fixed-point range of @q; FALSE for read usage, stored as f16. */
static gboolean
slot_range (MsSlotQuantity q, double *lo, double *hi)
{
  *lo = q == MS_SLOT_REPRESENTATION ? -1 : 0;
  *hi = 1;
  return q != MS_SLOT_READ_USAGE;
}

#define SLOT_CODE_MAX 4094

gint64
ms_slot_array_narrow_bytes (MsSlotQuantity q, gint64 K)
{
  double lo, hi;
  return slot_range (q, &lo, &hi) ? (3 * K + 1) / 2 : 2 * K;
}

void
ms_slot_array_encode (MsSlotQuantity q, const float *values, int K, guint8 *out)
{
  double lo, hi;
  if (!slot_range (q, &lo, &hi))
    {
      for (int i = 0; i < K; i++)
        {
          uint16_t h = ms_float_to_half (values[i]);
          out[2 * i] = h & 0xff, out[2 * i + 1] = h >> 8;
        }
      return;
    }
  memset (out, 0, (size_t) ms_slot_array_narrow_bytes (q, K));
  for (int i = 0; i < K; i++)
    {
      double v = values[i];
      guint code = MS_SLOT_CODE_NAN;
      if (!isnan (v))
        code = (guint) lrint ((CLAMP (v, lo, hi) - lo) / (hi - lo) * SLOT_CODE_MAX);
      guint8 *g = out + 3 * (i / 2);
      if (i % 2 == 0)
        g[0] = code & 0xff, g[1] |= code >> 8;
      else
        g[1] |= (code & 0xf) << 4, g[2] = code >> 4;
    }
}

gboolean
ms_slot_array_decode (MsSlotQuantity q, const void *blob, gint64 bytes, int K, float *out)
{
  const guint8 *b = blob;
  if (bytes == (gint64) K * 4)
    {
      memcpy (out, blob, (size_t) bytes);   /* little-endian, as the host */
      return TRUE;
    }
  if (bytes != ms_slot_array_narrow_bytes (q, K))
    return FALSE;
  double lo, hi;
  gboolean fixed = slot_range (q, &lo, &hi);
  for (int i = 0; i < K; i++)
    {
      if (!fixed)
        {
          out[i] = ms_half_to_float ((uint16_t) (b[2 * i] | b[2 * i + 1] << 8));
          continue;
        }
      const guint8 *g = b + 3 * (i / 2);
      guint code = i % 2 == 0 ? g[0] | (g[1] & 0xf) << 8 : g[1] >> 4 | g[2] << 4;
      out[i] = code == MS_SLOT_CODE_NAN ? NAN : (float) (lo + code * (hi - lo) / SLOT_CODE_MAX);
    }
  return TRUE;
}
