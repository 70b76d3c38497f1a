// Term: optimizer state, and the temporaries the optimizer step allocates.
import type { MemoryContext } from "./context.js";
import { trainable } from "./trainable.js";

export interface OptimizerMemory {
  /** state resident on the GPU from the first step on */
  readonly stateBytes: number;
  /** state held in CPU-backed unified memory (paged optimizers), not counted on the GPU */
  readonly pagedBytes: number;
  /** transient bytes during optimizer.step() */
  readonly stepTempBytes: number;
}

export function optimizerMemory(ctx: MemoryContext): OptimizerMemory {
  const t = trainable(ctx);
  const big = t.params - t.smallTensorParams;
  const opt = ctx.workload.optimizer;
  const none = { stateBytes: 0, pagedBytes: 0, stepTempBytes: 0 };
  if (t.params === 0) return none;
  // torch AdamW: exp_avg and exp_avg_sq with zeros_like(param), so the state follows the parameter dtype;
  // DeepSpeed mixed precision adds the fp32 master copy to the optimizer's partition (t.masterBytes)
  const master = t.params * t.masterBytes;
  const adam32 = 2 * t.params * t.momentBytes + master;
  // bitsandbytes 8-bit Adam: two uint8 states + one fp32 absmax per 256-element block for each
  // (optim/optimizer.py Optimizer2State.init_state: blocks = n // 256); tensors below min_8bit_size=4096
  // elements stay 32-bit
  const adam8 = big * (2 + (2 * 4) / 256) + t.smallTensorParams * 8 + master;
  // foreach AdamW's sqrt(exp_avg_sq) temporary, one parameter-sized tensor (torch/optim/adamw.py)
  const foreachTemp = ctx.engine.optimizerForeachTemp && !ctx.workload.optimizerInBackward ? t.params * t.momentBytes : 0;
  switch (opt) {
    case "adamw":
      return { stateBytes: adam32, pagedBytes: 0, stepTempBytes: foreachTemp };
    case "adamw-fused":
      return { stateBytes: adam32, pagedBytes: 0, stepTempBytes: 0 }; // fused kernel updates in place
    case "adamw8bit":
      return { stateBytes: Math.round(adam8), pagedBytes: 0, stepTempBytes: 0 };
    case "paged-adamw8bit":
      // paged states live in unified memory and are evicted to host under pressure (bitsandbytes paged optimizers)
      return { stateBytes: master, pagedBytes: Math.round(adam8 - master), stepTempBytes: 0 };
    case "paged-adamw32bit":
      return { stateBytes: master, pagedBytes: 2 * t.params * 4, stepTempBytes: 0 };
    case "adafactor": {
      // factored second moment: one row and one column vector per matrix, fp32 (Shazeer & Stern 2018)
      const { spec } = ctx;
      const perLayer = spec.linears.reduce((s, l) => s + (l.inFeatures + l.outFeatures) * l.copies, 0) * 4;
      const matrices = ctx.fullTraining ? perLayer * spec.numLayers + (spec.vocabSize + spec.hiddenSize) * 4 * 2 : t.params * 0.05;
      return { stateBytes: Math.round(matrices) + master, pagedBytes: 0, stepTempBytes: t.params * t.momentBytes };
    }
    case "sgd":
      return { ...none, stateBytes: master }; // plain SGD (no momentum) keeps no state
    case "none":
      return none;
  }
}
