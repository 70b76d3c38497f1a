"""Datasets from local JSONL: plain text, prompt/completion, or chat messages (rendered with the
tokenizer's chat template). Loss on the completion / last assistant turn only where that applies."""
import json
import random

from .protocol import JobError


def read_jsonl(path):
    """Read and check a JSONL file; return (format, records). Fails with one line naming the fix."""
    try:
        f = open(path, encoding="utf-8")
    except FileNotFoundError:
        raise JobError("input", f"dataset {path} does not exist")
    records = []
    fmt = None
    with f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                raise JobError("input", f"dataset {path} line {n} is not valid JSON ({e.msg}): fix or remove that line")
            if not isinstance(r, dict):
                raise JobError("input", f"dataset {path} line {n} is not a JSON object")
            if isinstance(r.get("messages"), list):
                kind = "messages"
            elif isinstance(r.get("prompt"), str) and isinstance(r.get("completion"), str):
                kind = "prompt_completion"
            elif isinstance(r.get("text"), str):
                kind = "text"
            else:
                raise JobError("input", f"dataset {path} line {n} has no text field: give \"text\", \"prompt\"+\"completion\", or \"messages\"")
            if fmt is None:
                fmt = kind
            elif kind != fmt:
                raise JobError("input", f"dataset {path} line {n} is {kind} but earlier lines are {fmt}: use one format per file")
            records.append(r)
    if not records:
        raise JobError("input", f"dataset {path} is empty: it needs at least one JSON line")
    return fmt, records


def encode(tokenizer, fmt, record, max_len):
    """Token ids and labels (-100 where no loss) for one record, truncated to max_len."""
    eos = tokenizer.eos_token_id
    if fmt == "text":
        ids = tokenizer(record["text"], add_special_tokens=False)["input_ids"] + ([eos] if eos is not None else [])
        labels = list(ids)
    elif fmt == "prompt_completion":
        p = tokenizer(record["prompt"], add_special_tokens=False)["input_ids"]
        c = tokenizer(record["completion"], add_special_tokens=False)["input_ids"] + ([eos] if eos is not None else [])
        ids = p + c
        labels = [-100] * len(p) + c
    else:
        msgs = record["messages"]
        if not msgs or msgs[-1].get("role") != "assistant":
            raise JobError("input", "a chat record must end with an assistant message (the loss is on that turn)")
        if not getattr(tokenizer, "chat_template", None):
            raise JobError("input", "the tokenizer has no chat template: use text or prompt/completion data, or a model with a chat template")
        prefix = tokenizer.apply_chat_template(msgs[:-1], tokenize=False, add_generation_prompt=True)
        full = tokenizer.apply_chat_template(msgs, tokenize=False)
        p = tokenizer(prefix, add_special_tokens=False)["input_ids"]
        ids = tokenizer(full, add_special_tokens=False)["input_ids"]
        labels = [-100] * len(p) + ids[len(p):]
    return ids[:max_len], labels[:max_len]


def build_examples(tokenizer, fmt, records, max_len, packing):
    """Encoded examples; with packing, the token stream is cut into blocks of exactly max_len."""
    encoded = [encode(tokenizer, fmt, r, max_len if not packing else 10**9) for r in records]
    if not packing:
        return [e for e in encoded if any(l != -100 for l in e[1])]
    ids, labels = [], []
    for i, l in encoded:
        ids.extend(i)
        labels.extend(l)
    blocks = []
    for s in range(0, len(ids) - max_len + 1, max_len):
        blocks.append((ids[s : s + max_len], labels[s : s + max_len]))
    if not blocks and ids:
        blocks.append((ids[:max_len], labels[:max_len]))
    return blocks


def split(records, eval_fraction, seed):
    """Deterministic held-out split."""
    idx = list(range(len(records)))
    random.Random(seed).shuffle(idx)
    n_eval = max(1, int(round(len(records) * eval_fraction))) if len(records) > 1 else 0
    ev = sorted(idx[:n_eval])
    tr = sorted(idx[n_eval:])
    return [records[i] for i in tr], [records[i] for i in ev]


def collate(batch, pad_id):
    """Pad a list of (ids, labels) to the longest; returns tensors."""
    import torch

    width = max(len(i) for i, _ in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for r, (i, l) in enumerate(batch):
        input_ids[r, : len(i)] = torch.tensor(i)
        labels[r, : len(l)] = torch.tensor(l)
        mask[r, : len(i)] = 1
    return input_ids, mask, labels


def epoch_order(n, seed, epoch):
    order = list(range(n))
    random.Random(seed * 1000003 + epoch).shuffle(order)
    return order
