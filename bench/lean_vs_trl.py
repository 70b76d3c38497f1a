"""GPU bench: the same QLoRA (Qwen2.5-7B architecture with random weights, NF4 + double quantization, LoRA rank 16
on all linear layers, batch 1, one example of exactly `seq` tokens per step) through fitlab's worker and through
TRL's SFTTrainer + PEFT, at 2,048 and 8,192 tokens: tokens/s, peak allocated and reserved memory, and the
planner's prediction for each (bench/lean-predictions.json). Each run is a fresh Python process, so one run's
cached allocator blocks never count in the next.

On a GPU machine, from the repository root (worker stack installed, engine/requirements.txt):
  node bench/lean-predictions.mjs "GeForce RTX 5060 Ti 16GB" > bench/lean-predictions.json   # with Node, for that GPU
  python bench/lean_vs_trl.py bench/lean-predictions.json OUT_DIR [--steps 8] [--only worker-2048,trl-2048]
Prints a table and writes OUT_DIR/lean-vs-trl.json. The issue's goals, checked in the printout: at 2,048 tokens the
worker >= 1.5x TRL's tokens/s at <= 0.6x its peak reserved; at 8,192 the worker within 15.5 GiB; every measured
peak within +-10% of the planner.
  python bench/lean_vs_trl.py --smoke OUT_DIR      # CPU: a tiny Llama-layout model through both runners (CI)
"""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "engine"))
GIB = 2**30


def emit(*_a, **_k):
    pass


def dataset(path, vocab, seq, rows):
    """Random word-level text of seq - 1 words: both runners append EOS, so every example is exactly seq tokens."""
    import random

    rng = random.Random(0)
    with open(path, "w") as f:
        for _ in range(rows):
            f.write(json.dumps({"text": " ".join(f"w{rng.randrange(vocab - 8)}" for _ in range(seq - 1))}) + "\n")


def run_worker(case, model_dir, data, out, device, steps):
    from fitlab_worker.jobs import train

    cfg = {
        "model": model_dir, "method": case.get("method", "qlora"), "rank": case["rank"], "alpha": 2 * case["rank"], "target_modules": "all-linear",
        "learning_rate": 1e-4, "batch_size": case["batch"], "grad_accum": 1, "max_seq_len": case["seq"], "packing": False,
        "gradient_checkpointing": case["gradCkpt"], "loss": case["loss"], "kernels": case["kernels"], "optimizer": case["optimizer"],
        "max_steps": steps, "eval_every": 10**6, "checkpoint_every": 10**6, "seed": 0,
        "dataset": {"train": data, "eval": data}, "output_dir": out, "device": device, "resume": False,
    }
    r = train.run(cfg, emit)
    trains = [json.loads(l) for l in open(os.path.join(out, "metrics.jsonl")) if '"train"' in l]
    timed = trains[2:] or trains  # the first steps warm kernels and the allocator up
    tps = sum(t["tokens"] for t in timed) / sum(t["tokens"] / t["tokens_per_s"] for t in timed)
    return {"tokens_per_s": tps, "peak_allocated_bytes": r["peak_allocated_bytes"], "peak_reserved_bytes": r["peak_reserved_bytes"], "final_train_loss": r["final_train_loss"], "runtime": {k: v for k, v in r["runtime"].items() if k != "machine"}}


def run_trl(case, model_dir, data, out, device, steps):
    import torch
    from datasets import load_dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    cuda = device == "cuda"
    dtype = torch.bfloat16 if cuda else torch.float32
    quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=dtype)
    kwargs = {"dtype": dtype, "use_safetensors": True}
    if case.get("method", "qlora") == "qlora":
        kwargs.update(quantization_config=quant, device_map={"": device})
    model = AutoModelForCausalLM.from_pretrained(model_dir, **kwargs)
    tok = AutoTokenizer.from_pretrained(model_dir)
    ds = load_dataset("json", data_files=data, split="train")
    stamps, tokens = [], []

    class Clock(TrainerCallback):
        def on_train_begin(self, *a, **k):
            if cuda:
                torch.cuda.reset_peak_memory_stats()

        def on_step_begin(self, *a, **k):
            if cuda:
                torch.cuda.synchronize()
            stamps.append(time.time())

        def on_step_end(self, *a, **k):
            if cuda:
                torch.cuda.synchronize()
            stamps.append(time.time())

    args = SFTConfig(
        output_dir=out, max_steps=steps, per_device_train_batch_size=case["batch"], gradient_accumulation_steps=1, learning_rate=1e-4,
        gradient_checkpointing=case["gradCkpt"] != "none", bf16=cuda, use_cpu=not cuda, max_length=case["seq"], packing=False,
        dataset_text_field="text", logging_steps=1, save_strategy="no", report_to=[], optim="adamw_torch", seed=0, dataloader_num_workers=0,
    )
    peft = LoraConfig(r=case["rank"], lora_alpha=2 * case["rank"], lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM")
    trainer = SFTTrainer(model=model, args=args, train_dataset=ds, processing_class=tok, peft_config=peft, callbacks=[Clock()])
    result = trainer.train()
    steps_s = [stamps[i + 1] - stamps[i] for i in range(0, len(stamps) - 1, 2)]
    timed = steps_s[2:] or steps_s
    per_step = case["batch"] * case["seq"]
    return {
        "tokens_per_s": per_step * len(timed) / sum(timed),
        "peak_allocated_bytes": torch.cuda.max_memory_allocated() if cuda else None,
        "peak_reserved_bytes": torch.cuda.max_memory_reserved() if cuda else None,
        "final_train_loss": result.training_loss,
        "runtime": {"trl": __import__("trl").__version__, "gradient_checkpointing": args.gradient_checkpointing},
    }


def one(spec):
    """Child process: one runner on one case; prints its measurements as JSON on the last line."""
    c = spec["case"]
    fn = run_trl if c["runner"] == "trl" else run_worker
    m = fn(c, spec["model_dir"], spec["data"], spec["out"], spec["device"], spec["steps"])
    print("\n" + json.dumps(m), flush=True)


def fmt_gib(b):
    return f"{b / GIB:6.2f}" if isinstance(b, (int, float)) and b else "     -"


def err(pred, meas):
    return f"{100 * (pred - meas) / meas:+5.0f}%" if isinstance(pred, (int, float)) and isinstance(meas, (int, float)) and meas else "    -"


def main():
    argv = sys.argv[1:]
    if argv and argv[0] == "--one":
        return one(json.loads(argv[1]))
    smoke = "--smoke" in argv
    steps = int(argv[argv.index("--steps") + 1]) if "--steps" in argv else (3 if smoke else 8)
    only = set(argv[argv.index("--only") + 1].split(",")) if "--only" in argv else None
    pos = [a for i, a in enumerate(argv) if not a.startswith("--") and (i == 0 or argv[i - 1] not in ("--steps", "--only"))]
    work = tempfile.mkdtemp(prefix="fitlab-lean-bench-")
    if smoke:
        tiny = os.path.join(work, "tiny-config.json")
        # Llama layout (no biases): bitsandbytes trains 4-bit layers without bias on the CPU
        json.dump({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 300, "max_position_embeddings": 256, "tie_word_embeddings": False}, open(tiny, "w"))
        cases = [{"id": f"{r}-64", "runner": r, "config_path": tiny, "seq": 64, "batch": 1, "rank": 8, "gradCkpt": ck, "loss": "auto", "kernels": "auto", "optimizer": opt, "predicted": {}}
                 for r, ck, opt in (("trl", "full", "adamw"), ("worker", "full", "adamw"), ("worker-offload", "offload", "paged-adamw8bit"))]
        out_dir = pos[0] if pos else tempfile.mkdtemp()
    else:
        cases = json.load(open(pos[0]))
        out_dir = pos[1] if len(pos) > 1 else tempfile.mkdtemp()
    device = "cpu" if smoke else "cuda"
    gpu_name = None
    if not smoke:
        import torch

        if not torch.cuda.is_available():
            sys.exit("no CUDA GPU here: run with --smoke on the CPU")
        gpu_name = torch.cuda.get_device_name(0)
        if cases and cases[0].get("gpu") and cases[0]["gpu"].lower().replace("nvidia ", "") not in gpu_name.lower().replace("nvidia ", ""):
            print(f"note: predictions are for {cases[0]['gpu']}, this GPU is {gpu_name}: regenerate them with bench/lean-predictions.mjs", flush=True)
    from fitlab_worker.jobs import make_random

    rows = []
    for c in cases:
        if only and c["id"] not in only:
            continue
        cfg_path = c.get("config_path") or os.path.join(HERE, "..", "data", "models", c["config"])
        model_dir = os.path.join(work, os.path.basename(cfg_path).replace(".json", ""))
        info = make_random.run({"out_dir": model_dir, "config_path": cfg_path}, emit)
        data = os.path.join(work, f"data-{c['seq']}.jsonl")
        if not os.path.exists(data):
            dataset(data, info["vocab_size"], c["seq"], max(16, 2 * steps))
        spec = {"case": c, "model_dir": model_dir, "data": data, "out": os.path.join(work, "run-" + c["id"]), "device": device, "steps": steps}
        env = {**os.environ, "PYTHONPATH": os.path.join(HERE, "..", "engine"), "TOKENIZERS_PARALLELISM": "false"}
        p = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", json.dumps(spec)], capture_output=True, text=True, env=env)
        row = {"id": c["id"], "runner": c["runner"], "seq": c["seq"], "gpu": gpu_name, "predicted": c.get("predicted", {}), "planned": c.get("planned")}
        lines = [l for l in p.stdout.strip().splitlines() if l.startswith("{")]
        if p.returncode == 0 and lines:
            row["measured"] = json.loads(lines[-1])
        else:
            tail = (p.stderr.strip().splitlines() or ["(no output)"])[-1]
            row["error"] = ("out of memory: " if "out of memory" in p.stderr.lower() else "") + tail[:300]
        rows.append(row)
        pr, m = row["predicted"], row.get("measured", {})
        print(f"{row['id']:22s} tok/s {m.get('tokens_per_s', 0):8.0f} (pred {pr.get('tokens_per_s', '-')}) | alloc meas {fmt_gib(m.get('peak_allocated_bytes'))} pred {fmt_gib(pr.get('allocated_bytes'))} {err(pr.get('allocated_bytes'), m.get('peak_allocated_bytes'))}"
              f" | reserved meas {fmt_gib(m.get('peak_reserved_bytes'))} pred {fmt_gib(pr.get('reserved_bytes'))} {err(pr.get('reserved_bytes'), m.get('peak_reserved_bytes'))} {row.get('error', '')}", flush=True)
    goals = []
    by = {r["id"]: r.get("measured") for r in rows}
    for seq in sorted({r["seq"] for r in rows}):
        t, w = by.get(f"trl-{seq}"), by.get(f"worker-{seq}")
        if t and w and t.get("peak_reserved_bytes"):
            goals.append(f"seq {seq}: worker/TRL tokens/s {w['tokens_per_s'] / t['tokens_per_s']:.2f}x (goal >= 1.5 at 2048), reserved {w['peak_reserved_bytes'] / t['peak_reserved_bytes']:.2f}x (goal <= 0.6 at 2048)")
        for name in ("worker", "worker-offload"):
            m = by.get(f"{name}-{seq}")
            if m and m.get("peak_reserved_bytes") and seq == 8192:
                goals.append(f"seq 8192 {name}: reserved {m['peak_reserved_bytes'] / GIB:.2f} GiB (goal <= 15.5)")
    for g in goals:
        print(g)
    os.makedirs(out_dir, exist_ok=True)
    json.dump({"gpu": gpu_name, "steps": steps, "rows": rows, "goals": goals}, open(os.path.join(out_dir, "lean-vs-trl.json"), "w"), indent=2)


if __name__ == "__main__":
    main()
