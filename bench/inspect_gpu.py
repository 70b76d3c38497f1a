"""GPU bench for Tracks B and C: the inspection jobs on a Qwen2.5-7B-architecture model in 4-bit NF4 with a
2,048-token prompt, all layers and heads: measured peak (CUDA max allocated) against the planner's prediction
(target within +-15 %), and bytes written per prompt against the 300 MB budget. Random weights (no download):
memory does not depend on the values. With --model DIR (real weights at hand, e.g. Llama-2-7B), it also runs
the literature checks on 64-token prompts: the attention-sink share (Gu et al. 2025: share of heads whose
first-token attention exceeds 0.3) and the massive-activation dims (Sun et al. 2024: Llama-2-7B dims 1415 and
2533), which random weights cannot show.

On a GPU machine, from the repository root (the worker's Python stack installed there):
  node bench/inspect-gpu-predictions.mjs > bench/inspect-gpu-predictions.json   # here, with Node (shipped)
  python bench/inspect_gpu.py bench/inspect-gpu-predictions.json $OUT [--cases attention,compare] [--model DIR --expect-massive 1415,2533]
Prints a table and writes $OUT/inspect-gpu.json. --smoke runs every case on a tiny model on the CPU.
"""
import json
import os
import random
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "engine"))

from fitlab_worker.jobs import attention, compare, hidden, make_random  # noqa: E402
from fitlab_worker.jobs.make_tiny import make_adapter  # noqa: E402

JOBS = {"attention": attention, "compare": compare, "hidden": hidden}
SINK = 0.3  # Gu et al. 2025, Sink_1^epsilon with epsilon = 0.3


def emit(*_a, **_k):
    pass


def arg(flag, default=None):
    return sys.argv[sys.argv.index(flag) + 1] if flag in sys.argv else default


def prompt_file(path, vocab, seq, n=1):
    """Prompts of exactly `seq` word-level tokens (make_random's tokenizer: one word, one token)."""
    rng = random.Random(0)
    with open(path, "w") as f:
        for _ in range(n):
            f.write(" ".join(f"w{rng.randrange(vocab - 8)}" for _ in range(seq)) + "\n")
    return path


def build_adapter(model_dir, out_dir, layers):
    """A rank-16 all-linear LoRA with random B on every layer (its update is non-zero everywhere)."""
    import torch
    from transformers import AutoModelForCausalLM

    if os.path.exists(os.path.join(out_dir, "adapter_model.safetensors")):
        return out_dir
    m = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16, use_safetensors=True)
    make_adapter(m, model_dir, {"out_dir": out_dir, "layers": list(range(layers)), "targets": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"], "rank": 16, "alpha": 32, "scale": 0.01})
    del m
    return out_dir


def literature_checks(model_dir, work, device, quant, expect):
    """Sink share and massive dims of real weights on 64-token prompts (the protocols of the two papers)."""
    import torch  # noqa: F401

    texts = [
        "Summer is warm. Winter is cold. The river runs to the sea, and the boats come home at night with their nets full of fish.",
        "The committee met on Tuesday to discuss the budget for next year. After a long debate, the members agreed to raise the funds for the library.",
        "In mathematics, a prime number is a natural number greater than one that is not a product of two smaller natural numbers.",
        "She opened the window, looked at the garden covered in snow, and decided that today was a good day to stay inside and read.",
    ]
    p = os.path.join(work, "literature.txt")
    open(p, "w").write("\n".join(texts) + "\n")
    base = {"model": model_dir, "prompts": p, "device": device, "quant": quant, "max_tokens": 64}
    a = attention.run({**base, "output_dir": os.path.join(work, "lit-attention")}, emit)
    sinks = [h for h in a["heads_stats"] if h["first_token_share"] > SINK]
    h = hidden.run({**base, "output_dir": os.path.join(work, "lit-hidden"), "outlier_ratio": 100}, emit)
    dims = {}
    for l in h["layers"]:
        for d in l["outlier_dims"]:
            dims.setdefault(d["dim"], []).append(l["layer"])
    top = sorted(dims.items(), key=lambda kv: -len(kv[1]))[:6]
    out = {"sink_rate": len(sinks) / len(a["heads_stats"]), "sink_heads": len(sinks), "heads": len(a["heads_stats"]), "outlier_dims": {str(k): v for k, v in top}}
    print(f"literature: {len(sinks)}/{len(a['heads_stats'])} heads are sinks (first-token share > {SINK}); outlier dims (layers where they stand > 100x the median): " + ", ".join(f"{k} ({len(v)} layers)" for k, v in top))
    if expect:
        want = [int(x) for x in expect.split(",")]
        found = [d for d in want if d in dims]
        out["expected_massive"] = want
        out["found_massive"] = found
        print(f"massive dims expected {want}: found {found}")
    return out


def main():
    smoke = "--smoke" in sys.argv
    args = [a for a in sys.argv[1:] if not a.startswith("--") and a not in (arg("--cases"), arg("--model"), arg("--expect-massive"))]
    cases = json.load(open(args[0])) if args else []
    out_dir = args[1] if len(args) > 1 else tempfile.mkdtemp()
    only = set(arg("--cases", "").split(",")) - {""}
    work = tempfile.mkdtemp(prefix="fitlab-inspect-gpu-")
    device, quant = ("cpu", "none") if smoke else ("cuda", "nf4")
    if smoke:
        tiny = os.path.join(work, "tiny-config.json")
        json.dump({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 300, "max_position_embeddings": 512}, open(tiny, "w"))
        cases = [{"id": f"smoke-{j}", "job": j, "capture": "recompute", "config_path": tiny, "seq": 256, "full_heads": 2, "predicted": {}} for j in ("attention", "compare", "hidden")]
        cases.append({"id": "smoke-attention-eager", "job": "attention", "capture": "eager", "config_path": tiny, "seq": 256, "full_heads": 2, "predicted": {}})
    results = []
    for c in cases:
        if only and c["job"] not in only and c["id"] not in only:
            continue
        import torch

        cfg_path = c.get("config_path") or os.path.join(HERE, "..", "data", "models", c["config"])
        model_dir = os.path.join(work, os.path.basename(cfg_path).replace(".json", ""))
        t0 = time.time()
        info = make_random.run({"out_dir": model_dir, "config_path": cfg_path}, emit)
        cfg = json.load(open(os.path.join(model_dir, "config.json")))
        prompts = prompt_file(os.path.join(work, f"prompt-{c['seq']}.txt"), info["vocab_size"], c["seq"])
        config = {"model": model_dir, "prompts": prompts, "device": device, "quant": quant, "output_dir": os.path.join(work, "run-" + c["id"]), "map_prompts": 1}
        if c["job"] == "attention":
            config.update({"capture": c.get("capture", "recompute"), "full_heads": [f"{l}.0" for l in range(c["full_heads"])]})
        if c["job"] == "compare":
            config["adapter"] = build_adapter(model_dir, os.path.join(work, "adapter"), cfg["num_hidden_layers"])
        row = {"id": c["id"], "job": c["job"], "seq": c["seq"], "predicted": c.get("predicted", {}), "build_seconds": round(time.time() - t0, 1)}
        try:
            if device == "cuda":
                torch.cuda.empty_cache()
            r = JOBS[c["job"]].run(config, emit)
            row["measured"] = {k: r.get(k) for k in ("peak_bytes", "baseline_bytes", "transient_bytes", "memory_source", "disk_bytes", "disk_bytes_per_prompt", "chunk_rows", "seconds")}
        except Exception as e:  # noqa: BLE001
            row["error"] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        results.append(row)
        p, m = row["predicted"], row.get("measured", {})
        g = lambda b: f"{b / 2**30:6.2f}" if isinstance(b, (int, float)) and b else "     -"
        err = lambda a, b: f"{100 * (a - b) / b:+5.0f}%" if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else "    -"
        within = lambda a, b: ("ok" if abs(a - b) <= 0.15 * b else "OUTSIDE +-15%") if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else ""
        disk = m.get("disk_bytes_per_prompt")
        print(f"{row['id']:48s} peak GiB pred {g(p.get('allocated_bytes'))} meas {g(m.get('peak_bytes'))} {err(p.get('allocated_bytes'), m.get('peak_bytes'))} {within(p.get('allocated_bytes'), m.get('peak_bytes')):14s} | "
              f"transient {g(m.get('transient_bytes'))} | disk/prompt {disk / 1e6 if disk else 0:7.1f} MB (pred {p.get('disk_bytes_per_prompt', 0) / 1e6:6.1f}, budget 300) | {m.get('seconds', 0) or 0:5.0f} s {row.get('error', '')}", flush=True)
    report = {"cases": results}
    if arg("--model"):
        report["literature"] = literature_checks(arg("--model"), work, device, quant if not smoke else "none", arg("--expect-massive"))
    elif smoke:
        report["literature"] = literature_checks(model_dir, work, device, "none", None)
    else:
        print("literature checks (sink share, massive dims) need real weights: pass --model DIR (e.g. a local Llama-2-7B) and --expect-massive 1415,2533")
    os.makedirs(out_dir, exist_ok=True)
    json.dump(report, open(os.path.join(out_dir, "inspect-gpu.json"), "w"), indent=2)


if __name__ == "__main__":
    main()
