// The run store's questions answered as objects: one run with its findings, a comparison or sweep with
// its verdict, the stored forgetting curve, a run's series for charts. `fitlab runs ... --json` prints
// these objects and the dashboard receives the same ones.
import { emaStep, analyzeLoss, type Finding } from "./loss-curve.js";
import { forgettingFindings, type ForgettingPoint } from "./forgetting.js";
import { compareSweep, type SweepComparison } from "./sweep.js";
import { FitlabInputError } from "../errors.js";
import { checkpoints } from "../runs/checkpoints.js";
import { storedForgetting } from "../runs/forgetting-store.js";
import type { RunRecord, RunStore } from "../runs/store.js";
import { runSummary, type RunSummary } from "../runs/summary.js";
import { resolveSweep, sweepParam } from "../runs/sweeps.js";
import { readMetrics, type MetricLine } from "../runs/metrics.js";

export interface RunReport extends RunSummary {
  readonly findings: readonly Finding[];
  readonly checkpoints: readonly number[];
  readonly evals: readonly { readonly step: number; readonly eval_loss: number }[];
  /** the stored forgetting curve, when one was measured */
  readonly forgetting: ForgettingReport | null;
}

/** `fitlab runs show ID --json`. */
export function runReport(r: RunRecord): RunReport {
  // a loss curve is a training run's: an inspection or an evaluation logs no steps to read a trend from
  const a = r.kind === "train" ? analyzeLoss(readMetrics(r)) : { findings: [], evals: [] };
  return { ...runSummary(r), findings: a.findings, checkpoints: checkpoints(r).map((c) => c.step), evals: a.evals, forgetting: storedForgettingReport(r) };
}

export interface Comparison extends SweepComparison {
  /** the sweep as written in the plan and the instance compared (null when runs were named one by one) */
  readonly sweep: { readonly key: string; readonly instance: string; readonly instances: number } | null;
}

/** `fitlab runs compare [IDS...] [--sweep ID] [--param P] --json`. */
export function compareRuns(store: RunStore, o: { ids?: readonly string[]; sweep?: string; param?: string }): Comparison & { readonly runs: readonly RunRecord[] } {
  let runs: readonly RunRecord[];
  let sweep: Comparison["sweep"] = null;
  if (o.sweep) {
    const s = resolveSweep(store, o.sweep);
    runs = s.runs;
    sweep = { key: s.key, instance: s.instance, instances: s.instances };
  } else {
    if (!o.ids || o.ids.length === 0) throw new FitlabInputError("name runs to compare, or --sweep ID");
    runs = o.ids.map((i) => store.get(i));
  }
  const param = o.param ?? (sweep ? (sweepParam(runs) ?? "value") : "run");
  return { ...compareSweep(runs, param), sweep, runs };
}

export interface ForgettingReport {
  readonly run: string;
  readonly general_text: string | null;
  readonly multiple_choice: string | null;
  readonly computed_at: string | null;
  readonly points: readonly ForgettingPoint[];
  readonly findings: readonly string[];
}

/** The forgetting curve stored with a run, with its findings; null when none was measured. */
export function storedForgettingReport(r: RunRecord): ForgettingReport | null {
  const s = storedForgetting(r);
  return s && { run: r.id, general_text: s.general_text, multiple_choice: s.multiple_choice, computed_at: s.computed_at, points: s.points, findings: forgettingFindings(s.points) };
}

/** A run's metrics as columns for charts: train steps (raw and smoothed loss, LR, gradient norm, speed, memory) and evals. */
export interface RunSeries {
  readonly train: {
    readonly step: number[];
    readonly loss: (number | null)[];
    readonly smoothed: (number | null)[];
    readonly lr: (number | null)[];
    readonly grad_norm: (number | null)[];
    readonly tokens_per_s: (number | null)[];
    readonly peak_allocated_bytes: (number | null)[];
    readonly peak_reserved_bytes: (number | null)[];
    readonly cpu_rss_peak_bytes: (number | null)[];
  };
  readonly eval: { readonly step: number[]; readonly eval_loss: number[] };
}

export type SeriesLine = MetricLine & { readonly peak_allocated_bytes?: number | null; readonly peak_reserved_bytes?: number | null; readonly cpu_rss_peak_bytes?: number | null };

/** Series builder that takes lines one at a time, so a live stream and a full read smooth alike. */
export class SeriesBuilder {
  readonly series: RunSeries = { train: { step: [], loss: [], smoothed: [], lr: [], grad_norm: [], tokens_per_s: [], peak_allocated_bytes: [], peak_reserved_bytes: [], cpu_rss_peak_bytes: [] }, eval: { step: [], eval_loss: [] } };
  private ema = { m: 0, w: 0 };

  /** Add one metrics line; returns the row it became (with the smoothed loss), or null for an unknown line. */
  add(l: SeriesLine): ({ type: "train"; smoothed: number | null } & SeriesLine) | ({ type: "eval" } & SeriesLine) | null {
    const num = (x: unknown) => (typeof x === "number" && Number.isFinite(x) ? x : null);
    if (l.type === "train" && typeof l.step === "number") {
      const loss = num(l.loss);
      // the same smoothing as the loss-curve analysis (non-finite losses are left out of it)
      const smoothed = loss === null ? null : emaStep(this.ema, loss);
      const t = this.series.train;
      t.step.push(l.step);
      t.loss.push(loss);
      t.smoothed.push(smoothed);
      t.lr.push(num(l.lr));
      t.grad_norm.push(num(l.grad_norm));
      t.tokens_per_s.push(num(l.tokens_per_s));
      t.peak_allocated_bytes.push(num(l.peak_allocated_bytes));
      t.peak_reserved_bytes.push(num(l.peak_reserved_bytes));
      t.cpu_rss_peak_bytes.push(num(l.cpu_rss_peak_bytes));
      return { ...l, type: "train", smoothed };
    }
    if (l.type === "eval" && typeof l.step === "number" && num(l.eval_loss) !== null) {
      this.series.eval.step.push(l.step);
      this.series.eval.eval_loss.push(l.eval_loss!);
      return { ...l, type: "eval" };
    }
    return null;
  }
}

export function runSeries(r: RunRecord): RunSeries {
  const b = new SeriesBuilder();
  for (const l of readMetrics(r)) b.add(l);
  return b.series;
}

