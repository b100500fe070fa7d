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

/* Numeric options are strict: GOption's own integer options accept a
 * negative number where a count or an index is meant, so numeric options
 * are read as text (G_OPTION_ARG_STRING) and converted here.  @text NULL
 * (the option was not given) leaves @out alone and succeeds; otherwise the
 * whole text must be a number in [@min, @max], or a usage error naming
 * @option ("--segment") is printed and FALSE returned (exit
 * CLI_EXIT_USAGE). */
gboolean cli_option_int (const CliCommand *cmd, const char *option, const char *text, int min, int max, int *out);
gboolean cli_option_int64 (const CliCommand *cmd, const char *option, const char *text, gint64 min, gint64 max,
                           gint64 *out);
/* A finite number, > @min when @min_exclusive, else ≥ @min, and ≤ @max. */
gboolean cli_option_double (const CliCommand *cmd, const char *option, const char *text, double min,
                            gboolean min_exclusive, double max, double *out);
/* Free text (--name, --title), read raw (G_OPTION_ARG_FILENAME, which
 * GOption does not convert): kept when it is UTF-8 whatever the locale,
 * else converted from the locale's character set; neither is a usage
 * error naming @option.  *@text is replaced by the UTF-8 text. */
gboolean cli_option_text (const CliCommand *cmd, const char *option, char **text);

/* @s for a terminal: control characters (C0, DEL, C1) as \n, \t, \xNN or
 * \u00NN escapes, backslashes doubled, invalid UTF-8 bytes as \xNN.  Owned. */
char *cli_escape (const char *s);

/* Loads @path, printing load warnings to stderr; on failure prints the
 * error and returns NULL (the caller exits with CLI_EXIT_FAILURE). */
MsModel *cli_load_model (const char *path);

/* Prints "memscope-cli CMD: MESSAGE" (escaped, cli_escape) and a --help
 * hint to stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error (const CliCommand *cmd, const char *message);

/* Adds @s, a path or a name from a file, as a JSON string value: as it is
 * when it is UTF-8, otherwise with each invalid byte as U+FFFD, so the
 * output stays valid JSON (JsonGenerator escapes quotes and controls). */
void cli_add_path_value (JsonBuilder *builder, const char *s);

/* One member @name of the object @builder is building, with its value.
 * _double writes a value that is not finite as null (JSON has no NaN or
 * infinity); _path writes @path as cli_add_path_value does. */
void cli_json_add_int (JsonBuilder *builder, const char *name, gint64 value);
void cli_json_add_double (JsonBuilder *builder, const char *name, double value);
void cli_json_add_boolean (JsonBuilder *builder, const char *name, gboolean value);
void cli_json_add_string (JsonBuilder *builder, const char *name, const char *value);
void cli_json_add_path (JsonBuilder *builder, const char *name, const char *path);

/* Prints the builder's root as JSON on stdout. */
void cli_print_json (JsonBuilder *builder);

/* When @where (ms_session_get_nonfinite's text, may be NULL or "") names a
 * place, warns on stderr that the output of the model at @model_path turned
 * NaN or infinite there, followed by @consequence (what that did to the
 * command's numbers). */
void cli_warn_nonfinite (const char *model_path, const char *where, const char *consequence);

/* Prints "memscope-cli: MESSAGE" (escaped, cli_escape) to stderr and returns CLI_EXIT_FAILURE. */
int cli_fail (const GError *error);
/* cli_fail for an error about @path: the message is prefixed with "PATH: "
 * unless it names @path already, so every error names its file. */
int cli_fail_in (const char *path, const GError *error);

/* A long command's progress line on stderr ("record: segment 12/400,
 * RATE segments/s, ETA SECONDS s"), redrawn in place, only when stderr is a
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
int cli_tokenize (const CliCommand *cmd, int argc, char **argv);
int cli_import (const CliCommand *cmd, int argc, char **argv);
int cli_causal (const CliCommand *cmd, int argc, char **argv);
