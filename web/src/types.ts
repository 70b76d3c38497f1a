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
