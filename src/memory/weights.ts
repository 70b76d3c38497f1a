// Term: base model weights resident on the GPU (quantized body at its packed width, the rest at its dtype).
// Quantization metadata (absmax, scales, zeros) is a separate term: quant-state.ts.
import type { MemoryContext } from "./context.js";
import { ggufBitsPerWeight } from "./gguf-types.js";

/** Parameters inside transformer-block linears: the part k-bit methods quantize.
 *  transformers keeps lm_head un-quantized (get_keys_to_not_convert) and embeddings are nn.Embedding, never quantized. */
export function quantizableParams(ctx: MemoryContext): number {
  const { spec } = ctx;
  return spec.numLayers * spec.linears.reduce((s, l) => s + l.inFeatures * l.outFeatures * l.copies, 0);
}

/** Packed bytes per quantized parameter, without the quantization state. */
export function packedBytesPerParam(quant: string): number {
  if (quant.startsWith("gguf-")) return ggufBitsPerWeight(quant.slice(5)) / 8;
  switch (quant) {
    case "bnb-int8":
      return 1; // LLM.int8: int8 weights (bitsandbytes Linear8bitLt, Int8Params)
    case "none":
      return NaN;
    default:
      return 0.5; // 4-bit: two weights per byte (NF4, GPTQ/AWQ int4 packed in int32)
  }
}

export function weightsBytes(ctx: MemoryContext): number {
  const { spec, workload } = ctx;
  if (workload.kind === "probe") return 0; // probes train on cached features; the LLM is not loaded
  const total = spec.params.total;
  if (workload.quant === "none") return total * ctx.weightBytes;
  if (workload.quant.startsWith("gguf-")) return Math.round(total * packedBytesPerParam(workload.quant)); // GGUF quantizes embeddings/output too (mixed types averaged in bits per weight)
  const q = quantizableParams(ctx);
  const rest = total - q; // embeddings, lm_head, norms, biases
  // prepare_model_for_kbit_training casts every non-quantized fp16/bf16 parameter to fp32 (peft utils/other.py)
  const restBytes = ctx.kbitUpcast ? 4 : ctx.weightBytes;
  return Math.round(q * packedBytesPerParam(workload.quant) + rest * restBytes);
}
