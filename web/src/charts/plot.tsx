// Static charts with Observable Plot (the same library as fitlab's reports): the memory bar, scatter plots
// of predicted vs measured, forgetting curves. Redrawn whenever the options change.
import * as Plot from "@observablehq/plot";
import { useEffect, useRef } from "preact/hooks";

/** Plot's categorical scheme (Tableau 10), the colours of fitlab's series everywhere. */
export const COLORS: readonly string[] = Plot.scale({ color: { type: "categorical", scheme: "tableau10", domain: Array.from({ length: 10 }, (_, i) => i) } }).range as string[];
export const color = (i: number) => COLORS[i % COLORS.length]!;

export function PlotFigure(props: { options: Plot.PlotOptions; testid?: string; data?: Record<string, string> }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const fig = Plot.plot({ width: Math.max(320, el.clientWidth), ...props.options });
    el.replaceChildren(fig);
    return () => fig.remove();
  }, [props.options]);
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(props.data ?? {})) attrs[`data-${k}`] = v;
  return <div ref={box} class="plot" data-testid={props.testid} {...attrs} />;
}

export { Plot };
