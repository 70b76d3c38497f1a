// What the residual-stream statistics say: massive dimensions, anisotropy and norm growth with depth, where
// the representation changes most (CKA of adjacent layers), where a fine-tune starts to differ from its base,
// and from which layer the logit lens already predicts the model's output.
import type { HiddenResult, LayerStats } from "../runs/inspect-results.js";

/** Sun et al. 2024 ("Massive Activations in Large Language Models") report values 10^3-10^4 times the median;
 *  the worker lists dims at or above its outlier ratio (default 100); above this they are called massive. */
export const MASSIVE_RATIO = 1000;
/** base vs fine-tuned CKA below this means the layer's representation changed. */
export const CHANGED_CKA = 0.999;

export interface MassiveDim {
  readonly dim: number;
  readonly layers: readonly number[];
  readonly maxRatio: number;
  readonly at: { readonly layer: number; readonly prompt: number; readonly position: number };
}

export interface RepresentationAnalysis {
  readonly outlierDims: readonly MassiveDim[];
  readonly biggestChange: { readonly layer: number; readonly cka: number } | null;
  readonly firstTunedChange: number | null;
  readonly lensAgreesFrom: number | null;
  readonly findings: readonly string[];
}

export const pointName = (l: number) => (l === 0 ? "the embeddings" : `layer ${l - 1}`);

export function outlierDims(layers: readonly LayerStats[]): MassiveDim[] {
  const by = new Map<number, { layers: number[]; maxRatio: number; at: MassiveDim["at"] }>();
  for (const l of layers) {
    for (const d of l.outlier_dims) {
      const e = by.get(d.dim) ?? { layers: [], maxRatio: 0, at: { layer: l.layer, prompt: d.prompt, position: d.position } };
      e.layers.push(l.layer);
      if (d.ratio > e.maxRatio) {
        e.maxRatio = d.ratio;
        e.at = { layer: l.layer, prompt: d.prompt, position: d.position };
      }
      by.set(d.dim, e);
    }
  }
  return [...by.entries()].map(([dim, e]) => ({ dim, ...e })).sort((a, b) => b.maxRatio - a.maxRatio);
}

export function analyzeRepresentations(r: HiddenResult): RepresentationAnalysis {
  const out: string[] = [];
  const dims = outlierDims(r.layers);
  if (dims.length === 0) out.push(`no outlier dimension (max |activation| below 100x the layer median in every layer)`);
  for (const d of dims.slice(0, 4)) {
    const span = d.layers.length === r.layers.length ? "in every layer" : `at ${d.layers.map(pointName).join(", ")}`;
    out.push(`dim ${d.dim} is ${d.maxRatio >= MASSIVE_RATIO ? "massive" : "an outlier"} ${span}: up to ${Math.round(d.maxRatio).toLocaleString("en-US")}x the layer median (${pointName(d.at.layer)}, prompt ${d.at.prompt}, position ${d.at.position})`);
  }
  const an = r.layers.map((l) => l.anisotropy).filter((x): x is number => x !== null);
  if (an.length > 1) out.push(`anisotropy (mean cosine of random token pairs) goes from ${an[0]!.toFixed(3)} at the embeddings to ${an.at(-1)!.toFixed(3)} at the last layer${Math.max(...an) > 0.5 ? ": the vectors share a common direction (Ethayarajh 2019)" : ""}`);
  const first = r.layers[0]!;
  const lastL = r.layers.at(-1)!;
  out.push(`the mean norm of the stream grows from ${first.mean_norm.toFixed(2)} to ${lastL.mean_norm.toFixed(2)}`);
  let biggest: RepresentationAnalysis["biggestChange"] = null;
  for (let l = 1; l < r.cka.length; l++) {
    const c = r.cka[l - 1]![l]!;
    if (!biggest || c < biggest.cka) biggest = { layer: l, cka: c };
  }
  if (biggest) out.push(`the representation changes most at ${pointName(biggest.layer)} (linear CKA with the layer before: ${biggest.cka.toFixed(3)})`);
  let firstTunedChange: number | null = null;
  if (r.cka_base_tuned) {
    const i = r.cka_base_tuned.findIndex((c) => c < CHANGED_CKA);
    firstTunedChange = i < 0 ? null : i;
    out.push(
      i < 0
        ? `the fine-tune's representations match the base model's in every layer (CKA >= ${CHANGED_CKA})`
        : `the fine-tune matches the base model up to ${i === 0 ? "nothing" : pointName(i - 1)}; from ${pointName(i)} on it differs (CKA ${r.cka_base_tuned[i]!.toFixed(3)}, ${r.cka_base_tuned.at(-1)!.toFixed(3)} at the last layer)`,
    );
  }
  let lensAgreesFrom: number | null = null;
  const lens = r.lens[0];
  if (lens && lens.layers.length) {
    const lastPos = lens.positions.length - 1;
    const final = lens.layers.at(-1)!.top[lastPos]?.[0]?.[0];
    const idx = lens.layers.findIndex((l, i) => lens.layers.slice(i).every((m) => m.top[lastPos]?.[0]?.[0] === final));
    lensAgreesFrom = idx < 0 ? null : lens.layers[idx]!.layer;
    if (final !== undefined && lensAgreesFrom !== null) out.push(`logit lens: at the last position of prompt ${lens.prompt}, the model's top prediction "${final}" is already the lens's top token from ${pointName(lensAgreesFrom)} on`);
  }
  return { outlierDims: dims, biggestChange: biggest, firstTunedChange, lensAgreesFrom, findings: out };
}
