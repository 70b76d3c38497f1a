// Line charts of several series over a shared x axis (loss curves, sweeps, forgetting curves), drawn with
// Observable Plot: a value axis with round ticks and grid, one colour per group, dashed eval curves, and
// the series names as end labels.
import { Plot, renderSvg, SERIES_COLORS } from "./plot.js";

export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
  readonly dashed?: boolean;
  /** series with the same group share a colour (e.g. one run's train and eval curves) */
  readonly group?: number;
}

interface Point {
  readonly x: number;
  readonly y: number;
  readonly series: string;
  readonly color: string;
}

export function lineChart(title: string, xLabel: string, yLabel: string, series: readonly Series[]): string {
  const color = (s: Series, i: number) => SERIES_COLORS[(s.group ?? i) % SERIES_COLORS.length]!;
  const rows = series.map((s, i) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y]): Point => ({ x, y, series: s.name, color: color(s, i) })));
  if (rows.every((r) => r.length === 0)) {
    return renderSvg({ heading: `${title}: no data`, height: 60, width: 720, axis: null, marks: [] });
  }
  const marks: Plot.Markish[] = [];
  series.forEach((s, i) => {
    const pts = rows[i]!;
    if (pts.length === 0) return;
    marks.push(Plot.lineY(pts, { x: "x", y: "y", stroke: color(s, i), strokeWidth: 1.8, strokeDasharray: s.dashed ? "5 3" : undefined }));
    if (pts.length === 1) marks.push(Plot.dot(pts, { x: "x", y: "y", fill: color(s, i), r: 3 }));
    marks.push(Plot.text([pts.at(-1)!], { x: "x", y: "y", text: () => s.name, fill: color(s, i), textAnchor: "start", dx: 6 }));
  });
  return renderSvg({
    heading: title,
    width: 760,
    height: 340,
    marginLeft: 56,
    marginRight: 170,
    marginBottom: 40,
    x: { label: xLabel, labelAnchor: "center", labelArrow: "none", nice: true },
    y: { label: yLabel, labelArrow: "none", grid: true, nice: true, zero: false },
    marks: [...marks, Plot.frame({ anchor: "bottom" })],
  });
}
