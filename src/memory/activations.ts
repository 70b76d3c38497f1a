// Term: activations. Training: what autograd saves for backward (per layer, per token), under the
// checkpointing mode. Inference: the transient buffers of the widest op in one layer.
// Per-tensor accounting in the style of Korthikanti et al. 2022 (arXiv:2205.05198) adapted to HF
// Llama-style blocks: RMSNorm in fp32, SwiGLU, GQA, no dropout, FlashAttention/SDPA or eager.
import { denseMaskBytes, maskBiasBytesPerToken } from "./attention-mask.js";
import { savesInput, type MemoryContext } from "./context.js";
import type { LinearShape } from "../spec/types.js";

/** Score-matrix bytes per element kept by eager attention in training: the fp32 softmax output
 *  and its bf16 copy (modeling_llama.py eager_attention_forward: softmax(dtype=float32).to(query.dtype)). */
const EAGER_TRAIN_BYTES_PER_SCORE = 6;
/** Inference eager: fp32 scores/softmax plus the bf16 probabilities, for one layer at a time. */
const EAGER_INFER_BYTES_PER_SCORE = 6;

/** Bytes per element of what a PEFT adapter computes on: its input cast to the adapter's dtype when the adapters
 *  are wider than the layer's `inner` bytes (peft/tuners/lora/layer.py _cast_input_dtype); engines with their own
 *  LoRA kernels cast the adapter instead, so they compute in the layer's dtype. */
function adapterInputBytes(ctx: MemoryContext, inner: number): number {
  return ctx.engine.kernels === "hf" && ctx.engine.adapterBytes > inner ? ctx.engine.adapterBytes : inner;
}

/** Bytes the inputs of a group of linears that read one tensor (q/k/v, gate/up, or a single projection) add
 *  per token, `width` wide, `inner` bytes per element. A linear keeps its input when its weight has a gradient
 *  (full training: the tensor itself, once for the group) or when it carries an adapter. PEFT runs the adapter
 *  on the input cast to the adapter's dtype (peft/tuners/lora/layer.py Linear.forward, _cast_input_dtype;
 *  lora/bnb.py the same) and lora_A keeps what it was given for its weight gradient: when the adapters are
 *  wider than the input (fp32 adapters on a 16-bit layer, autocast_adapter_dtype) every adapted module makes
 *  and keeps its own copy, otherwise the tensor itself is kept once. LoRA dropout gives each adapted module its
 *  own dropped copy and a 1-byte mask (torch native_dropout on CUDA), and the undropped input is no longer kept
 *  for the adapter. Engines with their own LoRA kernels (Unsloth, torchtune) cast the adapter, not the input. */
function keptInputBytes(ctx: MemoryContext, names: readonly LinearShape["name"][], width: number, inner: number, keptAnyway = false): number {
  const { workload } = ctx;
  const plain = keptAnyway ? 0 : inner * width;
  const adapted = workload.lora ? names.filter((n) => ctx.loraTargets.has(n)).length : 0;
  if (adapted === 0) return ctx.fullTraining && names.some((n) => savesInput(ctx, n)) ? plain : 0;
  const castBytes = adapterInputBytes(ctx, inner);
  if ((workload.lora?.dropout ?? 0) > 0) return adapted * (castBytes + 1) * width;
  return castBytes !== inner ? adapted * castBytes * width : plain;
}

/** Bytes autograd keeps per token for one decoder layer. */
export function layerSavedBytesPerToken(ctx: MemoryContext, seqLen: number): number {
  const { spec, workload } = ctx;
  const h = spec.hiddenSize;
  const qd = spec.numHeads * spec.headDim;
  const kvd = spec.numKvHeads * spec.headDim;
  // MoE: a token goes through its top-k routed experts and the shared experts (moe_intermediate_size wide)
  const I = ctx.activeMlpWidth;
  // the dtype the layer computes in: under PEFT's k-bit preparation the stream, the norms' outputs and
  // bitsandbytes' outputs (cast back to the input's dtype, bnb/nn/modules.py Linear4bit.forward) are fp32
  const inner = ctx.linearOutBytes;
  let bytes = 0;
  // RMSNorm upcasts to fp32 and keeps the fp32 input for pow/mul backward (LlamaRMSNorm.forward);
  // its weight gradient (full training) also needs the normalised input in the stream dtype.
  const norms = spec.modelType === "gemma2" || spec.modelType === "gemma3_text" ? 4 : 2;
  // Liger's RMSNorm keeps its input in the stream dtype and one fp32 rstd per row (liger_kernel/ops/rms_norm.py)
  const liger = workload.kernels === "liger";
  bytes += liger ? norms * (ctx.streamBytes * h + 4) : norms * (4 * h + (ctx.fullTraining ? ctx.streamBytes * h : 0));
  // q/k/v read the same normalised input
  bytes += keptInputBytes(ctx, ["q_proj", "k_proj", "v_proj"], h, inner);
  // attention keeps q, k, v (post-RoPE) and its output for backward (FlashAttention-2 / SDPA save
  // q, k, v, out and a per-row logsumexp); the output doubles as o_proj's input (an adapter's cast is a copy).
  bytes += inner * (qd + 2 * kvd) + inner * qd + 4 * spec.numHeads;
  bytes += keptInputBytes(ctx, ["o_proj"], qd, inner, true);
  if (workload.attn === "eager") bytes += EAGER_TRAIN_BYTES_PER_SCORE * spec.numHeads * seqLen;
  bytes += maskBiasBytesPerToken(ctx);
  // MLP: gate/up share one input; SiLU keeps the gate output, the product keeps silu(gate) and up;
  // the product is down_proj's input, kept only when down_proj has a weight gradient or adapter.
  bytes += keptInputBytes(ctx, ["gate_proj", "up_proj"], h, inner);
  // Liger's SwiGLU keeps gate and up and recomputes silu in backward (liger_kernel/ops/swiglu.py); GELU keeps its input
  bytes += (spec.gatedMlp ? (liger ? 2 : 3) : 1) * inner * I;
  bytes += keptInputBytes(ctx, ["down_proj"], I, inner);
  // each adapter keeps its rank-r intermediate for lora_B's weight gradient
  if (workload.lora) bytes += ctx.loraTargets.size * workload.lora.rank * ctx.engine.adapterBytes;
  return bytes;
}

/** Bytes per token a recomputed layer holds for a moment beyond what it keeps (layerSavedBytesPerToken), at
 *  the larger of two moments, each measured op by op on the real stack (test/memory/saved-activations.test.ts):
 *  - PEFT's adapter on up_proj during the recompute: lora_B's output and its scaled copy, in the adapter's
 *    dtype, I wide (lora/layer.py Linear.forward `lora_B(lora_A(x)) * scaling`), before down_proj has run;
 *  - the SwiGLU backward: the product's gradient and the gradients of its two factors, I wide each, once
 *    down_proj's backward has let go of its kept input (Liger's kernel writes its gradients into the saved
 *    gate and up, liger_kernel/ops/swiglu.py: only the product's gradient is new). A GELU MLP: the gradient of
 *    its output and of its input. */
export function recomputeTransientBytesPerToken(ctx: MemoryContext): number {
  const { spec, engine, workload } = ctx;
  const I = ctx.activeMlpWidth;
  const inner = ctx.linearOutBytes;
  const keptDown = keptInputBytes(ctx, ["down_proj"], I, inner);
  // Unsloth's fused LoRA MLP backward also writes its gradients in place (unsloth/kernels/swiglu.py)
  const grads = spec.gatedMlp ? (workload.kernels === "liger" || engine.kernels === "unsloth" ? 1 : 3) : 2;
  const swigluBackward = grads * I * inner - keptDown;
  const adaptedMlp = workload.lora !== null && (ctx.loraTargets.has("up_proj") || ctx.loraTargets.has("gate_proj"));
  const loraForward = adaptedMlp && engine.kernels === "hf" ? 2 * I * adapterInputBytes(ctx, inner) - keptDown : 0;
  return Math.max(0, swigluBackward, loraForward);
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
  const transient = recomputeTransientBytesPerToken(ctx) * tokens; // a recomputed layer's passing peak
  switch (workload.gradCkpt) {
    case "none":
      return { atLossBytes: perLayer * spec.numLayers + mask, recomputeBytes: 0 };
    case "selective":
      // recompute attention internals only (Korthikanti selective): keep everything but the score path
      return { atLossBytes: Math.round(perLayer * spec.numLayers * 0.8) + mask, recomputeBytes: perLayer + transient + mask };
    case "full":
      // layer inputs stay; backward re-runs one layer at a time (torch.utils.checkpoint), plus the
      // incoming and outgoing gradient of the stream
      return { atLossBytes: boundary * spec.numLayers + mask, recomputeBytes: boundary * spec.numLayers + perLayer + transient + 2 * boundary + mask };
    case "offload":
      // checkpoints live in CPU memory; about two layers' inputs are in flight on the GPU
      return { atLossBytes: 2 * boundary + mask, recomputeBytes: 2 * boundary + perLayer + transient + 2 * boundary + mask };
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
