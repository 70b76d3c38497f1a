"""Packing without cross-contamination.

Whole examples are placed into rows of at most max_len tokens (first-fit decreasing, deterministic), so no
example is cut. In a row, position ids restart at 0 for every example, and the first label of each example
is -100 (so the previous example's last token is not trained to predict it: the same rule as transformers'
DataCollatorWithFlattening, data/data_collator.py). The batch carries no attention_mask: transformers 5
(masking_utils.py find_packed_sequence_indices) then reads the example boundaries from the position ids and
builds a block-diagonal causal mask for sdpa/eager (flash-attention uses them as varlen boundaries), so a
token attends only to earlier tokens of its own example. A packed row therefore gives each example the
loss it has alone (checked in test/runs/lean.test.ts within 1e-5). transformers reads packed position ids only
when the forward has no KV cache (masking_utils.py _preprocess_mask_arguments: past_key_values is None), so
every forward over packed rows passes use_cache=False.
Padding at the end of a row is its own segment (positions 0..k-1, labels -100), so it attends to nothing real.
"""


def pack(examples, max_len):
    """Rows (lists of examples) of at most max_len tokens each, first-fit decreasing by length."""
    order = sorted(range(len(examples)), key=lambda i: (-len(examples[i][0]), i))
    rows, room = [], []
    for i in order:
        n = len(examples[i][0])
        for r in range(len(rows)):
            if room[r] >= n:
                rows[r].append(examples[i])
                room[r] -= n
                break
        else:
            rows.append([examples[i]])
            room.append(max_len - n)
    return rows


def fill(rows, max_len):
    """Share of the rows' token slots that hold real tokens."""
    used = sum(len(ids) for row in rows for ids, _ in row)
    return used / max(1, len(rows) * max_len)


def collate(rows, pad_id):
    """Tensors for a micro-batch of packed rows: input_ids, position_ids, labels (no attention mask)."""
    import torch

    width = max(sum(len(i) for i, _ in row) for row in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    position_ids = torch.zeros((len(rows), width), dtype=torch.long)
    real = 0
    for r, row in enumerate(rows):
        at = 0
        for ids, labs in row:
            n = len(ids)
            input_ids[r, at : at + n] = torch.tensor(ids)
            labels[r, at : at + n] = torch.tensor(labs)
            labels[r, at] = -100  # never predicted from the previous example
            position_ids[r, at : at + n] = torch.arange(n)
            at += n
        real += at
        position_ids[r, at:] = torch.arange(width - at)  # padding: a segment of its own
    return {"input_ids": input_ids, "position_ids": position_ids, "labels": labels}, real


def collate_padded(batch, pad_id):
    """Unpacked examples, right-padded to the longest, with an attention mask."""
    from .data import collate as pad_collate

    ids, mask, labels = pad_collate(batch, pad_id)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}, int(mask.sum())
