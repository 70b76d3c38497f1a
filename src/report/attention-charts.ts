// Pictures of attention (Track B): layer x head heat maps of each statistic, the model view (every head's
// pooled map in one grid), one head's map with the prompt's tokens on its axes, and the base-vs-fine-tuned
// difference heat maps with the LoRA update of each module. Pure functions of the worker's results.
import { mapDifference } from "../analyze/finetune-diff.js";
import type { CompareHead, HeadStatName, HeadStats, LoraModuleNorm } from "../runs/inspect-results.js";
import { cellHeatmap, headingWidth, rampSvg, stackSvg } from "./heatmap.js";
import { Plot, renderSvg } from "./plot.js";
import { colorizer, downsample, matrixPng, type ColorScaleOptions } from "./png.js";

export const STAT_TITLES: Record<HeadStatName, { title: string; legend: string }> = {
  entropy: { title: "Attention entropy per head", legend: "entropy (nats), low = focused" },
  mean_distance: { title: "Mean attention distance per head", legend: "mean distance (tokens)" },
  first_token_share: { title: "Attention on the first token (sink) per head", legend: "share of attention on token 0" },
  prev_token_share: { title: "Attention on the previous token per head", legend: "share on the previous token" },
  self_share: { title: "Attention on the token itself per head", legend: "share on the same token" },
};

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const maxOf = (xs: readonly number[]) => xs.reduce((m, x) => Math.max(m, x), 0);

/** Layer x head heat map of one statistic. */
export function headStatHeatmap(stats: readonly HeadStats[], stat: HeadStatName): string {
  const layers = maxOf(stats.map((s) => s.layer)) + 1;
  const heads = maxOf(stats.map((s) => s.head)) + 1;
  const share = stat.endsWith("share");
  const domain: [number, number] = share ? [0, 1] : [0, Math.max(1e-9, maxOf(stats.map((s) => s[stat])))];
  return cellHeatmap(
    stats.map((s) => ({ x: s.head, y: s.layer, value: s[stat] })),
    { heading: STAT_TITLES[stat].title, xLabel: "head", yLabel: "layer", xDomain: range(heads), yDomain: range(layers), color: { scheme: share ? "viridis" : "magma", domain, type: "linear" }, legend: STAT_TITLES[stat].legend, showText: layers * heads <= 64 },
  );
}

export interface MapGrid {
  /** [layer, head, query bin, key bin] block means, flattened */
  readonly data: Float32Array;
  readonly layers: number;
  readonly heads: number;
  readonly size: number;
}

/** The model view: every head's pooled map (query down, key across), one small image per head, layers as rows. */
export function modelView(grid: MapGrid, tokens: number, heading = "Model view: every head's attention map (query rows down, key columns across)"): string {
  const px = Math.max(18, Math.min(72, Math.floor(900 / grid.heads)));
  const thumb = Math.min(grid.size, Math.max(8, px));
  // sqrt colour scale: attention rows sum to 1 over up to thousands of keys, so most mass is small
  const color: ColorScaleOptions = { scheme: "blues", domain: [0, 1], type: "sqrt" };
  const paint = colorizer(color);
  const rows: { layer: number; head: number; src: string }[] = [];
  for (let l = 0; l < grid.layers; l++) {
    for (let h = 0; h < grid.heads; h++) {
      const off = (l * grid.heads + h) * grid.size * grid.size;
      const m = downsample(grid.size, grid.size, grid.data.subarray(off, off + grid.size * grid.size), thumb);
      rows.push({ layer: l, head: h, src: matrixPng(m.rows, m.cols, m.data, paint) });
    }
  }
  // facets of (px + 8) px a side with 6 % padding leave each image its px and a thin gap
  const cell = px + 8;
  const title = `${heading}, ${tokens} tokens`;
  const plotWidth = 60 + cell * grid.heads + 20;
  const width = Math.max(plotWidth, headingWidth(title));
  const chart = renderSvg({
    heading: title,
    width,
    height: 44 + 30 + cell * grid.layers,
    marginLeft: 60,
    marginBottom: 30,
    marginRight: 20 + width - plotWidth,
    fx: { domain: range(grid.heads), label: "head", padding: 0.06, axis: "bottom", labelAnchor: "center", labelArrow: "none" },
    fy: { domain: range(grid.layers), label: "layer", padding: 0.06, labelArrow: "none" },
    marks: [Plot.image(rows, { fx: "head", fy: "layer", frameAnchor: "middle", width: px, height: px, src: "src", imageRendering: "pixelated", preserveAspectRatio: "none" }), Plot.frame({ stroke: "#ddd" })],
  });
  return stackSvg(chart, rampSvg("attention (block mean, sqrt scale)", color, 320));
}

export interface HeadMap {
  readonly rows: number;
  readonly cols: number;
  readonly data: ArrayLike<number>;
}

/** One head's map with the prompt's tokens on the axes (every token when they fit, else evenly spaced ones).
 *  A pooled map's bin b covers tokens [b*T/P, (b+1)*T/P). */
export function headMapChart(map: HeadMap, tokens: readonly string[], heading: string): string {
  const T = tokens.length;
  const side = Math.max(320, Math.min(720, 14 * T));
  const color: ColorScaleOptions = { scheme: "blues", domain: [0, Math.max(1e-6, maxOf(Array.from(map.data)))], type: "sqrt" };
  const src = matrixPng(map.rows, map.cols, map.data, colorizer(color));
  const every = Math.max(1, Math.ceil(T / 48));
  const ticks = range(T).filter((i) => i % every === 0);
  const label = (i: number) => `${tokens[i] ?? ""}`.slice(0, 12);
  // the image fills the frame exactly: height = the heading's 24 px + Plot's 20 px top margin + side + bottom margin
  const chart = renderSvg({
    heading,
    width: Math.max(side + 110, headingWidth(heading)),
    height: side + 44 + 90,
    marginLeft: 90,
    marginBottom: 90,
    marginRight: Math.max(20, headingWidth(heading) - side - 90),
    x: { domain: [0, T], ticks: ticks.map((i) => i + 0.5), tickFormat: (v: number) => label(Math.floor(v)), tickRotate: -60, label: "key token (attended to)", labelAnchor: "center", labelArrow: "none" },
    y: { domain: [T, 0], ticks: ticks.map((i) => i + 0.5), tickFormat: (v: number) => label(Math.floor(v)), label: "query token", labelAnchor: "center", labelArrow: "none" },
    marks: [Plot.image([{ x: T / 2, y: T / 2 }], { x: "x", y: "y", width: side, height: side, src: () => src, imageRendering: "pixelated", preserveAspectRatio: "none" }), Plot.frame()],
  });
  return stackSvg(chart, rampSvg("attention weight (sqrt scale)", color, 320));
}

export type DiffMetric = "js_divergence" | "entropy_change" | "first_token_share_change" | "prev_token_share_change";
const DIFF_TITLES: Record<DiffMetric, { title: string; legend: string }> = {
  js_divergence: { title: "Base vs fine-tuned: Jensen-Shannon divergence of attention rows per head", legend: "JS divergence (nats, max ln 2)" },
  entropy_change: { title: "Base vs fine-tuned: change of attention entropy per head", legend: "entropy change (nats), fine-tuned - base" },
  first_token_share_change: { title: "Base vs fine-tuned: change of the first-token (sink) share per head", legend: "sink share change" },
  prev_token_share_change: { title: "Base vs fine-tuned: change of the previous-token share per head", legend: "previous-token share change" },
};

/** Layer x head heat map of the difference between the base model and the fine-tune. */
export function diffHeatmap(heads: readonly CompareHead[], metric: DiffMetric): string {
  const layers = maxOf(heads.map((s) => s.layer)) + 1;
  const n = maxOf(heads.map((s) => s.head)) + 1;
  const vals = heads.map((h) => h[metric]);
  const m = Math.max(1e-9, ...vals.map(Math.abs));
  const color: ColorScaleOptions = metric === "js_divergence" ? { scheme: "reds", domain: [0, m] } : { scheme: "rdbu", domain: [-m, m] };
  return cellHeatmap(
    heads.map((h) => ({ x: h.head, y: h.layer, value: h[metric], text: metric === "js_divergence" ? h[metric].toFixed(3) : h[metric].toFixed(2) })),
    { heading: DIFF_TITLES[metric].title, xLabel: "head", yLabel: "layer", xDomain: range(n), yDomain: range(layers), color, legend: DIFF_TITLES[metric].legend, showText: layers * n <= 64 },
  );
}

/** Which layers and modules the fine-tune touched: the norm of each LoRA update (alpha/r) B A. */
export function updateNormChart(modules: readonly LoraModuleNorm[], layers: number): string {
  if (modules.length === 0) return renderSvg({ heading: "LoRA update norms: the adapter has no LoRA module", height: 60, width: 640, axis: null, marks: [] });
  const names = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"].filter((n) => modules.some((m) => m.module === n));
  const other = [...new Set(modules.map((m) => m.module))].filter((n) => !names.includes(n));
  const max = Math.max(1e-12, ...modules.map((m) => m.update_norm));
  return cellHeatmap(
    modules.filter((m) => m.layer !== null).map((m) => ({ x: m.module, y: m.layer!, value: m.update_norm, text: m.update_norm.toPrecision(2) })),
    { heading: "LoRA update per module: ||(alpha/r) B A|| (from the adapter's weights alone)", xLabel: "module", yLabel: "layer", xDomain: [...names, ...other], yDomain: range(layers), color: { scheme: "oranges", domain: [0, max] }, legend: "Frobenius norm of the update", showText: layers <= 12, cellPx: 64 },
  );
}

/** Side by side, the base model's and the fine-tune's pooled maps of one head, and their difference. */
export function headPairChart(base: HeadMap, tuned: HeadMap, tokens: readonly string[], heading: string): string {
  const diff = mapDifference(base.data, tuned.data);
  const m = Math.max(1e-6, ...Array.from(diff, Math.abs));
  const blue = colorizer({ scheme: "blues", domain: [0, Math.max(1e-6, maxOf(Array.from(base.data)), maxOf(Array.from(tuned.data)))], type: "sqrt" });
  const div = colorizer({ scheme: "rdbu", domain: [m, -m] });
  const panels = [
    { panel: "base", src: matrixPng(base.rows, base.cols, base.data, blue) },
    { panel: "fine-tuned", src: matrixPng(tuned.rows, tuned.cols, tuned.data, blue) },
    { panel: "fine-tuned - base", src: matrixPng(tuned.rows, tuned.cols, diff, div) },
  ];
  const px = 220;
  return renderSvg({
    heading: `${heading} (${tokens.length} tokens; red = more attention after fine-tuning)`,
    width: 3 * (px + 20) + 40,
    height: px + 80,
    marginLeft: 20,
    marginBottom: 30,
    fx: { domain: panels.map((p) => p.panel), label: null, axis: "top" },
    marks: [Plot.image(panels, { fx: "panel", frameAnchor: "middle", width: px, height: px, src: "src", imageRendering: "pixelated", preserveAspectRatio: "none" }), Plot.frame({ stroke: "#ddd" })],
  });
}
