// An attention run (`fitlab inspect attention`): layer x head heat maps of each statistic (entropy, mean
// distance, first-token/sink share, previous-token share, self share); click a head to see its map with the
// prompt's tokens on the axes, and hover for a token pair.
import { useMemo, useState } from "preact/hooks";
import { HeadGrid, type HeadRef } from "../charts/head-grid.tsx";
import type { Plot } from "../charts/plot.tsx";
import { HEAD_STATS, type AttentionInspect, type HeadStatName, type RunReport } from "../types.ts";
import { HeadPanel } from "./head-panel.tsx";
import { Findings, Loading, useInspection } from "./inspect-common.tsx";

export const STAT_TITLES: Record<HeadStatName, { title: string; legend: string; share: boolean }> = {
  entropy: { title: "Entropy", legend: "entropy (nats), low = focused", share: false },
  mean_distance: { title: "Mean attention distance", legend: "mean distance (tokens)", share: false },
  first_token_share: { title: "Share on the first token (sink)", legend: "share on token 0", share: true },
  prev_token_share: { title: "Share on the previous token", legend: "share on the previous token", share: true },
  self_share: { title: "Share on the token itself", legend: "share on the same token", share: true },
};

export const statColor = (stat: HeadStatName, max: number): Plot.ScaleOptions => (STAT_TITLES[stat].share ? { type: "linear", scheme: "viridis", domain: [0, 1] } : { type: "linear", scheme: "magma", domain: [0, Math.max(1e-9, max)] });

export function AttentionView({ run }: { run: RunReport }) {
  const { data, error } = useInspection<AttentionInspect>(run.id);
  const [head, setHead] = useState<HeadRef | null>(null);
  const grids = useMemo(
    () =>
      data
        ? HEAD_STATS.map((s) => {
            const cells = data.heads_stats.map((h) => ({ layer: h.layer, head: h.head, value: h[s] }));
            return { stat: s, cells, color: statColor(s, Math.max(...cells.map((c) => c.value))) };
          })
        : [],
    [data],
  );
  if (!data) return <Loading error={error} />;
  const stats = head ? data.heads_stats.find((h) => h.layer === head.layer && h.head === head.head) : undefined;
  const pick = (h: HeadRef) => {
    // when a head was picked (the benchmark and the tests time the map from here)
    document.body.dataset.headPickedAt = String(performance.now());
    setHead(h);
  };
  return (
    <div class="inspect" data-testid="inspect-attention">
      <Findings data={data} />
      <p class="sub">
        {data.layers} layers × {data.heads} query heads ({data.kv_heads} key/value heads), averaged over {data.prompts} prompts ({data.tokens} tokens); maps kept for {data.maps.length} prompts.
      </p>
      <div class="inspect-cols">
        <div class="grids">
          {grids.map((g) => (
            <HeadGrid key={g.stat} testid={`grid-${g.stat}`} title={STAT_TITLES[g.stat].title} legend={STAT_TITLES[g.stat].legend} cells={g.cells} layers={data.layers} heads={data.heads} color={g.color} selected={head} onPick={pick} />
          ))}
        </div>
        <div class="side">
          <HeadPanel runId={run.id} kind="attention" prompts={data.maps} head={head}>
            {stats ? (
              <table class="compact" data-testid="head-stats">
                <tbody>
                  {HEAD_STATS.map((s) => (
                    <tr>
                      <td>{STAT_TITLES[s].legend}</td>
                      <td class="n">{stats[s].toFixed(3)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : null}
          </HeadPanel>
        </div>
      </div>
    </div>
  );
}
