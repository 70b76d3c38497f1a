// Start, run and resume a training run: check inputs, predict with the planner, index the run, drive the
// worker, and record what it measured next to what was predicted. A CUDA OOM is recorded as such, with
// the fit search's cheapest change as the suggestion.
import fs from "node:fs";
import path from "node:path";
import { FitlabInputError } from "../errors.js";
import { loadGpuCatalog } from "../hardware/catalog.js";
import { estimateMemory } from "../memory/estimate.js";
import { estimate } from "../planner.js";
import { resolveModel } from "../spec/catalog.js";
import type { Gpu } from "../hardware/gpu.js";
import type { ModelSpec } from "../spec/types.js";
import { DEFAULT_LOSS_CHUNK_TOKENS, resolveWorkload, type WorkloadInput } from "../workload/resolve.js";
import type { Workload } from "../workload/types.js";
import { checkDataset, datasetForWorker, isHubDataset, type DatasetSpec } from "./dataset.js";
import { oomAdvice, preflight, runGpu, visibleGpuCount, type Preflight } from "./preflight.js";
import { requireSafeWeights } from "../spec/weight-files.js";
import { describeFsError } from "../input/read.js";
import { oneLine } from "../input/shown.js";
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
  /** whole examples per row, position ids reset per example, attention kept inside each (packing.py) */
  readonly packing: boolean;
  /** none | full | offload (checkpointed layer inputs kept in CPU memory) */
  readonly gradientCheckpointing: "none" | "full" | "offload";
  /** auto: Liger's fused linear-CE where CUDA + Triton allow it, else chunked; standard: the model's own loss */
  readonly loss: "auto" | "standard" | "chunked" | "fused";
  /** tokens per chunk of the chunked loss */
  readonly lossChunkTokens: number;
  readonly optimizer: "adamw" | "adamw-fused" | "adamw8bit" | "paged-adamw8bit";
  /** auto: Liger's RMSNorm/RoPE/SwiGLU where CUDA + Triton allow it */
  readonly kernels: "auto" | "none" | "liger";
  /** torch.compile each decoder layer */
  readonly compile: boolean;
  readonly seed: number;
  readonly maxSteps: number | null;
  readonly epochs: number;
  readonly evalEvery: number;
  readonly checkpointEvery: number;
  readonly dataset: DatasetSpec;
  readonly device: "auto" | "cpu" | "cuda";
  /** a branch, tag or commit of a hub model (default main) */
  readonly modelRevision?: string;
  /** processes (GPUs) under torchrun, and how they share the model */
  readonly nGpus?: number;
  readonly sharding?: "ddp" | "fsdp" | "none";
  /** the card to predict for and check against (--gpu), when nvidia-smi is not the answer */
  readonly gpu?: string;
  /** tests only: raise torch.cuda.OutOfMemoryError at this optimizer step */
  readonly injectOomAtStep?: number;
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
  gradientCheckpointing: "none",
  loss: "auto",
  lossChunkTokens: DEFAULT_LOSS_CHUNK_TOKENS,
  optimizer: "adamw",
  kernels: "auto",
  compile: false,
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

export function checkModel(model: string): void {
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
  if (s.nGpus && s.nGpus > 1 && s.sharding === "fsdp") {
    // what FSDP in the worker shards (engine/fitlab_worker/distributed.py FullyShard)
    const who = s.experiment ?? s.name ?? "this run";
    if (s.method === "qlora") throw new FitlabInputError(`${who}: FSDP in the worker shards full and LoRA fine-tunes, not 4-bit QLoRA weights: use sharding ddp for QLoRA`);
    if (s.optimizer !== "adamw" && s.optimizer !== "adamw-fused") throw new FitlabInputError(`${who}: optimizer ${s.optimizer} keeps bitsandbytes state that FSDP cannot shard: use adamw or adamw-fused with sharding fsdp`);
    if (s.compile) throw new FitlabInputError(`${who}: compile is not supported with sharding fsdp`);
  }
  const d = s.dataset;
  if (isHubDataset(d)) return; // the worker fetches it; its id was checked by the plan
  once(`data:${path.resolve(d.train)}`, () => checkDataset(d.train));
  if (d.eval) once(`data:${path.resolve(d.eval)}`, () => checkDataset(d.eval!));
}

/** What the worker's "auto" choices become on this GPU (engine/fitlab_worker/loss.py choose and
 *  kernels.py choose): Liger needs CUDA with Triton, compute capability 7.0+, 8.0+ for bf16. */
export function resolvedLean(s: TrainSettings, gpu: Gpu | null): { loss: "standard" | "chunked" | "fused-linear-ce"; kernels: "none" | "liger" } {
  const major = gpu ? Number(gpu.computeCapability.split(".")[0]) : 0;
  const ligerOk = s.device !== "cpu" && major >= 8; // the worker trains in bf16 on Ampere and newer
  const loss = s.loss === "standard" ? "standard" : s.loss === "chunked" ? "chunked" : s.loss === "fused" || ligerOk ? "fused-linear-ce" : "chunked";
  const kernels = s.kernels === "liger" || (s.kernels === "auto" && ligerOk) ? "liger" : "none";
  return { loss, kernels };
}

export function workloadOf(s: TrainSettings, gpu: Gpu | null = null): Workload {
  const lean = resolvedLean(s, gpu);
  return resolveWorkload({
    kind: s.method,
    seq: s.maxSeqLen,
    batch: s.batch,
    gradAccum: s.gradAccum,
    packed: s.packing,
    ...(s.method !== "full" ? { rank: s.rank, alpha: s.alpha, targets: s.targets.replace(/,/g, "+") } : {}),
    gradCkpt: s.gradientCheckpointing,
    optimizer: s.optimizer as WorkloadInput["optimizer"],
    loss: lean.loss,
    ...(lean.loss === "chunked" ? { lossChunkTokens: s.lossChunkTokens } : {}),
    kernels: lean.kernels,
    compile: s.compile,
    engine: "fitlab-worker",
    ...(s.nGpus && s.nGpus > 1 ? { nGpus: s.nGpus, sharding: s.sharding === "fsdp" ? "fsdp" : "ddp" } : {}),
    quant: s.method === "qlora" ? "bnb-nf4-dq" : "none",
  });
}

/** The planner's prediction for this run, against the card it runs on (none on a CPU-only machine). */
export function predict(s: TrainSettings, gpu: Gpu | null): { estimate: Record<string, unknown> | null; allocated: number | null; reserved: number | null; device: number | null; tokensPerS: number | null; preflight: Preflight | null } {
  let spec: ModelSpec;
  try {
    spec = resolveModel(s.model);
  } catch {
    return { estimate: null, allocated: null, reserved: null, device: null, tokensPerS: null, preflight: null };
  }
  const w = workloadOf(s, s.device === "cpu" ? null : gpu);
  if (!gpu || s.device === "cpu") {
    const m = estimateMemory(spec, w);
    return { estimate: { gpu: null, note: "no GPU: memory predicted for a CUDA device; nothing to measure it against on the CPU", memory: m, workload: w }, allocated: m.allocatedBytes, reserved: m.reservedBytes, device: m.deviceBytes, tokensPerS: null, preflight: null };
  }
  // the check uses the user's calibration when active; the run keeps the shipped model's figures, which is
  // what `fitlab calibrate` corrects (estimate.json holds the estimate the check used)
  const pf = preflight(spec, w, gpu);
  const raw = pf.estimate.calibration ? estimate(spec, w, gpu, { calibration: false }) : pf.estimate;
  return { estimate: pf.estimate as unknown as Record<string, unknown>, allocated: raw.peak.allocated_bytes, reserved: raw.peak.reserved_bytes, device: raw.peak.device_bytes, tokensPerS: raw.tokens_per_s, preflight: pf };
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
    loss: s.loss,
    loss_chunk_tokens: s.lossChunkTokens,
    optimizer: s.optimizer,
    kernels: s.kernels,
    compile: s.compile,
    seed: s.seed,
    max_steps: s.maxSteps,
    epochs: s.epochs,
    eval_every: s.evalEvery,
    checkpoint_every: s.checkpointEvery,
    device: s.device,
    dataset: datasetForWorker(s.dataset, (p) => path.resolve(p)),
    ...(s.modelRevision ? { model_revision: s.modelRevision } : {}),
    ...(s.nGpus && s.nGpus > 1 ? { n_gpus: s.nGpus, sharding: s.sharding ?? "ddp" } : {}),
    ...(s.gpu ? { gpu: s.gpu } : {}),
    ...(s.stopAfterSteps !== undefined ? { stop_after_steps: s.stopAfterSteps } : {}),
    ...(s.injectOomAtStep !== undefined ? { _test_inject_oom_at_step: s.injectOomAtStep } : {}),
  };
}

export interface CreateOptions {
  /** try a GPU run even when the planner predicts it does not fit */
  readonly force?: boolean;
  /** the caller already ran checkRunInputs (a sweep checks each file once) */
  readonly inputsChecked?: boolean;
}

/** Room the run's first checkpoint needs on the store's disk (unknown for a hub model not yet here). */
function checkDisk(store: RunStore, s: TrainSettings, gpu: Gpu | null): void {
  let spec: ModelSpec;
  try {
    spec = resolveModel(s.model);
  } catch {
    return;
  }
  requireFreeDisk(store.dir, checkpointBytes(spec, workloadOf(s, gpu), gpu === null), `the checkpoints of ${s.name ?? "this run"}`);
}

/** A GPU run the planner predicts not to fit, refused with the fit search's cheapest change (unless forced):
 *  the answer needs no network, so `fitlab run` gives it before it checks the hub. A model the planner cannot
 *  read yet (a hub id not in the cache) is left to the checks that follow. */
export function refuseIfNotFitting(s: TrainSettings, force: boolean): void {
  if (force) return;
  let p: ReturnType<typeof predict>;
  try {
    p = predict(s, targetGpu(s));
  } catch {
    return;
  }
  if (p.preflight && !p.preflight.fits) throw new FitlabInputError(`${s.name ?? s.model}: ${p.preflight.refusal}`);
}

/** Check everything, then create the run. Nothing is written when a check fails; a GPU run the planner
 *  predicts not to fit is refused with the fit search's cheapest change (unless forced). */
export function createRun(store: RunStore, s: TrainSettings, opts: CreateOptions = {}): RunRecord {
  if (!opts.inputsChecked) checkRunInputs(s);
  requireWorker();
  if (s.nGpus && s.nGpus > 1 && s.device !== "cpu") {
    const seen = visibleGpuCount();
    if (seen < s.nGpus) throw new FitlabInputError(`${s.experiment ?? s.name ?? "this run"} runs on ${s.nGpus} GPUs (one torchrun process each) and this machine shows ${seen}: rent them with \`fitlab burst ${s.experiment ?? "EXPERIMENT"}\`, or try it on the CPU (run.device: cpu)`);
  }
  const gpu = targetGpu(s);
  checkDisk(store, s, gpu);
  const p = predict(s, gpu);
  if (p.preflight && !p.preflight.fits && !opts.force) throw new FitlabInputError(`${s.name ?? s.model}: ${p.preflight.refusal}`);
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
    predictedDeviceBytes: p.device,
  });
}

/** The card a run is predicted for and checked against: --gpu, else the one nvidia-smi reports; none on the CPU. */
function targetGpu(s: TrainSettings): Gpu | null {
  return s.device === "cpu" ? null : (runGpu(loadGpuCatalog(), { flag: s.gpu, needDetected: true })?.gpu ?? null);
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
  const resumed = { ...settingsFromConfig(config), name: run.name };
  checkDisk(store, resumed, targetGpu(resumed));
  store.claim(run.id);
  try {
    const processes = typeof config.n_gpus === "number" && config.n_gpus > 1 ? config.n_gpus : 1;
    const r = await runJob("train", { ...config, resume: true }, { ...(hooks.onEvent ? { onEvent: hooks.onEvent } : {}), processes });
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
      measured_device_bytes: (r.device_peak_bytes as number | null) ?? null,
      gpu: (r.gpu_name as string | null) ?? null,
      initial_eval_loss: (r.initial_eval_loss as number | null) ?? null,
      final_eval_loss: (r.final_eval_loss as number | null) ?? null,
      best_eval_loss: (r.best_eval_loss as number | null) ?? null,
      ...repredict(run, config, r.runtime as WorkerRuntime | undefined),
    });
  } catch (e) {
    if (e instanceof WorkerError) {
      if (e.kind === "oom") {
        store.update(run.id, { status: "oom", finished_at: new Date().toISOString(), pid: null, ...oomRecord(run, config, e) });
        return store.get(run.id);
      }
      const suggestion = e.kind === "disk_full" ? `free disk space, then: fitlab runs resume ${run.id}` : null;
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

const gibs = (b: number | null | undefined) => (typeof b === "number" ? `${(b / 2 ** 30).toFixed(2)} GiB` : "n/a");

/** An out-of-memory in one line: where, what was measured, what was predicted, and the cheapest change that
 *  fits with the margin the run showed it needs (src/runs/preflight.ts oomAdvice). */
function oomRecord(run: RunRecord, config: Record<string, unknown>, e: WorkerError): Partial<RunRecord> {
  const d = e.details;
  const num = (k: string) => (typeof d[k] === "number" ? (d[k] as number) : null);
  const allocated = num("peak_allocated_bytes");
  const reserved = num("peak_reserved_bytes");
  let advice: string | null = null;
  try {
    const s = settingsFromConfig(config);
    // the card the run was meant for (--gpu, else nvidia-smi), even when the OOM was injected on the CPU
    const gpu = runGpu(loadGpuCatalog(), { flag: s.gpu, needDetected: true })?.gpu ?? null;
    if (gpu) advice = oomAdvice(resolveModel(s.model), workloadOf(s, gpu), gpu, num("needed_bytes")).line;
  } catch {
    advice = null; // a model the planner cannot read: no advice, the measurement is still recorded
  }
  const at = num("step") !== null ? ` at step ${num("step")}` : "";
  const line = `CUDA out of memory${at}: measured peak ${gibs(allocated)} allocated, ${gibs(reserved)} reserved${num("tried_bytes") !== null ? ` (+${gibs(num("tried_bytes"))} asked)` : ""}; predicted ${gibs(run.predicted_allocated_bytes)} allocated${advice ? `; ${advice}` : ""}`;
  return { device: (d.device as string | undefined) ?? null, steps: num("step"), measured_allocated_bytes: allocated, measured_reserved_bytes: reserved, measured_device_bytes: num("device_peak_bytes"), error_kind: "oom", error: line, suggestion: advice };
}

/** What the worker says it ran (result.json "runtime"; engine/fitlab_worker/jobs/train.py). */
export interface WorkerRuntime {
  readonly loss: "standard" | "chunked" | "fused";
  readonly loss_reason: string;
  readonly loss_chunk_tokens: number | null;
  readonly gradient_checkpointing: string;
  readonly packing: boolean;
  readonly optimizer: string;
  readonly optimizer_note: string | null;
  readonly kernels: "none" | "liger";
  readonly kernels_reason: string;
  readonly compile: boolean;
  readonly packed_rows: number | null;
  readonly packing_fill: number | null;
}

/** When the worker's automatic choices differ from what the prediction assumed (say Liger failed to
 *  import on this GPU), predict again for what really ran, and keep the first estimate beside it. */
function repredict(run: RunRecord, config: Record<string, unknown>, rt: WorkerRuntime | undefined): Partial<RunRecord> {
  if (!rt) return {};
  const s = settingsFromConfig(config);
  const ran: TrainSettings = { ...s, loss: rt.loss, kernels: rt.kernels };
  const p = predict(ran, targetGpu(ran));
  if (p.allocated === null || p.allocated === run.predicted_allocated_bytes) return {};
  const file = path.join(run.dir, "estimate.json");
  const first = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as unknown) : null;
  fs.writeFileSync(file, `${JSON.stringify({ ...p.estimate, note: `re-predicted for what the worker ran: loss ${rt.loss} (${rt.loss_reason}), kernels ${rt.kernels}`, first_estimate: first }, null, 2)}\n`);
  return { predicted_allocated_bytes: p.allocated, predicted_reserved_bytes: p.reserved, predicted_tokens_per_s: p.tokensPerS };
}

const CKPT_MODES = ["none", "full", "offload"] as const;

function settingsFromConfig(c: Record<string, unknown>): TrainSettings {
  const ds = c.dataset as Record<string, unknown>;
  return {
    ...TRAIN_DEFAULTS,
    model: String(c.model),
    method: c.method as TrainSettings["method"],
    targets: Array.isArray(c.target_modules) ? (c.target_modules as string[]).join("+") : String(c.target_modules),
    rank: Number(c.rank),
    alpha: Number(c.alpha),
    batch: Number(c.batch_size),
    gradAccum: Number(c.grad_accum),
    maxSeqLen: Number(c.max_seq_len),
    packing: Boolean(c.packing),
    // runs made before checkpointing had modes stored a boolean
    gradientCheckpointing: (CKPT_MODES as readonly unknown[]).includes(c.gradient_checkpointing) ? (c.gradient_checkpointing as TrainSettings["gradientCheckpointing"]) : c.gradient_checkpointing === true ? "full" : "none",
    loss: (c.loss as TrainSettings["loss"] | undefined) ?? "standard",
    lossChunkTokens: Number(c.loss_chunk_tokens ?? TRAIN_DEFAULTS.lossChunkTokens),
    optimizer: (c.optimizer as TrainSettings["optimizer"] | undefined) ?? "adamw",
    kernels: (c.kernels as TrainSettings["kernels"] | undefined) ?? "none",
    compile: c.compile === true,
    device: (c.device as TrainSettings["device"] | undefined) ?? "auto",
    ...(typeof c.n_gpus === "number" ? { nGpus: c.n_gpus, sharding: c.sharding as "ddp" | "fsdp" } : {}),
    ...(typeof c.gpu === "string" ? { gpu: c.gpu } : {}),
    dataset: typeof ds.hub === "string" ? { hub: ds.hub, evalFraction: Number(ds.eval_fraction ?? 0.1) } : { train: String(ds.train), eval: (ds.eval as string | null) ?? null, evalFraction: Number(ds.eval_fraction ?? 0.1) },
  };
}

// metrics.jsonl lines and their reader live in metrics.ts (light: the dashboard reads them without the planner)
export { readMetrics, type MetricLine } from "./metrics.js";
