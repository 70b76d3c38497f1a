// Term: quantization metadata that lives beside packed weights.
import type { MemoryContext } from "./context.js";
import { int8DoubleCopy, parseVersions } from "../engines/versions.js";
import { quantizableParams } from "./weights.js";

/** Bytes of state per quantized parameter. */
export function quantStateBytesPerParam(quant: string): number {
  switch (quant) {
    case "bnb-nf4":
      // one fp32 absmax per 64-weight block (bitsandbytes functional.quantize_4bit, blocksize=64)
      return 4 / 64;
    case "bnb-nf4-dq":
    case "torchao-nf4":
      // double quantization: absmax stored as 8-bit per 64-weight block, plus one fp32 scale per 256 absmax
      // (bitsandbytes compress_statistics=True, nested blocksize 256; torchao NF4Tensor scaler_block_size=256)
      return 1 / 64 + 4 / (64 * 256);
    case "gptq-int4":
      // fp16 scale + 4-bit zero per group of 128 (auto-gptq QuantLinear scales/qzeros)
      return (2 + 0.5) / 128;
    case "awq-int4":
      return (2 + 0.5) / 128; // AutoAWQ WQLinear_GEMM scales (fp16) + qzeros (4-bit) per group of 128
    case "bnb-int8":
      return 0; // row scales (SCB) are per output row: counted as negligible here
    default:
      return 0; // GGUF block scales are inside the bits-per-weight figure
  }
}

export function quantStateBytes(ctx: MemoryContext): number {
  const q = ctx.workload.quant;
  if (q === "none" || ctx.workload.kind === "probe") return 0;
  let bytes = quantizableParams(ctx) * quantStateBytesPerParam(q);
  if (q === "gptq-int4" || q === "bnb-int8") {
    // GPTQ g_idx (int32 per input feature) / LLM.int8 SCB (fp32 per output row), per linear
    const perLayer = ctx.spec.linears.reduce((s, l) => s + (q === "gptq-int4" ? l.inFeatures : l.outFeatures) * 4 * l.copies, 0);
    bytes += perLayer * ctx.spec.numLayers;
  }
  // old bitsandbytes on pre-Ampere cards also keeps a tiled int8 copy of every weight
  if (q === "bnb-int8" && int8DoubleCopy(parseVersions(ctx.workload.engineVersion), ctx.gpuComputeCapability)) bytes += quantizableParams(ctx);
  return Math.round(bytes);
}
