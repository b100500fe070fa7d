/* workbench-header.c — the header adapts to the window's width (libadwaita's
 * squeezer): on a laptop or netbook screen a menu lists every view offered
 * for the runs shown (no Gate for runs without a gate), each item shows its
 * view, and the opened menu is on-screen and drawn; on a wide screen the
 * view switcher's buttons are in the header, one per offered view, each
 * drawn and each showing its view.  Checked in screenshots' pixels. */
#include <adwaita.h>

#include "workbench-test.h"

static AdwViewStack *
view_stack (GtkWidget *window)
{
  GtkWidget *stack = find_widget (window, ADW_TYPE_VIEW_STACK, NULL);
  g_assert_nonnull (stack);
  return ADW_VIEW_STACK (stack);
}

/* Whether @kind's page shows: the view is offered for the runs shown. */
static gboolean
offered (AdwViewStack *stack, MsViewKind kind)
{
  GtkWidget *view = GTK_WIDGET (memscope_window_get_view (win, kind));
  return adw_view_stack_page_get_visible (adw_view_stack_get_page (stack, view));
}

static graphene_rect_t
bounds_in (GtkWidget *w, GtkWidget *window)
{
  graphene_rect_t r;
  g_assert_true (gtk_widget_compute_bounds (w, window, &r));
  return r;
}

static gboolean
popover_mapped (GtkPopover *popover)
{
  return gtk_widget_get_mapped (GTK_WIDGET (popover));
}

static GtkPopover *open_popover;
static const char *wanted_label;

static gboolean
is_wanted_label (GtkWidget *w)
{
  return g_strcmp0 (gtk_label_get_text (GTK_LABEL (w)), wanted_label) == 0;
}

static gboolean
menu_open (void)
{
  return popover_mapped (open_popover);
}

/* The narrow header's menu: one item per offered view, in the table's
 * order, each showing its view; opened, it lies inside the window and its
 * items are drawn. */
static void
check_view_menu (GtkWidget *window, GtkWidget *menu, int width, int height)
{
  AdwViewStack *stack = view_stack (window);
  g_assert_false (offered (stack, MS_VIEW_GATE));   /* the demo's runs have no gate */
  GMenuModel *model = gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (menu));
  int n_items = g_menu_model_get_n_items (model), item = 0;
  for (guint k = 0; k < MS_VIEW_N_KINDS; k++)
    {
      const MsViewInfo *info = ms_view_info ((MsViewKind) k);
      if (!offered (stack, info->kind))
        continue;
      g_assert_cmpint (item, <, n_items);
      g_autofree char *action = NULL, *label = NULL;
      g_assert_true (g_menu_model_get_item_attribute (model, item, G_MENU_ATTRIBUTE_ACTION, "s", &action));
      g_assert_true (g_menu_model_get_item_attribute (model, item, G_MENU_ATTRIBUTE_LABEL, "s", &label));
      g_autoptr (GVariant) target =
        g_menu_model_get_item_attribute_value (model, item, G_MENU_ATTRIBUTE_TARGET, G_VARIANT_TYPE_STRING);
      g_assert_cmpstr (action, ==, "win.view");
      g_assert_cmpstr (label, ==, info->title);
      g_assert_nonnull (target);
      /* choosing the item shows its view, and the button names it */
      g_action_group_activate_action (G_ACTION_GROUP (win), "view", target);
      g_assert_cmpstr (memscope_window_get_view_name (win), ==, info->name);
      g_assert_cmpstr (gtk_menu_button_get_label (GTK_MENU_BUTTON (menu)), ==, info->title);
      item++;
    }
  g_assert_cmpint (item, ==, n_items);
  g_assert_cmpint (n_items, >=, 2);
  activate ("view", g_variant_new_string ("retention"));

  /* opened, the menu is inside the window (the screen) and its items drawn */
  gtk_menu_button_popup (GTK_MENU_BUTTON (menu));
  open_popover = gtk_menu_button_get_popover (GTK_MENU_BUTTON (menu));
  g_assert_nonnull (open_popover);
  wait_until (menu_open, "the view menu to open");
  g_autofree char *name = g_strdup_printf ("view-menu-%dx%d", width, height);
  g_autoptr (Shot) shot = screenshot (GTK_WIDGET (open_popover), name);
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (open_popover));
  int x = gdk_popup_get_position_x (GDK_POPUP (surface)), y = gdk_popup_get_position_y (GDK_POPUP (surface));
  int w = gdk_surface_get_width (surface), h = gdk_surface_get_height (surface);
  g_test_message ("%d×%d: the view menu is %d×%d at (%d, %d)", width, height, w, h, x, y);
  g_assert_cmpint (x, >=, 0);
  g_assert_cmpint (y, >=, 0);
  g_assert_cmpint (x + w, <=, width);
  g_assert_cmpint (y + h, <=, height);
  /* each offered view's item is drawn in it, and only those */
  for (guint k = 0; k < MS_VIEW_N_KINDS; k++)
    {
      wanted_label = ms_view_info ((MsViewKind) k)->title;
      GtkWidget *label = find_widget (GTK_WIDGET (open_popover), GTK_TYPE_LABEL, is_wanted_label);
      if (!offered (stack, (MsViewKind) k))
        {
          g_assert_true (!label || !gtk_widget_get_mapped (label));
          continue;
        }
      g_assert_nonnull (label);
      g_assert_true (gtk_widget_get_mapped (label));
      graphene_rect_t r = bounds_in (label, GTK_WIDGET (open_popover));
      g_assert_cmpint (marked_pixels (shot, &r), >, 10);
    }
  gtk_menu_button_popdown (GTK_MENU_BUTTON (menu));
  open_popover = NULL;
  settle ();
}

/* The wide header's switcher: one button per offered view, inside the
 * window and drawn in @shot, each showing its view. */
static void
check_view_switcher (GtkWidget *window, GtkWidget *switcher, const Shot *shot, int width)
{
  AdwViewStack *stack = view_stack (window);
  g_assert_false (offered (stack, MS_VIEW_GATE));
  int n_offered = 0, n_buttons = 0;
  for (guint k = 0; k < MS_VIEW_N_KINDS; k++)
    n_offered += offered (stack, (MsViewKind) k);
  g_autoptr (GPtrArray) buttons = g_ptr_array_new ();
  for (GtkWidget *c = gtk_widget_get_first_child (switcher); c; c = gtk_widget_get_next_sibling (c))
    if (GTK_IS_TOGGLE_BUTTON (c) && gtk_widget_get_visible (c))
      g_ptr_array_add (buttons, c);
  for (guint i = 0; i < buttons->len; i++)
    {
      GtkWidget *button = buttons->pdata[i];
      g_assert_true (gtk_widget_get_mapped (button));
      graphene_rect_t r = bounds_in (button, window);
      g_assert_cmpfloat (r.origin.x, >=, 0);
      g_assert_cmpfloat (r.origin.x + r.size.width, <=, width);
      g_assert_cmpint (marked_pixels (shot, &r), >, 10);
      g_autofree char *label = NULL;
      g_object_get (button, "label", &label, NULL);
      /* pressing it shows the view of that title, an offered one */
      gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (button), TRUE);
      MsViewKind kind;
      g_assert_true (ms_view_kind_parse (memscope_window_get_view_name (win), &kind));
      g_assert_cmpstr (label, ==, ms_view_info (kind)->title);
      g_assert_true (offered (stack, kind));
      n_buttons++;
    }
  g_assert_cmpint (n_buttons, ==, n_offered);
  activate ("view", g_variant_new_string ("retention"));
}

void
check_header (GtkWidget *window, const Shot *shot, int width, int height)
{
  GtkWidget *squeezer = find_widget (window, ADW_TYPE_SQUEEZER, NULL);
  g_assert_nonnull (squeezer);
  GtkWidget *switcher = find_widget (squeezer, ADW_TYPE_VIEW_SWITCHER, NULL);
  GtkWidget *menu = find_widget (squeezer, GTK_TYPE_MENU_BUTTON, NULL);
  g_assert_nonnull (switcher);
  g_assert_nonnull (menu);
  int switcher_nat;
  gtk_widget_measure (switcher, GTK_ORIENTATION_HORIZONTAL, -1, NULL, &switcher_nat, NULL, NULL);
  gboolean fits = switcher_nat <= gtk_widget_get_width (squeezer);
  g_test_message ("%d×%d: the view switcher needs %d px, the title has %d: %s", width, height, switcher_nat,
                  gtk_widget_get_width (squeezer), fits ? "switcher" : "menu");
  GtkWidget *shown = adw_squeezer_get_visible_child (ADW_SQUEEZER (squeezer));
  g_assert_true (shown == (fits ? switcher : menu));
  g_assert_true (gtk_widget_get_mapped (shown));
  g_assert_false (gtk_widget_get_mapped (fits ? menu : switcher));
  if (width <= 1920)
    g_assert_true (shown == menu);   /* every view's button does not fit a laptop's header */
  else if (width >= 3000)
    g_assert_true (shown == switcher);
  graphene_rect_t sr = bounds_in (shown, window);
  g_assert_cmpfloat (sr.origin.x, >=, 0);
  g_assert_cmpfloat (sr.origin.x + sr.size.width, <=, width);
  g_assert_cmpint (marked_pixels (shot, &sr), >, 10);
  if (shown == menu)
    check_view_menu (window, menu, width, height);
  else
    check_view_switcher (window, switcher, shot, width);
}
