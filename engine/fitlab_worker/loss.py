"""The training loss without full-vocabulary logits.

Three implementations of the same number, the mean token cross-entropy of a causal LM over its labelled
tokens (labels shifted left by one, -100 ignored: transformers loss/loss_utils.py ForCausalLMLoss):

  standard  the model's own forward with labels: HF materialises [tokens, vocab] logits, upcasts them to fp32
            and keeps the log-softmax for backward (the planner counts 14 B per logit).
  chunked   plain PyTorch, always available (CPU included): the decoder's last hidden states go through
            lm_head + cross-entropy one chunk of tokens at a time, each chunk under torch.utils.checkpoint, so a
            chunk's logits are freed after its forward and recomputed in backward. One chunk is live at a time:
            its logits (+ fp32 upcast), the fp32 log-softmax, and in backward the fp32 gradient of the
            log-softmax and of its input: 12 B per logit of one chunk (measured in test/runs/lean.test.ts).
  fused     Liger Kernel's fused linear cross-entropy (liger_kernel/ops/fused_linear_cross_entropy.py): Triton,
            CUDA only; computes the loss and its gradients chunk by chunk in the forward, never keeping logits.

`choose` picks one from what was asked and what the machine has, and says why; the run records both.
"""
import os

from .protocol import JobError

# model types whose logits are exactly lm_head(final hidden state), or that need only a final soft-cap
# (Gemma 2: logits = tanh(logits / cap) * cap, transformers models/gemma2/modeling_gemma2.py)
_PLAIN_HEAD = {"llama", "qwen2", "qwen3", "mistral", "gemma", "gemma2", "phi3", "olmo2", "smollm3"}


def _parts(model):
    """(transformers model under any PEFT wrapper, its decoder, its lm_head module)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return base, base.get_decoder(), base.get_output_embeddings()


def supports_head_loss(model):
    base, _, head = _parts(model)
    return base.config.model_type in _PLAIN_HEAD and head is not None


def probe_machine():
    """What the fused path needs, read from this machine: CUDA, its compute capability, Triton, Liger."""
    import torch

    facts = {"cuda": torch.cuda.is_available(), "capability": None, "triton": None, "liger": None}
    if facts["cuda"]:
        facts["capability"] = list(torch.cuda.get_device_capability())
    try:
        import triton

        facts["triton"] = triton.__version__
    except Exception:  # noqa: BLE001 - absent or broken: the fused path is off
        pass
    try:
        import liger_kernel  # noqa: F401
        from importlib.metadata import version

        facts["liger"] = version("liger-kernel")
    except Exception:  # noqa: BLE001
        pass
    return facts


def fused_unavailable_reason(facts, dtype_name):
    """None when Liger's fused linear-CE can run here, else why not. Triton compiles for NVIDIA compute
    capability 7.0 and newer (Blackwell consumer cards are 12.0, sm_120); bf16 kernels need 8.0 (Ampere)."""
    if os.environ.get("FITLAB_NO_FUSED"):
        return "FITLAB_NO_FUSED is set"
    if not facts.get("cuda"):
        return "no CUDA GPU (Liger's Triton kernels run on CUDA only)"
    if not facts.get("triton"):
        return "Triton is not installed"
    if not facts.get("liger"):
        return "liger-kernel is not installed"
    major, minor = facts["capability"]
    if major < 7:
        return f"compute capability {major}.{minor} is below Triton's 7.0"
    if dtype_name == "bfloat16" and major < 8:
        return f"bf16 kernels need compute capability 8.0, this GPU is {major}.{minor}"
    return None


def choose(requested, facts, dtype_name, head_ok, lm_head_plain):
    """(implementation, reason). requested: auto | standard | chunked | fused."""
    if requested == "standard":
        return "standard", "asked for"
    if not head_ok:
        if requested == "auto":
            return "standard", "this architecture's logits are not lm_head(hidden) alone: the model's own loss"
        raise JobError("input", f"--loss {requested} supports llama/qwen2/qwen3/mistral/gemma/gemma2/phi3 layouts; use --loss standard for this model")
    why_not = fused_unavailable_reason(facts, dtype_name)
    if why_not is None and not lm_head_plain:
        why_not = "lm_head carries an adapter (Liger needs a plain weight)"
    if requested == "fused":
        if why_not:
            raise JobError("needs_gpu", f"--loss fused is unavailable here: {why_not}; use --loss chunked (always available)")
        return "fused", "asked for"
    if requested == "chunked":
        return "chunked", "asked for"
    if why_not:
        return "chunked", f"fused linear cross-entropy unavailable: {why_not}"
    return "fused", f"Liger {facts['liger']} fused linear cross-entropy on CUDA {facts['capability'][0]}.{facts['capability'][1]} with Triton {facts['triton']}"


def shifted_labels(labels):
    """labels[t + 1] is what position t predicts; the last position of every row predicts nothing."""
    import torch

    return torch.nn.functional.pad(labels[:, 1:], (0, 1), value=-100)


def _head_fn(lm_head, softcap):
    import torch

    def logits_of(h):
        z = lm_head(h).float()
        if softcap:
            z = torch.tanh(z / softcap) * softcap
        return z

    return logits_of


def chunked_cross_entropy(hidden, targets, lm_head, chunk_tokens, softcap=None):
    """Mean cross-entropy of lm_head(hidden) against targets ([N, H] and [N], -100 already removed).
    Each chunk runs under a non-reentrant checkpoint: nothing of it is saved but its input slice, and its
    logits are recomputed in backward, one chunk at a time."""
    import torch
    from torch.utils.checkpoint import checkpoint

    logits_of = _head_fn(lm_head, softcap)

    def chunk_loss(h, t):
        return torch.nn.functional.cross_entropy(logits_of(h), t, reduction="sum")

    n = targets.numel()
    if n == 0:
        return hidden.sum() * 0.0
    total = None
    for h, t in zip(hidden.split(chunk_tokens), targets.split(chunk_tokens)):
        part = checkpoint(chunk_loss, h, t, use_reentrant=False) if torch.is_grad_enabled() else chunk_loss(h, t)
        total = part if total is None else total + part
    return total / n


def fused_cross_entropy(hidden, targets, lm_head, softcap=None):
    from liger_kernel.transformers import LigerFusedLinearCrossEntropyLoss

    return LigerFusedLinearCrossEntropyLoss(ignore_index=-100, reduction="mean", softcap=softcap)(lm_head.weight, hidden, targets, getattr(lm_head, "bias", None))


def head_inputs(model, batch):
    """The decoder's last hidden states at the labelled positions, and their targets: [N, H], [N]."""
    _, decoder, _ = _parts(model)
    out = decoder(input_ids=batch["input_ids"], attention_mask=batch.get("attention_mask"), position_ids=batch.get("position_ids"), use_cache=False)
    hidden = out.last_hidden_state
    targets = shifted_labels(batch["labels"]).reshape(-1)
    keep = (targets != -100).nonzero().squeeze(-1)  # only labelled positions reach lm_head
    return hidden.reshape(-1, hidden.size(-1)).index_select(0, keep), targets.index_select(0, keep)


def lm_head_of(model):
    return _parts(model)[2]


def softcap_of(model):
    return getattr(_parts(model)[0].config, "final_logit_softcapping", None)


def make_loss(model, impl, chunk_tokens):
    """A function batch -> mean token loss, for the chosen implementation."""
    base, _, lm_head = _parts(model)
    softcap = getattr(base.config, "final_logit_softcapping", None)
    if impl == "standard":
        return lambda batch: model(**batch, use_cache=False).loss
    if impl == "fused":
        return lambda batch: fused_cross_entropy(*head_inputs(model, batch), lm_head, softcap)
    return lambda batch: chunked_cross_entropy(*head_inputs(model, batch), lm_head, chunk_tokens, softcap)


def lm_head_is_plain(model):
    import torch

    _, _, head = _parts(model)
    return type(head) is torch.nn.Linear
