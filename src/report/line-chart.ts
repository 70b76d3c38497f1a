// A small SVG line chart (several series over a shared x axis): loss curves, sweeps, forgetting curves.
const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563"];
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
  readonly dashed?: boolean;
  /** series with the same group share a colour (e.g. one run's train and eval curves) */
  readonly group?: number;
}

export function lineChart(title: string, xLabel: string, yLabel: string, series: readonly Series[]): string {
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const width = 720;
  const height = 320;
  const left = 60;
  const right = 160;
  const top = 30;
  const bottom = 40;
  if (all.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} 60"><text x="10" y="30">${esc(title)}: no data</text></svg>`;
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs) || 1];
  const [y0, y1] = [Math.min(0, ...ys), Math.max(...ys) * 1.05 || 1];
  const X = (x: number) => left + ((width - left - right) * (x - x0)) / (x1 - x0 || 1);
  const Y = (y: number) => height - bottom - ((height - top - bottom) * (y - y0)) / (y1 - y0 || 1);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}" font-family="sans-serif" font-size="11">`];
  parts.push(`<text x="${left}" y="16" font-size="12" font-weight="bold">${esc(title)}</text>`);
  parts.push(`<line x1="${left}" x2="${width - right}" y1="${Y(y0)}" y2="${Y(y0)}" stroke="#999"/><line x1="${left}" x2="${left}" y1="${Y(y0)}" y2="${top}" stroke="#999"/>`);
  for (let i = 0; i <= 4; i++) {
    const x = x0 + ((x1 - x0) * i) / 4;
    const y = y0 + ((y1 - y0) * i) / 4;
    parts.push(`<text x="${X(x).toFixed(1)}" y="${Y(y0) + 14}" text-anchor="middle">${Number(x.toPrecision(3))}</text>`);
    parts.push(`<text x="${left - 6}" y="${(Y(y) + 4).toFixed(1)}" text-anchor="end">${Number(y.toPrecision(3))}</text>`);
  }
  parts.push(`<text x="${(left + width - right) / 2}" y="${height - 6}" text-anchor="middle">${esc(xLabel)}</text>`);
  parts.push(`<text x="12" y="${(top + height - bottom) / 2}" transform="rotate(-90 12 ${(top + height - bottom) / 2})" text-anchor="middle">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (pts.length === 0) return;
    const color = COLORS[(s.group ?? i) % COLORS.length]!;
    const d = pts.map(([x, y], j) => `${j ? "L" : "M"}${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(" ");
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="5 3"' : ""}><title>${esc(s.name)}</title></path>`);
    if (pts.length === 1) parts.push(`<circle cx="${X(pts[0]![0]).toFixed(1)}" cy="${Y(pts[0]![1]).toFixed(1)}" r="3" fill="${color}"/>`);
    parts.push(`<text x="${width - right + 8}" y="${top + 14 * i + 10}" fill="${color}">${esc(s.name)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}
