// Terms outside live tensors: the caching allocator's margin (reserved - allocated) and the CUDA
// context (nvidia-smi - reserved). Both are engine data (engines.yaml), calibrated on measured cases
// that report two counters for the same run (fms-acceleration allocated vs nvidia-smi; CASES.md).
import type { MemoryContext } from "./context.js";

/** Reserved minus allocated: a fixed part, a share of the transient bytes (activations, logits, growing
 *  KV) for block splitting, and, for variable-length batches, a share of the logits: the largest
 *  buffers, whose size changes every step, so cached blocks of earlier sizes pile up. */
export function allocatorMarginBytes(ctx: MemoryContext, transientBytes: number, logitsBytes: number): number {
  const { engine, workload } = ctx;
  const variable = ctx.training && !workload.packed;
  return Math.round(engine.reservedFixedBytes + engine.reservedFraction * transientBytes + (variable ? engine.unpackedFraction * logitsBytes : 0));
}

/** CUDA context, cuBLAS/cuDNN workspaces and non-PyTorch allocations on the device. */
export function cudaContextBytes(ctx: MemoryContext): number {
  return ctx.engine.cudaContextBytes;
}
