"""GPU bench: measured peak allocated/reserved memory and tokens/s of QLoRA, LoRA and full fine-tuning steps
on 7B-class architectures with random weights (no download), against the planner's predictions.

On a GPU machine, from the repository root (the worker's Python stack installed there):
  node bench/gpu-predictions.mjs "NVIDIA H100 80GB SXM5" > bench/gpu-predictions.json   # here, with Node
  python bench/gpu_vs_planner.py bench/gpu-predictions.json $OUT                          # there
Prints a table and writes $OUT/gpu-vs-planner.json. --smoke runs one tiny case on the CPU to check the script.
The worker runs here with the HF loss and no fused kernels (the baseline stack); bench/lean_vs_trl.py measures
the lean options.
"""
import json
import os
import random
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "engine"))

from fitlab_worker.jobs import make_random, train  # noqa: E402


def emit(*_a, **_k):
    pass


def dataset(path, vocab, seq, rows):
    rng = random.Random(0)
    with open(path, "w") as f:
        for _ in range(rows):
            f.write(json.dumps({"text": " ".join(f"w{rng.randrange(vocab - 8)}" for _ in range(seq))}) + "\n")


def main():
    smoke = "--smoke" in sys.argv
    args = [a for a in sys.argv[1:] if a != "--smoke"]
    preds = json.load(open(args[0])) if args else []
    out_dir = args[1] if len(args) > 1 else tempfile.mkdtemp()
    work = tempfile.mkdtemp(prefix="fitlab-gpu-")
    if smoke:
        tiny = os.path.join(work, "tiny-config.json")
        json.dump({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 300, "max_position_embeddings": 256}, open(tiny, "w"))
        preds = [{"id": "smoke-lora", "config_path": tiny, "method": "lora", "seq": 64, "batch": 2, "rank": 8, "gradCkpt": False, "predicted": {}}]
    device = "cpu" if smoke else "cuda"
    results = []
    for c in preds:
        cfg_path = c.get("config_path") or os.path.join(HERE, "..", "data", "models", c["config"])
        model_dir = os.path.join(work, os.path.basename(cfg_path).replace(".json", ""))
        t0 = time.time()
        info = make_random.run({"out_dir": model_dir, "config_path": cfg_path}, emit)
        data = os.path.join(work, f"data-{c['seq']}.jsonl")
        dataset(data, info["vocab_size"], c["seq"], 64)
        row = {"id": c["id"], "method": c["method"], "seq": c["seq"], "batch": c["batch"], "predicted": c.get("predicted", {}), "build_seconds": round(time.time() - t0, 1)}
        try:
            import torch

            if device == "cuda":
                torch.cuda.empty_cache()
            r = train.run({"model": model_dir, "method": c["method"], "rank": c["rank"] or 8, "alpha": 2 * (c["rank"] or 8), "target_modules": "all-linear",
                           "learning_rate": 1e-4, "batch_size": c["batch"], "grad_accum": 1, "max_seq_len": c["seq"], "packing": True,
                           "gradient_checkpointing": c["gradCkpt"], "loss": "standard", "kernels": "none", "max_steps": 4, "eval_every": 1000, "checkpoint_every": 1000, "seed": 0,
                           "dataset": {"train": data, "eval_fraction": 0.05}, "output_dir": os.path.join(work, "run-" + c["id"]), "device": device, "resume": False}, emit)
            row["measured"] = {k: r.get(k) for k in ("peak_allocated_bytes", "peak_reserved_bytes", "mean_tokens_per_s")}
        except Exception as e:  # noqa: BLE001
            row["error"] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        results.append(row)
        p, m = row["predicted"], row.get("measured", {})
        g = lambda b: f"{b / 2**30:6.2f}" if isinstance(b, (int, float)) and b else "     -"
        err = lambda a, b: f"{100 * (a - b) / b:+5.0f}%" if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else "    -"
        print(f"{row['id']:34s} alloc pred {g(p.get('allocated_bytes'))} meas {g(m.get('peak_allocated_bytes'))} {err(p.get('allocated_bytes'), m.get('peak_allocated_bytes'))} | "
              f"reserved pred {g(p.get('reserved_bytes'))} meas {g(m.get('peak_reserved_bytes'))} {err(p.get('reserved_bytes'), m.get('peak_reserved_bytes'))} | "
              f"tok/s pred {p.get('tokens_per_s', '-')} meas {round(m['mean_tokens_per_s']) if m.get('mean_tokens_per_s') else '-'} {row.get('error', '')}", flush=True)
    os.makedirs(out_dir, exist_ok=True)
    json.dump(results, open(os.path.join(out_dir, "gpu-vs-planner.json"), "w"), indent=2)


if __name__ == "__main__":
    main()
