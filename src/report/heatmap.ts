// Heat maps drawn with Observable Plot: cells (a value per layer x head, layer x layer...) or one image
// (an attention map), with a colour ramp drawn by Plot as its own small chart under the main one, since
// Plot's ramp legend needs a canvas that server-side rendering does not have. Both are stacked in one SVG.
import { Plot, renderSvg } from "./plot.js";
import { colorizer, type ColorScaleOptions } from "./png.js";

/** Room for a bold 13 px heading (about 7.5 px per character). */
export const headingWidth = (heading: string) => Math.ceil(heading.length * 7.5) + 24;

/** Black or white text, whichever reads better on the cell's colour (relative luminance, WCAG 2). */
export function textColorOn(rgb: readonly [number, number, number]): string {
  const lin = (c: number) => {
    const x = c / 255;
    return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  };
  const l = 0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2]);
  return l > 0.35 ? "black" : "white";
}

/** A colour ramp for `o`, labelled, as a Plot chart of cells. */
export function rampSvg(label: string, o: ColorScaleOptions, width = 320): string {
  const n = 64;
  const [a, b] = o.domain;
  const cells = Array.from({ length: n }, (_, i) => ({ x: a + ((i + 0.5) / n) * (b - a) }));
  return renderSvg({
    width,
    height: 56,
    marginTop: 4,
    marginLeft: 10,
    marginRight: 10,
    marginBottom: 38,
    x: { domain: [a, b], label, labelAnchor: "center", labelArrow: "none", labelOffset: 32, ticks: 5 },
    y: { axis: null },
    color: { type: o.type ?? "linear", scheme: o.scheme, domain: [a, b] },
    marks: [Plot.rectY(cells, { x1: (d: { x: number }) => d.x - (b - a) / n / 2, x2: (d: { x: number }) => d.x + (b - a) / n / 2, y1: 0, y2: 1, fill: "x" })],
  });
}

/** Put `below` under `chart`: one standalone SVG holding both (nested <svg> elements keep their own boxes). */
export function stackSvg(chart: string, below: string): string {
  const size = (svg: string) => {
    const w = /width="(\d+(?:\.\d+)?)"/.exec(svg);
    const h = /height="(\d+(?:\.\d+)?)"/.exec(svg);
    return { w: Number(w?.[1] ?? 640), h: Number(h?.[1] ?? 400) };
  };
  const a = size(chart);
  const b = size(below);
  const width = Math.max(a.w, b.w);
  const place = (svg: string, y: number) => svg.replace(/^<svg /, `<svg x="0" y="${y}" `);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${a.h + b.h}" viewBox="0 0 ${width} ${a.h + b.h}" role="img"${/aria-label="([^"]*)"/.test(chart) ? ` aria-label="${/aria-label="([^"]*)"/.exec(chart)![1]}"` : ""}>${place(chart, 0)}${place(below, a.h)}</svg>`;
}

export interface CellDatum {
  readonly x: number | string;
  readonly y: number | string;
  readonly value: number;
  readonly text?: string;
}

export interface CellHeatmapOptions {
  readonly heading: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly color: ColorScaleOptions;
  readonly legend: string;
  readonly cellPx?: number;
  readonly xDomain?: readonly (number | string)[];
  readonly yDomain?: readonly (number | string)[];
  /** draw each cell's text (small grids, tables) */
  readonly showText?: boolean;
  readonly tickFormatX?: (v: number | string) => string;
  readonly tickRotateX?: number;
  readonly marginLeft?: number;
  readonly marginBottom?: number;
}

/** One cell per datum, coloured by value; layers (y) read top to bottom. */
export function cellHeatmap(data: readonly CellDatum[], o: CellHeatmapOptions): string {
  const xs = o.xDomain ?? [...new Set(data.map((d) => d.x))];
  const ys = o.yDomain ?? [...new Set(data.map((d) => d.y))];
  const px = o.cellPx ?? Math.max(10, Math.min(48, Math.floor(640 / Math.max(xs.length, 1))));
  const marginLeft = o.marginLeft ?? 64;
  const marginBottom = o.marginBottom ?? 40;
  const width = Math.max(360, marginLeft + 20 + px * xs.length, headingWidth(o.heading));
  const height = 40 + marginBottom + Math.max(px, 8) * ys.length;
  const marks: Plot.Markish[] = [Plot.cell(data, { x: "x", y: "y", fill: "value", inset: 0.5, title: (d: CellDatum) => `${o.yLabel} ${d.y}, ${o.xLabel} ${d.x}: ${d.text ?? d.value.toPrecision(3)}` })];
  const paint = colorizer(o.color);
  if (o.showText) marks.push(Plot.text(data, { x: "x", y: "y", text: (d: CellDatum) => d.text ?? d.value.toFixed(2), fill: (d: CellDatum) => textColorOn(paint(d.value)), fontSize: 9 }));
  const chart = renderSvg({
    heading: o.heading,
    width,
    height,
    marginLeft,
    marginBottom,
    marginRight: 20,
    padding: 0,
    x: { domain: [...xs], label: o.xLabel, labelAnchor: "center", labelArrow: "none", tickFormat: o.tickFormatX, tickRotate: o.tickRotateX ?? 0 },
    y: { domain: [...ys], label: o.yLabel, labelArrow: "none" },
    color: { type: o.color.type ?? "linear", scheme: o.color.scheme, domain: [...o.color.domain] },
    marks,
  });
  return stackSvg(chart, rampSvg(o.legend, o.color, Math.min(360, width)));
}
