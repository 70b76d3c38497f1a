"""Write tiny datasets in the layouts real hub datasets use (parquet shards under data/ or per-config
folders, a README whose YAML names the configs), for the hub stand-in (test/support/hub-standin.ts).
Usage: python make_hub_fixtures.py OUT_DIR WORDS_JSON. Shapes copy the real sets the default plan names:
an Alpaca-style instruction set (instruction/input/output), a chat set (messages), WikiText-style text
(config wikitext-2-raw-v1, split test), ARC-style multiple choice (config ARC-Easy: question,
choices{text,label}, answerKey), SST-2-style sentence labels and CoNLL-style token tags for probes."""
import json
import os
import random
import sys

import pyarrow as pa
import pyarrow.parquet as pq


def write(path, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)


def main(out, words_file):
    words = json.load(open(words_file))
    rng = random.Random(0)
    letters = [w for w in words if len(w) == 1 and w.isalpha()][:8] or ["a", "b", "c", "d"]
    # instruction set: "count x y z" -> "x y z" (learnable by a tiny model)
    rows = []
    for i in range(120):
        seq = [rng.choice(letters) for _ in range(3)]
        rows.append({"instruction": "count", "input": " ".join(seq), "output": " ".join(seq)})
    write(f"{out}/alpaca/data/train-00000-of-00001.parquet", rows)
    # chat set
    rows = [{"messages": [{"role": "user", "content": "count " + " ".join(s)}, {"role": "assistant", "content": " ".join(s)}]} for s in ([rng.choice(letters) for _ in range(3)] for _ in range(60))]
    write(f"{out}/chat/data/train-00000-of-00001.parquet", rows)
    # text with configs (WikiText layout)
    text_rows = [{"text": " ".join(rng.choice(letters) for _ in range(12))} for _ in range(40)]
    for split in ("train", "validation", "test"):
        write(f"{out}/wikitext/wikitext-2-raw-v1/{split}-00000-of-00001.parquet", text_rows)
    open(f"{out}/wikitext/README.md", "w").write(
        "---\nconfigs:\n- config_name: wikitext-2-raw-v1\n  data_files:\n  - split: train\n    path: wikitext-2-raw-v1/train-*\n"
        "  - split: validation\n    path: wikitext-2-raw-v1/validation-*\n  - split: test\n    path: wikitext-2-raw-v1/test-*\n---\n# tiny wikitext stand-in\n"
    )
    # multiple choice with configs (ARC layout)
    mc = []
    for i in range(20):
        s = [rng.choice(letters) for _ in range(2)]
        right = " ".join(s)
        wrong = " ".join(reversed(s)) if s[0] != s[1] else letters[0] + " " + letters[1]
        order = [right, wrong] if i % 2 == 0 else [wrong, right]
        mc.append({"id": f"q{i}", "question": "count " + right, "choices": {"text": order, "label": ["A", "B"]}, "answerKey": "A" if i % 2 == 0 else "B"})
    write(f"{out}/arc/ARC-Easy/test-00000-of-00001.parquet", mc)
    open(f"{out}/arc/README.md", "w").write(
        "---\nconfigs:\n- config_name: ARC-Easy\n  data_files:\n  - split: test\n    path: ARC-Easy/test-*\n---\n# tiny ARC stand-in\n"
    )
    # sentence-level probe data (SST-2 layout: idx, sentence, label as a ClassLabel; the test split is unlabelled, -1),
    # written with the `datasets` library so the parquet carries the ClassLabel names as the hub's files do
    from datasets import ClassLabel, Dataset, Features, Sequence, Value

    feats = Features({"idx": Value("int32"), "sentence": Value("string"), "label": ClassLabel(names=["negative", "positive"])})
    sst = [{"idx": i, "sentence": "count " + " ".join(rng.choice(letters) for _ in range(5)), "label": i % 2} for i in range(60)]
    os.makedirs(f"{out}/sst2/data", exist_ok=True)
    Dataset.from_list(sst, features=feats).to_parquet(f"{out}/sst2/data/train-00000-of-00001.parquet")
    Dataset.from_list([{**r, "label": -1} for r in sst[:10]], features=feats).to_parquet(f"{out}/sst2/data/test-00000-of-00001.parquet")
    # token-level probe data (CoNLL-2003 layout: tokens and pos_tags, a sequence of ClassLabel)
    tags = ["NN", "DT", "VB"]
    feats = Features({"id": Value("string"), "tokens": Sequence(Value("string")), "pos_tags": Sequence(ClassLabel(names=tags))})
    rows = []
    for i in range(40):
        toks = [rng.choice(letters) for _ in range(4)]
        rows.append({"id": str(i), "tokens": toks, "pos_tags": [letters.index(t) % 3 for t in toks]})
    rows.append({"id": "spaced", "tokens": ["a b", "c"], "pos_tags": [0, 1]})  # a word with a space: left out
    os.makedirs(f"{out}/conll/data", exist_ok=True)
    Dataset.from_list(rows, features=feats).to_parquet(f"{out}/conll/data/train-00000-of-00001.parquet")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
