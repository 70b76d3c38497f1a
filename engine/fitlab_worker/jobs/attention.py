"""Job: attention statistics of every layer and query head over a set of prompts, top to bottom.
Config: src/runs/inspect.ts (attentionConfig). One prompt at a time, one layer's maps at a time
(interp/attention.py); SDPA keeps computing the model's output.

Writes into output_dir: stats.safetensors (per prompt x layer x head x statistic), maps/prompt-NNN.safetensors
(pooled block-mean maps, at most pool x pool per head, float16, and the full-resolution maps of the heads
asked for) with maps/prompt-NNN.json (the tokens), and result.json last.
"""
import os
import time

from ..interp import attention as att
from ..interp.common import dir_bytes, geometry, run_summary, save_tensors, token_strings, write_json
from ..interp.inputs import config_prompts, context_of, encode_prompts, materialize_inputs, sources_of
from ..interp.load import load
from ..interp.meter import Meter
from ..protocol import JobError


def run(config, emit):
    import torch

    # ---- configuration -------------------------------------------------------------------------
    out = config["output_dir"]
    os.makedirs(out, exist_ok=True)
    config = materialize_inputs(config, emit)  # hub model, prompts and probe data -> local snapshot and run-folder files
    capture = config.get("capture", "recompute")  # recompute (streaming, any backend) | eager (output_attentions: every layer at once)
    if capture not in ("recompute", "eager"):
        raise JobError("input", f"capture must be recompute or eager, got {capture!r}")
    pool = int(config.get("pool", 128))
    map_prompts = int(config.get("map_prompts", 4))
    full_dtype = {"float16": torch.float16, "float32": torch.float32}[config.get("full_dtype", "float16")]
    t0 = time.time()

    # ---- model and prompts -----------------------------------------------------------------------
    prompts = config_prompts(config)
    model, tok, device, dtype = load(config, attn_implementation="eager" if capture == "eager" else "sdpa")
    g = geometry(model.config)
    L, H = g["layers"], g["heads"]
    encoded = encode_prompts(tok, prompts, context_of(model.config), config["prompts"], config.get("max_tokens"))
    if all(len(ids) < 2 for ids in encoded):
        raise JobError("input", f"every prompt in {config['prompts']} is a single token: attention statistics need at least two")
    full_heads = att.parse_heads(config.get("full_heads"), L, H)
    longest = max(len(ids) for ids in encoded)
    rows = int(config.get("chunk_rows") or att.chunk_rows(H, longest, int(config.get("chunk_bytes", 64 << 20)), "attention"))
    if capture == "recompute":
        att.install(model)
    emit("progress", job="attention", step=0, total=len(encoded), message=f"{L} layers x {H} query heads ({g['kv_heads']} KV heads), {len(encoded)} prompts, chunks of {rows} query rows, on {device}")

    # ---- extraction: one prompt at a time, one layer at a time -------------------------------------
    meter = Meter(device)
    meter.start()
    per_prompt = []
    maps_index = []
    with torch.no_grad():
        for n, ids in enumerate(encoded):
            T = len(ids)
            keep = n < map_prompts
            rec = att.PromptRecorder(L, H, T, min(rows, T), pool, keep_pooled=keep, full_heads=full_heads if keep else (), full_dtype=full_dtype)
            x = torch.tensor([ids], device=device)
            if capture == "recompute":
                with att.recording(rec):
                    model(input_ids=x, logits_to_keep=1)
            else:
                out_ = model(input_ids=x, output_attentions=True, logits_to_keep=1)
                for l, a in enumerate(out_.attentions):
                    rec.layer_from_maps(l, a[0])
                del out_
            if len(rec.seen) != L:
                raise JobError("internal", f"only {len(rec.seen)} of {L} layers went through the attention capture: this architecture bypasses ALL_ATTENTION_FUNCTIONS")
            m = rec.means()
            if m is not None:
                per_prompt.append(m)
            if keep:
                name = f"maps/prompt-{n:03d}"
                tensors = {"pooled": rec.pooled}
                for (l, h), full in rec.full.items():
                    tensors[f"full.{l}.{h}"] = full
                save_tensors(os.path.join(out, name + ".safetensors"), tensors, metadata={"layout": "pooled [layer, head, query_bin, key_bin] block means; full.L.H [query, key]"})
                write_json(os.path.join(out, name + ".json"), {"prompt": n, "tokens": token_strings(tok, ids), "ids": ids, "pooled_size": rec.P, "full_heads": [f"{l}.{h}" for (l, h) in sorted(rec.full)]})
                maps_index.append({"prompt": n, "file": name + ".safetensors", "tokens_file": name + ".json", "tokens": T, "pooled_size": rec.P, "full_heads": [f"{l}.{h}" for (l, h) in sorted(rec.full)]})
            del rec, x
            emit("progress", job="attention", step=n + 1, total=len(encoded))
    memory = meter.stop()

    # ---- statistics ----------------------------------------------------------------------------------
    stacked = torch.stack(per_prompt).float()  # [prompts, L, H, 5]
    mean = stacked.mean(0)
    save_tensors(os.path.join(out, "stats.safetensors"), {"per_prompt": stacked}, metadata={"stats": ",".join(att.STATS), "layout": "[prompt, layer, head, stat]"})
    heads_stats = []
    for l in range(L):
        for h in range(H):
            row = {"layer": l, "head": h, "kv_head": h // (H // g["kv_heads"])}
            row.update({s: float(mean[l, h, i]) for i, s in enumerate(att.STATS)})
            heads_stats.append(row)
    disk = dir_bytes(out)
    result = {
        **g,
        **run_summary(encoded, memory, device, dtype, config),
        "capture": capture,
        "chunk_rows": rows,
        "pool": pool,
        "heads_stats": heads_stats,
        "maps": maps_index,
        "disk_bytes": disk,
        "disk_bytes_per_prompt": disk / max(1, min(len(encoded), map_prompts)),
        "seconds": time.time() - t0,
    }
    result.update(sources_of(config))
    write_json(os.path.join(out, "result.json"), result)
    return result
