/* ms-recording-private.h — (private to core) what the modules that compute
 * from a recording and keep their results in it (ms-causal.c) need from the
 * reader: the run's model and each segment's replay input, validated as
 * ms_recording_attention validates them, and their own queries run under
 * the reader's lock and work budget.
 */
#pragma once

#include <sqlite3.h>
#include <stdint.h>

#include "ms-recording.h"

G_BEGIN_DECLS

/* The model @run was recorded with (found and verified as for replay,
 * ms-replay.h): a new reference.  Errors as ms_recording_attention. */
MsModel *ms_recording_run_model (MsRecording *rec, const MsRunInfo *run, GError **error);

/* The input of segment @segment of @run, as stored: the memory before it
 * into @memory_in (n_slots · d_model floats; may be NULL) and its token
 * ids for @model (the run's, from ms_recording_run_model) into *@tokens
 * (owned, g_free; may be NULL) and *@n_tokens.  Errors as
 * ms_recording_attention. */
gboolean ms_recording_segment_input (MsRecording *rec, const MsRunInfo *run, MsModel *model, int segment,
                                     float *memory_in, int32_t **tokens, int *n_tokens, GError **error);

/* @sql prepared on @rec's handle with @rec locked and the work budget of
 * one call armed (a planted query stalls one call, never hangs); NULL with
 * @error set (and @rec unlocked).  ms_recording_query_end releases the
 * statement and unlocks. */
sqlite3_stmt *ms_recording_query_begin (MsRecording *rec, const char *sql, GError **error);
void ms_recording_query_end (MsRecording *rec, sqlite3_stmt *st);

/* The path (or label) @rec was opened with, for messages.  Borrowed. */
const char *ms_recording_get_path (const MsRecording *rec);

/* Which file @rec reads, as "device:inode" taken when it was opened: two
 * handles on one file (or on links to it) give the same text, so what was
 * computed from a run's committed segments — which never change once
 * committed — can be kept across handles (ms-view-cache.c) under it and
 * the run's id and creation time.  NULL for a recording opened from an
 * image (nothing is kept for those).  Borrowed. */
const char *ms_recording_get_identity (const MsRecording *rec);

G_END_DECLS
