// A compare run (`fitlab inspect compare`): base model vs fine-tune. Per head the Jensen-Shannon divergence of
// attention rows and the change of each statistic (layer x head heat maps; click a head for its base,
// fine-tuned and difference maps), and per adapted module the norm of the LoRA update (alpha/r) B A.
import { useMemo, useState } from "preact/hooks";
import { HeadGrid, type HeadRef } from "../charts/head-grid.tsx";
import { PlotFigure, Plot } from "../charts/plot.tsx";
import type { CompareHead, CompareInspect, RunReport } from "../types.ts";
import { HeadPanel } from "./head-panel.tsx";
import { Findings, Loading, useInspection } from "./inspect-common.tsx";

type Metric = "js_divergence" | "entropy_change" | "mean_distance_change" | "first_token_share_change" | "prev_token_share_change" | "self_share_change";
const METRICS: { key: Metric; title: string; legend: string }[] = [
  { key: "js_divergence", title: "Jensen-Shannon divergence of attention rows", legend: "JS divergence (nats, at most ln 2)" },
  { key: "entropy_change", title: "Change of entropy", legend: "entropy change (nats), fine-tuned − base" },
  { key: "first_token_share_change", title: "Change of the first-token (sink) share", legend: "sink share change" },
  { key: "prev_token_share_change", title: "Change of the previous-token share", legend: "previous-token share change" },
  { key: "self_share_change", title: "Change of the share on the token itself", legend: "self share change" },
  { key: "mean_distance_change", title: "Change of the mean attention distance", legend: "distance change (tokens)" },
];
const MODULE_ORDER = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

function UpdateNorms({ data }: { data: CompareInspect }) {
  const options = useMemo((): Plot.PlotOptions | null => {
    const mods = data.modules.filter((m) => m.layer !== null);
    if (mods.length === 0) return null;
    const names = [...MODULE_ORDER.filter((n) => mods.some((m) => m.module === n)), ...[...new Set(mods.map((m) => m.module))].filter((n) => !MODULE_ORDER.includes(n))];
    const cell = Math.max(10, Math.min(30, Math.floor(520 / Math.max(names.length * 2, data.layers))));
    return {
      width: 90 + names.length * 64 + 16,
      height: 30 + data.layers * cell + 40,
      marginLeft: 56,
      marginBottom: 40,
      x: { type: "band", domain: names, label: "module", tickRotate: 0 },
      y: { type: "band", domain: Array.from({ length: data.layers }, (_, i) => i), label: "layer", ticks: Array.from({ length: data.layers }, (_, i) => i).filter((l) => l % Math.max(1, Math.ceil(14 / cell)) === 0) },
      color: { type: "linear", scheme: "oranges", domain: [0, Math.max(1e-12, ...mods.map((m) => m.update_norm))], legend: true, label: "‖(α/r)·B·A‖ (Frobenius)" },
      marks: [Plot.cell(mods, { x: "module", y: "layer", fill: "update_norm", inset: 0.5, tip: { channels: { name: "name" }, format: { fill: (v: number) => v.toPrecision(3) } } })],
    };
  }, [data]);
  if (!options) return <p class="note">The adapter has no LoRA module tied to a layer.</p>;
  return (
    <figure class="chart" data-testid="lora-update">
      <figcaption>LoRA update per module, from the adapter's weights alone: which layers the fine-tune touched</figcaption>
      <PlotFigure options={options} />
    </figure>
  );
}

export function FinetuneDiffView({ run }: { run: RunReport }) {
  const { data, error } = useInspection<CompareInspect>(run.id);
  const [head, setHead] = useState<HeadRef | null>(null);
  const grids = useMemo(() => {
    if (!data) return [];
    const heads = Math.max(...data.heads.map((h) => h.head)) + 1;
    return METRICS.map((m) => {
      const cells = data.heads.map((h) => ({ layer: h.layer, head: h.head, value: h[m.key] }));
      const top = Math.max(1e-9, ...cells.map((c) => Math.abs(c.value)));
      const color: Plot.ScaleOptions = m.key === "js_divergence" ? { type: "linear", scheme: "reds", domain: [0, top] } : { type: "diverging", scheme: "rdbu", reverse: true, domain: [-top, top] };
      return { ...m, cells, color, heads };
    });
  }, [data]);
  if (!data) return <Loading error={error} />;
  const h: CompareHead | undefined = head ? data.heads.find((x) => x.layer === head.layer && x.head === head.head) : undefined;
  const row = (label: string, base: number | undefined, change: number) => (
    <tr>
      <td>{label}</td>
      <td class="n">{base === undefined ? "–" : base.toFixed(3)}</td>
      <td class="n">{base === undefined ? "–" : (base + change).toFixed(3)}</td>
      <td class="n">
        {change >= 0 ? "+" : ""}
        {change.toFixed(3)}
      </td>
    </tr>
  );
  const pick = (x: HeadRef) => {
    document.body.dataset.headPickedAt = String(performance.now());
    setHead(x);
  };
  return (
    <div class="inspect" data-testid="inspect-compare">
      <Findings data={data} />
      <p class="sub">
        adapter {data.adapter}; {data.layers} layers; averaged over {data.prompts} prompts. Red in the change maps: the fine-tune raised the number.
      </p>
      <div class="inspect-cols">
        <div class="grids">
          {grids.map((g) => (
            <HeadGrid key={g.key} testid={`grid-${g.key}`} title={g.title} legend={g.legend} cells={g.cells} layers={data.layers} heads={g.heads} color={g.color} selected={head} onPick={pick} digits={4} />
          ))}
        </div>
        <div class="side">
          <HeadPanel runId={run.id} kind="compare" prompts={data.maps} head={head}>
            {h ? (
              <table class="compact" data-testid="head-stats">
                <thead>
                  <tr>
                    <th />
                    <th class="n">base</th>
                    <th class="n">fine-tuned</th>
                    <th class="n">change</th>
                  </tr>
                </thead>
                <tbody>
                  <tr>
                    <td>JS divergence (nats)</td>
                    <td />
                    <td />
                    <td class="n">{h.js_divergence.toFixed(4)}</td>
                  </tr>
                  {row("entropy (nats)", h.base_entropy, h.entropy_change)}
                  {row("mean distance (tokens)", h.base_mean_distance, h.mean_distance_change)}
                  {row("first-token share", h.base_first_token_share, h.first_token_share_change)}
                  {row("previous-token share", h.base_prev_token_share, h.prev_token_share_change)}
                  {row("self share", h.base_self_share, h.self_share_change)}
                </tbody>
              </table>
            ) : null}
          </HeadPanel>
          <UpdateNorms data={data} />
        </div>
      </div>
    </div>
  );
}
