// Run time: training step time and tokens/s from FLOPs over achieved FLOP/s (a compute roofline with a
// weight-streaming floor); inference prefill (compute-bound) and decode (bytes read per generated token over
// achieved bandwidth, next to the host's time to issue the step). The achieved fractions are the calibrated
// numbers of data/calibration.yaml (per kernel family); everything else is a mechanism.
import { calibrated } from "../engines/calibration.js";
import { engineProfile } from "../engines/profile.js";
import { gptqReconstructRows, moeLoopsAllExperts, parseVersions, tritonLinears } from "../engines/versions.js";
import type { Gpu } from "../hardware/gpu.js";
import { sustainedMatmul } from "../hardware/sustained.js";
import { makeContext, type MemoryContext } from "../memory/context.js";
import { kvCacheBytes } from "../memory/kv-cache.js";
import { shardPlan } from "../memory/parallel.js";
import { quantStateBytes } from "../memory/quant-state.js";
import { trainable } from "../memory/trainable.js";
import { weightsBytes } from "../memory/weights.js";
import type { ModelSpec } from "../spec/types.js";
import type { Workload } from "../workload/types.js";
import { communicationSeconds } from "./communication.js";
import { forwardFlopsPerToken, trainingFlopsPerToken } from "./flops.js";
import { stepSeqLen } from "./step-tokens.js";

export type Bottleneck = "compute" | "memory-bandwidth" | "host-overhead" | "interconnect";

export interface TimeEstimate {
  /** training: tokens processed per second (all GPUs); decode: generated tokens per second incl. prefill;
   *  prefill/extraction: prompt tokens per second */
  readonly tokensPerS: number;
  /** one optimizer step (training: batch x seq x grad_accum tokens) or one whole request (inference) */
  readonly stepSeconds: number;
  readonly flopsPerToken: number;
  readonly bottleneck: Bottleneck;
  readonly prefillSeconds: number;
  /** decode only (excludes prefill), generated tokens per second; 0 when not decoding */
  readonly decodeTokensPerS: number;
  /** training: seconds per optimizer step spent on transfers between GPUs and to the host (0 on one GPU) */
  readonly transferSeconds: number;
  /** training: tokens per second on each data-parallel GPU (what TGS and torchtune's tokens_per_second_per_gpu
   *  report); inference: the same as tokensPerS (one request spans its GPUs) */
  readonly tokensPerSPerGpu: number;
}

/** Tensor-parallel inference scaling: each layer all-reduces twice, mostly overlapped with compute (~90 % on
 *  NVLink, as data-parallel training scales in the PyTorch DDP paper, Li et al. 2020). Training transfers are
 *  counted byte by byte instead (src/time/communication.ts). */
const PARALLEL_SCALING = 0.9;

/** Engine efficiency applied to what the card sustains (measured matmul FLOP/s, src/hardware/sustained.ts),
 *  not to its datasheet peak: power- and clock-limited cards (T4, L4, L40S) sustain far less than nominal. */
function achievedFlops(gpu: Gpu, efficiency: number): number {
  return sustainedMatmul(gpu).flopsPerS * efficiency;
}

function trainingTime(ctx: MemoryContext, gpu: Gpu): TimeEstimate {
  const { workload, engine } = ctx;
  const plan = shardPlan(workload);
  // unpacked data with a known mean length in length-grouped batches: the step computes on the real tokens
  const seq = stepSeqLen(ctx);
  const flopsPerToken = trainingFlopsPerToken(ctx, seq);
  const quantPenalty = ctx.quantizedBase ? calibrated(engine, "quant_train_penalty") : 1;
  const tokensPerMicro = workload.batch * seq;
  const compute = (flopsPerToken * tokensPerMicro * quantPenalty) / achievedFlops(gpu, calibrated(engine, "train_efficiency"));
  // each micro-step streams the weights at least three times (forward, recompute, backward)
  // (ZeRO-3/FSDP gather the full weights on every GPU before computing; only tensor parallel splits them)
  const weightBytes = (weightsBytes(ctx) + quantStateBytes(ctx)) / (plan.tensorSplit ? plan.params : 1);
  const stream = (3 * weightBytes) / (gpu.memBandwidthBytesPerS * calibrated(engine, "decode_bw_efficiency"));
  const t = trainable(ctx);
  // collectives between the GPUs and parameter copies from the host (src/time/communication.ts)
  const comm = communicationSeconds(ctx, gpu);
  const micro = Math.max(compute, stream) + comm.perMicroS;
  // the AdamW step itself is memory-bound: it reads each parameter, gradient and both moments and writes back
  // the parameter and moments (torch/optim/adamw.py; fp32 master weights read and written too)
  const adamBytes = t.params * (2 * t.paramBytes + t.gradBytes + 4 * t.momentBytes + 2 * t.masterBytes);
  const optimizerStep = plan.offloadOptimizer || workload.optimizer === "none" || workload.optimizer === "sgd" ? 0 : adamBytes / plan.optimizer / (gpu.memBandwidthBytesPerS * calibrated(engine, "decode_bw_efficiency"));
  const stepSeconds = micro * workload.gradAccum + comm.perStepS + optimizerStep;
  const transferS = comm.perMicroS * workload.gradAccum + comm.perStepS;
  // the transfers are counted above, so the data-parallel GPUs add their tokens in full
  const gpus = Math.max(1, plan.dataParallel);
  return {
    tokensPerS: (tokensPerMicro * workload.gradAccum * gpus) / stepSeconds,
    tokensPerSPerGpu: (tokensPerMicro * workload.gradAccum) / stepSeconds,
    stepSeconds,
    flopsPerToken,
    bottleneck: transferS > Math.max(compute, stream) * workload.gradAccum ? "interconnect" : compute >= stream ? "compute" : "memory-bandwidth",
    prefillSeconds: 0,
    decodeTokensPerS: 0,
    transferSeconds: transferS,
  };
}

function prefillSeconds(ctx: MemoryContext, gpu: Gpu, tokens: number, ctxLen: number, tensorWays: number): number {
  if (tokens <= 0) return 0;
  // causal prefill: the average token attends to half the prompt; forwardFlopsPerToken already halves
  const ways = tensorWays > 1 ? tensorWays * PARALLEL_SCALING : 1;
  return (forwardFlopsPerToken(ctx.spec, ctxLen) * tokens) / (achievedFlops(gpu, calibrated(ctx.engine, "prefill_efficiency")) * ways);
}

/** Host time of one transformers MoE expert iteration as a share of a dense decoder layer's: about 8 dispatched
 *  ops (torch.where, the gather, three linears, the activation, the weighting, index_add_) against about 100
 *  for a whole decoder layer (norms, projections, RoPE, attention, cache update, residuals). */
const EXPERT_SHARE_OF_LAYER = 8 / 100;

/** Expected share of a layer's routed experts that `tokens` tokens touch, with top-k routing spread evenly:
 *  1 - (1 - k/E)^tokens (each expert is missed by a token with probability 1 - k/E). */
export function activeExpertFraction(spec: ModelSpec, tokens: number): number {
  if (spec.numExperts <= 1) return 1;
  return 1 - (1 - spec.expertsPerToken / spec.numExperts) ** Math.max(1, tokens);
}

/** Bytes of weights one decode step reads: every matmul weight the batch touches. The input embedding is a
 *  row lookup (only read when tied to the output head); MoE layers read only the experts the batch routes to. */
export function decodeWeightBytes(ctx: MemoryContext, batch: number): number {
  const stored = weightsBytes(ctx) + quantStateBytes(ctx);
  return stored * (decodeReadParams(ctx.spec, batch) / ctx.spec.params.total);
}

/** Parameters one decode step reads (see decodeWeightBytes). */
export function decodeReadParams(spec: ModelSpec, batch: number): number {
  const p = spec.params;
  const routed = spec.numExperts > 1 ? spec.numLayers * spec.linears.filter((l) => l.copies > 1).reduce((s, l) => s + l.inFeatures * l.outFeatures * l.copies, 0) : 0;
  return p.total - (spec.tiedEmbeddings ? 0 : p.embeddings) - routed + routed * activeExpertFraction(spec, batch);
}

/** Whether a decode step of `batch` rows runs GPTQ weights through the reconstruct path: transformers' GPTQ
 *  kernels (ExLlama v1/v2) dequantize the whole weight to fp16 and call cuBLAS from a row count that depends
 *  on the kernel generation (src/engines/versions.ts gptqReconstructRows). vLLM, SGLang and llama.cpp have
 *  their own kernels and are not affected. */
export function gptqReconstructs(ctx: MemoryContext, batch: number): boolean {
  const q = ctx.workload.quant;
  if (ctx.engine.kernels !== "hf" || (q !== "gptq-int4" && q !== "gptq-int8")) return false;
  return batch >= gptqReconstructRows(parseVersions(ctx.workload.engineVersion));
}

/** Seconds the attention of one decode step spends on the KV cache, and the cache copies around it.
 *  transformers' attention paths read the cache once per query head: flash_attention_2 with q_len = 1 runs
 *  one program per (sequence, query head) and does not share a GQA group's keys (flash_attn_varlen_func), and
 *  sdpa/eager first expand the KV heads with repeat_kv (modeling_llama.py). So a step moves n_rep x the cache,
 *  at the achieved bandwidth of those decode-attention kernels (calibrated: decode_attn_bw_efficiency).
 *  DynamicCache appends with torch.cat, reading and writing the layer's cache once more (cache_utils.py).
 *  Serving kernels (vLLM/SGLang paged attention, llama.cpp) and AutoAWQ's fused single-query attention read each
 *  KV head once for its whole group. */
export function decodeKvSeconds(ctx: MemoryContext, gpu: Gpu, ctxLen: number): number {
  const { engine, spec } = ctx;
  const kv = kvCacheBytes(ctx, ctxLen);
  if (kv === 0) return 0;
  const attnBw = gpu.memBandwidthBytesPerS * calibrated(engine, "decode_attn_bw_efficiency");
  if (engine.kernels === "vllm" || engine.kernels === "sglang" || engine.kernels === "llama.cpp" || engine.kernels === "autoawq") return kv / attnBw;
  const nRep = spec.numHeads / spec.numKvHeads;
  const catBw = gpu.memBandwidthBytesPerS * calibrated(engine, "decode_bw_efficiency");
  // sdpa/eager: repeat_kv first materializes the expanded cache (reads it once, writes n_rep copies) before the
  // attention kernel reads those copies (modeling_llama.py repeat_kv: expand + reshape = a copy); FlashAttention
  // takes the grouped cache as it is
  // (repeat_kv returns the cache untouched when n_rep is 1: multi-head attention has nothing to expand)
  const expand = ctx.workload.attn === "flash2" || nRep <= 1 ? 0 : (kv + kv * nRep) / catBw;
  return (kv * nRep) / attnBw + (2 * kv) / catBw + expand;
}

function inferenceTime(ctx: MemoryContext, gpu: Gpu): TimeEstimate {
  const { workload, engine, spec } = ctx;
  const plan = shardPlan(workload);
  const tensorWays = plan.tensorSplit ? plan.gpus : 1;
  const batch = workload.batch;
  const prompt = workload.kind === "inference_decode" ? workload.promptTokens : workload.seqLen;
  const pre = prefillSeconds(ctx, gpu, prompt * batch, prompt, tensorWays);
  if (workload.kind !== "inference_decode") {
    const tps = (prompt * batch) / Math.max(pre, 1e-9);
    return { tokensPerS: tps, tokensPerSPerGpu: tps, stepSeconds: pre, flopsPerToken: forwardFlopsPerToken(spec, prompt), bottleneck: "compute", prefillSeconds: pre, decodeTokensPerS: 0, transferSeconds: 0 };
  }
  const quantBw = ctx.quantizedBase && workload.quant !== "gguf-F16" && workload.quant !== "gguf-BF16" && workload.quant !== "gguf-F32" ? calibrated(engine, "quant_decode_bw_factor") : 1;
  const bw = gpu.memBandwidthBytesPerS * calibrated(engine, "decode_bw_efficiency");
  const avgCtx = prompt + workload.newTokens / 2;
  // tensor parallel: every GPU reads its share at the same time; layer placement (pipeline, device_map)
  // runs the stages one after another for a single request
  const ways = tensorWays > 1 ? tensorWays * PARALLEL_SCALING : 1;
  // reconstruct path: read the packed weight, write it as fp16 (2 bytes per parameter), and cuBLAS reads that
  // fp16 copy again, all at streaming bandwidth; otherwise the fused dequantizing GEMV reads the packed bytes
  const weightS = (gptqReconstructs(ctx, batch) ? (decodeWeightBytes(ctx, batch) + 2 * 2 * decodeReadParams(spec, batch)) / bw : decodeWeightBytes(ctx, batch) / (bw * quantBw)) / ways;
  const kvS = decodeKvSeconds(ctx, gpu, avgCtx) / ways;
  const computeS = (forwardFlopsPerToken(spec, avgCtx) * batch) / achievedFlops(gpu, calibrated(engine, "prefill_efficiency")) / ways;
  const gpuS = Math.max(weightS + kvS, computeS);
  // transformers' MoE blocks launch each expert's matmuls from Python: the experts the batch hit, or every
  // expert in releases before the expert_hit loop (versions.ts moeLoopsAllExperts), each EXPERT_SHARE_OF_LAYER
  const versions = parseVersions(workload.engineVersion);
  const moeHf = spec.numExperts > 1 && engine.kernels === "hf";
  const expertsRun = moeHf ? (moeLoopsAllExperts(versions) ? spec.numExperts : spec.numExperts * activeExpertFraction(spec, batch)) : 0;
  // Triton-kernel linears (FP8, GPTQModel 8-bit) add their launcher's host time per linear call
  const triton = engine.kernels === "hf" && tritonLinears(workload.quant, versions);
  const linearsPerLayer = triton ? spec.linears.filter((l) => l.copies <= 1).length + (moeHf ? 3 * expertsRun : 0) : 0;
  const tritonMs = spec.numLayers * linearsPerLayer * calibrated(engine, "triton_linear_host_ms");
  // plus what the serving loop does once per step (scheduling, sampling, output): decode_step_host_ms
  const hostS = (spec.numLayers * (1 + EXPERT_SHARE_OF_LAYER * expertsRun) * calibrated(engine, "decode_host_ms_per_layer") + tritonMs + calibrated(engine, "decode_step_host_ms")) / 1000;
  // CUDA launches are asynchronous: the host enqueues the next kernels while the GPU runs the previous ones,
  // so a step costs the longer of the two (generate() synchronises once per token, on the stopping check)
  const stepS = engine.hostOverlapsGpu ? Math.max(gpuS, hostS) : gpuS + hostS;
  const decodeS = stepS * workload.newTokens;
  const total = pre + decodeS;
  const bottleneck: Bottleneck = hostS > gpuS ? "host-overhead" : computeS > weightS + kvS ? "compute" : "memory-bandwidth";
  return {
    tokensPerS: (batch * workload.newTokens) / total,
    tokensPerSPerGpu: (batch * workload.newTokens) / total,
    stepSeconds: total,
    flopsPerToken: forwardFlopsPerToken(spec, avgCtx),
    bottleneck,
    prefillSeconds: pre,
    decodeTokensPerS: batch / stepS,
    transferSeconds: 0,
  };
}

export function estimateTime(spec: ModelSpec, workload: Workload, gpu: Gpu): TimeEstimate {
  const ctx = makeContext(spec, workload, engineProfile(workload.engine), gpu.computeCapability);
  if (ctx.training) return trainingTime(ctx, gpu);
  if (workload.kind === "probe") {
    // a linear head on cached features: trivially fast; bound by reading the features once per epoch
    const samples = workload.probe?.samples ?? 0;
    const width = workload.probe?.features || spec.hiddenSize;
    const s = Math.max((samples * width * 4) / gpu.memBandwidthBytesPerS, 1e-3);
    return { tokensPerS: samples / s, tokensPerSPerGpu: samples / s, stepSeconds: s, flopsPerToken: 0, bottleneck: "memory-bandwidth", prefillSeconds: 0, decodeTokensPerS: 0, transferSeconds: 0 };
  }
  return inferenceTime(ctx, gpu);
}
