// A layer x head heat map (Observable Plot's cell mark) of one number per head: a statistic of the attention
// job, a change of the compare job. Hovering shows Plot's tip; clicking a cell picks that head. Each cell's
// <rect> carries data-layer and data-head (set in the mark's render hook), so a click (and a test) finds its
// head without any geometry of our own.
import { useEffect, useRef, useState } from "preact/hooks";
import { Plot } from "./plot.tsx";

export interface HeadCell {
  readonly layer: number;
  readonly head: number;
  readonly value: number;
}

export interface HeadRef {
  readonly layer: number;
  readonly head: number;
}

export interface HeadGridProps {
  readonly title: string;
  /** the colour legend's label: what the number is, with its unit */
  readonly legend: string;
  readonly cells: readonly HeadCell[];
  readonly layers: number;
  readonly heads: number;
  readonly color: Plot.ScaleOptions;
  readonly selected: HeadRef | null;
  readonly onPick?: (h: HeadRef) => void;
  readonly testid: string;
  readonly digits?: number;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

export function HeadGrid(p: HeadGridProps) {
  const box = useRef<HTMLDivElement>(null);
  const [drawn, setDrawn] = useState(0);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    // cells of 10-34 px: a 28 x 28-head model stays on screen beside the map
    const cell = Math.max(10, Math.min(34, Math.floor(420 / Math.max(p.heads, p.layers * 0.8))));
    // a tick label needs about 14 px: label every k-th head and layer
    const step = Math.max(1, Math.ceil(14 / cell));
    const digits = p.digits ?? 3;
    const cells = p.cells;
    const fig = Plot.plot({
      width: 56 + p.heads * cell + 16,
      height: 24 + p.layers * cell + 36,
      marginLeft: 56,
      marginRight: 16,
      marginTop: 24,
      marginBottom: 36,
      x: { type: "band", domain: range(p.heads), label: "head", ticks: range(p.heads).filter((h) => h % step === 0), tickSize: 0 },
      y: { type: "band", domain: range(p.layers), label: "layer", ticks: range(p.layers).filter((l) => l % step === 0), tickSize: 0 },
      color: { ...p.color, legend: true, label: p.legend } as Plot.ScaleOptions,
      marks: [
        Plot.cell(cells, {
          x: "head",
          y: "layer",
          fill: "value",
          inset: 0.5,
          tip: { format: { fill: (v: number) => v.toFixed(digits), x: true, y: true } },
          render: (index, scales, values, dimensions, context, next) => {
            const g = next!(index, scales, values, dimensions, context)!;
            const rects = g.querySelectorAll("rect");
            index.forEach((i, k) => {
              const r = rects[k];
              if (!r) return;
              r.setAttribute("data-layer", String(cells[i]!.layer));
              r.setAttribute("data-head", String(cells[i]!.head));
            });
            return g;
          },
        }),
      ],
    });
    el.replaceChildren(fig);
    setDrawn((n) => n + 1);
    return () => fig.remove();
  }, [p.cells, p.color, p.layers, p.heads]);

  // the picked head: its cell outlined (style.css) and raised above its neighbours, without drawing the chart
  // again (five 784-cell maps of a 7B model would take longer than opening the head's map)
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    for (const r of el.querySelectorAll("rect[data-selected]")) r.removeAttribute("data-selected");
    if (!p.selected) return;
    const r = el.querySelector(`rect[data-layer="${p.selected.layer}"][data-head="${p.selected.head}"]`);
    if (!r) return;
    r.setAttribute("data-selected", "");
    r.parentNode!.appendChild(r);
  }, [p.selected?.layer, p.selected?.head, drawn]);

  const pick = (e: MouseEvent) => {
    if (!p.onPick) return;
    let r = (e.target as Element).closest("rect[data-layer]");
    // a click on Plot's tip (drawn over the cells) goes to the cell under it
    r ??= document.elementsFromPoint(e.clientX, e.clientY).find((x) => x.matches("rect[data-layer]")) ?? null;
    if (r) p.onPick({ layer: Number(r.getAttribute("data-layer")), head: Number(r.getAttribute("data-head")) });
  };
  return (
    <figure class="chart head-grid">
      <figcaption>{p.title}</figcaption>
      {/* Plot's pointer sticks its tip on pointerdown; a click here picks a head instead */}
      <div ref={box} class="plot" data-testid={p.testid} data-layers={p.layers} data-heads={p.heads} onPointerDownCapture={(e) => e.stopPropagation()} onClick={pick} />
    </figure>
  );
}
