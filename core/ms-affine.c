/* ms-affine.c — y = x · W + b, the projections of both engines, with weight
 * matrices laid out once at load.
 *
 * Every projection of both engines multiplies a few dozen to a few hundred
 * activation rows by a fixed weight matrix.  cblas_sgemm copies ("packs")
 * the weight into its kernel's panel layout on every call, and its blocking
 * is tuned for large squares.
 * Here the weight is packed once, when the model loads, into panels of 32
 * columns (row k of panel q holds W[k, 32q .. 32q+31], zero-padded past the
 * last column, each panel 64-byte aligned), and an AVX-512 micro-kernel
 * computes 12 rows × 32 columns at a time from the activations as they lie
 * (each activation is broadcast straight from its row, so they are not
 * packed either).  The reduction dimension is cut into blocks of KC rows
 * so a panel's block stays in L1 while it meets every row block.
 * tests/bench/bench-gemm compares it with cblas_sgemm at the engines'
 * shapes; the results are in tests/bench/README.md.
 *
 * Packing is used with the other AVX-512 kernels (ms_avx512_kernels: the
 * CPU has AVX-512F and MEMSCOPE_AVX512 is not "off"); otherwise weights
 * stay (in, out) and go through cblas_sgemm.
 * The choice is made once per process, so a model's layout and the kernel
 * that reads it always agree.
 */
#include "ms-kernels.h"
#include "ms-parallel.h"

#include <glib.h>
#include <string.h>

#define PANEL 32   /* columns per panel: two 16-float vectors */
#define ROWS 12    /* rows per micro-tile: 24 accumulators of the 32 registers */
#define KC 256     /* reduction rows per block: 32 KiB of a panel, inside L1 */

#ifdef MS_HAVE_AVX512_KERNELS
#include "ms-avx512-math.h"
#endif

/* How a micro-tile starts and ends (flags). */
enum {
  TILE_FIRST = 1,  /* the first reduction block: start from the bias (or 0) … */
  TILE_ADD = 2,    /* … plus what y holds (MS_AFFINE_ADD) */
  TILE_GELU = 4,   /* the last block: GPT-2's GELU before the store (MS_AFFINE_GELU_TANH) */
};

/* One y = x · W + b, shared by the threads computing parts of it. */
typedef struct {
  float *y;
  const float *x, *w, *b;
  int n, in, out;
  int panels;        /* packed: 32-column panels; cblas: 16-column groups */
  int split_rows;    /* items split the rows (else the panels) */
  int n_items;
  MsAffineOutput how;
} Product;

int
ms_weights_packed (void)
{
  return ms_avx512_kernels ();
}

size_t
ms_weight_floats (int in, int out)
{
  if (!ms_weights_packed ())
    return (size_t) in * out;
  return (size_t) ((out + PANEL - 1) / PANEL) * in * PANEL;
}

void
ms_weight_lay_out_part (float *dst, const float *part, int in, int out, int first, int count, int transposed)
{
  if (!transposed)
    {
      /* rows first .. first + count − 1 of W */
      if (!ms_weights_packed ())
        {
          memmove (dst + (size_t) first * out, part, sizeof (float) * count * out);
          return;
        }
      int panels = (out + PANEL - 1) / PANEL;
      for (int q = 0; q < panels; q++)
        for (int k = first; k < first + count; k++)
          {
            float *row = dst + ((size_t) q * in + k) * PANEL;
            const float *src = part + (size_t) (k - first) * out + q * PANEL;
            int valid = MIN (PANEL, out - q * PANEL);
            memcpy (row, src, sizeof (float) * valid);
            memset (row + valid, 0, sizeof (float) * (PANEL - valid));
          }
      return;
    }
  /* columns first .. first + count − 1 of W, each as a row of part */
  if (!ms_weights_packed ())
    {
      for (int k0 = 0; k0 < in; k0 += 32)   /* in 32 × 32 blocks, so both sides stay in cache */
        for (int c = first; c < first + count; c++)
          for (int k = k0; k < MIN (k0 + 32, in); k++)
            dst[(size_t) k * out + c] = part[(size_t) (c - first) * in + k];
      return;
    }
  g_return_if_fail (first % PANEL == 0 && (count % PANEL == 0 || first + count == out));
  for (int q = first / PANEL; q * PANEL < first + count; q++)
    {
      float *panel = dst + (size_t) q * in * PANEL;
      for (int j = 0; j < PANEL; j++)
        {
          int col = q * PANEL + j;
          const float *src = part + (size_t) (col - first) * in;
          if (col < out)
            for (int k = 0; k < in; k++)
              panel[(size_t) k * PANEL + j] = src[k];
          else
            for (int k = 0; k < in; k++)
              panel[(size_t) k * PANEL + j] = 0.0f;
        }
    }
}

void
ms_weight_lay_out (float *dst, const float *w, int in, int out)
{
  ms_weight_lay_out_part (dst, w, in, out, 0, in, FALSE);
}

void
ms_weight_column (float *dst, const float *w, int in, int out, int col)
{
  if (!ms_weights_packed ())
    {
      for (int k = 0; k < in; k++)
        dst[k] = w[(size_t) k * out + col];
      return;
    }
  const float *p = w + (size_t) (col / PANEL) * in * PANEL + col % PANEL;
  for (int k = 0; k < in; k++)
    dst[k] = p[(size_t) k * PANEL];
}

#ifdef MS_HAVE_AVX512_KERNELS
/* rows × 32 outputs of y (ldy apart) over kc reduction steps: x rows are
 * ldx apart, p is the panel's block (kc rows of 32, ldp apart).  The first
 * block (TILE_FIRST) starts from the bias (or 0; with TILE_ADD plus y),
 * later ones from what y holds; TILE_GELU applies GELU before storing.
 * mask0/mask1 select the valid columns of the two halves of the last panel.
 * While it computes, the first n_pf rows of the block at pf (same layout)
 * are fetched into L2, one row every kc / n_pf reduction steps. */
__attribute__ ((target ("avx512f"), always_inline)) static inline void
micro_tile (int rows, float *y, int ldy, const float *x, int ldx, const float *p, int ldp, int kc,
            const float *bias, int flags, __mmask16 mask0, __mmask16 mask1, const float *pf, int n_pf)
{
  __m512 acc0[ROWS], acc1[ROWS];
  if ((flags & (TILE_FIRST | TILE_ADD)) == (TILE_FIRST | TILE_ADD))
    {
      __m512 b0 = bias ? _mm512_maskz_loadu_ps (mask0, bias) : _mm512_setzero_ps ();
      __m512 b1 = bias ? _mm512_maskz_loadu_ps (mask1, bias + 16) : _mm512_setzero_ps ();
#pragma GCC unroll 16
      for (int r = 0; r < rows; r++)
        {
          acc0[r] = _mm512_add_ps (_mm512_maskz_loadu_ps (mask0, y + (size_t) r * ldy), b0);
          acc1[r] = _mm512_add_ps (_mm512_maskz_loadu_ps (mask1, y + (size_t) r * ldy + 16), b1);
        }
    }
  else if (flags & TILE_FIRST)
    {
      /* y's lines are written only at the end: ask for them now, so the 24
       * stores do not all miss at once (in a model run y has often left the
       * caches) */
#pragma GCC unroll 16
      for (int r = 0; r < rows; r++)
        {
          _mm_prefetch ((const char *) (y + (size_t) r * ldy), _MM_HINT_T0);
          _mm_prefetch ((const char *) (y + (size_t) r * ldy + 16), _MM_HINT_T0);
        }
      __m512 b0 = bias ? _mm512_maskz_loadu_ps (mask0, bias) : _mm512_setzero_ps ();
      __m512 b1 = bias ? _mm512_maskz_loadu_ps (mask1, bias + 16) : _mm512_setzero_ps ();
#pragma GCC unroll 16
      for (int r = 0; r < rows; r++)
        acc0[r] = b0, acc1[r] = b1;
    }
  else
    {
#pragma GCC unroll 16
      for (int r = 0; r < rows; r++)
        {
          acc0[r] = _mm512_maskz_loadu_ps (mask0, y + (size_t) r * ldy);
          acc1[r] = _mm512_maskz_loadu_ps (mask1, y + (size_t) r * ldy + 16);
        }
    }
  /* Spread out, not one row per step at the start: a burst of misses to
   * memory fills the core's line-fill buffers and stalls the FMAs behind
   * it (bench-gemm --cold shows the difference; tests/bench/README.md). */
  int every = n_pf > 0 ? MAX (1, kc / n_pf) : kc + 1;
  for (int k = 0; k < kc; k++)
    {
      if (k % every == 0 && k / every < n_pf)
        {
          const float *row = pf + (size_t) (k / every) * ldp;
          _mm_prefetch ((const char *) row, _MM_HINT_T1);
          _mm_prefetch ((const char *) (row + 16), _MM_HINT_T1);
        }
      __m512 w0 = _mm512_loadu_ps (p + (size_t) k * ldp);
      __m512 w1 = _mm512_loadu_ps (p + (size_t) k * ldp + 16);
#pragma GCC unroll 16
      for (int r = 0; r < rows; r++)
        {
          __m512 a = _mm512_set1_ps (x[(size_t) r * ldx + k]);
          acc0[r] = _mm512_fmadd_ps (a, w0, acc0[r]);
          acc1[r] = _mm512_fmadd_ps (a, w1, acc1[r]);
        }
    }
  if (flags & TILE_GELU)
    {
#pragma GCC unroll 16
      for (int r = 0; r < rows; r++)
        acc0[r] = gelu_tanh16 (acc0[r]), acc1[r] = gelu_tanh16 (acc1[r]);
    }
#pragma GCC unroll 16
  for (int r = 0; r < rows; r++)
    {
      _mm512_mask_storeu_ps (y + (size_t) r * ldy, mask0, acc0[r]);
      _mm512_mask_storeu_ps (y + (size_t) r * ldy + 16, mask1, acc1[r]);
    }
}

/* One copy of the tile per row count, each with its loops fully unrolled
 * and its accumulators in registers. */
#define TILE(R) \
  case R: micro_tile (R, y, ldy, x, ldx, p, ldp, kc, bias, flags, mask0, mask1, pf, n_pf); break;

__attribute__ ((target ("avx512f"))) static void
tile (int rows, float *y, int ldy, const float *x, int ldx, const float *p, int ldp, int kc,
      const float *bias, int flags, __mmask16 mask0, __mmask16 mask1, const float *pf, int n_pf)
{
  switch (rows)
    {
      TILE (1) TILE (2) TILE (3) TILE (4) TILE (5) TILE (6)
      TILE (7) TILE (8) TILE (9) TILE (10) TILE (11) TILE (12)
    default: g_assert_not_reached ();
    }
}

/* y = x · B (+ bias) over the whole reduction.  Panels go in groups whose
 * part of y stays in L2 (Y_GROUP_BYTES); within a group, k blocks are
 * outermost, so a panel's block stays in L1 while it meets every row tile
 * and an activation block in L2 while it meets every panel of the group.
 * Panels outermost (groups of one) would re-read x for every panel, which
 * costs on products with many inputs.
 *
 * Each block of B is fetched into L2 while the block before it is being
 * used (prefetcht1, the rows spread over the row tiles and, within a
 * tile, over its reduction steps: micro_tile).  In a model run the weights
 * come from memory, not from the caches a repeated product leaves them
 * in, so without it the FMAs wait for every block.  What the prefetch and
 * the group size gain is in tests/bench/README.md. */
#define Y_GROUP_BYTES (384 * 1024)

/* The rows [r, r + h) of x need columns below (COLUMNS) or reductions
 * below (REDUCTION) the largest limit of those rows, or all (no limit). */
static inline int
tile_limit (const int *limit, int r, int h, int all)
{
  if (!limit)
    return all;
  int most = 0;
  for (int i = r; i < r + h; i++)
    most = MAX (most, limit[i]);
  return MIN (most, all);
}

__attribute__ ((target ("avx512f"))) static void
panel_product (float *y, int ldy, const float *x, int ldx, int rows, int kdim, const float *b, size_t panel_stride,
               int ldb, int cols, const float *bias, const int *limit, MsPanelLimit limit_kind, MsAffineOutput how)
{
  int tiles = (rows + ROWS - 1) / ROWS, panels = (cols + PANEL - 1) / PANEL;
  int group = MAX (1, Y_GROUP_BYTES / (rows * PANEL * (int) sizeof (float)));
  const int *col_limit = limit_kind == MS_PANEL_LIMIT_COLUMNS ? limit : NULL;
  const int *k_limit = limit_kind == MS_PANEL_LIMIT_REDUCTION ? limit : NULL;
  for (int g0 = 0; g0 < panels; g0 += group)
    for (int k0 = 0; k0 < kdim; k0 += KC)
      {
        int kc = MIN (KC, kdim - k0);
        for (int q = g0; q < MIN (panels, g0 + group); q++)
          {
            int left = cols - q * PANEL;
            __mmask16 mask0 = left >= 16 ? 0xffff : (__mmask16) ((1u << left) - 1);
            __mmask16 mask1 = left >= 32 ? 0xffff : left <= 16 ? 0 : (__mmask16) ((1u << (left - 16)) - 1);
            const float *p = b + q * panel_stride + (size_t) k0 * ldb;
            /* the block after this one, which the row tiles fetch into L2
             * while they compute, each a share of its rows */
            const float *next = NULL;
            if (q + 1 < MIN (panels, g0 + group))
              next = b + (q + 1) * panel_stride + (size_t) k0 * ldb;
            else if (k0 + KC < kdim)
              next = b + g0 * panel_stride + (size_t) (k0 + KC) * ldb;
            else if (g0 + group < panels)
              next = b + (g0 + group) * panel_stride;
            /* as few tiles as 12-row tiles allow, their heights balanced
             * (64 rows: 11, 11, 11, 11, 10, 10 rather than 12 × 5 + 4: a
             * short tile has too few accumulators to hide the FMA latency) */
            for (int t = 0, r = 0; t < tiles; t++)
              {
                int h = rows / tiles + (t < rows % tiles);
                int pf0 = kc * t / tiles, pf1 = next ? kc * (t + 1) / tiles : pf0;
                int tile_kc = kc;
                if (col_limit && q * PANEL >= tile_limit (col_limit, r, h, cols))
                  tile_kc = 0;   /* none of these columns is needed */
                else if (k_limit && k0 > 0)
                  tile_kc = MIN (kc, tile_limit (k_limit, r, h, kdim) - k0);   /* the rest of x is 0 */
                else if (k_limit)
                  tile_kc = MAX (1, MIN (kc, tile_limit (k_limit, r, h, kdim)));   /* the first block starts y */
                int flags = (k0 == 0 ? TILE_FIRST : 0) | (how == MS_AFFINE_ADD ? TILE_ADD : 0)
                            | (how == MS_AFFINE_GELU_TANH && k0 + KC >= kdim ? TILE_GELU : 0);
                if (tile_kc > 0)
                  tile (h, y + (size_t) r * ldy + q * PANEL, ldy, x + (size_t) r * ldx + k0, ldx, p, ldb, tile_kc,
                        bias ? bias + q * PANEL : NULL, flags, mask0, mask1,
                        next ? next + (size_t) pf0 * ldb : NULL, pf1 - pf0);
                r += h;
              }
          }
      }
}

void
ms_panel_product (float *y, int ldy, const float *x, int ldx, int rows, int kdim,
                  const float *b, size_t panel_stride, int ldb, int cols, const float *bias)
{
  panel_product (y, ldy, x, ldx, rows, kdim, b, panel_stride, ldb, cols, bias, NULL, MS_PANEL_LIMIT_COLUMNS,
                 MS_AFFINE_STORE);
}

void
ms_panel_product_limited (float *y, int ldy, const float *x, int ldx, int rows, int kdim,
                          const float *b, size_t panel_stride, int ldb, int cols, const int *limit,
                          MsPanelLimit kind)
{
  panel_product (y, ldy, x, ldx, rows, kdim, b, panel_stride, ldb, cols, NULL, limit, kind, MS_AFFINE_STORE);
}

/* The rows [row0, row0 + rows) × panels [q0, q1) block of y = x · W + b. */
static void
packed_block (const Product *pr, int row0, int rows, int q0, int q1)
{
  int in = pr->in, out = pr->out;
  panel_product (pr->y + (size_t) row0 * out + q0 * PANEL, out, pr->x + (size_t) row0 * in, in, rows, in,
                 pr->w + (size_t) q0 * in * PANEL, (size_t) in * PANEL, PANEL, MIN (out, q1 * PANEL) - q0 * PANEL,
                 pr->b ? pr->b + q0 * PANEL : NULL, NULL, MS_PANEL_LIMIT_COLUMNS, pr->how);
}
#endif

/* y[i, 0 .. cols) = b[0 .. cols) (or 0) for rows i, ldy apart; with
 * MS_AFFINE_ADD, y[i, 0 .. cols) += b instead. */
static void
fill_bias (float *y, int ldy, const float *b, int rows, int cols, MsAffineOutput how)
{
  for (int i = 0; i < rows; i++)
    {
      float *row = y + (size_t) i * ldy;
      if (how == MS_AFFINE_ADD)
        {
          if (b)
            for (int j = 0; j < cols; j++)
              row[j] += b[j];
        }
      else if (b)
        memcpy (row, b, sizeof (float) * cols);
      else
        memset (row, 0, sizeof (float) * cols);
    }
}

/* GELU over rows × cols of y (ldy apart), for MS_AFFINE_GELU_TANH. */
static void
finish (float *y, int ldy, int rows, int cols, MsAffineOutput how)
{
  if (how == MS_AFFINE_GELU_TANH)
    for (int i = 0; i < rows; i++)
      ms_gelu_tanh (y + (size_t) i * ldy, cols);
}

/* Item i of n: [*begin, *end) of count things, split evenly. */
static void
item_range (int i, int n, int count, int *begin, int *end)
{
  *begin = (int) ((long) count * i / n);
  *end = (int) ((long) count * (i + 1) / n);
}

/* The columns [c0, c1) of y through cblas_sgemm (W kept (in, out)). */
static void
blas_block (const Product *pr, int row0, int rows, int c0, int c1)
{
  float *y = pr->y + (size_t) row0 * pr->out + c0;
  fill_bias (y, pr->out, pr->b ? pr->b + c0 : NULL, rows, c1 - c0, pr->how);
  if (pr->in > 0)
    ms_gemm (0, 0, rows, c1 - c0, pr->in, 1.0f, pr->x + (size_t) row0 * pr->in, pr->in, pr->w + c0, pr->out,
             1.0f, y, pr->out);
  finish (y, pr->out, rows, c1 - c0, pr->how);
}

static void
product_item (int item, gpointer data)
{
  const Product *pr = data;
  int row0 = 0, rows = pr->n, q0 = 0, q1 = pr->panels;
  if (pr->split_rows)
    {
      int r1;
      item_range (item, pr->n_items, pr->n, &row0, &r1);
      rows = r1 - row0;
    }
  else
    item_range (item, pr->n_items, pr->panels, &q0, &q1);
#ifdef MS_HAVE_AVX512_KERNELS
  if (ms_weights_packed ())
    {
      if (pr->in == 0)
        {
          float *y = pr->y + (size_t) row0 * pr->out + q0 * PANEL;
          int cols = MIN (q1 * PANEL, pr->out) - q0 * PANEL;
          fill_bias (y, pr->out, pr->b ? pr->b + q0 * PANEL : NULL, rows, cols, pr->how);
          finish (y, pr->out, rows, cols, pr->how);
        }
      else
        packed_block (pr, row0, rows, q0, q1);
      return;
    }
#endif
  blas_block (pr, row0, rows, q0 * 16, MIN (q1 * 16, pr->out));
}

/* Products below this many multiply-adds run on one thread: handing them
 * out would cost more than it saves. */
#define PARALLEL_MIN_MADDS (1 << 19)

void
ms_affine (float *y, const float *x, const float *w, const float *b, int n, int in, int out)
{
  ms_affine_to (y, x, w, b, n, in, out, MS_AFFINE_STORE);
}

void
ms_affine_to (float *y, const float *x, const float *w, const float *b, int n, int in, int out,
              MsAffineOutput how)
{
  Product pr = { y, x, w, b, n, in, out, 0, 0, 1, how };
  pr.panels = ms_weights_packed () ? (out + PANEL - 1) / PANEL : (out + 15) / 16;
  int threads = (double) n * in * out >= PARALLEL_MIN_MADDS ? ms_parallel_get_threads () : 1;
  if (threads > 1)
    {
      /* each thread takes a share of W's panels and reads all of x, unless
       * there are too few panels to go round */
      pr.split_rows = pr.panels < threads;
      pr.n_items = MIN (threads, pr.split_rows ? n : pr.panels);
    }
  ms_parallel_for (pr.n_items, product_item, &pr);
}
