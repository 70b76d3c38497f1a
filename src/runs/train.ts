// Start, run and resume a training run: check inputs, predict with the planner, index the run, drive the
// worker, and record what it measured next to what was predicted. A CUDA OOM is recorded as such, with
// the fit search's cheapest change as the suggestion.
import fs from "node:fs";
import path from "node:path";
import { detectGpu } from "../decide/options.js";
import { FitlabInputError } from "../errors.js";
import { findFit } from "../fit/search.js";
import { loadGpuCatalog } from "../hardware/catalog.js";
import { estimateMemory } from "../memory/estimate.js";
import { estimate } from "../planner.js";
import { resolveModel } from "../spec/catalog.js";
import type { ModelSpec } from "../spec/types.js";
import { resolveWorkload } from "../workload/resolve.js";
import type { Workload } from "../workload/types.js";
import { requireSafeWeights } from "../spec/weight-files.js";
import { describeFsError } from "../input/read.js";
import { oneLine } from "../input/shown.js";
import { checkDataset } from "./dataset.js";
import { checkpointBytes, requireFreeDisk } from "./disk.js";
import type { WorkerEvent } from "./protocol.js";
import { RunStore, type RunRecord } from "./store.js";
import { requireWorker, runJob, WorkerError } from "./worker.js";

export interface TrainSettings {
  readonly name?: string;
  readonly experiment?: string | null;
  readonly sweep?: string | null;
  readonly sweepValue?: string | null;
  readonly model: string;
  readonly method: "qlora" | "lora" | "full";
  readonly targets: string; // "all-linear" or comma/plus list of module names
  readonly rank: number;
  readonly alpha: number;
  readonly dropout: number;
  readonly learningRate: number;
  readonly schedule: "linear" | "cosine" | "constant";
  readonly warmupSteps: number;
  readonly batch: number;
  readonly gradAccum: number;
  readonly maxSeqLen: number;
  readonly packing: boolean;
  readonly gradientCheckpointing: boolean;
  readonly seed: number;
  readonly maxSteps: number | null;
  readonly epochs: number;
  readonly evalEvery: number;
  readonly checkpointEvery: number;
  readonly dataset: { readonly train: string; readonly eval?: string | null; readonly evalFraction: number };
  readonly device: "auto" | "cpu" | "cuda";
  /** tests only: stop after this many steps without finishing */
  readonly stopAfterSteps?: number;
}

export const TRAIN_DEFAULTS = {
  method: "lora",
  targets: "all-linear",
  rank: 8,
  alpha: 16,
  dropout: 0,
  learningRate: 2e-4,
  schedule: "linear",
  warmupSteps: 0,
  batch: 4,
  gradAccum: 1,
  maxSeqLen: 512,
  packing: false,
  gradientCheckpointing: false,
  seed: 0,
  maxSteps: null,
  epochs: 1,
  evalEvery: 50,
  checkpointEvery: 50,
  device: "auto",
} as const;

export interface RunHooks {
  readonly onEvent?: (e: WorkerEvent) => void;
}

function checkModel(model: string): void {
  const looksLocal = model.startsWith(".") || model.startsWith("/") || fs.existsSync(model);
  if (!looksLocal) return; // a Hugging Face id: the worker downloads it when it has network
  if (!fs.existsSync(model)) throw new FitlabInputError(`model folder ${model} does not exist`);
  if (!fs.statSync(model).isDirectory()) throw new FitlabInputError(`model ${model} is a file: give the model folder (config.json + .safetensors)`);
  if (!fs.existsSync(path.join(model, "config.json"))) throw new FitlabInputError(`model folder ${model} has no config.json`);
  if (!requireSafeWeights(model)) throw new FitlabInputError(`model folder ${model} has no .safetensors weights: fitlab trains safetensors checkpoints only`);
  // the config and the safetensors headers, checked now rather than by the worker mid-load
  resolveModel(model);
}

/** Everything a run reads, checked before anything is written or the worker starts. Each file once. */
export function checkRunInputs(s: TrainSettings, seen: Set<string> = new Set()): void {
  const once = (key: string, check: () => void) => {
    if (seen.has(key)) return;
    check();
    seen.add(key);
  };
  once(`model:${s.model}`, () => checkModel(s.model));
  once(`data:${path.resolve(s.dataset.train)}`, () => checkDataset(s.dataset.train));
  if (s.dataset.eval) once(`data:${path.resolve(s.dataset.eval)}`, () => checkDataset(s.dataset.eval!));
}

function workloadOf(s: TrainSettings): Workload {
  return resolveWorkload({
    kind: s.method,
    seq: s.maxSeqLen,
    batch: s.batch,
    gradAccum: s.gradAccum,
    packed: s.packing,
    ...(s.method !== "full" ? { rank: s.rank, alpha: s.alpha, targets: s.targets.replace(/,/g, "+") } : {}),
    gradCkpt: s.gradientCheckpointing ? "full" : "none",
    optimizer: "adamw",
    engine: "fitlab-worker",
    quant: s.method === "qlora" ? "bnb-nf4-dq" : "none",
  });
}

/** The planner's prediction for this run, against the GPU this machine has (or none). */
function predict(s: TrainSettings): { estimate: Record<string, unknown> | null; allocated: number | null; reserved: number | null; tokensPerS: number | null } {
  let spec: ModelSpec;
  try {
    spec = resolveModel(s.model);
  } catch {
    return { estimate: null, allocated: null, reserved: null, tokensPerS: null };
  }
  const w = workloadOf(s);
  const catalog = loadGpuCatalog();
  const gpu = s.device === "cpu" ? null : detectGpu(catalog);
  if (!gpu) {
    const m = estimateMemory(spec, w);
    return { estimate: { gpu: null, note: "no GPU: memory predicted for a CUDA device; nothing to measure it against on the CPU", memory: m, workload: w }, allocated: m.allocatedBytes, reserved: m.reservedBytes, tokensPerS: null };
  }
  const e = estimate(spec, w, gpu);
  return { estimate: e as unknown as Record<string, unknown>, allocated: e.peak.allocated_bytes, reserved: e.peak.reserved_bytes, tokensPerS: e.tokens_per_s };
}

function workerConfig(s: TrainSettings): Record<string, unknown> {
  const targets = s.targets === "all-linear" ? "all-linear" : s.targets.split(/[+,]/).filter(Boolean);
  return {
    model: path.isAbsolute(s.model) || !fs.existsSync(s.model) ? s.model : path.resolve(s.model),
    method: s.method,
    target_modules: targets,
    rank: s.rank,
    alpha: s.alpha,
    dropout: s.dropout,
    learning_rate: s.learningRate,
    schedule: s.schedule,
    warmup_steps: s.warmupSteps,
    batch_size: s.batch,
    grad_accum: s.gradAccum,
    max_seq_len: s.maxSeqLen,
    packing: s.packing,
    gradient_checkpointing: s.gradientCheckpointing,
    seed: s.seed,
    max_steps: s.maxSteps,
    epochs: s.epochs,
    eval_every: s.evalEvery,
    checkpoint_every: s.checkpointEvery,
    device: s.device,
    dataset: { train: path.resolve(s.dataset.train), eval: s.dataset.eval ? path.resolve(s.dataset.eval) : null, eval_fraction: s.dataset.evalFraction },
    ...(s.stopAfterSteps !== undefined ? { stop_after_steps: s.stopAfterSteps } : {}),
  };
}

/** Room the run's first checkpoint needs on the store's disk (unknown for a hub model not yet here). */
function checkDisk(store: RunStore, s: TrainSettings): void {
  let spec: ModelSpec;
  try {
    spec = resolveModel(s.model);
  } catch {
    return;
  }
  const cpu = s.device === "cpu" || (s.device === "auto" && detectGpu(loadGpuCatalog()) === null);
  requireFreeDisk(store.dir, checkpointBytes(spec, workloadOf(s), cpu), `the checkpoints of ${s.name ?? "this run"}`);
}

/** Check everything, then create the run. Nothing is written when a check fails. */
export function createRun(store: RunStore, s: TrainSettings, opts: { inputsChecked?: boolean } = {}): RunRecord {
  if (!opts.inputsChecked) checkRunInputs(s);
  requireWorker();
  checkDisk(store, s);
  const p = predict(s);
  return store.create({
    name: s.name ?? `${s.method}-${path.basename(s.model)}`,
    experiment: s.experiment ?? null,
    sweep: s.sweep ?? null,
    sweepValue: s.sweepValue ?? null,
    model: s.model,
    method: s.method,
    config: workerConfig(s),
    estimate: p.estimate,
    predictedAllocatedBytes: p.allocated,
    predictedReservedBytes: p.reserved,
    predictedTokensPerS: p.tokensPerS,
  });
}

function oomSuggestion(s: TrainSettings): string | null {
  try {
    const spec = resolveModel(s.model);
    const gpu = detectGpu(loadGpuCatalog());
    if (!gpu) return null;
    const fit = findFit(spec, workloadOf(s), gpu);
    return fit.cheapest ? `fitlab fit suggests: ${fit.cheapest.descriptions.join(" + ")}` : "fitlab fit finds no change that fits this GPU: it needs a bigger card";
  } catch {
    return null;
  }
}

/** The run's resolved worker config (written by store.create); a broken one fails the run in one line. */
function runConfig(run: RunRecord): Record<string, unknown> {
  const file = path.join(run.dir, "config.json");
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new FitlabInputError(`run ${run.id} cannot be resumed: its ${file} ${e instanceof SyntaxError ? "is not valid JSON" : describeFsError(e)}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new FitlabInputError(`run ${run.id} cannot be resumed: ${file} is not a JSON object`);
  return raw as Record<string, unknown>;
}

/**
 * Drive the worker for a created (or interrupted) run; resumes from its newest checkpoint that verifies.
 * The run is claimed first (one process at a time), and every way the run can end leaves its row final:
 * done, stopped (tests), or failed with the real cause.
 */
export async function executeRun(store: RunStore, run: RunRecord, hooks: RunHooks = {}): Promise<RunRecord> {
  let config: Record<string, unknown>;
  try {
    config = runConfig(run);
  } catch (e) {
    store.update(run.id, { status: "failed", finished_at: new Date().toISOString(), pid: null, error_kind: "input", error: (e as Error).message });
    throw e;
  }
  // a resume on a disk that cannot take the next checkpoint is refused before any step is trained
  checkDisk(store, { ...settingsFromConfig(config, (config as { method: TrainSettings["method"] }).method), name: run.name });
  store.claim(run.id);
  try {
    const r = await runJob("train", { ...config, resume: true }, hooks.onEvent ? { onEvent: hooks.onEvent } : {});
    if (r.stopped_at !== undefined) {
      store.update(run.id, { steps: r.stopped_at as number, pid: null });
      return store.get(run.id);
    }
    store.update(run.id, {
      status: "done",
      finished_at: new Date().toISOString(),
      pid: null,
      device: (r.device as string) ?? null,
      steps: (r.steps as number) ?? null,
      measured_allocated_bytes: (r.peak_allocated_bytes as number | null) ?? null,
      measured_reserved_bytes: (r.peak_reserved_bytes as number | null) ?? null,
      measured_tokens_per_s: (r.mean_tokens_per_s as number | null) ?? null,
      initial_eval_loss: (r.initial_eval_loss as number | null) ?? null,
      final_eval_loss: (r.final_eval_loss as number | null) ?? null,
      best_eval_loss: (r.best_eval_loss as number | null) ?? null,
    });
  } catch (e) {
    if (e instanceof WorkerError) {
      const settings = config as unknown as { method: TrainSettings["method"] };
      const suggestion = e.kind === "oom" ? oomSuggestion(settingsFromConfig(config, settings.method)) : e.kind === "disk_full" ? `free disk space, then: fitlab runs resume ${run.id}` : null;
      store.update(run.id, { status: "failed", finished_at: new Date().toISOString(), pid: null, error_kind: e.kind, error: e.message, suggestion });
    } else {
      // a failure on this side (the store's disk, a bug): the row still ends, with the cause
      try {
        store.update(run.id, { status: "failed", finished_at: new Date().toISOString(), pid: null, error_kind: "internal", error: oneLine((e as Error).message ?? String(e)) });
      } catch {
        // the store itself failed: the row shows "interrupted" (its process is gone) and can be resumed
      }
      throw e;
    }
  }
  return store.get(run.id);
}

function settingsFromConfig(c: Record<string, unknown>, method: TrainSettings["method"]): TrainSettings {
  const ds = c.dataset as { train: string; eval: string | null; eval_fraction: number };
  return {
    ...TRAIN_DEFAULTS,
    model: String(c.model),
    method,
    targets: Array.isArray(c.target_modules) ? (c.target_modules as string[]).join("+") : String(c.target_modules),
    rank: Number(c.rank),
    alpha: Number(c.alpha),
    batch: Number(c.batch_size),
    gradAccum: Number(c.grad_accum),
    maxSeqLen: Number(c.max_seq_len),
    packing: Boolean(c.packing),
    gradientCheckpointing: Boolean(c.gradient_checkpointing),
    dataset: { train: ds.train, eval: ds.eval, evalFraction: ds.eval_fraction },
    device: c.device === "cpu" || c.device === "cuda" ? c.device : "auto",
  };
}

export interface MetricLine {
  readonly type: "train" | "eval";
  readonly step: number;
  readonly loss?: number;
  readonly eval_loss?: number;
  readonly lr?: number;
  readonly grad_norm?: number;
  readonly tokens_per_s?: number;
}

/** metrics.jsonl of a run, skipping a line cut short by a kill. */
export function readMetrics(run: RunRecord): MetricLine[] {
  const file = path.join(run.dir, "metrics.jsonl");
  if (!fs.existsSync(file)) return [];
  const out: MetricLine[] = [];
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as MetricLine);
    } catch {
      // a partial last line after a kill: the resume rewrites it
    }
  }
  return out;
}
