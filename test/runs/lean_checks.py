"""Measurements for test/runs/lean.test.ts, on the CPU with tiny local models (fp32 unless named).
Prints one JSON object; the TypeScript test holds it against tolerances and against the planner.

  python lean_checks.py '{"qwen": DIR, "llama": DIR, "data": JSONL, "memory": [[tokens, hidden, vocab], ...]}'
"""
import json
import sys

import torch

from fitlab_worker import checkpointing, loss as lossmod, packing
from fitlab_worker.data import build_examples, read_jsonl
from fitlab_worker.memtrack import tracker
from fitlab_worker.model import load_model, load_tokenizer


def grads(model):
    return {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


def max_diff(a, b):
    assert a.keys() == b.keys(), (sorted(a)[:3], sorted(b)[:3])
    return max(float((a[k] - b[k]).abs().max()) for k in a)


def loss_and_grads(model, fn, batch):
    model.zero_grad(set_to_none=True)
    value = fn(batch)
    value.backward()
    return float(value), grads(model)


def equivalence(model_dir, data, method):
    """Chunked loss against the model's own (HF) loss: value and every gradient, padded and packed batches,
    chunks that do and do not divide the token count."""
    torch.manual_seed(0)
    tok = load_tokenizer(model_dir)
    fmt, records = read_jsonl(data)
    ex = build_examples(tok, fmt, records[:12], 48, False)
    lora = {"rank": 4, "alpha": 8, "dropout": 0.0, "targets": "all-linear"}
    model = load_model(model_dir, method, "cpu", torch.float32, False, lora)
    if method == "lora":  # give lora_B weights so every adapter gradient is non-trivial
        for n, p in model.named_parameters():
            if "lora_B" in n:
                torch.nn.init.normal_(p, std=0.05)
    model.train()
    out = {}
    batches = {"padded": packing.collate_padded(ex[:6], tok.pad_token_id)[0], "packed": packing.collate(packing.pack(ex, 64)[:3], tok.pad_token_id)[0]}
    for name, batch in batches.items():
        ref_loss, ref_grads = loss_and_grads(model, lossmod.make_loss(model, "standard", 0), batch)
        for chunk in (7, 4096):
            l, g = loss_and_grads(model, lossmod.make_loss(model, "chunked", chunk), batch)
            out[f"{name}/chunk{chunk}"] = {"loss": l, "ref_loss": ref_loss, "loss_diff": abs(l - ref_loss), "grad_diff": max_diff(g, ref_grads), "grads": len(g), "grad_scale": max(float(v.abs().max()) for v in ref_grads.values())}
    return out


def per_example_losses(model, batch, row_examples):
    """Mean token loss of each example of packed rows, from the model's logits."""
    # use_cache=False as in training: with a cache, transformers ignores the packed position ids (below)
    logits = model(**{k: v for k, v in batch.items() if k != "labels"}, use_cache=False).logits.float()
    targets = lossmod.shifted_labels(batch["labels"])
    token_loss = torch.nn.functional.cross_entropy(logits.transpose(1, 2), targets, ignore_index=-100, reduction="none")
    result = []
    for r, row in enumerate(row_examples):
        at = 0
        for ids, _ in row:
            n = len(ids)
            t = targets[r, at : at + n]
            keep = t != -100
            result.append(float(token_loss[r, at : at + n][keep].mean()))
            at += n
    return result


def alone_losses(model, examples):
    out = []
    for ids, labels in examples:
        batch, _ = packing.collate_padded([(ids, labels)], 0)
        logits = model(input_ids=batch["input_ids"]).logits.float()
        targets = lossmod.shifted_labels(batch["labels"])[0]
        keep = targets != -100
        out.append(float(torch.nn.functional.cross_entropy(logits[0][keep], targets[keep])))
    return out


def packed_vs_alone(model_dir, data, attn):
    """Each example's loss inside packed rows against the same example run alone; and the same rows with
    positions running on across examples (what packing without boundaries does), which must differ."""
    torch.manual_seed(0)
    tok = load_tokenizer(model_dir)
    fmt, records = read_jsonl(data)
    ex = build_examples(tok, fmt, records[:16], 64, False)
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation=attn).eval()
    rows = packing.pack(ex, 64)
    with torch.no_grad():
        batch, _ = packing.collate(rows, tok.pad_token_id)
        packed = per_example_losses(model, batch, rows)
        order = [e for row in rows for e in row]
        alone = alone_losses(model, order)
        leaky = dict(batch)
        leaky["position_ids"] = torch.arange(batch["input_ids"].size(1)).expand_as(batch["input_ids"])
        contaminated = per_example_losses(model, leaky, rows)
    multi = sum(1 for r in rows if len(r) > 1)
    return {
        "examples": len(order),
        "rows": len(rows),
        "rows_with_several_examples": multi,
        "max_diff": max(abs(a - b) for a, b in zip(packed, alone)),
        "contaminated_max_diff": max(abs(a - b) for a, b in zip(contaminated, alone)),
    }


def loss_step_memory(tokens, hidden, vocab, chunk, dtype):
    """Peak live bytes of the chunked loss step (gather the labelled hidden states, lm_head + CE by chunk,
    backward to the hidden states) above what existed before it."""
    torch.manual_seed(0)
    dt = getattr(torch, dtype)
    head = torch.nn.Linear(hidden, vocab, bias=False).to(dt).requires_grad_(False)
    states = torch.randn(1, tokens, hidden, dtype=dt, requires_grad=True)
    labels = torch.randint(0, vocab, (1, tokens))
    m = tracker()
    with m:
        targets = lossmod.shifted_labels(labels).reshape(-1)
        keep = (targets != -100).nonzero().squeeze(-1)
        h = states.reshape(-1, hidden).index_select(0, keep)
        lossmod.chunked_cross_entropy(h, targets.index_select(0, keep), head, chunk).backward()
    return m.peak


def offload_bytes(model_dir, data, tokens_per_row, rows):
    """Bytes the offloaded checkpointing moves per step, and that loss and gradients are those of no checkpointing."""
    torch.manual_seed(0)
    from transformers import AutoModelForCausalLM

    results = {}
    ids = torch.randint(8, 20, (rows, tokens_per_row))
    batch = {"input_ids": ids, "labels": ids.clone()}
    for mode in ("none", "full", "offload"):
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        model.train()
        stats = checkpointing.enable(model, mode)
        fn = lossmod.make_loss(model, "chunked", 64)
        value, g = loss_and_grads(model, fn, batch)
        results[mode] = {"loss": value, "grads": g, "offloaded_bytes": stats.bytes if stats else None, "offloaded_tensors": stats.tensors if stats else None}
    ref = results["none"]
    return {
        mode: {"loss_diff": abs(r["loss"] - ref["loss"]), "grad_diff": max_diff(r["grads"], ref["grads"]), "offloaded_bytes": r["offloaded_bytes"], "offloaded_tensors": r["offloaded_tensors"]}
        for mode, r in results.items()
    }


def choices():
    """The automatic choices for machines this one is not: fact sets as loss.probe_machine() reports them."""
    from fitlab_worker import kernels
    from fitlab_worker.protocol import JobError

    cpu = {"cuda": False, "capability": None, "triton": "3.5.1", "liger": "0.8.5"}
    sm120 = {"cuda": True, "capability": [12, 0], "triton": "3.5.1", "liger": "0.8.5"}
    turing = {"cuda": True, "capability": [7, 5], "triton": "3.5.1", "liger": "0.8.5"}
    out = {
        "cpu": lossmod.choose("auto", cpu, "float32", True, True),
        "blackwell_sm120": lossmod.choose("auto", sm120, "bfloat16", True, True),
        "turing_bf16": lossmod.choose("auto", turing, "bfloat16", True, True),
        "no_liger": lossmod.choose("auto", {**sm120, "liger": None}, "bfloat16", True, True),
        "adapter_on_head": lossmod.choose("auto", sm120, "bfloat16", True, False),
        "other_arch": lossmod.choose("auto", sm120, "bfloat16", False, True),
        "kernels_cpu": kernels.choose("auto", cpu, "float32", "qwen2"),
        "kernels_blackwell": kernels.choose("auto", sm120, "bfloat16", "qwen2"),
    }
    try:
        lossmod.choose("fused", cpu, "float32", True, True)
        out["fused_on_cpu"] = "chosen"
    except JobError as e:
        out["fused_on_cpu"] = f"{e.kind}: {e.message}"
    return out


def optimizer_resume():
    """Each optimizer's state through a checkpoint (ckpt.py, safetensors): the step after reloading equals the
    step of the optimizer that never stopped; and which dtype holds the moments of a 64 x 128 matrix."""
    import os
    import tempfile

    from fitlab_worker import ckpt, optim

    out = {}
    for name in optim.NAMES:
        torch.manual_seed(0)
        params = [torch.nn.Parameter(torch.randn(64, 128)), torch.nn.Parameter(torch.randn(16))]
        opt, _ = optim.build(name, params, 1e-2, 0.0, "cpu")
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
        for _ in range(2):
            for p in params:
                p.grad = torch.randn_like(p)
            opt.step()
        folder = tempfile.mkdtemp()
        model = torch.nn.Module()
        model.save_pretrained = lambda d, **k: None
        path = ckpt.save(folder, 2, model, opt, sched, {})
        start = [p.detach().clone() for p in params]
        grads = [torch.randn_like(p) for p in params]
        for p, g in zip(params, grads):
            p.grad = g
        opt.step()
        kept = [p.detach().clone() for p in params]
        for p, x in zip(params, start):
            p.data.copy_(x)
        fresh, _ = optim.build(name, params, 1e-2, 0.0, "cpu")
        ckpt.load_training_state(path, fresh, torch.optim.lr_scheduler.LambdaLR(fresh, lambda s: 1.0))
        for p, g in zip(params, grads):
            p.grad = g
        fresh.step()
        dtypes = sorted({str(v.dtype) for v in fresh.state[params[0]].values() if torch.is_tensor(v) and v.numel() > 1000} | {str(v.dtype) for st in fresh.state[params[0]].values() if isinstance(st, dict) for v in st.values() if torch.is_tensor(v) and v.numel() > 1000})
        out[name] = {"identical": all(torch.equal(a, p.detach()) for a, p in zip(kept, params)), "moment_dtypes": dtypes, "files": sorted(os.listdir(path))}
    return out


def main():
    cfg = json.loads(sys.argv[1])
    out = {
        "equivalence": {
            "full": equivalence(cfg["qwen"], cfg["data"], "full"),
            "lora": equivalence(cfg["llama"], cfg["data"], "lora"),
        },
        "packing": {attn: packed_vs_alone(cfg["qwen"], cfg["data"], attn) for attn in ("sdpa", "eager")},
        "memory": [
            {"tokens": t, "hidden": h, "vocab": v, "chunk": c, "dtype": d, "peak_bytes": loss_step_memory(t, h, v, c, d)}
            for t, h, v, c, d in cfg["memory"]
        ],
        "offload": offload_bytes(cfg["qwen"], cfg["data"], 24, 1),
        "choices": choices(),
        "optimizer_resume": optimizer_resume(),
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
