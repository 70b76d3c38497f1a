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
import type { Gpu } from "../hardware/gpu.js";
import type { ModelSpec } from "../spec/types.js";
import { DEFAULT_LOSS_CHUNK_TOKENS, resolveWorkload } from "../workload/resolve.js";
import type { Workload } from "../workload/types.js";
import { checkDataset } from "./dataset.js";
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

function checkModel(model: string): void {
  const looksLocal = model.startsWith(".") || model.startsWith("/") || fs.existsSync(model);
  if (!looksLocal) return; // a Hugging Face id: the worker downloads it when it has network
  if (!fs.existsSync(model)) throw new FitlabInputError(`model folder ${model} does not exist`);
  if (!fs.existsSync(path.join(model, "config.json"))) throw new FitlabInputError(`model folder ${model} has no config.json`);
  if (!fs.readdirSync(model).some((f) => f.endsWith(".safetensors") || f === "model.safetensors.index.json")) {
    throw new FitlabInputError(`model folder ${model} has no .safetensors weights (fitlab never loads pickled .bin files): convert it first`);
  }
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

function workloadOf(s: TrainSettings, gpu: Gpu | null = null): Workload {
  const lean = resolvedLean(s, gpu);
  return resolveWorkload({
    kind: s.method,
    seq: s.maxSeqLen,
    batch: s.batch,
    gradAccum: s.gradAccum,
    packed: s.packing,
    ...(s.method !== "full" ? { rank: s.rank, alpha: s.alpha, targets: s.targets.replace(/,/g, "+") } : {}),
    gradCkpt: s.gradientCheckpointing,
    optimizer: s.optimizer,
    loss: lean.loss,
    lossChunkTokens: s.lossChunkTokens,
    kernels: lean.kernels,
    compile: s.compile,
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
  const catalog = loadGpuCatalog();
  const gpu = s.device === "cpu" ? null : detectGpu(catalog);
  const w = workloadOf(s, gpu);
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
    dataset: { train: path.resolve(s.dataset.train), eval: s.dataset.eval ? path.resolve(s.dataset.eval) : null, eval_fraction: s.dataset.evalFraction },
    ...(s.stopAfterSteps !== undefined ? { stop_after_steps: s.stopAfterSteps } : {}),
  };
}

/** Check everything, then create the run. Nothing is written when a check fails. */
export function createRun(store: RunStore, s: TrainSettings): RunRecord {
  requireWorker();
  checkModel(s.model);
  checkDataset(s.dataset.train);
  if (s.dataset.eval) checkDataset(s.dataset.eval);
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
    const fit = findFit(spec, workloadOf(s, gpu), gpu);
    return fit.cheapest ? `fitlab fit suggests: ${fit.cheapest.descriptions.join(" + ")}` : "fitlab fit finds no change that fits this GPU: it needs a bigger card";
  } catch {
    return null;
  }
}

/** Drive the worker for a created (or interrupted) run; resumes from its newest checkpoint. */
export async function executeRun(store: RunStore, run: RunRecord, hooks: RunHooks = {}): Promise<RunRecord> {
  const config = JSON.parse(fs.readFileSync(path.join(run.dir, "config.json"), "utf8")) as Record<string, unknown>;
  store.update(run.id, { status: "running", pid: process.pid, error: null, error_kind: null, finished_at: null });
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
      ...repredict(run, config, r.runtime as WorkerRuntime | undefined),
    });
  } catch (e) {
    if (!(e instanceof WorkerError)) throw e;
    const settings = config as unknown as { method: TrainSettings["method"] };
    const suggestion = e.kind === "oom" ? oomSuggestion(settingsFromConfig(config, settings.method)) : null;
    store.update(run.id, { status: "failed", finished_at: new Date().toISOString(), pid: null, error_kind: e.kind, error: e.message, suggestion });
  }
  return store.get(run.id);
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
  const s = settingsFromConfig(config, config.method as TrainSettings["method"]);
  const ran: TrainSettings = { ...s, loss: rt.loss, kernels: rt.kernels };
  const p = predict(ran);
  if (p.allocated === null || p.allocated === run.predicted_allocated_bytes) return {};
  const file = path.join(run.dir, "estimate.json");
  const first = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as unknown) : null;
  fs.writeFileSync(file, `${JSON.stringify({ ...p.estimate, note: `re-predicted for what the worker ran: loss ${rt.loss} (${rt.loss_reason}), kernels ${rt.kernels}`, first_estimate: first }, null, 2)}\n`);
  return { predicted_allocated_bytes: p.allocated, predicted_reserved_bytes: p.reserved, predicted_tokens_per_s: p.tokensPerS };
}

const CKPT_MODES = ["none", "full", "offload"] as const;

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
    // runs made before checkpointing had modes stored a boolean
    gradientCheckpointing: (CKPT_MODES as readonly unknown[]).includes(c.gradient_checkpointing) ? (c.gradient_checkpointing as TrainSettings["gradientCheckpointing"]) : c.gradient_checkpointing === true ? "full" : "none",
    loss: (c.loss as TrainSettings["loss"] | undefined) ?? "standard",
    lossChunkTokens: Number(c.loss_chunk_tokens ?? TRAIN_DEFAULTS.lossChunkTokens),
    optimizer: (c.optimizer as TrainSettings["optimizer"] | undefined) ?? "adamw",
    kernels: (c.kernels as TrainSettings["kernels"] | undefined) ?? "none",
    compile: c.compile === true,
    device: (c.device as TrainSettings["device"] | undefined) ?? "auto",
    dataset: { train: ds.train, eval: ds.eval, evalFraction: ds.eval_fraction },
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
