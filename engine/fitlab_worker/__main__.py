"""Entry point: python -m fitlab_worker. Reads one request per stdin line, runs the job, emits events."""
import json
import os
import sys
import traceback

# library output must never reach the protocol stream
_protocol_out = sys.stdout
sys.stdout = sys.stderr
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

from . import __version__, protocol  # noqa: E402

protocol._out = _protocol_out


def classify(exc):
    """Map an exception to (kind, one-line message)."""
    from .protocol import JobError

    if isinstance(exc, JobError):
        return exc.kind, exc.message
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    try:
        import torch

        if isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower():
            return "oom", f"CUDA out of memory: {text}"
    except ImportError:
        pass
    if isinstance(exc, OSError) and exc.errno in (28, 122):  # ENOSPC, EDQUOT
        return "disk_full", f"no space left on the device: {text}"
    if isinstance(exc, (FileNotFoundError, ValueError, KeyError)):
        return "input", f"{type(exc).__name__}: {text}"
    return "internal", f"{type(exc).__name__}: {text}"


def die_with_parent():
    """Linux: end with fitlab (PR_SET_PDEATHSIG), so a killed fitlab never leaves a worker writing a run."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
        expected = os.environ.get("FITLAB_PARENT_PID")
        if expected and os.getppid() != int(expected):  # the parent died before the call
            os._exit(1)
    except Exception:  # noqa: BLE001 - other systems: best effort
        pass


def main():
    import platform

    die_with_parent()

    protocol.emit("hello", worker="fitlab-worker", version=__version__, protocol=protocol.PROTOCOL_VERSION, python=platform.python_version())
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
        except json.JSONDecodeError as e:
            protocol.emit("error", kind="protocol", message=f"request is not JSON: {e}")
            continue
        if req.get("v") != protocol.PROTOCOL_VERSION:
            protocol.emit("error", kind="protocol", message=f"protocol version {req.get('v')} not supported (worker speaks {protocol.PROTOCOL_VERSION})")
            continue
        job = req.get("job")
        try:
            if job == "doctor":
                from .jobs import doctor as mod
            elif job == "train":
                from .jobs import train as mod
            elif job == "evaluate":
                from .jobs import evaluate as mod
            elif job == "make_tiny":
                from .jobs import make_tiny as mod
            elif job == "make_random":
                from .jobs import make_random as mod
            else:
                raise protocol.JobError("protocol", f"unknown job {job!r}")
            result = mod.run(req.get("config") or {}, protocol.emit)
            protocol.emit("result", job=job, **(result or {}))
        except Exception as exc:  # noqa: BLE001 - every failure becomes one error event
            kind, message = classify(exc)
            traceback.print_exc(file=sys.stderr)
            protocol.emit("error", job=job, kind=kind, message=message)
        if req.get("once", True):
            break


if __name__ == "__main__":
    main()
