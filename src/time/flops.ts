// FLOPs per token. Forward: 2 x (matmul parameters) (Kaplan et al. 2020; EleutherAI "Transformer Math 101")
// plus the attention score/value products, 4 x ctx x (heads x head_dim) per layer, halved by the causal mask.
import { loraParams } from "../memory/adapters.js";
import type { MemoryContext } from "../memory/context.js";
import type { ModelSpec } from "../spec/types.js";

/** Parameters that take part in a matmul per token: everything active except the embedding lookup,
 *  plus the output projection (which reuses the embedding matrix when tied). */
export function matmulParams(spec: ModelSpec): number {
  return spec.params.active - spec.params.embeddings - spec.params.lmHead + spec.vocabSize * spec.hiddenSize;
}

/** Forward attention FLOPs per token at context length `ctxLen` (QK^T and AV, causal average). */
export function attentionFlopsPerToken(spec: ModelSpec, ctxLen: number): number {
  const qd = spec.numHeads * spec.headDim;
  const full = spec.numLayers - spec.slidingLayers;
  const windowed = spec.slidingLayers;
  const w = Math.min(spec.slidingWindow ?? ctxLen, ctxLen);
  return 2 * qd * (full * ctxLen + windowed * w);
}

export function forwardFlopsPerToken(spec: ModelSpec, ctxLen: number): number {
  return 2 * matmulParams(spec) + attentionFlopsPerToken(spec, ctxLen);
}

/** Training FLOPs per token of one step.
 *  Full fine-tuning: backward = 2 x forward (input and weight gradients).
 *  LoRA/QLoRA: frozen weights need no weight-gradient GEMM, so backward ~ 1 x forward for the matmuls,
 *  2 x for attention (its backward recomputes scores in FlashAttention-2), plus the adapters' 6 x params.
 *  Checkpointing ("full"/"offload") re-runs the forward once more; "selective" re-runs attention only. */
export function trainingFlopsPerToken(ctx: MemoryContext, s: number = ctx.peakSeqLen): number {
  const { spec, workload } = ctx;
  const mm = 2 * matmulParams(spec);
  const attn = attentionFlopsPerToken(spec, s);
  const forward = mm + attn;
  let total: number;
  if (ctx.fullTraining) total = 3 * forward;
  else total = forward + mm + 2 * attn + 6 * loraParams(ctx);
  if (workload.gradCkpt === "full" || workload.gradCkpt === "offload") total += forward;
  else if (workload.gradCkpt === "selective") total += attn;
  // a chunked loss that keeps one chunk live re-runs lm_head for each chunk in backward (engine/fitlab_worker/loss.py)
  if (ctx.training && workload.loss === "chunked" && ctx.engine.chunkedLossOneChunk) total += 2 * spec.vocabSize * spec.hiddenSize;
  return total;
}
