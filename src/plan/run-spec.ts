// The run section of a plan experiment, normalised once: a dataset given as a string or an object becomes
// a LocalDataset (paths resolved against the plan's folder) or a HubDataset (a Hugging Face id), with the
// experiment's data.tokens as the sample's token budget; evaluation data likewise.
import fs from "node:fs";
import path from "node:path";
import type { HubProbeData, HubPrompts, RawEvalData, RawRun } from "./schema.js";

export type { HubProbeData, HubPrompts };

/** A training dataset as the runner and the worker take it: a local JSONL file, or a hub dataset by id. */
export interface LocalDataset {
  readonly train: string;
  readonly eval?: string | null;
  readonly evalFraction: number;
}
export interface HubDataset {
  readonly hub: string;
  readonly config?: string;
  readonly split?: string;
  readonly revision?: string;
  readonly fields?: Readonly<Record<string, string>>;
  readonly select?: "all" | "first" | "sample";
  readonly examples?: number;
  /** token budget of the sample (the plan's data.tokens) */
  readonly tokens?: number;
  readonly evalSplit?: string;
  readonly evalExamples?: number;
  readonly evalFraction: number;
}
export type DatasetSpec = LocalDataset | HubDataset;

/** Text for perplexity or multiple-choice items: a local file, or rows of a hub dataset. */
export type EvalData = string | { readonly hub: string; readonly config?: string; readonly split?: string; readonly revision?: string; readonly field?: string; readonly fields?: Readonly<Record<string, string>>; readonly limit?: number; readonly max_chars?: number };

export const isHubDataset = (d: DatasetSpec): d is HubDataset => "hub" in d;

/** A string names a local file when it looks like a path (a .json/.jsonl name, ./, /, ~, or more than one "/"),
 *  otherwise a hub id (owner/name). */
export function looksLocal(s: string): boolean {
  return /^[.~/]/.test(s) || /\.(jsonl?|txt)$/i.test(s) || s.split("/").length > 2 || fs.existsSync(s);
}

/** A plan's run section with every path absolute and every dataset normalised. */
export interface RunSpec {
  readonly model?: string;
  readonly modelRevision?: string;
  readonly dataset: DatasetSpec | null;
  readonly adapterFrom?: string;
  readonly learning_rate?: number;
  readonly schedule?: "linear" | "cosine" | "constant";
  readonly warmup_steps?: number;
  readonly max_steps?: number;
  readonly epochs?: number;
  readonly eval_every?: number;
  readonly checkpoint_every?: number;
  readonly seed?: number;
  readonly device?: "auto" | "cpu" | "cuda";
  readonly general_text: EvalData | null;
  readonly multiple_choice: EvalData | null;
  // the worker's lean options (fitlab run --packing/--loss/--loss-chunk/--grad-ckpt/--optimizer/--kernels/--compile)
  readonly packing?: boolean;
  readonly loss?: "auto" | "standard" | "chunked" | "fused";
  readonly loss_chunk_tokens?: number;
  readonly grad_ckpt?: "none" | "full" | "offload";
  readonly optimizer?: "adamw" | "adamw-fused" | "adamw8bit" | "paged-adamw8bit";
  readonly kernels?: "auto" | "none" | "liger";
  readonly compile?: boolean;
  // Tracks B and C (`fitlab inspect`): prompts for attention/hidden, an adapter folder (absolute) or training
  // run id, labelled probe data, a training run whose checkpoints a probe follows, which inspection to run
  /** a prompt file (absolute), or prompts from a hub text set */
  readonly prompts?: string | HubPrompts;
  readonly adapter?: string;
  /** a labelled JSONL file (absolute), or labelled rows of a hub set */
  readonly probe_data?: string | HubProbeData;
  readonly probe_run?: string;
  readonly inspect?: "attention" | "compare" | "hidden" | "probe";
}

function evalData(d: RawEvalData | undefined, abs: (p: string) => string): EvalData | null {
  if (d === undefined) return null;
  if (typeof d === "string") return looksLocal(d) ? abs(d) : { hub: d };
  return d;
}

/** A file beside the plan (made absolute), a hub id given as a string, or a hub object as written. */
function hubOrFile<T extends { hub: string }>(v: string | T, abs: (p: string) => string): string | T | { hub: string } {
  if (typeof v !== "string") return v;
  return looksLocal(v) ? abs(v) : { hub: v };
}

export function resolveRunSpec(r: RawRun, dir: string, dataTokens: number): RunSpec {
  const abs = (p: string) => path.resolve(dir, p.replace(/^~(?=\/)/, process.env.HOME ?? "~"));
  let dataset: DatasetSpec | null = null;
  const d = r.dataset;
  if (typeof d === "string") dataset = looksLocal(d) ? { train: abs(d), eval: null, evalFraction: 0.1 } : { hub: d, evalFraction: 0.1, ...(dataTokens > 0 ? { tokens: dataTokens } : {}) };
  else if (d && "train" in d) dataset = { train: abs(d.train), eval: d.eval ? abs(d.eval) : null, evalFraction: d.eval_fraction ?? 0.1 };
  else if (d) {
    dataset = {
      hub: d.hub,
      evalFraction: d.eval_fraction ?? 0.1,
      ...(d.config !== undefined ? { config: d.config } : {}),
      ...(d.split !== undefined ? { split: d.split } : {}),
      ...(d.revision !== undefined ? { revision: d.revision } : {}),
      ...(d.fields !== undefined ? { fields: d.fields } : {}),
      ...(d.select !== undefined ? { select: d.select } : {}),
      ...(d.examples !== undefined ? { examples: d.examples } : {}),
      // the sample is sized to the experiment's tokens per epoch unless the run names a count
      ...(d.tokens !== undefined ? { tokens: d.tokens } : d.examples === undefined && d.select !== "all" && dataTokens > 0 ? { tokens: dataTokens } : {}),
      ...(d.eval_split !== undefined ? { evalSplit: d.eval_split } : {}),
      ...(d.eval_examples !== undefined ? { evalExamples: d.eval_examples } : {}),
    };
  }
  const model = r.model && (r.model.startsWith(".") || r.model.startsWith("/") || r.model.startsWith("~")) ? abs(r.model) : r.model;
  const { dataset: _d, general_text: _g, multiple_choice: _m, model: _model, model_revision, adapter_from, prompts, adapter, probe_data, ...rest } = r;
  // an adapter is a folder (a path beside the plan) or a training run id
  const adapterPath = adapter && (/^[.~/]/.test(adapter) || fs.existsSync(path.resolve(dir, adapter))) ? abs(adapter) : adapter;
  return {
    ...rest,
    ...(prompts ? { prompts: hubOrFile(prompts, abs) } : {}),
    ...(probe_data ? { probe_data: hubOrFile(probe_data, abs) } : {}),
    ...(adapterPath ? { adapter: adapterPath } : {}),
    ...(model ? { model } : {}),
    ...(model_revision ? { modelRevision: model_revision } : {}),
    ...(adapter_from ? { adapterFrom: adapter_from } : {}),
    dataset,
    general_text: evalData(r.general_text, abs),
    multiple_choice: evalData(r.multiple_choice, abs),
  };
}
