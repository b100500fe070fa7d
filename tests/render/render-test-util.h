/* render-test-util.h — helpers shared by the render test programs: draw a
 * figure into an image at a paper size and DPI, read pixels back, compare
 * colours. */
#pragma once

#include "ms-figure.h"

cairo_t *layout_context (double width_in, double height_in, double dpi);
double px_per_pt (double width_in, double dpi);
cairo_surface_t *render (MsFigureDrawFunc draw, gpointer data, double width_in, double height_in, double dpi);
uint32_t pixel_at (cairo_surface_t *image, double x, double y);
int channel_distance (uint32_t a, uint32_t b);
void assert_pixel (cairo_surface_t *image, double x, double y, MsRgb want, int tolerance);
void assert_rgb_near (MsRgb got, double r, double g, double b, double tolerance);
void assert_white_border (cairo_surface_t *image, int margin);
MsRect to_pixels (MsRect r, double scale);
