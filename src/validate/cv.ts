// Leave-one-source-out cross-validation: for each source (publication) of the cases, the calibrated numbers
// are refitted on the other sources' rows only, and that source's rows are scored with them. The band is the
// shipped one (data/calibration.yaml: the 80th percentile of these cross-validated errors), so its coverage of
// the cross-validated cases is what `summary.memory.band_coverage` of the cv summary reports.
import { currentCalibration, withCalibration, type Calibration } from "../engines/calibration.js";
import type { MeasuredCase, RejectedRow } from "./cases.js";
import { fitCalibration } from "./fit.js";
import { notExpressed, prepareCase, scorePrepared, summarize, type CaseResult, type PreparedCase, type ValidationSummary } from "./score.js";

/** Band target: the share of cross-validated cases the band must hold. */
export const BAND_COVERAGE_TARGET = 0.8;

export interface CvFold {
  readonly source: string;
  readonly rows: number;
  readonly calibration: Calibration;
}

export interface CrossValidation {
  readonly cases: CaseResult[];
  readonly summary: ValidationSummary;
  readonly folds: CvFold[];
}

/** The q-quantile (nearest rank, rounded up) of absolute percentage errors, as a fraction. */
export function bandFor(errorsPct: readonly number[], q = BAND_COVERAGE_TARGET): number {
  if (errorsPct.length === 0) return currentCalibration().bandMemory;
  const s = [...errorsPct].sort((a, b) => a - b);
  const k = Math.min(s.length - 1, Math.ceil(q * s.length) - 1);
  return Math.ceil(s[Math.max(0, k)]! * 2) / 200; // rounded up to half a percent
}

export function prepareAll(cases: readonly MeasuredCase[]): { prepared: PreparedCase[]; failed: CaseResult[] } {
  const prepared: PreparedCase[] = [];
  const failed: CaseResult[] = [];
  for (const c of cases) {
    const p = prepareCase(c);
    if ("spec" in p) prepared.push(p);
    else failed.push(notExpressed(c, p.reason));
  }
  return { prepared, failed };
}

export function crossValidate(cases: readonly MeasuredCase[], rejected: readonly RejectedRow[] = []): CrossValidation {
  const { prepared, failed } = prepareAll(cases);
  const sources = [...new Set(prepared.map((p) => p.c.source))];
  const folds: CvFold[] = [];
  const byId = new Map<string, CaseResult>();
  for (const source of sources) {
    const train = prepared.filter((p) => p.c.source !== source);
    const cal = fitCalibration(train, `fitted without ${source}`);
    const held = prepared.filter((p) => p.c.source === source);
    folds.push({ source, rows: held.length, calibration: cal });
    withCalibration(cal, () => {
      for (const p of held) byId.set(p.c.id, scorePrepared(p));
    });
  }
  const results = [...cases.map((c) => byId.get(c.id)).filter((r): r is CaseResult => r !== undefined), ...failed];
  for (const r of rejected) results.push(notExpressed(r, `line ${r.line}: ${r.reason}`));
  return { cases: results, summary: summarize(results), folds };
}
