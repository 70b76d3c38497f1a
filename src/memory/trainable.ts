// Which parameters train, and in what dtypes: shared by weights.ts, gradients.ts and optimizer-state.ts.
// Full fine-tuning precision (workload.precision):
//   pure  - parameters, gradients and AdamW states in the compute dtype (torch AdamW: zeros_like(param)),
//           2 + 2 + 4 = 8 B per parameter in bf16 (torchtune, HF scripts that load in bf16).
//   mixed - fp32 master weights. Under DeepSpeed ZeRO the model keeps 16-bit parameters and gradients and the
//           optimizer holds the fp32 master copy with fp32 momentum and variance: 2 + 2 + 12 = 16 B (ZeRO paper,
//           Rajbhandari et al. 2020, §3.1, K = 12). Under torch AMP / FSDP MixedPrecision the parameters and
//           gradients themselves are fp32: 4 + 4 + 8 = 16 B.
import { loraParams } from "./adapters.js";
import type { MemoryContext } from "./context.js";

export interface Trainable {
  readonly params: number;
  /** bytes per trainable parameter as the model holds it */
  readonly paramBytes: number;
  /** bytes per gradient element */
  readonly gradBytes: number;
  /** bytes per element of one AdamW moment */
  readonly momentBytes: number;
  /** fp32 master copy held by the optimizer (DeepSpeed mixed precision), bytes per parameter; 0 otherwise */
  readonly masterBytes: number;
  /** parameters in tensors below bitsandbytes' min_8bit_size (4096 elements), which keep 32-bit states */
  readonly smallTensorParams: number;
}

/** Computed once per context (several terms read it). */
export function trainable(ctx: MemoryContext): Trainable {
  return (ctx.memo.trainable ??= compute(ctx));
}

function compute(ctx: MemoryContext): Trainable {
  const { spec, workload } = ctx;
  if (!ctx.training) {
    if (workload.kind === "probe" && workload.probe) {
      const width = workload.probe.features || spec.hiddenSize;
      return { params: (width + 1) * workload.probe.classes, paramBytes: 4, gradBytes: 4, momentBytes: 4, masterBytes: 0, smallTensorParams: 0 };
    }
    return { params: 0, paramBytes: 0, gradBytes: 0, momentBytes: 0, masterBytes: 0, smallTensorParams: 0 };
  }
  if (ctx.fullTraining) {
    const norms = spec.params.norms; // 1-D tensors of hidden size: below 4096 elements only for small models
    const small = spec.hiddenSize < 4096 ? norms : 0;
    if (workload.precision === "pure") return { params: spec.params.total, paramBytes: ctx.actBytes, gradBytes: ctx.actBytes, momentBytes: ctx.actBytes, masterBytes: 0, smallTensorParams: small };
    if (ctx.masterInOptimizer) return { params: spec.params.total, paramBytes: ctx.actBytes, gradBytes: ctx.actBytes, momentBytes: 4, masterBytes: 4, smallTensorParams: small };
    return { params: spec.params.total, paramBytes: 4, gradBytes: 4, momentBytes: 4, masterBytes: 0, smallTensorParams: small };
  }
  const b = ctx.engine.adapterBytes;
  return { params: loraParams(ctx), paramBytes: b, gradBytes: b, momentBytes: b, masterBytes: 0, smallTensorParams: 0 };
}
