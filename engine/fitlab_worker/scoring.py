"""Loss, perplexity and multiple-choice scoring, shared by training and evaluation so a reloaded
adapter reproduces the training run's eval loss exactly."""
import math

from .data import collate

EVAL_CHUNK_TOKENS = 1024


def eval_loss(model, examples, batch_size, pad_id, device):
    """Mean token cross-entropy over the examples' labelled tokens."""
    import torch

    from . import loss as lossmod

    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    # the lean runner's head: lm_head + cross-entropy over token chunks, never the whole [tokens, vocab]
    # logits (a 7B model's fp32 logits at 8,192 tokens are 5 GB); other architectures use the full logits
    head = lossmod.supports_head_loss(model)
    with torch.no_grad():
        for s in range(0, len(examples), batch_size):
            ids, mask, labels = collate(examples[s : s + batch_size], pad_id)
            ids, mask, labels = ids.to(device), mask.to(device), labels.to(device)
            if head:
                hidden, targets = lossmod.head_inputs(model, {"input_ids": ids, "attention_mask": mask, "labels": labels})
                total += lossmod.chunked_cross_entropy(hidden, targets, lossmod.lm_head_of(model), EVAL_CHUNK_TOKENS, lossmod.softcap_of(model)).item() * targets.numel()
                count += targets.numel()
                continue
            logits = model(input_ids=ids, attention_mask=mask).logits.float()
            shift_logits, shift_labels = logits[:, :-1], labels[:, 1:]
            loss = torch.nn.functional.cross_entropy(shift_logits.reshape(-1, shift_logits.size(-1)), shift_labels.reshape(-1), ignore_index=-100, reduction="sum")
            total += loss.item()
            count += int((shift_labels != -100).sum())
    if was_training:
        model.train()
    return total / max(count, 1)


def perplexity(model, tokenizer, text, max_len, device):
    """Perplexity of a text file, in non-overlapping windows of max_len tokens."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    windows = [(ids[s : s + max_len], ids[s : s + max_len]) for s in range(0, max(1, len(ids) - 1), max_len)]
    windows = [w for w in windows if len(w[0]) > 1]
    if not windows:
        raise ValueError("the general-text file has fewer than 2 tokens")
    return math.exp(eval_loss(model, windows, 4, tokenizer.pad_token_id, device))


def multiple_choice(model, tokenizer, items, device):
    """Accuracy: the choice with the highest total log-likelihood after the question wins."""
    import torch

    model.eval()
    correct = 0
    with torch.no_grad():
        for it in items:
            q = tokenizer(it["question"], add_special_tokens=False)["input_ids"]
            scores = []
            for choice in it["choices"]:
                c = tokenizer(" " + choice if not choice.startswith(" ") else choice, add_special_tokens=False)["input_ids"]
                ids = torch.tensor([q + c], device=device)
                logp = torch.log_softmax(model(input_ids=ids).logits.float()[0, :-1], dim=-1)
                target = ids[0, 1:]
                lp = logp[torch.arange(len(target)), target][len(q) - 1 :].sum().item()
                scores.append(lp)
            correct += int(max(range(len(scores)), key=lambda i: scores[i]) == int(it["answer"]))
    return correct / len(items)
