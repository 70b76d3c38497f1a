"""Job: evaluate a base model, or base + a PEFT adapter checkpoint: eval loss on a dataset split,
perplexity on a general-text file, accuracy on a multiple-choice JSONL. Config: src/runs/worker.ts."""
import json

from .. import datasets_hub, hub
from ..data import build_examples
from ..model import device_and_dtype, load_model, load_tokenizer
from ..protocol import JobError
from ..scoring import eval_loss, multiple_choice, perplexity


def run(config, emit):
    device, dtype = device_and_dtype(config.get("device", "auto"), config.get("dtype", "auto"))
    run_dir = config.get("run_dir")
    source = hub.materialize(config["model"], emit, config.get("model_revision"), run_dir)
    config = {**config, "model": source["path"]}
    tokenizer = load_tokenizer(config["model"])
    method = config.get("method", "lora")
    adapter = config.get("adapter")
    model = load_model(config["model"], "qlora" if method == "qlora" else "eval", device, dtype, False, None, adapter if method != "full" else None)
    if adapter and method == "full":
        model = load_model(adapter, "eval", device, dtype)
    model.eval()
    out = {"adapter": adapter, "model_source": {k: v for k, v in source.items() if k != "path"}}
    max_len = int(config.get("max_seq_len", 512))
    ds = config.get("dataset")
    if ds:
        _, _, fmt, ev, _ = datasets_hub.load_train_eval(ds, tokenizer, emit, int(config.get("seed", 0)), run_dir)
        # whole examples, as the train job evaluates them (packing only shapes training rows: packing.py)
        examples = build_examples(tokenizer, fmt, ev, max_len, False)
        out["eval_loss"] = eval_loss(model, examples, int(config.get("batch_size", 4)), tokenizer.pad_token_id, device)
    if isinstance(config.get("general_text"), dict):  # a hub dataset (e.g. WikiText-2)
        text, out["general_text_sha"] = datasets_hub.general_text(config["general_text"], emit)
        out["perplexity"] = perplexity(model, tokenizer, text, max_len, device)
    elif config.get("general_text"):
        try:
            text = open(config["general_text"], encoding="utf-8").read()
        except FileNotFoundError:
            raise JobError("input", f"general-text file {config['general_text']} does not exist")
        out["perplexity"] = perplexity(model, tokenizer, text, max_len, device)
    if isinstance(config.get("multiple_choice"), dict):  # a hub dataset (e.g. ARC-Easy)
        items, out["multiple_choice_sha"] = datasets_hub.multiple_choice(config["multiple_choice"], emit)
        out["mc_accuracy"] = multiple_choice(model, tokenizer, items, device)
        out["mc_items"] = len(items)
    elif config.get("multiple_choice"):
        items = []
        try:
            lines = open(config["multiple_choice"], encoding="utf-8").read().splitlines()
        except FileNotFoundError:
            raise JobError("input", f"multiple-choice file {config['multiple_choice']} does not exist")
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                it = json.loads(line)
                assert isinstance(it["question"], str) and isinstance(it["choices"], list) and 0 <= int(it["answer"]) < len(it["choices"])
            except Exception:  # noqa: BLE001
                raise JobError("input", f"multiple-choice file line {n} needs question, choices and a valid answer index")
            items.append(it)
        if not items:
            raise JobError("input", "the multiple-choice file is empty")
        out["mc_accuracy"] = multiple_choice(model, tokenizer, items, device)
        out["mc_items"] = len(items)
    emit("progress", job="evaluate", message=f"evaluated {adapter or 'base model'}")
    return out
