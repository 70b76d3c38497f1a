// Sums the memory terms at each phase of a step and reports the peak, per GPU. No formula lives here: each
// term is in its own file; this file only decides which terms coexist at which moment on one GPU.
import { engineProfile } from "../engines/profile.js";
import { allPrefillLogits, autoawqCacheByNewTokens, legacyTupleKvCache, parseVersions } from "../engines/versions.js";
import type { Gpu } from "../hardware/gpu.js";
import type { ModelSpec } from "../spec/types.js";
import type { Workload } from "../workload/types.js";
import { activationMemory, inferenceTransientBytes } from "./activations.js";
import { calibrationSpread } from "./band.js";
import { makeContext, type MemoryContext } from "./context.js";
import { kvCacheBytes } from "./kv-cache.js";
import { inferenceLogitsBytes, trainingLogitsBytes } from "./logits.js";
import { modelStates } from "./model-states.js";
import { allocatorMarginBytes, cudaContextBytes } from "./overhead.js";
import { shardPlan } from "./parallel.js";
import { allLayersAttentionBytes, probeBytes, recomputeAttentionBytes, residualHookBytes } from "./extraction.js";
import { quantStateBytes } from "./quant-state.js";
import { weightsBytes } from "./weights.js";

export interface MemoryComponents {
  readonly weights: number;
  readonly quant_state: number;
  readonly adapters: number;
  readonly gradients: number;
  readonly optimizer_state: number;
  readonly optimizer_step: number;
  /** ZeRO-3/FSDP gathered parameters, autocast's 16-bit weight copies */
  readonly gathered_params: number;
  readonly activations: number;
  readonly logits_and_loss: number;
  readonly kv_cache: number;
  readonly cuda_context: number;
  readonly allocator_margin: number;
}

export interface MemoryEstimate {
  readonly components: MemoryComponents;
  /** the moment of the peak */
  readonly peakPhase: "forward-backward" | "recompute" | "optimizer-step" | "prefill" | "decode" | "forward" | "preallocated";
  /** GPUs the run spans; every *Bytes figure below is per GPU (the busiest one) */
  readonly gpus: number;
  readonly allocatedBytes: number;
  readonly reservedBytes: number;
  readonly deviceBytes: number;
  /** device bytes summed over all GPUs of the run */
  readonly totalDeviceBytes: number;
  readonly lowBytes: number;
  readonly highBytes: number;
  /** half-width of the band as a fraction (data/calibration.yaml band, wider outside the calibrated range) */
  readonly band: number;
  /** optimizer state held in host memory by a paged optimizer (may migrate to the GPU when there is room) */
  readonly pagedHostBytes: number;
  /** bytes the strategy keeps in CPU memory (ZeRO offload), all GPUs' processes together */
  readonly offloadedHostBytes: number;
  /** the least the run needs on the device: live tensors, the allocator's unavoidable margin and the CUDA
   *  context. The caching allocator frees cached blocks and retries before it reports OOM
   *  (c10/cuda/CUDACachingAllocator.cpp), so variable-length fragmentation alone does not fail a run. */
  readonly minimumDeviceBytes: number;
  readonly warnings: readonly string[];
}

/** The one fit rule: the least the run needs on the device (live tensors, the allocator's unavoidable
 *  margin, the CUDA context) against the memory the card gives a process. */
export function fitsIn(est: MemoryEstimate, capacityBytes: number): boolean {
  return est.minimumDeviceBytes <= capacityBytes;
}

interface Phase {
  readonly name: MemoryEstimate["peakPhase"];
  readonly parts: Parts;
}

type Parts = Omit<MemoryComponents, "cuda_context" | "allocator_margin">;

/** Every phase's terms as one object shape (fixed keys, fixed order), so summing stays monomorphic and fast. */
function full(p: Partial<Parts>): Parts {
  return {
    weights: p.weights ?? 0,
    quant_state: p.quant_state ?? 0,
    adapters: p.adapters ?? 0,
    gradients: p.gradients ?? 0,
    optimizer_state: p.optimizer_state ?? 0,
    optimizer_step: p.optimizer_step ?? 0,
    gathered_params: p.gathered_params ?? 0,
    activations: p.activations ?? 0,
    logits_and_loss: p.logits_and_loss ?? 0,
    kv_cache: p.kv_cache ?? 0,
  };
}

/** Sum of the live-tensor terms of a phase (context and margin are added after the peak is chosen). */
function sum(p: Parts): number {
  return p.weights + p.quant_state + p.adapters + p.gradients + p.optimizer_state + p.optimizer_step + p.gathered_params + p.activations + p.logits_and_loss + p.kv_cache;
}

function trainingPhases(ctx: MemoryContext): { phases: Phase[]; paged: number; host: number } {
  const { workload } = ctx;
  const ms = modelStates(ctx);
  const plan = ms.plan;
  const act = activationMemory(ctx);
  // layers spread over GPUs (device_map): each GPU holds its layers' activations; the loss sits on the last
  const stage = (b: number) => (plan.layerSplit ? Math.round(b / plan.gpus) : b);
  const logits = trainingLogitsBytes(ctx);
  const recomputeGrads = workload.optimizerInBackward ? ms.gradientsAtStep : Math.max(ms.gradientsPersistent, Math.round(ms.gradientsAtStep / 2));
  // literal objects of one shape (see full()): estimates run by the hundred thousand in fit search
  const phase = (name: Phase["name"], gradients: number, gathered: number, activations: number, logitsAndLoss: number, optimizerStep: number): Phase => ({
    name,
    parts: {
      weights: ms.weights,
      quant_state: ms.quantState,
      adapters: ms.adapters,
      gradients,
      optimizer_state: ms.optimizerState,
      optimizer_step: optimizerStep,
      gathered_params: gathered,
      activations,
      logits_and_loss: logitsAndLoss,
      kv_cache: 0,
    },
  });
  return {
    paged: ms.paged,
    host: ms.hostBytes,
    phases: [
      phase("forward-backward", ms.gradientsPersistent, ms.gathered, stage(act.atLossBytes), logits, 0),
      phase("recompute", recomputeGrads, ms.gathered, stage(act.recomputeBytes), 0, 0),
      phase("optimizer-step", ms.gradientsAtStep, 0, 0, 0, ms.optimizerStep),
    ],
  };
}

function inferencePhases(ctx: MemoryContext, gpu: Gpu | undefined, warnings: string[]): Phase[] {
  const { workload, engine, spec } = ctx;
  const plan = shardPlan(workload);
  const n = plan.gpus;
  // per GPU: tensor parallel splits weights, KV heads and each layer's activations; layer placement
  // (pipeline, device_map) splits weights and KV by layer, while one layer's activations stay whole
  const split = (b: number) => Math.round(b / n);
  const act = (b: number) => (plan.tensorSplit ? split(b) : b);
  // TP: KV heads are split, but replicated when fewer than the GPUs (vllm QKVParallelLinear num_kv_head_replicas)
  const kvShare = (b: number) => (plan.tensorSplit ? Math.round(b * (Math.max(1, spec.numKvHeads / n) / spec.numKvHeads)) : split(b));
  const weights = split(weightsBytes(ctx));
  const quant = split(quantStateBytes(ctx));
  const prompt = workload.kind === "inference_decode" ? workload.promptTokens : workload.seqLen;
  const context = workload.kind === "inference_decode" ? workload.promptTokens + workload.newTokens : workload.seqLen;
  // generate() keeps the last position's logits since transformers 4.45 (versions.ts allPrefillLogits)
  const legacyAll = engine.kernels === "hf" ? allPrefillLogits(parseVersions(workload.engineVersion)) : null;
  const keepAll = (legacyAll ?? engine.prefillLogits === "all") || workload.kind !== "inference_decode";
  if (engine.kvPreallocFraction !== null) {
    if (!gpu) warnings.push(`${engine.id} reserves ${Math.round(engine.kvPreallocFraction * 100)}% of each card up front: pick a GPU to see the figure`);
    const kv = kvShare(kvCacheBytes(ctx, context));
    const need = weights + quant + kv + act(inferenceTransientBytes(ctx, Math.min(prompt, 8192) * workload.batch, context, workload.batch));
    const pre = gpu ? Math.max(need, Math.round(engine.kvPreallocFraction * gpu.usableBytes)) : need;
    return [{ name: "preallocated", parts: full({ weights, quant_state: quant, kv_cache: pre - weights - quant }) }];
  }
  // llama.cpp allocates the KV cache for the whole context and a compute buffer sized for n_ubatch=512
  // (engine prefill_chunk_tokens); other engines take the whole prompt in one forward
  const ubatch = engine.prefillChunkTokens !== null ? Math.min(prompt, engine.prefillChunkTokens) : prompt;
  const prefillTokens = Math.max(1, ubatch) * workload.batch;
  // the context a preallocating engine sizes its cache for: the whole context, but AutoAWQ before 0.2 sizes
  // it by the tokens to generate, grown to a longer prompt (versions.ts autoawqCacheByNewTokens)
  const cacheContext = engine.kernels === "autoawq" && workload.kind === "inference_decode" && autoawqCacheByNewTokens(parseVersions(workload.engineVersion)) ? Math.max(prompt, workload.newTokens) : context;
  const kvPrefill = kvShare(kvCacheBytes(ctx, engine.kvPreallocContext ? cacheContext : Math.max(prompt, 1)));
  const phases: Phase[] = [
    {
      name: workload.kind === "inference_decode" ? "prefill" : "forward",
      parts: full({
        weights,
        quant_state: quant,
        kv_cache: workload.kind === "inference_decode" || engine.kvPreallocContext ? kvPrefill : kvShare(kvCacheBytes(ctx, prompt)),
        activations: act(inferenceTransientBytes(ctx, prefillTokens, Math.max(prompt, 1), workload.batch)),
        logits_and_loss: inferenceLogitsBytes(ctx, Math.max(ubatch, 1), keepAll),
      }),
    },
  ];
  if (workload.kind === "inference_decode") {
    const kv = kvShare(kvCacheBytes(ctx, engine.kvPreallocContext ? cacheContext : context));
    // DynamicCache grows by torch.cat: one layer's old and new cache coexist for a moment; the legacy
    // tuple cache keeps the whole previous cache alive until forward returns
    const catCopy = engine.kvPreallocContext ? 0 : legacyTupleKvCache(parseVersions(workload.engineVersion)) ? kv : Math.round(kv / spec.numLayers);
    phases.push({
      name: "decode",
      parts: full({
        weights,
        quant_state: quant,
        kv_cache: kv + catCopy,
        activations: act(inferenceTransientBytes(ctx, workload.batch, context, workload.batch)),
        logits_and_loss: inferenceLogitsBytes(ctx, 1, false),
      }),
    });
  }
  return phases;
}

function extractionPhases(ctx: MemoryContext): Phase[] {
  const { workload } = ctx;
  const weights = weightsBytes(ctx);
  const quant = quantStateBytes(ctx);
  const s = workload.seqLen;
  const b = workload.batch;
  // the model's own forward (SDPA, or eager's one-layer softmax when asked for), widest op of a layer
  const transient = inferenceTransientBytes(ctx, s * b, s, b);
  if (workload.kind === "attention_extract") {
    // per-layer: fitlab's recompute, one layer's chunk at a time beside the model's forward (extraction.ts);
    // all-layers: output_attentions=True keeps every layer's map until the forward returns
    const kept = workload.attentionCapture === "all-layers" ? allLayersAttentionBytes(ctx) : Math.max(transient, recomputeAttentionBytes(ctx, "attention"));
    return [{ name: "forward", parts: full({ weights, quant_state: quant, activations: kept }) }];
  }
  if (workload.kind === "hidden_extract") {
    // hooks reduce each layer's stream as it is produced: nothing accumulates on the device
    return [{ name: "forward", parts: full({ weights, quant_state: quant, activations: transient + residualHookBytes(ctx) }) }];
  }
  // linear probe on one layer's cached features (the LLM is not loaded): features, head, L-BFGS history, logits
  const p = probeBytes(ctx);
  return [{ name: "forward", parts: full({ activations: p.features + p.logits, adapters: p.head, optimizer_state: p.optimizer, gradients: p.head }) }];
}

export function estimateMemory(spec: ModelSpec, workload: Workload, gpu?: Gpu): MemoryEstimate {
  const engine = engineProfile(workload.engine);
  const ctx = makeContext(spec, workload, engine, gpu?.computeCapability ?? null);
  const warnings: string[] = [];
  let phases: Phase[];
  let paged = 0;
  let host = 0;
  if (ctx.training) {
    const t = trainingPhases(ctx);
    phases = t.phases;
    paged = t.paged;
    host = t.host;
  } else if (workload.kind.startsWith("inference")) {
    phases = inferencePhases(ctx, gpu, warnings);
  } else {
    phases = extractionPhases(ctx);
  }
  let peak = phases[0]!;
  let allocated = sum(peak.parts);
  for (let i = 1; i < phases.length; i++) {
    const total = sum(phases[i]!.parts);
    if (total > allocated) {
      peak = phases[i]!;
      allocated = total;
    }
  }
  allocated = Math.round(allocated);
  const transient = (peak.parts.activations ?? 0) + (peak.parts.logits_and_loss ?? 0) + (peak.parts.optimizer_step ?? 0) + (peak.parts.gathered_params ?? 0) + (ctx.training ? 0 : (peak.parts.kv_cache ?? 0) * 0.1);
  const context = cudaContextBytes(ctx);
  const fullMargin = peak.name === "preallocated" ? 0 : allocatorMarginBytes(ctx, transient, peak.parts.logits_and_loss ?? 0);
  const minMargin = peak.name === "preallocated" ? 0 : allocatorMarginBytes(ctx, transient, 0);
  // on a named card the cache cannot outgrow it: the allocator releases cached blocks under pressure
  const room = gpu ? Math.max(0, gpu.usableBytes - context - allocated) : Infinity;
  const margin = Math.min(fullMargin, Math.max(minMargin, room));
  const r = (v: number | undefined) => Math.round(v ?? 0);
  const pp = peak.parts;
  const components: MemoryComponents = {
    weights: r(pp.weights),
    quant_state: r(pp.quant_state),
    adapters: r(pp.adapters),
    gradients: r(pp.gradients),
    optimizer_state: r(pp.optimizer_state),
    optimizer_step: r(pp.optimizer_step),
    gathered_params: r(pp.gathered_params),
    activations: r(pp.activations),
    logits_and_loss: r(pp.logits_and_loss),
    kv_cache: r(pp.kv_cache),
    cuda_context: context,
    allocator_margin: margin,
  };
  const gpus = Math.max(1, workload.nGpus);
  const reserved = allocated + margin;
  const device = reserved + context;
  if (paged > 0) warnings.push("paged optimizer: its states live in CPU-backed unified memory; the GPU peak grows toward the card's capacity when there is room");
  if (!workload.packed && ctx.training) warnings.push("unpacked data: the peak is set by the longest batch; assumed to reach the sequence cap");
  if (spec.preQuantized && spec.storedQuant === null) warnings.push(`stored format ${spec.preQuantized.method} is not modelled: weights counted as ${spec.stored ? "the stored bytes" : "unquantized"}`);
  const spread = calibrationSpread(ctx, warnings);
  return {
    components,
    peakPhase: peak.name,
    gpus,
    allocatedBytes: allocated,
    reservedBytes: reserved,
    deviceBytes: device,
    totalDeviceBytes: device * gpus,
    lowBytes: Math.round(allocated * (1 - spread)),
    highBytes: Math.round(device * (1 + spread) + paged),
    band: spread,
    pagedHostBytes: paged,
    offloadedHostBytes: host,
    minimumDeviceBytes: allocated + minMargin + context,
    warnings,
  };
}
