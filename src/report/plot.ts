// Charts through Observable Plot (https://observablehq.com/plot), rendered to standalone SVG strings
// without a browser: linkedom supplies the DOM Plot draws into. Every chart of fitlab (reports, CLI
// `--svg`, the dashboard's static views) goes through `renderSvg`, so no chart code draws SVG by hand.
// Loaded lazily by the commands that draw: Plot and linkedom cost ~0.3 s to import.
import * as Plot from "@observablehq/plot";
import { parseHTML } from "linkedom";

export { Plot };

/** The colours of fitlab's series (Tableau 10, Plot's default categorical scheme). */
export const SERIES_COLORS = ["#4e79a7", "#e15759", "#59a14f", "#b07aa1", "#f28e2c", "#76b7b2", "#9c755f", "#edc949", "#ff9da7", "#bab0ab"] as const;

/**
 * Render a Plot specification to one standalone `<svg>` element as text (one root, with its xmlns), for
 * files, HTML reports and snapshot tests. A title and a caption are drawn as SVG text (Plot would wrap
 * them in an HTML `<figure>`), and legends are left to the caller's marks for the same reason.
 */
export function renderSvg(options: Plot.PlotOptions & { readonly heading?: string }): string {
  const { document } = parseHTML("<!DOCTYPE html><html><body></body></html>");
  const { heading, ...plotOptions } = options;
  const top = heading ? 24 : 0;
  const chart = Plot.plot({ ...plotOptions, title: undefined, subtitle: undefined, caption: undefined, document: document as unknown as Document, marginTop: (plotOptions.marginTop ?? 20) + top });
  if (chart.tagName.toLowerCase() !== "svg") throw new Error("renderSvg: Plot returned a figure; do not ask for a legend or title here");
  chart.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  if (heading) {
    const text = document.createElement("text");
    text.setAttribute("x", "8");
    text.setAttribute("y", "16");
    text.setAttribute("text-anchor", "start");
    text.setAttribute("font-size", "13");
    text.setAttribute("font-weight", "bold");
    text.textContent = heading;
    chart.insertBefore(text, chart.firstChild);
    chart.setAttribute("aria-label", heading);
    chart.setAttribute("role", "img");
  }
  return chart.outerHTML;
}
