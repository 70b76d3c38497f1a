// Term detail: the attention mask of packed rows, for engines that separate examples with a dense mask
// (fitlab-worker under SDPA or eager attention). transformers 5 reads the example boundaries from the position
// ids (masking_utils.py find_packed_sequence_indices) and builds a [batch, 1, seq, seq] bool mask, kept for the
// whole step (every layer's checkpoint holds it for the recompute). SDPA turns a bool mask into a float bias of
// the query dtype on every call (aten/src/ATen/native/transformers/attention.cpp convert_boolean_attn_mask), and
// the memory-efficient kernel, the one that takes a bias, saves it for backward: one [batch, 1, seq, seq] bias
// per layer, broadcast over heads. Padded (unpacked) batches of more than one row get the same mask.
import type { MemoryContext } from "./context.js";

export function denseMaskActive(ctx: MemoryContext): boolean {
  const w = ctx.workload;
  return ctx.training && ctx.engine.packedDenseMask && (w.attn === "sdpa" || w.attn === "eager") && (w.packed || w.batch > 1);
}

/** the bool mask, alive for the step */
export function denseMaskBytes(ctx: MemoryContext): number {
  return denseMaskActive(ctx) ? ctx.workload.batch * ctx.peakSeqLen * ctx.peakSeqLen : 0;
}

/** the float bias SDPA saves per layer, per token of the micro-batch (batch x seq^2 x bytes / (batch x seq)) */
export function maskBiasBytesPerToken(ctx: MemoryContext): number {
  return denseMaskActive(ctx) && ctx.workload.attn === "sdpa" ? ctx.peakSeqLen * ctx.actBytes : 0;
}
