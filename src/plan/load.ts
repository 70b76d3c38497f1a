// Load and check a lab plan. Every problem is reported at once, each with its line; a plan that loads
// is resolved into read-only experiments the decision and the runner read.
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import type { LineCounter, Node, parseDocument } from "yaml";
import { parseYamlCached, yamlLib } from "../data/yaml-cache.js";
import { FitlabInputError } from "../errors.js";
import { resolveModel } from "../spec/catalog.js";
import type { ModelSpec } from "../spec/types.js";
import { resolveWorkload, workloadInputSchema, type WorkloadInput } from "../workload/resolve.js";
import type { Workload } from "../workload/types.js";
import path from "node:path";
import { resolveRunSpec, type RunSpec } from "./run-spec.js";
import { planSchema, type RawExperiment } from "./schema.js";

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

function lineOf(doc: ReturnType<typeof parseDocument>, counter: LineCounter, path: readonly (string | number)[]): number {
  let node: unknown = doc.contents;
  let best = 1;
  for (const key of path) {
    const n = node as Node | null;
    if (n && "range" in n && n.range) best = counter.linePos(n.range[0]).line;
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

export function checkPlan(file: string): CheckResult {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new FitlabInputError(`cannot read plan ${file}`);
  }
  return checkPlanText(text, file);
}

/** Check a plan given as text (an upload); `file` names it in messages and anchors its relative paths. */
export function checkPlanText(text: string, file: string): CheckResult {
  // fast path: a cached parse without positions; only a plan with problems is re-read for line numbers
  let fast: unknown = undefined;
  try {
    fast = parseYamlCached(text);
  } catch {
    fast = undefined;
  }
  const quick = fast === undefined ? null : planSchema.safeParse(fast);
  // the yaml package loads only for a plan with problems (line numbers) or one not parsed before
  let counterCache: LineCounter | null = null;
  const counterOf = () => (counterCache ??= new (yamlLib().LineCounter)());
  let docCache: ReturnType<typeof parseDocument> | null = null;
  const docOf = () => (docCache ??= yamlLib().parseDocument(text, { lineCounter: counterOf(), prettyErrors: false }));
  const problems: PlanProblem[] = [];
  if (!quick?.success) {
    for (const e of docOf().errors) problems.push({ line: e.linePos?.[0]?.line ?? 1, path: "", message: `YAML: ${e.message.split("\n")[0]}` });
    if (problems.length > 0) return { plan: null, problems };
  }
  const raw = quick?.success ? fast : docOf().toJS();
  const parsed = quick?.success ? quick : planSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path as (string | number)[];
      problems.push({ line: lineOf(docOf(), counterOf(), path), path: path.join("."), message: issue.message });
    }
    return { plan: null, problems };
  }
  const p = parsed.data;
  const experiments: PlanExperiment[] = [];
  const seen = new Set<string>();
  p.tracks.forEach((track, ti) => {
    track.experiments.forEach((ex, ei) => {
      const at = (...rest: (string | number)[]) => ["tracks", ti, "experiments", ei, ...rest];
      const report = (path: (string | number)[], message: string) => problems.push({ line: lineOf(docOf(), counterOf(), path), path: path.join("."), message });
      const key = `${track.id}.${ex.id}`;
      if (seen.has(key)) report(at("id"), `duplicate experiment ${key}`);
      seen.add(key);
      const r = resolveExperiment(path.dirname(path.resolve(file)), track, ex, key, report, at);
      if (r) experiments.push(r);
    });
  });
  // an evaluation's adapter_from names another experiment of the plan
  p.tracks.forEach((track, ti) =>
    track.experiments.forEach((ex, ei) => {
      const from = ex.run?.adapter_from;
      if (from && !seen.has(from)) problems.push({ line: lineOf(docOf(), counterOf(), ["tracks", ti, "experiments", ei, "run", "adapter_from"]), path: `tracks.${ti}.experiments.${ei}.run.adapter_from`, message: `adapter_from names ${from}, which is no experiment of this plan` });
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
  const training = kind === "full" || kind === "lora" || kind === "qlora";
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
export function loadPlan(file: string = DEFAULT_PLAN_PATH): Plan {
  return planOrFail(checkPlan(file), file);
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
