"""Load a causal LM for reading (no gradients, no k-bit training preparation), optionally with a PEFT LoRA
adapter that is first checked against the model's own module names and shapes."""
import json
import os

from ..model import check_model_source, device_and_dtype, load_tokenizer, nf4_kwargs
from ..protocol import JobError


def load(config, attn_implementation="sdpa"):
    """(model, tokenizer, device, dtype). config: model, quant (none|nf4), device, dtype, adapter."""
    import torch
    from transformers import AutoModelForCausalLM

    device, dtype = device_and_dtype(config.get("device", "auto"), config.get("dtype", "auto"))
    name = config["model"]
    check_model_source(name)
    quant = config.get("quant", "none")
    kwargs = {"use_safetensors": True, "dtype": dtype, "attn_implementation": attn_implementation}
    if quant == "nf4":
        # the same NF4 + double quantization as QLoRA training
        kwargs.update(nf4_kwargs(dtype, device, "4-bit loading"))
    elif quant != "none":
        raise JobError("input", f"quant must be none or nf4, got {quant!r}")
    try:
        model = AutoModelForCausalLM.from_pretrained(name, **kwargs)
    except OSError as e:
        raise JobError("input", f"cannot load model {name}: {str(e).splitlines()[0]}")
    except Exception as e:  # noqa: BLE001
        if quant == "nf4" and device == "cpu":
            raise JobError("needs_gpu", f"4-bit loading needs a GPU here ({str(e).splitlines()[0] if str(e) else type(e).__name__})")
        raise
    if quant != "nf4":
        model.to(device)
    if device == "cpu":
        # a small model's ops are too short to share between threads: the hand-off costs more than the work,
        # ten times more on a loaded machine (measured: tiny Qwen2 forward 14 ms on 1 thread, 139 ms on 2)
        small = sum(p.numel() for p in model.parameters()) < 50_000_000
        torch.set_num_threads(int(os.environ.get("FITLAB_CPU_THREADS") or (1 if small else torch.get_num_threads())))
    model.eval()
    model.requires_grad_(False)
    model.config.use_cache = False
    tokenizer = load_tokenizer(name)
    adapter = config.get("adapter")
    if adapter:
        check_adapter(model, adapter, name)
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter, is_trainable=False)
        model.eval()
    return model, tokenizer, device, dtype


def base_of(model):
    """The transformers model under a PeftModel (or the model itself)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def decoder_layers(model):
    """The ModuleList of decoder layers (model.model.layers for Llama/Qwen/Mistral/Gemma layouts)."""
    import torch

    base = base_of(model)
    n = base.config.num_hidden_layers
    inner = getattr(base, "model", None)
    if inner is not None and isinstance(getattr(inner, "layers", None), torch.nn.ModuleList):
        return inner.layers
    for mod in base.modules():
        if isinstance(mod, torch.nn.ModuleList) and len(mod) == n:
            return mod
    raise JobError("input", f"cannot find the decoder layers of {type(base).__name__}: fitlab inspects Llama-style causal LMs")


def _adapter_files(adapter):
    cfg_path = os.path.join(adapter, "adapter_config.json")
    weights = os.path.join(adapter, "adapter_model.safetensors")
    if not os.path.isdir(adapter):
        raise JobError("input", f"adapter folder {adapter} does not exist")
    if not os.path.exists(cfg_path) or not os.path.exists(weights):
        raise JobError("input", f"adapter folder {adapter} needs adapter_config.json and adapter_model.safetensors (a PEFT adapter as `fitlab run` writes it)")
    with open(cfg_path) as f:
        return json.load(f), weights


def check_adapter(model, adapter, model_name):
    """Every LoRA weight must name a module of this model with matching shapes: an adapter trained for another
    base model fails here with one line instead of a size-mismatch trace from deep inside PEFT."""
    from safetensors import safe_open

    cfg, weights = _adapter_files(adapter)
    if cfg.get("peft_type", "LORA") != "LORA":
        raise JobError("input", f"adapter {adapter} is {cfg.get('peft_type')}: fitlab reads LoRA adapters")
    modules = dict(model.named_modules())
    trained_for = cfg.get("base_model_name_or_path") or "another model"
    with safe_open(weights, "pt") as f:
        for key in f.keys():
            if ".lora_A." not in key and ".lora_B." not in key:
                continue
            mod_name = key.split(".lora_")[0].removeprefix("base_model.model.")
            mod = modules.get(mod_name)
            if mod is None or not hasattr(mod, "in_features"):
                raise JobError("input", f"adapter {adapter} was trained for {trained_for}: this model has no module {mod_name}")
            shape = f.get_slice(key).get_shape()
            want = shape[1] if ".lora_A." in key else shape[0]
            have = mod.in_features if ".lora_A." in key else mod.out_features
            if want != have:
                side = "input" if ".lora_A." in key else "output"
                raise JobError("input", f"adapter {adapter} was trained for {trained_for}: {mod_name} has {side} width {have} here, {want} in the adapter")


def lora_update_norms(adapter, num_heads, num_kv_heads, head_dim):
    """Frobenius norm of each adapted module's update (alpha/r)*B*A, from the adapter's weights alone, and its
    share per attention head (rows of q/k/v by head, columns of o by head). ||BA||_F^2 = tr((B^T B)(A A^T)), so
    no d_out x d_in matrix is formed. Scaling alpha/r (alpha/sqrt(r) with rsLoRA), as in peft/tuners/lora/layer.py."""
    import math
    import re

    import torch
    from safetensors.torch import load_file

    cfg, weights = _adapter_files(adapter)
    sd = load_file(weights)
    out = []
    for key in sorted(k for k in sd if ".lora_A." in k):
        name = key.split(".lora_A.")[0].removeprefix("base_model.model.")
        b_key = key.replace(".lora_A.", ".lora_B.")
        if b_key not in sd:
            continue
        A = sd[key].float()
        B = sd[b_key].float()
        r = A.shape[0]
        short = name.split(".")[-1]
        r_eff = (cfg.get("rank_pattern") or {}).get(short, r)
        alpha = (cfg.get("alpha_pattern") or {}).get(short, cfg.get("lora_alpha", r_eff))
        scaling = alpha / math.sqrt(r_eff) if cfg.get("use_rslora") else alpha / r_eff
        norm = scaling * math.sqrt(max(0.0, float(torch.trace((B.T @ B) @ (A @ A.T)))))
        m = re.search(r"layers\.(\d+)\.", name)
        entry = {"name": name, "module": short, "layer": int(m.group(1)) if m else None, "update_norm": norm, "rank": r, "scaling": scaling}
        heads = None
        if short == "q_proj" and B.shape[0] == num_heads * head_dim:
            heads = [scaling * float(torch.linalg.matrix_norm(B[h * head_dim : (h + 1) * head_dim] @ A)) for h in range(num_heads)]
        elif short in ("k_proj", "v_proj") and B.shape[0] == num_kv_heads * head_dim:
            heads = [scaling * float(torch.linalg.matrix_norm(B[h * head_dim : (h + 1) * head_dim] @ A)) for h in range(num_kv_heads)]
        elif short == "o_proj" and A.shape[1] == num_heads * head_dim:
            heads = [scaling * float(torch.linalg.matrix_norm(B @ A[:, h * head_dim : (h + 1) * head_dim])) for h in range(num_heads)]
        if heads is not None:
            entry["head_norms"] = heads
        out.append(entry)
    return out
