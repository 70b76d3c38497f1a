// Which parameters train, and in what dtype: shared by gradients.ts and optimizer-state.ts.
import { loraParams } from "./adapters.js";
import type { MemoryContext } from "./context.js";

export interface Trainable {
  readonly params: number;
  /** bytes per trainable parameter (its dtype; gradients and torch optimizer states follow it) */
  readonly bytesPerParam: number;
  /** parameters in tensors below bitsandbytes' min_8bit_size (4096 elements), which keep 32-bit states */
  readonly smallTensorParams: number;
}

export function trainable(ctx: MemoryContext): Trainable {
  const { spec, workload } = ctx;
  if (!ctx.training) {
    if (workload.kind === "probe" && workload.probe) {
      const width = workload.probe.features || spec.hiddenSize;
      return { params: (width + 1) * workload.probe.classes, bytesPerParam: 4, smallTensorParams: 0 };
    }
    return { params: 0, bytesPerParam: 0, smallTensorParams: 0 };
  }
  if (ctx.fullTraining) {
    const norms = spec.params.norms; // 1-D tensors of hidden size: below 4096 elements only for small models
    return { params: spec.params.total, bytesPerParam: ctx.weightBytes, smallTensorParams: spec.hiddenSize < 4096 ? norms : 0 };
  }
  return { params: loraParams(ctx), bytesPerParam: ctx.engine.adapterBytes, smallTensorParams: 0 };
}
