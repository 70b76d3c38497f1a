// Terms outside live tensors: the caching allocator's margin (reserved - allocated) and the CUDA context
// (nvidia-smi - reserved). The margin's numbers are calibrated once for PyTorch's caching allocator
// (data/calibration.yaml); stacks that do not use it (llama.cpp) have none. The context is engine data.
import { calibrated } from "../engines/calibration.js";
import type { MemoryContext } from "./context.js";

const GIB = 2 ** 30;

/** Reserved minus allocated: a fixed part, a share of the transient bytes (activations, logits, growing
 *  KV) for block splitting, and, for variable-length batches, a share of the logits: the largest
 *  buffers, whose size changes every step, so cached blocks of earlier sizes pile up. */
export function allocatorMarginBytes(ctx: MemoryContext, transientBytes: number, logitsBytes: number): number {
  const { engine, workload } = ctx;
  if (!engine.cachingAllocator) return 0;
  const variable = ctx.training && !workload.packed;
  const fixed = calibrated(engine, "reserved_fixed_gib") * GIB;
  return Math.round(fixed + calibrated(engine, "reserved_transient_fraction") * transientBytes + (variable ? calibrated(engine, "reserved_unpacked_fraction") * logitsBytes : 0));
}

/** CUDA context, cuBLAS/cuDNN workspaces and non-PyTorch allocations on the device. */
export function cudaContextBytes(ctx: MemoryContext): number {
  return Math.round(ctx.engine.cudaContextGib * GIB);
}
