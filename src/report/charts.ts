// SVG charts for the HTML document, as plain strings (no DOM needed, deterministic for snapshots).
import type { Decision } from "../decide/decision.js";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563"];

/** Horizontal bars: peak VRAM of each GPU experiment on the current card, with each card's capacity as a line. */
export function vramChart(d: Decision): string {
  const rows = d.experiments.filter((e) => !e.cpu_only);
  const cards = d.options.filter((o) => o.kind !== "cloud");
  const max = Math.max(...rows.map((e) => e.options[0]!.peak_bytes), ...cards.map((c) => c.usable_bytes)) * 1.05;
  const left = 260;
  const width = 820;
  const bar = 18;
  const top = 30;
  const h = top + rows.length * (bar + 6) + 50;
  const x = (b: number) => left + ((width - left - 20) * b) / max;
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${h}" role="img" aria-label="Peak VRAM per experiment against each card's memory" font-family="sans-serif" font-size="11">`];
  parts.push(`<text x="${left}" y="16" font-size="12" font-weight="bold">Peak VRAM per experiment (estimated, on the current card) against each card's usable memory</text>`);
  rows.forEach((e, i) => {
    const c = e.options[0]!;
    const y = top + i * (bar + 6);
    parts.push(`<text x="${left - 6}" y="${y + 13}" text-anchor="end">${esc(e.title.slice(0, 42))}</text>`);
    parts.push(`<rect x="${left}" y="${y}" width="${(x(c.peak_bytes) - left).toFixed(1)}" height="${bar}" fill="${c.fits ? "#60a5fa" : "#f87171"}"><title>${esc(e.title)}: ${(c.peak_bytes / 2 ** 30).toFixed(1)} GiB${c.fits ? "" : " (does not fit)"}</title></rect>`);
  });
  // one dashed line per capacity; cards of the same size share a line and a label
  const byCapacity = new Map<number, string[]>();
  for (const c of cards) {
    const gib = Math.round(c.usable_bytes / 2 ** 30);
    byCapacity.set(gib, [...(byCapacity.get(gib) ?? []), c.gpu.replace(/^(GeForce|NVIDIA) /, "").replace(/ \d+GB.*$/, "")]);
  }
  [...byCapacity.entries()].sort((a, b) => a[0] - b[0]).forEach(([gib, names], i) => {
    const xx = x(gib * 2 ** 30).toFixed(1);
    const color = COLORS[i % COLORS.length]!;
    parts.push(`<line x1="${xx}" x2="${xx}" y1="${top - 4}" y2="${h - 40}" stroke="${color}" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${xx}" y="${h - 40 + 12 + (i % 3) * 12}" text-anchor="middle" fill="${color}">${esc(names.join(" / "))} ${gib} GiB</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}

/** Cumulative cost month by month: staying (and bursting) against each purchase. */
export function costChart(d: Decision): string {
  const H = d.assumptions.horizon_months;
  const series = d.strategies.map((s) => {
    const running = s.horizon_cost_usd / H - (s.capex_usd - s.resale_usd) / H; // electricity + bursts per month
    const pts = Array.from({ length: H + 1 }, (_, m) => s.capex_usd + running * m - (m === H ? s.resale_usd : 0));
    return { name: s.kind === "current" ? "stay + burst" : s.choice.replace(/NVIDIA |GeForce /g, ""), pts };
  });
  const max = Math.max(...series.flatMap((s) => s.pts)) * 1.1 || 1;
  const left = 60;
  const width = 820;
  const height = 340;
  const bottom = 40;
  const x = (m: number) => left + ((width - left - 200) * m) / H;
  const y = (v: number) => height - bottom - ((height - bottom - 30) * v) / max;
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="Cumulative cost over time, buying against renting" font-family="sans-serif" font-size="11">`];
  parts.push(`<text x="${left}" y="16" font-size="12" font-weight="bold">Cumulative cost over ${H} months (estimated): buying against staying and renting</text>`);
  parts.push(`<line x1="${left}" x2="${x(H)}" y1="${y(0)}" y2="${y(0)}" stroke="#999"/><line x1="${left}" x2="${left}" y1="${y(0)}" y2="30" stroke="#999"/>`);
  for (let m = 0; m <= H; m += Math.max(1, Math.round(H / 6))) parts.push(`<text x="${x(m)}" y="${y(0) + 14}" text-anchor="middle">${m}</text>`);
  parts.push(`<text x="${x(H / 2)}" y="${height - 8}" text-anchor="middle">months</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    parts.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">$${Math.round(v).toLocaleString("en-US")}</text>`);
  }
  // end labels, pushed apart so that close lines stay readable
  const labels = series.map((s, i) => ({ i, y: y(s.pts[H]!) + 4 })).sort((a, b) => a.y - b.y);
  for (let k = 1; k < labels.length; k++) labels[k]!.y = Math.max(labels[k]!.y, labels[k - 1]!.y + 12);
  const labelY = new Map(labels.map((l) => [l.i, l.y]));
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const path = s.pts.map((v, m) => `${m === 0 ? "M" : "L"}${x(m).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    parts.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="${i === 0 ? 3 : 1.5}"><title>${esc(s.name)}</title></path>`);
    parts.push(`<text x="${x(H) + 6}" y="${labelY.get(i)!.toFixed(1)}" fill="${color}">${esc(s.name)} $${Math.round(s.pts[H]!).toLocaleString("en-US")}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}
