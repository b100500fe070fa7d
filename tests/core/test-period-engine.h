/* test-period-engine.h — "period6", a small engine whose retention repeats
 * every 6 segments, and recordings of it, for the tests that need long runs
 * with known answers (test-view-resolution.c, the workbench's long-run
 * tests).
 *
 * K = 2 slots of width D = 3, one token per segment (L = 1), a vocabulary
 * of 256.  At segment t slot i keeps w = PERIOD_PATTERN[(t + i) mod 6] of
 * its old content and takes 1 − w from the token (write attention
 * [w | 1 − w]); the read attention is uniform over the slots; a token's
 * NLL is its id / 256.  The transfer is diagonal, so a slot's provenance
 * is its own retentions multiplied along. */
#pragma once

#include <glib.h>

#include "ms-recorder.h"
#include "ms-recording.h"

G_BEGIN_DECLS

#define PERIOD_K 2
#define PERIOD_D 3
#define PERIOD_L 1

extern const float PERIOD_PATTERN[6];

/* The retention of @slot at @segment. */
float period_retention_at (int segment, int slot);

/* Registers the engine (once per process; later calls do nothing). */
void period_engine_register (void);

/* Writes the engine's model file at @path (test assertions on failure). */
void period_model_write (const char *path);

/* Records @n_segments segments of @model_path into a new recording
 * "run-@n_segments.memscope" in @dir (the input, "in-@n_segments.txt",
 * written beside it: byte i is 'a' + 7i mod 26) with attention stored as
 * @attn; the run is run 1.  Returns the recording, open (owned). */
MsRecording *period_record (const char *dir, const char *model_path, int n_segments, MsAttnStore attn);

G_END_DECLS
