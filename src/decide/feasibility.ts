// Feasibility matrix: every experiment x every hardware option: fits or not and with which settings
// (fit search), peak VRAM, wall time, bottleneck and cost.
import { findFit } from "../fit/search.js";
import { estimate, type Estimate } from "../planner.js";
import type { PlanExperiment } from "../plan/load.js";
import type { Workload } from "../workload/types.js";
import type { Assumptions, HardwareOption } from "./options.js";

export type Bottleneck = "memory capacity" | "memory bandwidth" | "compute" | "sequential sweep" | "host overhead" | "cpu" | "gpu count";

export interface Cell {
  readonly option: string;
  readonly kind: HardwareOption["kind"];
  readonly fits: boolean;
  /** the changes fit search made (empty when it fits as planned) */
  readonly changes: readonly string[];
  /** the settings that fit (or the planned ones when nothing fits) */
  readonly settings: Partial<Workload> & { readonly gpus: number };
  /** largest peak over the runs, device level (nvidia-smi); when it does not fit, the least it needs */
  readonly peak_bytes: number;
  /** wall seconds for all runs of the experiment on this option */
  readonly seconds: number;
  /** GPU-hours billed (cloud) or busy (owned) */
  readonly gpu_hours: number;
  readonly bottleneck: Bottleneck;
  /** cloud: the bill; owned: the marginal electricity */
  readonly cost_usd: number;
  readonly estimated: true;
}

/** Seconds of one run: training from dataset tokens, inference and extraction from the prompts. */
export function runSeconds(e: Estimate, ex: PlanExperiment): number {
  const w = e.workload;
  if (w.kind === "full" || w.kind === "lora" || w.kind === "qlora") return (ex.data.tokens * ex.data.epochs) / Math.max(e.tokens_per_s, 1e-9);
  if (w.kind === "inference_decode") return (ex.data.prompts / w.batch) * e.step_seconds;
  if (w.kind === "probe") return Math.max(e.step_seconds, 1) * 50; // 50 epochs over cached features
  return (ex.data.prompts * w.seqLen) / Math.max(e.tokens_per_s, 1e-9);
}

function settingsOf(w: Workload, gpus: number): Cell["settings"] {
  const s: Record<string, unknown> = { kind: w.kind, quant: w.quant, computeDtype: w.computeDtype, seqLen: w.seqLen, batch: w.batch, gradAccum: w.gradAccum, optimizer: w.optimizer, gradCkpt: w.gradCkpt, loss: w.loss, attn: w.attn, gpus };
  if (w.lora) s.lora = { rank: w.lora.rank, targets: w.lora.targets };
  if (w.optimizerInBackward) s.optimizerInBackward = true;
  if (w.nGpus > 1) s.sharding = w.sharding;
  return s as Cell["settings"];
}

export function feasibilityCell(ex: PlanExperiment, opt: HardwareOption, a: Assumptions): Cell {
  const base = { option: opt.name, kind: opt.kind, estimated: true as const };
  if (ex.cpuOnly) {
    return { ...base, fits: true, changes: [], settings: { gpus: 0 }, peak_bytes: 0, seconds: ex.cpuHours * 3600, gpu_hours: 0, bottleneck: "cpu", cost_usd: 0 };
  }
  const spec = ex.model!;
  const gpusNeeded = ex.runs[0]!.workload.nGpus;
  // owned options are one card: a multi-GPU experiment cannot run there at all
  if (gpusNeeded > 1 && opt.kind !== "cloud") {
    const e = estimate(spec, ex.runs[0]!.workload, opt.gpu);
    return { ...base, fits: false, changes: [], settings: settingsOf(ex.runs[0]!.workload, gpusNeeded), peak_bytes: e.peak.minimum_device_bytes, seconds: 0, gpu_hours: 0, bottleneck: "gpu count", cost_usd: 0 };
  }
  let fits = true;
  let peak = 0;
  let changes: string[] = [];
  let settings: Cell["settings"] = settingsOf(ex.runs[0]!.workload, gpusNeeded);
  const times: number[] = [];
  let timeBottleneck: Estimate["bottleneck"] = "compute";
  for (const run of ex.runs) {
    // the decision keeps each experiment what it is: no change of method or length, nor of the swept setting
    const swept = ex.sweep?.param;
    const r = findFit(spec, run.workload, opt.gpu, { allow: (c) => c.cost !== "experiment" && (swept === undefined || c.touches !== swept) });
    const chosen = r.fitsAsIs ? r.baseline : r.cheapest?.estimate ?? null;
    if (!chosen) {
      fits = false;
      peak = Math.max(peak, r.baseline.peak.minimum_device_bytes);
      continue;
    }
    if (!r.fitsAsIs && r.cheapest) {
      for (const c of r.cheapest.changes) if (!changes.includes(c)) changes = [...changes, c];
      settings = settingsOf(r.cheapest.workload, gpusNeeded);
    }
    peak = Math.max(peak, chosen.peak.device_bytes);
    times.push(runSeconds(chosen, ex));
    timeBottleneck = chosen.bottleneck;
  }
  if (!fits) return { ...base, fits: false, changes: [], settings, peak_bytes: peak, seconds: 0, gpu_hours: 0, bottleneck: "memory capacity", cost_usd: 0 };
  const sum = times.reduce((x, y) => x + y, 0);
  // in the cloud, runs that may overlap are rented side by side: wall time of one run, same GPU-hours
  const concurrent = opt.kind === "cloud" && ex.parallel && times.length > 1;
  const seconds = concurrent ? Math.max(...times) : sum;
  const gpuHours = (sum / 3600) * gpusNeeded;
  let cost: number;
  if (opt.kind === "cloud") {
    const p = opt.cloud!.usdPerHour;
    cost = p * gpuHours + p * gpusNeeded * a.cloudSetupHoursPerRun * (concurrent ? times.length : 1);
  } else {
    cost = ((opt.runWatts / 1000) * (sum / 3600)) * a.electricityUsdPerKwh;
  }
  const bottleneck: Bottleneck = times.length > 1 && !concurrent ? "sequential sweep" : timeBottleneck === "memory-bandwidth" ? "memory bandwidth" : timeBottleneck === "host-overhead" ? "host overhead" : "compute";
  return { ...base, fits: true, changes, settings, peak_bytes: peak, seconds: Math.round(seconds), gpu_hours: Math.round(gpuHours * 1000) / 1000, bottleneck, cost_usd: Math.round(cost * 100) / 100 };
}
