// Base model vs fine-tune: which layers the LoRA update touches (from the adapter's weights) and which heads
// changed their attention (Jensen-Shannon divergence of the rows, change of each statistic).
import type { CompareHead, LoraModuleNorm } from "../runs/inspect-results.js";
import { headLabel } from "./attention-heads.js";

/** JS divergences at or below this are float noise: the attention of that head did not change. */
export const UNCHANGED_JS = 1e-6;
/** A module counts as touched when its update norm is at least this share of the largest one. */
export const TOUCHED_SHARE = 0.01;

export interface FinetuneDiff {
  /** first layer with a head whose JS divergence is above UNCHANGED_JS (null: nothing changed) */
  readonly firstChangedLayer: number | null;
  readonly byLayer: readonly { layer: number; meanJs: number; maxJs: number; updateNorm: number }[];
  readonly topHeads: readonly CompareHead[];
  readonly touchedLayers: readonly number[];
  readonly largestModule: LoraModuleNorm | null;
  readonly findings: readonly string[];
}

export function analyzeFinetune(heads: readonly CompareHead[], modules: readonly LoraModuleNorm[]): FinetuneDiff {
  const layers = [...new Set(heads.map((h) => h.layer))].sort((a, b) => a - b);
  const maxNorm = Math.max(0, ...modules.map((m) => m.update_norm));
  const byLayer = layers.map((layer) => {
    const hs = heads.filter((h) => h.layer === layer);
    const js = hs.map((h) => h.js_divergence);
    return { layer, meanJs: js.reduce((s, x) => s + x, 0) / Math.max(1, js.length), maxJs: Math.max(0, ...js), updateNorm: modules.filter((m) => m.layer === layer).reduce((s, m) => s + m.update_norm, 0) };
  });
  const firstChangedLayer = byLayer.find((l) => l.maxJs > UNCHANGED_JS)?.layer ?? null;
  const topHeads = [...heads].sort((a, b) => b.js_divergence - a.js_divergence).slice(0, 10);
  const touched = [...new Set(modules.filter((m) => m.layer !== null && maxNorm > 0 && m.update_norm >= TOUCHED_SHARE * maxNorm).map((m) => m.layer!))].sort((a, b) => a - b);
  const largestModule = modules.length ? [...modules].sort((a, b) => b.update_norm - a.update_norm)[0]! : null;
  const out: string[] = [];
  if (modules.length === 0) out.push("the adapter has no LoRA module");
  else if (maxNorm === 0) out.push(`the adapter's ${modules.length} modules have a zero update ((alpha/r) B A = 0): it changes nothing (an adapter at initialisation)`);
  else out.push(`the adapter's update is non-zero in ${touched.length} of ${layers.length} layers (${ranges(touched)}); the largest is ${largestModule!.name} (norm ${largestModule!.update_norm.toPrecision(3)})`);
  if (firstChangedLayer === null) out.push(`no head's attention changed (every JS divergence <= ${UNCHANGED_JS})`);
  else {
    out.push(firstChangedLayer > 0 ? `attention is unchanged in layers 0-${firstChangedLayer - 1} (JS <= ${UNCHANGED_JS}) and changes from layer ${firstChangedLayer} on` : "attention changes from the first layer on");
    const t = topHeads.slice(0, 5).map((h) => `${headLabel(h)} (JS ${h.js_divergence.toFixed(4)}, entropy ${signed(h.entropy_change)}, sink share ${signed(h.first_token_share_change)})`);
    out.push(`heads that changed most: ${t.join(", ")}`);
  }
  return { firstChangedLayer, byLayer, topHeads, touchedLayers: touched, largestModule, findings: out };
}

/** A head's map after fine-tuning minus before (same shape): positive where the fine-tune attends more. */
export function mapDifference(base: ArrayLike<number>, tuned: ArrayLike<number>): Float32Array {
  if (base.length !== tuned.length) throw new Error(`maps of different sizes: ${base.length} and ${tuned.length}`);
  return Float32Array.from({ length: base.length }, (_, i) => tuned[i]! - base[i]!);
}

const signed = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(3)}`;

/** [0,1,2,5] -> "layers 0-2, 5" */
export function ranges(xs: readonly number[]): string {
  if (xs.length === 0) return "none";
  const parts: string[] = [];
  let start = xs[0]!;
  let prev = start;
  for (const x of [...xs.slice(1), Infinity]) {
    if (x === prev + 1) {
      prev = x;
      continue;
    }
    parts.push(start === prev ? `${start}` : `${start}-${prev}`);
    start = prev = x;
  }
  return `${xs.length === 1 ? "layer" : "layers"} ${parts.join(", ")}`;
}
