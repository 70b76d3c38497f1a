"""Exact attention statistics under any attention backend, one layer at a time.

transformers 5 attention modules (Llama, Qwen2, Mistral, Gemma...) call the function registered under
config._attn_implementation in ALL_ATTENTION_FUNCTIONS with the post-RoPE query [B, Hq, T, D] and key
[B, Hkv, T, D] (modeling_qwen2.py Qwen2Attention.forward). We register our own function: it recomputes
softmax(Q K^T * scaling + mask) in chunks of query rows (repeat_kv for GQA, as eager_attention_forward does),
reduces each chunk to statistics, pooled maps and the few full-resolution maps asked for, drops it, and then
returns SDPA's output, so the model computes exactly what it computes under "sdpa". The mask comes from
sdpa_mask (masking_utils.py), registered under the same name: None means plain causal.

Per query head, over query rows i >= 1 of a prompt (row 0 can only attend to itself) and then over prompts:
  entropy            -sum_j p_ij ln p_ij (nats)
  mean_distance      sum_j p_ij (i - j) (tokens)
  first_token_share  p_i0 (the sink, Xiao et al. 2024; Gu et al. 2025)
  prev_token_share   p_i,i-1
  self_share         p_ii
"""
import torch

NAME = "fitlab_capture"
STATS = ("entropy", "mean_distance", "first_token_share", "prev_token_share", "self_share")
# fp32 [Hq, rows, T] tensors alive at once while a chunk is reduced: scores/probabilities, the x*log(x) term
# and the pooling product (and, comparing, the base probabilities and the two JS terms). The planner's
# attention_extract term (src/memory/extraction.ts) uses the same factors to size the chunk.
WORKSPACE_TENSORS = {"attention": 3, "compare": 6}

_recorder = None


def chunk_rows(n_heads, seq, chunk_bytes, job="attention"):
    """Query rows per chunk so that the chunk's fp32 workspace stays within chunk_bytes (at least 1 row)."""
    per_row = WORKSPACE_TENSORS[job] * n_heads * seq * 4
    return max(1, min(seq, int(chunk_bytes) // per_row))


def _capture(module, query, key, value, attention_mask, dropout=0.0, scaling=None, **kwargs):
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    if _recorder is not None:
        _recorder.layer(module.layer_idx, query, key, attention_mask, scaling if scaling is not None else module.scaling)
    return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs)


def install(model):
    """Route every attention module of `model` through _capture (SDPA for the output)."""
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask
    from transformers.modeling_utils import AttentionInterface

    from .load import base_of

    AttentionInterface.register(NAME, _capture)
    AttentionMaskInterface.register(NAME, sdpa_mask)
    base_of(model).set_attn_implementation(NAME)


def recording(rec):
    """Context manager: route captured layers to `rec` during one forward pass."""
    import contextlib

    @contextlib.contextmanager
    def cm():
        global _recorder
        _recorder = rec
        try:
            yield rec
        finally:
            _recorder = None

    return cm()


def repeat_kv(x, n_rep):
    """[Hkv, T, D] -> [Hkv * n_rep, T, D], query head h reading key head h // n_rep (transformers' repeat_kv)."""
    if n_rep == 1:
        return x
    h, t, d = x.shape
    return x[:, None].expand(h, n_rep, t, d).reshape(h * n_rep, t, d)


def allowed(attention_mask, i0, i1, seq, device):
    """Boolean [rows, T] of the keys each query row may see, or an additive float mask."""
    if attention_mask is None:
        rows = torch.arange(i0, i1, device=device)[:, None]
        return rows >= torch.arange(seq, device=device)[None, :]
    m = attention_mask[0, 0, i0:i1, :seq]
    return m


def probs_chunk(q, k_rep, attention_mask, scaling, i0, i1):
    """softmax(Q K^T * scaling + mask) for query rows i0:i1, in fp32: [Hq, rows, T]."""
    seq = k_rep.shape[1]
    s = torch.matmul(q[:, i0:i1].float(), k_rep.transpose(1, 2)) * scaling
    m = allowed(attention_mask, i0, i1, seq, s.device)
    if m.dtype == torch.bool:
        s.masked_fill_(~m[None], float("-inf"))
    else:
        s += m[None].float()
    return torch.softmax(s, dim=-1)


def js_rows(p, q):
    """Jensen-Shannon divergence (nats, at most ln 2) of each row of p and q: [H, rows]."""
    m = 0.5 * (p + q)
    kl_p = (torch.special.xlogy(p, p) - torch.special.xlogy(p, m)).sum(-1)
    kl_q = (torch.special.xlogy(q, q) - torch.special.xlogy(q, m)).sum(-1)
    return (0.5 * (kl_p + kl_q)).clamp_min(0)


class PromptRecorder:
    """Statistics, pooled maps and chosen full maps of one prompt, fed one layer (and one chunk) at a time.

    keep_pooled: keep [L, H, P, P] block-mean maps (P = min(T, pool)). full_heads: {(layer, head)} kept at full
    resolution. store_qk: keep each layer's post-RoPE Q and K on the CPU (the base pass of a comparison).
    base_qk: {layer: (q, k)} from a base pass: the JS divergence of every row against it.
    """

    def __init__(self, n_layers, n_heads, seq, rows, pool=128, keep_pooled=False, full_heads=(), store_qk=False, base_qk=None, full_dtype=torch.float16):
        self.L, self.H, self.T, self.rows = n_layers, n_heads, seq, rows
        self.sums = torch.zeros(n_layers, n_heads, len(STATS), dtype=torch.float64)
        self.js = torch.zeros(n_layers, n_heads, dtype=torch.float64) if base_qk is not None else None
        self.P = min(seq, pool)
        self.pooled = torch.zeros(n_layers, n_heads, self.P, self.P, dtype=torch.float16) if keep_pooled else None
        self.full_heads = set(full_heads)
        self.full_dtype = full_dtype
        self.full = {}
        self.store_qk = store_qk
        self.qk = {}
        self.base_qk = base_qk
        self.seen = set()

    @property
    def valid_rows(self):
        return self.T - 1

    def layer(self, l, query, key, attention_mask, scaling):
        """Called from inside the attention module: recompute this layer's maps chunk by chunk and reduce them."""
        assert query.shape[0] == 1, "one prompt at a time"
        q = query[0]
        k = key[0]
        if q.shape[1] != k.shape[1]:
            raise RuntimeError("attention capture runs without a KV cache: query and key lengths must match")
        if self.store_qk:
            self.qk[l] = (q.detach().to("cpu", copy=True), k.detach().to("cpu", copy=True))
        k_rep = repeat_kv(k.float(), q.shape[0] // k.shape[0])
        base = None
        if self.base_qk is not None:
            bq, bk = self.base_qk[l]
            bq = bq.to(q.device)
            base = (bq, repeat_kv(bk.to(k.device).float(), bq.shape[0] // bk.shape[0]))
        self._begin(l, q.device)
        for i0 in range(0, self.T, self.rows):
            i1 = min(self.T, i0 + self.rows)
            p = probs_chunk(q, k_rep, attention_mask, scaling, i0, i1)
            pb = probs_chunk(base[0], base[1], attention_mask, scaling, i0, i1) if base is not None else None
            self._consume(l, i0, i1, p, pb)
            del p, pb
        self._end(l)

    def layer_from_maps(self, l, maps):
        """The same reductions from a full [H, T, T] map (eager attention with output_attentions)."""
        self._begin(l, maps.device)
        for i0 in range(0, self.T, self.rows):
            i1 = min(self.T, i0 + self.rows)
            self._consume(l, i0, i1, maps[:, i0:i1].float(), None)
        self._end(l)

    def _begin(self, l, device):
        self.seen.add(l)
        self._acc = torch.zeros(self.H, len(STATS), dtype=torch.float64, device=device)
        self._js = torch.zeros(self.H, dtype=torch.float64, device=device) if self.js is not None else None
        if self.pooled is not None:
            P, T = self.P, self.T
            self._bins = (torch.arange(T, device=device) * P) // T
            counts = torch.bincount(self._bins, minlength=P).float()
            self._key_pool = torch.zeros(T, P, device=device)
            self._key_pool[torch.arange(T, device=device), self._bins] = 1.0 / counts[self._bins]
            self._row_counts = counts
            self._pool_acc = torch.zeros(self.H, P, P, device=device)
        self._cols = torch.arange(self.T, device=device, dtype=torch.float32)
        for (fl, fh) in self.full_heads:
            if fl == l:
                self.full[(fl, fh)] = torch.zeros(self.T, self.T, dtype=self.full_dtype)

    def _consume(self, l, i0, i1, p, pb):
        dev = p.device
        rows = torch.arange(i0, i1, device=dev)
        ar = torch.arange(i1 - i0, device=dev)
        valid = (rows >= 1).to(torch.float64)
        ent = -torch.special.xlogy(p, p).sum(-1)
        dist = rows.float()[None] - torch.matmul(p, self._cols)  # sum_j p_ij (i - j): the rows sum to 1
        first = p[:, :, 0]
        own = p[:, ar, rows]
        prev = p[:, ar, (rows - 1).clamp_min(0)]
        stacked = torch.stack([ent, dist, first, prev, own], dim=-1).double()  # [H, rows, 5]
        self._acc += (stacked * valid[None, :, None]).sum(1)
        if pb is not None:
            self._js += (js_rows(p, pb).double() * valid[None]).sum(1)
        if self.pooled is not None:
            self._pool_acc.index_add_(1, self._bins[i0:i1], torch.matmul(p, self._key_pool))
        for (fl, fh), full in self.full.items():
            if fl == l:
                full[i0:i1] = p[fh].to("cpu", self.full_dtype)

    def _end(self, l):
        self.sums[l] = self._acc.cpu()
        if self._js is not None:
            self.js[l] = self._js.cpu()
        if self.pooled is not None:
            self.pooled[l] = (self._pool_acc / self._row_counts[None, :, None]).to("cpu", torch.float16)
            del self._pool_acc, self._key_pool
        del self._acc

    def means(self):
        """[L, H, 5] per-row means of this prompt (None for a one-token prompt)."""
        if self.valid_rows < 1:
            return None
        return self.sums / self.valid_rows

    def js_means(self):
        return None if self.js is None or self.valid_rows < 1 else self.js / self.valid_rows


def parse_heads(spec, n_layers, n_heads):
    """"all" or a list of "L.H" / [L, H] -> a set of (layer, head)."""
    from ..protocol import JobError

    if not spec:
        return set()
    if spec == "all":
        return {(l, h) for l in range(n_layers) for h in range(n_heads)}
    out = set()
    for item in spec:
        try:
            l, h = (int(x) for x in (item.split(".") if isinstance(item, str) else item))
        except (ValueError, TypeError):
            raise JobError("input", f"head {item!r} is not LAYER.HEAD (e.g. 3.7)")
        if not (0 <= l < n_layers and 0 <= h < n_heads):
            raise JobError("input", f"head {l}.{h} does not exist: the model has {n_layers} layers of {n_heads} query heads")
        out.add((l, h))
    return out
