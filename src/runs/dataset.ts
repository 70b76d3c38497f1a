// Check a training dataset before a run starts, so bad data never leaves a half-made run behind.
// Same rules as the worker (engine/fitlab_worker/data.py): JSONL of text, prompt/completion or messages.
import fs from "node:fs";
import { FitlabInputError } from "../errors.js";
import { isHubDataset, type DatasetSpec, type HubDataset } from "../plan/run-spec.js";

export { isHubDataset, looksLocal, type DatasetSpec, type EvalData, type HubDataset, type LocalDataset } from "../plan/run-spec.js";

export type DatasetFormat = "text" | "prompt_completion" | "messages";

export function checkDataset(file: string): { format: DatasetFormat; records: number } {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new FitlabInputError(`dataset ${file} does not exist`);
  }
  let format: DatasetFormat | null = null;
  let records = 0;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch {
      throw new FitlabInputError(`dataset ${file} line ${i + 1} is not valid JSON: fix or remove that line`);
    }
    if (typeof r !== "object" || r === null || Array.isArray(r)) throw new FitlabInputError(`dataset ${file} line ${i + 1} is not a JSON object`);
    const o = r as Record<string, unknown>;
    const kind: DatasetFormat | null = Array.isArray(o.messages) ? "messages" : typeof o.prompt === "string" && typeof o.completion === "string" ? "prompt_completion" : typeof o.text === "string" ? "text" : null;
    if (!kind) throw new FitlabInputError(`dataset ${file} line ${i + 1} has no text field: give "text", "prompt"+"completion", or "messages"`);
    if (format && kind !== format) throw new FitlabInputError(`dataset ${file} line ${i + 1} is ${kind} but earlier lines are ${format}: use one format per file`);
    format = kind;
    records++;
  }
  if (!format) throw new FitlabInputError(`dataset ${file} is empty: it needs at least one JSON line`);
  return { format, records };
}

/** The worker's form of a dataset (snake_case keys, absolute paths). */
export function datasetForWorker(d: DatasetSpec, resolvePath: (p: string) => string): Record<string, unknown> {
  if (!isHubDataset(d)) return { train: resolvePath(d.train), eval: d.eval ? resolvePath(d.eval) : null, eval_fraction: d.evalFraction };
  const out: Record<string, unknown> = { hub: d.hub, eval_fraction: d.evalFraction };
  const keys: [keyof HubDataset, string][] = [["config", "config"], ["split", "split"], ["revision", "revision"], ["fields", "fields"], ["select", "select"], ["examples", "examples"], ["tokens", "tokens"], ["evalSplit", "eval_split"], ["evalExamples", "eval_examples"]];
  for (const [k, w] of keys) if (d[k] !== undefined) out[w] = d[k];
  return out;
}

/** Check what can be checked before a run starts: a local file's lines; a hub id's shape (the worker fetches it). */
export function checkDatasetSpec(d: DatasetSpec): void {
  if (isHubDataset(d)) return;
  checkDataset(d.train);
  if (d.eval) checkDataset(d.eval);
}
