// Series charts (loss, LR, gradient norm, speed, memory; overlays of many runs) with uPlot: canvas, fast
// with hundreds of thousands of points. The chart is made once per set of series and fed new data after.
// Each chart records how long its last draw took in `data-draw-ms` (the dashboard benchmark reads it).
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface SeriesSpec {
  label: string;
  stroke: string;
  width?: number;
  dash?: number[];
  points?: boolean;
  /** draw across missing values (eval points between steps) */
  spanGaps?: boolean;
  scale?: string;
}

/** Axis numbers: small values (learning rates) in exponent form, others as uPlot writes them. */
function yValues(_u: uPlot, vals: number[]): string[] {
  const top = Math.max(...vals.map(Math.abs));
  return vals.map((v) => (v === 0 ? "0" : top < 0.01 ? v.toExponential(1) : top >= 10000 ? v.toLocaleString("en-US") : String(+v.toPrecision(6))));
}

export function SeriesChart(props: { title: string; data: uPlot.AlignedData; series: SeriesSpec[]; height?: number; testid?: string; yLabel?: string; logY?: boolean; note?: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const t0 = useRef(0);
  const key = JSON.stringify(props.series) + (props.logY ? "log" : "");

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    t0.current = performance.now();
    const opts: uPlot.Options = {
      width: Math.max(300, el.clientWidth),
      height: props.height ?? 220,
      scales: { x: { time: false }, ...(props.logY ? { y: { distr: 3 } } : {}) },
      axes: [{ label: "step" }, { label: props.yLabel ?? "", size: 64, values: yValues }],
      series: [
        { label: "step" },
        ...props.series.map((s) => ({
          label: s.label,
          stroke: s.stroke,
          width: s.width ?? 1.5,
          ...(s.dash ? { dash: s.dash } : {}),
          points: { show: s.points ?? false, size: 5, fill: s.stroke },
          spanGaps: s.spanGaps ?? false,
          ...(s.scale ? { scale: s.scale } : {}),
        })),
      ],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      hooks: {
        draw: [
          () => {
            el.dataset.drawMs = (performance.now() - t0.current).toFixed(1);
            el.dataset.draws = String(Number(el.dataset.draws ?? 0) + 1);
          },
        ],
      },
    };
    plot.current = new uPlot(opts, props.data, el);
    const ro = new ResizeObserver(() => {
      const width = Math.max(300, el.clientWidth);
      if (!plot.current || plot.current.width === width) return;
      t0.current = performance.now();
      plot.current.setSize({ width, height: props.height ?? 220 });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [key]);

  useEffect(() => {
    const el = box.current;
    if (!plot.current || !el) return;
    t0.current = performance.now();
    plot.current.setData(props.data);
  }, [props.data]);

  const n = props.data[0]?.length ?? 0;
  return (
    <figure class="chart" data-testid={props.testid}>
      <figcaption>
        {props.title}
        {props.note ? <span class="note"> — {props.note}</span> : null}
      </figcaption>
      <div ref={box} class="uplot-box" data-points={n} />
    </figure>
  );
}

/** Align several (x, y) tables on one x axis (uPlot wants one shared x array). */
export function align(tables: [number[], ...(number | null)[][]][]): uPlot.AlignedData {
  if (tables.length === 1) return tables[0] as uPlot.AlignedData;
  return uPlot.join(tables as unknown as uPlot.AlignedData[]);
}
