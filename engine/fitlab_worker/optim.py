"""Optimizers: torch AdamW (foreach or fused) and bitsandbytes 8-bit / paged 8-bit AdamW.

adamw            torch.optim.AdamW, the default implementation (foreach on CUDA: one parameter-sized
                 temporary at the step, torch/optim/adamw.py _multi_tensor_adamw).
adamw-fused      torch.optim.AdamW(fused=True): one kernel updates in place (CUDA and, since torch 2.4, CPU).
adamw8bit        bitsandbytes AdamW8bit: both moments as uint8 with a float32 absmax per 256-element block
                 (bitsandbytes 0.50 optim/optimizer.py Optimizer8bit.init_state, blocksize = 256); tensors under
                 min_8bit_size = 4096 elements keep 32-bit moments.
paged-adamw8bit  the same states in CUDA unified memory, evicted to host under pressure (bitsandbytes paged
                 optimizers). bitsandbytes pages only on CUDA: on the CPU it warns and runs unpaged, and the run
                 says so.
"""
from .protocol import JobError

NAMES = ("adamw", "adamw-fused", "adamw8bit", "paged-adamw8bit")


def build(name, params, lr, weight_decay, device):
    """(optimizer, note) where note is None or a sentence about what actually runs."""
    import torch

    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay), None
    if name == "adamw-fused":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, fused=True), None
    if name in ("adamw8bit", "paged-adamw8bit"):
        try:
            import warnings

            import bitsandbytes as bnb
        except ImportError:
            raise JobError("input", f"--optimizer {name} needs bitsandbytes: run `fitlab engine setup`")
        cls = bnb.optim.AdamW8bit if name == "adamw8bit" else bnb.optim.PagedAdamW8bit
        note = None
        if name == "paged-adamw8bit" and device != "cuda":
            note = f"bitsandbytes {bnb.__version__} pages optimizer state only on CUDA: unpaged 8-bit AdamW on the {device}"
        warnings.filterwarnings("ignore", message="Paged optimizers are not supported on CPU")  # said in the note
        return cls(params, lr=lr, weight_decay=weight_decay), note
    raise JobError("input", f"unknown optimizer {name!r}: use one of {', '.join(NAMES)}")
