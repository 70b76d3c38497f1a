"""The residual stream, one layer at a time: forward hooks on the embeddings and on every decoder layer hand
each [T, hidden] tensor to a reducer and keep nothing, so the forward pass holds one layer's stream as usual.

Statistics per layer (0 = embeddings, l = output of decoder layer l, before the final norm):
  norms        the L2 norm of every token's vector
  anisotropy   mean cosine similarity of pairs of distinct sampled tokens (Ethayarajh 2019)
  outlier dims max |activation| of each dim over all tokens, as a ratio to the median |activation| of the
               layer (over the sampled tokens): "massive activations" (Sun et al. 2024) stand 10^3-10^4 above it
  linear CKA   between layers, on the same sampled tokens (Kornblith et al. 2019, Gram form)
"""
import contextlib

import torch

from .load import base_of, decoder_layers


@contextlib.contextmanager
def hooked(model, reduce):
    """During the block, reduce(layer, x[T, hidden]) is called for the embeddings (0) and each layer (1..L)."""
    base = base_of(model)
    handles = []

    def make(l):
        def hook(_module, _inputs, output):
            x = output[0] if isinstance(output, (tuple, list)) else output
            reduce(l, x[0].detach())

        return hook

    handles.append(base.get_input_embeddings().register_forward_hook(make(0)))
    for i, layer in enumerate(decoder_layers(model)):
        handles.append(layer.register_forward_hook(make(i + 1)))
    try:
        yield
    finally:
        for h in handles:
            h.remove()


def sample_positions(seq, k, generator):
    if k >= seq:
        return torch.arange(seq)
    return torch.randperm(seq, generator=generator)[:k].sort().values


class LayerStats:
    """Running per-layer statistics over all tokens of all prompts; sampled token vectors kept on the CPU."""

    def __init__(self, n_points):
        self.n = n_points
        self.norms = [[] for _ in range(n_points)]
        self.maxabs = [None] * n_points
        self.argmax = [None] * n_points  # (prompt, position) of each dim's max
        self.samples = [[] for _ in range(n_points)]

    def add(self, l, x, prompt, sample_idx):
        xf = x.float()
        self.norms[l].append(xf.norm(dim=-1).cpu())
        a, pos = xf.abs().max(dim=0)
        a, pos = a.cpu(), pos.cpu()
        if self.maxabs[l] is None:
            self.maxabs[l] = a
            self.argmax[l] = torch.stack([torch.full_like(pos, prompt), pos], 1)
        else:
            better = a > self.maxabs[l]
            self.maxabs[l] = torch.where(better, a, self.maxabs[l])
            self.argmax[l][better] = torch.stack([torch.full_like(pos, prompt), pos], 1)[better]
        if len(sample_idx):
            self.samples[l].append(xf[sample_idx.to(xf.device)].cpu())

    def sampled(self, l):
        return torch.cat(self.samples[l]) if self.samples[l] else torch.zeros(0)

    def summary(self, l, outlier_ratio=100.0, top=5):
        norms = torch.cat(self.norms[l])
        s = self.sampled(l)
        median = float(s.abs().median()) if s.numel() else None
        ratio = self.maxabs[l] / max(median or 0.0, 1e-12)
        order = torch.argsort(ratio, descending=True)[:top]
        dims = [{"dim": int(d), "max_abs": float(self.maxabs[l][d]), "ratio": float(ratio[d]), "prompt": int(self.argmax[l][d, 0]), "position": int(self.argmax[l][d, 1])} for d in order]
        q = torch.quantile(norms, torch.tensor([0.05, 0.5, 0.95])) if norms.numel() > 1 else norms.repeat(3)
        return {
            "mean_norm": float(norms.mean()),
            "norm_p05": float(q[0]),
            "median_norm": float(q[1]),
            "norm_p95": float(q[2]),
            "max_norm": float(norms.max()),
            "anisotropy": anisotropy(s),
            "median_abs": median,
            "top_dims": dims,
            "outlier_dims": [d for d in dims if d["ratio"] >= outlier_ratio],
        }


def anisotropy(x):
    """Mean cosine similarity over pairs of distinct rows of x."""
    n = x.shape[0]
    if n < 2:
        return None
    u = torch.nn.functional.normalize(x.double(), dim=1)
    c = u @ u.T
    return float((c.sum() - c.diagonal().sum()) / (n * (n - 1)))


def centered_gram(x):
    xc = x.double() - x.double().mean(0, keepdim=True)
    return xc @ xc.T


def cka_matrix(xs, ys=None):
    """Linear CKA between every pair (xs[i], ys[j]) of same-row feature matrices: <Kc, Lc> / (|Kc| |Lc|)."""
    def flat(group):
        out = []
        for x in group:
            k = centered_gram(x).flatten()
            out.append(k / k.norm().clamp_min(1e-30))
        return torch.stack(out)

    a = flat(xs)
    b = a if ys is None else flat(ys)
    return (a @ b.T).clamp(-1, 1)


def logit_lens(model, x, positions, k):
    """Top-k next tokens read from the residual stream at `positions` through the final norm and the unembedding
    (nostalgebraist 2020). Only len(positions) x vocab logits exist at once, never every position."""
    base = base_of(model)
    norm = getattr(getattr(base, "model", base), "norm", None)
    head = base.get_output_embeddings()
    h = x[positions]
    if norm is not None:
        h = norm(h)
    logits = head(h.to(head.weight.dtype) if head.weight.dtype.is_floating_point else h).float()
    p = torch.softmax(logits, dim=-1)
    top = p.topk(k, dim=-1)
    return top.indices.cpu(), top.values.cpu()
