// Sweep comparison: final and best eval loss, memory and speed per setting, and a verdict: the best
// learning rate, or the LoRA rank where returns diminish.
import type { RunRecord } from "../runs/store.js";

export interface SweepRow {
  readonly run: string;
  readonly value: string;
  readonly status: string;
  readonly final_eval_loss: number | null;
  readonly best_eval_loss: number | null;
  readonly predicted_allocated_bytes: number | null;
  readonly measured_allocated_bytes: number | null;
  readonly measured_tokens_per_s: number | null;
}

export interface SweepComparison {
  readonly param: string;
  readonly rows: readonly SweepRow[];
  readonly verdict: readonly string[];
}

const fmt = (x: number) => x.toFixed(3);

export function compareSweep(runs: readonly RunRecord[], param: string): SweepComparison {
  const rows: SweepRow[] = runs.map((r) => ({
    run: r.id,
    value: r.sweep_value ?? r.name,
    status: r.status,
    final_eval_loss: r.final_eval_loss,
    best_eval_loss: r.best_eval_loss,
    predicted_allocated_bytes: r.predicted_allocated_bytes,
    measured_allocated_bytes: r.measured_allocated_bytes,
    measured_tokens_per_s: r.measured_tokens_per_s,
  }));
  const done = rows.filter((r) => r.best_eval_loss !== null);
  const verdict: string[] = [];
  if (done.length === 0) return { param, rows, verdict: ["no finished run to compare"] };
  const numeric = done.every((r) => Number.isFinite(Number(r.value)));
  const sorted = numeric ? [...done].sort((a, b) => Number(a.value) - Number(b.value)) : done;
  const best = done.reduce((a, b) => (b.best_eval_loss! < a.best_eval_loss! ? b : a));
  if (/^(lr|learning_rate)$/.test(param)) {
    verdict.push(`best learning rate: ${best.value} (best eval loss ${fmt(best.best_eval_loss!)})`);
    if (numeric && sorted.length > 2 && (best === sorted[0] || best === sorted.at(-1))) verdict.push(`the best value is at the edge of the sweep: try ${best === sorted[0] ? "smaller" : "larger"} values too`);
    const worst = done.reduce((a, b) => (b.best_eval_loss! > a.best_eval_loss! ? b : a));
    if (worst !== best) verdict.push(`worst: ${worst.value} (${fmt(worst.best_eval_loss!)}); the spread is ${(((worst.best_eval_loss! - best.best_eval_loss!) / best.best_eval_loss!) * 100).toFixed(0)}% of the best loss`);
  } else if (param === "rank" && numeric) {
    // diminishing returns: the first rank after which one more step up gains under 10% of the total gain
    const gains = sorted.slice(1).map((r, i) => sorted[i]!.best_eval_loss! - r.best_eval_loss!);
    const total = sorted[0]!.best_eval_loss! - Math.min(...sorted.map((r) => r.best_eval_loss!));
    let knee = sorted.at(-1)!;
    for (let i = 0; i < gains.length; i++) {
      if (total <= 0 || gains[i]! < 0.1 * total) {
        knee = sorted[i]!;
        break;
      }
    }
    verdict.push(`returns diminish at rank ${knee.value}: higher ranks improve the best eval loss by under 10% of the total gain`);
    verdict.push(`lowest eval loss: rank ${best.value} (${fmt(best.best_eval_loss!)})`);
  } else {
    verdict.push(`best ${param}: ${best.value} (best eval loss ${fmt(best.best_eval_loss!)})`);
  }
  return { param, rows, verdict };
}
