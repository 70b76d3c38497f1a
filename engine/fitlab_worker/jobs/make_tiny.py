"""Job: build a tiny model of a real architecture (Qwen2 or Llama layout) with random weights and a
word-level tokenizer with a chat template, saved as safetensors. No download: everything is local.

Tests of the inspection jobs plant known structure (config "plant", Qwen2 layout) so that a wrong
implementation fails:
  prev_token_head {layer, head, strength}: the head attends to the previous token. Its query and key are
      constant (weights zero, biases u and w), so after RoPE the score is u^T R((j-i) theta) w (Su et al. 2021);
      w = R(theta) u puts the maximum at j = i - 1 for every frequency used.
  copy {from_dim, to_dim}: that head's value reads residual dim from_dim and its output writes to_dim, so the
      previous token's from_dim is linearly readable from the planted layer on.
  silence_before: attention outputs of the layers before it are zero (a token sees only itself there);
      with silence_mlp, their MLP outputs too (those layers pass the embeddings through unchanged).
  word_sign {dim, positive, value}: embedding dim set to +value for the listed words, -value for the others.
  massive {word, dim, value}: one word's embedding carries a huge value in one dim (Sun et al. 2024).
Config "adapter" {out_dir, layers, targets, rank, alpha, seed} also writes a PEFT LoRA adapter whose update
is non-zero only in the listed layers."""
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
    if config.get("plant"):
        plant(model, tok, config["plant"])
    model.save_pretrained(out, safe_serialization=True)
    tok.save_pretrained(out)
    params = sum(p.numel() for p in model.parameters())
    with open(os.path.join(out, "fitlab-tiny.json"), "w") as f:
        json.dump({"arch": arch, "params": params, "note": "random weights, built locally by fitlab (make_tiny)", "plant": config.get("plant")}, f)
    result = {"out_dir": out, "params": params, "vocab_size": len(tok), "architecture": cfg.architectures[0] if cfg.architectures else arch}
    if config.get("adapter"):
        result["adapter_dir"] = make_adapter(model, out, config["adapter"])
    return result


def plant(model, tok, spec):
    import torch

    layers = model.model.layers
    cfg = model.config
    H, Hkv = cfg.num_attention_heads, cfg.num_key_value_heads
    D = cfg.hidden_size // H
    with torch.no_grad():
        for l in range(int(spec.get("silence_before", 0))):
            layers[l].self_attn.o_proj.weight.zero_()
            if spec.get("silence_mlp", False):
                layers[l].mlp.down_proj.weight.zero_()
        if "word_sign" in spec:
            ws = spec["word_sign"]
            emb = model.model.embed_tokens.weight
            positive = {tok.convert_tokens_to_ids(w) for w in ws["positive"]}
            for i in range(emb.shape[0]):
                emb[i, ws["dim"]] = ws.get("value", 1.0) if i in positive else -ws.get("value", 1.0)
        if "massive" in spec:
            m = spec["massive"]
            model.model.embed_tokens.weight[tok.convert_tokens_to_ids(m["word"]), m["dim"]] = m["value"]
        if "prev_token_head" in spec:
            p = spec["prev_token_head"]
            attn = layers[p["layer"]].self_attn
            h = p["head"]
            g = h // (H // Hkv)
            if attn.q_proj.bias is None:
                raise ValueError("prev_token_head needs q/k biases: use the qwen2 layout")
            # RoPE frequencies of this model (the rotary embedding's inv_freq), the highest few pairs
            inv_freq = model.model.rotary_emb.inv_freq.float()
            u = torch.zeros(D)
            w = torch.zeros(D)
            for f in range(int(p.get("frequencies", 4))):
                theta = float(inv_freq[f])
                # pair (f, f + D/2) as rotate_half pairs them; w = R(theta) u with u = (1, 0)
                u[f] = 1.0
                w[f], w[f + D // 2] = torch.cos(torch.tensor(theta)), torch.sin(torch.tensor(theta))
            s = float(p.get("strength", 8.0))
            attn.q_proj.weight[h * D : (h + 1) * D].zero_()
            attn.q_proj.bias[h * D : (h + 1) * D] = s * u
            attn.k_proj.weight[g * D : (g + 1) * D].zero_()
            attn.k_proj.bias[g * D : (g + 1) * D] = s * w
            # only this head writes to the residual stream in this layer
            keep = attn.o_proj.weight[:, h * D : (h + 1) * D].clone()
            attn.o_proj.weight.zero_()
            attn.o_proj.weight[:, h * D : (h + 1) * D] = keep
            if "copy" in spec:
                c = spec["copy"]
                attn.v_proj.weight[g * D : (g + 1) * D].zero_()
                attn.v_proj.weight[g * D, c["from_dim"]] = 1.0
                attn.o_proj.weight[:, h * D : (h + 1) * D].zero_()
                attn.o_proj.weight[c["to_dim"], h * D] = float(c.get("gain", 1.0))


def make_adapter(model, model_dir, spec):
    """A LoRA adapter (PEFT layout, safetensors) with random A and B on the listed layers only."""
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(int(spec.get("seed", 1)))
    cfg = LoraConfig(r=int(spec.get("rank", 4)), lora_alpha=float(spec.get("alpha", 8)), target_modules=list(spec.get("targets", ["q_proj"])), layers_to_transform=list(spec["layers"]), task_type="CAUSAL_LM")
    peft_model = get_peft_model(model, cfg)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, float(spec.get("scale", 0.5)))
    peft_model.save_pretrained(spec["out_dir"], safe_serialization=True)
    with open(os.path.join(spec["out_dir"], "adapter_config.json")) as f:
        c = json.load(f)
    c["base_model_name_or_path"] = model_dir
    with open(os.path.join(spec["out_dir"], "adapter_config.json"), "w") as f:
        json.dump(c, f, indent=2)
    return spec["out_dir"]
