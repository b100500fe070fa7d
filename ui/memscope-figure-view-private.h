/* memscope-figure-view-private.h — what the figure view's widget
 * (memscope-figure-view.c), its drawing (memscope-figure-view-draw.c) and
 * its jobs (memscope-figure-view-jobs.c) share: the loaded data, the shown
 * figure, what is stale, and the instance. */
#pragma once

#include "memscope-figure-view.h"

G_BEGIN_DECLS

/* A dark figure: background and ink grey levels. */
#define DARK_BACKGROUND (0x24 / 255.0)
#define DARK_INK (0xde / 255.0)

/* The data of run A and, comparing, run B: immutable once loaded and
 * shared (atomic reference count) between the widget and the jobs that
 * build figures from it. */
typedef struct {
  MsViewData *a;
  MsViewData *b;   /* NULL unless comparing */
} Loaded;

/* What a job made and the widget shows: the figure of @data drawn at
 * @width × @height into @image, with its data areas for hit-testing.
 * Owned by one thread at a time: the job's, then the widget's. */
typedef struct {
  Loaded *data;
  MsViewFigure *figure;
  cairo_surface_t *image;  /* the figure, opaque RGB24 at @scale device pixels per unit */
  GskRenderNode *node;     /* paints @image; made on the main thread, the same node
                            * every frame, so hover and selection only redraw (and
                            * damage) the outlines over it */
  int width, height, scale;
  int window_first, window_n; /* the segments the figure's x axis was asked for … */
  gboolean zoomed;         /* … a zoom window, not the whole run */
  double zoom;             /* widget units per figure unit */
  gboolean dark;
  MsRect plots[3];
  int n_plots;
} Shown;

/* What the next job redoes, least to most. */
typedef enum {
  STALE_NONE,
  STALE_FIGURE,   /* a new figure (colormap, difference) from the loaded data */
  STALE_EXTENT,   /* the same view over another zoom window or at another size: loaded
                   * again while the old picture stays (no spinner: it is still the view) */
  STALE_DATA,     /* load the data again (runs, parameters), then a new figure */
} Stale;

struct _MemscopeFigureView {
  GtkWidget parent_instance;

  /* Owned */
  MemscopeRun *run_a;
  MemscopeRun *run_b;          /* NULL unless comparing */
  Shown *shown;                /* NULL: nothing to draw yet, or @message */
  char *message;               /* why there is no figure */
  GCancellable *job;           /* the job in flight, NULL when none */
  GtkWidget *spinner;          /* child: shown while data loads */

  MsViewKind kind;
  MsColormap cmap;
  gboolean difference;
  int segment;
  int slot;
  int hover_segment;           /* the text pane's hovered token: segment, −1: none, and its token */
  int hover_token[2];          /* in run A's and run B's panels, −1: none */
  int layer;
  int head;
  double zoom_first;           /* zoom window over the segments: first … */
  double zoom_span;            /* … and width; 0 = the whole run */

  Stale stale;                 /* what the next job must redo */
  gboolean loading;            /* a job is waiting or in flight */
  gboolean loading_data;       /* the job in flight reads data: dimmed, with the spinner */
  int job_width, job_height, job_scale;   /* the size the job in flight draws at */
  guint start_source;          /* the idle that starts the next job */
  guint spinner_source;        /* the timeout that shows the spinner */
  guint serial;                /* of the newest job; older results are dropped */
  double pointer_x, pointer_y; /* last pointer position, −1 when outside */
};

/* Shared by the widget and its jobs (main thread). */

/* Marks @what stale: changes made in one main-loop iteration start one
 * job, once the view is mapped. */
void memscope_figure_view_set_stale (MemscopeFigureView *self, Stale what);
/* Updates "loading" and the spinner from the stale state and the job in flight. */
void memscope_figure_view_update_busy (MemscopeFigureView *self);
/* Emits the notification of "loading". */
void memscope_figure_view_notify_loading (MemscopeFigureView *self);
/* Frees @s (may be NULL) on a worker thread; its render node here. */
void memscope_figure_view_shown_free_in_background (Shown *s);
/* The segments of the runs shown (the longer of the two). */
int memscope_figure_view_total_segments (MemscopeFigureView *self);
/* Whether views of @kind zoom along their segment axis (the similarity
 * matrix has two). */
gboolean memscope_figure_view_kind_zooms (MsViewKind kind);

/* Drawing (memscope-figure-view-draw.c, main thread). */

/* GtkWidget::snapshot.  Draws only what jobs prepared: the figure's image
 * (stretched while the one of a new size is made, its data areas moved
 * while the one of a new zoom window is), the outlines, the message, and
 * while data loads a veil under the spinner. */
void memscope_figure_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot);
/* The shown figure's size in widget units per figure unit: 1 unless the
 * widget was resized and the figure of the new size is being made. */
void memscope_figure_view_figure_scale (MemscopeFigureView *self, double *sx, double *sy);

G_END_DECLS
