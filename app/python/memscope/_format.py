"""What a Memscope recording may hold, as this module reads it: the schema
version, the architectures and their attention shapes, the per-slot
quantities, the words a run stores, the bounds on sizes read from a file
before anything is sized by them, and the one error every failure is."""

from . import _schema

SCHEMA_VERSION = _schema.SCHEMA_VERSION

# No model Memscope records has more slots; views hold (K, K) per segment.
MAX_SLOTS = 8192
# A bound on K·d and on widths, heads, layers and vocabularies read from a
# file, before anything is sized by them.
MAX_STATE_VALUES = 1 << 28
MAX_DIMENSION = 1 << 24
# The most float32 values one call returns (1 GiB): a run's transfer is (S, K, K)
# whatever the file stores, so a longer window is refused, to be read in parts.
MAX_RESULT_VALUES = 1 << 28

# What each architecture calls its number of slots, and which of its
# configuration's layer counts each attention kind has (None: one matrix
# per segment, stored as layer 0).  The shapes are those of the engines'
# attention layouts (core/engines): rows and columns for a segment of n
# tokens.
ARCHITECTURES = {
    "memformer": {
        "slots": "n_slots",
        "heads": "n_heads",
        "layers": {"read": "n_enc_layers", "write": None},
        "shape": {"read": lambda K, n: (n, K), "write": lambda K, n: (K, 1 + n)},
    },
    "rmt": {
        "slots": "n_mem",
        "heads": "n_heads",
        "layers": {"read": "n_layers", "write": "n_layers"},
        "shape": {"read": lambda K, n: (n, K), "write": lambda K, n: (K, 2 * K + n)},
    },
    "membart": {   # the public Memformer's config.json keys (core/engines/ms-membart.c)
        "slots": "memory_len",
        "heads": "encoder_attention_heads",
        "layers": {"read": "encoder_layers", "write": "encoder_layers"},
        "shape": {"read": lambda K, n: (n, K), "write": lambda K, n: (K, 1 + n)},
    },
}

SLOT_QUANTITIES = ("retention", "token_share", "representation", "read_usage", "gate")
CAUSAL_REPLACEMENTS = ("initial", "zeros", "permute", "knockout", "skip")
MAX_CAUSAL_HORIZON = 1024
# How far outside its range a stored value may lie from rounding and still be
# read (core/ms-recording-handle.h, MS_RECORDING_RANGE_SLACK); NaN is allowed
# where a value may be missing, an infinity never.
RANGE_SLACK = 1e-3
STATUSES = ("incomplete", "complete")
ATTENTION_STORAGE = {"f16": "<f2", "f32": "<f4", "none": None}


class MemscopeError(Exception):
    """A recording that cannot be read as asked: the message names the file
    and what was wrong."""
