/* ms-kernels.h — the f32 kernels both engines are built from.
 *
 * Matrices are row-major.  Dimension letters: n rows, in/out feature sizes,
 * d model width, H heads, dh = d / H, Tq query rows, Tk key rows.
 * Every kernel here has a plain-loop twin in ms-kernels-ref.c (ms_ref_*),
 * computed in double, and tests/core/test-kernels.c compares them on odd
 * shapes.  Where the CPU has AVX-512, ms_affine and the attention products
 * of heads of a multiple of 32 dimensions run Memscope's own panel kernel
 * and the row-wise kernels are written for it (ms_avx512_kernels); the
 * other matrix products go through cblas_sgemm (OpenBLAS);
 * ms_affine and ms_attention split their work over the core's threads
 * (ms-parallel.h).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The AVX-512 kernels can be compiled (x86-64, GCC or clang: target
 * attributes and intrinsics); whether they run is ms_avx512_kernels(). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MS_HAVE_AVX512_KERNELS 1
#endif

/* C = alpha · op(A) · op(B) + beta · C, row-major, with leading dimensions.
 * op(X) = Xᵀ when trans_x.  A thin wrapper so cblas is named in one place. */
void ms_gemm (int trans_a, int trans_b, int m, int n, int k, float alpha,
              const float *a, int lda, const float *b, int ldb,
              float beta, float *c, int ldc);

/* Whether the hand-written AVX-512 kernels run (ms_affine's packed product,
 * ms_attention's products for heads of a multiple of 32 dimensions,
 * softmax, GELU, layernorm, NLL): the CPU has AVX-512F and the environment
 * variable MEMSCOPE_AVX512 is not "off".  Otherwise the portable loops
 * (vectorised by the compiler for AVX2 or baseline x86-64) and
 * cblas_sgemm run; tests run both paths.  Decided once per process. */
int ms_avx512_kernels (void);

/* Weight matrices (in, out) of ms_affine, in the layout its kernel reads
 * (ms-affine.c): column panels for the AVX-512 kernel when the CPU has
 * it, else (in, out) as is for cblas_sgemm.  ms_weights_packed() says which,
 * the same for the whole process; ms_weight_floats() is how many floats a
 * matrix takes in that layout; ms_weight_lay_out() writes w[in, out] into
 * dst in it (dst must not overlap w unless the layout is (in, out)). */
int ms_weights_packed (void);
size_t ms_weight_floats (int in, int out);
void ms_weight_lay_out (float *dst, const float *w, int in, int out);
/* Part of ms_weight_lay_out, so a matrix can be laid out from a file a
 * slice at a time: with !transposed, @part holds the rows first .. first +
 * count − 1 of W[in, out] (count × out floats); with transposed, the
 * columns first .. first + count − 1 of W, each as a row of @in floats
 * (count × in: rows of Wᵀ, as nn.Linear and an embedding store them), and
 * first and count are multiples of 32 except at the last column.  The
 * parts written must together cover W once. */
void ms_weight_lay_out_part (float *dst, const float *part, int in, int out, int first, int count,
                             int transposed);
/* dst[in] = column @col of W[in, out], read from its layout: the row of a
 * tied embedding E[out, in] = Wᵀ kept only as its LM head's weight. */
void ms_weight_column (float *dst, const float *w, int in, int out, int col);

/* y[n, out] = x[n, in] · W + b[out]; b may be NULL; w is W laid out by
 * ms_weight_lay_out.  Both engines keep their projection weights that
 * way: RMT's GPT-2 Conv1D weights are (in, out) in the file, Memformer's
 * nn.Linear (out, in) weights are transposed at load (ms_binder_add_linear;
 * OpenBLAS re-copied a transposed operand on every call). */
void ms_affine (float *y, const float *x, const float *w, const float *b,
                int n, int in, int out);

/* ms_affine with what becomes of the product, fused into it (no second
 * pass over y): MS_AFFINE_STORE y = x · W + b (ms_affine); MS_AFFINE_ADD
 * y += x · W + b (a residual connection: y starts as y + b, then the
 * products are added); MS_AFFINE_GELU_TANH y = ms_gelu_tanh (x · W + b). */
typedef enum { MS_AFFINE_STORE, MS_AFFINE_ADD, MS_AFFINE_GELU_TANH } MsAffineOutput;
void ms_affine_to (float *y, const float *x, const float *w, const float *b, int n, int in, int out,
                   MsAffineOutput how);

/* The AVX-512 kernel behind ms_affine, for other right-hand sides too
 * (ms_attention's products): y[rows, cols] (ldy apart) = x[rows, kdim]
 * (ldx apart) · B + bias (bias[cols] or NULL), where B comes in panels of
 * 32 columns: row k of panel q (columns 32q .. 32q + 31) is the 32 floats
 * at b + q · panel_stride + k · ldb.  All 32 are read even in the last
 * panel; only y's columns below cols are written.  Call it only when
 * ms_avx512_kernels() is true. */
void ms_panel_product (float *y, int ldy, const float *x, int ldx, int rows, int kdim,
                       const float *b, size_t panel_stride, int ldb, int cols, const float *bias);

/* ms_panel_product without a bias for rows that need less than the whole
 * product (attention under a mask whose rows end early: causal, blocks):
 * with MS_PANEL_LIMIT_COLUMNS, row i needs only y's columns below
 * limit[i] (the others may be left unwritten or be written); with
 * MS_PANEL_LIMIT_REDUCTION, x[i, k] is 0 for k ≥ limit[i], so the
 * reduction may stop there (every limit ≥ 1).  Work is skipped a 32-column
 * panel or a reduction step at a time for each 12-row tile, so a causal
 * product costs about half the full one. */
typedef enum { MS_PANEL_LIMIT_COLUMNS, MS_PANEL_LIMIT_REDUCTION } MsPanelLimit;
void ms_panel_product_limited (float *y, int ldy, const float *x, int ldx, int rows, int kdim,
                               const float *b, size_t panel_stride, int ldb, int cols, const int *limit,
                               MsPanelLimit kind);

/* LayerNorm over the last dimension, eps 1e-5.  y may alias x. */
void ms_layernorm (float *y, const float *x, const float *gamma,
                   const float *beta, int n, int d);

/* Row-wise softmax in place over x[n, cols]; entries equal to -INFINITY get
 * probability 0.  A row with no finite entry (possible only with
 * non-finite weights) becomes NaN. */
void ms_softmax_rows (float *x, int n, int cols, int ld);

/* GELU with the exact erf form, and GPT-2's tanh approximation, in place. */
void ms_gelu_erf (float *x, size_t n);
void ms_gelu_tanh (float *x, size_t n);

/* Multi-head attention.
 *   q [Tq, ldq], k [Tk, ldk], v [Tk, ldv]: head h reads columns h·dh .. h·dh+dh−1
 *   mask [Tq, Tk] or NULL: 1 = may attend, 0 = masked (logit −∞)
 *   probs [H, Tq, Tk]: out, the attention weights of every head
 *   out [Tq, ldo]: softmax(q·kᵀ · scale) · v, heads concatenated
 * Every row of the mask must allow at least one key. */
void ms_attention (float *out, int ldo, float *probs,
                   const float *q, int ldq, const float *k, int ldk,
                   const float *v, int ldv, int Tq, int Tk, int H, int dh,
                   const uint8_t *mask, float scale);

/* ms_attention's two products for one head, for callers with their own
 * softmax (the Memformer writer):
 *   s[Tq, Tk] (lds apart) = scale · q[Tq, dh] · k[Tk, dh]ᵀ
 *   out[Tq, dh] (ldo apart) = p[Tq, Tk] · v[Tk, dh]
 * With AVX-512 and dh a multiple of 32 through ms_panel_product, else
 * cblas_sgemm. */
void ms_attention_scores (float *s, int lds, const float *q, int ldq, const float *k, int ldk,
                          int Tq, int Tk, int dh, float scale);
void ms_attention_mix (float *out, int ldo, const float *p, int ldp, const float *v, int ldv,
                       int Tq, int Tk, int dh);

/* −log softmax(logits)[target] for one row of length V. */
float ms_nll_row (const float *logits, int V, int target);
/* nll[i] = ms_nll_row (logits + i·V, V, targets[i]) for i < rows, rows
 * split over the core's threads. */
void ms_nll_rows (float *nll, const float *logits, int rows, int V, const int32_t *targets);

/* The plain-loop twins (double accumulation), same contracts. */
void ms_ref_affine (float *y, const float *x, const float *w, const float *b, int n, int in, int out);
void ms_ref_layernorm (float *y, const float *x, const float *gamma, const float *beta, int n, int d);
void ms_ref_softmax_rows (float *x, int n, int cols, int ld);
void ms_ref_gelu_erf (float *x, size_t n);
void ms_ref_gelu_tanh (float *x, size_t n);
void ms_ref_attention (float *out, int ldo, float *probs,
                       const float *q, int ldq, const float *k, int ldk,
                       const float *v, int ldv, int Tq, int Tk, int H, int dh,
                       const uint8_t *mask, float scale);
float ms_ref_nll_row (const float *logits, int V, int target);
