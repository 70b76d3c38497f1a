// The document of one inspection run: its findings in words (analyze/), its pictures (attention-, representation-
// and probe-charts), and the JSON object the CLI prints with --json and the dashboard receives. Written into the
// run's folder as report/<chart>.svg and report.html.
import fs from "node:fs";
import path from "node:path";
import { analyzeAttention } from "../analyze/attention-heads.js";
import { analyzeFinetune } from "../analyze/finetune-diff.js";
import { analyzeProbeCheckpoints, analyzeProbes } from "../analyze/probes.js";
import { analyzeRepresentations } from "../analyze/representations.js";
import { FitlabInputError } from "../errors.js";
import { HEAD_STATS, parseAttentionResult, parseCompareResult, parseHiddenResult, parseProbeResult, type AttentionResult, type CompareResult, type HiddenResult, type ProbeResult } from "../runs/inspect-results.js";
import { readInspectResult } from "../runs/inspect.js";
import type { RunRecord } from "../runs/store.js";
import { readTensor, slice2d } from "../runs/tensors.js";
import { diffHeatmap, headMapChart, headPairChart, headStatHeatmap, modelView, updateNormChart } from "./attention-charts.js";
import { probeChart, probeCheckpointChart } from "./probe-charts.js";
import { anisotropyChart, ckaBaseTunedChart, ckaMatrixChart, logitLensChart, normChart, outlierChart } from "./representation-charts.js";
import { gib } from "./units.js";

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

function tokensOf(run: RunRecord, file: string): string[] {
  return (JSON.parse(fs.readFileSync(path.join(run.dir, file), "utf8")) as { tokens: string[] }).tokens;
}

/** A chart by name, drawn only when asked: `--json` and the dashboard need the names, the report the pictures. */
interface LazyChart {
  readonly name: string;
  readonly render: () => string;
}

interface Doc {
  readonly title: string;
  readonly findings: readonly string[];
  readonly charts: readonly LazyChart[];
}

function attentionDoc(run: RunRecord, r: AttentionResult): Doc {
  const a = analyzeAttention(r.heads_stats);
  const charts: LazyChart[] = HEAD_STATS.map((s) => ({ name: `heads-${s.replace(/_/g, "-")}`, render: () => headStatHeatmap(r.heads_stats, s) }));
  const m = r.maps[0];
  if (m) {
    const file = path.join(run.dir, m.file);
    let pooledT: ReturnType<typeof readTensor> | null = null;
    const pooled = () => (pooledT ??= readTensor(file, "pooled"));
    charts.push({ name: "model-view", render: () => modelView({ data: pooled().data, layers: r.layers, heads: r.heads, size: m.pooled_size }, m.tokens) });
    const picks = new Map<string, string>();
    for (const h of m.full_heads.slice(0, 4)) picks.set(h, "full resolution");
    for (const h of [a.previousTokenHeads[0], a.sinkHeads[0], a.mostFocused].filter((x) => x)) if (picks.size < 6 && !picks.has(`${h!.layer}.${h!.head}`)) picks.set(`${h!.layer}.${h!.head}`, "pooled");
    for (const [key, kind] of picks) {
      const [l, h] = key.split(".").map(Number) as [number, number];
      charts.push({
        name: `head-${l}-${h}`,
        render: () => {
          const tokens = tokensOf(run, m.tokens_file);
          const map = kind === "full resolution" && m.full_heads.includes(key) ? (() => { const t = readTensor(file, `full.${key}`); return { rows: t.shape[0]!, cols: t.shape[1]!, data: t.data }; })() : slice2d(pooled(), l, h);
          return headMapChart(map, tokens, `Layer ${l}, head ${h}: attention map of prompt ${m.prompt} (${map.rows === tokens.length ? "full resolution" : `pooled to ${map.rows} x ${map.cols}`})`);
        },
      });
    }
  }
  return { title: `Attention of ${run.model}`, findings: a.findings, charts };
}

function compareDoc(run: RunRecord, r: CompareResult): Doc {
  const d = analyzeFinetune(r.heads, r.modules);
  const charts: LazyChart[] = [
    { name: "diff-js", render: () => diffHeatmap(r.heads, "js_divergence") },
    { name: "diff-entropy", render: () => diffHeatmap(r.heads, "entropy_change") },
    { name: "diff-sink", render: () => diffHeatmap(r.heads, "first_token_share_change") },
    { name: "diff-prev", render: () => diffHeatmap(r.heads, "prev_token_share_change") },
    { name: "lora-update", render: () => updateNormChart(r.modules, r.layers) },
  ];
  const m = r.maps[0];
  const top = d.topHeads[0];
  if (m && top && top.js_divergence > 0) {
    charts.push({
      name: `pair-${top.layer}-${top.head}`,
      render: () => {
        const base = readTensor(path.join(run.dir, m.base), "pooled");
        const tuned = readTensor(path.join(run.dir, m.tuned), "pooled");
        return headPairChart(slice2d(base, top.layer, top.head), slice2d(tuned, top.layer, top.head), tokensOf(run, m.tokens_file), `Layer ${top.layer}, head ${top.head}, the head that changed most`);
      },
    });
  }
  return { title: `Base vs fine-tuned attention: ${run.model} + ${path.basename(path.dirname(r.adapter))}/${path.basename(r.adapter)}`, findings: d.findings, charts };
}

function hiddenDoc(r: HiddenResult): Doc {
  const a = analyzeRepresentations(r);
  const base = r.base_layers as HiddenResult["layers"] | undefined;
  const charts: LazyChart[] = [
    { name: "norms", render: () => normChart(r.layers) },
    { name: "anisotropy", render: () => anisotropyChart(r.layers, base) },
    { name: "outliers", render: () => outlierChart(r.layers) },
    { name: "cka", render: () => ckaMatrixChart(r.cka) },
  ];
  const tunedCka = r.cka_base_tuned;
  if (tunedCka) charts.push({ name: "cka-base-tuned", render: () => ckaBaseTunedChart(tunedCka) });
  r.lens.slice(0, 2).forEach((e, i) => charts.push({ name: `logit-lens-${i}`, render: () => logitLensChart(e) }));
  return { title: "Residual stream", findings: a.findings, charts };
}

function probeDoc(r: ProbeResult): Doc {
  if (r.checkpoints) {
    const cks = r.checkpoints;
    const last = cks.at(-1)!;
    const a = analyzeProbes(last.layers);
    return {
      title: `Linear probes across ${r.checkpoints.length} checkpoints`,
      findings: [...analyzeProbeCheckpoints(r.checkpoints), ...a.findings.map((f) => `at step ${last.step}: ${f}`)],
      charts: [
        { name: "probe-checkpoints-selectivity", render: () => probeCheckpointChart(cks, "selectivity") },
        { name: "probe-checkpoints-accuracy", render: () => probeCheckpointChart(cks, "accuracy") },
        { name: "probe-last", render: () => probeChart(last.layers, `Linear probe per layer at step ${last.step}`) },
      ],
    };
  }
  const a = analyzeProbes(r.layers ?? []);
  return { title: `Linear probes (${r.level}-level, ${r.examples} examples)`, findings: a.findings, charts: [{ name: "probe", render: () => probeChart(r.layers ?? []) }] };
}

function docOf(run: RunRecord, raw: Record<string, unknown>): Doc {
  switch (run.kind) {
    case "attention":
      return attentionDoc(run, parseAttentionResult(raw));
    case "compare":
      return compareDoc(run, parseCompareResult(raw));
    case "hidden":
      return hiddenDoc(parseHiddenResult(raw));
    case "probe":
      return probeDoc(parseProbeResult(raw));
    default:
      throw new FitlabInputError(`run ${run.id} is ${run.kind}, not an inspection`);
  }
}

function jsonOf(run: RunRecord, raw: Record<string, unknown>, d: Doc): Record<string, unknown> {
  return { run_id: run.id, kind: run.kind, parent_run: run.parent_run, dir: run.dir, predicted_allocated_bytes: run.predicted_allocated_bytes, ...raw, findings: d.findings, report: path.join(run.dir, "report.html"), charts: d.charts.map((c) => path.join(run.dir, "report", `${c.name}.svg`)) };
}

/** What `fitlab inspect ... --json` prints and the dashboard receives, without drawing any picture. */
export function inspectJson(run: RunRecord, raw: Record<string, unknown>): Record<string, unknown> {
  return jsonOf(run, raw, docOf(run, raw));
}

/** The JSON of a finished inspection run, from what its folder holds: `fitlab inspect show ID --json`, the dashboard. */
export function storedInspectJson(run: RunRecord): Record<string, unknown> {
  return inspectJson(run, readInspectResult(run));
}

export function inspectDocument(run: RunRecord, raw: Record<string, unknown>): InspectDocument {
  const d = docOf(run, raw);
  return { kind: run.kind, title: d.title, findings: d.findings, charts: d.charts.map((c) => ({ name: c.name, svg: c.render() })), json: jsonOf(run, raw, d) };
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
