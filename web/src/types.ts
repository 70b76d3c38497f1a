// The shapes the server sends (the CLI's --json objects), as far as the pages read them.
export type RunKind = "train" | "evaluate" | "attention" | "compare" | "hidden" | "probe";
export const RUN_KINDS: readonly RunKind[] = ["train", "evaluate", "attention", "compare", "hidden", "probe"];
export const SHOWN_STATUSES = ["running", "interrupted", "done", "failed", "oom"] as const;

export interface RunSummary {
  id: string;
  kind: RunKind;
  name: string;
  status: string;
  experiment: string | null;
  sweep: string | null;
  sweep_instance: string | null;
  sweep_value: string | null;
  parent_run: string | null;
  model: string;
  method: string;
  created_at: string;
  finished_at: string | null;
  steps: number | null;
  device: string | null;
  eval_loss: { initial: number | null; final: number | null; best: number | null };
  memory: { predicted_allocated_bytes: number | null; measured_allocated_bytes: number | null; predicted_reserved_bytes: number | null; measured_reserved_bytes: number | null };
  tokens_per_s: { predicted: number | null; measured: number | null };
  error: { kind: string | null; message: string; suggestion: string | null } | null;
}

export interface RunReport extends RunSummary {
  findings: { kind: string; step: number | null; message: string }[];
  checkpoints: number[];
  forgetting: ForgettingReport | null;
}

export interface RunSeries {
  train: { step: number[]; loss: (number | null)[]; smoothed: (number | null)[]; lr: (number | null)[]; grad_norm: (number | null)[]; tokens_per_s: (number | null)[]; peak_allocated_bytes: (number | null)[]; peak_reserved_bytes: (number | null)[]; cpu_rss_peak_bytes: (number | null)[] };
  eval: { step: number[]; eval_loss: number[] };
}

export type SeriesRow =
  | { type: "train"; step: number; loss?: number; smoothed: number | null; lr?: number; grad_norm?: number; tokens_per_s?: number; peak_allocated_bytes?: number | null; peak_reserved_bytes?: number | null; cpu_rss_peak_bytes?: number | null }
  | { type: "eval"; step: number; eval_loss: number };

export interface Comparison {
  param: string;
  rows: { run: string; value: string; status: string; final_eval_loss: number | null; best_eval_loss: number | null; predicted_allocated_bytes: number | null; measured_allocated_bytes: number | null; measured_tokens_per_s: number | null }[];
  verdict: string[];
  sweep: { key: string; instance: string; instances: number } | null;
}

export interface SweepSummary {
  key: string;
  instance: string;
  runs: number;
  param: string | null;
  values: string[];
  started_at: string;
}

export interface ForgettingReport {
  run: string;
  points: { step: number; perplexity: number | null; mc_accuracy: number | null }[];
  findings: string[];
}

export interface Estimate {
  model: string;
  gpu: string;
  gpu_usable_bytes: number;
  workload: { kind: string; seqLen: number; batch: number; gradAccum: number; quant: string; computeDtype: string; optimizer: string; gradCkpt: string; attn: string; loss: string; engine: string; lora: { rank: number; alpha: number } | null; packed: boolean };
  peak: { allocated_bytes: number; reserved_bytes: number; device_bytes: number; low_bytes: number; high_bytes: number; minimum_device_bytes: number; phase: string };
  components: Record<string, number>;
  paged_host_bytes: number;
  fits: boolean;
  headroom_bytes: number;
  tokens_per_s: number;
  step_seconds: number;
  total_seconds: number | null;
  bottleneck: string;
  warnings: string[];
}

export interface FitAnswer {
  model: string;
  gpu: string;
  fits_as_is: boolean;
  baseline: { device_bytes: number; minimum_device_bytes: number; usable_bytes: number };
  cheapest: { changes: string[]; descriptions: string[]; cost: string; settings: Estimate["workload"]; device_bytes: number; tokens_per_s: number } | null;
  alternatives: { changes: string[]; cost: string; device_bytes: number; tokens_per_s: number }[];
  max_seq_len: number | null;
  max_batch: number | null;
}

export interface Gpu {
  name: string;
  usableBytes: number;
}

// ---- Inspect: `fitlab inspect ... --json` (= `fitlab inspect show ID --json`, GET /api/runs/:id/inspect) ----
export type HeadStatName = "entropy" | "mean_distance" | "first_token_share" | "prev_token_share" | "self_share";
export const HEAD_STATS: readonly HeadStatName[] = ["entropy", "mean_distance", "first_token_share", "prev_token_share", "self_share"];

export interface InspectCommon {
  run_id: string;
  kind: "attention" | "compare" | "hidden" | "probe";
  findings: string[];
  device: string;
  dtype: string;
  peak_bytes: number;
  transient_bytes: number;
  memory_source: string | null;
  predicted_allocated_bytes: number | null;
  seconds?: number;
}

export type HeadStats = { layer: number; head: number } & Record<HeadStatName, number>;

export interface AttentionInspect extends InspectCommon {
  kind: "attention";
  layers: number;
  heads: number;
  kv_heads: number;
  prompts: number;
  tokens: number;
  heads_stats: HeadStats[];
  maps: { prompt: number; tokens: number; pooled_size: number; full_heads: string[] }[];
}

export interface CompareHead {
  layer: number;
  head: number;
  js_divergence: number;
  entropy_change: number;
  mean_distance_change: number;
  first_token_share_change: number;
  prev_token_share_change: number;
  self_share_change: number;
  base_entropy?: number;
  base_mean_distance?: number;
  base_first_token_share?: number;
  base_prev_token_share?: number;
  base_self_share?: number;
}

export interface CompareInspect extends InspectCommon {
  kind: "compare";
  layers: number;
  prompts: number;
  adapter: string;
  heads: CompareHead[];
  modules: { name: string; module: string; layer: number | null; update_norm: number }[];
  maps: { prompt: number }[];
}

export interface OutlierDim {
  dim: number;
  ratio: number;
  max_abs: number;
  prompt: number;
  position: number;
}

export interface LayerStats {
  layer: number;
  name?: string;
  mean_norm: number;
  norm_p05: number;
  median_norm: number;
  norm_p95: number;
  max_norm: number;
  anisotropy: number | null;
  median_abs: number | null;
  outlier_dims: OutlierDim[];
}

export interface LensEntry {
  prompt: number;
  positions: number[];
  tokens: string[];
  next_tokens: string[];
  layers: { layer: number; top: [string, number][][] }[];
}

export interface HiddenInspect extends InspectCommon {
  kind: "hidden";
  num_layers: number;
  prompts: number;
  positions: string;
  layers: LayerStats[];
  cka: number[][];
  lens: LensEntry[];
  cka_base_tuned?: number[];
  base_layers?: LayerStats[];
  max_abs_change?: number[];
}

export interface ProbeLayer {
  layer: number;
  name?: string;
  accuracy: number;
  control_accuracy: number;
  selectivity: number;
  train_accuracy: number;
  majority: number;
}

export interface ProbeInspect extends InspectCommon {
  kind: "probe";
  level: "sentence" | "token";
  examples: number;
  classes: unknown[];
  layers?: ProbeLayer[];
  checkpoints?: { step: number; adapter: string | null; layers: ProbeLayer[] }[];
}

/** GET /api/runs/:id/maps/:prompt */
export interface PromptMaps {
  run_id: string;
  kind: "attention" | "compare";
  prompt: number;
  tokens: string[];
  layers: number;
  heads: number;
  pooled_size: number;
  bin_edges: number[];
  full_heads: string[];
  sides: ("attention" | "base" | "tuned" | "difference")[];
}
