"""Datasets by Hugging Face id (the `datasets` library), turned into the worker's three record formats:
instruction sets -> prompt/completion (the Alpaca prompt), chat sets -> messages, plain text -> text;
split and config; size selection (all, the first N, or a seeded sample sized to a token budget); field
mapping. The `datasets` cache (HF_HOME) keeps the download; the selected records are also written into
the run folder (data/train.jsonl, data/eval.jsonl) so a resumed run and later evaluations read exactly
the same examples. A local JSONL path goes through data.read_jsonl as before.

Dataset config (run.dataset in a plan, resolved by src/runs/train.ts):
  {"hub": "yahma/alpaca-cleaned", "config": null, "split": "train", "revision": "main",
   "format": "auto|instruction|chat|text|prompt_completion", "fields": {"prompt": "instruction", ...},
   "select": "all|first|sample", "examples": N, "tokens": N, "eval_split": null, "eval_fraction": 0.1}
"""
import json
import os
import random

from .data import read_jsonl, split
from .protocol import JobError

# The Alpaca prompt (tatsu-lab/stanford_alpaca, train.py PROMPT_DICT): the completion is the response.
ALPACA_WITH_INPUT = "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n"
ALPACA_NO_INPUT = "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:\n"
SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system", "model": "assistant"}


def dataset_sha(repo, revision):
    """The commit a dataset revision resolves to (None offline: the cache decides)."""
    from .hub import gated_message, hub_token, offline, unreachable

    if offline():
        return None
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError

    try:
        info = HfApi().dataset_info(repo, revision=revision, token=hub_token())
    except GatedRepoError:
        raise JobError("input", gated_message("dataset", repo))
    except RevisionNotFoundError:
        raise JobError("input", f"dataset {repo} has no revision {revision!r}")
    except RepositoryNotFoundError:
        raise JobError("input", f"dataset {repo} does not exist on the hub{'' if hub_token() else ' (or it is private: set HF_TOKEN)'}")
    except Exception as e:  # noqa: BLE001
        if "connect" in type(e).__name__.lower() or "timeout" in type(e).__name__.lower() or isinstance(e, OSError):
            raise unreachable(f"dataset {repo}", e)
        raise
    if info.gated and not hub_token():
        raise JobError("input", gated_message("dataset", repo))
    return info.sha


def load_split(spec, split_name, emit):
    """One split of a hub dataset as a `datasets.Dataset`, plus its resolved commit."""
    from .hub import hub_token, offline

    repo = spec["hub"]
    revision = spec.get("revision") or "main"
    sha = spec.get("_sha") or dataset_sha(repo, revision)
    spec["_sha"] = sha
    emit("progress", job="download", message=f"loading dataset {repo}{'/' + spec['config'] if spec.get('config') else ''} split {split_name}{' at ' + sha[:12] if sha else ' from the cache'}")
    import datasets

    datasets.disable_progress_bars()
    try:
        ds = datasets.load_dataset(repo, spec.get("config"), split=split_name, revision=sha or revision, token=hub_token())
    except ValueError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise JobError("input", f"dataset {repo}: {first}")
    except Exception as e:  # noqa: BLE001
        name = type(e).__name__
        first = str(e).strip().splitlines()[0] if str(e).strip() else name
        if offline() or "Connection" in name or "Offline" in first:
            raise JobError("input", f"dataset {repo} is not in the cache and HF_HUB_OFFLINE=1 forbids downloading it: run once with network, or unset HF_HUB_OFFLINE" if offline() else f"dataset {repo}: {first}")
        if "NotFound" in name:
            raise JobError("input", f"dataset {repo}: {first}")
        raise
    return ds, sha


def _messages(conv):
    out = []
    for m in conv:
        if "role" in m:
            out.append({"role": m["role"], "content": m.get("content", "")})
        else:  # ShareGPT: {"from": "human"|"gpt"|"system", "value": ...}
            role = SHAREGPT_ROLES.get(str(m.get("from")).lower())
            if role is None:
                raise JobError("input", f"chat turn with unknown speaker {m.get('from')!r}: map it with run.dataset.fields")
            out.append({"role": role, "content": m.get("value", "")})
    return out


def detect_format(columns, fields):
    """(format, mapping) from the column names, or from run.dataset.fields."""
    cols = set(columns)
    f = dict(fields or {})
    if f:
        if "messages" in f:
            return "messages", f
        if "completion" in f and ("prompt" in f or "instruction" in f):
            return ("instruction" if "instruction" in f else "prompt_completion"), f
        if "text" in f:
            return "text", f
        raise JobError("input", f"run.dataset.fields {sorted(f)} names no known target: map to text, prompt+completion, instruction(+input)+completion, or messages")
    if "messages" in cols:
        return "messages", {"messages": "messages"}
    if "conversations" in cols:
        return "messages", {"messages": "conversations"}
    if "instruction" in cols and ("output" in cols or "response" in cols):
        return "instruction", {"instruction": "instruction", "input": "input" if "input" in cols else ("context" if "context" in cols else None), "completion": "output" if "output" in cols else "response"}
    if "prompt" in cols and ("completion" in cols or "response" in cols):
        return "prompt_completion", {"prompt": "prompt", "completion": "completion" if "completion" in cols else "response"}
    if "question" in cols and "answer" in cols:
        return "prompt_completion", {"prompt": "question", "completion": "answer"}
    if "text" in cols:
        return "text", {"text": "text"}
    raise JobError("input", f"dataset columns {', '.join(sorted(cols))} match no known layout: give run.dataset.fields (e.g. {{prompt: question, completion: answer}})")


def to_record(kind, m, row):
    """One dataset row as a worker record (text | prompt/completion | messages)."""
    if kind == "messages":
        return {"messages": _messages(row[m["messages"]])}
    if kind == "text":
        return {"text": str(row[m["text"]])}
    if kind == "instruction":
        inp = str(row.get(m.get("input")) or "") if m.get("input") else ""
        template = ALPACA_WITH_INPUT if inp.strip() else ALPACA_NO_INPUT
        return {"prompt": template.format(instruction=str(row[m["instruction"]]), input=inp), "completion": str(row[m["completion"]])}
    prompt = str(row[m["prompt"]])
    completion = str(row[m["completion"]])
    return {"prompt": prompt if prompt.endswith(("\n", " ")) else prompt + "\n", "completion": completion}


def _count_tokens(tokenizer, r):
    if "text" in r:
        return len(tokenizer(r["text"], add_special_tokens=False)["input_ids"])
    if "prompt" in r:
        return len(tokenizer(r["prompt"] + r["completion"], add_special_tokens=False)["input_ids"])
    return len(tokenizer(" ".join(m["content"] for m in r["messages"]), add_special_tokens=False)["input_ids"])


def select(ds, spec, seed, tokenizer, convert):
    """Rows to keep: all, the first N, or a seeded sample; capped by a token budget when one is given."""
    n = len(ds)
    how = spec.get("select") or ("sample" if spec.get("tokens") or spec.get("examples") else "all")
    if how not in ("all", "first", "sample"):
        raise JobError("input", f"run.dataset.select must be all, first or sample, got {how!r}")
    order = list(range(n))
    if how == "sample":
        random.Random(seed).shuffle(order)
    limit = int(spec["examples"]) if spec.get("examples") else n
    budget = int(spec["tokens"]) if spec.get("tokens") else None
    out, used = [], 0
    for i in order[:limit]:
        r = convert(ds[i])
        out.append(r)
        if budget is not None:
            used += _count_tokens(tokenizer, r)
            if used >= budget:
                break
    return out, used if budget is not None else None


def _write_jsonl(path, records):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(path + ".tmp", path)


def _fmt(kind):
    return {"instruction": "prompt_completion"}.get(kind, kind)


def load_train_eval(ds_cfg, tokenizer, emit, seed, run_dir=None):
    """(train format, train records, eval format, eval records, source) for a local file or a hub dataset."""
    if not ds_cfg.get("hub"):
        fmt, records = read_jsonl(ds_cfg["train"])
        if ds_cfg.get("eval"):
            efmt, eval_records = read_jsonl(ds_cfg["eval"])
            return fmt, records, efmt, eval_records, {"source": "local", "train": ds_cfg["train"]}
        tr, ev = split(records, float(ds_cfg.get("eval_fraction", 0.1)), seed)
        return fmt, tr, fmt, ev, {"source": "local", "train": ds_cfg["train"]}
    saved = os.path.join(run_dir, "data") if run_dir else None
    if saved and os.path.exists(os.path.join(saved, "train.jsonl")) and os.path.exists(os.path.join(saved, "source.json")):
        fmt, tr = read_jsonl(os.path.join(saved, "train.jsonl"))
        efmt, ev = read_jsonl(os.path.join(saved, "eval.jsonl")) if os.path.exists(os.path.join(saved, "eval.jsonl")) else (fmt, [])
        with open(os.path.join(saved, "source.json")) as f:
            return fmt, tr, efmt, ev, json.load(f)
    spec = dict(ds_cfg)
    ds, sha = load_split(spec, spec.get("split") or "train", emit)
    kind, mapping = detect_format(ds.column_names, spec.get("fields"))
    missing = [c for k, c in mapping.items() if c and k != "input" and c not in ds.column_names]
    if missing:
        raise JobError("input", f"dataset {spec['hub']} has no column {missing[0]!r} (columns: {', '.join(ds.column_names)})")
    convert = lambda row: to_record(kind, mapping, row)  # noqa: E731
    records, used = select(ds, spec, seed, tokenizer, convert)
    if spec.get("eval_split"):
        eds, _ = load_split(spec, spec["eval_split"], emit)
        ev_spec = {"select": "sample", "examples": int(spec.get("eval_examples") or 200)}
        ev, _ = select(eds, ev_spec, seed, tokenizer, convert)
        tr = records
    else:
        tr, ev = split(records, float(spec.get("eval_fraction", 0.1)), seed)
    source = {"source": "hub", "id": spec["hub"], "config": spec.get("config"), "split": spec.get("split") or "train", "revision": spec.get("revision") or "main", "sha": sha,
              "format": kind, "fields": mapping, "rows": len(ds), "selected": len(records), "train": len(tr), "eval": len(ev), "tokens": used}
    if saved:
        _write_jsonl(os.path.join(saved, "train.jsonl"), tr)
        _write_jsonl(os.path.join(saved, "eval.jsonl"), ev)
        with open(os.path.join(saved, "source.json"), "w") as f:
            json.dump(source, f, indent=2)
    emit("log", message=f"dataset {spec['hub']}: {len(records)} of {len(ds)} rows ({kind}{f', {used:,} tokens' if used else ''}), {len(tr)} train / {len(ev)} eval")
    return _fmt(kind), tr, _fmt(kind), ev, source


def general_text(spec, emit):
    """Text for perplexity from a hub dataset (e.g. WikiText-2 raw, test split), joined as the file would be."""
    ds, sha = load_split(dict(spec), spec.get("split") or "test", emit)
    field = (spec.get("fields") or {}).get("text") or spec.get("field") or "text"
    if field not in ds.column_names:
        raise JobError("input", f"dataset {spec['hub']} has no column {field!r} for general text (columns: {', '.join(ds.column_names)})")
    text = "".join(str(t) if str(t).endswith("\n") else str(t) + "\n" for t in ds[field])
    limit = spec.get("max_chars")
    return (text[: int(limit)] if limit else text), sha


def multiple_choice(spec, emit):
    """Items {question, choices, answer} from a hub dataset: ARC (choices{text,label}, answerKey), MMLU
    (choices list, answer index), HellaSwag (ctx, endings, label), or mapped with fields."""
    ds, sha = load_split(dict(spec), spec.get("split") or "test", emit)
    cols = set(ds.column_names)
    f = spec.get("fields") or {}
    items = []
    for row in ds:
        if f:
            q, choices, ans = row[f["question"]], row[f["choices"]], row[f["answer"]]
        elif {"question", "choices", "answerKey"} <= cols:  # ARC
            q, choices = row["question"], row["choices"]["text"]
            labels = row["choices"]["label"]
            ans = labels.index(row["answerKey"]) if row["answerKey"] in labels else None
        elif {"question", "choices", "answer"} <= cols:  # MMLU
            q, choices, ans = row["question"], row["choices"], row["answer"]
        elif {"ctx", "endings", "label"} <= cols:  # HellaSwag
            q, choices, ans = row["ctx"], row["endings"], row["label"]
        else:
            raise JobError("input", f"dataset {spec['hub']} columns {', '.join(sorted(cols))} are no multiple-choice layout fitlab knows: give fields {{question, choices, answer}}")
        if isinstance(choices, dict):
            choices = choices.get("text", [])
        if ans is None or ans == "" or not choices:
            continue
        items.append({"question": str(q), "choices": [str(c) for c in choices], "answer": int(ans)})
    if spec.get("limit"):
        random.Random(int(spec.get("seed", 0))).shuffle(items)
        items = items[: int(spec["limit"])]
    if not items:
        raise JobError("input", f"dataset {spec['hub']} gave no multiple-choice items")
    return items, sha


# ---- inputs of the inspections (Tracks B and C) ------------------------------------------------------------
def _write_source(path, source):
    with open(path + ".tmp", "w") as f:
        json.dump(source, f, indent=2)
    os.replace(path + ".tmp", path)


def _saved(out_dir, name):
    """A hub input already written into this run's folder (a rerun reads exactly the same rows)."""
    data, src = os.path.join(out_dir, name + ".jsonl"), os.path.join(out_dir, name + "_source.json")
    if os.path.exists(data) and os.path.exists(src):
        with open(src) as f:
            return data, json.load(f)
    return None


def prompts(spec, tokenizer, emit, seed, out_dir):
    """Prompts for attention and hidden-state extraction from a hub text set (e.g. WikiText), written into the
    run folder as prompts.jsonl ({"text"} per line). Each non-empty row is a prompt, or, with min_tokens,
    consecutive rows are joined (as the article reads) until a prompt has at least that many tokens, so the
    job can cut every prompt to the experiment's length. select first: from the start of the split; sample:
    from seeded random starting rows. examples: how many prompts (the plan's data.prompts).
    spec: {hub, config, split (train), revision, field (text) or fields {text}, select, examples, min_tokens}.
    Returns (path, source)."""
    have = _saved(out_dir, "prompts")
    if have:
        return have
    ds, sha = load_split(dict(spec), spec.get("split") or "train", emit)
    field = (spec.get("fields") or {}).get("text") or spec.get("field") or "text"
    if field not in ds.column_names:
        raise JobError("input", f"dataset {spec['hub']} has no column {field!r} for prompts (columns: {', '.join(ds.column_names)}): name it with run.prompts.field")
    import pyarrow.compute as pc

    column = ds.data.column(field)  # the Arrow column: a 1.8M-row split (WikiText-103) is never turned into a list
    n = len(column)
    want = int(spec.get("examples") or 0) or None
    min_tokens = int(spec.get("min_tokens") or 0)
    how = spec.get("select") or "first"
    if how not in ("first", "sample"):
        raise JobError("input", f"run.prompts.select must be first or sample, got {how!r}")
    filled = pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(pc.fill_null(column, ""))), 0)
    rows = pc.indices_nonzero(filled).to_pylist()
    if how == "sample":
        random.Random(seed).shuffle(rows)
    out, used_rows, tokens = [], set(), 0
    for i in rows:
        if want is not None and len(out) >= want:
            break
        if i in used_rows:
            continue
        if not min_tokens:
            text = str(column[i].as_py()).strip()
            used_rows.add(i)
            out.append(text)
            tokens += len(tokenizer(text, add_special_tokens=False)["input_ids"])
            continue
        parts, count, j = [], 0, i
        while j < n and count < min_tokens:
            t = column[j].as_py() or ""
            if t.strip():
                parts.append(t.rstrip("\n"))
                count += len(tokenizer(t, add_special_tokens=False)["input_ids"])
            used_rows.add(j)
            j += 1
        if count >= min_tokens:  # the split's tail may be too short for one more
            out.append("\n".join(parts).strip())
            tokens += count
    if not out:
        raise JobError("input", f"dataset {spec['hub']} split {spec.get('split') or 'train'} gave no prompts{f' of {min_tokens} tokens' if min_tokens else ''}")
    if want is not None and len(out) < want:
        emit("log", message=f"dataset {spec['hub']}: only {len(out)} prompts{f' of at least {min_tokens} tokens' if min_tokens else ''} in split {spec.get('split') or 'train'}, {want} asked for")
    path = os.path.join(out_dir, "prompts.jsonl")
    _write_jsonl(path, [{"text": t} for t in out])
    source = {"source": "hub", "id": spec["hub"], "config": spec.get("config"), "split": spec.get("split") or "train", "revision": spec.get("revision") or "main", "sha": sha,
              "field": field, "select": how, "rows": n, "prompts": len(out), "min_tokens": min_tokens or None, "tokens": tokens}
    _write_source(os.path.join(out_dir, "prompts_source.json"), source)
    emit("log", message=f"dataset {spec['hub']}: {len(out)} prompts ({tokens:,} tokens) from {n} rows")
    return path, source


# columns that hold token-level tags, in the order they are tried (CoNLL-2003, Universal Dependencies, others)
TOKEN_LABELS = ("pos_tags", "upos", "xpos", "ner_tags", "chunk_tags", "tags", "labels", "label")


def _names(feature):
    """Class names of a datasets ClassLabel (or a Sequence/list of one), else None."""
    inner = getattr(feature, "feature", None)
    if inner is None and isinstance(feature, list) and feature:
        inner = feature[0]
    f = inner if inner is not None else feature
    return list(f.names) if hasattr(f, "names") and getattr(f, "names", None) else None


def probe_records(spec, emit, seed, out_dir):
    """Labelled probe data from a hub set, written into the run folder as probe.jsonl: sentence-level
    {"text","label"} (e.g. SST-2: sentence, label) or token-level {"tokens","labels"} (e.g. CoNLL-2003 or
    Universal Dependencies: tokens, pos_tags/upos). Class ids become their names when the column is a
    ClassLabel; rows without a label (-1, as in SST-2's test split) and words with spaces are left out.
    spec: {hub, config, split (train), revision, fields {text,label} | {tokens,labels}, select, examples}.
    Returns (path, source)."""
    have = _saved(out_dir, "probe")
    if have:
        return have
    ds, sha = load_split(dict(spec), spec.get("split") or "train", emit)
    cols = set(ds.column_names)
    f = dict(spec.get("fields") or {})
    if not f:
        text = next((c for c in ("text", "sentence", "content") if c in cols), None)
        if "tokens" in cols:
            lab = next((c for c in TOKEN_LABELS if c in cols and c != "label"), None)
            f = {"tokens": "tokens", "labels": lab} if lab else {}
        elif text and "label" in cols:
            f = {"text": text, "label": "label"}
    level = "token" if "tokens" in f else "sentence" if "text" in f else None
    if level is None or not all(f.get(k) for k in (("tokens", "labels") if level == "token" else ("text", "label"))):
        raise JobError("input", f"dataset {spec['hub']} columns {', '.join(sorted(cols))}: give run.probe_data.fields as {{text, label}} or {{tokens, labels}}")
    for k, c in f.items():
        if c not in cols:
            raise JobError("input", f"dataset {spec['hub']} has no column {c!r} for the probe's {k} (columns: {', '.join(sorted(cols))})")
    label_col = f["labels"] if level == "token" else f["label"]
    names = _names(ds.features[label_col])
    order = list(range(len(ds)))
    how = spec.get("select") or "sample"
    if how not in ("first", "sample"):
        raise JobError("input", f"run.probe_data.select must be first or sample, got {how!r}")
    if how == "sample":
        random.Random(seed).shuffle(order)
    want = int(spec.get("examples") or 0) or None
    name_of = (lambda v: names[int(v)] if names is not None and 0 <= int(v) < len(names) else v)  # noqa: E731
    out, skipped = [], 0
    for i in order:
        if want is not None and len(out) >= want:
            break
        row = ds[i]
        if level == "sentence":
            t, y = str(row[f["text"]] or ""), row[f["label"]]
            if not t.strip() or y is None or (isinstance(y, int) and y < 0):
                skipped += 1
                continue
            out.append({"text": t, "label": name_of(y)})
        else:
            toks, ys = list(row[f["tokens"]] or []), list(row[f["labels"]] or [])
            if not toks or len(toks) != len(ys) or any((not str(t).strip()) or any(ch.isspace() for ch in str(t)) for t in toks):
                skipped += 1
                continue
            out.append({"tokens": [str(t) for t in toks], "labels": [name_of(y) for y in ys]})
    if not out:
        raise JobError("input", f"dataset {spec['hub']} split {spec.get('split') or 'train'} has no labelled rows for a probe")
    path = os.path.join(out_dir, "probe.jsonl")
    _write_jsonl(path, out)
    source = {"source": "hub", "id": spec["hub"], "config": spec.get("config"), "split": spec.get("split") or "train", "revision": spec.get("revision") or "main", "sha": sha,
              "level": level, "fields": f, "class_names": names, "rows": len(ds), "examples": len(out), "skipped": skipped}
    _write_source(os.path.join(out_dir, "probe_source.json"), source)
    emit("log", message=f"dataset {spec['hub']}: {len(out)} {level}-level probe examples of {len(ds)} rows{f' ({skipped} without a label left out)' if skipped else ''}")
    return path, source
