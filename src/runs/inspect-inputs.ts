// Check the inputs of an inspection before anything is written: prompt files (one prompt per line, or JSONL
// with "text"/"prompt") and labelled probe data (JSONL {"text","label"} or {"tokens","labels"}). Same rules as
// the worker (engine/fitlab_worker/interp/inputs.py); what only the model can tell (token counts against the
// context, adapter shapes) the worker checks, and the run is then removed.
import { FitlabInputError } from "../errors.js";
import { LIMITS } from "../input/limits.js";
import { readTextFile } from "../input/read.js";
import { shown } from "../input/shown.js";

/** The lines of a prompt file or probe data: a regular file under the size limit, UTF-8 without NUL bytes,
 *  no line above the per-example limit (the worker reads the whole file into memory). */
function readLines(file: string, what: string): string[] {
  const lines = readTextFile(file, what, LIMITS.inspectInputBytes).split(/\r?\n/);
  lines.forEach((l, i) => {
    if (l.length > LIMITS.inspectLineBytes) throw new FitlabInputError(`${what} ${file} line ${i + 1}: longer than the ${LIMITS.inspectLineBytes / 2 ** 20} MiB limit for one example`);
  });
  return lines;
}

/** The prompts of a prompt file (non-empty lines, or the text of each JSONL line). */
export function readPrompts(file: string): string[] {
  const lines = readLines(file, "prompt file");
  const jsonl = file.endsWith(".jsonl");
  const prompts: string[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    if (!jsonl) return void prompts.push(line);
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch {
      throw new FitlabInputError(`prompt file ${file} line ${i + 1} is not valid JSON`);
    }
    const o = r as Record<string, unknown> | string;
    const text = typeof o === "string" ? o : typeof o === "object" && o !== null ? (typeof o.text === "string" ? o.text : o.prompt) : undefined;
    if (typeof text !== "string" || !text.trim()) throw new FitlabInputError(`prompt file ${file} line ${i + 1} needs a non-empty "text" (or "prompt") string`);
    prompts.push(text);
  });
  if (prompts.length === 0) throw new FitlabInputError(`prompt file ${file} has no prompts: give one prompt per line (or JSONL with "text")`);
  return prompts;
}

export interface ProbeDataSummary {
  readonly level: "sentence" | "token";
  readonly examples: number;
  readonly classes: readonly string[];
}

export function checkProbeData(file: string): ProbeDataSummary {
  const lines = readLines(file, "probe data");
  let level: ProbeDataSummary["level"] | null = null;
  let examples = 0;
  const classes = new Set<string>();
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const n = i + 1;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch {
      throw new FitlabInputError(`probe data ${file} line ${n} is not valid JSON`);
    }
    const o = (typeof r === "object" && r !== null && !Array.isArray(r) ? r : {}) as Record<string, unknown>;
    let kind: ProbeDataSummary["level"];
    if (typeof o.text === "string" && "label" in o) {
      kind = "sentence";
      if (!o.text.trim()) throw new FitlabInputError(`probe data ${file} line ${n} has an empty text`);
      if (o.label === null || typeof o.label === "object") throw new FitlabInputError(`probe data ${file} line ${n}: "label" must be text, a number or true/false, found ${shown(o.label)}`);
      classes.add(JSON.stringify(o.label));
    } else if (Array.isArray(o.tokens) && Array.isArray(o.labels)) {
      kind = "token";
      if (o.tokens.length === 0 || o.tokens.length !== o.labels.length) throw new FitlabInputError(`probe data ${file} line ${n}: tokens and labels must be non-empty lists of the same length`);
      if (!o.tokens.every((t) => typeof t === "string" && t.trim() !== "" && !/\s/.test(t))) throw new FitlabInputError(`probe data ${file} line ${n}: every token must be a non-empty string without spaces`);
      for (const l of o.labels) {
        if (l === null || typeof l === "object") throw new FitlabInputError(`probe data ${file} line ${n}: every label must be text, a number or true/false, found ${shown(l)}`);
        classes.add(JSON.stringify(l));
      }
    } else {
      throw new FitlabInputError(`probe data ${file} line ${n} needs {"text","label"} or {"tokens":[...],"labels":[...]}`);
    }
    if (level && kind !== level) throw new FitlabInputError(`probe data ${file} line ${n} is ${kind}-level but earlier lines are ${level}-level: use one kind per file`);
    level = kind;
    examples++;
  });
  if (!level) throw new FitlabInputError(`probe data ${file} is empty`);
  if (classes.size < 2) throw new FitlabInputError(`probe data ${file} has a single class (${shown(JSON.parse([...classes][0]!) as unknown)}): a probe needs at least two labels`);
  if (examples < 4) throw new FitlabInputError(`probe data ${file} has ${examples} examples: a held-out split needs at least 4`);
  return { level, examples, classes: [...classes].sort() };
}

/** LAYER.HEAD list ("3.7,12.0") or "all". */
export function parseHeadList(spec: string | undefined): string[] | "all" | null {
  if (spec === undefined || spec === "") return null;
  if (spec === "all") return "all";
  const heads = spec.split(",").map((h) => h.trim()).filter(Boolean);
  for (const h of heads) if (!/^\d+\.\d+$/.test(h)) throw new FitlabInputError(`--heads takes LAYER.HEAD items like 3.7 (comma-separated) or "all", got "${h}"`);
  return heads;
}
