// Load and check a lab plan. Every problem is reported at once, each with its line; a plan that loads
// is resolved into read-only experiments the decision and the runner read.
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import type { Document, Node } from "yaml";
import { parseYamlCached, yamlLib } from "../data/yaml-cache.js";
import { FitlabInputError } from "../errors.js";
import { loadGpuCatalog } from "../hardware/catalog.js";
import { LIMITS } from "../input/limits.js";
import { readTextFile, statInputFile } from "../input/read.js";
import { oneLine } from "../input/shown.js";
import { valueAt, zodIssueText } from "../input/zod-issue.js";
import { flowNesting, parseYaml, valueDepth, type ParsedYaml } from "../input/yaml.js";
import { resolveModel } from "../spec/catalog.js";
import type { ModelSpec } from "../spec/types.js";
import { resolveWorkload, workloadInputSchema, type WorkloadInput } from "../workload/resolve.js";
import type { Workload } from "../workload/types.js";
import path from "node:path";
import { isHubDataset, looksLocal, resolveRunSpec, type RunSpec } from "./run-spec.js";
import { runSectionProblems } from "./run-rules.js";
import { planSchema, type RawExperiment, type RawPlan } from "./schema.js";

/** Workload kinds that fine-tune (and so leave an adapter or checkpoints another experiment can read). */
const TRAINING_KINDS: ReadonlySet<string> = new Set(["full", "lora", "qlora"]);

/** Experiments in a plan, and the runs they expand to (each sweep value or repetition is one run). */
function planSize(p: RawPlan): { experiments: number; runs: number } {
  let experiments = 0;
  let runs = 0;
  for (const t of p.tracks) {
    for (const ex of t.experiments) {
      experiments++;
      runs += ex.sweep ? ex.sweep.values.length : (ex.runs ?? 1);
    }
  }
  return { experiments, runs };
}

export const DEFAULT_PLAN_PATH = fileURLToPath(new URL("../../data/plans/default.yaml", import.meta.url));

export interface PlanProblem {
  readonly line: number;
  readonly path: string;
  readonly message: string;
}

export interface PlanRun {
  /** label of this run within the experiment (the sweep value, or "run 2") */
  readonly label: string;
  /** the sweep value of this run, when the experiment is a sweep */
  readonly value: number | string | null;
  readonly workload: Workload;
}

export interface PlanExperiment {
  readonly key: string; // "A.lr-sweep"
  readonly track: string;
  readonly trackName: string;
  readonly id: string;
  readonly title: string;
  readonly stretch: boolean;
  /** what doing it would teach or change (plan field `impact`), or null */
  readonly impact: string | null;
  readonly cpuOnly: boolean;
  readonly cpuHours: number;
  readonly model: ModelSpec | null;
  readonly modelName: string | null;
  readonly runs: readonly PlanRun[];
  readonly parallel: boolean;
  readonly data: { readonly tokens: number; readonly epochs: number; readonly prompts: number };
  readonly sweep: { readonly param: string; readonly values: readonly (number | string)[] } | null;
  /** how to run it for real (`fitlab run`), with paths resolved against the plan's folder */
  readonly run: RunSpec | null;
}

export interface Plan {
  readonly name: string;
  readonly file: string;
  readonly currentGpu: string | null;
  readonly cycleMonths: number;
  /** what the lab is for (plan field `goal`), or null */
  readonly goal: string | null;
  readonly experiments: readonly PlanExperiment[];
}

/** Sweep parameters that change nothing the planner models (they still multiply the runs). */
const NEUTRAL_SWEEP_PARAMS = new Set(["learning_rate", "lr", "seed", "warmup", "weight_decay", "schedule", "lora_dropout_seed"]);
const WORKLOAD_KEYS = new Set(Object.keys(workloadInputSchema.shape));

function lineOf(doc: Document.Parsed, counter: { linePos(offset: number): { line: number } }, path: readonly (string | number)[]): number {
  let node: unknown = doc.contents;
  let best = 1;
  for (const key of path) {
    const n = node as Node | null;
    if (n && "range" in n && n.range) best = counter.linePos(n.range[0]).line;
    // the yaml package is loaded only for a plan with problems (a cached parse needs no positions)
    const { isMap, isSeq } = yamlLib();
    if (isMap(node)) node = node.get(key as string, true);
    else if (isSeq(node)) node = node.get(key as number, true);
    else break;
  }
  const n = node as Node | null;
  if (n && typeof n === "object" && "range" in n && n.range) best = counter.linePos(n.range[0]).line;
  return best;
}

export interface CheckResult {
  readonly plan: Plan | null;
  readonly problems: readonly PlanProblem[];
}

export interface CheckOptions {
  /** extra or overriding GPUs (decide's --gpu-file), so a plan's current_gpu may name one of them */
  readonly gpuFile?: string | undefined;
}

/** Most problems one check lists (a plan with thousands of bad entries needs the first few fixed first). */
const MAX_PROBLEMS = 50;

/** Check a plan file: every problem with its line, each one printable line (user keys and values escaped). */
export function checkPlan(file: string, opts: CheckOptions = {}): CheckResult {
  // size, folder, device, encoding: one line and exit 2 before any parsing (a 50 MB plan is refused at once)
  const text = readTextFile(file, "plan", LIMITS.planBytes);
  return checkPlanText(text, file, opts);
}

/** Check a plan given as text (an upload); `file` names it in messages and anchors its relative paths. */
export function checkPlanText(text: string, file: string, opts: CheckOptions = {}): CheckResult {
  if (Buffer.byteLength(text) > LIMITS.planBytes) throw new FitlabInputError(`plan ${file} is larger than ${LIMITS.planBytes} bytes (the limit)`);
  const r = checkPlanBody(text, file, opts);
  return r.problems.length === 0 ? r : { plan: null, problems: r.problems.map((p) => ({ line: p.line, path: oneLine(p.path, 120), message: oneLine(p.message) })) };
}

function checkPlanBody(text: string, file: string, opts: CheckOptions): CheckResult {
  const problems: PlanProblem[] = [];
  const flow = flowNesting(text, LIMITS.nesting);
  if (flow.overLine >= 0) return { plan: null, problems: [{ line: flow.overLine, path: "", message: `nested more than ${LIMITS.nesting} levels deep (the limit)` }] };
  // fast path: a cached parse without positions; only a plan with problems is re-read for line numbers
  let fast: unknown = undefined;
  try {
    fast = parseYamlCached(text);
    if (valueDepth(fast, LIMITS.nesting) > LIMITS.nesting) fast = undefined;
  } catch {
    fast = undefined;
  }
  const quick = fast === undefined ? null : planSchema.safeParse(fast);
  let yaml: ParsedYaml | null = null;
  const yamlOf = () => (yaml ??= parseYaml(text));
  const docOf = () => yamlOf().doc;
  if (!quick?.success) {
    const y = yamlOf();
    if (y.problem) return { plan: null, problems: [{ line: y.problem.line, path: "", message: y.problem.message }] };
  }
  const counter = { linePos: (offset: number) => yamlOf().counter.linePos(offset) };
  const raw = quick?.success ? fast : yamlOf().value;
  if (raw === null || raw === undefined) return { plan: null, problems: [{ line: 1, path: "", message: "the plan is empty" }] };
  const parsed = quick?.success ? quick : planSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues.slice(0, MAX_PROBLEMS)) {
      const path = issue.path as (string | number)[];
      problems.push({ line: lineOf(docOf(), counter, path), path: path.join("."), message: zodIssueText(issue, valueAt(raw, path)) });
    }
    return { plan: null, problems };
  }
  const count = planSize(parsed.data);
  if (count.experiments > LIMITS.planExperiments) return { plan: null, problems: [{ line: lineOf(docOf(), counter, ["tracks"]), path: "tracks", message: `the plan has ${count.experiments} experiments, above the limit of ${LIMITS.planExperiments}` }] };
  if (count.runs > LIMITS.planRuns) return { plan: null, problems: [{ line: lineOf(docOf(), counter, ["tracks"]), path: "tracks", message: `the plan expands to ${count.runs} runs (sweep values x runs), above the limit of ${LIMITS.planRuns}` }] };
  if (parsed.data.current_gpu !== undefined) {
    const catalog = loadGpuCatalog(opts.gpuFile);
    try {
      catalog.find(parsed.data.current_gpu);
    } catch (e) {
      if (!(e instanceof FitlabInputError)) throw e;
      problems.push({ line: lineOf(docOf(), counter, ["current_gpu"]), path: "current_gpu", message: e.message });
    }
  }
  const p = parsed.data;
  const experiments: PlanExperiment[] = [];
  const seen = new Set<string>();
  p.tracks.forEach((track, ti) => {
    track.experiments.forEach((ex, ei) => {
      const at = (...rest: (string | number)[]) => ["tracks", ti, "experiments", ei, ...rest];
      const report = (path: (string | number)[], message: string) => problems.push({ line: lineOf(docOf(), counter, path), path: path.join("."), message });
      const key = `${track.id}.${ex.id}`;
      if (seen.has(key)) report(at("id"), `duplicate experiment ${key}`);
      seen.add(key);
      const r = resolveExperiment(path.dirname(path.resolve(file)), track, ex, key, report, at);
      if (r) experiments.push(r);
    });
  });
  // an evaluation's or inspection's adapter_from names a training experiment of the plan (whose newest finished
  // run gives the adapter or checkpoints; a training experiment reads none, so a chain cannot go round)
  const trains = new Set(experiments.filter((e) => e.run && e.runs.some((r) => TRAINING_KINDS.has(r.workload.kind))).map((e) => e.key));
  p.tracks.forEach((track, ti) =>
    track.experiments.forEach((ex, ei) => {
      // on a training experiment adapter_from is already reported as not applying (run-rules.ts)
      const self = `${track.id}.${ex.id}`;
      const from = experiments.some((e) => e.key === self && e.runs.some((r) => TRAINING_KINDS.has(r.workload.kind))) ? undefined : ex.run?.adapter_from;
      const where = ["tracks", ti, "experiments", ei, "run", "adapter_from"];
      const problem = (message: string) => problems.push({ line: lineOf(docOf(), counter, where), path: where.join("."), message });
      if (from === self) problem(`adapter_from names this experiment itself; name the training experiment whose runs it reads`);
      else if (from && !seen.has(from)) problem(`adapter_from names ${from}, which is no experiment of this plan`);
      else if (from && experiments.some((e) => e.key === from) && !trains.has(from)) problem(`adapter_from names ${from}, which trains nothing with a run section: name a fine-tuning experiment (qlora, lora or full) that has one`);
    }),
  );
  if (problems.length > 0) return { plan: null, problems };
  return { plan: { name: p.name, file, currentGpu: p.current_gpu ?? null, cycleMonths: p.cycle_months ?? 3, goal: p.goal ?? null, experiments }, problems };
}

function resolveExperiment(
  dir: string,
  track: { id: string; name: string; stretch?: boolean | undefined },
  ex: RawExperiment,
  key: string,
  report: (path: (string | number)[], message: string) => void,
  at: (...rest: (string | number)[]) => (string | number)[],
): PlanExperiment | null {
  const base = { key, track: track.id, trackName: track.name, id: ex.id, title: ex.title ?? ex.id, stretch: track.stretch ?? false, impact: ex.impact ?? null };
  if (ex.cpu) {
    return { ...base, cpuOnly: true, cpuHours: ex.cpu_hours ?? 0.1, model: null, modelName: null, runs: [], parallel: false, data: { tokens: 0, epochs: 0, prompts: 0 }, sweep: null, run: null };
  }
  let ok = true;
  let model: ModelSpec | null = null;
  const runSpec = ex.run ? resolveRunSpec(ex.run, dir, ex.data?.tokens ?? 0) : null;
  if (runSpec) {
    // the files `fitlab run` will read: missing ones are this plan's problem, found now rather than mid-run
    const local = runSpec.dataset && !isHubDataset(runSpec.dataset) ? runSpec.dataset : null;
    const str = (v: unknown) => (typeof v === "string" ? v : undefined);
    const files: [(string | number)[], string | undefined, string, number][] = [
      [["run", "dataset"], local?.train, "dataset", LIMITS.datasetBytes],
      [["run", "dataset", "eval"], local?.eval ?? undefined, "dataset", LIMITS.datasetBytes],
      [["run", "general_text"], str(runSpec.general_text), "general-text file", LIMITS.generalTextBytes],
      [["run", "multiple_choice"], str(runSpec.multiple_choice), "multiple-choice file", LIMITS.multipleChoiceBytes],
      [["run", "prompts"], str(runSpec.prompts), "prompt file", LIMITS.datasetBytes],
      [["run", "probe_data"], str(runSpec.probe_data), "probe data", LIMITS.datasetBytes],
    ];
    for (const [where, f, what, limit] of files) {
      if (f === undefined) continue;
      try {
        statInputFile(f, what, limit);
      } catch (e) {
        report(at(...where), (e as Error).message);
      }
    }
  }
  if (!ex.model) {
    report(at(), `experiment ${key} needs a model (or cpu: true)`);
    ok = false;
  } else {
    try {
      model = resolveModel(runSpec?.model ?? ex.model);
    } catch (e) {
      report(at("model"), (e as Error).message);
      ok = false;
    }
  }
  if (!ex.workload) {
    report(at(), `experiment ${key} needs a workload`);
    return null;
  }
  const base_input = ex.workload as WorkloadInput;
  const values = ex.sweep ? ex.sweep.values : Array.from({ length: ex.runs ?? 1 }, (_, i) => i + 1);
  if (ex.sweep && ex.runs !== undefined && ex.runs !== ex.sweep.values.length) report(at("runs"), `runs (${ex.runs}) disagrees with the ${ex.sweep.values.length} sweep values`);
  if (ex.sweep && !NEUTRAL_SWEEP_PARAMS.has(ex.sweep.param) && !WORKLOAD_KEYS.has(ex.sweep.param)) {
    report(at("sweep", "param"), `sweep param "${ex.sweep.param}" is neither a workload setting nor one of ${[...NEUTRAL_SWEEP_PARAMS].join(", ")}`);
    ok = false;
  }
  const runs: PlanRun[] = [];
  for (const v of values) {
    const input: Record<string, unknown> = { ...base_input };
    if (ex.sweep && WORKLOAD_KEYS.has(ex.sweep.param)) input[ex.sweep.param] = v;
    try {
      runs.push({ label: ex.sweep ? `${ex.sweep.param}=${v}` : `run ${v}`, value: ex.sweep ? v : null, workload: resolveWorkload(input as WorkloadInput) });
    } catch (e) {
      report(at("workload"), (e as Error).message);
      ok = false;
      break;
    }
  }
  const kind = runs[0]?.workload.kind;
  const training = kind !== undefined && TRAINING_KINDS.has(kind);
  // the run section says only what this kind of experiment reads (a training field on an inspection would be ignored)
  if (ok && kind && ex.run) for (const [where, message] of runSectionProblems(ex.run, kind, (s) => /^[.~/]/.test(s) || looksLocal(s))) report(at("run", ...where), message);
  // a probe job fits one probe per hidden state (engine/fitlab_worker/jobs/probe.py: embeddings + each layer) of
  // every model it reads, all in one job: its runs, when given, count those probes and must match the model
  if (ok && kind === "probe" && ex.runs !== undefined && model && ex.runs !== model.numLayers + 1) report(at("runs"), `runs (${ex.runs}) of probe experiment ${key} counts the probes one job fits, one per hidden state: ${ex.model ?? "the model"} has ${model.numLayers + 1} (embeddings + ${model.numLayers} layers); set runs: ${model.numLayers + 1} or drop it`);
  if (ok && training && !ex.data?.tokens) report(at("data"), `training experiment ${key} needs data.tokens (tokens per epoch)`);
  if (ok && kind && !training && kind !== "probe" && !ex.data?.prompts) report(at("data"), `${kind} experiment ${key} needs data.prompts`);
  if (ok && runSpec && training && !runSpec.dataset) report(at("run"), `the run section of training experiment ${key} needs a dataset (a JSONL path or a hub id)`);
  if (!ok || !model) return null;
  return {
    ...base,
    cpuOnly: false,
    cpuHours: 0,
    model,
    modelName: ex.model ?? null,
    runs,
    parallel: ex.parallel ?? false,
    data: { tokens: ex.data?.tokens ?? 0, epochs: ex.data?.epochs ?? 1, prompts: ex.data?.prompts ?? 0 },
    sweep: ex.sweep ?? null,
    run: runSpec,
  };
}

/** Load a plan or fail with one line that counts the problems and names the first. */
export function loadPlan(file: string = DEFAULT_PLAN_PATH, opts: CheckOptions = {}): Plan {
  return planOrFail(checkPlan(file, opts), file);
}

/** A plan given as text (an upload), or one line naming its first problem. */
export function loadPlanText(text: string, file: string): Plan {
  return planOrFail(checkPlanText(text, file), file);
}

function planOrFail({ plan, problems }: CheckResult, file: string): Plan {
  if (!plan) {
    const first = problems[0]!;
    throw new FitlabInputError(`plan ${file} has ${problems.length} problem${problems.length > 1 ? "s" : ""}; line ${first.line}: ${first.path ? `${first.path}: ` : ""}${first.message} (run \`fitlab plan check ${file}\` for all)`);
  }
  return plan;
}
