// Term: gradients of the trainable parameters (autograd accumulates into .grad in the gradient dtype).
import type { MemoryContext } from "./context.js";
import { trainable } from "./trainable.js";

export function gradientsBytes(ctx: MemoryContext): number {
  const t = trainable(ctx);
  // optimizer-in-backward (torchtune optimizer_in_bwd) steps and frees each gradient as soon as it is produced
  if (ctx.workload.optimizerInBackward) {
    // only the largest single tensor's gradient is alive at once: the embedding (or lm_head) for full training
    return ctx.fullTraining ? ctx.spec.vocabSize * ctx.spec.hiddenSize * t.gradBytes : 0;
  }
  return t.params * t.gradBytes;
}
