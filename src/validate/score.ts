// Score the planner against measured cases: memory error at the counter each case names (with the spread over
// the settings the source leaves unknown, and whether the band holds the measurement), throughput error by the
// source's own definition, and the fit/OOM decision as precision and recall of "out of memory".
import { FitlabInputError } from "../errors.js";
import { loadGpuCatalog } from "../hardware/catalog.js";
import type { Gpu } from "../hardware/gpu.js";
import { estimateMemory, fitsIn, type MemoryEstimate } from "../memory/estimate.js";
import { resolveModel } from "../spec/catalog.js";
import type { ModelSpec } from "../spec/types.js";
import { estimateTime } from "../time/throughput.js";
import { resolveWorkload, type WorkloadInput } from "../workload/resolve.js";
import type { Workload } from "../workload/types.js";
import type { MeasuredCase, Metric, RejectedRow } from "./cases.js";

const GIB = 2 ** 30;

export interface CaseResult {
  readonly id: string;
  readonly source: string;
  readonly expressed: boolean;
  readonly reason?: string;
  readonly trust: string;
  readonly framework: string;
  readonly metric: Metric | null;
  readonly predicted_gib: number | null;
  /** lowest and highest prediction over the settings the source does not state */
  readonly spread_low_gib: number | null;
  readonly spread_high_gib: number | null;
  /** the estimate's band at the case's counter (half-width `band`) */
  readonly band: number | null;
  readonly measured_gib: number | null;
  readonly abs_pct_error: number | null;
  /** positive: over-prediction */
  readonly signed_pct_error: number | null;
  readonly predicted_tokens_per_s: number | null;
  readonly measured_tokens_per_s: number | null;
  readonly tokens_abs_pct_error: number | null;
  readonly predicted_fits: boolean | null;
  readonly outcome: string;
  readonly fit_agrees: boolean | null;
  readonly assumptions: readonly string[];
  readonly unknown_settings: readonly string[];
  readonly warnings: readonly string[];
}

export interface ValidationSummary {
  readonly memory: {
    n: number;
    expressed: number;
    median_abs_pct_error: number | null;
    within_10pct: number | null;
    within_15pct: number | null;
    within_20pct: number | null;
    /** share of cases whose measurement lies inside the estimate's band */
    band_coverage: number | null;
    /** cases whose unknown settings move the prediction by more than 1 % */
    with_spread: number;
    /** share of those whose measurement lies inside the spread over the unknown settings */
    spread_coverage: number | null;
  };
  readonly throughput: { n: number; expressed: number; median_abs_pct_error: number | null; within_20pct: number | null };
  /** "out of memory" is the positive class: precision = predicted OOMs that were OOM, recall = OOMs predicted */
  readonly fit: { n: number; agree: number; oom: number; predicted_oom: number; true_oom: number; oom_precision: number | null; oom_recall: number | null };
}

export interface ValidationReport {
  readonly cases: CaseResult[];
  readonly summary: ValidationSummary;
}

/** The predicted peak at the counter the case reports. "unknown" (a number whose counter the source does
 *  not name) is compared with the midpoint of reserved and nvidia-smi: sources print one or the other. */
export function peakAt(est: MemoryEstimate, metric: Metric): number {
  switch (metric) {
    case "allocated":
    case "active":
      return est.allocatedBytes;
    case "reserved":
      return est.reservedBytes;
    case "unknown":
      return Math.round((est.reservedBytes + est.deviceBytes) / 2);
    case "nvidia-smi":
      return est.deviceBytes;
  }
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

export function caseGpu(c: MeasuredCase): Gpu | null {
  if (!c.gpu) return null;
  const catalog = loadGpuCatalog();
  const hit = catalog.tryFind(c.gpu);
  if (hit) return hit;
  // "NVIDIA A100" without a memory size: same compute for 40 and 80 GB; capacity comes from gpu_mem_gib
  if (/a100/i.test(c.gpu)) return catalog.find("NVIDIA A100 80GB SXM4");
  if (/h100/i.test(c.gpu)) return catalog.find("NVIDIA H100 80GB SXM5");
  return null;
}

/** A case resolved once (model, workload, GPU, variants over unknown settings): what scoring re-runs. */
export interface PreparedCase {
  readonly c: MeasuredCase;
  readonly spec: ModelSpec;
  readonly workload: Workload;
  readonly variants: readonly Workload[];
  readonly gpu: Gpu | null;
  /** the card as the case ran it: capacity from gpu_mem_gib */
  readonly capGpu: Gpu | null;
  readonly capacity: number | null;
}

/** Cartesian product of the alternatives of each unknown setting, at most 16 variants. */
function variantInputs(c: MeasuredCase): WorkloadInput[] {
  let out: WorkloadInput[] = [{ ...c.workloadInput }];
  for (const u of c.unknowns) {
    const next: WorkloadInput[] = [];
    for (const base of out) for (const alt of u.alternatives) next.push({ ...base, ...alt } as WorkloadInput);
    out = next.slice(0, 16);
  }
  return out;
}

export function prepareCase(c: MeasuredCase): PreparedCase | { c: MeasuredCase; reason: string } {
  try {
    const spec = resolveModel(c.model);
    const workload = resolveWorkload(c.workloadInput, spec);
    const variants: Workload[] = [];
    for (const v of variantInputs(c)) {
      try {
        variants.push(resolveWorkload(v, spec));
      } catch (e) {
        if (!(e instanceof FitlabInputError)) throw e; // an alternative that does not apply (e.g. zero3 for inference)
      }
    }
    const gpu = caseGpu(c);
    const capacity = c.gpuMemGib !== null ? c.gpuMemGib * GIB : gpu ? gpu.usableBytes : null;
    const capGpu = gpu && capacity !== null ? { ...gpu, usableBytes: capacity } : gpu;
    return { c, spec, workload, variants, gpu, capGpu, capacity };
  } catch (e) {
    if (!(e instanceof FitlabInputError)) throw e;
    return { c, reason: e.message };
  }
}

/** Memory prediction (GiB at the case's counter) under the calibration in force. */
export function predictMemoryGib(p: PreparedCase, w: Workload = p.workload): { gib: number; est: MemoryEstimate } {
  const est = estimateMemory(p.spec, w, p.capGpu ?? undefined);
  const metric = p.c.metric ?? "nvidia-smi";
  return { gib: peakAt(est, metric) / GIB, est };
}

export function predictTokensPerS(p: PreparedCase): number | null {
  if (!p.gpu) return null;
  // multi-GPU training rows report tokens per GPU (LLaMA-Factory TGS, torchtune tokens_per_second_per_gpu,
  // the FSDP-QLoRA benchmarks): the same per-GPU figure is predicted; inference rows are one request's rate
  const t = estimateTime(p.spec, p.workload, p.gpu);
  return p.workload.nGpus > 1 ? t.tokensPerSPerGpu : t.tokensPerS;
}

export function scorePrepared(p: PreparedCase): CaseResult {
  const c = p.c;
  const { gib: predictedGib, est } = predictMemoryGib(p);
  const spreadGib = p.variants.map((w) => predictMemoryGib(p, w).gib);
  const lo = Math.min(predictedGib, ...spreadGib);
  const hi = Math.max(predictedGib, ...spreadGib);
  const band = est.band;
  const signed = c.peakGib !== null && c.metric ? ((predictedGib - c.peakGib) / c.peakGib) * 100 : null;
  const tokens = predictTokensPerS(p);
  const tokErr = tokens !== null && c.tokensPerS !== null ? (Math.abs(tokens - c.tokensPerS) / c.tokensPerS) * 100 : null;
  const predictedFits = p.capacity !== null ? fitsIn(est, p.capacity) : null;
  let agrees: boolean | null = null;
  if (predictedFits !== null && p.capacity !== null) {
    if (c.outcome === "fits") agrees = predictedFits;
    else if (c.outcome === "oom") agrees = !predictedFits;
    // max-fit: the case's length is the longest that fits, so the device peak there should be near capacity
    else agrees = Math.abs(est.deviceBytes - p.capacity) / p.capacity <= 0.2;
  }
  return {
    id: c.id,
    source: c.source,
    expressed: true,
    trust: c.trust,
    framework: c.framework,
    metric: c.metric,
    predicted_gib: round(predictedGib, 3),
    spread_low_gib: round(lo, 3),
    spread_high_gib: round(hi, 3),
    band: round(band, 3),
    measured_gib: c.peakGib,
    abs_pct_error: signed === null ? null : round(Math.abs(signed)),
    signed_pct_error: signed === null ? null : round(signed),
    predicted_tokens_per_s: tokens === null ? null : round(tokens, 1),
    measured_tokens_per_s: c.tokensPerS,
    tokens_abs_pct_error: tokErr === null ? null : round(tokErr),
    predicted_fits: predictedFits,
    outcome: c.outcome,
    fit_agrees: agrees,
    assumptions: c.assumptions,
    unknown_settings: c.unknowns.map((u) => u.setting),
    warnings: est.warnings,
  };
}

export function notExpressed(c: MeasuredCase | RejectedRow, reason: string): CaseResult {
  const m = "workloadInput" in c ? c : null;
  return {
    id: c.id,
    source: m?.source ?? "",
    expressed: false,
    reason,
    trust: m?.trust ?? "unknown",
    framework: m?.framework ?? "",
    metric: m?.metric ?? null,
    predicted_gib: null,
    spread_low_gib: null,
    spread_high_gib: null,
    band: null,
    measured_gib: m?.peakGib ?? null,
    abs_pct_error: null,
    signed_pct_error: null,
    predicted_tokens_per_s: null,
    measured_tokens_per_s: m?.tokensPerS ?? null,
    tokens_abs_pct_error: null,
    predicted_fits: null,
    outcome: m?.outcome ?? "",
    fit_agrees: null,
    assumptions: m?.assumptions ?? [],
    unknown_settings: [],
    warnings: [],
  };
}

const share = (xs: readonly boolean[]) => (xs.length ? round(xs.filter(Boolean).length / xs.length, 3) : null);

/** The summary of any set of scored cases (in-sample or cross-validated): the same fields either way. */
export function summarize(results: readonly CaseResult[]): ValidationSummary {
  const memRows = results.filter((r) => r.measured_gib !== null);
  const scored = memRows.filter((r) => r.abs_pct_error !== null);
  const memErr = scored.map((r) => r.abs_pct_error!);
  const spreadRows = scored.filter((r) => r.spread_high_gib! > r.spread_low_gib! * 1.01);
  const tokRows = results.filter((r) => r.measured_tokens_per_s !== null);
  const tokErr = tokRows.filter((r) => r.tokens_abs_pct_error !== null).map((r) => r.tokens_abs_pct_error!);
  const fitRows = results.filter((r) => r.fit_agrees !== null);
  const oomRows = fitRows.filter((r) => r.outcome === "oom" || r.outcome === "fits");
  const predictedOom = oomRows.filter((r) => r.predicted_fits === false);
  const trueOom = predictedOom.filter((r) => r.outcome === "oom");
  const actualOom = oomRows.filter((r) => r.outcome === "oom");
  return {
    memory: {
      n: memRows.length,
      expressed: memErr.length,
      median_abs_pct_error: memErr.length ? round(median(memErr)!) : null,
      within_10pct: share(memErr.map((e) => e <= 10)),
      within_15pct: share(memErr.map((e) => e <= 15)),
      within_20pct: share(memErr.map((e) => e <= 20)),
      band_coverage: share(scored.map((r) => r.abs_pct_error! <= (r.band ?? 0) * 100)),
      with_spread: spreadRows.length,
      spread_coverage: share(spreadRows.map((r) => r.measured_gib! >= r.spread_low_gib! && r.measured_gib! <= r.spread_high_gib!)),
    },
    throughput: {
      n: tokRows.length,
      expressed: tokErr.length,
      median_abs_pct_error: tokErr.length ? round(median(tokErr)!) : null,
      within_20pct: share(tokErr.map((e) => e <= 20)),
    },
    fit: {
      n: fitRows.length,
      agree: fitRows.filter((r) => r.fit_agrees).length,
      oom: actualOom.length,
      predicted_oom: predictedOom.length,
      true_oom: trueOom.length,
      oom_precision: predictedOom.length ? round(trueOom.length / predictedOom.length, 3) : null,
      oom_recall: actualOom.length ? round(trueOom.length / actualOom.length, 3) : null,
    },
  };
}

export function validateCases(cases: readonly MeasuredCase[], rejected: readonly RejectedRow[] = []): ValidationReport {
  const results: CaseResult[] = cases.map((c) => {
    const p = prepareCase(c);
    return "spec" in p ? scorePrepared(p) : notExpressed(c, p.reason);
  });
  for (const r of rejected) results.push(notExpressed(r, `line ${r.line}: ${r.reason}`));
  return { cases: results, summary: summarize(results) };
}
