"""Job: a model of a real architecture, from its config.json, with random weights (no download), saved as
safetensors with a word-level tokenizer of the same vocabulary size. For measuring memory on a GPU."""
import json
import os


def run(config, emit):
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from .make_tiny import build_tokenizer

    out = config["out_dir"]
    if os.path.exists(os.path.join(out, "fitlab-random.json")):
        return json.load(open(os.path.join(out, "fitlab-random.json")))
    os.makedirs(out, exist_ok=True)
    with open(config["config_path"]) as f:
        raw = json.load(f)
    raw.pop("quantization_config", None)
    model_type = raw.get("model_type", "llama")
    cfg = AutoConfig.for_model(model_type, **{k: v for k, v in raw.items() if k != "model_type"})
    torch.manual_seed(int(config.get("seed", 0)))
    emit("progress", job="make_random", message=f"initialising {cfg.architectures[0] if cfg.architectures else model_type} with random weights")
    with torch.device("cpu"):
        model = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16)
    model.save_pretrained(out, safe_serialization=True)
    specials = 8
    tok = build_tokenizer([f"w{i}" for i in range(cfg.vocab_size - specials)])
    tok.save_pretrained(out)
    info = {"out_dir": out, "params": sum(p.numel() for p in model.parameters()), "vocab_size": len(tok)}
    with open(os.path.join(out, "fitlab-random.json"), "w") as f:
        json.dump(info, f)
    return info
