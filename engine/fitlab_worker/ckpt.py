"""Checkpoints without pickles: adapter/model weights via save_pretrained (safetensors), optimizer state
and RNG as safetensors, scalars as JSON. Written to checkpoint-N.tmp, flushed to disk, then renamed, so a
kill mid-save never leaves a half checkpoint; a manifest records every file's size.

On resume only a checkpoint that verifies is used: its files are whole (manifest sizes, safetensors headers
inside their files), its trainer state parses and names its own step, the step is within the run, and the
metrics reach it. Checkpoints that fail are renamed checkpoint-N.corrupt and named in the log; the run falls
back to the newest one that verifies. Before each save the free disk is checked against the bytes to write.
"""
import errno
import json
import os
import re
import shutil
import struct
import time

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from .protocol import JobError

# Room left beside a checkpoint for metrics, configs and the run store.
DISK_MARGIN_BYTES = 16 * 1024 * 1024
# The safetensors crate's own limit on a header (MAX_HEADER_SIZE).
MAX_HEADER_BYTES = 100_000_000


# ---- faults injected by tests (FITLAB_FAULT): a full disk without filling one ---------------------------
def _fault(name):
    """Value of a test-only fault, e.g. FITLAB_FAULT="enospc_at_checkpoint=40,free_bytes=1000"."""
    for part in os.environ.get("FITLAB_FAULT", "").split(","):
        k, _, v = part.partition("=")
        if k.strip() == name:
            return v.strip()
    return None


def free_bytes(path):
    injected = _fault("free_bytes")
    if injected is not None:
        return int(injected)
    return shutil.disk_usage(path).free


# ---- optimizer state as tensors + JSON -----------------------------------------------------------------

def _flatten_value(prefix, v, tensors):
    """A state value as JSON meta, its tensors moved into `tensors` under dotted keys. Nested dicts occur:
    bitsandbytes 0.50 keeps its 8-bit states under state[pid]["__bnb_optimizer_quant_state__"]."""
    if torch.is_tensor(v):
        tensors[prefix] = v.detach().to("cpu", copy=True).contiguous()  # a copy: bitsandbytes shares one qmap among params
        return "tensor"
    if isinstance(v, dict):
        return {"dict": {k: _flatten_value(f"{prefix}.{k}", x, tensors) for k, x in v.items()}}
    return v


def _unflatten_value(prefix, meta, tensors):
    if meta == "tensor":
        return tensors[prefix]
    if isinstance(meta, dict) and set(meta) == {"dict"}:
        return {k: _unflatten_value(f"{prefix}.{k}", m, tensors) for k, m in meta["dict"].items()}
    return meta


def _flatten_optimizer(state_dict):
    tensors, meta = {}, {"param_groups": state_dict["param_groups"], "state": {}}
    for pid, st in state_dict["state"].items():
        meta["state"][str(pid)] = {k: _flatten_value(f"state.{pid}.{k}", v, tensors) for k, v in st.items()}
    return tensors, meta


def _unflatten_optimizer(tensors, meta):
    state = {}
    for pid, st in meta["state"].items():
        state[int(pid)] = {k: _unflatten_value(f"state.{pid}.{k}", v, tensors) for k, v in st.items()}
    return {"state": state, "param_groups": meta["param_groups"]}


def _model_state(model):
    """The tensors save_pretrained writes: the adapter for a PEFT model, else the whole model."""
    try:
        from peft import PeftModel, get_peft_model_state_dict

        if isinstance(model, PeftModel):
            return get_peft_model_state_dict(model)
    except ImportError:
        pass
    return model.state_dict()


def checkpoint_bytes(model, optimizer, model_state=None, optimizer_state=None):
    """Bytes a checkpoint will take: model (or adapter) tensors, optimizer tensors, the RNG state."""
    seen, total = set(), 0
    if model_state is not None:
        try:
            from peft import PeftModel, get_peft_model_state_dict

            if isinstance(model, PeftModel):
                model_state = get_peft_model_state_dict(model, state_dict=model_state)
        except ImportError:
            pass
    for t in (_model_state(model) if model_state is None else model_state).values():
        if torch.is_tensor(t) and t.data_ptr() not in seen:  # tied weights are saved once
            seen.add(t.data_ptr())
            total += t.numel() * t.element_size()
    for st in (optimizer.state_dict() if optimizer_state is None else optimizer_state)["state"].values():
        for v in st.values():
            if torch.is_tensor(v):
                total += v.numel() * v.element_size()
    return total + torch.get_rng_state().numel()


def require_free_disk(out_dir, needed, what):
    free = free_bytes(out_dir)
    if free < needed + DISK_MARGIN_BYTES:
        mib = lambda b: f"{-(-b // 2**20):,} MiB"  # noqa: E731
        raise JobError("disk_full", f"not enough free disk in {out_dir} for {what}: needs {mib(needed + DISK_MARGIN_BYTES)}, {mib(free)} free; free some space, then resume the run")


def _fsync_tree(path):
    for root, _dirs, files in os.walk(path):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save(out_dir, step, model, optimizer, scheduler, trainer_state, model_state=None, optimizer_state=None):
    """model_state / optimizer_state: full state dicts gathered elsewhere (FSDP, distributed.py), else the
    model's and optimizer's own."""
    final = os.path.join(out_dir, f"checkpoint-{step}")
    tmp = final + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    require_free_disk(out_dir, checkpoint_bytes(model, optimizer, model_state, optimizer_state), f"checkpoint-{step}")
    try:
        os.makedirs(tmp)
        model.save_pretrained(tmp, safe_serialization=True, **({"state_dict": model_state} if model_state is not None else {}))
        if _fault("enospc_at_checkpoint") == str(step):
            raise OSError(errno.ENOSPC, "No space left on device (injected by FITLAB_FAULT)")
        tensors, meta = _flatten_optimizer(optimizer.state_dict() if optimizer_state is None else optimizer_state)
        tensors["rng.torch"] = torch.get_rng_state()
        save_file(tensors, os.path.join(tmp, "optimizer.safetensors"))
        state = {**trainer_state, "step": step, "optimizer_meta": meta, "scheduler": scheduler.state_dict()}
        with open(os.path.join(tmp, "trainer_state.json"), "w") as f:
            json.dump(state, f)
        files = {}
        for root, _dirs, names in os.walk(tmp):
            for name in names:
                p = os.path.join(root, name)
                files[os.path.relpath(p, tmp)] = os.path.getsize(p)
        with open(os.path.join(tmp, "manifest.json"), "w") as f:
            json.dump({"step": step, "files": files}, f)
        _fsync_tree(tmp)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        _fsync_dir(out_dir)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise JobError("disk_full", f"no space left on the device writing checkpoint-{step} in {out_dir}: free some space, then resume the run") from e
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


# ---- verification and fallback on resume ---------------------------------------------------------------
def _check_safetensors(path):
    """None if the file is a whole safetensors file (header inside it, data section exactly covered), else why."""
    size = os.path.getsize(path)
    name = os.path.basename(path)
    if size < 8:
        return f"{name} is truncated ({size} bytes)"
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        if n > MAX_HEADER_BYTES or 8 + n > size:
            return f"{name} is truncated or corrupt (header of {n} bytes in a {size}-byte file)"
        try:
            header = json.loads(f.read(n).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return f"{name} has a corrupt header"
    if not isinstance(header, dict):
        return f"{name} has a corrupt header"
    end = 0
    for key, t in header.items():
        if key == "__metadata__":
            continue
        off = t.get("data_offsets") if isinstance(t, dict) else None
        if not (isinstance(off, list) and len(off) == 2 and all(isinstance(x, int) for x in off) and 0 <= off[0] <= off[1]):
            return f"{name} has a corrupt header (tensor {key[:60]!r})"
        end = max(end, off[1])
    if end != size - 8 - n:
        return f"{name} is truncated or corrupt (its tensors need {end} data bytes, the file has {size - 8 - n})"
    return None


def _metric_steps(metrics_path):
    """Training steps recorded in metrics.jsonl (a line cut by a kill is ignored)."""
    steps = set()
    if os.path.exists(metrics_path):
        with open(metrics_path, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    m = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(m, dict) and m.get("type") == "train" and isinstance(m.get("step"), int):
                    steps.add(m["step"])
    return steps


def verify(path, total_steps, metric_steps):
    """None if the checkpoint folder can be resumed from, else the reason (one line)."""
    m = re.fullmatch(r"checkpoint-(\d+)", os.path.basename(path))
    step = int(m.group(1))
    if step < 1 or step > total_steps:
        return f"step {step} is outside this run's {total_steps} steps"
    try:
        with open(os.path.join(path, "trainer_state.json"), encoding="utf-8") as f:
            state = json.load(f)
    except FileNotFoundError:
        return "it has no trainer_state.json"
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "its trainer_state.json is corrupt"
    if not isinstance(state, dict) or not isinstance(state.get("step"), int):
        return "its trainer_state.json has no step"
    if state["step"] != step:
        return f"its trainer_state.json says step {state['step']}, not {step}"
    if isinstance(state.get("total_steps"), int) and state["step"] > state["total_steps"]:
        return f"its trainer_state.json says step {state['step']} of {state['total_steps']}"
    if not isinstance(state.get("optimizer_meta"), dict) or not isinstance(state.get("scheduler"), dict):
        return "its trainer_state.json has no optimizer or scheduler state"
    manifest = os.path.join(path, "manifest.json")
    if os.path.exists(manifest):
        try:
            with open(manifest, encoding="utf-8") as f:
                files = json.load(f)["files"]
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
            return "its manifest.json is corrupt"
        for rel, size in files.items():
            p = os.path.join(path, rel)
            if rel == "manifest.json":
                continue
            if not os.path.exists(p):
                return f"{rel} is missing"
            if os.path.getsize(p) != size:
                return f"{rel} is {os.path.getsize(p)} bytes, the manifest says {size}"
    weights = [f for f in os.listdir(path) if f.endswith(".safetensors") and f != "optimizer.safetensors"]
    if not weights:
        return "it has no weights (.safetensors)"
    if not os.path.exists(os.path.join(path, "optimizer.safetensors")):
        return "it has no optimizer.safetensors"
    for f in sorted(weights) + ["optimizer.safetensors"]:
        why = _check_safetensors(os.path.join(path, f))
        if why:
            return why
    missing = [s for s in range(1, step + 1) if s not in metric_steps]
    if missing:
        return f"metrics.jsonl lacks step {missing[0]} (resuming here would leave a gap)"
    return None


def clean_leftovers(out_dir):
    """Remove half-written checkpoints (checkpoint-N.tmp) and temp files a kill left behind; return notes."""
    notes = []
    if not os.path.isdir(out_dir):
        return notes
    for name in sorted(os.listdir(out_dir)):
        p = os.path.join(out_dir, name)
        if re.fullmatch(r"checkpoint-\d+\.tmp", name):
            shutil.rmtree(p, ignore_errors=True)
            notes.append(f"removed {name}, a checkpoint left half-written")
        elif name in ("metrics.jsonl.tmp", "result.json.tmp"):
            os.remove(p)
    return notes


def quarantine(path):
    """Rename a checkpoint that cannot be used to checkpoint-N.corrupt (kept for inspection, never resumed)."""
    dest = path + ".corrupt"
    shutil.rmtree(dest, ignore_errors=True)
    os.replace(path, dest)
    return os.path.basename(dest)


def checkpoint_dirs(out_dir):
    """checkpoint-N folders, newest first."""
    if not os.path.isdir(out_dir):
        return []
    found = []
    for name in os.listdir(out_dir):
        m = re.fullmatch(r"checkpoint-(\d+)", name)
        if m and os.path.isdir(os.path.join(out_dir, name)):
            found.append((int(m.group(1)), os.path.join(out_dir, name)))
    return [p for _, p in sorted(found, reverse=True)]


def verified_checkpoints(out_dir, total_steps, metrics_path):
    """(checkpoints that verify, newest first; [(name, reason)] of those that do not, which are quarantined)."""
    steps = _metric_steps(metrics_path)
    good, skipped = [], []
    for path in checkpoint_dirs(out_dir):
        why = verify(path, total_steps, steps)
        if why is None:
            good.append(path)
        else:
            skipped.append((os.path.basename(path), why, quarantine(path)))
    return good, skipped


def latest(out_dir):
    """The newest complete checkpoint folder, or None."""
    dirs = [p for p in checkpoint_dirs(out_dir) if os.path.exists(os.path.join(p, "trainer_state.json"))]
    return dirs[0] if dirs else None


def load_weights(path, model):
    """Load a checkpoint's adapter (PEFT) or full weights into the model."""
    from peft import PeftModel, set_peft_model_state_dict

    if isinstance(model, PeftModel):
        set_peft_model_state_dict(model, load_file(os.path.join(path, "adapter_model.safetensors")))
    else:
        weights = {}
        for f in sorted(os.listdir(path)):
            if f.endswith(".safetensors") and f != "optimizer.safetensors":
                weights.update(load_file(os.path.join(path, f)))
        model.load_state_dict(weights, strict=False)


def load_training_state(path, optimizer, scheduler):
    with open(os.path.join(path, "trainer_state.json")) as f:
        state = json.load(f)
    tensors = load_file(os.path.join(path, "optimizer.safetensors"))
    torch.set_rng_state(tensors.pop("rng.torch"))
    optimizer.load_state_dict(_unflatten_optimizer(tensors, state["optimizer_meta"]))
    scheduler.load_state_dict(state["scheduler"])
    return state


def read_trainer_state(path):
    with open(os.path.join(path, "trainer_state.json")) as f:
        return json.load(f)


def read_optimizer(path):
    """The optimizer state as torch's state_dict keys it (parameter index -> tensors), from the files."""
    tensors = load_file(os.path.join(path, "optimizer.safetensors"))
    tensors.pop("rng.torch", None)
    return _unflatten_optimizer(tensors, read_trainer_state(path)["optimizer_meta"])


def read_rng(path):
    with safe_open(os.path.join(path, "optimizer.safetensors"), "pt") as f:
        return f.get_tensor("rng.torch")


def resume(out_dir, total_steps, metrics_path, model, optimizer, scheduler, emit):
    """Load the newest checkpoint that verifies (ckpt.verify); the ones that do not are set aside and named,
    and one that verifies but fails to load is skipped for the next. Returns its trainer state, or None."""
    candidates, skipped = verified_checkpoints(out_dir, total_steps, metrics_path)
    for name, why, kept_as in skipped:
        emit("log", message=f"skipped {name}: {why} (kept as {kept_as})")
    failed_load = False
    for last in candidates:
        try:
            load_weights(last, model)
            state = load_training_state(last, optimizer, scheduler)
        except Exception as e:  # noqa: BLE001 - a checkpoint that verified but does not load: fall back
            why = str(e).splitlines()[0][:200] if str(e) else ""
            emit("log", message=f"skipped {os.path.basename(last)}: it does not load ({type(e).__name__}: {why}) (kept as {quarantine(last)})")
            failed_load = True
            continue
        emit("log", message=f"resumed from {os.path.basename(last)}")
        return state
    if failed_load:
        raise JobError("internal", "no checkpoint of this run could be loaded, and a failed load may have changed the model: start a new run")
    return None


# ---- one worker per run folder -------------------------------------------------------------------------
_lock_handle = None


def lock_run_dir(out_dir, wait_s=15.0):
    """Hold an exclusive lock on the run folder for this process's life (a second worker waits, then fails)."""
    global _lock_handle
    import fcntl

    f = open(os.path.join(out_dir, ".worker.lock"), "a+")
    deadline = time.time() + wait_s
    while True:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.time() > deadline:
                f.seek(0)
                holder = f.read().strip() or "another process"
                f.close()
                raise JobError("input", f"run folder {out_dir} is in use by another worker (pid {holder}): wait for it to finish")
            time.sleep(0.2)
    f.seek(0)
    f.truncate()
    f.write(str(os.getpid()))
    f.flush()
    _lock_handle = f
