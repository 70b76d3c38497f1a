// What a plan's run section may say, given the experiment's workload: a training run takes a dataset and
// optimisation settings, an inspection (Tracks B and C) prompts, probe data or an adapter, an evaluation the
// files it measures and the training experiment it follows. A field that the kind of experiment would ignore
// is a problem of the plan, reported at its line, as flags that do not apply are errors on the command line.
import { shownString } from "../input/shown.js";
import type { WorkloadKind } from "../workload/types.js";
import type { RawRun } from "./schema.js";

export type RunKind = "training" | "inspection" | "evaluation";

const TRAINING_FIELDS = ["dataset", "learning_rate", "schedule", "warmup_steps", "max_steps", "epochs", "eval_every", "checkpoint_every", "packing", "loss", "loss_chunk_tokens", "grad_ckpt", "optimizer", "kernels", "compile"] as const;
const INSPECTION_FIELDS = ["prompts", "adapter", "probe_data", "probe_run", "inspect"] as const;
const FORGETTING_FIELDS = ["general_text", "multiple_choice"] as const;

/** The inspections each extraction workload can be. */
const INSPECTIONS: Partial<Record<WorkloadKind, readonly string[]>> = {
  attention_extract: ["attention", "compare"],
  hidden_extract: ["hidden"],
  probe: ["probe"],
};

/** A hub id as the worker takes it (owner/name, or a bare name). */
export const HUB_ID = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/;

/** Whether `s` can be a hub id as the worker takes it (bare names too, unlike spec/hub.ts isHubId): the pattern, and no ".." (a repository name never climbs folders). */
export const isHubName = (s: string): boolean => HUB_ID.test(s) && !s.includes("..");

export function runKindOf(kind: WorkloadKind): RunKind {
  if (kind === "full" || kind === "lora" || kind === "qlora") return "training";
  if (kind in INSPECTIONS) return "inspection";
  return "evaluation";
}

/** Problems of a run section: [field path under `run`, message]. `isLocal` tells a path from a hub id. */
export function runSectionProblems(r: RawRun, kind: WorkloadKind, isLocal: (s: string) => boolean): [string[], string][] {
  const out: [string[], string][] = [];
  const has = (k: keyof RawRun) => r[k] !== undefined;
  const runKind = runKindOf(kind);
  const refuse = (fields: readonly (keyof RawRun)[], why: string) => {
    for (const f of fields) if (has(f)) out.push([[f], `${f} applies to ${why}, not to this ${kind} experiment`]);
  };
  if (runKind !== "training") refuse(TRAINING_FIELDS, "training experiments (full, lora, qlora)");
  if (runKind !== "inspection") refuse(INSPECTION_FIELDS, "inspections (attention_extract, hidden_extract, probe)");
  if (runKind === "inspection") refuse(FORGETTING_FIELDS, "training and evaluation experiments (forgetting)");
  if (runKind === "training") refuse(["adapter_from"], "evaluation experiments and inspections (the training experiment whose newest run they read)");
  if (runKind === "evaluation" && !has("general_text") && !has("multiple_choice")) out.push([[], `the run section of ${kind} experiment needs general_text or multiple_choice (what it measures)`]);
  if (runKind === "inspection") {
    const allowed = INSPECTIONS[kind]!;
    // a wrong inspect is the one problem: what it would need next follows from a choice the plan cannot have
    if (r.inspect !== undefined && !allowed.includes(r.inspect)) return [...out, [["inspect"], `an experiment of workload ${kind} runs ${allowed.join(" or ")}, not ${r.inspect}`]];
    const inspect = r.inspect ?? allowed[0];
    if (inspect === "probe") {
      if (has("prompts")) out.push([["prompts"], "prompts are for attention and hidden-state inspections; a probe reads probe_data"]);
      if (!has("probe_data")) out.push([[], "the run section of a probe needs probe_data (labelled JSONL)"]);
    } else {
      if (has("probe_data")) out.push([["probe_data"], `probe_data is for probes; ${inspect} reads prompts`]);
      if (has("probe_run")) out.push([["probe_run"], `probe_run is for probes, not ${inspect}`]);
      if (!has("prompts")) out.push([[], `the run section of ${inspect} needs prompts (one prompt per line, or JSONL with "text")`]);
    }
    if (inspect === "compare" && !has("adapter") && !has("adapter_from")) out.push([[], "compare needs adapter (an adapter folder or a training run id) or adapter_from (a training experiment)"]);
    if (has("probe_run") && has("adapter")) out.push([["probe_run"], "probe_run probes every checkpoint of a run; adapter probes one adapter: give one of them"]);
    if (has("adapter_from") && (has("adapter") || has("probe_run"))) out.push([["adapter_from"], `adapter_from reads the newest run of a training experiment; ${has("adapter") ? "adapter" : "probe_run"} names one already: give one of them`]);
  }
  if (runKind === "training") {
    if (r.loss_chunk_tokens !== undefined && (r.loss === "standard" || r.loss === "fused")) out.push([["loss_chunk_tokens"], `loss_chunk_tokens sets the chunk of the chunked loss, not of loss ${r.loss}`]);
    if (r.device === "cpu" && r.loss === "fused") out.push([["loss"], "loss fused runs Liger's Triton kernel on a CUDA GPU: with device cpu use chunked (or auto)"]);
    if (r.device === "cpu" && r.kernels === "liger") out.push([["kernels"], "kernels liger are Triton kernels for a CUDA GPU: with device cpu use none (or auto)"]);
  }
  const d = r.dataset;
  if (typeof d === "string" && !isLocal(d) && !isHubName(d)) out.push([["dataset"], `${shownString(d)} is neither a JSONL path nor a Hugging Face dataset id (owner/name)`]);
  if (d && typeof d === "object" && "hub" in d) {
    if (d.select === "all" && (d.examples !== undefined || d.tokens !== undefined)) out.push([["dataset", "select"], "select all takes every row: examples and tokens size a sample (select first or sample)"]);
    if (d.eval_split !== undefined && d.eval_fraction !== undefined) out.push([["dataset", "eval_fraction"], "eval_fraction splits the training split when there is no eval_split: give one of them"]);
    if (d.eval_examples !== undefined && d.eval_split === undefined) out.push([["dataset", "eval_examples"], "eval_examples sizes the eval_split: give eval_split too"]);
  }
  if (r.model !== undefined && !isLocal(r.model) && !isHubName(r.model)) out.push([["model"], `${shownString(r.model)} is neither a model folder nor a Hugging Face id (owner/name)`]);
  return out;
}
