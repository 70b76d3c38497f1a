// Before a GPU run: the planner's estimate for the card it will run on, and a refusal with the fit search's
// cheapest change when it predicts no fit. After a CUDA out-of-memory: the cheapest change that fits with the
// margin the run showed it needs (the measured need over the prediction).
import { execFileSync } from "node:child_process";
import { detectGpu } from "../decide/options.js";
import { findFit, type FitResult } from "../fit/search.js";
import type { GpuCatalog } from "../hardware/catalog.js";
import type { Gpu } from "../hardware/gpu.js";
import { estimate, type Estimate } from "../planner.js";
import type { ModelSpec } from "../spec/types.js";
import type { Workload } from "../workload/types.js";

/** The reference card when neither nvidia-smi, --gpu nor the plan names one (the learner's RTX 5060 Ti). */
export const DEFAULT_RUN_GPU = "GeForce RTX 5060 Ti 16GB";

export type GpuSource = "nvidia-smi" | "--gpu" | "plan" | "default";

/** The card a run is predicted for: --gpu, else the one nvidia-smi sees, else the plan's, else the default.
 *  `needDetected` (a real run): without --gpu or nvidia-smi there is no GPU, so no card. */
export function runGpu(catalog: GpuCatalog, o: { flag?: string | undefined; planGpu?: string | null; needDetected: boolean }): { gpu: Gpu; source: GpuSource } | null {
  if (o.flag) return { gpu: catalog.find(o.flag), source: "--gpu" };
  const detected = detectGpu(catalog);
  if (detected) return { gpu: detected, source: "nvidia-smi" };
  if (o.needDetected) return null;
  if (o.planGpu) return { gpu: catalog.find(o.planGpu), source: "plan" };
  return { gpu: catalog.find(DEFAULT_RUN_GPU), source: "default" };
}

/** GPUs this process may use: those nvidia-smi lists, narrowed by CUDA_VISIBLE_DEVICES (0 without nvidia-smi,
 *  or with FITLAB_NO_NVIDIA_SMI). */
export function visibleGpuCount(): number {
  if (process.env.FITLAB_NO_NVIDIA_SMI) return 0;
  let listed: number;
  try {
    listed = execFileSync("nvidia-smi", ["-L"], { encoding: "utf8", timeout: 3000, stdio: ["ignore", "pipe", "ignore"] }).split("\n").filter((l) => /^GPU \d+/.test(l)).length;
  } catch {
    return 0;
  }
  const mask = process.env.CUDA_VISIBLE_DEVICES;
  return mask === undefined ? listed : Math.min(listed, mask.split(",").filter((x) => x.trim() !== "" && x.trim() !== "-1").length);
}

export interface Preflight {
  readonly estimate: Estimate;
  readonly fits: boolean;
  /** the fit search, when it does not fit */
  readonly fit: FitResult | null;
  /** one line: what does not fit and the cheapest change (null when it fits) */
  readonly refusal: string | null;
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;

export function preflight(spec: ModelSpec, w: Workload, gpu: Gpu, datasetTokens?: number): Preflight {
  const e = estimate(spec, w, gpu, datasetTokens !== undefined ? { datasetTokens } : {});
  if (e.fits) return { estimate: e, fits: true, fit: null, refusal: null };
  const fit = findFit(spec, w, gpu);
  const change = fit.cheapest ? `cheapest change that fits: ${fit.cheapest.descriptions.join(" + ")} (${gib(fit.cheapest.estimate.peak.device_bytes)})` : "no change in the fit search makes it fit: it needs a bigger card or several";
  return {
    estimate: e,
    fits: false,
    fit,
    refusal: `predicted not to fit ${gpu.name}: needs at least ${gib(e.peak.minimum_device_bytes)} of ${gib(gpu.usableBytes)} usable; ${change}; --force tries anyway`,
  };
}

/** After an OOM: the run needed at least `neededBytes` (allocator level) where the planner predicted
 *  `estimate.peak.allocated_bytes`. A change must fit with that same margin, so the search runs against the
 *  card's usable memory shrunk by the ratio (never below 1: an OOM means the need exceeded what was free). */
export function oomAdvice(spec: ModelSpec, w: Workload, gpu: Gpu, neededBytes: number | null): { ratio: number; fit: FitResult; line: string } {
  const e = estimate(spec, w, gpu);
  const needed = Math.max(neededBytes ?? 0, e.peak.allocated_bytes + 1);
  const ratio = Math.max(needed / e.peak.allocated_bytes, gpu.usableBytes / e.peak.minimum_device_bytes, 1);
  const shrunk: Gpu = { ...gpu, usableBytes: Math.floor(gpu.usableBytes / ratio) };
  const fit = findFit(spec, w, shrunk);
  const line = fit.fitsAsIs
    ? "the fit search finds no cheaper setting than this one"
    : fit.cheapest
      ? `cheapest change that fits with a ${ratio.toFixed(2)}x margin: ${fit.cheapest.descriptions.join(" + ")}`
      : `no change in the fit search fits with a ${ratio.toFixed(2)}x margin: it needs a bigger card`;
  return { ratio, fit, line };
}
