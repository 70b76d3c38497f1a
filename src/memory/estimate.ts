// Sums the memory terms at each phase of a step and reports the peak. No formula lives here:
// each term is in its own file; this file only decides which terms coexist at which moment.
import { engineProfile } from "../engines/profile.js";
import { legacyTupleKvCache, parseVersions } from "../engines/versions.js";
import type { Gpu } from "../hardware/gpu.js";
import type { ModelSpec } from "../spec/types.js";
import type { Workload } from "../workload/types.js";
import { activationMemory, inferenceTransientBytes } from "./activations.js";
import { adapterBytes } from "./adapters.js";
import { makeContext, type MemoryContext } from "./context.js";
import { gradientsBytes } from "./gradients.js";
import { kvCacheBytes } from "./kv-cache.js";
import { inferenceLogitsBytes, trainingLogitsBytes } from "./logits.js";
import { optimizerMemory } from "./optimizer-state.js";
import { allocatorMarginBytes, cudaContextBytes } from "./overhead.js";
import { allLayersAttentionBytes, probeBytes, recomputeAttentionBytes, residualHookBytes } from "./extraction.js";
import { quantStateBytes } from "./quant-state.js";
import { weightsBytes } from "./weights.js";
import { calibrationSpread } from "./band.js";

export interface MemoryComponents {
  readonly weights: number;
  readonly quant_state: number;
  readonly adapters: number;
  readonly gradients: number;
  readonly optimizer_state: number;
  readonly optimizer_step: number;
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
  readonly allocatedBytes: number;
  readonly reservedBytes: number;
  readonly deviceBytes: number;
  readonly lowBytes: number;
  readonly highBytes: number;
  /** optimizer state held in host memory by a paged optimizer (may migrate to the GPU when there is room) */
  readonly pagedHostBytes: number;
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
  readonly parts: Partial<Record<keyof MemoryComponents, number>>;
}

/** Sum of the live-tensor terms of a phase (context and margin are added after the peak is chosen). */
function sum(p: Phase["parts"]): number {
  return (
    (p.weights ?? 0) + (p.quant_state ?? 0) + (p.adapters ?? 0) + (p.gradients ?? 0) + (p.optimizer_state ?? 0) +
    (p.optimizer_step ?? 0) + (p.activations ?? 0) + (p.logits_and_loss ?? 0) + (p.kv_cache ?? 0)
  );
}

function trainingPhases(ctx: MemoryContext): { phases: Phase[]; paged: number } {
  const { workload } = ctx;
  const n = workload.sharding === "fsdp" ? workload.nGpus : 1;
  // FSDP / ZeRO-3 shard parameters, gradients and optimizer state across GPUs (Rajbhandari et al. 2020)
  const shard = (b: number) => Math.round(b / n);
  const opt = optimizerMemory(ctx);
  const grads = gradientsBytes(ctx);
  const weights = shard(weightsBytes(ctx));
  const quant_state = shard(quantStateBytes(ctx));
  const adapters = shard(adapterBytes(ctx));
  const optimizer_state = shard(opt.stateBytes);
  // gradients stay alive across micro-batches when accumulating; DDP keeps bucketed copies too
  const ddpCopy = workload.sharding === "ddp" && workload.nGpus > 1 ? grads : 0;
  const persistentGrads = (workload.gradAccum > 1 && !workload.optimizerInBackward ? shard(grads) : 0) + ddpCopy;
  const act = activationMemory(ctx);
  const logits = trainingLogitsBytes(ctx);
  // FSDP all-gathers one layer's full parameters for compute (and prefetches the next)
  const gathered = n > 1 ? (2 * weights * n) / ctx.spec.numLayers : 0;
  const phase = (name: Phase["name"], gradients: number, activations: number, logits_and_loss: number, optimizer_step: number): Phase => ({
    name,
    parts: { weights, quant_state, adapters, gradients, optimizer_state, optimizer_step, activations, logits_and_loss, kv_cache: 0 },
  });
  return {
    paged: shard(opt.pagedBytes),
    phases: [
      phase("forward-backward", persistentGrads, act.atLossBytes + gathered, logits, 0),
      phase("recompute", Math.max(persistentGrads, workload.optimizerInBackward ? grads : Math.round(shard(grads) / 2)), act.recomputeBytes + gathered, 0, 0),
      phase("optimizer-step", shard(grads) + ddpCopy, 0, 0, shard(opt.stepTempBytes)),
    ],
  };
}

function inferencePhases(ctx: MemoryContext, gpu: Gpu | undefined, warnings: string[]): Phase[] {
  const { workload, engine, spec } = ctx;
  const weights = weightsBytes(ctx);
  const quant = quantStateBytes(ctx);
  const prompt = workload.kind === "inference_decode" ? workload.promptTokens : workload.seqLen;
  const context = workload.kind === "inference_decode" ? workload.promptTokens + workload.newTokens : workload.seqLen;
  const keepAll = engine.prefillLogits === "all" || workload.kind !== "inference_decode";
  if (engine.kvPreallocFraction !== null) {
    if (!gpu) warnings.push(`${engine.id} reserves ${Math.round(engine.kvPreallocFraction * 100)}% of the card up front: pick a GPU to see the figure`);
    const kv = kvCacheBytes(ctx, context);
    const need = weights + quant + kv + inferenceTransientBytes(ctx, Math.min(prompt, 8192) * workload.batch, context, workload.batch);
    const pre = gpu ? Math.max(need, Math.round(engine.kvPreallocFraction * gpu.usableBytes)) : need;
    return [{ name: "preallocated", parts: { weights, quant_state: quant, kv_cache: pre - weights - quant } }];
  }
  // llama.cpp allocates the KV cache for the whole context and a compute buffer sized for n_ubatch=512
  const ubatch = engine.kvPreallocContext ? Math.min(prompt, 512) : prompt;
  const prefillTokens = Math.max(1, ubatch) * workload.batch;
  const kvPrefill = kvCacheBytes(ctx, engine.kvPreallocContext ? context : Math.max(prompt, 1));
  const phases: Phase[] = [
    {
      name: workload.kind === "inference_decode" ? "prefill" : "forward",
      parts: {
        weights,
        quant_state: quant,
        kv_cache: workload.kind === "inference_decode" || engine.kvPreallocContext ? kvPrefill : kvCacheBytes(ctx, prompt),
        activations: inferenceTransientBytes(ctx, prefillTokens, Math.max(prompt, 1), workload.batch),
        logits_and_loss: inferenceLogitsBytes(ctx, Math.max(ubatch, 1), keepAll),
      },
    },
  ];
  if (workload.kind === "inference_decode") {
    const kv = kvCacheBytes(ctx, context);
    // DynamicCache grows by torch.cat: one layer's old and new cache coexist for a moment; the legacy
    // tuple cache keeps the whole previous cache alive until forward returns
    const catCopy = engine.kvPreallocContext ? 0 : legacyTupleKvCache(parseVersions(workload.engineVersion)) ? kv : Math.round(kv / spec.numLayers);
    phases.push({
      name: "decode",
      parts: {
        weights,
        quant_state: quant,
        kv_cache: kv + catCopy,
        activations: inferenceTransientBytes(ctx, workload.batch, context, workload.batch),
        logits_and_loss: inferenceLogitsBytes(ctx, 1, false),
      },
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
    return [{ name: "forward", parts: { weights, quant_state: quant, activations: kept } }];
  }
  if (workload.kind === "hidden_extract") {
    // hooks reduce each layer's stream as it is produced: nothing accumulates on the device
    return [{ name: "forward", parts: { weights, quant_state: quant, activations: transient + residualHookBytes(ctx) } }];
  }
  // linear probe on one layer's cached features (the LLM is not loaded): features, head, L-BFGS history, logits
  const p = probeBytes(ctx);
  return [{ name: "forward", parts: { activations: p.features + p.logits, adapters: p.head, optimizer_state: p.optimizer, gradients: p.head } }];
}

export function estimateMemory(spec: ModelSpec, workload: Workload, gpu?: Gpu): MemoryEstimate {
  const engine = engineProfile(workload.engine);
  const ctx = makeContext(spec, workload, engine, gpu?.computeCapability ?? null);
  const warnings: string[] = [];
  let phases: Phase[];
  let paged = 0;
  if (ctx.training) {
    const t = trainingPhases(ctx);
    phases = t.phases;
    paged = t.paged;
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
  const transient = (peak.parts.activations ?? 0) + (peak.parts.logits_and_loss ?? 0) + (peak.parts.optimizer_step ?? 0) + (ctx.training ? 0 : (peak.parts.kv_cache ?? 0) * 0.1);
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
    activations: r(pp.activations),
    logits_and_loss: r(pp.logits_and_loss),
    kv_cache: r(pp.kv_cache),
    cuda_context: context,
    allocator_margin: margin,
  };
  const reserved = allocated + margin;
  const device = reserved + context;
  if (paged > 0) warnings.push("paged optimizer: its states live in CPU-backed unified memory; the GPU peak grows toward the card's capacity when there is room");
  if (!workload.packed && ctx.training) warnings.push("unpacked data: the peak is set by the longest batch; assumed to reach the sequence cap");
  // Band: ±8% inside the calibrated range (median error on cases-public.csv), wider outside it
  const spread = calibrationSpread(ctx, warnings);
  return {
    components,
    peakPhase: peak.name,
    allocatedBytes: allocated,
    reservedBytes: reserved,
    deviceBytes: device,
    lowBytes: Math.round(allocated * (1 - spread)),
    highBytes: Math.round(device * (1 + spread) + paged),
    pagedHostBytes: paged,
    minimumDeviceBytes: allocated + minMargin + context,
    warnings,
  };
}
