/* memscope.c — the Memscope workbench: `memscope [FILE...]`.  With no files
 * it opens the bundled demo; files are models (.safetensors), text inputs
 * and recordings (.sqlite).  Everything else lives in ui/. */
#include "app-blas.h"
#include "memscope-application.h"

int
main (int argc, char **argv)
{
  app_use_fast_blas (argv);
  /* Without a session bus there is no one to be unique with. */
  GApplicationFlags flags = g_getenv ("DBUS_SESSION_BUS_ADDRESS") ? G_APPLICATION_DEFAULT_FLAGS : G_APPLICATION_NON_UNIQUE;
  g_autoptr (MemscopeApplication) app = memscope_application_new (flags);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
