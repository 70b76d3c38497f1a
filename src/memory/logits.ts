// Term: logits and the cross-entropy loss at its peak (training), or the prefill logits (inference).
import { legacyFp32Logits, parseVersions } from "../engines/versions.js";
import type { MemoryContext } from "./context.js";
import { ligerFusedLossBytes, oneChunkLossBytes } from "./loss-chunks.js";

/** Peak bytes per logit element at the loss.
 *  transformers >= 4.46 (loss/loss_utils.py ForCausalLMLoss): bf16 logits kept in the model output (2), the
 *  fp32 upcast (4), cross_entropy's fp32 log-softmax saved for backward (4) and its fp32 input gradient (4): 14.
 *  transformers < 4.46 (LlamaForCausalLM.forward: logits = logits.float(); shift_logits ... .contiguous()):
 *  fp32 logits (4), the fp32 shifted copy (4), log-softmax (4), gradient (4): 16 (versions.ts legacyFp32Logits).
 *  Remote code that keeps 16-bit logits (Qwen-1 modeling_qwen.py): bf16 logits (2), the shifted bf16 copy
 *  (2), the fp32 log-softmax that autocast produces (4) and its fp32 gradient (4): 12.
 *  Chunked and fused losses and stacks with their own loss (torchtune, Unsloth) are engine data. */
export function lossBytesPerLogit(ctx: MemoryContext): number {
  const { engine, workload, spec } = ctx;
  const loss = workload.loss;
  if (loss === "chunked") return engine.lossBytesPerLogit.chunked + (workload.compile ? 0 : engine.chunkedEagerExtraBytes);
  if (loss === "fused-linear-ce") return engine.lossBytesPerLogit["fused-linear-ce"];
  if (!engine.modelLoss) return engine.lossBytesPerLogit.standard;
  if (spec.lossOn16BitLogits) return 12;
  if (legacyFp32Logits(parseVersions(workload.engineVersion)) === true) return 16;
  return engine.lossBytesPerLogit.standard;
}

/** Training: bytes at the loss for the micro-batch. */
export function trainingLogitsBytes(ctx: MemoryContext): number {
  if (!ctx.training) return 0;
  // fitlab-worker's chunked loss recomputes each chunk in backward: one chunk is live (loss-chunks.ts)
  if (ctx.workload.loss === "chunked" && ctx.engine.chunkedLossOneChunk) return oneChunkLossBytes(ctx, ctx.engine.lossBytesPerLogit.chunked);
  if (ctx.workload.loss === "fused-linear-ce" && ctx.engine.fusedLoss === "liger") return ligerFusedLossBytes(ctx);
  return Math.round(ctx.peakTokens * ctx.spec.vocabSize * lossBytesPerLogit(ctx));
}

/** Inference: logits of the prompt. generate() since transformers 4.45 keeps only the last position
 *  (num_logits_to_keep=1); older code and plain forward() compute every position and upcast to fp32. */
export function inferenceLogitsBytes(ctx: MemoryContext, promptTokens: number, keepAll: boolean): number {
  const { spec, workload } = ctx;
  const positions = keepAll ? promptTokens : 1;
  return positions * workload.batch * spec.vocabSize * (ctx.actBytes + 4);
}
