"""Job: the residual stream after the embeddings and after every layer, top to bottom.
Config: src/runs/inspect.ts (hiddenConfig).

One prompt at a time; hooks reduce each layer's [T, hidden] tensor as it is produced (interp/residual.py):
norms, the max |activation| of each dim, sampled token vectors (anisotropy, CKA, the layer median), the
features kept at the chosen positions (last token, mean over tokens, or all tokens up to a byte budget) and
the logit lens (top-k tokens at the last few positions of the first prompts). With an adapter, the same
prompts run a second time inside disable_adapter() and each layer is compared with the base model's (CKA
on the same sampled tokens).

Writes into output_dir: features/layer-NN.safetensors (float16 [rows, hidden], with prompt and position of
each row), samples.safetensors, lens.json, result.json last.
"""
import math
import os
import time

from ..interp import residual as res
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
    positions = config.get("positions", "last")  # last | mean | all
    if positions not in ("last", "mean", "all"):
        raise JobError("input", f"positions must be last, mean or all, got {positions!r}")
    budget = int(config.get("max_bytes", 256 << 20))  # all: stored features stop at this many bytes
    max_samples = int(config.get("samples", 1024))
    lens_prompts = int(config.get("lens_prompts", 2))
    lens_positions = int(config.get("lens_positions", 8))
    lens_k = int(config.get("lens_top_k", 5))
    outlier_ratio = float(config.get("outlier_ratio", 100.0))
    gen = torch.Generator().manual_seed(int(config.get("seed", 0)))
    t0 = time.time()

    # ---- model and prompts -----------------------------------------------------------------------
    prompts = config_prompts(config)
    model, tok, device, dtype = load(config)
    g = geometry(model.config)
    L, hidden = g["layers"], g["hidden_size"]
    encoded = encode_prompts(tok, prompts, context_of(model.config), config["prompts"], config.get("max_tokens"))
    per_prompt = max(1, math.ceil(max_samples / len(encoded)))
    samples_idx = [res.sample_positions(len(ids), per_prompt, gen) for ids in encoded]
    has_adapter = bool(config.get("adapter"))
    passes = ["tuned", "base"] if has_adapter else ["model"]
    emit("progress", job="hidden", step=0, total=len(encoded) * len(passes), message=f"{L + 1} points (embeddings + {L} layers) x {hidden} dims, {len(encoded)} prompts, positions {positions}, on {device}")

    # ---- extraction -----------------------------------------------------------------------------------
    row_bytes = (L + 1) * hidden * 2
    meter = Meter(device)
    meter.start()
    stats = {p: res.LayerStats(L + 1) for p in passes}
    feats = [[] for _ in range(L + 1)]
    rows_meta = []  # (prompt, position) of each stored row
    stored_bytes = 0
    truncated = False
    lens = []
    done = 0
    with torch.no_grad():
        for side in passes:
            for n, ids in enumerate(encoded):
                T = len(ids)
                keep_rows = None
                if side == passes[0]:
                    if positions == "all":
                        room = max(0, (budget - stored_bytes) // row_bytes)
                        keep_rows = torch.arange(min(T, room))
                        truncated = truncated or room < T
                    else:
                        keep_rows = torch.tensor([T - 1])
                    stored_bytes += len(keep_rows) * row_bytes
                    rows_meta.extend((n, int(p) if positions != "mean" else -1) for p in keep_rows)
                lens_here = side == passes[0] and n < lens_prompts
                lens_pos = list(range(max(0, T - lens_positions), T))
                entry = {"prompt": n, "positions": lens_pos, "tokens": token_strings(tok, [ids[p] for p in lens_pos]), "next_tokens": token_strings(tok, [ids[p + 1] for p in lens_pos if p + 1 < T]), "layers": []} if lens_here else None

                def reduce(l, x, side=side, n=n, keep_rows=keep_rows, entry=entry):
                    stats[side].add(l, x, n, samples_idx[n])
                    if keep_rows is not None and len(keep_rows):
                        f = x.float().mean(0, keepdim=True) if positions == "mean" else x[keep_rows.to(x.device)]
                        feats[l].append(f.to("cpu", torch.float16))
                    if entry is not None:
                        ids_, probs = res.logit_lens(model, x, entry["positions"], lens_k)
                        entry["layers"].append({"layer": l, "top": [[[tok.convert_ids_to_tokens(int(i)), float(p)] for i, p in zip(r_i, r_p)] for r_i, r_p in zip(ids_, probs)]})

                x = torch.tensor([ids], device=device)
                ctx = model.disable_adapter() if side == "base" else _null()
                with ctx, res.hooked(model, reduce):
                    model(input_ids=x, logits_to_keep=1)
                if entry is not None:
                    lens.append(entry)
                done += 1
                emit("progress", job="hidden", step=done, total=len(encoded) * len(passes))
    memory = meter.stop()

    # ---- statistics ----------------------------------------------------------------------------------
    main = stats[passes[0]]
    layers = []
    for l in range(L + 1):
        s = main.summary(l, outlier_ratio)
        layers.append({"layer": l, "name": "embeddings" if l == 0 else f"layer {l - 1}", **s})
    sampled = [main.sampled(l) for l in range(L + 1)]
    cka = res.cka_matrix(sampled)
    result_extra = {}
    if has_adapter:
        base = stats["base"]
        base_sampled = [base.sampled(l) for l in range(L + 1)]
        cross = res.cka_matrix(sampled, base_sampled)
        result_extra["cka_base_tuned"] = [float(cross[l, l]) for l in range(L + 1)]
        result_extra["base_layers"] = [{"layer": l, **base.summary(l, outlier_ratio)} for l in range(L + 1)]
        result_extra["max_abs_change"] = [float((sampled[l] - base_sampled[l]).abs().max()) if sampled[l].numel() else 0.0 for l in range(L + 1)]
    for l in range(L + 1):
        save_tensors(os.path.join(out, f"features/layer-{l:02d}.safetensors"), {"features": torch.cat(feats[l]) if feats[l] else torch.zeros(0, hidden, dtype=torch.float16), "prompt": torch.tensor([p for p, _ in rows_meta], dtype=torch.int32), "position": torch.tensor([q for _, q in rows_meta], dtype=torch.int32)}, metadata={"positions": positions, "layer": str(l)})
    save_tensors(os.path.join(out, "samples.safetensors"), {f"layer-{l:02d}": sampled[l].to(torch.float16) for l in range(L + 1)})
    write_json(os.path.join(out, "lens.json"), lens)
    disk = dir_bytes(out)
    result = {
        **{k: v for k, v in g.items() if k != "layers"},
        "num_layers": g["layers"],
        **run_summary(encoded, memory, device, dtype, config),
        "positions": positions,
        "stored_rows": len(rows_meta),
        "truncated": truncated,
        "samples": int(sampled[0].shape[0]),
        "layers": layers,
        "cka": cka.tolist(),
        "lens": lens,
        **result_extra,
        "disk_bytes": disk,
        "seconds": time.time() - t0,
    }
    result.update(sources_of(config))
    write_json(os.path.join(out, "result.json"), result)
    return result


def _null():
    import contextlib

    return contextlib.nullcontext()
