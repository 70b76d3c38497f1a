"""The worker side of the JSON-lines protocol (the TypeScript side is src/runs/protocol.ts).

Requests arrive on stdin, one JSON object per line: {"v": 1, "job": "train", "config": {...}}.
Events leave on stdout, one JSON object per line, each with "v" and "type":
  hello, progress, metric, eval, checkpoint, log, result, error.
Nothing else is ever written to stdout (library chatter goes to stderr).
Tensors never cross the pipe: they are written as safetensors files and named by path.
"""
import json
import os
import sys

PROTOCOL_VERSION = 1

_out = sys.stdout
# under torchrun only rank 0 speaks (other ranks compute the same run); any rank may report an error
_rank = int(os.environ.get("RANK", "0"))


def emit(type_, **fields):
    """Write one event line and flush, so the reader sees it at once."""
    if _rank != 0 and type_ != "error":
        return
    fields = {"v": PROTOCOL_VERSION, "type": type_, **fields}
    _out.write(json.dumps(fields, separators=(",", ":"), allow_nan=False, default=str) + "\n")
    _out.flush()


class JobError(Exception):
    """A failure with a kind the TypeScript side acts on: input, oom, needs_gpu, internal."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind
        self.message = message
