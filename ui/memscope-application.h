/* memscope-application.h — the Memscope AdwApplication
 * (io.github.memscope.Memscope): app.* actions (open, quit, shortcuts,
 * about) and their accelerators, the win.* accelerators, and one
 * MemscopeWindow per activation or set of opened files.  As an
 * AdwApplication it initialises libadwaita at startup (its style sheet,
 * the style manager that says whether the desktop is dark) and loads
 * style.css from the resource base path.
 * Activating with no files opens the bundled demo.
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define MEMSCOPE_APP_ID "io.github.memscope.Memscope"

#define MEMSCOPE_TYPE_APPLICATION (memscope_application_get_type ())
G_DECLARE_FINAL_TYPE (MemscopeApplication, memscope_application, MEMSCOPE, APPLICATION, AdwApplication)

/* @flags are added to G_APPLICATION_HANDLES_OPEN (tests pass
 * G_APPLICATION_NON_UNIQUE). */
MemscopeApplication *memscope_application_new (GApplicationFlags flags);

/* The io.github.memscope.Memscope settings, from the installed schemas or,
 * failing that, those compiled in the build tree; NULL when neither has
 * the schema (preferences are then not remembered).  Owned. */
GSettings *memscope_settings_new (void);

G_END_DECLS
