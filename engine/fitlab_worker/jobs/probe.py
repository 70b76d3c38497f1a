"""Job: linear probes on every layer's residual stream, with a control task, top to bottom.
Config: src/runs/inspect.ts (probeConfig).

Data: JSONL of {"text","label"} (one feature per example: the last token, or the mean over tokens) or
{"tokens":[...],"labels":[...]} (one feature per word: its last sub-token, words joined by spaces). Features of
all layers (embeddings + each layer) are extracted one example at a time with hooks (interp/residual.py) and
kept on the CPU; then, one layer at a time, a probe is fitted on a held-out split (by example, or by sentence
for token-level data) for the real labels and for the control labels (interp/probes.py).

With checkpoints (a training run), the base model (step 0) and every checkpoint's adapter are probed in turn
from one load, so representation change can be read beside the run's loss curve.
Writes result.json into output_dir.
"""
import os
import time

from ..interp import probes
from ..interp import residual as res
from ..interp.common import geometry, write_json
from ..interp.inputs import context_of, read_probe_data, materialize_inputs, sources_of
from ..interp.load import check_adapter, load
from ..interp.meter import Meter
from ..protocol import JobError


def run(config, emit):
    import contextlib

    import torch

    # ---- configuration -------------------------------------------------------------------------
    out = config["output_dir"]
    os.makedirs(out, exist_ok=True)
    config = materialize_inputs(config, emit)  # hub model, prompts and probe data -> local snapshot and run-folder files
    seed = int(config.get("seed", 0))
    pool = config.get("pool", "last")  # sentence-level feature: last token or mean over tokens
    holdout = float(config.get("holdout", 0.2))
    l2 = float(config.get("l2", 1e-3))
    t0 = time.time()
    level, records = read_probe_data(config["data"])
    if config.get("max_prompts"):
        records = records[: int(config["max_prompts"])]
    if len(records) < 4:
        raise JobError("input", f"probe data {config['data']} has {len(records)} examples: a held-out split needs at least 4")
    checkpoints = config.get("checkpoints") or [{"step": None, "adapter": config.get("adapter")}]
    first_adapter = next((c["adapter"] for c in checkpoints if c.get("adapter")), None)

    # ---- model and examples ------------------------------------------------------------------------
    model, tok, device, dtype = load({**config, "adapter": first_adapter})
    g = geometry(model.config)
    L = g["layers"]
    context = context_of(model.config)
    examples = []  # (ids, feature positions, labels, control keys)
    for n, (a, b) in enumerate(records, 1):
        if level == "sentence":
            ids = tok(a, add_special_tokens=True)["input_ids"]
            if not ids:
                raise JobError("input", f"probe data line {n} has no tokens")
            examples.append((ids, [len(ids) - 1], [b], [f"example {n}"]))
        else:
            text = " ".join(a)
            enc = tok(text, add_special_tokens=True, return_offsets_mapping=True)
            ids, offsets = enc["input_ids"], enc["offset_mapping"]
            ends, start = [], 0
            for w in a:
                s, e = start, start + len(w)
                hits = [i for i, (os_, oe) in enumerate(offsets) if oe > s and os_ < e]
                if not hits:
                    raise JobError("input", f"probe data line {n}: the tokenizer gives no token for word {w!r}")
                ends.append(hits[-1])
                start = e + 1
            examples.append((ids, ends, list(b), list(a)))
        if context and len(examples[-1][0]) > context:
            raise JobError("input", f"probe data line {n} has {len(examples[-1][0])} tokens, more than the model's context of {context}")
    labels_flat = [l for e in examples for l in e[2]]
    y, names = probes.class_ids(labels_flat)
    keys = [k for e in examples for k in e[3]]
    yc = probes.control_labels(keys, y, len(names), seed + 1)
    group = [i for i, e in enumerate(examples) for _ in e[2]]
    train_groups, test_groups = probes.split_groups(len(examples), holdout, seed)
    tr = [i for i, gi in enumerate(group) if gi in train_groups]
    te = [i for i, gi in enumerate(group) if gi in test_groups]
    if len({y[i] for i in tr}) < 2:
        raise JobError("input", f"the training split of {config['data']} has a single class: add examples of every label")
    total = len(checkpoints) * (len(examples) + L + 1)
    emit("progress", job="probe", step=0, total=total, message=f"{level}-level probes: {len(examples)} examples, {len(y)} labelled points, {len(names)} classes, {L + 1} layers x {len(checkpoints)} model(s), on {device}")

    # ---- per checkpoint: extract every layer's features, then fit one probe per layer -----------------------
    meter = Meter(device)
    meter.start()
    done = 0
    results = []
    for ck in checkpoints:
        adapter = ck.get("adapter")
        if adapter and adapter != first_adapter:
            from peft import set_peft_model_state_dict
            from safetensors.torch import load_file

            check_adapter(model.get_base_model(), adapter, config["model"])
            set_peft_model_state_dict(model, load_file(os.path.join(adapter, "adapter_model.safetensors")))
        first_adapter = adapter or first_adapter
        feats = [[] for _ in range(L + 1)]
        with torch.no_grad():
            for ids, where, _, _ in examples:
                idx = torch.tensor(where)

                def reduce(l, x, idx=idx):
                    f = x.float().mean(0, keepdim=True) if (level == "sentence" and pool == "mean") else x[idx.to(x.device)].float()
                    feats[l].append(f.cpu())

                ctx = model.disable_adapter() if (adapter is None and hasattr(model, "disable_adapter")) else contextlib.nullcontext()
                with ctx, res.hooked(model, reduce):
                    model(input_ids=torch.tensor([ids], device=device), logits_to_keep=1)
                done += 1
                emit("progress", job="probe", step=done, total=total)
        layers = []
        chance = probes.majority([y[i] for i in tr], [y[i] for i in te])
        for l in range(L + 1):
            X = torch.cat(feats[l])
            feats[l] = None
            acc, train_acc = probes.fit(X[tr], [y[i] for i in tr], X[te], [y[i] for i in te], len(names), l2, device=device)
            cacc, _ = probes.fit(X[tr], [yc[i] for i in tr], X[te], [yc[i] for i in te], len(names), l2, device=device)
            layers.append({"layer": l, "name": "embeddings" if l == 0 else f"layer {l - 1}", "accuracy": acc, "control_accuracy": cacc, "selectivity": acc - cacc, "train_accuracy": train_acc, "majority": chance})
            done += 1
            emit("progress", job="probe", step=done, total=total)
        results.append({"step": ck.get("step"), "adapter": adapter, "layers": layers})
    memory = meter.stop()

    result = {
        **{k: v for k, v in g.items() if k != "layers"},
        "num_layers": g["layers"],
        "level": level,
        "examples": len(examples),
        "points": len(y),
        "train_points": len(tr),
        "test_points": len(te),
        "classes": names,
        **memory,
        "device": device,
        "dtype": str(dtype).replace("torch.", ""),
        "seconds": time.time() - t0,
    }
    if config.get("checkpoints"):
        result["checkpoints"] = results
    else:
        result["layers"] = results[0]["layers"]
    result.update(sources_of(config))
    write_json(os.path.join(out, "result.json"), result)
    return result
