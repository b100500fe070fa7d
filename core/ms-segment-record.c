/* ms-segment-record.c — copies of one segment's observations
 * (ms-segment-record.h). */
#include "ms-segment-record.h"

#include <string.h>

void
ms_segment_record_sizes (const MsConfig *c, MsAttnStore attn, MsSegmentRecordSizes *sizes)
{
  size_t K = c->n_slots, L = c->segment_len, state = K * c->d_model;
  /* Every layer of every attention kind the engine offers, at the largest
   * segment (its layouts' shapes at n = L). */
  *sizes = (MsSegmentRecordSizes) { .max_matrix = 1 };
  for (guint i = 0; i < c->engine->n_attention; i++)
    {
      const MsAttentionLayout *a = &c->engine->attention[i];
      int heads, rows, cols, layers = ms_attention_layout_n_layers (a, c);
      ms_attention_layout_shape (a, c, (int) L, &heads, &rows, &cols);
      if (attn != MS_ATTN_STORE_NONE)
        {
          sizes->max_attn += layers;
          sizes->max_attn_floats += (size_t) layers * heads * rows * cols;
        }
      sizes->max_matrix = MAX (sizes->max_matrix, (size_t) rows * cols);
    }
  /* memory in and out, NLL, gate, read usage, the write distribution
   * (retention, token share, transfer, token weights), tokens and ends */
  sizes->bytes = (2 * state + L + 2 * K + K * (2 + K + L)) * sizeof (float) + 2 * L * sizeof (int32_t)
                 + sizes->max_attn * sizeof (MsAttnCopy) + sizes->max_attn_floats * sizeof (float);
}

guint
ms_segment_record_kinds (const MsConfig *c)
{
  return MS_OBS_MEMORY_IN | MS_OBS_MEMORY_OUT | MS_OBS_NLL | ms_engine_attention_kinds (c->engine)
         | (c->engine->slot_observations & MS_OBS_GATE);
}

gboolean
ms_segment_record_init (MsSegmentRecord *rec, const MsConfig *c, const MsSegmentRecordSizes *sizes)
{
  size_t state = (size_t) c->n_slots * c->d_model;
  *rec = (MsSegmentRecord) { 0 };
  rec->memory_in = g_try_new (float, state);
  rec->memory_out = g_try_new (float, state);
  rec->nll = g_try_new (float, c->segment_len);
  rec->gate = g_try_new (float, c->n_slots);
  rec->tokens = g_try_new (int32_t, c->segment_len);
  rec->token_ends = g_try_new (uint32_t, c->segment_len);
  rec->read_usage = g_try_new (float, c->n_slots);
  rec->write = ms_write_distribution_new (c->n_slots, c->segment_len);
  rec->attn = g_try_new (MsAttnCopy, MAX (sizes->max_attn, 1));
  rec->attn_data = g_try_new (float, MAX (sizes->max_attn_floats, 1));
  return rec->memory_in && rec->memory_out && rec->nll && rec->gate && rec->tokens && rec->token_ends
         && rec->read_usage && rec->attn && rec->attn_data;
}

/* Lays @rec's buffers out from @base, each at a multiple of 64 bytes, and
 * returns the bytes they take; with @base NULL only counts them. */
static size_t
lay_out (MsSegmentRecord *rec, const MsConfig *c, const MsSegmentRecordSizes *sizes, char *base)
{
  size_t state = (size_t) c->n_slots * c->d_model, at = 0;
#define TAKE(field, type, count)                                      \
  do                                                                  \
    {                                                                 \
      if (base)                                                       \
        rec->field = (type *) (base + at);                            \
      at += ((size_t) (count) * sizeof (type) + 63) & ~(size_t) 63;   \
    }                                                                 \
  while (0)
  TAKE (memory_in, float, state);
  TAKE (memory_out, float, state);
  TAKE (nll, float, c->segment_len);
  TAKE (gate, float, c->n_slots);
  TAKE (tokens, int32_t, c->segment_len);
  TAKE (token_ends, uint32_t, c->segment_len);
  TAKE (read_usage, float, c->n_slots);
  TAKE (attn, MsAttnCopy, MAX (sizes->max_attn, 1));
  TAKE (attn_data, float, MAX (sizes->max_attn_floats, 1));
#undef TAKE
  if (base)
    {
      ms_write_distribution_init_in (&rec->write_in_block, c->n_slots, c->segment_len, (float *) (base + at));
      rec->write = &rec->write_in_block;
    }
  at += (ms_write_distribution_floats (c->n_slots, c->segment_len) * sizeof (float) + 63) & ~(size_t) 63;
  return at;
}

size_t
ms_segment_record_block_bytes (const MsConfig *c, const MsSegmentRecordSizes *sizes)
{
  return lay_out (NULL, c, sizes, NULL);
}

void
ms_segment_record_init_in (MsSegmentRecord *rec, const MsConfig *c, const MsSegmentRecordSizes *sizes, void *block)
{
  *rec = (MsSegmentRecord) { .in_block = TRUE };
  lay_out (rec, c, sizes, block);
}

void
ms_segment_record_clear (MsSegmentRecord *rec)
{
  g_clear_pointer (&rec->text, g_free);
  rec->text_capacity = 0;
  if (rec->in_block)
    return;
  g_clear_pointer (&rec->memory_in, g_free);
  g_clear_pointer (&rec->memory_out, g_free);
  g_clear_pointer (&rec->nll, g_free);
  g_clear_pointer (&rec->gate, g_free);
  g_clear_pointer (&rec->tokens, g_free);
  g_clear_pointer (&rec->token_ends, g_free);
  g_clear_pointer (&rec->read_usage, g_free);
  g_clear_pointer (&rec->write, ms_write_distribution_free);
  g_clear_pointer (&rec->attn, g_free);
  g_clear_pointer (&rec->attn_data, g_free);
}

gboolean
ms_segment_record_start (MsSegmentRecord *rec, int segment, const int32_t *segment_tokens, size_t token_begin,
                         int n, const uint8_t *text, size_t text_len, const uint32_t *token_ends,
                         guint64 byte_begin, gboolean last)
{
  if (text_len > rec->text_capacity)
    {
      uint8_t *grown = g_try_realloc (rec->text, text_len);
      if (!grown)
        return FALSE;
      rec->text = grown;
      rec->text_capacity = text_len;
    }
  rec->segment = segment;
  rec->token_begin = token_begin;
  memcpy (rec->tokens, segment_tokens, (size_t) n * sizeof (int32_t));
  rec->n_tokens = n;
  if (text_len > 0)
    memcpy (rec->text, text, text_len);
  rec->text_len = text_len;
  rec->bytes = token_ends == NULL;
  if (token_ends)
    memcpy (rec->token_ends, token_ends, (size_t) n * sizeof (uint32_t));
  rec->byte_begin = byte_begin;
  rec->last = last;
  rec->n_attn = 0;
  rec->attn_used = 0;
  rec->has_gate = FALSE;
  rec->has_write = FALSE;
  memset (rec->read_usage, 0, (size_t) rec->write->n_slots * sizeof (float));
  return TRUE;
}

void
ms_segment_record_copy (MsSegmentRecord *rec, const MsConfig *c, const MsSegmentRecordSizes *sizes, MsAttnStore attn,
                        const MsObservation *obs)
{
  size_t state = (size_t) c->n_slots * c->d_model * sizeof (float);
  switch (obs->kind)
    {
    case MS_OBS_MEMORY_IN:
      memcpy (rec->memory_in, obs->data, state);
      return;
    case MS_OBS_MEMORY_OUT:
      memcpy (rec->memory_out, obs->data, state);
      return;
    case MS_OBS_NLL:
      rec->n_tokens = obs->shape[0];
      memcpy (rec->nll, obs->data, obs->shape[0] * sizeof (float));
      return;
    case MS_OBS_GATE:
      memcpy (rec->gate, obs->data, c->n_slots * sizeof (float));
      rec->has_gate = TRUE;
      return;
    case MS_OBS_WRITE:
    case MS_OBS_READ:
      break;
    default:
      return;
    }
  /* the per-slot quantities, from the engine's buffers (views or not) */
  const MsAttentionLayout *read = ms_engine_find_attention_by_role (c->engine, MS_ATTENTION_READ);
  const MsAttentionLayout *write = ms_engine_find_attention_by_role (c->engine, MS_ATTENTION_WRITE);
  int H = obs->shape[0];
  size_t head_stride = obs->stride[0], row_stride = obs->stride[1];
  if (read && obs->kind == read->kind)
    ms_read_usage_accumulate_view (read, obs->data, head_stride, row_stride, H, rec->n_tokens, c->n_slots,
                                   rec->read_usage);
  else if (write && obs->kind == write->kind && obs->layer == ms_attention_layout_last_layer (write, c))
    {
      ms_write_distribution_from_view (rec->write, write, obs->data, head_stride, row_stride, H, c->n_slots,
                                       rec->n_tokens);
      rec->has_write = TRUE;
    }
  if (attn == MS_ATTN_STORE_NONE)
    return;
  size_t n = ms_observation_size (obs);
  g_assert (rec->n_attn < sizes->max_attn && rec->attn_used + n <= sizes->max_attn_floats);
  MsAttnCopy *a = &rec->attn[rec->n_attn++];
  *a = (MsAttnCopy) { obs->kind, obs->layer, { obs->shape[0], obs->shape[1], obs->shape[2] }, rec->attn_used };
  ms_observation_copy (obs, rec->attn_data + rec->attn_used);
  rec->attn_used += n;
}
