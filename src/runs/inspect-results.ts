// The results of the inspection jobs as they come back from the worker (result.json of a run), checked once
// here into read-only types that the analyses, charts, CLI and dashboard read. Extra fields pass through.
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { FitlabInputError } from "../errors.js";
import type { RunRecord } from "./store.js";

const num = z.number();
const geometry = { layers: num, heads: num, kv_heads: num, head_dim: num, hidden_size: num };
// hidden and probe results use "layers" for their per-layer list and give the count as num_layers
const { layers: _count, ...geometryNoLayers } = geometry;
const perLayerGeometry = { ...geometryNoLayers, num_layers: num };
const memory = { peak_bytes: num, baseline_bytes: num, transient_bytes: num, memory_source: z.string().nullable(), device: z.string(), dtype: z.string() };

export const headStatsSchema = z.object({ layer: num, head: num, entropy: num, mean_distance: num, first_token_share: num, prev_token_share: num, self_share: num }).passthrough();
export type HeadStats = z.infer<typeof headStatsSchema>;
export const HEAD_STATS = ["entropy", "mean_distance", "first_token_share", "prev_token_share", "self_share"] as const;
export type HeadStatName = (typeof HEAD_STATS)[number];

export const attentionResultSchema = z
  .object({
    ...geometry,
    ...memory,
    prompts: num,
    tokens: num,
    prompt_tokens: z.array(num),
    chunk_rows: num,
    pool: num,
    capture: z.string(),
    heads_stats: z.array(headStatsSchema),
    maps: z.array(z.object({ prompt: num, file: z.string(), tokens_file: z.string(), tokens: num, pooled_size: num, full_heads: z.array(z.string()) }).passthrough()),
    disk_bytes: num,
  })
  .passthrough();
export type AttentionResult = z.infer<typeof attentionResultSchema>;

export const compareHeadSchema = z
  .object({ layer: num, head: num, js_divergence: num, entropy_change: num, first_token_share_change: num, prev_token_share_change: num, self_share_change: num, mean_distance_change: num })
  .passthrough();
export type CompareHead = z.infer<typeof compareHeadSchema>;
export const loraModuleSchema = z.object({ name: z.string(), module: z.string(), layer: num.nullable(), update_norm: num, head_norms: z.array(num).optional() }).passthrough();
export type LoraModuleNorm = z.infer<typeof loraModuleSchema>;
export const compareResultSchema = z
  .object({ ...geometry, ...memory, adapter: z.string(), prompts: num, tokens: num, heads: z.array(compareHeadSchema), modules: z.array(loraModuleSchema), maps: z.array(z.object({ prompt: num, base: z.string(), tuned: z.string(), tokens_file: z.string() }).passthrough()) })
  .passthrough();
export type CompareResult = z.infer<typeof compareResultSchema>;

export const outlierDimSchema = z.object({ dim: num, ratio: num, max_abs: num, prompt: num, position: num }).passthrough();
export type OutlierDim = z.infer<typeof outlierDimSchema>;
export const layerStatsSchema = z
  .object({ layer: num, mean_norm: num, norm_p05: num, median_norm: num, norm_p95: num, max_norm: num, anisotropy: num.nullable(), median_abs: num.nullable(), top_dims: z.array(outlierDimSchema), outlier_dims: z.array(outlierDimSchema) })
  .passthrough();
export type LayerStats = z.infer<typeof layerStatsSchema>;
export const lensEntrySchema = z.object({ prompt: num, positions: z.array(num), tokens: z.array(z.string()), next_tokens: z.array(z.string()), layers: z.array(z.object({ layer: num, top: z.array(z.array(z.tuple([z.string(), num]))) })) });
export type LensEntry = z.infer<typeof lensEntrySchema>;
export const hiddenResultSchema = z
  .object({
    ...perLayerGeometry,
    ...memory,
    prompts: num,
    tokens: num,
    positions: z.string(),
    stored_rows: num,
    truncated: z.boolean(),
    layers: z.array(layerStatsSchema),
    cka: z.array(z.array(num)),
    lens: z.array(lensEntrySchema),
    cka_base_tuned: z.array(num).optional(),
    max_abs_change: z.array(num).optional(),
  })
  .passthrough();
export type HiddenResult = z.infer<typeof hiddenResultSchema>;

export const probeLayerSchema = z.object({ layer: num, accuracy: num, control_accuracy: num, selectivity: num, train_accuracy: num, majority: num }).passthrough();
export type ProbeLayer = z.infer<typeof probeLayerSchema>;
export const probeResultSchema = z
  .object({
    ...perLayerGeometry,
    ...memory,
    level: z.enum(["sentence", "token"]),
    examples: num,
    points: num,
    classes: z.array(z.unknown()),
    layers: z.array(probeLayerSchema).optional(),
    checkpoints: z.array(z.object({ step: num, adapter: z.string().nullable(), layers: z.array(probeLayerSchema) })).optional(),
  })
  .passthrough();
export type ProbeResult = z.infer<typeof probeResultSchema>;

function check<T>(schema: z.ZodType<T>, raw: unknown, what: string): T {
  const r = schema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new FitlabInputError(`${what} result does not match this fitlab (${i.path.join(".")}: ${i.message}): run \`fitlab engine setup\` and inspect again`);
  }
  return r.data;
}

export const parseAttentionResult = (raw: unknown) => check(attentionResultSchema, raw, "attention");
export const parseCompareResult = (raw: unknown) => check(compareResultSchema, raw, "compare");
export const parseHiddenResult = (raw: unknown) => check(hiddenResultSchema, raw, "hidden");
export const parseProbeResult = (raw: unknown) => check(probeResultSchema, raw, "probe");

/** The result of a finished inspection (result.json in its folder). */
export function readInspectResult(run: RunRecord): Record<string, unknown> {
  const file = path.join(run.dir, "result.json");
  if (!fs.existsSync(file)) throw new FitlabInputError(`run ${run.id} has no result (status ${run.status})`);
  return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
}
