"""Entry point: python -m fitlab_worker. Reads one request per stdin line, runs the job, emits events."""
import json
import os
import sys
import traceback

# library output must never reach the protocol stream: the protocol keeps a private copy of fd 1, and fd 1
# itself now points at stderr, so native code writing to stdout (gloo's "[Gloo] Rank 1 is connected ...",
# CUDA and NCCL warnings) lands in the log instead of between two events
_protocol_out = os.fdopen(os.dup(1), "w", buffering=1)
sys.stdout.flush()
os.dup2(2, 1)
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
        # under torchrun the parent is its launcher (fitlab_worker/torchrun.py), which ends with fitlab in turn
        if expected and "TORCHELASTIC_RUN_ID" not in os.environ and os.getppid() != int(expected):  # the parent died before the call
            os._exit(1)
    except Exception:  # noqa: BLE001 - other systems: best effort
        pass


def main():
    import platform

    die_with_parent()

    protocol.emit("hello", worker="fitlab-worker", version=__version__, protocol=protocol.PROTOCOL_VERSION, python=platform.python_version())
    # torchrun's processes share one stdin: the request comes as a file instead (src/runs/worker.ts)
    lines = [open(os.environ["FITLAB_REQUEST"]).read()] if os.environ.get("FITLAB_REQUEST") else sys.stdin
    for line in lines:
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
            elif job == "attention":
                from .jobs import attention as mod
            elif job == "compare":
                from .jobs import compare as mod
            elif job == "hidden":
                from .jobs import hidden as mod
            elif job == "probe":
                from .jobs import probe as mod
            else:
                raise protocol.JobError("protocol", f"unknown job {job!r}")
            config = req.get("config") or {}
            if job in ("train", "evaluate", "attention", "compare", "hidden", "probe") and isinstance(config.get("model"), str):
                # a hub model that cannot be had (offline, gated, pickles only) fails before torch loads
                from . import hub

                hub.materialize(config["model"], protocol.emit, config.get("model_revision"), config.get("output_dir") or config.get("run_dir"))
            result = mod.run(config, protocol.emit)
            protocol.emit("result", job=job, **(result or {}))
        except Exception as exc:  # noqa: BLE001 - every failure becomes one error event
            kind, message = classify(exc)
            traceback.print_exc(file=sys.stderr)
            extra = {}
            if kind == "oom":  # the step, the measured peaks and the failed allocation (faults.py)
                from .faults import oom_details

                extra = oom_details(exc)
            protocol.emit("error", job=job, kind=kind, message=message, **extra)
        if req.get("once", True):
            break


if __name__ == "__main__":
    main()
