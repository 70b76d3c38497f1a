"""Job: fine-tune a causal LM (qlora | lora | full), top to bottom. Config: src/runs/train-config.ts.

Writes into config["output_dir"]: metrics.jsonl (one line per optimizer step and per evaluation),
checkpoint-<step>/ (PEFT adapter or model weights, optimizer state, trainer state; all safetensors/JSON),
result.json. With resume, it continues from the newest checkpoint and rewrites metrics.jsonl up to it,
so the metrics have no gap and no repeated step.
"""
import json
import math
import os
import resource
import time

from .. import ckpt
from ..data import build_examples, collate, epoch_order, read_jsonl, split
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
    torch.manual_seed(seed)
    device, dtype = device_and_dtype(config.get("device", "auto"), config.get("dtype", "auto"))

    # ---- data ------------------------------------------------------------------------------------
    tokenizer = load_tokenizer(config["model"])
    fmt, records = read_jsonl(config["dataset"]["train"])
    if config["dataset"].get("eval"):
        efmt, eval_records = read_jsonl(config["dataset"]["eval"])
        train_records = records
    else:
        train_records, eval_records = split(records, float(config["dataset"].get("eval_fraction", 0.1)), seed)
        efmt = fmt
    packing = bool(config.get("packing", False))
    train_ex = build_examples(tokenizer, fmt, train_records, max_len, packing)
    eval_ex = build_examples(tokenizer, efmt, eval_records, max_len, packing)
    if not train_ex:
        raise JobError("input", "no training example has a token to learn from after truncation: raise max_seq_len or check the completions")
    micro_per_epoch = math.ceil(len(train_ex) / batch_size)
    steps_per_epoch = max(1, micro_per_epoch // grad_accum)
    total_steps = int(config.get("max_steps") or steps_per_epoch * float(config.get("epochs", 1)))

    # ---- model -----------------------------------------------------------------------------------
    lora = {"rank": int(config.get("rank", 8)), "alpha": float(config.get("alpha", 16)), "dropout": float(config.get("dropout", 0.0)), "targets": config.get("target_modules", "all-linear")}
    model = load_model(config["model"], method, device, dtype, bool(config.get("gradient_checkpointing", False)), lora)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    trainable = sum(p.numel() for p in params)
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=float(config.get("weight_decay", 0.0)))

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
        candidates, skipped = ckpt.verified_checkpoints(out, total_steps, metrics_path)
        for name, why, kept_as in skipped:
            emit("log", message=f"skipped {name}: {why} (kept as {kept_as})")
        failed_load = False
        for last in candidates:
            try:
                ckpt.load_weights(last, model)
                state = ckpt.load_training_state(last, optimizer, scheduler)
            except Exception as e:  # noqa: BLE001 - a checkpoint that verified but does not load: fall back
                why = str(e).splitlines()[0][:200] if str(e) else ""
                emit("log", message=f"skipped {os.path.basename(last)}: it does not load ({type(e).__name__}: {why}) (kept as {ckpt.quarantine(last)})")
                failed_load = True
                continue
            step = state["step"]
            best_eval = state.get("best_eval")
            emit("log", message=f"resumed from {os.path.basename(last)}")
            break
        if step == 0 and failed_load:
            raise JobError("internal", "no checkpoint of this run could be loaded, and a failed load may have changed the model: start a new run")
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
        return eval_loss(model, eval_ex, batch_size, tokenizer.pad_token_id, device)

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
    tokens_seen = 0
    t_run = time.time()
    while step < total_steps:
        epoch = (step * grad_accum) // micro_per_epoch
        order = epoch_order(len(train_ex), seed, epoch)
        micro_start = (step * grad_accum) % micro_per_epoch
        t0 = time.time()
        optimizer.zero_grad(set_to_none=True)
        loss_sum, step_tokens = 0.0, 0
        for k in range(grad_accum):
            m = (micro_start + k) % micro_per_epoch
            batch = [train_ex[i] for i in order[m * batch_size : (m + 1) * batch_size]]
            ids, mask, labels = collate(batch, tokenizer.pad_token_id)
            ids, mask, labels = ids.to(device), mask.to(device), labels.to(device)
            try:
                out_ = model(input_ids=ids, attention_mask=mask, labels=labels)
                loss = out_.loss / grad_accum
                if not torch.isfinite(loss):
                    raise JobError("internal", f"loss became {loss.item()} at step {step + 1}: lower the learning rate")
                loss.backward()
            except RuntimeError as e:
                if method == "qlora" and device == "cpu":
                    import bitsandbytes

                    first = str(e).splitlines()[0] if str(e) else type(e).__name__
                    raise JobError("needs_gpu", f"QLoRA needs a GPU here: bitsandbytes {bitsandbytes.__version__} cannot train this 4-bit model on the CPU ({first})")
                raise
            loss_sum += loss.item()
            step_tokens += int(mask.sum())
        grad_norm = float(torch.nn.utils.clip_grad_norm_(params, float(config.get("max_grad_norm", 1.0))))
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
        }
        record(entry)
        emit("metric", **{k: v for k, v in entry.items() if k != "type"})
        if eval_ex and (step % eval_every == 0 or step == total_steps):
            e = evaluate()
            best_eval = e if best_eval is None else min(best_eval, e)
            record({"type": "eval", "step": step, "eval_loss": e})
            emit("eval", step=step, eval_loss=e)
        if step % ckpt_every == 0 or step == total_steps:
            path = ckpt.save(out, step, model, optimizer, scheduler, {"best_eval": best_eval, "total_steps": total_steps})
            emit("checkpoint", step=step, path=path)
        if stop_after is not None and step >= int(stop_after) and step < total_steps:
            metrics.close()
            return {"stopped_at": step, "total_steps": total_steps}
    metrics.close()

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
        "final_checkpoint": ckpt.latest(out),
        "seconds": time.time() - t_run,
    }
    with open(os.path.join(out, "result.json.tmp"), "w") as f:
        json.dump(result, f, indent=2)
    os.replace(os.path.join(out, "result.json.tmp"), os.path.join(out, "result.json"))
    return result
