// Pictures of the residual stream (Track C): norms per layer, anisotropy, outlier ("massive") dimensions,
// the CKA matrix between layers, base-vs-fine-tuned CKA per layer, and the logit-lens table.
import type { LayerStats, LensEntry } from "../runs/inspect-results.js";
import { cellHeatmap } from "./heatmap.js";
import { Plot, renderSvg, SERIES_COLORS } from "./plot.js";

const pointLabel = (l: number) => (l === 0 ? "emb" : String(l - 1));
const xLayer = { label: "layer (emb = embeddings)", labelAnchor: "center" as const, labelArrow: "none" as const, tickFormat: (v: number) => (Number.isInteger(v) ? pointLabel(v) : ""), ticks: undefined as number[] | undefined };

function axisTicks(n: number): number[] {
  const step = Math.max(1, Math.ceil(n / 16));
  return Array.from({ length: n }, (_, i) => i).filter((i) => i % step === 0);
}

/** Median token norm per layer with the 5-95 % band and the mean. */
export function normChart(layers: readonly LayerStats[]): string {
  const d = layers.map((l) => ({ x: l.layer, lo: l.norm_p05, hi: l.norm_p95, median: l.median_norm, mean: l.mean_norm, max: l.max_norm }));
  return renderSvg({
    heading: "Residual-stream norm per layer (median, 5-95 % band, max)",
    width: 760,
    height: 320,
    marginLeft: 60,
    marginRight: 70,
    marginBottom: 44,
    x: { ...xLayer, ticks: axisTicks(layers.length) },
    y: { label: "L2 norm of a token's vector", labelAnchor: "center", labelArrow: "none", grid: true, type: Math.max(...d.map((p) => p.max)) > 20 * Math.max(1e-9, Math.min(...d.map((p) => p.lo))) ? "log" : "linear" },
    marks: [
      Plot.areaY(d, { x: "x", y1: "lo", y2: "hi", fill: SERIES_COLORS[0], fillOpacity: 0.2 }),
      Plot.lineY(d, { x: "x", y: "median", stroke: SERIES_COLORS[0], strokeWidth: 2 }),
      Plot.lineY(d, { x: "x", y: "max", stroke: SERIES_COLORS[1], strokeDasharray: "4 3" }),
      Plot.text([d.at(-1)!], { x: "x", y: "max", text: () => "max", dx: 14, fill: SERIES_COLORS[1] }),
      Plot.text([d.at(-1)!], { x: "x", y: "median", text: () => "median", dx: 22, fill: SERIES_COLORS[0] }),
    ],
  });
}

/** Anisotropy per layer (mean cosine of random token pairs), with the base model's when comparing. */
export function anisotropyChart(layers: readonly LayerStats[], base?: readonly LayerStats[]): string {
  const rows = [
    ...layers.filter((l) => l.anisotropy !== null).map((l) => ({ x: l.layer, y: l.anisotropy!, series: base ? "fine-tuned" : "model" })),
    ...(base ?? []).filter((l) => l.anisotropy !== null).map((l) => ({ x: l.layer, y: l.anisotropy!, series: "base" })),
  ];
  return renderSvg({
    heading: "Anisotropy per layer: mean cosine similarity of random token pairs (0 = isotropic)",
    width: 720,
    height: 300,
    marginLeft: 60,
    marginBottom: 44,
    marginRight: 90,
    x: { ...xLayer, ticks: axisTicks(layers.length) },
    y: { label: "mean cosine", labelAnchor: "center", labelArrow: "none", grid: true, domain: [Math.min(0, ...rows.map((r) => r.y)), Math.max(0.1, ...rows.map((r) => r.y))] },
    color: { domain: ["model", "fine-tuned", "base"], range: [SERIES_COLORS[0], SERIES_COLORS[1], SERIES_COLORS[2]] },
    marks: [Plot.ruleY([0], { stroke: "#999" }), Plot.lineY(rows, { x: "x", y: "y", stroke: "series", strokeWidth: 2 }), Plot.dot(rows, { x: "x", y: "y", fill: "series", r: 2.5 }), Plot.text(rows, Plot.selectLast({ x: "x", y: "y", z: "series", text: "series", dx: 8, textAnchor: "start", fill: "series" }))],
  });
}

/** The largest dims of each layer as a ratio to the layer's median |activation| (log scale), labelled. */
export function outlierChart(layers: readonly LayerStats[], threshold = 100): string {
  const rows = layers.flatMap((l) => l.top_dims.slice(0, 3).map((d, rank) => ({ x: l.layer, ratio: d.ratio, dim: d.dim, rank })));
  const labels = rows.filter((r) => r.rank === 0);
  return renderSvg({
    heading: "Outlier dimensions: max |activation| of the top dims over the layer's median |activation|",
    width: 720,
    height: 340,
    marginLeft: 60,
    marginBottom: 44,
    x: { ...xLayer, ticks: axisTicks(layers.length) },
    y: { type: "log", label: "ratio to the median (log)", labelAnchor: "center", labelArrow: "none", grid: true },
    marks: [
      Plot.ruleY([threshold], { stroke: SERIES_COLORS[1], strokeDasharray: "4 3" }),
      Plot.text([{ x: 0, y: threshold }], { x: "x", y: "y", text: () => `outlier threshold (${threshold}x)`, dy: -7, textAnchor: "start", fill: SERIES_COLORS[1] }),
      Plot.dot(rows, { x: "x", y: "ratio", r: (d: { rank: number }) => 4 - d.rank, fill: (d: { rank: number }) => SERIES_COLORS[d.rank === 0 ? 0 : 9], title: (d: { dim: number; ratio: number }) => `dim ${d.dim}: ${Math.round(d.ratio)}x` }),
      Plot.text(labels, { x: "x", y: "ratio", text: (d: { dim: number }) => `dim ${d.dim}`, dy: -9, fontSize: 9 }),
    ],
  });
}

/** Linear CKA between every pair of layers. */
export function ckaMatrixChart(cka: readonly (readonly number[])[], heading = "Linear CKA between layers (1 = same representation up to rotation and scale)"): string {
  const n = cka.length;
  const ids = Array.from({ length: n }, (_, i) => pointLabel(i));
  const data = cka.flatMap((row, i) => row.map((v, j) => ({ x: ids[j]!, y: ids[i]!, value: v, text: v.toFixed(2) })));
  const lo = Math.min(...data.map((d) => d.value));
  return cellHeatmap(data, { heading, xLabel: "layer", yLabel: "layer", xDomain: ids, yDomain: ids, color: { scheme: "viridis", domain: [Math.min(lo, 0.9), 1] }, legend: "linear CKA", showText: n <= 10 });
}

/** CKA between the base model and the fine-tune, layer by layer. */
export function ckaBaseTunedChart(values: readonly number[]): string {
  const d = values.map((y, x) => ({ x, y }));
  return renderSvg({
    heading: "Base vs fine-tuned: linear CKA of each layer's representation (1 = unchanged)",
    width: 720,
    height: 280,
    marginLeft: 60,
    marginBottom: 44,
    x: { ...xLayer, ticks: axisTicks(values.length) },
    y: { label: "CKA(base, fine-tuned)", labelAnchor: "center", labelArrow: "none", grid: true, domain: [Math.min(0.9, ...values), 1] },
    marks: [Plot.lineY(d, { x: "x", y: "y", stroke: SERIES_COLORS[1], strokeWidth: 2 }), Plot.dot(d, { x: "x", y: "y", fill: SERIES_COLORS[1] })],
  });
}

/** Logit lens of one prompt: the top token read from each layer (rows) at each of the last positions (columns). */
export function logitLensChart(entry: LensEntry): string {
  const cols = entry.positions.map((p, i) => `${p}: ${entry.tokens[i]}`);
  const data = entry.layers.flatMap((l) => l.top.map((top, i) => ({ x: cols[i]!, y: pointLabel(l.layer), value: top[0]?.[1] ?? 0, text: (top[0]?.[0] ?? "").slice(0, 10) })));
  const ys = entry.layers.map((l) => pointLabel(l.layer));
  return cellHeatmap(data, {
    heading: `Logit lens, prompt ${entry.prompt}: top next token read from each layer (columns: position: input token)`,
    xLabel: "position: input token",
    yLabel: "layer",
    xDomain: cols,
    yDomain: ys,
    color: { scheme: "greens", domain: [0, 1] },
    legend: "probability of the top token",
    showText: true,
    cellPx: 74,
    tickRotateX: -30,
    marginBottom: 70,
  });
}
