/* cli-import.c — `memscope-cli import CHECKPOINT --out MODEL.safetensors
 * [--segment-len N] [--mask causal|blocks] [--tokenizer FILE]`: a GPT-2 RMT
 * checkpoint saved by the public PyTorch code, as a Hugging Face-style
 * folder or one .safetensors file, into one Memscope model file
 * (core/import/ms-import.h says what is read and what is refused). */
#include "cli.h"

#include <stdio.h>

#include "ms-import.h"

int
cli_import (const CliCommand *cmd, int argc, char **argv)
{
  g_autofree char *out = NULL, *segment_len = NULL, *mask = NULL, *tokenizer = NULL;
  GOptionEntry entries[] = {
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, "The Memscope model file to write (required)", "MODEL.safetensors" },
    { "segment-len", 0, 0, G_OPTION_ARG_STRING, &segment_len,
      "Tokens per segment the model was trained with (required; at most n_positions − 2 × memory tokens)", "N" },
    { "mask", 0, 0, G_OPTION_ARG_STRING, &mask,
      "Attention mask: causal (the HF wrapper's, default) or blocks (the paper's)", "causal|blocks" },
    { "tokenizer", 0, 0, G_OPTION_ARG_FILENAME, &tokenizer,
      "The tokenizer (tokenizer.json, vocab.json beside merges.txt, a folder, or 'bytes') instead of the "
      "checkpoint's", "FILE" },
    G_OPTION_ENTRY_NULL
  };
  if (!cli_parse_described (cmd, entries, 1,
                            "CHECKPOINT is a folder holding config.json, model.safetensors (or model-*.safetensors "
                            "with model.safetensors.index.json) and tokenizer.json (or vocab.json and merges.txt), "
                            "or a .safetensors file with those beside it: a GPT-2 Recurrent Memory Transformer of "
                            "booydar/recurrent-memory-transformer (memory_cell.memory, memory_cell.model.transformer.*). "
                            "The output holds the weights, the configuration and the tokenizer.  PyTorch pickles "
                            "(.bin, .pt) convert with memscope-convert.py.", &argc, &argv))
    return CLI_EXIT_USAGE;
  if (!out)
    return cli_usage_error (cmd, "--out MODEL.safetensors is required");
  if (!segment_len)
    return cli_usage_error (cmd, "--segment-len N is required: the segment length the model was trained with "
                                 "(it is in neither config.json nor the weights)");
  MsImportOptions options = { .mask = mask, .tokenizer = tokenizer };
  if (!cli_option_int (cmd, "--segment-len", segment_len, 1, G_MAXINT, &options.segment_len))
    return CLI_EXIT_USAGE;
  if (mask && !g_str_equal (mask, "causal") && !g_str_equal (mask, "blocks"))
    return cli_usage_error (cmd, "--mask must be causal or blocks");

  g_autoptr (GError) error = NULL;
  g_autofree char *summary = NULL;
  if (!ms_import_checkpoint (argv[1], out, &options, &summary, &error))
    return cli_fail_in (argv[1], error);
  fputs (summary, stdout);
  return fflush (stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
