// Term detail: the loss of engines that never hold the whole micro-batch's logits (fitlab-worker).
// Chunked: engine/fitlab_worker/loss.py runs lm_head + cross-entropy one chunk of tokens at a time under
// torch.utils.checkpoint, so only one chunk's logits are live, in forward and again when backward recomputes it.
// Fused (Liger, liger_kernel/ops/fused_linear_cross_entropy.py): the gradient of the hidden states is
// allocated whole ([tokens, hidden], grad_input = zeros_like(_input)) and logits exist for one chunk of
// next_pow2(ceil(tokens / ceil(vocab / hidden))) rows at a time, in the input dtype, overwritten by their gradient.
import type { MemoryContext } from "./context.js";

const nextPow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/** tokens whose logits are live at once under the chunked loss (one chunk, never more than the micro-batch) */
export function liveChunkTokens(ctx: MemoryContext): number {
  return Math.min(ctx.peakTokens, ctx.workload.lossChunkTokens);
}

/** One live chunk at `perLogit` bytes per logit, plus the labelled hidden states gathered for the head
 *  (index_select copies them) and their gradient: 2 x tokens x hidden in the stream dtype. */
export function oneChunkLossBytes(ctx: MemoryContext, perLogit: number): number {
  return Math.round(liveChunkTokens(ctx) * ctx.spec.vocabSize * perLogit + 2 * ctx.peakTokens * ctx.spec.hiddenSize * ctx.streamBytes);
}

/** Liger fused linear cross-entropy: hidden-state gradient + one logits chunk, in the lm_head input dtype. */
export function ligerFusedLossBytes(ctx: MemoryContext): number {
  const { spec } = ctx;
  const tokens = ctx.peakTokens;
  const inc = Math.ceil(spec.vocabSize / spec.hiddenSize);
  const chunk = Math.min(tokens, nextPow2(Math.ceil(tokens / inc)));
  // PEFT's k-bit preparation upcasts lm_head and the stream to fp32 (streamBytes), else the compute dtype
  const b = ctx.streamBytes;
  return tokens * spec.hiddenSize * b + chunk * spec.vocabSize * b + tokens * 4; // + loss_1d (fp32 per token)
}
