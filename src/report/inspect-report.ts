// The document of one inspection run: its findings in words and its pictures (attention-, representation- and
// probe-charts), with the JSON object the CLI prints with --json and the dashboard receives (report/inspect-doc.ts).
// Written into the run's folder as report/<chart>.svg and report.html.
import fs from "node:fs";
import path from "node:path";
import type { RunRecord } from "../runs/store.js";
import { diffHeatmap, headMapChart, headPairChart, headStatHeatmap, modelView, updateNormChart } from "./attention-charts.js";
import { docOf, jsonOf, type ChartKit } from "./inspect-doc.js";
import { probeChart, probeCheckpointChart } from "./probe-charts.js";
import { anisotropyChart, ckaBaseTunedChart, ckaMatrixChart, logitLensChart, normChart, outlierChart } from "./representation-charts.js";
import { gib } from "./units.js";

export { inspectJson, storedInspectJson } from "./inspect-doc.js";

export interface Chart {
  readonly name: string;
  readonly svg: string;
}

export interface InspectDocument {
  readonly kind: string;
  readonly title: string;
  readonly findings: readonly string[];
  readonly charts: readonly Chart[];
  /** what `--json` prints: the worker's result with the run id and the findings */
  readonly json: Record<string, unknown>;
}

const KIT: ChartKit = { diffHeatmap, headMapChart, headPairChart, headStatHeatmap, modelView, updateNormChart, probeChart, probeCheckpointChart, anisotropyChart, ckaBaseTunedChart, ckaMatrixChart, logitLensChart, normChart, outlierChart };

export function inspectDocument(run: RunRecord, raw: Record<string, unknown>): InspectDocument {
  const d = docOf(run, raw);
  return { kind: run.kind, title: d.title, findings: d.findings, charts: d.charts.map((c) => ({ name: c.name, svg: c.render(KIT) })), json: jsonOf(run, raw, d) };
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function inspectHtml(run: RunRecord, doc: InspectDocument): string {
  const r = doc.json;
  const mem = typeof r.peak_bytes === "number" ? `${gib(r.peak_bytes)} peak (${String(r.memory_source)}), ${gib(Number(r.transient_bytes ?? 0))} above the loaded model` : "-";
  const facts = [
    ["run", `${run.id} (${run.kind})`],
    ["model", run.model],
    ...(run.parent_run ? [["from run", run.parent_run]] : []),
    ["device", `${String(r.device ?? "-")} ${String(r.dtype ?? "")}`],
    ["memory measured", mem],
    ["memory predicted (CUDA)", run.predicted_allocated_bytes ? gib(run.predicted_allocated_bytes) : "-"],
  ];
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(doc.title)}</title><style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}svg{max-width:100%;height:auto;margin:1em 0;display:block}td{padding:2px 12px 2px 0}</style></head><body>
<h1>${esc(doc.title)}</h1>
<table>${facts.map(([k, v]) => `<tr><td>${esc(k!)}</td><td>${esc(v!)}</td></tr>`).join("")}</table>
<h2>Findings</h2><ul>${doc.findings.map((f) => `<li>${esc(f)}</li>`).join("")}</ul>
${doc.charts.map((c) => `<section id="${c.name}">${c.svg}</section>`).join("\n")}
</body></html>
`;
}

/** Write report/<chart>.svg and report.html into the run's folder (each under a temporary name, then renamed). */
export function writeInspectReport(run: RunRecord, doc: InspectDocument): string {
  const dir = path.join(run.dir, "report");
  fs.mkdirSync(dir, { recursive: true });
  const put = (file: string, text: string) => {
    fs.writeFileSync(`${file}.tmp`, text);
    fs.renameSync(`${file}.tmp`, file);
  };
  for (const c of doc.charts) put(path.join(dir, `${c.name}.svg`), c.svg);
  const html = path.join(run.dir, "report.html");
  put(html, inspectHtml(run, doc));
  return html;
}
