// Fit search: the cheapest change that makes an experiment fit a GPU, and the longest sequence /
// largest batch that fits. Each candidate change is one named edit of the workload, ranked by what it
// costs the learner (none, run time, a little quality, or a different experiment).
import type { Gpu } from "../hardware/gpu.js";
import { estimateMemory, fitsIn, type MemoryEstimate } from "../memory/estimate.js";
import { hasActiveCalibration } from "../calibration/correction.js";
import { estimate, type Estimate } from "../planner.js";
import type { ModelSpec } from "../spec/types.js";
import { engineProfile } from "../engines/profile.js";
import { parseLoraTargets, unsupportedOption } from "../workload/resolve.js";
import { applyChanges, pruneChanges } from "./minimal.js";
import type { Workload } from "../workload/types.js";

export interface Change {
  readonly id: string;
  /** what the learner gives up: "none", "time", "quality" or "experiment" (it is no longer the same run) */
  readonly cost: "none" | "time" | "quality" | "experiment";
  readonly description: string;
  /** the workload setting it changes, when that is a plan sweep parameter (batch, rank, seq) */
  readonly touches?: string;
  readonly apply: (w: Workload) => Workload | null;
}

const training = (w: Workload) => w.kind === "full" || w.kind === "lora" || w.kind === "qlora";

/** Candidate changes, cheapest first. Each returns null when it does not apply. */
export const CHANGES: readonly Change[] = [
  { id: "chunked-loss", cost: "none", description: "chunked cross-entropy (no full fp32 logits)", apply: (w) => (training(w) && w.loss === "standard" ? { ...w, loss: "chunked" } : null) },
  { id: "fused-loss", cost: "none", description: "fused linear cross-entropy (Liger / Cut Cross-Entropy)", apply: (w) => (training(w) && w.loss !== "fused-linear-ce" ? { ...w, loss: "fused-linear-ce" } : null) },
  // runner options that only engines listing them offer (fitlab-worker: data/engines.yaml `options`)
  { id: "smaller-loss-chunks", cost: "none", description: "chunked loss over 64-token chunks", apply: (w) => (training(w) && w.loss === "chunked" && w.lossChunkTokens > 64 && engineProfile(w.engine).chunkedLossOneChunk ? { ...w, lossChunkTokens: 64 } : null) },
  { id: "liger-kernels", cost: "none", description: "Liger fused RMSNorm/RoPE/SwiGLU kernels", apply: (w) => (training(w) && w.kernels === "none" && engineProfile(w.engine).options?.kernels.includes("liger") ? { ...w, kernels: "liger" } : null) },
  { id: "flash-attention", cost: "none", description: "SDPA/FlashAttention instead of eager attention", apply: (w) => (w.attn === "eager" && w.kind !== "attention_extract" ? { ...w, attn: "sdpa" } : null) },
  { id: "halve-batch", cost: "time", touches: "batch", description: "half the micro-batch, twice the gradient accumulation (same effective batch)", apply: (w) => (training(w) && w.batch > 1 ? { ...w, batch: Math.ceil(w.batch / 2), gradAccum: w.gradAccum * 2 } : null) },
  // an evaluation pass (perplexity, multiple choice) gives the same numbers in smaller batches: only more passes
  { id: "halve-eval-batch", cost: "time", touches: "batch", description: "half the evaluation batch (same results, more passes)", apply: (w) => (w.kind === "inference_prefill" && w.batch > 1 ? { ...w, batch: Math.ceil(w.batch / 2) } : null) },
  { id: "batch-1", cost: "time", touches: "batch", description: "micro-batch 1 with gradient accumulation (same effective batch)", apply: (w) => (training(w) && w.batch > 2 ? { ...w, batch: 1, gradAccum: w.gradAccum * w.batch } : null) },
  { id: "grad-checkpointing", cost: "time", description: "gradient checkpointing (recompute each layer in backward, ~+30% time)", apply: (w) => (training(w) && w.gradCkpt === "none" ? { ...w, gradCkpt: "full" } : null) },
  { id: "offload-checkpointing", cost: "time", description: "checkpointing with activations offloaded to CPU", apply: (w) => (training(w) && w.gradCkpt !== "offload" ? { ...w, gradCkpt: "offload" } : null) },
  { id: "adamw-8bit", cost: "quality", description: "8-bit AdamW (bitsandbytes)", apply: (w) => (training(w) && (w.optimizer === "adamw" || w.optimizer === "adamw-fused") ? { ...w, optimizer: "adamw8bit" } : null) },
  { id: "paged-adamw-8bit", cost: "quality", description: "paged 8-bit AdamW (states spill to CPU memory)", apply: (w) => (training(w) && w.optimizer !== "paged-adamw8bit" && w.optimizer !== "sgd" ? { ...w, optimizer: "paged-adamw8bit" } : null) },
  { id: "optimizer-in-backward", cost: "none", description: "optimizer step fused into backward (no gradient buffer)", apply: (w) => (w.kind === "full" && !w.optimizerInBackward && w.gradAccum === 1 ? { ...w, optimizerInBackward: true } : null) },
  { id: "lora", cost: "experiment", description: "LoRA (rank 16, all linear layers) instead of full fine-tuning", apply: (w) => (w.kind === "full" ? { ...w, kind: "lora", lora: { rank: 16, alpha: 32, targets: parseLoraTargets("all-linear"), dropout: 0 }, optimizerInBackward: false } : null) },
  { id: "qlora", cost: "experiment", description: "QLoRA: 4-bit NF4 base (double quantization) with LoRA adapters", apply: (w) => (w.kind === "lora" || w.kind === "full" ? { ...w, kind: "qlora", quant: "bnb-nf4-dq", lora: w.lora ?? { rank: 16, alpha: 32, targets: parseLoraTargets("all-linear"), dropout: 0 }, gradCkpt: w.gradCkpt === "none" ? "full" : w.gradCkpt, optimizerInBackward: false } : null) },
  { id: "rank-8", cost: "quality", touches: "rank", description: "LoRA rank 8", apply: (w) => (w.lora && w.lora.rank > 8 ? { ...w, lora: { ...w.lora, rank: 8, alpha: 16 } } : null) },
  { id: "half-sequence", cost: "experiment", touches: "seq", description: "half the sequence length", apply: (w) => (training(w) && w.seqLen > 256 ? { ...w, seqLen: Math.floor(w.seqLen / 2) } : w.kind !== "probe" && !training(w) && w.seqLen > 256 ? halveInference(w) : null) },
  { id: "per-layer-capture", cost: "time", description: "capture attention maps one layer at a time", apply: (w) => (w.kind === "attention_extract" && w.attentionCapture === "all-layers" ? { ...w, attentionCapture: "per-layer" } : null) },
];

function halveInference(w: Workload): Workload {
  if (w.kind === "inference_decode") {
    const prompt = Math.floor(w.promptTokens / 2);
    return { ...w, promptTokens: prompt, seqLen: prompt + w.newTokens };
  }
  return { ...w, seqLen: Math.floor(w.seqLen / 2) };
}

export interface FitOption {
  readonly changes: readonly string[];
  readonly descriptions: readonly string[];
  readonly cost: Change["cost"];
  readonly workload: Workload;
  readonly estimate: Estimate;
}

export interface FitResult {
  readonly fitsAsIs: boolean;
  readonly baseline: Estimate;
  /** the cheapest option that fits (null when nothing in the ladder makes it fit) */
  readonly cheapest: FitOption | null;
  /** every single change that fits on its own, cheapest first */
  readonly singles: readonly FitOption[];
}

const COST_RANK = { none: 0, time: 1, quality: 2, experiment: 3 } as const;

/** Can the workload's engine run this on this GPU? Engines that list their options run only those, and
 *  Liger's fused loss / kernels need Triton on compute capability 8.0+ for bf16 (engine/fitlab_worker/loss.py). */
function runnable(w: Workload, gpu: Gpu): boolean {
  if (unsupportedOption(w)) return false;
  const e = engineProfile(w.engine);
  const major = Number((gpu.computeCapability ?? "0").split(".")[0]);
  const ligerUsed = (w.loss === "fused-linear-ce" && e.fusedLoss === "liger") || w.kernels === "liger";
  return !(ligerUsed && major < (w.computeDtype === "bf16" ? 8 : 7));
}

// the planner's fit rule, with the user's calibration when one is active (src/calibration)
const fitsOn = (spec: ModelSpec, w: Workload, gpu: Gpu) => (hasActiveCalibration() ? estimate(spec, w, gpu).fits : fitsIn(estimateMemory(spec, w, gpu), gpu.usableBytes));

export interface FitSearchOptions {
  /** which changes may be tried (the decision keeps the experiment what it is: no "experiment" changes) */
  readonly allow?: (c: Change) => boolean;
  /** "expected" (default): the planner's fit rule, the expected need fits; "band": the top of the estimate's
   *  band fits as well, so that an estimate as wrong as the calibrated band allows still fits (no risk) */
  readonly within?: "expected" | "band";
}

export function findFit(spec: ModelSpec, workload: Workload, gpu: Gpu, opts: FitSearchOptions = {}): FitResult {
  const allowed = opts.allow ? CHANGES.filter(opts.allow) : CHANGES;
  const changes = allowed.map((c) => ({ ...c, apply: (w: Workload) => {
    const next = c.apply(w);
    return next && runnable(next, gpu) ? next : null;
  } }));
  const baseline = estimate(spec, workload, gpu);
  const band = opts.within === "band";
  // the fit rule of the search, on a memory estimate (the calibrated estimate when the user has calibrated)
  const accepts = (w: Workload, m: MemoryEstimate = estimateMemory(spec, w, gpu)): boolean => {
    if (!band) return hasActiveCalibration() ? estimate(spec, w, gpu).fits : fitsIn(m, gpu.usableBytes);
    if (!hasActiveCalibration()) return fitsIn(m, gpu.usableBytes) && m.highBytes <= gpu.usableBytes;
    const e = estimate(spec, w, gpu);
    return e.fits && e.peak.high_bytes <= gpu.usableBytes;
  };
  // what a change must lower to count as progress: the least need, or in band mode the top of the band
  const need = (m: MemoryEstimate) => (band ? m.highBytes : m.minimumDeviceBytes);
  const option = (ids: Change[], w: Workload): FitOption => ({
    changes: ids.map((c) => c.id),
    descriptions: ids.map((c) => c.description),
    cost: ids.reduce<Change["cost"]>((worst, c) => (COST_RANK[c.cost] > COST_RANK[worst] ? c.cost : worst), "none"),
    workload: w,
    estimate: estimate(spec, w, gpu),
  });
  if (band ? accepts(workload) : baseline.fits) return { fitsAsIs: true, baseline, cheapest: null, singles: [] };
  const singles: FitOption[] = [];
  for (const c of changes) {
    const w = c.apply(workload);
    if (w && accepts(w)) singles.push(option([c], w));
  }
  if (singles.length > 0) {
    return { fitsAsIs: false, baseline, cheapest: singles[0]!, singles };
  }
  // no single change is enough: apply changes cumulatively, cheapest first, until it fits
  let w = workload;
  let wMin = need(estimateMemory(spec, w, gpu));
  const applied: Change[] = [];
  for (let round = 0; round < 4; round++) {
    for (const c of changes) {
      const next = c.apply(w);
      if (!next) continue;
      // keep a change only if it lowers the peak
      const nextEst = estimateMemory(spec, next, gpu);
      if (need(nextEst) < wMin) {
        w = next;
        wMin = need(nextEst);
        applied.push(c);
        if (accepts(next, nextEst)) {
          // keep only the steps still needed (a later step can make an earlier one redundant)
          const minimal = pruneChanges(spec, workload, gpu, applied, band ? (x) => accepts(x) : undefined);
          return { fitsAsIs: false, baseline, cheapest: option(minimal, applyChanges(workload, minimal)), singles };
        }
      }
    }
  }
  return { fitsAsIs: false, baseline, cheapest: null, singles };
}

/** Largest value in [1, hi] for which `fits(v)` holds (monotone), or 0 when even 1 does not fit. */
function largest(hi: number, fits: (v: number) => boolean): number {
  if (!fits(1)) return 0;
  let lo = 1;
  let top = hi;
  while (lo < top) {
    const mid = Math.floor((lo + top + 1) / 2);
    if (fits(mid)) lo = mid;
    else top = mid - 1;
  }
  return lo;
}

/** The longest sequence (training: tokens per sequence; inference: prompt tokens) that fits. */
export function maxSequence(spec: ModelSpec, workload: Workload, gpu: Gpu, limit = 1 << 20): number {
  return largest(limit, (s) => {
    const w: Workload = workload.kind === "inference_decode" ? { ...workload, promptTokens: s, seqLen: s + workload.newTokens } : { ...workload, seqLen: s };
    return fitsOn(spec, w, gpu);
  });
}

/** The largest micro-batch that fits. */
export function maxBatch(spec: ModelSpec, workload: Workload, gpu: Gpu, limit = 4096): number {
  return largest(limit, (b) => fitsOn(spec, { ...workload, batch: b }, gpu));
}
