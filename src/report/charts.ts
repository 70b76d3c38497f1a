// The decision's charts, drawn with Observable Plot (renderSvg): peak VRAM per experiment against the exact
// usable memory of each card that could run it, and the cumulative cost of staying against each purchase.
import type { Decision } from "../decide/decision.js";
import type { Verdict } from "../decide/feasibility.js";
import { Plot, renderSvg, SERIES_COLORS } from "./plot.js";
import { thousands } from "./units.js";

const GIB = 2 ** 30;
const CHAR_PX = 6.3; // average glyph width of Plot's 10px sans-serif, for margins and label fitting
export const VERDICT_COLORS: Readonly<Record<Verdict, string>> = { fits: "#4e79a7", tight: "#f28e2c", no: "#e15759" };

/** Shorten a label at a word boundary so it fits `max` characters ("Forgetting evaluation (perplexity…" not "Forgetting evaluat"). */
export function fitLabel(s: string, max: number): string {
  const plain = s.replace(/\s*\([^)]*\)\s*$/, "").trim() || s;
  const base = plain.length <= max ? plain : s;
  if (base.length <= max) return base;
  const cut = base.slice(0, max - 1);
  const at = cut.lastIndexOf(" ");
  return `${(at > max / 2 ? cut.slice(0, at) : cut).replace(/[\s,(–-]+$/, "")}…`;
}

const cardName = (gpu: string) => gpu.replace(/^(GeForce|NVIDIA) /, "").replace(/ \d+GB$/, "");

interface Bar {
  readonly label: string;
  readonly gib: number;
  readonly high: number;
  readonly verdict: Verdict;
  readonly text: string;
}

/** Horizontal bars: the expected peak of each GPU experiment on the current card (per GPU for multi-GPU work),
 *  with the estimate's band, coloured by verdict; one vertical line per card at its exact usable memory. */
export function vramChart(d: Decision): string {
  const rows = d.experiments.filter((e) => !e.cpu_only);
  const maxLabel = 34;
  const bars: Bar[] = rows.map((e) => {
    const c = e.options[0]!;
    const gib = c.peak_bytes / GIB;
    const per = c.gpus > 1 ? ` per GPU ×${c.gpus}` : "";
    return { label: fitLabel(e.title, maxLabel), gib, high: Math.max(c.high_bytes / GIB, gib), verdict: c.verdict, text: `${gib.toFixed(1)}${per}${c.verdict === "fits" ? "" : c.verdict === "tight" ? " tight" : " no"}` };
  });
  // the cards that matter to the decision: the current one and every purchase candidate; equal capacities share a label
  const cards = d.options.filter((o) => o.kind !== "cloud");
  const caps = new Map<number, string[]>();
  for (const c of cards) {
    const g = Math.round((c.usable_bytes / GIB) * 100) / 100;
    caps.set(g, [...(caps.get(g) ?? []), cardName(c.gpu)]);
  }
  const capRows = [...caps.entries()].sort((a, b) => a[0] - b[0]).map(([gib, names], i) => ({ gib, label: `${names.join(" / ")} ${gib.toFixed(2)}`, i, current: names.includes(cardName(d.current_gpu)) }));
  // labels of close lines go on alternating rows above the bars so they never overlap
  const xMax = Math.max(...bars.map((b) => b.high), ...capRows.map((c) => c.gib)) * 1.08;
  const width = 860;
  const marginLeft = Math.round(Math.max(...bars.map((b) => b.label.length)) * CHAR_PX) + 12;
  const plotWidth = width - marginLeft - 20;
  let lastX = -Infinity;
  let row = 0;
  const capLabels = capRows.map((c) => {
    const x = (c.gib / xMax) * plotWidth;
    row = x - lastX < c.label.length * CHAR_PX + 8 ? row + 1 : 0;
    lastX = x;
    return { ...c, row: row % 3 };
  });
  const order = bars.map((b) => b.label);
  return renderSvg({
    heading: `Peak VRAM per experiment on the ${d.current_gpu} (estimated), against each card's usable memory`,
    width,
    height: 52 + bars.length * 24 + 72,
    marginLeft,
    marginRight: 20,
    marginTop: 52,
    marginBottom: 72,
    x: { domain: [0, xMax], label: "GiB (expected peak; whisker: top of the estimate's band)", labelAnchor: "center", labelArrow: "none", labelOffset: 32, grid: true, nice: false, ticks: 8 },
    y: { domain: order, label: null, tickSize: 0 },
    marks: [
      Plot.barX(bars, { x: "gib", y: "label", fill: (b: Bar) => VERDICT_COLORS[b.verdict], fillOpacity: 0.85, insetTop: 3, insetBottom: 3 }),
      Plot.ruleY(bars, { y: "label", x1: "gib", x2: "high", stroke: "#333", strokeWidth: 1.2 }),
      Plot.text(bars, { x: "high", y: "label", text: "text", textAnchor: "start", dx: 4, fill: "#222" }),
      Plot.ruleX(capRows.filter((c) => c.current), { x: "gib", stroke: (c: (typeof capRows)[number]) => SERIES_COLORS[c.i % SERIES_COLORS.length]!, strokeWidth: 2 }),
      Plot.ruleX(capRows.filter((c) => !c.current), { x: "gib", stroke: (c: (typeof capRows)[number]) => SERIES_COLORS[c.i % SERIES_COLORS.length]!, strokeWidth: 1.3, strokeDasharray: "5 3" }),
      ...[0, 1, 2].flatMap((r) =>
        [true, false].map((cur) =>
          Plot.text(capLabels.filter((c) => c.row === r && c.current === cur), { x: "gib", frameAnchor: "top", dy: -44 + r * 13, text: "label", fill: (c: (typeof capLabels)[number]) => SERIES_COLORS[c.i % SERIES_COLORS.length]!, textAnchor: "middle", fontWeight: cur ? "bold" : "normal" }),
        ),
      ),
      ...(["fits", "tight", "no"] as const).map((v, k) =>
        Plot.text([{ t: `■ ${v === "fits" ? "fits" : v === "tight" ? "tight: the band crosses the card's memory" : "does not fit"}` }], { frameAnchor: "bottom-left", dy: 62, dx: -marginLeft + 8 + [0, 60, 320][k]!, text: "t", fill: VERDICT_COLORS[v], textAnchor: "start" }),
      ),
      Plot.frame({ anchor: "bottom" }),
    ],
  });
}

interface CostPoint {
  readonly month: number;
  readonly usd: number;
  readonly series: string;
}

/** Cumulative cost month by month: staying (and bursting) against each purchase; the price is paid at month 0,
 *  running costs accrue monthly and the resale comes back at the horizon. Lines that coincide are drawn dashed
 *  and named together. */
export function costChart(d: Decision): string {
  const H = d.assumptions.horizon_months;
  const series = d.strategies.map((s, i) => {
    const running = (s.breakdown.job_electricity_usd + s.breakdown.idle_electricity_usd + s.breakdown.cloud_usd) / H;
    const opt = d.options.find((o) => o.name === s.option)!;
    const name = s.kind === "current" ? `stay: ${cardName(opt.gpu)}` : `${cardName(opt.gpu)}${opt.condition === "used" ? " (used)" : ""}`;
    // cash out, month by month: the price at month 0, running costs every month; the resale comes back at the horizon
    const pts = Array.from({ length: H + 1 }, (_, m) => s.capex_usd + running * m);
    const net = s.horizon_cost_usd;
    return { name, pts, net, color: SERIES_COLORS[i % SERIES_COLORS.length]!, current: s.kind === "current", flag: opt.kind === "buy" && !opt.upgrade ? " (not an upgrade)" : opt.dominated_by ? " (dominated)" : "" };
  });
  const yMax = Math.max(...series.flatMap((s) => s.pts));
  // a line on top of an earlier one (within 1% of the scale at every month) is dashed and named with it
  const overlaps = series.map((s, i) => series.slice(0, i).findIndex((o) => o.pts.every((v, m) => Math.abs(v - s.pts[m]!) <= 0.01 * yMax)));
  const data: CostPoint[] = series.flatMap((s) => s.pts.map((usd, month) => ({ month, usd, series: s.name })));
  // end labels pushed apart vertically (in dollars: 13 px of the plot's height)
  const height = 360;
  const plotH = height - 40 - 40;
  const gap = (yMax * 1.05 * 13) / plotH;
  const ends = series.map((s, i) => ({ i, y: s.net })).sort((a, b) => a.y - b.y);
  for (let k = 1; k < ends.length; k++) ends[k]!.y = Math.max(ends[k]!.y, ends[k - 1]!.y + gap);
  const labels = ends.map(({ i, y }) => {
    const s = series[i]!;
    const same = overlaps[i]! >= 0 ? ` (on top of ${series[overlaps[i]!]!.name})` : "";
    return { month: H, usd: y, text: `${s.name} $${thousands(Math.round(s.net))}${s.flag}${same}`, color: s.color };
  });
  const marks: Plot.Markish[] = [];
  series.forEach((s, i) => {
    const pts = data.filter((p) => p.series === s.name);
    marks.push(Plot.lineY(pts, { x: "month", y: "usd", stroke: s.color, strokeWidth: s.current ? 3 : 1.8, strokeDasharray: overlaps[i]! >= 0 ? "6 4" : s.flag ? "2 3" : undefined }));
    // the resale at the horizon: a dashed drop to the net cost, marked with a dot
    if (s.pts[H]! - s.net > 0.5) marks.push(Plot.ruleX([{ month: H, y1: s.net, y2: s.pts[H]! }], { x: "month", y1: "y1", y2: "y2", stroke: s.color, strokeDasharray: "2 2" }));
    marks.push(Plot.dot([{ month: H, usd: s.net }], { x: "month", y: "usd", fill: s.color, r: 3 }));
  });
  const marginRight = Math.round(Math.max(...labels.map((l) => l.text.length)) * CHAR_PX) + 16;
  return renderSvg({
    heading: `Cumulative cost over ${H} months (estimated): staying and renting against buying; dots: net of resale`,
    width: 860,
    height,
    marginLeft: 64,
    marginRight,
    marginBottom: 40,
    x: { domain: [0, H], label: "months", labelAnchor: "center", labelArrow: "none", ticks: Math.min(H, 12), tickFormat: (m: number) => String(m) },
    y: { domain: [0, yMax * 1.05], label: null, grid: true, nice: true, tickFormat: (v: number) => `$${thousands(Math.round(v))}` },
    marks: [...marks, Plot.text(labels, { x: "month", y: "usd", text: "text", fill: "color", textAnchor: "start", dx: 6 }), Plot.ruleY([0], { stroke: "#999" })],
  });
}
