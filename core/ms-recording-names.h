/* ms-recording-names.h — the words a recording stores, each defined once:
 * which attention kind a stored matrix is, how its numbers are stored, which
 * column holds each per-slot quantity, and the status of a run.  The run
 * writer (ms-run-writer.c) stores these names and ms-recording.c queries
 * and parses them through the same functions; nothing else spells them
 * out.  Parsing validates: a recording comes from other people, so a name
 * that is not one of these is an error for the caller to report, never a
 * default.
 */
#pragma once

#include <stdint.h>

#include <glib.h>

#include "ms-session.h"

G_BEGIN_DECLS

/* ---- attention kinds: attention.kind --------------------------------- */

/* The stored name of attention kind @kind: "read" (MS_OBS_READ) or
 * "write" (MS_OBS_WRITE), whatever the engine; NULL for kinds that are not
 * attention (memory, NLL, logits).  Static.  (Schema 3 stored the names
 * of its engines' layouts, "reader", "writer", "rmt_read", "rmt_write":
 * ms-db.c renames them when it upgrades a file and when it reads one.) */
const char *ms_obs_kind_stored_name (MsObsKind kind);

/* ---- how attention is stored: runs.attn_dtype, attention.dtype -------- */

typedef enum {
  MS_ATTN_STORE_F16,    /* "f16": IEEE half, little-endian */
  MS_ATTN_STORE_F32,    /* "f32": IEEE single, little-endian */
  MS_ATTN_STORE_NONE,   /* "none": a compact run, which stores no attention matrices (never a matrix's
                           dtype); the reader replays a segment's attention from its stored memory
                           (ms-recording.h, ms_recording_attention) */
} MsAttnStore;

/* Parses "f16", "f32" or "none"; FALSE for anything else. */
gboolean ms_attn_store_parse (const char *text, MsAttnStore *out);
/* "f16", "f32" or "none" (static). */
const char *ms_attn_store_name (MsAttnStore store);
/* Bytes per stored value: 2, 4, or 0 for none. */
int ms_attn_store_value_size (MsAttnStore store);

/* ---- per-slot quantities: one (K) array column of segments each ------ */

typedef enum {
  MS_SLOT_RETENTION,       /* retention r_t[i]: the share of new slot i drawn from the old memory */
  MS_SLOT_TOKEN_SHARE,     /* 1 − retention: the share drawn from the segment's tokens; NULL in a
                              schema-8 segment whose engine puts every write column in one of the two
                              shares (ms_recording_foreach_segment derives it from the transfer) */
  MS_SLOT_REPRESENTATION,  /* representation retention cos(M_{t+1}[i], M_t[i]) */
  MS_SLOT_READ_USAGE,      /* the read attention the segment's tokens give the slot, mean over layers */
  MS_SLOT_GATE,            /* an engine's update gate α per slot (MS_OBS_GATE; MemBART): the share of the
                              new slot taken from the layers' output, 1 − α kept as it was; NULL (read as
                              NaN) for an engine without a gate and in files before schema 7 */
} MsSlotQuantity;

#define MS_SLOT_N_QUANTITIES 5

/* The segments column holding @q: "retention", "token_share",
 * "representation", "read_usage", "gate" (static; safe to paste into SQL). */
const char *ms_slot_quantity_column (MsSlotQuantity q);

/* How a (K) per-slot array is stored in its segments column, told apart by
 * the BLOB's length (ms-db.h, schema 8):
 *   4·K bytes: f32, exact — every array before schema 8, and since then
 *     the retention of a run whose transfer is diagonal (not stored: the
 *     retention is the transfer, which provenance multiplies over many
 *     segments) and the gate;
 *   narrow (ms_slot_array_narrow_bytes) — read usage as IEEE half (f16,
 *     2·K bytes, little-endian: relative error ≤ 2^-11, any range); the
 *     quantities whose range is known as 12-bit fixed point over it, two
 *     codes in three bytes (code 2i in the low 12 bits of the 24-bit
 *     little-endian group i, code 2i + 1 in its high 12; for an odd K the
 *     last code alone in two bytes, their top 4 bits 0), code q in
 *     0 … 4094 standing for
 *     lo + q·(hi − lo)/4094 and 4095 for NaN: retention, token share and
 *     gate over [0, 1] (error ≤ 1.3e-4), representation over [−1, 1]
 *     (error ≤ 2.5e-4); values outside the range are stored as its nearer
 *     end.
 * The narrow widths are finer than a view's colours or a tooltip's three
 * decimals; provenance never multiplies them (it reads the f32 transfer). */
#define MS_SLOT_CODE_NAN 0xfff

/* The bytes of @q's narrow array of @K values. */
gint64 ms_slot_array_narrow_bytes (MsSlotQuantity q, gint64 K);
/* @values[K] of @q into its narrow array @out (ms_slot_array_narrow_bytes). */
void ms_slot_array_encode (MsSlotQuantity q, const float *values, int K, guint8 *out);
/* Decodes @bytes of a stored (K) array of @q (f32, or @q's narrow width)
 * into @out[K]; FALSE, with @out untouched, for any other length.  @blob
 * may sit unaligned. */
gboolean ms_slot_array_decode (MsSlotQuantity q, const void *blob, gint64 bytes, int K, float *out);

/* ---- run status ------------------------------------------------------ */

/* Where a run stands.  A recording stores only "incomplete" (created, not
 * every planned segment committed yet) and "complete"; a reader reports
 * an incomplete run as RECORDING while its writer process is alive on this
 * host; PENDING is a run a client has planned but not started, so no
 * recording holds it yet. */
typedef enum {
  MS_RUN_PENDING,
  MS_RUN_RECORDING,
  MS_RUN_INCOMPLETE,   /* stopped before its last segment (killed, cancelled, failed): resumable */
  MS_RUN_COMPLETE,
} MsRunStatus;

/* "pending", "recording", "incomplete", "complete" (static): what the CLI
 * prints and the workbench shows. */
const char *ms_run_status_name (MsRunStatus status);
/* The status stored as @text in runs.status: "incomplete" or "complete"
 * only; FALSE for anything else. */
gboolean ms_run_status_parse_stored (const char *text, MsRunStatus *status);

G_END_DECLS
