// Loss-curve analysis: smoothing, spikes, divergence, plateaus and the train-eval gap, written as findings
// a learner can read. Pure functions over metrics.jsonl lines.
import type { MetricLine } from "../runs/metrics.js";

export interface Finding {
  readonly kind: "trend" | "spike" | "divergence" | "plateau" | "rising" | "gap" | "nan";
  readonly step: number | null;
  readonly message: string;
}

export interface LossAnalysis {
  readonly points: readonly { readonly step: number; readonly loss: number; readonly smoothed: number }[];
  readonly evals: readonly { readonly step: number; readonly eval_loss: number }[];
  readonly findings: readonly Finding[];
}

/** One step of the bias-corrected EMA below: folds `v` into `state` and returns the smoothed value. */
export function emaStep(state: { m: number; w: number }, v: number, alpha = 0.1): number {
  state.m = (1 - alpha) * state.m + alpha * v;
  state.w = (1 - alpha) * state.w + alpha;
  return state.m / state.w;
}

/** Exponential moving average with bias correction (as TensorBoard's smoothing, weight = 1 - alpha). */
export function ema(values: readonly number[], alpha = 0.1): number[] {
  const state = { m: 0, w: 0 };
  return values.map((v) => emaStep(state, v, alpha));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? 0 : n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(3));

export function analyzeLoss(metrics: readonly MetricLine[]): LossAnalysis {
  const train = metrics.filter((m) => m.type === "train" && typeof m.loss === "number");
  const evals = metrics.filter((m) => m.type === "eval" && typeof m.eval_loss === "number").map((m) => ({ step: m.step, eval_loss: m.eval_loss! }));
  const findings: Finding[] = [];
  const losses = train.map((m) => m.loss!);
  const bad = train.find((m) => !Number.isFinite(m.loss!));
  if (bad) findings.push({ kind: "nan", step: bad.step, message: `the loss became ${bad.loss} at step ${bad.step}: the run diverged numerically (lower the learning rate, check the data)` });
  const finite = train.filter((m) => Number.isFinite(m.loss!));
  const smooth = ema(finite.map((m) => m.loss!));
  const points = finite.map((m, i) => ({ step: m.step, loss: m.loss!, smoothed: smooth[i]! }));
  if (points.length < 3) return { points, evals, findings: [...findings, { kind: "trend", step: null, message: `only ${points.length} logged steps: too few to read a trend` }] };

  const first = smooth[0]!;
  const last = smooth.at(-1)!;
  const change = (last - first) / first;
  findings.push({ kind: "trend", step: null, message: `training loss went from ${fmt(first)} to ${fmt(last)} (${change <= 0 ? "" : "+"}${(change * 100).toFixed(0)}%, smoothed) over ${points.length} steps` });

  // spikes: a step far above the running average, measured in robust units (median absolute deviation)
  const resid = points.slice(1).map((p, i) => p.loss - smooth[i]!);
  // the median once, not once per point (quadratic: minutes for a 20,000-step run)
  const mid = median(resid);
  const mad = median(resid.map((r) => Math.abs(r - mid))) || 1e-9;
  points.slice(1).forEach((p, i) => {
    const z = (resid[i]! - mid) / (1.4826 * mad);
    if (z > 6 && p.loss > smooth[i]! * 1.2) findings.push({ kind: "spike", step: p.step, message: `loss spike at step ${p.step}: ${fmt(p.loss)} against a running average of ${fmt(smooth[i]!)} (a bad batch, or a learning rate near the edge)` });
  });

  // divergence: the smoothed loss ends well above its minimum and is still rising
  const minIdx = smooth.indexOf(Math.min(...smooth));
  const tail = smooth.slice(Math.floor(smooth.length * 0.75));
  const rising = tail.length > 2 && tail.at(-1)! > tail[0]! * 1.05;
  if (last > smooth[minIdx]! * 1.25 && rising) findings.push({ kind: "divergence", step: points[minIdx]!.step, message: `the loss is diverging: lowest ${fmt(smooth[minIdx]!)} at step ${points[minIdx]!.step}, now ${fmt(last)} and rising (lower the learning rate or add warm-up)` });

  // plateau: over the last fifth of the run the smoothed loss improves by under 1%, or does not improve
  // at all (a small rise is a stall, not an improvement; a large one is the divergence above)
  const w = Math.max(3, Math.floor(points.length / 5));
  const start = smooth[smooth.length - w]!;
  const from = points[points.length - w]!.step;
  const gain = (start - last) / start;
  if (points.length >= 10 && gain < 0.01 && !rising) {
    findings.push({
      kind: "plateau",
      step: from,
      message:
        gain > 0
          ? `plateau: from step ${from} the loss improves by under 1% (${fmt(start)} -> ${fmt(last)}); more steps at this learning rate add little`
          : `plateau: from step ${from} the loss stopped improving (${fmt(start)} -> ${fmt(last)}, ${last > start ? `${((-gain) * 100).toFixed(1)}% higher` : "flat"}); more steps at this learning rate add nothing`,
    });
  } else if (rising && !findings.some((f) => f.kind === "divergence")) {
    findings.push({ kind: "rising", step: from, message: `the loss is rising again: ${fmt(tail[0]!)} -> ${fmt(last)} over the last quarter of the run (lowest ${fmt(smooth[minIdx]!)} at step ${points[minIdx]!.step}); watch for divergence` });
  }

  // train-eval gap at the last evaluation
  if (evals.length > 0) {
    const e = evals.at(-1)!;
    const idx = points.findIndex((p) => p.step >= e.step);
    const t = idx >= 0 ? points[idx]!.smoothed : last;
    const gap = e.eval_loss - t;
    const rel = gap / t;
    const bestEval = Math.min(...evals.map((x) => x.eval_loss));
    if (rel > 0.15) findings.push({ kind: "gap", step: e.step, message: `eval loss ${fmt(e.eval_loss)} is ${(rel * 100).toFixed(0)}% above the training loss ${fmt(t)}: the model is fitting the training set more than it generalises${e.eval_loss > bestEval * 1.02 ? ` (eval was best, ${fmt(bestEval)}, earlier: stop sooner)` : ""}` });
    else findings.push({ kind: "gap", step: e.step, message: `eval loss ${fmt(e.eval_loss)} tracks the training loss ${fmt(t)} (gap ${(rel * 100).toFixed(0)}%): no sign of overfitting` });
  }
  return { points, evals, findings };
}
