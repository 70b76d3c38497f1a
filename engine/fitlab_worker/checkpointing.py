"""Activation (gradient) checkpointing: none, full, or offloaded to CPU memory.

full     every decoder layer runs under torch.utils.checkpoint (non-reentrant): only its input is kept, the
         rest is recomputed in backward (transformers modeling_layers.py GradientCheckpointingLayer).
offload  the same, and the kept layer inputs go to host memory as they are saved and come back when backward
         needs them: torch.autograd.graph.saved_tensors_hooks around each checkpoint, the mechanism of
         torch.autograd.graph.save_on_cpu and of transformers 5's `activation_checkpointing_enable(offload=True)`.
         Ours differs in two ways: it pins host memory only when CUDA exists (transformers 5.23 pins on a
         CPU-only machine too, which fails with "Found no NVIDIA driver"), and it counts the bytes it moves, so
         the run records them and a test holds them against the planner (layers x tokens x hidden x bytes).
"""
import functools


class OffloadStats:
    def __init__(self):
        self.bytes = 0
        self.tensors = 0

    def reset(self):
        self.bytes = 0
        self.tensors = 0


def _offload_hooks(stats):
    import torch

    pin = torch.cuda.is_available()

    def pack(t):
        stats.bytes += t.numel() * t.element_size()
        stats.tensors += 1
        if t.device.type == "cpu":
            return (t.device, t)  # already in host memory (the CPU run): nothing to move
        host = torch.empty(t.size(), dtype=t.dtype, layout=t.layout, pin_memory=pin)
        host.copy_(t)  # as torch.autograd.graph.save_on_cpu does: the source may be reused once we return
        return (t.device, host)

    def unpack(packed):
        device, t = packed
        return t.to(device, non_blocking=pin)

    return torch.autograd.graph.saved_tensors_hooks(pack, unpack)


def _offloaded_checkpoint(function, *args, stats, **kwargs):
    from torch.utils.checkpoint import checkpoint

    # the checkpoint saves its inputs through autograd (NoopSaveInputs), so the hooks see the layer input;
    # inside, the checkpoint's own hooks take over and save nothing else
    with _offload_hooks(stats):
        return checkpoint(function, *args, **kwargs)


def enable(model, mode):
    """Turn checkpointing on for the transformers model (before or after PEFT wrapping). Returns the
    offload counter (None unless mode is offload)."""
    if mode in (None, False, "none"):
        return None
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    kwargs = {"use_reentrant": False}
    base.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    if mode == "full":
        return None
    if mode != "offload":
        raise ValueError(f"checkpointing mode {mode!r}")
    stats = OffloadStats()
    # same switch activation_checkpointing_enable flips, with our checkpoint function (transformers
    # modeling_utils.py _set_gradient_checkpointing)
    base._set_gradient_checkpointing(enable=True, gradient_checkpointing_func=functools.partial(_offloaded_checkpoint, stats=stats, **kwargs))
    return stats
