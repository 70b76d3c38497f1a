// Term: KV cache. 2 (K and V) x layers x kv_heads x head_dim x bytes per token, with sliding-window
// layers capped at the window (hf-mem's formula; Mistral-v0.1 / Gemma-2 sliding layers).
import type { MemoryContext } from "./context.js";

export function kvBytesPerToken(ctx: MemoryContext): number {
  const { spec } = ctx;
  return 2 * spec.numLayers * spec.numKvHeads * spec.headDim * ctx.actBytes;
}

export function kvCacheBytes(ctx: MemoryContext, contextTokens: number): number {
  const { spec, workload } = ctx;
  const perLayerToken = 2 * spec.numKvHeads * spec.headDim * ctx.actBytes;
  const full = spec.numLayers - spec.slidingLayers;
  const window = spec.slidingWindow ?? contextTokens;
  // transformers' DynamicCache keeps every position even for sliding layers before 4.45; newer caches and
  // llama.cpp/vLLM cap them: we cap, the usual case today.
  const tokens = full * contextTokens + spec.slidingLayers * Math.min(window, contextTokens);
  return tokens * perLayerToken * workload.batch;
}
