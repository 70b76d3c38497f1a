// Forgetting: perplexity on held-out general text and accuracy on a multiple-choice set, for the base
// model and for every checkpoint of a run: a curve over training steps, and findings.
export interface ForgettingPoint {
  readonly step: number; // 0 = the base model
  readonly checkpoint: string | null;
  readonly perplexity: number | null;
  readonly mc_accuracy: number | null;
}

export function forgettingFindings(points: readonly ForgettingPoint[]): string[] {
  const base = points.find((p) => p.step === 0);
  const last = points.at(-1);
  if (!base || !last || last === base) return ["no checkpoint evaluated"];
  const out: string[] = [];
  if (base.perplexity !== null && last.perplexity !== null) {
    const ch = (last.perplexity - base.perplexity) / base.perplexity;
    out.push(`general-text perplexity: ${base.perplexity.toFixed(2)} (base) -> ${last.perplexity.toFixed(2)} at step ${last.step} (${ch >= 0 ? "+" : ""}${(ch * 100).toFixed(0)}%)${ch > 0.1 ? ": the fine-tune is forgetting general text" : ch < -0.1 ? ": general text got easier too" : ": general text is unaffected"}`);
  }
  if (base.mc_accuracy !== null && last.mc_accuracy !== null) {
    const d = last.mc_accuracy - base.mc_accuracy;
    out.push(`multiple-choice accuracy: ${(base.mc_accuracy * 100).toFixed(0)}% -> ${(last.mc_accuracy * 100).toFixed(0)}% (${d >= 0 ? "+" : ""}${(d * 100).toFixed(0)} points)`);
  }
  return out;
}
