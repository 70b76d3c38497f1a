// Term: LoRA adapter weights (A: r x in, B: out x r per targeted linear; Hu et al. 2021).
import type { MemoryContext } from "./context.js";

/** Trainable LoRA parameters for the workload's targets (once per context: several terms read it). */
export function loraParams(ctx: MemoryContext): number {
  return (ctx.memo.loraParams ??= count(ctx));
}

function count(ctx: MemoryContext): number {
  const lora = ctx.workload.lora;
  if (!lora) return 0;
  const { spec } = ctx;
  let params = 0;
  for (const l of spec.linears) {
    if (ctx.loraTargets.has(l.name)) params += lora.rank * (l.inFeatures + l.outFeatures) * l.copies * spec.numLayers;
  }
  if (ctx.loraTargets.has("lm_head")) params += lora.rank * (spec.hiddenSize + spec.vocabSize);
  return params;
}

export function adapterBytes(ctx: MemoryContext): number {
  // PEFT keeps adapters in fp32 (autocast_adapter_dtype=True); torchtune/unsloth in the model dtype: engine data.
  return loraParams(ctx) * ctx.engine.adapterBytes;
}
