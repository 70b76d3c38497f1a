"""Small pieces every inspection job shares: atomic file writes, the token strings of a prompt, head geometry."""
import json
import os


def write_json(path, obj):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(obj, f, indent=1, allow_nan=False)
    os.replace(path + ".tmp", path)


def save_tensors(path, tensors, metadata=None):
    """safetensors, written under a temporary name and renamed: a killed job leaves no half file."""
    from safetensors.torch import save_file

    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, path + ".tmp", metadata=metadata)
    os.replace(path + ".tmp", path)


def token_strings(tokenizer, ids):
    """Readable token strings for axis labels (byte-level BPE markers shown as spaces)."""
    out = []
    for t in tokenizer.convert_ids_to_tokens(ids):
        t = str(t).replace("\u0120", " ").replace("\u010a", "\\n").replace("\u2581", " ")
        out.append(t)
    return out


def geometry(model_config):
    c = model_config
    heads = int(c.num_attention_heads)
    kv = int(getattr(c, "num_key_value_heads", None) or heads)
    head_dim = int(getattr(c, "head_dim", None) or c.hidden_size // heads)
    return {"layers": int(c.num_hidden_layers), "heads": heads, "kv_heads": kv, "head_dim": head_dim, "hidden_size": int(c.hidden_size)}


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def run_summary(encoded, memory, device, dtype, config):
    """The fields every inspection's result opens with: what was read (prompts, tokens per prompt), the memory it
    took (Meter.summary), and how the model ran (device, dtype, quantization)."""
    return {
        "prompts": len(encoded),
        "tokens": sum(len(i) for i in encoded),
        "prompt_tokens": [len(i) for i in encoded],
        **memory,
        "device": device,
        "dtype": str(dtype).replace("torch.", ""),
        "quant": config.get("quant", "none"),
    }
