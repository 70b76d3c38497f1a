"""Measurements for test/memory/saved-activations.test.ts: the bytes autograd keeps per token for one decoder
layer of a tiny Llama, as the real stack builds it (transformers + PEFT + bitsandbytes, on the CPU).

Every tensor autograd saves in the forward pass is seen by a saved_tensors_hooks pack hook; storages are
counted once, parameters not at all. The per-layer figure is the difference between a 4-layer and a 2-layer
model of the same shape, halved, so embeddings, the final norm and the loss fall out.

  python saved_checks.py '{"cases": {NAME: {"kind": "lora"|"qlora"|"full", "dtype": "bf16"|"fp32",
                                            "targets": [...], "prepare": bool}}, "shape": {...},
                            "peaks": {NAME: {...the same, "checkpointing": "reentrant"|"non-reentrant"}}, "peak_shape": {...}}'
Prints {"per_layer": {NAME: bytes per token per layer}, "peak": {NAME: bytes}}: for "peaks", the most bytes alive
at once during one training step (forward and backward, gradient checkpointing on every layer) above what was
alive before it (weights, adapters), counted op by op by fitlab's dispatch-mode tracker (memtrack.py).
"""
import json
import sys
import tempfile
import warnings

import torch

warnings.filterwarnings("ignore")


def build(shape, layers, case):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    dtype = {"bf16": torch.bfloat16, "fp32": torch.float32}[case["dtype"]]
    cfg = LlamaConfig(
        hidden_size=shape["hidden"], num_hidden_layers=layers, intermediate_size=shape["intermediate"],
        num_attention_heads=shape["heads"], num_key_value_heads=shape["kv_heads"], vocab_size=shape["vocab"],
        max_position_embeddings=4096, attn_implementation="sdpa", use_cache=False,
    )
    if case["kind"] == "qlora":
        from transformers import BitsAndBytesConfig

        folder = tempfile.mkdtemp()
        LlamaForCausalLM(cfg).to(dtype).save_pretrained(folder)  # safetensors
        quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16)
        model = LlamaForCausalLM.from_pretrained(folder, quantization_config=quant, dtype=dtype, device_map="cpu")
        if case.get("prepare"):
            from peft import prepare_model_for_kbit_training

            model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    else:
        model = LlamaForCausalLM(cfg).to(dtype)
    if case["kind"] in ("lora", "qlora"):
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(r=shape["rank"], lora_alpha=2 * shape["rank"], lora_dropout=0.0, target_modules=case["targets"]))
    model.train()
    return model


def saved_bytes(shape, layers, case):
    model = build(shape, layers, case)
    ids = torch.randint(0, shape["vocab"], (shape["batch"], shape["seq"]))
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(input_ids=ids, labels=ids)
    return sum(seen.values())


def step_peak(shape, case):
    from fitlab_worker.memtrack import tracker

    model = build(shape, shape["layers"], case)
    inner = model.base_model.model if case["kind"] != "full" else model
    reentrant = case["checkpointing"] == "reentrant"
    inner.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": reentrant})
    if reentrant:
        inner.enable_input_require_grads()
    model.train()
    ids = torch.randint(0, shape["vocab"], (shape["batch"], shape["seq"]))
    t = tracker()
    with t:
        before = t.live
        model(input_ids=ids, labels=ids).loss.backward()
    return t.peak - before


def main():
    spec = json.loads(sys.argv[1])
    shape = spec["shape"]
    tokens = shape["batch"] * shape["seq"]
    out = {"per_layer": {}, "peak": {}}
    for name, case in spec.get("cases", {}).items():
        out["per_layer"][name] = (saved_bytes(shape, 4, case) - saved_bytes(shape, 2, case)) / 2 / tokens
    for name, case in spec.get("peaks", {}).items():
        out["peak"][name] = step_peak(spec["peak_shape"], case)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
