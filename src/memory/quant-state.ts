// Term: quantization metadata that lives beside packed weights (zero when stored bytes already hold it).
import type { MemoryContext } from "./context.js";
import { int8DoubleCopy, parseVersions } from "../engines/versions.js";
import { quantizableParams, storedBytesApply } from "./weights.js";

/** Bytes of state per quantized parameter. `group` is the checkpoint's scale group (GPTQ/AWQ group_size;
 *  -1 per output channel), `block` its FP8 scale block. */
export function quantStateBytesPerParam(quant: string, group = 128, block: readonly [number, number] | null = [128, 128]): number {
  const perGroup = (bytes: number) => (group > 0 ? bytes / group : 0);
  switch (quant) {
    case "bnb-nf4":
    case "bnb-fp4":
      // one fp32 absmax per 64-weight block (bitsandbytes functional.quantize_4bit, blocksize=64)
      return 4 / 64;
    case "bnb-nf4-dq":
    case "torchao-nf4":
      // double quantization: absmax stored as 8-bit per 64-weight block, plus one fp32 scale per 256 absmax
      // (bitsandbytes compress_statistics=True, nested blocksize 256; torchao NF4Tensor scaler_block_size=256)
      return 1 / 64 + 4 / (64 * 256);
    case "gptq-int4":
    case "awq-int4":
      // fp16 scale + 4-bit zero per group (auto-gptq QuantLinear scales/qzeros; AutoAWQ WQLinear_GEMM)
      return perGroup(2 + 0.5);
    case "gptq-int8":
      return perGroup(2 + 1); // fp16 scale + 8-bit zero per group
    case "fp8":
      // block-wise: one fp32 scale per block (weight_scale_inv, DeepSeek-V3 / Qwen3-FP8 128x128); per-tensor: one
      return block ? 4 / (block[0] * block[1]) : 0;
    case "bnb-int8":
      return 0; // row scales (SCB) are per output row: counted below
    default:
      return 0; // GGUF block scales are inside the bits-per-weight figure
  }
}

export function quantStateBytes(ctx: MemoryContext): number {
  const q = ctx.workload.quant;
  if (q === "none" || ctx.workload.kind === "probe" || storedBytesApply(ctx)) return 0;
  const pq = ctx.spec.storedQuant === q ? ctx.spec.preQuantized : null;
  let bytes = quantizableParams(ctx) * quantStateBytesPerParam(q, pq?.groupSize ?? 128, pq ? pq.weightBlock : [128, 128]);
  const perLinear = (f: (l: (typeof ctx.spec.linears)[number]) => number) => ctx.spec.linears.reduce((s, l) => s + f(l) * l.copies, 0) * ctx.spec.numLayers;
  // GPTQ g_idx: int32 per input feature (auto-gptq QuantLinear, kept even without act-order)
  if (q === "gptq-int4" || q === "gptq-int8") bytes += perLinear((l) => l.inFeatures * 4);
  // per-channel scales (group -1): one fp16 scale + zero per output row
  if ((q === "gptq-int4" || q === "gptq-int8" || q === "awq-int4") && pq && pq.groupSize <= 0) bytes += perLinear((l) => l.outFeatures * 4);
  // LLM.int8 SCB: fp32 per output row
  if (q === "bnb-int8") bytes += perLinear((l) => l.outFeatures * 4);
  // old bitsandbytes on pre-Ampere cards also keeps a tiled int8 copy of every weight
  if (q === "bnb-int8" && int8DoubleCopy(parseVersions(ctx.workload.engineVersion), ctx.gpuComputeCapability)) bytes += quantizableParams(ctx);
  return Math.round(bytes);
}
