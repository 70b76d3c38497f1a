// Pictures of linear probes (Track C): accuracy, control accuracy and selectivity per layer; and, across a
// training run's checkpoints, selectivity per layer and step.
import type { ProbeLayer } from "../runs/inspect-results.js";
import { cellHeatmap } from "./heatmap.js";
import { Plot, renderSvg, SERIES_COLORS } from "./plot.js";

const pointLabel = (l: number) => (l === 0 ? "emb" : String(l - 1));

export function probeChart(layers: readonly ProbeLayer[], heading = "Linear probe per layer: accuracy (blue), control task (grey, dashed), selectivity (red), majority class (dotted)"): string {
  const series = [
    { key: "accuracy", label: "accuracy", color: SERIES_COLORS[0], dash: undefined },
    { key: "control_accuracy", label: "control task", color: SERIES_COLORS[9], dash: "4 3" },
    { key: "selectivity", label: "selectivity", color: SERIES_COLORS[1], dash: undefined },
    { key: "majority", label: "majority class", color: "#999", dash: "2 3" },
  ] as const;
  const rows = series.flatMap((s) => layers.map((l) => ({ x: l.layer, y: l[s.key], series: s.label })));
  return renderSvg({
    heading,
    width: 800,
    height: 320,
    marginLeft: 56,
    marginBottom: 44,
    marginRight: 110,
    x: { label: "layer (emb = embeddings)", labelAnchor: "center", labelArrow: "none", tickFormat: (v: number) => (Number.isInteger(v) ? pointLabel(v) : ""), ticks: layers.map((l) => l.layer).filter((_, i, a) => i % Math.max(1, Math.ceil(a.length / 16)) === 0) },
    y: { label: "held-out accuracy / selectivity", labelAnchor: "center", labelArrow: "none", grid: true, domain: [Math.min(0, ...rows.map((r) => r.y)), 1] },
    color: { domain: series.map((s) => s.label), range: series.map((s) => s.color) },
    marks: [
      Plot.ruleY([0], { stroke: "#bbb" }),
      ...series.map((s) => Plot.lineY(rows.filter((r) => r.series === s.label), { x: "x", y: "y", stroke: s.color, strokeWidth: s.key === "majority" ? 1 : 2, strokeDasharray: s.dash })),
      Plot.dot(rows.filter((r) => r.series !== "majority class"), { x: "x", y: "y", fill: "series", r: 2.5 }),
      Plot.text(rows.filter((r) => r.series === "accuracy" || r.series === "selectivity"), Plot.selectLast({ x: "x", y: "y", z: "series", text: "series", dx: 8, textAnchor: "start", fill: "series" })),
    ],
  });
}

export function probeCheckpointChart(checkpoints: readonly { step: number; layers: readonly ProbeLayer[] }[], metric: "selectivity" | "accuracy" = "selectivity"): string {
  const steps = checkpoints.map((c) => String(c.step));
  const layers = checkpoints[0]?.layers.map((l) => pointLabel(l.layer)) ?? [];
  const data = checkpoints.flatMap((c) => c.layers.map((l) => ({ x: String(c.step), y: pointLabel(l.layer), value: l[metric], text: l[metric].toFixed(2) })));
  const lo = Math.min(0, ...data.map((d) => d.value));
  return cellHeatmap(data, {
    heading: `Probe ${metric} per layer across the training run's checkpoints (step 0 = base model)`,
    xLabel: "training step",
    yLabel: "layer",
    xDomain: steps,
    yDomain: layers,
    color: metric === "selectivity" ? { scheme: "rdbu", domain: [-Math.max(0.5, -lo), Math.max(0.5, -lo)] } : { scheme: "viridis", domain: [0, 1] },
    legend: metric === "selectivity" ? "selectivity = accuracy - control accuracy" : "held-out accuracy",
    showText: steps.length * layers.length <= 120,
    cellPx: 56,
  });
}
