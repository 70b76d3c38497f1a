// What the attention statistics say about each head: sinks, previous-token heads, heads that attend to
// themselves, focused and broad heads; and how those change with depth. Thresholds are named and cited.
import type { HeadStats } from "../runs/inspect-results.js";

/** Gu et al. 2025 ("When Attention Sink Emerges", arXiv 2410.10781) count a head as a sink when its attention
 *  to the first token exceeds epsilon = 0.3 (their Sink_1^epsilon metric). fitlab averages over query rows. */
export const SINK_SHARE = 0.3;
/** A head whose rows put at least half their mass on the previous token (an induction circuit's first half,
 *  Olsson et al. 2022) or on the token itself. */
export const PREV_TOKEN_SHARE = 0.5;
export const SELF_SHARE = 0.5;

export interface HeadRef {
  readonly layer: number;
  readonly head: number;
  readonly value: number;
}

export interface AttentionAnalysis {
  readonly heads: number;
  readonly sinkHeads: readonly HeadRef[];
  /** share of heads that are sinks (Gu et al.'s Sink_1^0.3, over rows) */
  readonly sinkRate: number;
  readonly previousTokenHeads: readonly HeadRef[];
  readonly selfHeads: readonly HeadRef[];
  readonly mostFocused: HeadRef | null;
  readonly broadest: HeadRef | null;
  /** per layer: mean over heads of each statistic */
  readonly byLayer: readonly { layer: number; entropy: number; mean_distance: number; first_token_share: number; prev_token_share: number; self_share: number }[];
  readonly findings: readonly string[];
}

export const headLabel = (h: { layer: number; head: number }) => `L${h.layer}H${h.head}`;
const pct = (x: number) => `${Math.round(x * 100)}%`;

export function analyzeAttention(stats: readonly HeadStats[]): AttentionAnalysis {
  const ref = (h: HeadStats, v: number): HeadRef => ({ layer: h.layer, head: h.head, value: v });
  const byDesc = (a: HeadRef, b: HeadRef) => b.value - a.value;
  const sinkHeads = stats.filter((h) => h.first_token_share > SINK_SHARE).map((h) => ref(h, h.first_token_share)).sort(byDesc);
  const previousTokenHeads = stats.filter((h) => h.prev_token_share >= PREV_TOKEN_SHARE).map((h) => ref(h, h.prev_token_share)).sort(byDesc);
  const selfHeads = stats.filter((h) => h.self_share >= SELF_SHARE).map((h) => ref(h, h.self_share)).sort(byDesc);
  const sortedEntropy = [...stats].sort((a, b) => a.entropy - b.entropy);
  const layers = [...new Set(stats.map((h) => h.layer))].sort((a, b) => a - b);
  const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
  const byLayer = layers.map((layer) => {
    const hs = stats.filter((h) => h.layer === layer);
    return {
      layer,
      entropy: mean(hs.map((h) => h.entropy)),
      mean_distance: mean(hs.map((h) => h.mean_distance)),
      first_token_share: mean(hs.map((h) => h.first_token_share)),
      prev_token_share: mean(hs.map((h) => h.prev_token_share)),
      self_share: mean(hs.map((h) => h.self_share)),
    };
  });
  const first = sortedEntropy[0];
  const last = sortedEntropy.at(-1);
  const out: string[] = [];
  const list = (hs: readonly HeadRef[]) => hs.slice(0, 6).map((h) => `${headLabel(h)} (${h.value.toFixed(2)})`).join(", ") + (hs.length > 6 ? `, and ${hs.length - 6} more` : "");
  out.push(
    previousTokenHeads.length
      ? `${previousTokenHeads.length} of ${stats.length} heads attend mostly to the previous token (share >= ${PREV_TOKEN_SHARE}): ${list(previousTokenHeads)}`
      : `no head attends mostly to the previous token (the highest share is ${Math.max(...stats.map((h) => h.prev_token_share)).toFixed(2)})`,
  );
  out.push(
    `${sinkHeads.length} of ${stats.length} heads (${pct(sinkHeads.length / Math.max(1, stats.length))}) put more than ${SINK_SHARE} of their attention on the first token (attention sinks, Gu et al. 2025)${sinkHeads.length ? `: ${list(sinkHeads)}` : ""}`,
  );
  if (byLayer.length > 1) {
    const a = byLayer[0]!;
    const b = byLayer.at(-1)!;
    out.push(`from layer ${a.layer} to layer ${b.layer}, the mean first-token share goes from ${a.first_token_share.toFixed(2)} to ${b.first_token_share.toFixed(2)} and the mean entropy from ${a.entropy.toFixed(2)} to ${b.entropy.toFixed(2)} nats`);
  }
  if (selfHeads.length) out.push(`${selfHeads.length} heads attend mostly to their own token: ${list(selfHeads)}`);
  if (first && last) out.push(`most focused head ${headLabel(first)} (entropy ${first.entropy.toFixed(2)} nats, mean distance ${first.mean_distance.toFixed(1)} tokens); broadest ${headLabel(last)} (${last.entropy.toFixed(2)} nats, ${last.mean_distance.toFixed(1)} tokens)`);
  return {
    heads: stats.length,
    sinkHeads,
    sinkRate: sinkHeads.length / Math.max(1, stats.length),
    previousTokenHeads,
    selfHeads,
    mostFocused: first ? ref(first, first.entropy) : null,
    broadest: last ? ref(last, last.entropy) : null,
    byLayer,
    findings: out,
  };
}
