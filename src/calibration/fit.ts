// Fit the per-GPU, per-engine correction from finished runs: the memory factor is the geometric mean of
// measured/predicted peaks (the least-squares fit of a constant in log space, so a run 10 % over and one
// 10 % under cancel), and the compute factor the same for tokens/s. Its accuracy is reported leave-one-out:
// each run's error under the factor fitted on the other runs, never on the run itself.
import type { Correction } from "./correction.js";

export interface Observation {
  readonly run: string;
  readonly gpu: string;
  readonly engine: string;
  readonly predictedBytes: number;
  readonly measuredBytes: number;
  readonly predictedTokensPerS: number | null;
  readonly measuredTokensPerS: number | null;
}

export interface FactorFit {
  readonly runs: number;
  readonly factor: number;
  /** median absolute error of the shipped prediction (|measured/predicted - 1|) */
  readonly medianErrorBefore: number;
  /** median absolute error with the factor fitted on the other runs (null below 2 runs) */
  readonly medianErrorAfter: number | null;
}

export interface GroupFit {
  readonly gpu: string;
  readonly engine: string;
  readonly memory: FactorFit;
  readonly compute: FactorFit | null;
}

/** The fewest runs whose correction is applied: one run is an anecdote. */
export const MIN_RUNS = 2;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function fitFactor(pairs: readonly { predicted: number; measured: number }[]): FactorFit {
  const logs = pairs.map((p) => Math.log(p.measured / p.predicted));
  const sum = logs.reduce((a, b) => a + b, 0);
  const factor = Math.exp(sum / logs.length);
  const before = median(pairs.map((p) => Math.abs(p.measured / p.predicted - 1)));
  const after =
    pairs.length < 2
      ? null
      : median(pairs.map((p, i) => Math.abs(p.measured / (p.predicted * Math.exp((sum - logs[i]!) / (logs.length - 1))) - 1)));
  return { runs: pairs.length, factor, medianErrorBefore: before, medianErrorAfter: after };
}

export function fitCalibration(obs: readonly Observation[], now: Date = new Date()): { groups: GroupFit[]; corrections: Correction[] } {
  const byKey = new Map<string, Observation[]>();
  for (const o of obs) {
    if (!(o.predictedBytes > 0 && o.measuredBytes > 0)) continue;
    const k = `${o.gpu}\u0000${o.engine}`;
    byKey.set(k, [...(byKey.get(k) ?? []), o]);
  }
  const groups: GroupFit[] = [];
  for (const list of byKey.values()) {
    const memory = fitFactor(list.map((o) => ({ predicted: o.predictedBytes, measured: o.measuredBytes })));
    const speed = list.filter((o) => (o.predictedTokensPerS ?? 0) > 0 && (o.measuredTokensPerS ?? 0) > 0);
    const compute = speed.length ? fitFactor(speed.map((o) => ({ predicted: o.predictedTokensPerS!, measured: o.measuredTokensPerS! }))) : null;
    groups.push({ gpu: list[0]!.gpu, engine: list[0]!.engine, memory, compute });
  }
  groups.sort((a, b) => a.gpu.localeCompare(b.gpu) || a.engine.localeCompare(b.engine));
  const corrections = groups
    .filter((g) => g.memory.runs >= MIN_RUNS)
    .map((g) => ({
      gpu: g.gpu,
      engine: g.engine,
      memory_factor: Math.round(g.memory.factor * 1e4) / 1e4,
      compute_factor: g.compute && g.compute.runs >= MIN_RUNS ? Math.round(g.compute.factor * 1e4) / 1e4 : null,
      runs: g.memory.runs,
      fitted_at: now.toISOString(),
    }));
  return { groups, corrections };
}
