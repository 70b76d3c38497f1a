// One head's attention map with the prompt's tokens on the axes: query tokens down, key tokens across. Observable
// Plot draws the axes (token labels), the frame and the colour legend; the cells are painted into a canvas
// (ImageData, one pixel per cell, coloured through the same Plot colour scale's lookup table) laid over the
// frame, so a 2,048 x 2,048 map paints in milliseconds, where an SVG or Plot's raster mark takes seconds. A
// pooled map's bin b covers tokens [edges[b], edges[b+1]) (the server sends the edges); the image spans the
// token axes, so a token's position is the same whether the map is pooled or at full resolution. Hovering
// names the query and key tokens under the pointer and the value there (for a pooled map, the mean over its
// bin's tokens); Plot's scales invert the pointer's position.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";

// Each drawing of a map gets a number: the figure says which one it wants (`data-want`) and the drawing effect,
// which runs after paint, says which one it drew (`data-drawn`); equal means the SVG shows the current props.
let drawSeq = 0;
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

const LEVELS = 1024;
/** RGBA of LEVELS values evenly spaced over the scale's domain, from Plot's colour scale. */
function lookupTable(scale: Plot.ScaleOptions, lo: number, hi: number): Uint8ClampedArray {
  const sc = Plot.scale({ color: scale });
  const ctx = document.createElement("canvas").getContext("2d")!;
  const lut = new Uint8ClampedArray(LEVELS * 4);
  for (let i = 0; i < LEVELS; i++) {
    // the browser parses Plot's colour string (rgb(), hsl() or a name) into #rrggbb
    ctx.fillStyle = "#000";
    ctx.fillStyle = String(sc.apply!(lo + ((hi - lo) * i) / (LEVELS - 1)));
    const hex = ctx.fillStyle as string;
    lut[4 * i] = parseInt(hex.slice(1, 3), 16);
    lut[4 * i + 1] = parseInt(hex.slice(3, 5), 16);
    lut[4 * i + 2] = parseInt(hex.slice(5, 7), 16);
    lut[4 * i + 3] = 255;
  }
  return lut;
}

export function AttentionMap(p: AttentionMapProps) {
  const box = useRef<HTMLDivElement>(null);
  const [hover, setHover] = useState<Hover | null>(null);
  const T = p.tokens.length;
  const pooled = p.tile.rows !== T || p.tile.cols !== T;
  const drawId = useMemo(() => ++drawSeq, [p.tile, p.tokens, p.diverging, p.side]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const t0 = performance.now();
    const { rows, cols, data } = p.tile;
    let max = 0;
    for (let i = 0; i < data.length; i++) max = Math.max(max, Math.abs(data[i]!));
    max = Math.max(max, 1e-6);
    const side = p.side ?? Math.max(300, Math.min(560, 14 * T));
    const margin = { left: 86, right: 10, top: 8, bottom: 86 };
    // a label every 11 px at least (Plot's tick labels are 10 px)
    const every = Math.max(1, Math.ceil((T * 11) / side));
    const ticks = Array.from({ length: T }, (_, i) => i).filter((i) => i % every === 0).map((i) => i + 0.5);
    const label = (v: number) => shortTok(p.tokens[Math.floor(v)]);
    const color: Plot.ScaleOptions = p.diverging ? { type: "diverging", scheme: "rdbu", reverse: true, domain: [-max, max] } : { type: "sqrt", scheme: "blues", domain: [0, max] };
    const legend = Plot.legend({ color: { ...color, label: p.diverging ? "fine-tuned − base" : pooled ? "attention (mean over the bin)" : "attention weight" }, marginLeft: 12, marginRight: 12, width: 264 } as Parameters<typeof Plot.legend>[0]) as HTMLElement;
    const fig = Plot.plot({
      width: side + margin.left + margin.right,
      height: side + margin.top + margin.bottom,
      marginLeft: margin.left,
      marginRight: margin.right,
      marginTop: margin.top,
      marginBottom: margin.bottom,
      x: { domain: [0, T], ticks, tickFormat: label, tickRotate: -60, label: "key token (attended to) →", labelAnchor: "center", labelArrow: "none" },
      // query 0 at the top, as a matrix reads
      y: { domain: [T, 0], ticks, tickFormat: label, label: "↓ query token", labelAnchor: "center", labelArrow: "none" },
      marks: [Plot.frame({ stroke: "#ccc" })],
    }) as unknown as SVGSVGElement;
    fig.setAttribute("data-map", "");
    // the cells: one canvas pixel each, scaled over the frame
    const canvas = document.createElement("canvas");
    canvas.width = cols;
    canvas.height = rows;
    const img = new ImageData(cols, rows);
    const lo = p.diverging ? -max : 0;
    const lut = lookupTable(color, lo, max);
    const px = img.data;
    const scale = (LEVELS - 1) / (max - lo);
    for (let i = 0; i < data.length; i++) {
      const j = 4 * Math.max(0, Math.min(LEVELS - 1, Math.round((data[i]! - lo) * scale)));
      px[4 * i] = lut[j]!;
      px[4 * i + 1] = lut[j + 1]!;
      px[4 * i + 2] = lut[j + 2]!;
      px[4 * i + 3] = 255;
    }
    canvas.getContext("2d")!.putImageData(img, 0, 0);
    // sharp cells when a cell is bigger than a screen pixel; averaged when a long prompt's map is shrunk
    Object.assign(canvas.style, { position: "absolute", left: `${margin.left}px`, top: `${margin.top}px`, width: `${side}px`, height: `${side}px`, imageRendering: rows <= side ? "pixelated" : "auto", pointerEvents: "none" });
    canvas.setAttribute("data-cells", `${rows}x${cols}`);
    const wrap = document.createElement("div");
    wrap.className = "map-wrap";
    wrap.append(fig, canvas);
    el.replaceChildren(legend, wrap);
    const x = (fig as unknown as Plot.Plot).scale("x") as { invert: (px: number) => number };
    const y = (fig as unknown as Plot.Plot).scale("y") as { invert: (px: number) => number };
    const move = (e: PointerEvent) => {
      const m = fig.getScreenCTM();
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
    fig.addEventListener("pointermove", move);
    fig.addEventListener("pointerleave", leave);
    el.dataset.drawMs = (performance.now() - t0).toFixed(1);
    el.dataset.drawnAt = String(performance.now());
    el.closest("figure")?.setAttribute("data-drawn", String(drawId));
    return () => {
      fig.removeEventListener("pointermove", move);
      fig.removeEventListener("pointerleave", leave);
      el.replaceChildren();
    };
  }, [p.tile, p.tokens, p.diverging, p.side]);

  const say = (h: Hover) => `query “${shortTok(p.tokens[h.q])}” #${h.q} → key “${shortTok(p.tokens[h.k])}” #${h.k}: ${h.value.toFixed(4)}`;
  const span = (a: [number, number]) => (a[0] === a[1] ? `token ${a[0]}` : `tokens ${a[0]}–${a[1]}`);
  const binSay = (b: NonNullable<Hover["bin"]>) => `mean over query ${span(b.q)} × key ${span(b.k)}`;
  return (
    <figure class="chart attention-map" style={p.side ? { width: `${p.side + 96}px` } : undefined} data-testid={p.testid} data-rows={p.tile.rows} data-cols={p.tile.cols} data-tokens={T} data-resolution={p.tile.resolution} data-want={drawId}>
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
