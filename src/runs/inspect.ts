// Run an inspection (attention, compare, hidden, probe) as a run of the store: check the inputs, index the run,
// drive the worker into the run's folder and record what it measured beside the planner's prediction.
// Bad input leaves nothing behind: the checks fitlab can make run before the run exists; what only the
// worker can tell (a prompt longer than the context, an adapter for another model) removes the run again.
import fs from "node:fs";
import path from "node:path";
import { FitlabInputError } from "../errors.js";
import { makeContext } from "../memory/context.js";
import { estimateMemory } from "../memory/estimate.js";
import { ATTENTION_CHUNK_BYTES, POOLED_MAP_SIZE, recomputeAttentionBytes } from "../memory/extraction.js";
import { engineProfile } from "../engines/profile.js";
import { resolveModel } from "../spec/catalog.js";
import { readSafetensorsHeader } from "../spec/safetensors.js";
import { resolveWorkload } from "../workload/resolve.js";
import { checkpoints } from "./evaluate.js";
import { checkProbeData, readPrompts } from "./inspect-inputs.js";
import type { WorkerEvent } from "./protocol.js";
import { RunStore, type RunRecord } from "./store.js";
import { checkModel } from "./train.js";
import { requireWorker, runJob, WorkerError } from "./worker.js";
import type { HubProbeData, HubPrompts } from "../plan/run-spec.js";

export const INSPECT_KINDS = ["attention", "compare", "hidden", "probe"] as const;
export type InspectKind = (typeof INSPECT_KINDS)[number];

export interface InspectSettings {
  readonly kind: InspectKind;
  readonly name?: string;
  readonly experiment?: string | null;
  /** model folder or hub id; with `run`, the training run's model */
  readonly model?: string | null;
  /** a branch, tag or commit of a hub model (default main) */
  readonly modelRevision?: string;
  /** a prompt file, or prompts from a hub text set (the worker fetches them into the run folder) */
  readonly prompts?: string | HubPrompts | null;
  /** probe: labelled JSONL, or labelled rows of a hub set */
  readonly data?: string | HubProbeData | null;
  /** a PEFT adapter folder, or the id/name of a training run (its newest checkpoint) */
  readonly adapter?: string | null;
  /** probe: every checkpoint of this training run (and its base model as step 0) */
  readonly run?: string | null;
  readonly quant?: "none" | "nf4";
  readonly device?: "auto" | "cpu" | "cuda";
  readonly dtype?: "auto" | "bf16" | "fp16" | "fp32";
  /** attention: heads kept at full resolution ("3.7") or all */
  readonly heads?: readonly string[] | "all" | null;
  readonly maxPrompts?: number | null;
  readonly maxTokens?: number | null;
  /** attention/compare: prompts whose pooled maps are kept */
  readonly mapPrompts?: number | null;
  /** hidden: which positions are stored as features */
  readonly positions?: "last" | "mean" | "all";
  readonly maxBytes?: number | null;
  /** probe, sentence level: last token or mean over tokens */
  readonly pool?: "last" | "mean";
  /** attention: recompute (streaming, default) or eager (output_attentions, every layer at once: the reference) */
  readonly capture?: "recompute" | "eager";
  readonly fullDtype?: "float16" | "float32";
  readonly chunkBytes?: number;
  readonly seed?: number;
}

export interface InspectHooks {
  readonly onEvent?: (e: WorkerEvent) => void;
}

export interface InspectOutcome {
  readonly run: RunRecord;
  readonly result: Record<string, unknown>;
}

const abs = (p: string) => path.resolve(p);
const isLocal = (m: string) => m.startsWith(".") || m.startsWith("/") || fs.existsSync(m);

/** An adapter folder (PEFT layout) or a training run's newest checkpoint. */
export function resolveAdapter(store: RunStore, adapter: string): { path: string; parentRun: string | null } {
  if (fs.existsSync(adapter) && fs.statSync(adapter).isDirectory()) {
    for (const f of ["adapter_config.json", "adapter_model.safetensors"]) {
      if (!fs.existsSync(path.join(adapter, f))) throw new FitlabInputError(`adapter folder ${adapter} has no ${f} (a PEFT adapter as \`fitlab run\` writes it)`);
    }
    return { path: abs(adapter), parentRun: null };
  }
  const run = store.get(adapter);
  if (run.kind !== "train") throw new FitlabInputError(`run ${run.id} is ${run.kind}, not a training run: give a fine-tune's run id or an adapter folder`);
  const last = checkpoints(run).at(-1);
  if (!last || !fs.existsSync(path.join(last.path, "adapter_model.safetensors"))) throw new FitlabInputError(`run ${run.id} has no LoRA checkpoint (a full fine-tune or an unfinished run)`);
  return { path: last.path, parentRun: run.id };
}

function runModel(run: RunRecord): { model: string; quant: "none" | "nf4" } {
  const c = JSON.parse(fs.readFileSync(path.join(run.dir, "config.json"), "utf8")) as { model: string; method: string };
  return { model: c.model, quant: c.method === "qlora" ? "nf4" : "none" };
}

/** Check everything fitlab can check, then build the worker's config. Throws FitlabInputError; writes nothing. */
export function prepareInspect(store: RunStore, s: InspectSettings): { config: Record<string, unknown>; parentRun: string | null; model: string; quant: "none" | "nf4" } {
  requireWorker();
  let model = s.model ?? null;
  let quant = s.quant ?? "none";
  let parentRun: string | null = null;
  let ckpts: { step: number; adapter: string | null }[] | null = null;
  let adapter: string | null = null;
  if (s.run) {
    if (s.kind !== "probe") throw new FitlabInputError("--run follows a training run's checkpoints: it applies to `inspect probe`");
    const run = store.get(s.run);
    if (run.kind !== "train") throw new FitlabInputError(`run ${run.id} is ${run.kind}, not a training run`);
    const list = checkpoints(run).filter((c) => fs.existsSync(path.join(c.path, "adapter_model.safetensors")));
    if (list.length === 0) throw new FitlabInputError(`run ${run.id} has no LoRA checkpoint to probe`);
    const rm = runModel(run);
    model ??= rm.model;
    quant = s.quant ?? rm.quant;
    parentRun = run.id;
    ckpts = [{ step: 0, adapter: null }, ...list.map((c) => ({ step: c.step, adapter: c.path }))];
  }
  if (!model) throw new FitlabInputError("--model DIR (a model folder or a hub id) is required");
  checkModel(model);
  // heads kept at full resolution must exist in this model (when fitlab can read its config)
  if (Array.isArray(s.heads)) {
    let spec: { numLayers: number; numHeads: number } | null = null;
    try {
      spec = resolveModel(model);
    } catch {
      spec = null; // a hub model not fetched yet: the worker checks
    }
    for (const h of spec ? s.heads : []) {
      const [layer, head] = h.split(".").map(Number) as [number, number];
      if (layer >= spec!.numLayers || head >= spec!.numHeads) throw new FitlabInputError(`--heads ${h}: ${model} has layers 0-${spec!.numLayers - 1} and heads 0-${spec!.numHeads - 1}`);
    }
  }
  if (s.adapter) {
    const a = resolveAdapter(store, s.adapter);
    adapter = a.path;
    parentRun ??= a.parentRun;
  }
  if (s.kind === "compare" && !adapter) throw new FitlabInputError("inspect compare needs --adapter (an adapter folder or a training run id)");
  // local files are checked here; a hub set is fetched and checked by the worker (its id was checked by the plan)
  if (s.kind === "probe") {
    if (!s.data) throw new FitlabInputError("inspect probe needs --data FILE (JSONL of {\"text\",\"label\"} or {\"tokens\",\"labels\"})");
    if (typeof s.data === "string") {
      const probe = checkProbeData(s.data);
      if (s.pool !== undefined && probe.level === "token") throw new FitlabInputError(`--pool makes one feature of a sentence; ${s.data} is token-level (one label per token): drop --pool`);
    }
  } else {
    if (!s.prompts) throw new FitlabInputError(`inspect ${s.kind} needs --prompts FILE (one prompt per line, or JSONL with "text")`);
    if (typeof s.prompts === "string") readPrompts(s.prompts);
  }
  const input = <T>(v: string | T): string | T => (typeof v === "string" ? abs(v) : v);
  const common = { model: isLocal(model) ? abs(model) : model, quant, device: s.device ?? "auto", dtype: s.dtype ?? "auto", adapter, max_prompts: s.maxPrompts ?? null, max_tokens: s.maxTokens ?? null, seed: s.seed ?? 0, ...(s.modelRevision ? { model_revision: s.modelRevision } : {}) };
  let config: Record<string, unknown>;
  switch (s.kind) {
    case "attention":
    case "compare":
      config = { ...common, prompts: input(s.prompts!), full_heads: s.kind === "attention" ? (s.heads ?? null) : null, map_prompts: s.mapPrompts ?? (s.kind === "attention" ? 4 : 1), pool: POOLED_MAP_SIZE, chunk_bytes: s.chunkBytes ?? ATTENTION_CHUNK_BYTES, capture: s.capture ?? "recompute", full_dtype: s.fullDtype ?? "float16" };
      break;
    case "hidden":
      config = { ...common, prompts: input(s.prompts!), positions: s.positions ?? "last", max_bytes: s.maxBytes ?? 256 * 2 ** 20 };
      break;
    case "probe":
      config = { ...common, data: input(s.data!), pool: s.pool ?? "last", checkpoints: ckpts };
      break;
  }
  return { config, parentRun, model, quant };
}

/** The planner's prediction for this inspection on a CUDA device, from the model and the longest prompt. */
export function predictInspect(kind: InspectKind, model: string, quant: "none" | "nf4", seqLen: number, dtype: string, probe: { samples: number; classes: number } | null, adapter: string | null = null): Record<string, unknown> | null {
  try {
    const spec = resolveModel(model);
    const computeDtype: "fp32" | "fp16" | "bf16" = dtype === "float32" ? "fp32" : dtype === "float16" ? "fp16" : "bf16";
    const q = quant === "nf4" ? "bnb-nf4-dq" : "none";
    const input =
      kind === "probe"
        ? { kind: "probe" as const, probeSamples: probe?.samples ?? 0, probeClasses: probe?.classes ?? 2, dtype: computeDtype }
        : { kind: kind === "hidden" ? ("hidden_extract" as const) : ("attention_extract" as const), quant: q, seq: Math.max(1, seqLen), batch: 1, dtype: computeDtype, attentionCapture: "per-layer" as const };
    const w = resolveWorkload(input);
    const m = estimateMemory(spec, w);
    // compare holds the base pass's q/k of the current layer and a second set of probabilities per chunk
    const ctx = makeContext(spec, w, engineProfile(w.engine));
    const compareExtra = kind === "compare" ? Math.max(0, recomputeAttentionBytes(ctx, "compare") - recomputeAttentionBytes(ctx, "attention")) : 0;
    // a loaded adapter's LoRA weights: PEFT keeps them in fp32 (autocast_adapter_dtype, peft/tuners/tuners_utils.py)
    const adapterBytes = adapter && fs.existsSync(path.join(adapter, "adapter_model.safetensors")) ? readSafetensorsHeader(path.join(adapter, "adapter_model.safetensors")).totalParams * 4 : 0;
    const extra = compareExtra + adapterBytes;
    return { workload: w, memory: m, adapter_bytes: adapterBytes, compare_bytes: compareExtra, allocated_bytes: m.allocatedBytes + extra, reserved_bytes: m.reservedBytes + extra, note: "predicted for a CUDA device" };
  } catch {
    return null;
  }
}

/** Create the run (after every check) and run it. */
export async function inspect(store: RunStore, s: InspectSettings, hooks: InspectHooks = {}): Promise<InspectOutcome> {
  const p = prepareInspect(store, s);
  const run = store.create({
    kind: s.kind,
    name: s.name ?? `${s.kind}-${path.basename(p.model)}`,
    parentRun: p.parentRun,
    experiment: s.experiment ?? null,
    model: p.model,
    method: p.quant === "nf4" ? "nf4" : String(p.config.dtype),
    config: p.config,
    estimate: null,
  });
  return executeInspect(store, run, hooks);
}

function cleanPartial(dir: string): void {
  for (const f of fs.readdirSync(dir)) if (f !== "config.json" && f !== "estimate.json") fs.rmSync(path.join(dir, f), { recursive: true, force: true });
}

export async function executeInspect(store: RunStore, run: RunRecord, hooks: InspectHooks = {}): Promise<InspectOutcome> {
  const config = JSON.parse(fs.readFileSync(path.join(run.dir, "config.json"), "utf8")) as Record<string, unknown>;
  store.update(run.id, { status: "running", pid: process.pid });
  let result: Record<string, unknown>;
  try {
    result = await runJob(run.kind as InspectKind, config, hooks.onEvent ? { onEvent: hooks.onEvent } : {});
  } catch (e) {
    if (!(e instanceof WorkerError)) throw e;
    if (e.kind === "input") {
      store.remove(run.id);
      throw new FitlabInputError(e.message);
    }
    cleanPartial(run.dir);
    store.update(run.id, { status: e.kind === "oom" ? "oom" : "failed", finished_at: new Date().toISOString(), pid: null, error_kind: e.kind, error: e.message });
    return { run: store.get(run.id), result: {} };
  }
  // protocol fields, not results: what --json prints is then what the run's folder holds (`inspect show`, the dashboard)
  delete result.v;
  delete result.type;
  delete result.job;
  const tokens = (result.prompt_tokens as number[] | undefined) ?? [];
  const classes = Array.isArray(result.classes) ? result.classes.length : 2;
  const prediction = predictInspect(run.kind as InspectKind, String(config.model), config.quant === "nf4" ? "nf4" : "none", tokens.length ? Math.max(...tokens) : 0, String(result.dtype ?? "bfloat16"), run.kind === "probe" ? { samples: Number(result.train_points ?? 0), classes } : null, typeof config.adapter === "string" ? config.adapter : null);
  fs.writeFileSync(path.join(run.dir, "estimate.json"), `${JSON.stringify(prediction, null, 2)}\n`);
  const cuda = result.device === "cuda";
  store.update(run.id, {
    status: "done",
    finished_at: new Date().toISOString(),
    pid: null,
    device: (result.device as string) ?? null,
    predicted_allocated_bytes: (prediction?.allocated_bytes as number | undefined) ?? null,
    predicted_reserved_bytes: (prediction?.reserved_bytes as number | undefined) ?? null,
    measured_allocated_bytes: cuda ? ((result.peak_bytes as number | undefined) ?? null) : null,
  });
  return { run: store.get(run.id), result };
}

export { readInspectResult } from "./inspect-results.js";
