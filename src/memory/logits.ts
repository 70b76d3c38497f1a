// Term: logits and the cross-entropy loss at its peak (training), or the prefill logits (inference).
import type { MemoryContext } from "./context.js";
import { ligerFusedLossBytes, oneChunkLossBytes } from "./loss-chunks.js";

/** Training: bytes at the loss for the micro-batch.
 *  Standard HF loss (transformers loss/loss_utils.py ForCausalLMLoss) keeps the bf16 logits in the model
 *  output (2 B), upcasts to fp32 (4 B), and cross_entropy keeps the fp32 log-softmax (4 B); its backward
 *  allocates the fp32 input gradient (4 B) while those are alive: 14 B per logit at the peak.
 *  Chunked CE (torchtune CEWithChunkedOutputLoss, 8 chunks) keeps all bf16 chunks and upcasts one chunk
 *  at a time; fused linear-CE (Apple Cut Cross-Entropy, Liger) never materialises the logits.
 *  The per-engine figure is data: engines.yaml loss_bytes_per_logit. */
export function trainingLogitsBytes(ctx: MemoryContext): number {
  if (!ctx.training) return 0;
  const perLogit = ctx.engine.lossBytesPerLogit[ctx.workload.loss];
  if (ctx.workload.loss === "chunked" && ctx.engine.chunkedLossOneChunk) return oneChunkLossBytes(ctx, perLogit);
  if (ctx.workload.loss === "fused-linear-ce" && ctx.engine.fusedLoss === "liger") return ligerFusedLossBytes(ctx);
  return Math.round(ctx.peakTokens * ctx.spec.vocabSize * perLogit);
}

/** Inference: logits of the prompt. generate() since transformers 4.45 keeps only the last position
 *  (num_logits_to_keep=1); older code and plain forward() compute every position and upcast to fp32. */
export function inferenceLogitsBytes(ctx: MemoryContext, promptTokens: number, keepAll: boolean): number {
  const { spec, workload } = ctx;
  const positions = keepAll ? promptTokens : 1;
  return positions * workload.batch * spec.vocabSize * (ctx.actBytes + 4);
}
