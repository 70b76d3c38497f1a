"""Prompts (a text file, one prompt per line, or JSONL with "text"/"prompt") and labelled probe data (JSONL:
sentence-level {"text","label"} or token-level {"tokens":[...],"labels":[...]}), tokenized and checked against
the model's context. Every problem is one line naming the file and line."""
import json

from ..protocol import JobError


def read_prompts(path):
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except FileNotFoundError:
        raise JobError("input", f"prompt file {path} does not exist")
    jsonl = path.endswith(".jsonl")
    prompts = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if jsonl:
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                raise JobError("input", f"prompt file {path} line {n} is not valid JSON ({e.msg})")
            text = r if isinstance(r, str) else (r.get("text") if isinstance(r, dict) else None)
            if text is None and isinstance(r, dict):
                text = r.get("prompt")
            if not isinstance(text, str) or not text.strip():
                raise JobError("input", f"prompt file {path} line {n} needs a non-empty \"text\" (or \"prompt\") string")
            prompts.append(text)
        else:
            prompts.append(line)
    if not prompts:
        raise JobError("input", f"prompt file {path} has no prompts: give one prompt per line (or JSONL with \"text\")")
    return prompts


def context_of(model_config):
    return int(getattr(model_config, "max_position_embeddings", 0) or 0) or None


def encode_prompts(tokenizer, prompts, context, path, max_tokens=None):
    """Token ids per prompt. A prompt longer than the model's context is an input error (or is cut to max_tokens)."""
    out = []
    for n, text in enumerate(prompts, 1):
        ids = tokenizer(text, add_special_tokens=True)["input_ids"]
        if not ids:
            raise JobError("input", f"prompt {n} of {path} has no tokens")
        if max_tokens:
            ids = ids[: int(max_tokens)]
        if context and len(ids) > context:
            raise JobError("input", f"prompt {n} of {path} has {len(ids)} tokens, more than the model's context of {context}: shorten it or pass --max-tokens")
        out.append(ids)
    return out


def read_probe_data(path):
    """(level, records): level "sentence" with (text, label) or "token" with (tokens, labels)."""
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except FileNotFoundError:
        raise JobError("input", f"probe data {path} does not exist")
    level = None
    records = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError as e:
            raise JobError("input", f"probe data {path} line {n} is not valid JSON ({e.msg})")
        if isinstance(r, dict) and isinstance(r.get("text"), str) and "label" in r:
            kind = "sentence"
            rec = (r["text"], r["label"])
            if not rec[0].strip():
                raise JobError("input", f"probe data {path} line {n} has an empty text")
        elif isinstance(r, dict) and isinstance(r.get("tokens"), list) and isinstance(r.get("labels"), list):
            kind = "token"
            if len(r["tokens"]) != len(r["labels"]) or not r["tokens"]:
                raise JobError("input", f"probe data {path} line {n}: tokens and labels must be non-empty lists of the same length")
            if not all(isinstance(t, str) and t.strip() and not any(c.isspace() for c in t) for t in r["tokens"]):
                raise JobError("input", f"probe data {path} line {n}: every token must be a non-empty string without spaces")
            rec = (r["tokens"], r["labels"])
        else:
            raise JobError("input", f"probe data {path} line {n} needs {{\"text\",\"label\"}} or {{\"tokens\":[...],\"labels\":[...]}}")
        if level is None:
            level = kind
        elif kind != level:
            raise JobError("input", f"probe data {path} line {n} is {kind}-level but earlier lines are {level}-level: use one kind per file")
        records.append(rec)
    if not records:
        raise JobError("input", f"probe data {path} is empty")
    labels = {json.dumps(l) for _, ls in records for l in (ls if level == "token" else [ls])}
    if len(labels) < 2:
        raise JobError("input", f"probe data {path} has a single class ({next(iter(labels))}): a probe needs at least two labels")
    return level, records


def materialize_inputs(config, emit):
    """The job's inputs as local files: a hub model id becomes its snapshot (hub.materialize: safetensors only,
    the commit pinned in the run folder), hub prompts and probe data become prompts.jsonl / probe.jsonl in the
    run folder (datasets_hub.prompts, probe_records), each with where it came from."""
    from .. import datasets_hub, hub
    from ..model import load_tokenizer

    out = config["output_dir"]
    src = hub.materialize(config["model"], emit, config.get("model_revision"), out)
    config = {**config, "model": src["path"], "model_source": {k: v for k, v in src.items() if k != "path"}}
    seed = int(config.get("seed", 0))
    if isinstance(config.get("prompts"), dict):
        path, source = datasets_hub.prompts(config["prompts"], load_tokenizer(src["path"]), emit, seed, out)
        config = {**config, "prompts": path, "prompts_source": source}
    if isinstance(config.get("data"), dict):
        path, source = datasets_hub.probe_records(config["data"], emit, seed, out)
        config = {**config, "data": path, "data_source": source}
    return config


def sources_of(config):
    """Where the model, the prompts and the probe data came from, for result.json."""
    return {k: config[k] for k in ("model_source", "prompts_source", "data_source") if k in config}


def config_prompts(config):
    """The job's prompts: its prompt file, cut to max_prompts when the config sets it."""
    prompts = read_prompts(config["prompts"])
    return prompts[: int(config["max_prompts"])] if config.get("max_prompts") else prompts
