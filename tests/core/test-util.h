/* test-util.h — what several core tests share: a scratch folder removed
 * with everything in it, and the common part of the small engines that
 * tests define and register themselves (test-toy-engine.c's "toy",
 * test-period-engine.c's "period6").
 *
 * A test engine here has one head, a 1 × 1 carry, weights that begin with
 * M_0 ("<prefix>.memory", (K, d)) and a token embedding ("<prefix>.embed",
 * (V, d)), scratch buffers kept in a TestEngineScratch, and a read
 * attention offered by one layer.  What it computes (its step, its further
 * weights and its attention layouts) stays in its test.  Failures are test
 * assertions: these helpers never return errors. */
#pragma once

#include <glib.h>

#include "ms-engine.h"
#include "ms-safetensors.h"

G_BEGIN_DECLS

/* Deletes the files in @dir, then @dir itself (for a g_dir_make_tmp
 * folder: files only, no subfolders).  Anything it cannot delete stays. */
void test_dir_remove (const char *dir);

/* The first member of a test engine's weights struct. */
typedef struct {
  const float *memory;        /* (K, d) M_0 */
  const float *embed;         /* (V, d) */
} TestEngineWeights;

/* For an engine's bind: binds @w to the tensors "@prefix.memory" and
 * "@prefix.embed". */
void test_engine_bind (MsBinder *b, const MsConfig *c, TestEngineWeights *w, const char *prefix);
/* For an engine's count_weights: adds what test_engine_bind binds. */
void test_engine_count_weights (const MsConfig *c, MsCount *n_tensors, MsCount *n_params);
/* An engine's initial_memory when its weights struct begins with a
 * TestEngineWeights: M_0 is the memory tensor as stored. */
void test_engine_initial_memory (const MsModel *model, float *memory);
/* An engine's describe_config when it has no keys of its own. */
guint test_engine_describe_config (const MsConfig *c, MsConfigRow *rows);
/* n_layers of an attention kind that one layer offers. */
int test_engine_one_layer (const MsConfig *c);

/* For an engine's sizes: a 1 × 1 carry and @n_scratch buffers, whose sizes
 * the engine then sets. */
void test_engine_sizes (MsEngineSizes *sz, int n_scratch);

/* The scratch buffers @sizes (an engine's sizes function) states for @c,
 * in its order.  test_engine_scratch_new returns owned;
 * test_engine_scratch_free frees it (an engine's scratch_free). */
typedef struct {
  int n;
  float *buf[MS_ENGINE_MAX_SCRATCH];
} TestEngineScratch;

TestEngineScratch *test_engine_scratch_new (void (*sizes) (const MsConfig *c, MsEngineSizes *sz),
                                            const MsConfig *c);
void test_engine_scratch_free (gpointer scratch);

/* Writes a model file for engine @arch at @path: @tensors[@n_tensors], a
 * configuration of one head with the given vocabulary, width, segment
 * length and slot count, and the bytes tokenizer. */
void test_engine_write_model (const char *path, const char *arch, int vocab_size, int d_model, int segment_len,
                              int n_slots, const MsTensorOut *tensors, guint n_tensors);

G_END_DECLS
