/* ms-recording-names.c — the names a recording stores (ms-recording-names.h):
 * each table below is the one place its words are spelled. */
#include "ms-recording-names.h"

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
