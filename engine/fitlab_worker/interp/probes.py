"""Linear probes on cached features, with a control task (Hewitt & Liang 2019, "Designing and Interpreting
Probes with Control Tasks"): the same probe trained on labels that carry no linguistic information (each word
type, or each example, mapped to a fixed random label drawn from the real label distribution). Selectivity =
accuracy - control accuracy: how much of the accuracy the representation, not the probe's memory, explains.

The probe is multinomial logistic regression on standardised features with an L2 penalty, fitted full-batch
by L-BFGS (the solver scikit-learn's LogisticRegression uses by default)."""
import json
import random

import torch


def class_ids(labels):
    names = sorted({json.dumps(l) for l in labels})
    index = {n: i for i, n in enumerate(names)}
    return [index[json.dumps(l)] for l in labels], [json.loads(n) for n in names]


def control_labels(keys, real, n_classes, seed):
    """A fixed random label per key (word type or example), drawn from the empirical distribution of `real`."""
    rng = random.Random(seed)
    table = {}
    out = []
    for k in keys:
        if k not in table:
            table[k] = real[rng.randrange(len(real))]
        out.append(table[k])
    return out


def split_groups(n_groups, holdout, seed):
    idx = list(range(n_groups))
    random.Random(seed).shuffle(idx)
    n_test = max(1, int(round(n_groups * holdout)))
    return set(idx[n_test:]), set(idx[:n_test])


def fit(x_train, y_train, x_test, y_test, n_classes, l2=1e-3, max_iter=200, device="cpu"):
    """(held-out accuracy, train accuracy) of a linear probe."""
    xtr = x_train.to(device, torch.float32)
    xte = x_test.to(device, torch.float32)
    mu = xtr.mean(0, keepdim=True)
    sd = xtr.std(0, keepdim=True).clamp_min(1e-6) if xtr.shape[0] > 1 else torch.ones_like(mu)
    xtr = (xtr - mu) / sd
    xte = (xte - mu) / sd
    ytr = torch.as_tensor(y_train, device=device)
    yte = torch.as_tensor(y_test, device=device)
    with torch.enable_grad():
        w = torch.zeros(xtr.shape[1], n_classes, device=device, requires_grad=True)
        b = torch.zeros(n_classes, device=device, requires_grad=True)
        opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=max_iter, history_size=10, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(xtr @ w + b, ytr) + l2 * (w * w).sum()
            loss.backward()
            return loss

        opt.step(closure)
    with torch.no_grad():
        acc = float(((xte @ w + b).argmax(1) == yte).float().mean())
        train_acc = float(((xtr @ w + b).argmax(1) == ytr).float().mean())
    return acc, train_acc


def majority(y_train, y_test):
    counts = {}
    for y in y_train:
        counts[y] = counts.get(y, 0) + 1
    top = max(counts, key=counts.get)
    return sum(1 for y in y_test if y == top) / max(1, len(y_test))
