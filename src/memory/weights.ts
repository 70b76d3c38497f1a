// Term: base model weights resident on the GPU (quantized body at its packed width, the rest at its dtype).
// Quantization metadata (absmax, scales, zeros) is a separate term: quant-state.ts. When the model's files
// were read (safetensors or GGUF headers) and the run loads them as stored, the stored bytes are the weights.
import type { MemoryContext } from "./context.js";
import { ggufBitsPerWeight } from "./gguf-types.js";

/** Parameters inside transformer-block linears: the part k-bit methods quantize.
 *  transformers keeps lm_head un-quantized (get_keys_to_not_convert) and embeddings are nn.Embedding, never quantized. */
export function quantizableParams(ctx: MemoryContext): number {
  const { spec } = ctx;
  return (ctx.memo.quantizableParams ??= spec.numLayers * spec.linears.reduce((s, l) => s + l.inFeatures * l.outFeatures * l.copies, 0));
}

/** Packed bytes per quantized parameter, without the quantization state. */
export function packedBytesPerParam(quant: string): number {
  if (quant.startsWith("gguf-")) return ggufBitsPerWeight(quant.slice(5)) / 8;
  switch (quant) {
    case "bnb-int8": // LLM.int8: int8 weights (bitsandbytes Linear8bitLt, Int8Params)
    case "gptq-int8": // 8-bit GPTQ / compressed-tensors int8: four weights per int32
    case "fp8": // float8_e4m3fn weights (transformers FP8Linear, vLLM Fp8LinearMethod)
      return 1;
    case "none":
      return NaN;
    default:
      return 0.5; // 4-bit: two weights per byte (NF4/FP4, GPTQ/AWQ int4 packed in int32)
  }
}

/** The stored bytes stand for the resident weights (and their quantization state) when the run loads the
 *  checkpoint in its stored format: a pre-quantized checkpoint run as such, or a GGUF file. PEFT's k-bit
 *  upcast changes the non-quantized tensors' dtype, so the formula is used there. */
export function storedBytesApply(ctx: MemoryContext): boolean {
  const { spec, workload } = ctx;
  if (!spec.stored || workload.kind === "probe" || ctx.kbitUpcast) return false;
  if (workload.quant === "none") return spec.storedQuant === null;
  return spec.storedQuant === workload.quant;
}

export function weightsBytes(ctx: MemoryContext): number {
  const { spec, workload } = ctx;
  if (workload.kind === "probe") return 0; // probes train on cached features; the LLM is not loaded
  if (storedBytesApply(ctx)) {
    const st = spec.stored!;
    // plain checkpoints: from_pretrained(torch_dtype=...) casts the floating-point tensors to the run's dtype
    if (workload.quant === "none") return st.totalBytes - st.floatBytes + st.floatParams * ctx.weightBytes;
    return st.totalBytes;
  }
  const total = spec.params.total;
  if (workload.quant === "none") return total * ctx.weightBytes;
  if (workload.quant.startsWith("gguf-")) return Math.round(total * packedBytesPerParam(workload.quant)); // GGUF quantizes embeddings/output too (mixed types averaged in bits per weight)
  const q = quantizableParams(ctx);
  const rest = total - q; // embeddings, lm_head, norms, biases
  // prepare_model_for_kbit_training casts every non-quantized fp16/bf16 parameter to fp32 (peft utils/other.py)
  const restBytes = ctx.kbitUpcast ? 4 : ctx.weightBytes;
  return Math.round(q * packedBytesPerParam(workload.quant) + rest * restBytes);
}
