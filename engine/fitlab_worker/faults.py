"""Out-of-memory, recorded and (for tests) injected.

`at_step` is called at the start of every micro-batch with the optimizer step being computed: it records
the step (so an OOM says where it happened) and, when the test-only config key `_test_inject_oom_at_step`
names that step, raises torch.cuda.OutOfMemoryError with the message CUDA's allocator writes
(c10/cuda/CUDACachingAllocator.cpp: "CUDA out of memory. Tried to allocate ..."), so the whole path
from the exception to the run store's `oom` status runs on a machine without a GPU.

`oom_details` turns the exception into measurements: the step, the allocator's peak allocated and reserved
bytes, the device-level peak (telemetry.py), the size of the allocation that failed (parsed from the
message) and the least the run needed (what was allocated at the failure plus what it asked for).
"""
import re

state = {"step": None, "telemetry": None}

_UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


def at_step(config, step):
    state["step"] = step
    at = config.get("_test_inject_oom_at_step")
    if at is not None and int(at) == step:
        import torch

        tried = int(config.get("_test_inject_oom_bytes", 2 * 2**30))
        raise torch.cuda.OutOfMemoryError(
            f"CUDA out of memory. Tried to allocate {tried / 2**20:.2f} MiB. (injected at step {step} by the test-only key _test_inject_oom_at_step)"
        )


def tried_bytes(message):
    m = re.search(r"Tried to allocate ([\d.]+) (B|KiB|MiB|GiB|TiB)", message)
    return int(float(m.group(1)) * _UNITS[m.group(2)]) if m else None


def oom_details(exc):
    """Measurements at an out-of-memory, for the error event (absent values are None)."""
    out = {"step": state["step"], "peak_allocated_bytes": None, "peak_reserved_bytes": None, "device_peak_bytes": None, "device": "cpu"}
    tried = tried_bytes(str(exc))
    out["tried_bytes"] = tried
    try:
        import torch

        if torch.cuda.is_available() and torch.cuda.is_initialized():
            out["device"] = "cuda"
            out["peak_allocated_bytes"] = int(torch.cuda.max_memory_allocated())
            out["peak_reserved_bytes"] = int(torch.cuda.max_memory_reserved())
            # the traceback still holds the failing frame's tensors: this is what was live at the failure
            out["needed_bytes"] = int(torch.cuda.memory_allocated()) + (tried or 0)
    except Exception:  # noqa: BLE001 - measurements are best effort; the OOM itself is what matters
        pass
    tel = state.get("telemetry")
    if tel is not None:
        out["device_peak_bytes"] = tel.run_peak_bytes()
    return out
