"""Fused RMSNorm / RoPE / SwiGLU kernels (Liger Kernel, Triton) and torch.compile.

Liger patches the model instance (liger_kernel/transformers/monkey_patch.py apply_liger_kernel_to_<type>):
RMSNorm keeps its input in the compute dtype plus one fp32 rstd per row instead of an fp32 copy of the
input; SwiGLU keeps gate and up and recomputes silu in backward (2 saved tensors of intermediate size instead
of 3); RoPE rotates q and k in one kernel. Only on CUDA (Triton); the loss stays ours (fitlab_worker/loss.py).

torch.compile compiles each decoder layer on its own (the torchtune recipe's per-layer compile: small graphs,
shared by every layer of the same shape), not the loss.
"""
from .loss import fused_unavailable_reason

LIGER_TYPES = {"llama", "qwen2", "qwen3", "mistral", "gemma", "gemma2", "phi3", "olmo2"}


def choose(requested, facts, dtype_name, model_type):
    """(kernels, reason). requested: auto | none | liger."""
    if requested == "none":
        return "none", "asked for"
    why_not = fused_unavailable_reason(facts, dtype_name)
    if why_not is None and model_type not in LIGER_TYPES:
        why_not = f"Liger has no kernels for {model_type}"
    if requested == "liger":
        if why_not:
            from .protocol import JobError

            raise JobError("needs_gpu", f"--kernels liger is unavailable here: {why_not}")
        return "liger", "asked for"
    if why_not:
        return "none", why_not
    return "liger", f"Liger {facts['liger']} RMSNorm/RoPE/SwiGLU"


def apply_liger(model):
    from liger_kernel.transformers.monkey_patch import _apply_liger_kernel_to_instance

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    _apply_liger_kernel_to_instance(model=base, rope=True, rms_norm=True, swiglu=True, cross_entropy=False, fused_linear_cross_entropy=False)


def compile_layers(model):
    """torch.compile every decoder layer in place (nn.Module.compile); returns how many."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    layers = base.get_decoder().layers
    for layer in layers:
        layer.compile()
    return len(layers)
