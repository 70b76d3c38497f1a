// The attention maps an inspection run kept, one head at a time: the attention job's pooled map of each kept
// prompt (and the full-resolution map of each named head), the compare job's base and fine-tuned pooled maps.
// Only the head asked for is read from its file (readTensorBlock), so opening a head of a 28 x 28-head model
// costs one 128 x 128 block, not the prompt's whole [layer, head, query, key] tensor.
import fs from "node:fs";
import { mapDifference } from "../analyze/finetune-diff.js";
import { FitlabInputError } from "../errors.js";
import { parseAttentionResult, parseCompareResult } from "./inspect-results.js";
import type { RunRecord } from "./store.js";
import { readTensorBlock, type Tensor } from "./tensors.js";

export const MAP_SIDES = { attention: ["attention"], compare: ["base", "tuned", "difference"] } as const;
export type MapSide = "attention" | "base" | "tuned" | "difference";
export type MapResolution = "pooled" | "full";

/** The worker names its map files maps/prompt-NNN[-base|-tuned].{safetensors,json}: anything else is refused. */
const MAP_FILE = /^maps\/prompt-\d{3,6}(-base|-tuned)?\.(safetensors|json)$/;

export interface PromptMaps {
  readonly run_id: string;
  readonly kind: "attention" | "compare";
  readonly prompt: number;
  readonly tokens: readonly string[];
  readonly layers: number;
  readonly heads: number;
  /** side of a pooled map (P = min(tokens, pool)) */
  readonly pooled_size: number;
  /** token index where each pooled bin starts, and the end: bin b covers tokens [bin_edges[b], bin_edges[b+1]) */
  readonly bin_edges: readonly number[];
  /** heads kept at full resolution, "layer.head" */
  readonly full_heads: readonly string[];
  readonly sides: readonly MapSide[];
}

export interface HeadMap {
  readonly rows: number;
  readonly cols: number;
  readonly resolution: MapResolution;
  readonly side: MapSide;
  readonly data: Float32Array;
}

interface MapEntry {
  readonly prompt: number;
  readonly tokens_file: string;
  readonly files: Partial<Record<"attention" | "base" | "tuned", string>>;
  readonly full_heads: readonly string[];
}

/** A file of the run named by its result, checked against the worker's naming; the caller confines it. */
export type FileCheck = (file: string) => string;

function entryOf(run: RunRecord, raw: Record<string, unknown>, prompt: number): { entry: MapEntry; layers: number; heads: number } {
  let entries: MapEntry[];
  let layers: number;
  let heads: number;
  if (run.kind === "attention") {
    const r = parseAttentionResult(raw);
    entries = r.maps.map((m) => ({ prompt: m.prompt, tokens_file: m.tokens_file, files: { attention: m.file }, full_heads: m.full_heads }));
    layers = r.layers;
    heads = r.heads;
  } else if (run.kind === "compare") {
    const r = parseCompareResult(raw);
    entries = r.maps.map((m) => ({ prompt: m.prompt, tokens_file: m.tokens_file, files: { base: m.base, tuned: m.tuned }, full_heads: [] }));
    layers = r.layers;
    heads = Math.max(0, ...r.heads.map((h) => h.head)) + 1;
  } else throw new FitlabInputError(`${run.kind} runs keep no attention maps`);
  const entry = entries.find((e) => e.prompt === prompt);
  if (!entry) throw new FitlabInputError(`run ${run.id} kept no maps of prompt ${prompt}${entries.length ? ` (prompts with maps: ${entries.map((e) => e.prompt).join(", ")})` : " (it kept none: --map-prompts 0)"}`);
  for (const f of [entry.tokens_file, ...Object.values(entry.files)]) if (!MAP_FILE.test(f!)) throw new FitlabInputError(`run ${run.id} names a map file "${f}" that the worker does not write`);
  return { entry, layers, heads };
}

/** Token index where each of P pooled bins starts, then T. The worker puts token t in bin floor(t * P / T)
 *  (engine/fitlab_worker/interp/attention.py, PromptRecorder: `_bins = arange(T) * P // T`), so bin b starts
 *  at the first t with t * P >= b * T, that is ceil(b * T / P). */
export function binEdges(tokens: number, pooled: number): number[] {
  return Array.from({ length: pooled + 1 }, (_, b) => Math.ceil((b * tokens) / pooled));
}

export function promptMaps(run: RunRecord, raw: Record<string, unknown>, prompt: number, file: FileCheck): PromptMaps {
  const { entry, layers, heads } = entryOf(run, raw, prompt);
  const t = JSON.parse(fs.readFileSync(file(entry.tokens_file), "utf8")) as { tokens?: unknown; pooled_size?: unknown };
  if (!Array.isArray(t.tokens) || typeof t.pooled_size !== "number") throw new FitlabInputError(`${entry.tokens_file} of run ${run.id} has no tokens and pooled_size`);
  const tokens = t.tokens.map(String);
  return {
    run_id: run.id,
    kind: run.kind as "attention" | "compare",
    prompt,
    tokens,
    layers,
    heads,
    pooled_size: t.pooled_size,
    bin_edges: binEdges(tokens.length, t.pooled_size),
    full_heads: entry.full_heads,
    sides: run.kind === "attention" ? MAP_SIDES.attention : MAP_SIDES.compare,
  };
}

export interface HeadMapQuery {
  readonly prompt: number;
  readonly layer: number;
  readonly head: number;
  readonly side: MapSide;
  readonly resolution: MapResolution;
}

export function headMap(run: RunRecord, raw: Record<string, unknown>, q: HeadMapQuery, file: FileCheck): HeadMap {
  const { entry, layers, heads } = entryOf(run, raw, q.prompt);
  if (q.layer >= layers) throw new FitlabInputError(`layer ${q.layer} is out of range: the model has ${layers} layers (0-${layers - 1})`);
  if (q.head >= heads) throw new FitlabInputError(`head ${q.head} is out of range: the model has ${heads} heads per layer (0-${heads - 1})`);
  const sides: readonly MapSide[] = run.kind === "attention" ? MAP_SIDES.attention : MAP_SIDES.compare;
  if (!sides.includes(q.side)) throw new FitlabInputError(`side must be ${sides.join(", ")} for ${run.kind === "attention" ? "an attention" : "a compare"} run, got "${q.side}"`);
  const read = (side: "attention" | "base" | "tuned", name: string, index: number[]): Tensor => readTensorBlock(file(entry.files[side]!), name, index);
  let t: Tensor;
  if (q.resolution === "full") {
    const key = `${q.layer}.${q.head}`;
    if (!entry.full_heads.includes(key)) throw new FitlabInputError(`head ${key} was not kept at full resolution for prompt ${q.prompt} (full-resolution heads: ${entry.full_heads.join(", ") || "none; name them with --heads"})`);
    t = read("attention", `full.${key}`, []);
  } else if (q.side === "difference") {
    const base = read("base", "pooled", [q.layer, q.head]);
    const tuned = read("tuned", "pooled", [q.layer, q.head]);
    t = { shape: base.shape, data: mapDifference(base.data, tuned.data) };
  } else t = read(q.side === "attention" ? "attention" : q.side, "pooled", [q.layer, q.head]);
  if (t.shape.length !== 2) throw new FitlabInputError(`the map of head ${q.layer}.${q.head} in run ${run.id} is not a matrix (shape ${t.shape.join(" x ")})`);
  return { rows: t.shape[0]!, cols: t.shape[1]!, resolution: q.resolution, side: q.side, data: t.data };
}
