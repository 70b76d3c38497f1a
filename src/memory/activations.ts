// Term: activations. Training: what autograd saves for backward (per layer, per token), under the
// checkpointing mode. Inference: the transient buffers of the widest op in one layer.
// Per-tensor accounting in the style of Korthikanti et al. 2022 (arXiv:2205.05198) adapted to HF
// Llama-style blocks: RMSNorm in fp32, SwiGLU, GQA, no dropout, FlashAttention/SDPA or eager.
import { denseMaskBytes, maskBiasBytesPerToken } from "./attention-mask.js";
import { savesInput, type MemoryContext } from "./context.js";

/** Score-matrix bytes per element kept by eager attention in training: the fp32 softmax output
 *  and its bf16 copy (modeling_llama.py eager_attention_forward: softmax(dtype=float32).to(query.dtype)). */
const EAGER_TRAIN_BYTES_PER_SCORE = 6;
/** Inference eager: fp32 scores/softmax plus the bf16 probabilities, for one layer at a time. */
const EAGER_INFER_BYTES_PER_SCORE = 6;

/** Bytes autograd keeps per token for one decoder layer. */
export function layerSavedBytesPerToken(ctx: MemoryContext, seqLen: number): number {
  const { spec, workload } = ctx;
  const h = spec.hiddenSize;
  const qd = spec.numHeads * spec.headDim;
  const kvd = spec.numKvHeads * spec.headDim;
  // MoE: a token goes through its top-k routed experts and the shared experts (moe_intermediate_size wide)
  const I = ctx.activeMlpWidth;
  const a = ctx.actBytes;
  const out = ctx.quantizedBase ? ctx.linearOutBytes : a;
  let bytes = 0;
  // RMSNorm upcasts to fp32 and keeps the fp32 input for pow/mul backward (LlamaRMSNorm.forward);
  // its weight gradient (full training) also needs the normalised input in the stream dtype.
  const norms = spec.modelType === "gemma2" || spec.modelType === "gemma3_text" ? 4 : 2;
  // Liger's RMSNorm keeps its input in the stream dtype and one fp32 rstd per row (liger_kernel/ops/rms_norm.py)
  const liger = workload.kernels === "liger";
  bytes += liger ? norms * (ctx.streamBytes * h + 4) : norms * (4 * h + (ctx.fullTraining ? ctx.streamBytes * h : 0));
  // q/k/v read the same normalised input: kept once when any of them has a weight gradient or an adapter
  if (savesInput(ctx, "q_proj") || savesInput(ctx, "k_proj") || savesInput(ctx, "v_proj")) bytes += a * h;
  // attention keeps q, k, v (post-RoPE) and its output for backward (FlashAttention-2 / SDPA save
  // q, k, v, out and a per-row logsumexp); the output doubles as o_proj's input.
  bytes += a * (qd + 2 * kvd) + a * qd + 4 * spec.numHeads;
  if (workload.attn === "eager") bytes += EAGER_TRAIN_BYTES_PER_SCORE * spec.numHeads * seqLen;
  bytes += maskBiasBytesPerToken(ctx);
  // MLP: gate/up share one input; SiLU keeps the gate output, the product keeps silu(gate) and up;
  // the product is down_proj's input, kept only when down_proj has a weight gradient or adapter.
  if (savesInput(ctx, "gate_proj") || savesInput(ctx, "up_proj")) bytes += a * h;
  if (spec.gatedMlp) {
    // Liger's SwiGLU keeps gate and up and recomputes silu in backward (liger_kernel/ops/swiglu.py)
    bytes += (liger ? 2 : 3) * out * I;
    if (savesInput(ctx, "down_proj")) bytes += a * I;
  } else {
    bytes += out * I; // GELU keeps its input
    if (savesInput(ctx, "down_proj")) bytes += a * I;
  }
  // each adapter keeps its rank-r intermediate for lora_B's weight gradient
  if (workload.lora) bytes += ctx.loraTargets.size * workload.lora.rank * ctx.engine.adapterBytes;
  // LoRA dropout keeps a mask (1 byte) and the dropped copy of each distinct adapted input
  if (workload.lora && workload.lora.dropout > 0) bytes += 2 * (h + a * h);
  return bytes;
}

export interface ActivationMemory {
  /** bytes held at the loss (start of backward) */
  readonly atLossBytes: number;
  /** bytes held while backward recomputes one checkpointed layer */
  readonly recomputeBytes: number;
}

export function activationMemory(ctx: MemoryContext): ActivationMemory {
  const { spec, workload } = ctx;
  const tokens = ctx.peakTokens;
  if (!ctx.training) return { atLossBytes: 0, recomputeBytes: 0 };
  const perLayer = layerSavedBytesPerToken(ctx, ctx.peakSeqLen) * tokens;
  const boundary = ctx.streamBytes * spec.hiddenSize * tokens; // one layer's input, kept by checkpointing
  const mask = denseMaskBytes(ctx); // packed rows' attention mask, alive for the whole step
  switch (workload.gradCkpt) {
    case "none":
      return { atLossBytes: perLayer * spec.numLayers + mask, recomputeBytes: 0 };
    case "selective":
      // recompute attention internals only (Korthikanti selective): keep everything but the score path
      return { atLossBytes: Math.round(perLayer * spec.numLayers * 0.8) + mask, recomputeBytes: perLayer + mask };
    case "full":
      // layer inputs stay; backward re-runs one layer at a time (torch.utils.checkpoint), plus the
      // incoming and outgoing gradient of the stream
      return { atLossBytes: boundary * spec.numLayers + mask, recomputeBytes: boundary * spec.numLayers + perLayer + 2 * boundary + mask };
    case "offload":
      // checkpoints live in CPU memory; about two layers' inputs are in flight on the GPU
      return { atLossBytes: 2 * boundary + mask, recomputeBytes: 2 * boundary + perLayer + 2 * boundary + mask };
  }
}

/** Inference: the widest transient in one layer's forward, for `tokens` tokens at context `ctxLen`. */
export function inferenceTransientBytes(ctx: MemoryContext, tokens: number, ctxLen: number, batch: number): number {
  const { spec, workload } = ctx;
  const a = ctx.actBytes;
  const h = spec.hiddenSize;
  const I = ctx.activeMlpWidth;
  // SwiGLU: gate and up outputs, then silu(gate) and the product, with the input stream alive
  const mlp = tokens * ((spec.gatedMlp ? 3 : 2) * a * I + 2 * a * h);
  const qkv = tokens * a * (2 * spec.numHeads * spec.headDim + 2 * spec.numKvHeads * spec.headDim + 2 * h);
  // an engine whose own prefill attention is eager (AutoAWQ's fused attention) counts its bytes per score
  const perScore = tokens > batch && ctx.engine.prefillScoreBytes !== null ? ctx.engine.prefillScoreBytes : workload.attn === "eager" ? EAGER_INFER_BYTES_PER_SCORE : 0;
  const eager = perScore * spec.numHeads * (tokens / batch) * ctxLen * batch;
  return Math.max(mlp, qkv + eager);
}
