// Where a property becomes linearly decodable, and whether the probe or the representation explains it:
// accuracy against the majority baseline, and selectivity against the control task (Hewitt & Liang 2019).
import type { ProbeLayer } from "../runs/inspect-results.js";
import { pointName } from "./representations.js";

/** A layer decodes the property when the probe beats the majority baseline and the control task by this much. */
export const DECODABLE_MARGIN = 0.1;

export interface ProbeAnalysis {
  readonly firstDecodable: number | null;
  readonly bestAccuracy: ProbeLayer;
  readonly bestSelectivity: ProbeLayer;
  readonly findings: readonly string[];
}

export const decodable = (l: ProbeLayer) => l.accuracy - l.majority >= DECODABLE_MARGIN - 1e-9 && l.selectivity >= DECODABLE_MARGIN - 1e-9;

export function analyzeProbes(layers: readonly ProbeLayer[]): ProbeAnalysis {
  const bestAccuracy = [...layers].sort((a, b) => b.accuracy - a.accuracy || a.layer - b.layer)[0]!;
  const bestSelectivity = [...layers].sort((a, b) => b.selectivity - a.selectivity || a.layer - b.layer)[0]!;
  const first = layers.find(decodable) ?? null;
  const out: string[] = [];
  const f = (x: number) => x.toFixed(2);
  if (first) {
    const before = layers.filter((l) => l.layer < first.layer);
    out.push(`the label is linearly decodable from ${pointName(first.layer)} on (accuracy ${f(first.accuracy)} vs majority ${f(first.majority)}, selectivity ${f(first.selectivity)})${before.length ? `; before it the best accuracy is ${f(Math.max(...before.map((l) => l.accuracy)))}` : ""}`);
  } else out.push(`no layer decodes the label beyond the majority baseline (${f(layers[0]?.majority ?? 0)}) and the control task by ${DECODABLE_MARGIN}`);
  out.push(`best accuracy ${f(bestAccuracy.accuracy)} at ${pointName(bestAccuracy.layer)}; most selective ${pointName(bestSelectivity.layer)} (selectivity ${f(bestSelectivity.selectivity)}, control accuracy ${f(bestSelectivity.control_accuracy)})`);
  const memorised = layers.filter((l) => l.control_accuracy - l.majority >= 0.3);
  if (memorised.length) out.push(`the control task reaches ${f(Math.max(...memorised.map((l) => l.control_accuracy)))} in ${memorised.length} layers: a linear probe can memorise word identities here, so read accuracy with selectivity`);
  return { firstDecodable: first?.layer ?? null, bestAccuracy, bestSelectivity, findings: out };
}

export interface CheckpointProbes {
  readonly step: number;
  readonly layers: readonly ProbeLayer[];
}

export function analyzeProbeCheckpoints(cks: readonly CheckpointProbes[]): readonly string[] {
  if (cks.length === 0) return [];
  const out: string[] = [];
  const first = cks[0]!;
  const last = cks.at(-1)!;
  const best = (c: CheckpointProbes) => [...c.layers].sort((a, b) => b.selectivity - a.selectivity)[0]!;
  const dec = (c: CheckpointProbes) => c.layers.find(decodable)?.layer ?? null;
  out.push(`over training (step ${first.step} to ${last.step}) the best selectivity goes from ${best(first).selectivity.toFixed(2)} (${pointName(best(first).layer)}) to ${best(last).selectivity.toFixed(2)} (${pointName(best(last).layer)})`);
  const d0 = dec(first);
  const d1 = dec(last);
  if (d0 !== d1) out.push(`the first decodable layer moves from ${d0 === null ? "none" : pointName(d0)} to ${d1 === null ? "none" : pointName(d1)}`);
  else out.push(`the first decodable layer stays ${d0 === null ? "none" : pointName(d0)}`);
  const meanAcc = (c: CheckpointProbes) => c.layers.reduce((s, l) => s + l.accuracy, 0) / c.layers.length;
  out.push(`mean probe accuracy over layers: ${cks.map((c) => `${meanAcc(c).toFixed(2)} at step ${c.step}`).join(", ")}`);
  return out;
}
