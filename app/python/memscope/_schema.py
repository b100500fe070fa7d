"""The recording schemas this module reads, and how an older one is shown as
the current one.

A recording is an SQLite file whose ``PRAGMA user_version`` is its schema
version (core/ms-db.h has the history).  A file is trusted only when its
schema is exactly the one Memscope writes at its version: these tables with
these columns, their automatic indexes, and nothing else (no view, trigger,
other table or index, and no generated column, which could run an expression
from the file on every read).  Older files are read as they are, through TEMP
views that give them the current tables' shape, as the C reader does."""

SCHEMA_VERSION = 8

_MODELS = ("id", "path", "sha256", "arch", "config", "source")
_RUNS_V1 = ("id", "name", "model_id", "input_path", "input_sha256", "n_tokens", "segment_len", "n_segments",
            "attn_dtype", "status", "segments_done", "created", "finished", "writer_pid", "writer_host",
            "resume_state")
_RUNS_V2 = tuple(c for c in _RUNS_V1 if c != "resume_state")
_RUNS_V3 = tuple(c for c in _RUNS_V2 if c != "segments_done")
_SEGMENTS_V1 = ("run_id", "idx", "token_begin", "token_end", "text", "nll", "n_predicted", "total_nll",
                "memory_delta", "transfer")
_SEGMENTS_V3 = ("id", "run_id", "idx", "token_begin", "token_end", "text", "nll", "n_predicted", "total_nll",
                "memory_delta", "transfer", "old_share", "token_share", "cos_prev", "read_usage", "attn_first",
                "attn_count")
_SEGMENTS_V4 = tuple({"idx": "segment", "old_share": "retention", "cos_prev": "representation"}.get(c, c)
                     for c in _SEGMENTS_V3)
_SEGMENTS_V5 = _SEGMENTS_V4 + ("byte_begin", "token_ids", "token_ends")
_SEGMENTS_V7 = tuple(c for c in _SEGMENTS_V5 if c != "transfer") + ("gate",)
_ATTENTION_V1 = ("run_id", "segment", "kind", "layer", "head", "rows", "cols", "dtype", "data")
_ATTENTION_V3 = ("id",) + _ATTENTION_V1
_MEMORY_V1 = ("run_id", "segment", "rows", "cols", "data")
_MEMORY_V3 = ("id",) + _MEMORY_V1
# schema 7: memory chunks, the states after n_states consecutive segments and their transfers (core/ms-db.h)
_MEMORY_V7 = ("id", "run_id", "segment", "n_states", "rows", "cols", "transfer", "data")
_RETENTION = ("run_id", "segment", "slot", "old_share", "token_share", "cos_prev", "read_usage")
_CAUSAL = ("id", "run_id", "replacement", "slot", "source", "horizon", "delta_nll", "delta_accuracy")
_RESET_MEMORY = ("id", "run_id", "segment", "nll", "n_predicted", "total_nll")

# version -> ({table: columns}, the tables with an automatic index: a UNIQUE
# constraint or a composite primary key, sqlite_autoindex_TABLE_1)
_KEYED_V1 = ("models", "segments", "attention", "memory", "retention")
TABLES = {
    1: ({"models": _MODELS, "runs": _RUNS_V1, "segments": _SEGMENTS_V1, "attention": _ATTENTION_V1,
         "memory": _MEMORY_V1, "retention": _RETENTION}, _KEYED_V1),
    2: ({"models": _MODELS, "runs": _RUNS_V2, "segments": _SEGMENTS_V1, "attention": _ATTENTION_V1,
         "memory": _MEMORY_V1, "retention": _RETENTION}, _KEYED_V1),
    3: ({"models": _MODELS, "runs": _RUNS_V3, "segments": _SEGMENTS_V3, "attention": _ATTENTION_V3,
         "memory": _MEMORY_V3}, ("models",)),
    4: ({"models": _MODELS, "runs": _RUNS_V3, "segments": _SEGMENTS_V4, "attention": _ATTENTION_V3,
         "memory": _MEMORY_V3}, ("models",)),
    5: ({"models": _MODELS, "runs": _RUNS_V3, "segments": _SEGMENTS_V5, "attention": _ATTENTION_V3,
         "memory": _MEMORY_V3}, ("models",)),
    6: ({"models": _MODELS, "runs": _RUNS_V3, "segments": _SEGMENTS_V5, "attention": _ATTENTION_V3,
         "memory": _MEMORY_V3, "causal": _CAUSAL, "reset_memory": _RESET_MEMORY}, ("models", "causal")),
    7: ({"models": _MODELS, "runs": _RUNS_V3, "segments": _SEGMENTS_V7, "attention": _ATTENTION_V3,
         "memory": _MEMORY_V7, "causal": _CAUSAL, "reset_memory": _RESET_MEMORY}, ("models", "causal")),
}
# schema 8: schema 7's tables; the per-slot columns may hold narrow arrays (recording.py, _slots)
TABLES[8] = TABLES[7]
assert max(TABLES) == SCHEMA_VERSION

# Schema 3 stored attention kinds per architecture; later ones "read" and "write".
_KIND_FROM_V3 = ("CASE kind WHEN 'reader' THEN 'read' WHEN 'rmt_read' THEN 'read' WHEN 'writer' THEN 'write' "
                 "WHEN 'rmt_write' THEN 'write' ELSE kind END")
_BYTES_TOKENS = "NULL AS byte_begin, NULL AS token_ids, NULL AS token_ends, NULL AS gate"

def _memory_chunks_of_one(segments_segment):
    """Schema 7's memory table over a schema 3 to 6 one: each row a chunk of one state, with its segment's
    transfer beside it (the segment column of segments named @segments_segment)."""
    return ("CREATE TEMP VIEW memory AS SELECT m.id, m.run_id, m.segment, 1 AS n_states, m.rows, m.cols,"
            " (SELECT s.transfer FROM main.segments s WHERE s.id = m.id - 1 AND s.run_id = m.run_id"
            f" AND s.{segments_segment} = m.segment) AS transfer, m.data FROM main.memory m")


# Schema 7's segments table over a schema 5 or 6 one: without transfer (now in memory), with gate.
_SEGMENTS_OF_5 = ("CREATE TEMP VIEW segments AS SELECT id, run_id, segment, token_begin, token_end, text, nll,"
                  " n_predicted, total_nll, memory_delta, retention, token_share, representation, read_usage,"
                  " attn_first, attn_count, byte_begin, token_ids, token_ends, NULL AS gate FROM main.segments")

# TEMP views (they take precedence over the main tables of the same names)
# that show a file of an older version as the current schema.  Schemas 1
# and 2 kept one retention row per (run, segment, slot): f32_array (a Python
# aggregate registered on the connection) packs them into the current
# per-segment arrays.
VIEWS = {
    1: (
        "CREATE TEMP VIEW segments AS SELECT s.run_id * 4294967296 + s.idx AS id, s.run_id, s.idx AS segment,"
        " s.token_begin, s.token_end, s.text, s.nll, s.n_predicted, s.total_nll, s.memory_delta,"
        " (SELECT f32_array(slot, old_share) FROM main.retention WHERE run_id = s.run_id AND segment = s.idx)"
        "   AS retention,"
        " (SELECT f32_array(slot, token_share) FROM main.retention WHERE run_id = s.run_id AND segment = s.idx)"
        "   AS token_share,"
        " (SELECT f32_array(slot, cos_prev) FROM main.retention WHERE run_id = s.run_id AND segment = s.idx)"
        "   AS representation,"
        " (SELECT f32_array(slot, read_usage) FROM main.retention WHERE run_id = s.run_id AND segment = s.idx)"
        "   AS read_usage,"
        " (SELECT min(rowid) FROM main.attention WHERE run_id = s.run_id AND segment = s.idx) AS attn_first,"
        " (SELECT count(*) FROM main.attention WHERE run_id = s.run_id AND segment = s.idx) AS attn_count,"
        " " + _BYTES_TOKENS + " FROM main.segments s",
        "CREATE TEMP VIEW attention AS SELECT rowid AS id, run_id, segment, " + _KIND_FROM_V3 + " AS kind, layer,"
        " head, rows, cols, dtype, data FROM main.attention",
        "CREATE TEMP VIEW memory AS SELECT m.run_id * 4294967296 + m.segment + 1 AS id, m.run_id, m.segment,"
        " 1 AS n_states, m.rows, m.cols, (SELECT s.transfer FROM main.segments s WHERE s.run_id = m.run_id"
        " AND s.idx = m.segment) AS transfer, m.data FROM main.memory m",
    ),
    3: (
        "CREATE TEMP VIEW segments AS SELECT id, run_id, idx AS segment, token_begin, token_end, text, nll,"
        " n_predicted, total_nll, memory_delta, old_share AS retention, token_share,"
        " cos_prev AS representation, read_usage, attn_first, attn_count, " + _BYTES_TOKENS + " FROM main.segments",
        "CREATE TEMP VIEW attention AS SELECT id, run_id, segment, " + _KIND_FROM_V3 + " AS kind, layer, head,"
        " rows, cols, dtype, data FROM main.attention",
        _memory_chunks_of_one("idx"),
    ),
    4: (
        "CREATE TEMP VIEW segments AS SELECT id, run_id, segment, token_begin, token_end, text, nll, n_predicted,"
        " total_nll, memory_delta, retention, token_share, representation, read_usage, attn_first,"
        " attn_count, " + _BYTES_TOKENS + " FROM main.segments",
        _memory_chunks_of_one("segment"),
    ),
    5: (_SEGMENTS_OF_5, _memory_chunks_of_one("segment")),
    6: (_SEGMENTS_OF_5, _memory_chunks_of_one("segment")),
    7: (),
    8: (),
}
VIEWS[2] = VIEWS[1]
# Schema 6's tables (causal retention, the reset-memory baseline), empty in
# every older file: nothing was computed there.
for _version in range(1, 6):
    VIEWS[_version] += (
        "CREATE TEMP VIEW causal AS SELECT NULL AS id, NULL AS run_id, NULL AS replacement, NULL AS slot,"
        " NULL AS source, NULL AS horizon, NULL AS delta_nll, NULL AS delta_accuracy WHERE 0",
        "CREATE TEMP VIEW reset_memory AS SELECT NULL AS id, NULL AS run_id, NULL AS segment, NULL AS nll,"
        " NULL AS n_predicted, NULL AS total_nll WHERE 0",
    )
