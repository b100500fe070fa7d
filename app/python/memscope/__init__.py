"""memscope — Memscope recordings in Python, with the standard library's
sqlite3 and numpy.

    import memscope
    with memscope.open("copy.sqlite") as rec:
        for run in rec.runs():
            print(run.id, run.name, run.arch, run.segments_done, run.status)
        run = rec.run(2)
        r = run.retention()          # (S, K): retention of each slot after each segment
        a = run.attention(5, "read") # (n, K): segment 5's read attention, last layer, mean over heads

Read-only: nothing here writes a recording.  See recording.py for every
quantity and its shape."""

from .recording import (ARCHITECTURES, SCHEMA_VERSION, SLOT_QUANTITIES, MemscopeError, Recording, Run, View,
                        parse_csv)

__all__ = ["open", "Recording", "Run", "View", "MemscopeError", "SCHEMA_VERSION", "SLOT_QUANTITIES",
           "ARCHITECTURES", "parse_csv"]


def open(path, cli=None, model=None):  # noqa: A001 (the module's verb, as io.open is io's)
    """Opens the recording at @path read-only (a Recording).  @cli: the
    memscope-cli that replays a compact run's attention and exports views;
    @model: where a compact run's model file is now, if it moved."""
    return Recording(path, cli=cli, model=model)
