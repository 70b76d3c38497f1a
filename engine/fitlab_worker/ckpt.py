"""Checkpoints without pickles: adapter/model weights via save_pretrained (safetensors), optimizer state
and RNG as safetensors, scalars as JSON. Written to a temporary folder and renamed, so a kill mid-save
never leaves a half checkpoint."""
import json
import os
import re
import shutil

import torch
from safetensors.torch import load_file, save_file


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


def save(out_dir, step, model, optimizer, scheduler, trainer_state):
    final = os.path.join(out_dir, f"checkpoint-{step}")
    tmp = final + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    model.save_pretrained(tmp, safe_serialization=True)
    tensors, meta = _flatten_optimizer(optimizer.state_dict())
    tensors["rng.torch"] = torch.get_rng_state()
    save_file(tensors, os.path.join(tmp, "optimizer.safetensors"))
    state = {**trainer_state, "step": step, "optimizer_meta": meta, "scheduler": scheduler.state_dict()}
    with open(os.path.join(tmp, "trainer_state.json"), "w") as f:
        json.dump(state, f)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    return final


def latest(out_dir):
    """The newest complete checkpoint folder, or None."""
    if not os.path.isdir(out_dir):
        return None
    best = None
    for name in os.listdir(out_dir):
        m = re.fullmatch(r"checkpoint-(\d+)", name)
        if m and os.path.exists(os.path.join(out_dir, name, "trainer_state.json")):
            if best is None or int(m.group(1)) > best[0]:
                best = (int(m.group(1)), os.path.join(out_dir, name))
    return best[1] if best else None


def load_training_state(path, optimizer, scheduler):
    with open(os.path.join(path, "trainer_state.json")) as f:
        state = json.load(f)
    tensors = load_file(os.path.join(path, "optimizer.safetensors"))
    torch.set_rng_state(tensors.pop("rng.torch"))
    optimizer.load_state_dict(_unflatten_optimizer(tensors, state["optimizer_meta"]))
    scheduler.load_state_dict(state["scheduler"])
    return state
