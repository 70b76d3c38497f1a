// Run time: training step time and tokens/s from FLOPs over achieved FLOP/s (a compute roofline with a
// weight-streaming floor); inference prefill (compute-bound) and decode (bandwidth-bound) rooflines.
import { engineProfile } from "../engines/profile.js";
import type { Gpu } from "../hardware/gpu.js";
import { sustainedMatmul } from "../hardware/sustained.js";
import { makeContext, type MemoryContext } from "../memory/context.js";
import { kvCacheBytes } from "../memory/kv-cache.js";
import { quantStateBytes } from "../memory/quant-state.js";
import { weightsBytes } from "../memory/weights.js";
import type { ModelSpec } from "../spec/types.js";
import type { Workload } from "../workload/types.js";
import { forwardFlopsPerToken, trainingFlopsPerToken } from "./flops.js";

export type Bottleneck = "compute" | "memory-bandwidth" | "host-overhead";

export interface TimeEstimate {
  /** training: tokens processed per second; decode: generated tokens per second incl. prefill;
   *  prefill/extraction: prompt tokens per second */
  readonly tokensPerS: number;
  /** one optimizer step (training: batch x seq x grad_accum tokens) or one whole request (inference) */
  readonly stepSeconds: number;
  readonly flopsPerToken: number;
  readonly bottleneck: Bottleneck;
  readonly prefillSeconds: number;
  /** decode only (excludes prefill), generated tokens per second; 0 when not decoding */
  readonly decodeTokensPerS: number;
}

/** Achieved fraction of bandwidth when the weights are stored in 4-bit block formats: the dequantising
 *  GEMV kernels do not stream at full bandwidth. Calibrated on llama.cpp Q4_K_M decode (cases M125) and
 *  GPTQ/exllama decode (M043, M093). */
const QUANT_DECODE_BW_FACTOR = 0.65;

/** Multi-GPU data parallel scaling efficiency (gradient all-reduce / FSDP gathers over PCIe/NVLink). */
const MULTI_GPU_SCALING = 0.9;

/** Engine efficiency applied to what the card sustains (measured matmul FLOP/s, src/hardware/sustained.ts),
 *  not to its datasheet peak: power- and clock-limited cards (T4, L4, L40S) sustain far less than nominal. */
function achievedFlops(gpu: Gpu, efficiency: number): number {
  return sustainedMatmul(gpu).flopsPerS * efficiency;
}

function trainingTime(ctx: MemoryContext, gpu: Gpu): TimeEstimate {
  const { workload, engine } = ctx;
  const flopsPerToken = trainingFlopsPerToken(ctx);
  const quantPenalty = ctx.quantizedBase ? engine.quantTrainPenalty : 1;
  const tokensPerMicro = ctx.peakTokens;
  const compute = (flopsPerToken * tokensPerMicro * quantPenalty) / achievedFlops(gpu, engine.trainEfficiency);
  // each micro-step streams the weights at least three times (forward, recompute, backward)
  const stream = (3 * (weightsBytes(ctx) + quantStateBytes(ctx))) / (gpu.memBandwidthBytesPerS * engine.decodeBwEfficiency);
  const micro = Math.max(compute, stream);
  const gpus = workload.nGpus > 1 ? workload.nGpus * MULTI_GPU_SCALING : 1;
  const stepSeconds = micro * workload.gradAccum;
  return {
    tokensPerS: (tokensPerMicro * gpus) / micro,
    stepSeconds,
    flopsPerToken,
    bottleneck: compute >= stream ? "compute" : "memory-bandwidth",
    prefillSeconds: 0,
    decodeTokensPerS: 0,
  };
}

function prefillSeconds(ctx: MemoryContext, gpu: Gpu, tokens: number, ctxLen: number): number {
  if (tokens <= 0) return 0;
  // causal prefill: the average token attends to half the prompt; forwardFlopsPerToken already halves
  return (forwardFlopsPerToken(ctx.spec, ctxLen) * tokens) / achievedFlops(gpu, ctx.engine.prefillEfficiency);
}

function inferenceTime(ctx: MemoryContext, gpu: Gpu): TimeEstimate {
  const { workload, engine, spec } = ctx;
  const batch = workload.batch;
  const prompt = workload.kind === "inference_decode" ? workload.promptTokens : workload.seqLen;
  const pre = prefillSeconds(ctx, gpu, prompt * batch, prompt);
  if (workload.kind !== "inference_decode") {
    return { tokensPerS: (prompt * batch) / Math.max(pre, 1e-9), stepSeconds: pre, flopsPerToken: forwardFlopsPerToken(spec, prompt), bottleneck: "compute", prefillSeconds: pre, decodeTokensPerS: 0 };
  }
  const weights = weightsBytes(ctx) + quantStateBytes(ctx);
  const bwFactor = ctx.quantizedBase && workload.quant !== "gguf-F16" && workload.quant !== "gguf-BF16" ? QUANT_DECODE_BW_FACTOR : 1;
  const bw = gpu.memBandwidthBytesPerS * engine.decodeBwEfficiency * bwFactor;
  const avgCtx = prompt + workload.newTokens / 2;
  const kv = kvCacheBytes(ctx, avgCtx);
  const memoryS = (weights + kv) / bw;
  const computeS = (forwardFlopsPerToken(spec, avgCtx) * batch) / achievedFlops(gpu, engine.prefillEfficiency);
  const hostS = spec.numLayers * engine.decodeLayerOverheadS;
  const kvPenaltyS = kv * engine.decodeKvSecondsPerByte;
  const stepS = Math.max(memoryS, computeS) + hostS + kvPenaltyS;
  const decodeS = stepS * workload.newTokens;
  const total = pre + decodeS;
  const bottleneck: Bottleneck = hostS > Math.max(memoryS, computeS) ? "host-overhead" : computeS > memoryS ? "compute" : "memory-bandwidth";
  return {
    tokensPerS: (batch * workload.newTokens) / total,
    stepSeconds: total,
    flopsPerToken: forwardFlopsPerToken(spec, avgCtx),
    bottleneck,
    prefillSeconds: pre,
    decodeTokensPerS: batch / stepS,
  };
}

export function estimateTime(spec: ModelSpec, workload: Workload, gpu: Gpu): TimeEstimate {
  const ctx = makeContext(spec, workload, engineProfile(workload.engine));
  if (ctx.training) return trainingTime(ctx, gpu);
  if (workload.kind === "probe") {
    // a linear head on cached features: trivially fast; bound by reading the features once per epoch
    const samples = workload.probe?.samples ?? 0;
    const width = workload.probe?.features || spec.hiddenSize;
    const s = Math.max((samples * width * 4) / gpu.memBandwidthBytesPerS, 1e-3);
    return { tokensPerS: samples / s, stepSeconds: s, flopsPerToken: 0, bottleneck: "memory-bandwidth", prefillSeconds: 0, decodeTokensPerS: 0 };
  }
  return inferenceTime(ctx, gpu);
}
