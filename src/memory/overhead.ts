// Terms outside live tensors: the caching allocator's margin (reserved - allocated) and the CUDA
// context (nvidia-smi - reserved). Both are engine data (engines.yaml), calibrated on measured cases
// that report two counters for the same run (fms-acceleration allocated vs nvidia-smi; CASES.md).
import type { MemoryContext } from "./context.js";

/** Reserved minus allocated: a fixed part plus a share of the transient bytes (activations, logits,
 *  growing KV), larger for variable-length batches whose blocks the allocator cannot reuse. */
export function allocatorMarginBytes(ctx: MemoryContext, transientBytes: number): number {
  const { engine, workload } = ctx;
  const variable = ctx.training && !workload.packed;
  const fraction = variable ? engine.unpackedFraction : engine.reservedFraction;
  return Math.round(engine.reservedFixedBytes + fraction * transientBytes);
}

/** CUDA context, cuBLAS/cuDNN workspaces and non-PyTorch allocations on the device. */
export function cudaContextBytes(ctx: MemoryContext): number {
  return ctx.engine.cudaContextBytes;
}
