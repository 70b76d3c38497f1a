"""Job: base model vs its LoRA fine-tune, head by head, from one load, top to bottom.
Config: src/runs/inspect.ts (compareConfig).

For each prompt the base pass runs inside PEFT's disable_adapter() and keeps each layer's post-RoPE Q and K
on the CPU; the fine-tuned pass recomputes both models' attention rows for the same layer chunk by chunk
(interp/attention.py) and averages the Jensen-Shannon divergence of every row (query rows i >= 1). The
statistics of both passes give the change of each. The LoRA update of every adapted module, (alpha/r) B A,
is measured from the adapter's weights alone (interp/load.py lora_update_norms).

Writes into output_dir: stats.safetensors (base, tuned, js per prompt), maps/prompt-NNN-{base,tuned}
.safetensors (pooled maps of the first map_prompts prompts), modules.json, result.json last.
"""
import os
import time

from ..interp import attention as att
from ..interp.common import dir_bytes, geometry, run_summary, save_tensors, token_strings, write_json
from ..interp.inputs import config_prompts, context_of, encode_prompts, materialize_inputs, sources_of
from ..interp.load import load, lora_update_norms
from ..interp.meter import Meter
from ..protocol import JobError


def run(config, emit):
    import torch

    # ---- configuration -------------------------------------------------------------------------
    out = config["output_dir"]
    os.makedirs(out, exist_ok=True)
    config = materialize_inputs(config, emit)  # hub model, prompts and probe data -> local snapshot and run-folder files
    if not config.get("adapter"):
        raise JobError("input", "compare needs an adapter (a PEFT folder or a run id)")
    pool = int(config.get("pool", 128))
    map_prompts = int(config.get("map_prompts", 1))
    t0 = time.time()

    # ---- model (loaded once, with the adapter) and prompts -----------------------------------------
    prompts = config_prompts(config)
    model, tok, device, dtype = load(config)
    g = geometry(model.config)
    L, H = g["layers"], g["heads"]
    encoded = encode_prompts(tok, prompts, context_of(model.config), config["prompts"], config.get("max_tokens"))
    if all(len(ids) < 2 for ids in encoded):
        raise JobError("input", f"every prompt in {config['prompts']} is a single token: attention statistics need at least two")
    longest = max(len(ids) for ids in encoded)
    rows = int(config.get("chunk_rows") or att.chunk_rows(H, longest, int(config.get("chunk_bytes", 64 << 20)), "compare"))
    att.install(model)
    modules = lora_update_norms(config["adapter"], H, g["kv_heads"], g["head_dim"])
    emit("progress", job="compare", step=0, total=len(encoded), message=f"{len(modules)} adapted modules; {L} layers x {H} heads; {len(encoded)} prompts on {device}")

    # ---- two passes per prompt ---------------------------------------------------------------------------
    meter = Meter(device)
    meter.start()
    base_stats, tuned_stats, js = [], [], []
    with torch.no_grad():
        for n, ids in enumerate(encoded):
            T = len(ids)
            keep = n < map_prompts
            x = torch.tensor([ids], device=device)
            rec_b = att.PromptRecorder(L, H, T, min(rows, T), pool, keep_pooled=keep, store_qk=True)
            with model.disable_adapter(), att.recording(rec_b):
                model(input_ids=x, logits_to_keep=1)
            rec_t = att.PromptRecorder(L, H, T, min(rows, T), pool, keep_pooled=keep, base_qk=rec_b.qk)
            with att.recording(rec_t):
                model(input_ids=x, logits_to_keep=1)
            if rec_b.means() is not None:
                base_stats.append(rec_b.means())
                tuned_stats.append(rec_t.means())
                js.append(rec_t.js_means())
            if keep:
                for side, rec in (("base", rec_b), ("tuned", rec_t)):
                    save_tensors(os.path.join(out, f"maps/prompt-{n:03d}-{side}.safetensors"), {"pooled": rec.pooled})
                write_json(os.path.join(out, f"maps/prompt-{n:03d}.json"), {"prompt": n, "tokens": token_strings(tok, ids), "ids": ids, "pooled_size": rec_t.P})
            del rec_b, rec_t, x
            emit("progress", job="compare", step=n + 1, total=len(encoded))
    memory = meter.stop()

    # ---- per head: divergence and change of each statistic -------------------------------------------------
    B = torch.stack(base_stats).float()
    Tn = torch.stack(tuned_stats).float()
    J = torch.stack(js).float()
    save_tensors(os.path.join(out, "stats.safetensors"), {"base": B, "tuned": Tn, "js": J}, metadata={"stats": ",".join(att.STATS), "layout": "[prompt, layer, head, stat]; js [prompt, layer, head]"})
    b, t, j = B.mean(0), Tn.mean(0), J.mean(0)
    heads = []
    for l in range(L):
        for h in range(H):
            row = {"layer": l, "head": h, "js_divergence": float(j[l, h])}
            for i, s in enumerate(att.STATS):
                row[f"{s}_change"] = float(t[l, h, i] - b[l, h, i])
                row[f"base_{s}"] = float(b[l, h, i])
            heads.append(row)
    write_json(os.path.join(out, "modules.json"), modules)
    disk = dir_bytes(out)
    result = {
        **g,
        "adapter": config["adapter"],
        **run_summary(encoded, memory, device, dtype, config),
        "chunk_rows": rows,
        "heads": heads,
        "modules": modules,
        "maps": [{"prompt": n, "base": f"maps/prompt-{n:03d}-base.safetensors", "tuned": f"maps/prompt-{n:03d}-tuned.safetensors", "tokens_file": f"maps/prompt-{n:03d}.json"} for n in range(min(map_prompts, len(encoded)))],
        "disk_bytes": disk,
        "seconds": time.time() - t0,
    }
    result.update(sources_of(config))
    write_json(os.path.join(out, "result.json"), result)
    return result
