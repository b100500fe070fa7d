/* memscope-squeezer.c — the first child that fits (see the header). */
#include "memscope-squeezer.h"

struct _MemscopeSqueezer {
  GtkWidget parent_instance;
  GtkWidget *shown;   /* borrowed: one of the children */
};

static void memscope_squeezer_buildable_init (GtkBuildableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (MemscopeSqueezer, memscope_squeezer, GTK_TYPE_WIDGET,
                               G_IMPLEMENT_INTERFACE (GTK_TYPE_BUILDABLE, memscope_squeezer_buildable_init))

static GtkBuildableIface *parent_buildable;

void
memscope_squeezer_add (MemscopeSqueezer *self, GtkWidget *child)
{
  gtk_widget_set_parent (child, GTK_WIDGET (self));
}

GtkWidget *
memscope_squeezer_get_shown (MemscopeSqueezer *self)
{
  return self->shown;
}

static void
memscope_squeezer_add_child (GtkBuildable *buildable, GtkBuilder *builder, GObject *child, const char *type)
{
  if (GTK_IS_WIDGET (child))
    memscope_squeezer_add (MEMSCOPE_SQUEEZER (buildable), GTK_WIDGET (child));
  else
    parent_buildable->add_child (buildable, builder, child, type);
}

static void
memscope_squeezer_buildable_init (GtkBuildableIface *iface)
{
  parent_buildable = g_type_interface_peek_parent (iface);
  iface->add_child = memscope_squeezer_add_child;
}

/* Width: the last visible child's minimum, the first's natural.  Height:
 * the tallest. */
static void
memscope_squeezer_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum, int *natural,
                           int *minimum_baseline, int *natural_baseline)
{
  *minimum = *natural = 0;
  gboolean first = TRUE;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      if (!gtk_widget_get_visible (c))
        continue;
      int min, nat;
      gtk_widget_measure (c, orientation, orientation == GTK_ORIENTATION_HORIZONTAL ? -1 : for_size, &min, &nat,
                          NULL, NULL);
      if (orientation == GTK_ORIENTATION_HORIZONTAL)
        {
          *minimum = min;
          if (first)
            *natural = nat;
        }
      else
        {
          *minimum = MAX (*minimum, min);
          *natural = MAX (*natural, nat);
        }
      first = FALSE;
    }
}

static void
memscope_squeezer_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  MemscopeSqueezer *self = MEMSCOPE_SQUEEZER (widget);
  GtkWidget *pick = NULL, *last = NULL;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      if (!gtk_widget_get_visible (c))
        continue;
      last = c;
      int min;
      gtk_widget_measure (c, GTK_ORIENTATION_HORIZONTAL, -1, &min, NULL, NULL, NULL);
      if (!pick && min <= width)
        pick = c;
    }
  pick = pick ? pick : last;
  self->shown = pick;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      gtk_widget_set_child_visible (c, c == pick);
      if (c != pick)
        continue;
      int min, nat;
      gtk_widget_measure (c, GTK_ORIENTATION_HORIZONTAL, -1, &min, &nat, NULL, NULL);
      int w = MIN (MAX (min, width), nat > 0 ? MAX (nat, min) : width);
      gtk_widget_size_allocate (c, &(GtkAllocation) { (width - w) / 2, 0, w, height }, baseline);
    }
}

static void
memscope_squeezer_dispose (GObject *object)
{
  GtkWidget *c;
  while ((c = gtk_widget_get_first_child (GTK_WIDGET (object))))
    gtk_widget_unparent (c);
  MEMSCOPE_SQUEEZER (object)->shown = NULL;
  G_OBJECT_CLASS (memscope_squeezer_parent_class)->dispose (object);
}

static void
memscope_squeezer_class_init (MemscopeSqueezerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = memscope_squeezer_dispose;
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  widget_class->measure = memscope_squeezer_measure;
  widget_class->size_allocate = memscope_squeezer_size_allocate;
  gtk_widget_class_set_css_name (widget_class, "squeezer");
}

static void
memscope_squeezer_init (MemscopeSqueezer *self)
{
}

GtkWidget *
memscope_squeezer_new (void)
{
  return g_object_new (MEMSCOPE_TYPE_SQUEEZER, NULL);
}
