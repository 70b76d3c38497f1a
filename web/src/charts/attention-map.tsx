// One head's attention map with the prompt's tokens on the axes: query tokens down, key tokens across, drawn by
// Observable Plot's raster mark (one image, however many tokens). A pooled map's bin b covers tokens
// [edges[b], edges[b+1]) (the server sends the edges); the image spans the token axes, so a token's position is
// the same whether the map is pooled or at full resolution. Hovering names the query and key tokens under the
// pointer and the value there (for a pooled map, the mean over its bin's tokens); Plot's scales invert the
// pointer's position.
import { useEffect, useRef, useState } from "preact/hooks";
import type { MapTile } from "../api.ts";
import { Plot } from "./plot.tsx";

export interface AttentionMapProps {
  readonly tile: MapTile;
  readonly tokens: readonly string[];
  /** pooled bins' token edges (length rows + 1); ignored at full resolution */
  readonly edges: readonly number[];
  readonly title: string;
  /** a difference of two maps: diverging colours around 0 (red = more attention after fine-tuning) */
  readonly diverging?: boolean;
  readonly side?: number;
  readonly testid: string;
}

interface Hover {
  readonly q: number;
  readonly k: number;
  readonly value: number;
  readonly bin: { q: [number, number]; k: [number, number] } | null;
  readonly x: number;
  readonly y: number;
  /** the box's width: the tip opens to the left of the pointer in the right half */
  readonly w: number;
}

const shortTok = (t: string | undefined) => {
  const s = (t ?? "").replace(/\s/g, "␣");
  return s.length > 12 ? `${s.slice(0, 11)}…` : s;
};

/** The bin of token t: the worker's floor(t * P / T). */
const binOf = (t: number, P: number, T: number) => Math.min(P - 1, Math.floor((t * P) / T));

export function AttentionMap(p: AttentionMapProps) {
  const box = useRef<HTMLDivElement>(null);
  const [hover, setHover] = useState<Hover | null>(null);
  const T = p.tokens.length;
  const pooled = p.tile.rows !== T || p.tile.cols !== T;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const t0 = performance.now();
    const { rows, cols, data } = p.tile;
    let max = 0;
    for (let i = 0; i < data.length; i++) max = Math.max(max, Math.abs(data[i]!));
    const side = p.side ?? Math.max(300, Math.min(560, 14 * T));
    const every = Math.max(1, Math.ceil((T * 13) / side));
    const ticks = Array.from({ length: T }, (_, i) => i).filter((i) => i % every === 0).map((i) => i + 0.5);
    const label = (v: number) => shortTok(p.tokens[Math.floor(v)]);
    const fig = Plot.plot({
      width: side + 96,
      height: side + 20 + 86,
      marginLeft: 86,
      marginRight: 10,
      marginTop: 20,
      marginBottom: 86,
      x: { domain: [0, T], ticks, tickFormat: label, tickRotate: -60, label: "key token (attended to) →", labelAnchor: "center", labelArrow: "none" },
      // query 0 at the top, as a matrix reads
      y: { domain: [T, 0], ticks, tickFormat: label, label: "↓ query token", labelAnchor: "center", labelArrow: "none" },
      color: p.diverging
        ? { type: "diverging", scheme: "rdbu", reverse: true, domain: [-Math.max(max, 1e-6), Math.max(max, 1e-6)], legend: true, label: "fine-tuned − base" }
        : { type: "sqrt", scheme: "blues", domain: [0, Math.max(max, 1e-6)], legend: true, label: pooled ? "attention (mean over the bin)" : "attention weight" },
      marks: [Plot.raster(data, { width: cols, height: rows, x1: 0, x2: T, y1: 0, y2: T, fill: Plot.identity, imageRendering: "pixelated" }), Plot.frame({ stroke: "#ccc" })],
    });
    el.replaceChildren(fig);
    // the chart's own svg (Plot puts the colour legend's before it)
    const svg = (fig.tagName.toLowerCase() === "svg" ? fig : [...fig.querySelectorAll("svg")].at(-1)) as SVGSVGElement;
    svg.setAttribute("data-map", "");
    const x = fig.scale("x") as { invert: (px: number) => number };
    const y = fig.scale("y") as { invert: (px: number) => number };
    const move = (e: PointerEvent) => {
      const m = svg.getScreenCTM();
      if (!m) return;
      const pt = new DOMPoint(e.clientX, e.clientY).matrixTransform(m.inverse());
      const k = Math.floor(x.invert(pt.x));
      const q = Math.floor(y.invert(pt.y));
      if (!(k >= 0 && k < T && q >= 0 && q < T)) return setHover(null);
      const bq = pooled ? binOf(q, rows, T) : q;
      const bk = pooled ? binOf(k, cols, T) : k;
      const r = el.getBoundingClientRect();
      setHover({ q, k, value: data[bq * cols + bk]!, bin: pooled ? { q: [p.edges[bq]!, p.edges[bq + 1]! - 1], k: [p.edges[bk]!, p.edges[bk + 1]! - 1] } : null, x: e.clientX - r.left, y: e.clientY - r.top, w: r.width });
    };
    const leave = () => setHover(null);
    svg.addEventListener("pointermove", move);
    svg.addEventListener("pointerleave", leave);
    el.dataset.drawMs = (performance.now() - t0).toFixed(1);
    el.dataset.drawnAt = String(performance.now());
    return () => {
      svg.removeEventListener("pointermove", move);
      svg.removeEventListener("pointerleave", leave);
      fig.remove();
    };
  }, [p.tile, p.tokens, p.diverging, p.side]);

  const say = (h: Hover) => `query “${shortTok(p.tokens[h.q])}” #${h.q} → key “${shortTok(p.tokens[h.k])}” #${h.k}: ${h.value.toFixed(4)}`;
  const span = (a: [number, number]) => (a[0] === a[1] ? `token ${a[0]}` : `tokens ${a[0]}–${a[1]}`);
  const binSay = (b: NonNullable<Hover["bin"]>) => `mean over query ${span(b.q)} × key ${span(b.k)}`;
  return (
    <figure class="chart attention-map" style={p.side ? { width: `${p.side + 96}px` } : undefined} data-testid={p.testid} data-rows={p.tile.rows} data-cols={p.tile.cols} data-tokens={T} data-resolution={p.tile.resolution}>
      <figcaption>{p.title}</figcaption>
      <div class="map-box">
        <div ref={box} class="plot" />
        {hover ? (
          <div class="map-tip" style={hover.x > hover.w / 2 ? { right: `${hover.w - hover.x + 14}px`, top: `${hover.y + 14}px` } : { left: `${hover.x + 14}px`, top: `${hover.y + 14}px` }}>
            {say(hover)}
            {hover.bin ? <div class="sub">{binSay(hover.bin)}</div> : null}
          </div>
        ) : null}
      </div>
      <p class="sub hover-line" data-testid={`${p.testid}-hover`} data-query={hover?.q ?? ""} data-key={hover?.k ?? ""} data-value={hover?.value ?? ""}>
        {hover ? say(hover) + (hover.bin ? ` (${binSay(hover.bin)})` : "") : pooled ? `pooled to ${p.tile.rows} × ${p.tile.cols} bins of ${T} tokens; hover for a token pair` : `${T} tokens at full resolution; hover for a token pair`}
      </p>
    </figure>
  );
}
