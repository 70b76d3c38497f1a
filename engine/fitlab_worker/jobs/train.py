"""Job: fine-tune a causal LM (qlora | lora | full), top to bottom. Config: src/runs/train-config.ts.

Writes into config["output_dir"]: metrics.jsonl (one line per optimizer step and per evaluation),
checkpoint-<step>/ (PEFT adapter or model weights, optimizer state, trainer state; all safetensors/JSON),
result.json. With resume, it continues from the newest checkpoint and rewrites metrics.jsonl up to it,
so the metrics have no gap and no repeated step.

The lean options (each in its own module, each recorded in result.json under "runtime"):
loss (loss.py: auto | standard | chunked | fused), gradient_checkpointing (checkpointing.py: none | full |
offload), packing (packing.py: whole examples per row, attention kept inside each), optimizer (optim.py:
adamw | adamw-fused | adamw8bit | paged-adamw8bit), kernels (kernels.py: auto | none | liger) and compile.
"""
import json
import math
import os
import resource
import time

from .. import checkpointing, ckpt, distributed, faults, hub, kernels, loss as lossmod, optim, packing, telemetry
from ..data import build_examples, epoch_order
from ..datasets_hub import load_train_eval
from ..model import device_and_dtype, load_model, load_tokenizer
from ..protocol import JobError
from ..scoring import eval_loss


def run(config, emit):
    import torch

    # ---- configuration -------------------------------------------------------------------------
    out = config["output_dir"]
    os.makedirs(out, exist_ok=True)
    seed = int(config.get("seed", 0))
    method = config.get("method", "lora")
    max_len = int(config.get("max_seq_len", 512))
    batch_size = int(config.get("batch_size", 4))
    grad_accum = int(config.get("grad_accum", 1))
    lr = float(config.get("learning_rate", 2e-4))
    schedule = config.get("schedule", "linear")
    warmup = int(config.get("warmup_steps", 0))
    eval_every = int(config.get("eval_every", 50))
    ckpt_every = int(config.get("checkpoint_every", 50))
    stop_after = config.get("stop_after_steps")  # tests: stop early without finishing (simulates a crash point)
    loss_req = config.get("loss", "auto")
    chunk_tokens = int(config.get("loss_chunk_tokens", 256))
    gc = config.get("gradient_checkpointing", "none")
    gc_mode = {True: "full", False: "none", None: "none"}.get(gc, gc) if not isinstance(gc, str) else gc
    if gc_mode not in ("none", "full", "offload"):
        raise JobError("input", f"gradient_checkpointing must be none, full or offload, got {gc!r}")
    optimizer_name = config.get("optimizer", "adamw")
    kernels_req = config.get("kernels", "auto")
    use_compile = bool(config.get("compile", False))
    torch.manual_seed(seed)
    device, dtype = device_and_dtype(config.get("device", "auto"), config.get("dtype", "auto"))
    sharding = config.get("sharding", "ddp")
    dp = distributed.setup(device, sharding)  # one process, or one of torchrun's (rank 0 owns the run folder)
    run_dir = out
    out = dp.output_dir(out)
    ckpt_dir = run_dir if dp.shards else out  # FSDP: one checkpoint of all the shards, written by rank 0
    if dp.shards:
        if method == "qlora":
            raise JobError("input", "FSDP in the worker shards full and LoRA fine-tunes; 4-bit QLoRA weights are not sharded: use sharding ddp for QLoRA")
        if optimizer_name not in ("adamw", "adamw-fused"):
            raise JobError("input", f"optimizer {optimizer_name} keeps bitsandbytes state that FSDP cannot shard: use adamw or adamw-fused with sharding fsdp")
        if use_compile:
            raise JobError("input", "compile is not supported with sharding fsdp in the worker")
    os.makedirs(out, exist_ok=True)

    # ---- data ------------------------------------------------------------------------------------
    model_source = hub.materialize(config["model"], emit, config.get("model_revision"), out)  # hub ids -> a local snapshot
    config = {**config, "model": model_source["path"]}
    tokenizer = load_tokenizer(config["model"])
    fmt, train_records, efmt, eval_records, data_source = load_train_eval(config["dataset"], tokenizer, emit, seed, out)
    packing_on = bool(config.get("packing", False))
    # examples are whole and truncated to max_seq_len; packing places them into rows (never cut, never mixed)
    train_ex = build_examples(tokenizer, fmt, train_records, max_len, False)
    eval_ex = build_examples(tokenizer, efmt, eval_records, max_len, False)
    if not train_ex:
        raise JobError("input", "no training example has a token to learn from after truncation: raise max_seq_len or check the completions")
    if packing_on:
        train_ex = packing.pack(train_ex, max_len)
        collate_batch = packing.collate
    else:
        collate_batch = packing.collate_padded
    global_batch = batch_size * dp.size  # batch_size is each process's micro-batch (the planner's batch per GPU)
    micro_per_epoch = math.ceil(len(train_ex) / global_batch)
    steps_per_epoch = max(1, micro_per_epoch // grad_accum)
    total_steps = int(config.get("max_steps") or steps_per_epoch * float(config.get("epochs", 1)))

    # ---- model -----------------------------------------------------------------------------------
    lora = {"rank": int(config.get("rank", 8)), "alpha": float(config.get("alpha", 16)), "dropout": float(config.get("dropout", 0.0)), "targets": config.get("target_modules", "all-linear")}
    # FSDP: loaded in host memory and sharded onto the device by wrap(); a full fine-tune keeps fp32 shards
    # (mixed precision: compute in the 16-bit dtype, distributed.FullyShard)
    load_dtype = torch.float32 if dp.shards and method == "full" else dtype
    model = load_model(config["model"], method, "cpu" if dp.shards else device, load_dtype, False, lora)
    facts = lossmod.probe_machine()
    dtype_name = str(dtype).replace("torch.", "")
    kernels_used, kernels_reason = kernels.choose(kernels_req, facts, dtype_name, model.config.model_type)
    if kernels_used == "liger":
        kernels.apply_liger(model)
    offload = checkpointing.enable(model, gc_mode)
    if use_compile:
        kernels.compile_layers(model)
    model = dp.wrap(model, dtype)
    loss_impl, loss_reason = lossmod.choose(loss_req, facts, dtype_name, lossmod.supports_head_loss(model), lossmod.lm_head_is_plain(model))
    loss_of = lossmod.make_loss(model, loss_impl, chunk_tokens)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    trainable = sum(p.numel() for p in params)
    optimizer, optimizer_note = optim.build(optimizer_name, params, lr, float(config.get("weight_decay", 0.0)), device)
    runtime = {
        "loss": loss_impl, "loss_reason": loss_reason, "loss_chunk_tokens": chunk_tokens if loss_impl == "chunked" else None,
        "gradient_checkpointing": gc_mode, "packing": packing_on, "optimizer": optimizer_name, "optimizer_note": optimizer_note,
        "kernels": kernels_used, "kernels_reason": kernels_reason, "compile": use_compile,
        "processes": dp.size, "sharding": (sharding if dp.size > 1 else None), "global_micro_batch": global_batch,
        "packed_rows": len(train_ex) if packing_on else None, "packing_fill": round(packing.fill(train_ex, max_len), 4) if packing_on else None,
        "machine": facts,
    }
    emit("log", message=f"loss {loss_impl} ({loss_reason}); checkpointing {gc_mode}; optimizer {optimizer_name}; kernels {kernels_used}{'; compiled layers' if use_compile else ''}{'; packed ' + str(len(train_ex)) + ' rows' if packing_on else ''}")

    def lr_factor(step):
        if warmup and step < warmup:
            return (step + 1) / warmup
        if schedule == "constant":
            return 1.0
        progress = (step - warmup) / max(1, total_steps - warmup)
        if schedule == "cosine":
            return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
        return max(0.0, 1.0 - progress)

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)

    # ---- resume ----------------------------------------------------------------------------------
    # one worker per run folder; leftovers of a killed save removed; only a checkpoint that verifies is
    # used (ckpt.verify), the ones that do not are set aside and named
    step = 0
    best_eval = None
    metrics_path = os.path.join(out, "metrics.jsonl")
    ckpt.lock_run_dir(out)
    for note in ckpt.clean_leftovers(out):
        emit("log", message=note)
    if config.get("resume", True):
        state = dp.resume(ckpt_dir, total_steps, os.path.join(ckpt_dir, "metrics.jsonl"), model, optimizer, scheduler, emit)
        if state:
            step = state["step"]
            best_eval = state.get("best_eval")
    # keep only the metrics up to the resumed step: no duplicates, no gap (nothing when starting over)
    kept = []
    if os.path.exists(metrics_path) and step > 0:
        with open(metrics_path) as f:
            for line in f:
                try:
                    m = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut by a kill
                if m.get("step", 0) <= step:
                    kept.append(json.dumps(m))
    with open(metrics_path + ".tmp", "w") as f:
        f.write("".join(k + "\n" for k in kept))
    os.replace(metrics_path + ".tmp", metrics_path)
    metrics = open(metrics_path, "a", buffering=1)

    def evaluate():
        dp.unshard()  # FSDP: the root unit (embeddings, norm, lm_head) gathered; a no-op otherwise
        e = eval_loss(model, eval_ex, batch_size, tokenizer.pad_token_id, device)
        dp.reshard()
        return e

    def record(entry):
        metrics.write(json.dumps(entry) + "\n")
        metrics.flush()

    emit("progress", job="train", step=step, total=total_steps, message=f"{method}: {trainable:,} trainable parameters, {len(train_ex)} training / {len(eval_ex)} eval examples, {total_steps} steps on {device}")
    if step == 0 and eval_ex:
        e = evaluate()
        best_eval = e
        record({"type": "eval", "step": 0, "eval_loss": e})
        emit("eval", step=0, eval_loss=e)

    # ---- training loop -----------------------------------------------------------------------------
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    tel = faults.state["telemetry"] = telemetry.start(device)  # NVML per step; empty off the GPU
    tokens_seen = 0
    t_run = time.time()
    while step < total_steps:
        epoch = (step * grad_accum) // micro_per_epoch
        order = epoch_order(len(train_ex), seed, epoch)
        micro_start = (step * grad_accum) % micro_per_epoch
        t0 = time.time()
        optimizer.zero_grad(set_to_none=True)
        loss_sum, step_tokens = 0.0, 0
        if offload:
            offload.reset()
        for k in range(grad_accum):
            faults.at_step(config, step + 1)  # where an OOM happens; tests inject one here
            m = (micro_start + k) % micro_per_epoch
            batch, real_tokens = collate_batch(dp.shard([train_ex[i] for i in order[m * global_batch : (m + 1) * global_batch]]), tokenizer.pad_token_id)
            batch = {key: t.to(device) for key, t in batch.items()}
            try:
                dp.unshard()
                loss, reported = dp.scale(loss_of(batch), batch["labels"])  # this process's share of the global mean
                loss = loss / grad_accum
                if not torch.isfinite(loss):
                    raise JobError("internal", f"loss became {loss.item()} at step {step + 1}: lower the learning rate")
                loss.backward()
            except RuntimeError as e:
                if method == "qlora" and device == "cpu":
                    import bitsandbytes

                    first = str(e).splitlines()[0] if str(e) else type(e).__name__
                    raise JobError("needs_gpu", f"QLoRA needs a GPU here: bitsandbytes {bitsandbytes.__version__} cannot train this 4-bit model on the CPU ({first})")
                raise
            loss_sum += reported.item() / grad_accum
            step_tokens += real_tokens
        dp.sync_grads(params)
        step_tokens = dp.sum(step_tokens)
        grad_norm = dp.clip(params, float(config.get("max_grad_norm", 1.0)))
        current_lr = scheduler.get_last_lr()[0]
        optimizer.step()
        scheduler.step()
        step += 1
        dt = time.time() - t0
        tokens_seen += step_tokens
        entry = {
            "type": "train",
            "step": step,
            "loss": loss_sum,
            "lr": current_lr,
            "grad_norm": grad_norm,
            "tokens": step_tokens,
            "tokens_per_s": step_tokens / max(dt, 1e-9),
            "peak_allocated_bytes": torch.cuda.max_memory_allocated() if device == "cuda" else None,
            "peak_reserved_bytes": torch.cuda.max_memory_reserved() if device == "cuda" else None,
            "cpu_rss_peak_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "offloaded_bytes": offload.bytes if offload else None,
            **tel.step(),
        }
        record(entry)
        emit("metric", **{k: v for k, v in entry.items() if k != "type"})
        if eval_ex and (step % eval_every == 0 or step == total_steps):
            e = evaluate()
            best_eval = e if best_eval is None else min(best_eval, e)
            record({"type": "eval", "step": step, "eval_loss": e})
            emit("eval", step=step, eval_loss=e)
        if step % ckpt_every == 0 or step == total_steps:
            path = dp.save(ckpt_dir, step, model, optimizer, scheduler, {"best_eval": best_eval, "total_steps": total_steps})
            emit("checkpoint", step=step, path=path)
        if stop_after is not None and step >= int(stop_after) and step < total_steps:
            metrics.close()
            return {"stopped_at": step, "total_steps": total_steps}
    metrics.close()
    tel.stop()
    dp.close()

    # ---- result ------------------------------------------------------------------------------------
    evals = []
    trains = []
    with open(metrics_path) as f:
        for line in f:
            m = json.loads(line)
            (evals if m["type"] == "eval" else trains).append(m)
    result = {
        "steps": step,
        "total_steps": total_steps,
        "trainable_params": trainable,
        "device": device,
        "dtype": str(dtype).replace("torch.", ""),
        "final_eval_loss": evals[-1]["eval_loss"] if evals else None,
        "initial_eval_loss": evals[0]["eval_loss"] if evals else None,
        "best_eval_loss": min(e["eval_loss"] for e in evals) if evals else None,
        "final_train_loss": trains[-1]["loss"] if trains else None,
        "mean_tokens_per_s": (sum(t["tokens"] for t in trains) / sum(t["tokens"] / t["tokens_per_s"] for t in trains)) if trains else None,
        "peak_allocated_bytes": max((t["peak_allocated_bytes"] or 0) for t in trains) if trains and device == "cuda" else None,
        "peak_reserved_bytes": max((t["peak_reserved_bytes"] or 0) for t in trains) if trains and device == "cuda" else None,
        "cpu_rss_peak_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "device_peak_bytes": tel.run_peak_bytes(),
        "gpu_name": torch.cuda.get_device_name() if device == "cuda" else None,
        "final_checkpoint": ckpt.latest(out),
        "model_source": {k: v for k, v in model_source.items() if k != "path"},
        "data_source": data_source,
        "seconds": time.time() - t_run,
        "runtime": runtime,
        "sharded_state_bytes": dp.state_bytes(params, optimizer) if dp.shards else None,
    }
    with open(os.path.join(out, "result.json.tmp"), "w") as f:
        json.dump(result, f, indent=2)
    os.replace(os.path.join(out, "result.json.tmp"), os.path.join(out, "result.json"))
    return result
