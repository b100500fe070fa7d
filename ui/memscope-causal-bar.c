/* memscope-causal-bar.c — computing causal retention from the workbench
 * (memscope-causal-bar.h).  ms_causal_compute runs on a worker thread
 * (memscope_task_run_in_thread); its progress is posted to the main
 * thread, which alone touches the widgets and reloads the causal views. */
#include "memscope-causal-bar.h"

#include "memscope-figure-view.h"
#include "memscope-task.h"
#include "ms-error.h"

struct _MemscopeCausalBar {
  GtkBox parent;
  /* Owned */
  MemscopeRun *run;
  GCancellable *cancellable;   /* of the computation in flight, NULL when idle */
  GError *error;
  MsCausalResult result;
  int done, total;
  /* Borrowed (children, and the stack beside the bar) */
  AdwViewStack *stack;
  GtkDropDown *replacement;
  GtkSpinButton *horizon;
  GtkButton *compute;
  GtkButton *cancel;
  GtkProgressBar *progress;
  GtkLabel *status;
};

G_DEFINE_FINAL_TYPE (MemscopeCausalBar, memscope_causal_bar, GTK_TYPE_BOX)

enum { PROP_0, PROP_RUN, N_PROPS };
static GParamSpec *props[N_PROPS];
enum { SIGNAL_DONE, N_SIGNALS };
static guint signals[N_SIGNALS];

/* the dropdown's rows, in MsCausalReplacement order: each replacement's
 * name (ms_causal_replacement_name, as `causal --replace` and the forgetting
 * view's series say it) and what it puts in the memory's place */
static const char *const replacement_labels[MS_CAUSAL_N_REPLACEMENTS + 1] = {
  "initial (M\u2080)", "zeros", "permute (slots shifted by one)", "knockout (each slot in turn)",
  "skip (the memory before the segment)", NULL,   /* NULL-terminated for gtk_drop_down_new_from_strings */
};

static void
reload_views (MemscopeCausalBar *self)
{
  for (guint k = 0; k < MS_VIEW_N_KINDS; k++)
    {
      if (!ms_view_info ((MsViewKind) k)->causal)
        continue;
      GtkWidget *view = adw_view_stack_get_child_by_name (self->stack, ms_view_kind_name ((MsViewKind) k));
      if (MEMSCOPE_IS_FIGURE_VIEW (view))
        memscope_figure_view_invalidate (MEMSCOPE_FIGURE_VIEW (view));
    }
}

static void
update_controls (MemscopeCausalBar *self)
{
  gboolean busy = self->cancellable != NULL;
  gboolean ready = self->run && memscope_run_get_db_path (self->run) && memscope_run_get_id (self->run) > 0
                   && memscope_run_get_segments_done (self->run) > 1;
  gtk_widget_set_sensitive (GTK_WIDGET (self->compute), ready && !busy);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel), busy);
  gtk_widget_set_visible (GTK_WIDGET (self->progress), busy);
}

static void
on_visible_child (AdwViewStack *stack, GParamSpec *pspec, MemscopeCausalBar *self)
{
  /* the bar serves the views whose data is causal retention (MsViewInfo.causal) */
  MsViewKind kind;
  const char *name = adw_view_stack_get_visible_child_name (stack);
  gtk_widget_set_visible (GTK_WIDGET (self), name && ms_view_kind_parse (name, &kind) && ms_view_info (kind)->causal);
}

/* ---- the worker ---- */

typedef struct {
  MemscopeCausalBar *bar;      /* borrowed: the task's source object */
  GMainContext *context;       /* where progress is delivered */
  char *db_path;
  gint64 run_id;
  MsCausalOptions options;
  MsCausalResult result;
} Job;

static void
job_free (Job *j)
{
  g_main_context_unref (j->context);
  g_free (j->db_path);
  g_free (j);
}

typedef struct {
  MemscopeCausalBar *bar;      /* owned */
  GCancellable *cancellable;   /* owned: the job's, so a stale message is dropped */
  int done, total;
} Progress;

static void
progress_free (gpointer data)
{
  Progress *p = data;
  g_object_unref (p->bar);
  g_object_unref (p->cancellable);
  g_free (p);
}

static gboolean
deliver_progress (gpointer data)
{
  Progress *p = data;
  MemscopeCausalBar *self = p->bar;
  if (self->cancellable != p->cancellable)
    return G_SOURCE_REMOVE;
  gboolean stored = p->done > self->done;
  self->done = p->done, self->total = p->total;
  gtk_progress_bar_set_fraction (self->progress, p->total > 0 ? (double) p->done / p->total : 0);
  g_autofree char *text = g_strdup_printf ("%d of %d segments replayed", p->done, p->total);
  gtk_progress_bar_set_text (self->progress, text);
  if (stored)
    reload_views (self);
  return G_SOURCE_REMOVE;
}

/* Worker thread, after each stored source: posted, never invoked. */
static void
on_progress (int done, int total, gpointer user_data)
{
  GTask *task = user_data;
  Job *j = g_task_get_task_data (task);
  Progress *p = g_new0 (Progress, 1);
  *p = (Progress) { g_object_ref (j->bar), g_object_ref (g_task_get_cancellable (task)), done, total };
  memscope_context_post (j->context, G_PRIORITY_DEFAULT, deliver_progress, p, progress_free);
}

static void
job_run (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Job *j = task_data;
  GError *error = NULL;
  if (!ms_causal_compute (j->db_path, j->run_id, &j->options, on_progress, task, cancellable, &j->result, &error))
    return g_task_return_error (task, error);
  g_task_return_boolean (task, TRUE);
}

static void
job_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  MemscopeCausalBar *self = MEMSCOPE_CAUSAL_BAR (source);
  GTask *task = G_TASK (res);
  Job *j = g_task_get_task_data (task);
  if (g_task_get_cancellable (task) != self->cancellable)
    return;   /* superseded (another run) */
  g_clear_error (&self->error);
  g_task_propagate_boolean (task, &self->error);
  self->result = j->result;
  g_clear_object (&self->cancellable);
  g_autofree char *text = NULL;
  if (self->error && g_error_matches (self->error, MS_ERROR, MS_ERROR_CANCELLED))
    text = g_strdup_printf ("Cancelled: %d sources stored; Compute continues where it stopped",
                            self->result.sources_computed);
  else if (self->error)
    text = g_strdup (self->error->message);
  else
    text = g_strdup_printf ("%d sources computed, %d were stored%s", self->result.sources_computed,
                            self->result.sources_stored,
                            self->result.task_input ? "; task input: accuracy changes stored too" : "");
  gtk_label_set_text (self->status, text);
  update_controls (self);
  reload_views (self);
  g_signal_emit (self, signals[SIGNAL_DONE], 0);
}

void
memscope_causal_bar_compute (MemscopeCausalBar *self, MsCausalReplacement replacement, int horizon)
{
  g_return_if_fail (MEMSCOPE_IS_CAUSAL_BAR (self));
  if (self->cancellable || !self->run || !memscope_run_get_db_path (self->run) || memscope_run_get_id (self->run) <= 0)
    return;
  self->cancellable = g_cancellable_new ();
  self->done = self->total = 0;
  g_clear_error (&self->error);
  Job *j = g_new0 (Job, 1);
  j->bar = self;
  j->context = g_main_context_ref_thread_default ();
  j->db_path = g_strdup (memscope_run_get_db_path (self->run));
  j->run_id = memscope_run_get_id (self->run);
  j->options = (MsCausalOptions) { .replacement = replacement, .horizon = horizon };
  GTask *task = g_task_new (self, self->cancellable, job_done, NULL);
  g_task_set_task_data (task, j, (GDestroyNotify) job_free);
  g_task_set_check_cancellable (task, FALSE);   /* the core's own error says what was stored */
  gtk_progress_bar_set_fraction (self->progress, 0);
  gtk_progress_bar_set_text (self->progress, "Starting…");
  gtk_label_set_text (self->status, "");
  update_controls (self);
  memscope_task_run_in_thread (task, job_run);
  g_object_unref (task);
}

void
memscope_causal_bar_cancel (MemscopeCausalBar *self)
{
  g_return_if_fail (MEMSCOPE_IS_CAUSAL_BAR (self));
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
}

gboolean
memscope_causal_bar_is_busy (MemscopeCausalBar *self)
{
  return self->cancellable != NULL;
}

const MsCausalResult *
memscope_causal_bar_get_result (MemscopeCausalBar *self)
{
  return &self->result;
}

const GError *
memscope_causal_bar_get_error (MemscopeCausalBar *self)
{
  return self->error;
}

void
memscope_causal_bar_get_progress (MemscopeCausalBar *self, int *done, int *total)
{
  *done = self->done, *total = self->total;
}

static void
on_compute_clicked (GtkButton *button, MemscopeCausalBar *self)
{
  memscope_causal_bar_compute (self, (MsCausalReplacement) gtk_drop_down_get_selected (self->replacement),
                               gtk_spin_button_get_value_as_int (self->horizon));
}

static void
on_cancel_clicked (GtkButton *button, MemscopeCausalBar *self)
{
  memscope_causal_bar_cancel (self);
}

static void
on_run_progress (MemscopeRun *run, int done, int total, MemscopeCausalBar *self)
{
  update_controls (self);
}

void
memscope_causal_bar_set_run (MemscopeCausalBar *self, MemscopeRun *run)
{
  g_return_if_fail (MEMSCOPE_IS_CAUSAL_BAR (self));
  if (self->run == run)
    return;
  if (self->cancellable)
    {
      g_cancellable_cancel (self->cancellable);
      g_clear_object (&self->cancellable);
    }
  if (self->run)
    g_signal_handlers_disconnect_by_data (self->run, self);
  g_set_object (&self->run, run);
  if (run)
    g_signal_connect_object (run, "progress", G_CALLBACK (on_run_progress), self, 0);
  gtk_label_set_text (self->status, "");
  update_controls (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RUN]);
}

MemscopeCausalBar *
memscope_causal_bar_install (AdwViewStack *view_stack)
{
  MemscopeCausalBar *self = g_object_new (MEMSCOPE_TYPE_CAUSAL_BAR, NULL);
  self->stack = view_stack;
  GtkWidget *stack = GTK_WIDGET (view_stack), *parent = gtk_widget_get_parent (stack);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  g_object_ref (stack);
  if (GTK_IS_PANED (parent) && gtk_paned_get_start_child (GTK_PANED (parent)) == stack)
    gtk_paned_set_start_child (GTK_PANED (parent), box);
  else if (GTK_IS_PANED (parent))
    gtk_paned_set_end_child (GTK_PANED (parent), box);
  else
    {
      gtk_widget_insert_after (box, parent, stack);
      gtk_widget_unparent (stack);
    }
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self));
  gtk_widget_set_vexpand (stack, TRUE);
  gtk_box_append (GTK_BOX (box), stack);
  g_object_unref (stack);
  g_signal_connect_object (view_stack, "notify::visible-child", G_CALLBACK (on_visible_child), self, 0);
  on_visible_child (view_stack, NULL, self);
  return self;
}

static void
memscope_causal_bar_dispose (GObject *object)
{
  MemscopeCausalBar *self = MEMSCOPE_CAUSAL_BAR (object);
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->run)
    g_signal_handlers_disconnect_by_data (self->run, self);
  g_clear_object (&self->run);
  g_clear_error (&self->error);
  G_OBJECT_CLASS (memscope_causal_bar_parent_class)->dispose (object);
}

static void
memscope_causal_bar_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  MemscopeCausalBar *self = MEMSCOPE_CAUSAL_BAR (object);
  if (id == PROP_RUN)
    g_value_set_object (value, self->run);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
memscope_causal_bar_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  MemscopeCausalBar *self = MEMSCOPE_CAUSAL_BAR (object);
  if (id == PROP_RUN)
    memscope_causal_bar_set_run (self, g_value_get_object (value));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
memscope_causal_bar_class_init (MemscopeCausalBarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  object_class->dispose = memscope_causal_bar_dispose;
  object_class->get_property = memscope_causal_bar_get_property;
  object_class->set_property = memscope_causal_bar_set_property;
  props[PROP_RUN] = g_param_spec_object ("run", NULL, NULL, MEMSCOPE_TYPE_RUN,
                                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);
  /* a computation ended (done, failed or cancelled): get_result, get_error */
  signals[SIGNAL_DONE] = g_signal_new ("done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                       G_TYPE_NONE, 0);
}

static void
memscope_causal_bar_init (MemscopeCausalBar *self)
{
  GtkBox *box = GTK_BOX (self);
  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_HORIZONTAL);
  gtk_box_set_spacing (box, 6);
  gtk_widget_set_margin_start (GTK_WIDGET (self), 6);
  gtk_widget_set_margin_end (GTK_WIDGET (self), 6);
  gtk_widget_set_margin_top (GTK_WIDGET (self), 4);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self), 4);
  gtk_box_append (box, gtk_label_new ("Replace the memory after each segment with"));
  self->replacement = GTK_DROP_DOWN (gtk_drop_down_new_from_strings (replacement_labels));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->replacement),
                               "What replaces the memory after each source segment s before the next segments are "
                               "replayed: the initial memory, zeros, each slot taking the next slot's content, each "
                               "slot in turn back to its initial value, or the memory before s");
  gtk_box_append (box, GTK_WIDGET (self->replacement));
  gtk_box_append (box, gtk_label_new ("for"));
  self->horizon = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (1, MS_CAUSAL_MAX_HORIZON, 1));
  gtk_spin_button_set_value (self->horizon, MS_CAUSAL_DEFAULT_HORIZON);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->horizon), "Segments replayed after each source (the horizon H)");
  gtk_box_append (box, GTK_WIDGET (self->horizon));
  gtk_box_append (box, gtk_label_new ("segments"));
  self->compute = GTK_BUTTON (gtk_button_new_with_mnemonic ("_Compute"));
  gtk_widget_add_css_class (GTK_WIDGET (self->compute), "suggested-action");
  g_signal_connect (self->compute, "clicked", G_CALLBACK (on_compute_clicked), self);
  gtk_box_append (box, GTK_WIDGET (self->compute));
  self->progress = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_progress_bar_set_show_text (self->progress, TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self->progress), TRUE);
  gtk_widget_set_valign (GTK_WIDGET (self->progress), GTK_ALIGN_CENTER);
  gtk_box_append (box, GTK_WIDGET (self->progress));
  self->cancel = GTK_BUTTON (gtk_button_new_with_mnemonic ("C_ancel"));
  g_signal_connect (self->cancel, "clicked", G_CALLBACK (on_cancel_clicked), self);
  gtk_box_append (box, GTK_WIDGET (self->cancel));
  self->status = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_ellipsize (self->status, PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (GTK_WIDGET (self->status), TRUE);
  gtk_label_set_xalign (self->status, 0);
  gtk_box_append (box, GTK_WIDGET (self->status));
  update_controls (self);
}
