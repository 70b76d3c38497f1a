// Feasibility matrix: every experiment x every hardware option: a verdict (fits, tight: the estimate's band
// crosses the usable memory, or no), the minimal changes it needs, where the run departs from the plan
// (optimizer, precision), peak VRAM per GPU, wall time, bottleneck and cost.
import { currentCalibration } from "../engines/calibration.js";
import { CHANGES, findFit, type Change, type FitResult } from "../fit/search.js";
import { dropSuperseded } from "../fit/minimal.js";
import { estimate, type Estimate } from "../planner.js";
import type { PlanExperiment } from "../plan/load.js";
import { isEvaluation, modelsReadByEvaluation } from "../runs/evaluation-plan.js";
import { isInspection, planInspection } from "../runs/inspect-plan.js";
import type { Workload } from "../workload/types.js";
import type { Assumptions, HardwareOption } from "./options.js";

export type Bottleneck = "memory capacity" | "memory bandwidth" | "compute" | "sequential sweep" | "host overhead" | "interconnect" | "cpu" | "gpu count";
/** fits: the whole estimate band fits; tight: the expected peak fits but the band's top does not; no: it does not fit */
export type Verdict = "fits" | "tight" | "no";

export interface Cell {
  readonly option: string;
  readonly kind: HardwareOption["kind"];
  readonly verdict: Verdict;
  /** verdict is fits or tight */
  readonly fits: boolean;
  /** the minimal changes fit search made (empty when it fits as planned), merged over the runs */
  readonly changes: readonly string[];
  /** what each change means, same order */
  readonly change_descriptions: readonly string[];
  /** where the run that fits differs from what the plan (and the title) says: "optimizer: adamw -> paged-adamw8bit" */
  readonly departs_from_plan: readonly string[];
  /** the settings that fit (or the planned ones when nothing fits) */
  readonly settings: Partial<Workload> & { readonly gpus: number };
  /** GPUs the experiment uses (a cloud instance of that many; owned options have one) */
  readonly gpus: number;
  /** largest expected peak over the runs, per GPU, device level (nvidia-smi); when it does not fit, the least it needs */
  readonly peak_bytes: number;
  /** top of the estimate band of that peak (per GPU) */
  readonly high_bytes: number;
  /** wall seconds for all runs of the experiment on this option */
  readonly seconds: number;
  /** GPU-hours billed (cloud, all GPUs) or busy (owned) */
  readonly gpu_hours: number;
  readonly bottleneck: Bottleneck;
  /** cloud: the bill at today's rates; owned: the marginal electricity */
  readonly cost_usd: number;
  /** how far the real peak may exceed the expected one before the run no longer fits, as a share of the expected
   *  peak (usable / peak - 1, the tightest run); null when it does not fit or runs on the CPU */
  readonly margin: number | null;
  /** how often a real peak went past such a margin: of the `cases` cross-validated published measurements
   *  (data/calibration.yaml), how many were more than `margin` above their estimate; null without a margin */
  readonly risk: { readonly exceeded: number; readonly cases: number } | null;
  /** tight only: the minimal changes (from the plan) with which the top of the band fits too, and what they
   *  cost in time; null when not tight, or when no allowed change removes the risk */
  readonly safe: SafeVariant | null;
  readonly estimated: true;
}

export interface SafeVariant {
  readonly changes: readonly string[];
  readonly change_descriptions: readonly string[];
  readonly departs_from_plan: readonly string[];
  /** wall seconds for all runs with those changes, GPU-hours and cost (same rules as the cell's) */
  readonly seconds: number;
  readonly gpu_hours: number;
  readonly cost_usd: number;
  /** largest expected peak, and the top of its band, with them (per GPU) */
  readonly peak_bytes: number;
  readonly high_bytes: number;
}

/** Seconds of one run: training from dataset tokens, inference from the prompts. An inspection (Track B or C)
 *  is one worker job whose seconds come from runs/inspect-plan.ts, as `fitlab run --dry-run` gives them. */
export function runSeconds(e: Estimate, ex: PlanExperiment): number {
  const w = e.workload;
  if (w.kind === "full" || w.kind === "lora" || w.kind === "qlora") return (ex.data.tokens * ex.data.epochs) / Math.max(e.tokens_per_s, 1e-9);
  if (w.kind === "inference_decode") return (ex.data.prompts / w.batch) * e.step_seconds;
  return (ex.data.prompts * w.seqLen) / Math.max(e.tokens_per_s, 1e-9);
}

function settingsOf(w: Workload, gpus: number): Cell["settings"] {
  const s: Record<string, unknown> = { kind: w.kind, quant: w.quant, computeDtype: w.computeDtype, seqLen: w.seqLen, batch: w.batch, gradAccum: w.gradAccum, optimizer: w.optimizer, gradCkpt: w.gradCkpt, loss: w.loss, attn: w.attn, gpus };
  if (w.lora) s.lora = { rank: w.lora.rank, targets: w.lora.targets };
  if (w.optimizerInBackward) s.optimizerInBackward = true;
  if (w.nGpus > 1) s.sharding = w.sharding;
  return s as Cell["settings"];
}

/** The settings a title promises (method, precision, optimizer) that the fitted run changed. */
function departures(planned: Workload, fitted: Workload): string[] {
  const out: string[] = [];
  if (planned.kind !== fitted.kind) out.push(`method: ${planned.kind} -> ${fitted.kind}`);
  if (planned.computeDtype !== fitted.computeDtype) out.push(`precision: ${planned.computeDtype} -> ${fitted.computeDtype}`);
  if (planned.quant !== fitted.quant) out.push(`weights: ${planned.quant} -> ${fitted.quant}`);
  if (planned.optimizer !== fitted.optimizer) out.push(`optimizer: ${planned.optimizer} -> ${fitted.optimizer}`);
  return out;
}

const sameWorkload = (a: Workload, b: Workload) => a === b || JSON.stringify(a) === JSON.stringify(b);

const WORST: Record<Verdict, number> = { fits: 0, tight: 1, no: 2 };
const describe = (id: string) => CHANGES.find((c) => c.id === id)?.description ?? id;

/** Of the cross-validated measurements, how many exceeded their estimate by more than `margin` (null when
 *  the calibration file carries no held-out errors). */
function riskOf(margin: number): Cell["risk"] {
  const h = currentCalibration().heldOut;
  if (!h) return null;
  return { exceeded: h.above.filter((x) => x > margin).length, cases: h.cases };
}

/** `experiments`: the plan's, where an inspection finds the training experiment it follows (adapter_from). */
export function feasibilityCell(ex: PlanExperiment, opt: HardwareOption, a: Assumptions, experiments: readonly PlanExperiment[] = []): Cell {
  const base = { option: opt.name, kind: opt.kind, estimated: true as const };
  if (ex.cpuOnly) {
    return { ...base, verdict: "fits", fits: true, changes: [], change_descriptions: [], departs_from_plan: [], settings: { gpus: 0 }, gpus: 0, peak_bytes: 0, high_bytes: 0, seconds: ex.cpuHours * 3600, gpu_hours: 0, bottleneck: "cpu", cost_usd: 0, margin: null, risk: null, safe: null };
  }
  const spec = ex.model!;
  const planned = ex.runs[0]!.workload;
  const gpusNeeded = planned.nGpus;
  // owned options are one card, and a cloud instance rents at most `maxGpus` of one type
  if (gpusNeeded > opt.maxGpus) {
    const e = estimate(spec, planned, opt.gpu);
    return { ...base, verdict: "no", fits: false, changes: [], change_descriptions: [], departs_from_plan: [], settings: settingsOf(planned, gpusNeeded), gpus: gpusNeeded, peak_bytes: e.peak.minimum_device_bytes, high_bytes: e.peak.high_bytes, seconds: 0, gpu_hours: 0, bottleneck: "gpu count", cost_usd: 0, margin: null, risk: null, safe: null };
  }
  let verdict: Verdict = "fits";
  let peak = 0;
  let high = 0;
  let changes: string[] = [];
  let departs: string[] = [];
  let settings: Cell["settings"] = settingsOf(planned, gpusNeeded);
  const times: number[] = [];
  let timeBottleneck: Estimate["bottleneck"] = "compute";
  let shortPeak = 0;
  // the variant without risk (tight runs only): its changes, departures and times
  let safeOk = true;
  let safeChanges: string[] = [];
  let safeDeparts: string[] = [];
  let safePeak = 0;
  let safeHigh = 0;
  const safeTimes: number[] = [];
  let anyTight = false;
  let margin = Infinity;
  // the decision keeps each experiment what it is: no change of method or length, nor of the swept setting
  const swept = ex.sweep?.param;
  const allow = (c: Change) => c.cost !== "experiment" && (swept === undefined || c.touches !== swept);
  // an inspection is one worker job (its runs are the probes it fits or the passes it makes): its peak and
  // seconds are the job's, counted once (runs/inspect-plan.ts)
  const inspection = isInspection(ex);
  // an evaluation is one job too, reading the base model and each checkpoint of its adapter_from run over the
  // plan's data (runs/evaluation-plan.ts): its seconds are one model's times the models read
  const evaluation = isEvaluation(ex);
  const perJob = evaluation ? modelsReadByEvaluation(ex, experiments) : 1;
  const single = inspection || evaluation;
  const jobs = new Map<Workload, ReturnType<typeof planInspection>>();
  const jobOf = (w: Workload) => jobs.get(w) ?? jobs.set(w, planInspection(ex, opt.gpu, experiments, w)).get(w)!;
  // runs with the same workload (a learning-rate sweep, repeated runs) are searched once
  const searched = new Map<Workload, { fit: FitResult; safe?: FitResult }>();
  for (const run of ex.runs) {
    const same = [...searched.keys()].find((w) => sameWorkload(w, run.workload));
    const memo = same ? searched.get(same)! : { fit: findFit(spec, run.workload, opt.gpu, { allow }) };
    if (!same) searched.set(run.workload, memo);
    const r = memo.fit;
    const fitted = r.fitsAsIs ? r.baseline : (r.cheapest?.estimate ?? null);
    const job = fitted && inspection ? jobOf(fitted.workload) : null;
    const chosen = job ? (job.inspection.estimate.fits ? job.inspection.estimate : null) : fitted;
    if (!chosen) {
      verdict = "no";
      shortPeak = Math.max(shortPeak, inspection ? (job ?? jobOf(r.baseline.workload)).inspection.estimate.peak.minimum_device_bytes : r.baseline.peak.minimum_device_bytes);
      continue;
    }
    if (!r.fitsAsIs && r.cheapest) {
      for (const c of r.cheapest.changes) if (!changes.includes(c)) changes = [...changes, c];
      for (const d of departures(run.workload, r.cheapest.workload)) if (!departs.includes(d)) departs = [...departs, d];
      settings = settingsOf(r.cheapest.workload, gpusNeeded);
    }
    const runVerdict: Verdict = chosen.peak.high_bytes > opt.gpu.usableBytes ? "tight" : "fits";
    if (WORST[runVerdict] > WORST[verdict]) verdict = runVerdict;
    if (chosen.peak.device_bytes >= peak) {
      peak = chosen.peak.device_bytes;
      high = chosen.peak.high_bytes;
    }
    margin = Math.min(margin, opt.gpu.usableBytes / Math.max(chosen.peak.device_bytes, 1) - 1);
    const seconds = job ? job.seconds : runSeconds(chosen, ex) * perJob;
    if (!single || times.length === 0) times.push(seconds);
    timeBottleneck = chosen.bottleneck;
    // the same run without risk: searched from the planned workload with the whole band inside the card
    let safe: Estimate | null = chosen;
    let safeSeconds = seconds;
    if (runVerdict === "tight") {
      anyTight = true;
      memo.safe ??= findFit(spec, run.workload, opt.gpu, { allow, within: "band" });
      const sr = memo.safe;
      safe = sr.fitsAsIs ? sr.baseline : (sr.cheapest?.estimate ?? null);
      if (safe && inspection) {
        // the job's band (with what it holds beside the extraction pass) must fit, not only the workload's
        const safeJob = jobOf(safe.workload);
        const je = safeJob.inspection.estimate;
        safe = je.fits && je.peak.high_bytes <= opt.gpu.usableBytes ? je : null;
        safeSeconds = safeJob.seconds;
      } else if (safe) safeSeconds = runSeconds(safe, ex) * perJob;
      if (safe && !sr.fitsAsIs && sr.cheapest) {
        for (const c of sr.cheapest.changes) if (!safeChanges.includes(c)) safeChanges = [...safeChanges, c];
        for (const d of departures(run.workload, sr.cheapest.workload)) if (!safeDeparts.includes(d)) safeDeparts = [...safeDeparts, d];
      }
    } else if (!r.fitsAsIs && r.cheapest) {
      for (const c of r.cheapest.changes) if (!safeChanges.includes(c)) safeChanges = [...safeChanges, c];
      for (const d of departures(run.workload, r.cheapest.workload)) if (!safeDeparts.includes(d)) safeDeparts = [...safeDeparts, d];
    }
    if (!safe) safeOk = false;
    else {
      if (safe.peak.device_bytes >= safePeak) {
        safePeak = safe.peak.device_bytes;
        safeHigh = safe.peak.high_bytes;
      }
      if (!single || safeTimes.length === 0) safeTimes.push(safeSeconds);
    }
  }
  if (verdict === "no") return { ...base, verdict, fits: false, changes: [], change_descriptions: [], departs_from_plan: [], settings, gpus: gpusNeeded, peak_bytes: shortPeak, high_bytes: shortPeak, seconds: 0, gpu_hours: 0, bottleneck: "memory capacity", cost_usd: 0, margin: null, risk: null, safe: null };
  changes = dropSuperseded(changes);
  // in the cloud, runs that may overlap are rented side by side: wall time of one run, same GPU-hours
  const concurrent = opt.kind === "cloud" && ex.parallel && times.length > 1;
  const billed = (ts: readonly number[]) => {
    const sum = ts.reduce((x, y) => x + y, 0);
    const gpuHours = (sum / 3600) * gpusNeeded;
    let cost: number;
    if (opt.kind === "cloud") {
      const p = opt.cloud!.usdPerHour;
      cost = p * gpuHours + p * gpusNeeded * a.cloudSetupHoursPerRun * (concurrent ? ts.length : 1);
    } else {
      cost = (opt.runWatts / 1000) * (sum / 3600) * a.electricityUsdPerKwh;
    }
    return { seconds: Math.round(concurrent ? Math.max(...ts) : sum), gpu_hours: Math.round(gpuHours * 1000) / 1000, cost_usd: Math.round(cost * 100) / 100 };
  };
  const bill = billed(times);
  const safeIds = dropSuperseded(safeChanges);
  const safeVariant: SafeVariant | null = verdict === "tight" && anyTight && safeOk ? { changes: safeIds, change_descriptions: safeIds.map(describe), departs_from_plan: safeDeparts, ...billed(safeTimes), peak_bytes: safePeak, high_bytes: safeHigh } : null;
  const bottleneck: Bottleneck = times.length > 1 && !concurrent ? "sequential sweep" : timeBottleneck === "memory-bandwidth" ? "memory bandwidth" : timeBottleneck === "host-overhead" ? "host overhead" : timeBottleneck === "interconnect" ? "interconnect" : "compute";
  return {
    ...base,
    verdict,
    fits: true,
    changes,
    change_descriptions: changes.map(describe),
    departs_from_plan: departs,
    settings,
    gpus: gpusNeeded,
    peak_bytes: peak,
    high_bytes: high,
    seconds: bill.seconds,
    gpu_hours: bill.gpu_hours,
    bottleneck,
    cost_usd: bill.cost_usd,
    margin: Number.isFinite(margin) ? Math.round(margin * 10000) / 10000 : null,
    risk: Number.isFinite(margin) ? riskOf(margin) : null,
    safe: safeVariant,
  };
}
