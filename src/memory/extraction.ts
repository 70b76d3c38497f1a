// Terms of the inspection jobs (engine/fitlab_worker/jobs/attention.py, compare.py, hidden.py, probe.py):
// what they hold on the device beyond the model's own forward pass, and what they write to disk per prompt.
// The jobs and this file share their constants (chunk budget, workspace factors, pooled size), so the
// planner describes the jobs as they run: `fitlab inspect` passes ATTENTION_CHUNK_BYTES to the worker.
import type { MemoryContext } from "./context.js";

/** fp32 workspace budget of one chunk of query rows (the worker's chunk_bytes). */
export const ATTENTION_CHUNK_BYTES = 64 * 2 ** 20;
/** fp32 [heads x rows x T] tensors alive while a chunk is reduced (interp/attention.py WORKSPACE_TENSORS):
 *  scores/probabilities, x*log(x) and the pooling product; comparing adds the base model's probabilities
 *  and the two KL terms of the Jensen-Shannon divergence. */
export const WORKSPACE_TENSORS = { attention: 3, compare: 6 } as const;
/** Pooled maps are at most this many bins a side (block means), stored as float16. */
export const POOLED_MAP_SIZE = 128;
/** L-BFGS history (torch.optim.LBFGS history_size in interp/probes.py): two head-sized vectors per step. */
export const PROBE_LBFGS_HISTORY = 10;

export type AttentionJob = keyof typeof WORKSPACE_TENSORS;

/** Query rows per chunk so that the chunk's fp32 workspace stays within the budget (at least one). */
export function attentionChunkRows(numHeads: number, seqLen: number, job: AttentionJob = "attention", chunkBytes = ATTENTION_CHUNK_BYTES): number {
  const perRow = WORKSPACE_TENSORS[job] * numHeads * seqLen * 4;
  return Math.max(1, Math.min(seqLen, Math.floor(chunkBytes / perRow)));
}

/** Per-layer capture (fitlab's recompute): while one layer's chunk is reduced the device holds that layer's
 *  q, k, v and attention output with the stream and its normed copy (as the SDPA forward does), the keys
 *  repeated to every query head in fp32 (repeat_kv, as eager_attention_forward does), the chunk workspace and
 *  the pooling accumulators. Comparing adds the base pass's q and k for that layer (kept on the CPU between
 *  passes) and their repeated keys. No map of another layer exists at that moment. */
export function recomputeAttentionBytes(ctx: MemoryContext, job: AttentionJob): number {
  const { spec, workload } = ctx;
  const s = workload.seqLen;
  const tokens = s * workload.batch;
  const a = ctx.actBytes;
  const qd = spec.numHeads * spec.headDim;
  const kvd = spec.numKvHeads * spec.headDim;
  const layerTensors = tokens * a * (2 * qd + 2 * kvd + 2 * spec.hiddenSize);
  const repeatedKeys = spec.numHeads * s * spec.headDim * 4;
  const rows = attentionChunkRows(spec.numHeads, s, job);
  const chunk = WORKSPACE_TENSORS[job] * spec.numHeads * rows * s * 4;
  const pool = Math.min(s, POOLED_MAP_SIZE);
  const pooling = s * pool * 4 + spec.numHeads * pool * pool * 4;
  const base = job === "compare" ? tokens * a * (qd + kvd) + repeatedKeys : 0;
  return layerTensors + repeatedKeys + chunk + pooling + base;
}

/** All layers at once (output_attentions=True under eager attention, what TransformerLens' run_with_cache and
 *  bertviz rely on): every layer's probabilities in the compute dtype, plus the current layer's fp32 softmax. */
export function allLayersAttentionBytes(ctx: MemoryContext): number {
  const { spec, workload } = ctx;
  const s = workload.seqLen;
  const oneMap = spec.numHeads * s * s * workload.batch * ctx.actBytes;
  const eagerSoftmax = spec.numHeads * s * s * workload.batch * 4;
  return spec.numLayers * oneMap + eagerSoftmax + 2 * s * workload.batch * spec.hiddenSize * ctx.actBytes;
}

/** Hidden-state hooks: the layer's stream in fp32 and its absolute value while the reductions run, and the
 *  logit lens of the last positions (lens_positions x vocab, logits and softmax in fp32). */
export function residualHookBytes(ctx: MemoryContext, lensPositions = 8): number {
  const { spec, workload } = ctx;
  return 2 * workload.seqLen * workload.batch * spec.hiddenSize * 4 + 2 * lensPositions * spec.vocabSize * 4;
}

/** A probe on one layer's cached features: the features and their standardised copy (fp32), the linear head,
 *  its gradient and the L-BFGS history, and the logits. */
export function probeBytes(ctx: MemoryContext): { features: number; head: number; optimizer: number; logits: number } {
  const { spec, workload } = ctx;
  const width = workload.probe?.features || spec.hiddenSize;
  const samples = workload.probe?.samples ?? 0;
  const classes = workload.probe?.classes ?? 2;
  const head = (width + 1) * classes * 4;
  return { features: 2 * samples * width * 4, head, optimizer: 2 * PROBE_LBFGS_HISTORY * head, logits: samples * classes * 4 };
}

/** Bytes `fitlab inspect` writes per prompt: attention statistics (5 fp32 per head) and the pooled float16 maps
 *  of every head; hidden states, one float16 row per layer (positions last/mean) or per token (all). */
export function storedBytesPerPrompt(ctx: MemoryContext, fullHeads = 0): number {
  const { spec, workload } = ctx;
  const s = workload.seqLen;
  if (workload.kind === "attention_extract") {
    const pool = Math.min(s, POOLED_MAP_SIZE);
    return spec.numLayers * spec.numHeads * (pool * pool * 2 + 5 * 4) + fullHeads * s * s * 2;
  }
  if (workload.kind === "hidden_extract") return (spec.numLayers + 1) * spec.hiddenSize * 2;
  return 0;
}
