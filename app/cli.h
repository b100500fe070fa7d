/* cli.h — what the memscope-cli commands share: exit codes, the command
 * table entry type, option parsing with uniform usage errors, and the
 * progress line. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "ms-model.h"

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAILURE = 1, CLI_EXIT_USAGE = 2 };

typedef struct _CliCommand CliCommand;

struct _CliCommand {
  const char *name;
  const char *args;          /* positional arguments, for --help */
  const char *summary;
  int (*run) (const CliCommand *cmd, int argc, char **argv);
};

/* Parses @argv with @entries for command @cmd; on a parse error or a wrong
 * number of positional arguments prints a usage message and returns FALSE
 * (the caller exits with CLI_EXIT_USAGE).  On success @argv holds the
 * command name followed by exactly @n_positional arguments. */
gboolean cli_parse (const CliCommand *cmd, GOptionEntry *entries, int n_positional,
                    int *argc, char ***argv);
/* cli_parse with @description (may be NULL) printed after the options by
 * --help. */
gboolean cli_parse_described (const CliCommand *cmd, GOptionEntry *entries, int n_positional,
                              const char *description, int *argc, char ***argv);

/* Loads @path, printing load warnings to stderr; on failure prints the
 * error and returns NULL (the caller exits with CLI_EXIT_FAILURE). */
MsModel *cli_load_model (const char *path);

/* Prints "memscope-cli CMD: MESSAGE" and a --help hint to stderr; returns
 * CLI_EXIT_USAGE. */
int cli_usage_error (const CliCommand *cmd, const char *message);

/* Prints the builder's root as JSON on stdout. */
void cli_print_json (JsonBuilder *builder);

/* Prints "memscope-cli: MESSAGE" to stderr and returns CLI_EXIT_FAILURE. */
int cli_fail (const GError *error);

/* A long command's progress line on stderr ("record: segment 12/400,
 * 3.1 segments/s, ETA 125 s"), redrawn in place, only when stderr is a
 * terminal; and Ctrl-C, which cancels @cancellable so the command stops
 * between steps. */
typedef struct {
  gboolean enabled;
  gint64 start_us;
  const char *what;            /* the command */
  const char *unit;            /* what is counted: "segment", "instance" */
  GCancellable *cancellable;   /* borrowed */
} CliProgress;

void cli_progress_init (CliProgress *p, const char *what, const char *unit, GCancellable *cancellable);
/* An MsProgressFunc whose data is the CliProgress. */
void cli_progress_report (int done, int total, gpointer progress);
void cli_progress_finish (CliProgress *p);

int cli_info (const CliCommand *cmd, int argc, char **argv);
int cli_run (const CliCommand *cmd, int argc, char **argv);
int cli_record (const CliCommand *cmd, int argc, char **argv);
int cli_runs (const CliCommand *cmd, int argc, char **argv);
int cli_export (const CliCommand *cmd, int argc, char **argv);
int cli_compare (const CliCommand *cmd, int argc, char **argv);
int cli_eval (const CliCommand *cmd, int argc, char **argv);
