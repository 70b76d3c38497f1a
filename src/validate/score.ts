// Score the planner against measured cases: memory error at the counter each case names, throughput
// error by the source's own definition, and fit/OOM agreement.
import { FitlabInputError } from "../errors.js";
import { loadGpuCatalog } from "../hardware/catalog.js";
import type { Gpu } from "../hardware/gpu.js";
import { estimateMemory, fitsIn, type MemoryEstimate } from "../memory/estimate.js";
import { resolveModel } from "../spec/catalog.js";
import { estimateTime } from "../time/throughput.js";
import { resolveWorkload } from "../workload/resolve.js";
import type { MeasuredCase, Metric, RejectedRow } from "./cases.js";

const GIB = 2 ** 30;

export interface CaseResult {
  readonly id: string;
  readonly expressed: boolean;
  readonly reason?: string;
  readonly trust: string;
  readonly framework: string;
  readonly metric: Metric | null;
  readonly predicted_gib: number | null;
  readonly measured_gib: number | null;
  readonly abs_pct_error: number | null;
  readonly predicted_tokens_per_s: number | null;
  readonly measured_tokens_per_s: number | null;
  readonly tokens_abs_pct_error: number | null;
  readonly predicted_fits: boolean | null;
  readonly outcome: string;
  readonly fit_agrees: boolean | null;
  readonly assumptions: readonly string[];
  readonly warnings: readonly string[];
}

export interface ValidationSummary {
  readonly memory: { n: number; expressed: number; median_abs_pct_error: number | null; within_10pct: number | null; within_20pct: number | null };
  readonly throughput: { n: number; expressed: number; median_abs_pct_error: number | null };
  readonly fit_agreement: { n: number; agree: number };
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

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

function caseGpu(c: MeasuredCase): Gpu | null {
  if (!c.gpu) return null;
  const catalog = loadGpuCatalog();
  const hit = catalog.tryFind(c.gpu);
  if (hit) return hit;
  // "NVIDIA A100" without a memory size: same compute for 40 and 80 GB; capacity comes from gpu_mem_gib
  if (/a100/i.test(c.gpu)) return catalog.find("NVIDIA A100 80GB SXM4");
  return null;
}


function scoreCase(c: MeasuredCase): CaseResult {
  const base = { id: c.id, trust: c.trust, framework: c.framework, metric: c.metric, measured_gib: c.peakGib, measured_tokens_per_s: c.tokensPerS, outcome: c.outcome, assumptions: c.assumptions };
  let spec, workload;
  try {
    spec = resolveModel(c.model);
    workload = resolveWorkload(c.workloadInput);
  } catch (e) {
    if (!(e instanceof FitlabInputError)) throw e;
    return { ...base, expressed: false, reason: e.message, predicted_gib: null, abs_pct_error: null, predicted_tokens_per_s: null, tokens_abs_pct_error: null, predicted_fits: null, fit_agrees: null, warnings: [] };
  }
  const gpu = caseGpu(c);
  const capacity = c.gpuMemGib !== null ? c.gpuMemGib * GIB : gpu ? gpu.usableBytes : null;
  const capGpu = gpu && capacity !== null ? { ...gpu, usableBytes: capacity } : gpu;
  const est = estimateMemory(spec, workload, capGpu ?? undefined);
  const predictedGib = c.metric && c.peakGib !== null ? peakAt(est, c.metric) / GIB : est.deviceBytes / GIB;
  const err = c.peakGib !== null && c.metric ? (Math.abs(predictedGib - c.peakGib) / c.peakGib) * 100 : null;
  let tokens: number | null = null;
  if (gpu) tokens = estimateTime(spec, workload, gpu).tokensPerS;
  const tokErr = tokens !== null && c.tokensPerS !== null ? (Math.abs(tokens - c.tokensPerS) / c.tokensPerS) * 100 : null;
  const predictedFits = capacity !== null ? fitsIn(est, capacity) : null;
  let agrees: boolean | null = null;
  if (predictedFits !== null && capacity !== null) {
    if (c.outcome === "fits") agrees = predictedFits;
    else if (c.outcome === "oom") agrees = !predictedFits;
    // max-fit: the case's length is the longest that fits, so the device peak there should be near capacity
    else agrees = Math.abs(est.deviceBytes - capacity) / capacity <= 0.2;
  }
  return {
    ...base,
    expressed: true,
    predicted_gib: round(predictedGib, 3),
    abs_pct_error: err === null ? null : round(err),
    predicted_tokens_per_s: tokens === null ? null : round(tokens, 1),
    tokens_abs_pct_error: tokErr === null ? null : round(tokErr),
    predicted_fits: predictedFits,
    fit_agrees: agrees,
    warnings: est.warnings,
  };
}

export function validateCases(cases: readonly MeasuredCase[], rejected: readonly RejectedRow[] = []): ValidationReport {
  const results: CaseResult[] = cases.map(scoreCase);
  for (const r of rejected) {
    results.push({ id: r.id, expressed: false, reason: `line ${r.line}: ${r.reason}`, trust: "unknown", framework: "", metric: null, predicted_gib: null, measured_gib: null, abs_pct_error: null, predicted_tokens_per_s: null, measured_tokens_per_s: null, tokens_abs_pct_error: null, predicted_fits: null, outcome: "", fit_agrees: null, assumptions: [], warnings: [] });
  }
  const memRows = results.filter((r) => r.measured_gib !== null);
  const memErr = memRows.filter((r) => r.abs_pct_error !== null).map((r) => r.abs_pct_error!);
  const tokRows = results.filter((r) => r.measured_tokens_per_s !== null);
  const tokErr = tokRows.filter((r) => r.tokens_abs_pct_error !== null).map((r) => r.tokens_abs_pct_error!);
  const fitRows = results.filter((r) => r.fit_agrees !== null);
  return {
    cases: results,
    summary: {
      memory: {
        n: memRows.length,
        expressed: memErr.length,
        median_abs_pct_error: memErr.length ? round(median(memErr)!) : null,
        within_10pct: memErr.length ? round(memErr.filter((e) => e <= 10).length / memErr.length, 3) : null,
        within_20pct: memErr.length ? round(memErr.filter((e) => e <= 20).length / memErr.length, 3) : null,
      },
      throughput: { n: tokRows.length, expressed: tokErr.length, median_abs_pct_error: tokErr.length ? round(median(tokErr)!) : null },
      fit_agreement: { n: fitRows.length, agree: fitRows.filter((r) => r.fit_agrees).length },
    },
  };
}
