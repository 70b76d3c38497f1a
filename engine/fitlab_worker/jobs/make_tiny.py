"""Job: build a tiny model of a real architecture (Qwen2 or Llama layout) with random weights and a
word-level tokenizer with a chat template, saved as safetensors. No download: everything is local."""
import json
import os


def build_tokenizer(words):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<unk>", "<bos>", "<eos>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]
    vocab = {w: i for i, w in enumerate(specials + sorted(set(words) - set(specials)))}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", bos_token="<bos>", eos_token="<eos>")
    fast.chat_template = "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|> {% endfor %}{% if add_generation_prompt %}<|assistant|> {% endif %}"
    return fast


def run(config, emit):
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig, Qwen2Config

    out = config["out_dir"]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(int(config.get("seed", 0)))
    words = config.get("words") or []
    tok = build_tokenizer(words)
    arch = config.get("arch", "qwen2")
    dims = dict(
        vocab_size=len(tok),
        hidden_size=int(config.get("hidden_size", 64)),
        intermediate_size=int(config.get("intermediate_size", 128)),
        num_hidden_layers=int(config.get("num_layers", 2)),
        num_attention_heads=int(config.get("num_heads", 4)),
        num_key_value_heads=int(config.get("num_kv_heads", 2)),
        max_position_embeddings=int(config.get("max_positions", 512)),
        tie_word_embeddings=False,
        initializer_range=float(config.get("initializer_range", 0.1)),  # rich random features: LoRA learns the demo pattern in ~100 steps
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )
    cfg = Qwen2Config(**dims) if arch == "qwen2" else LlamaConfig(**dims)
    model = AutoModelForCausalLM.from_config(cfg)
    model.save_pretrained(out, safe_serialization=True)
    tok.save_pretrained(out)
    params = sum(p.numel() for p in model.parameters())
    with open(os.path.join(out, "fitlab-tiny.json"), "w") as f:
        json.dump({"arch": arch, "params": params, "note": "random weights, built locally by fitlab (make_tiny)"}, f)
    return {"out_dir": out, "params": params, "vocab_size": len(tok), "architecture": cfg.architectures[0] if cfg.architectures else arch}
