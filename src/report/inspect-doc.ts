// What an inspection run says, without drawing it: its findings in words (analyze/), the names of its pictures,
// and the JSON object `fitlab inspect ... --json` prints and the dashboard receives (`fitlab inspect show`).
// Each picture is a closure over a chart kit (report/inspect-report.ts passes the Observable Plot charts), so
// the JSON costs no chart library: the dashboard's Inspect API loads this file alone.
import fs from "node:fs";
import path from "node:path";
import { analyzeAttention } from "../analyze/attention-heads.js";
import { analyzeFinetune } from "../analyze/finetune-diff.js";
import { analyzeProbeCheckpoints, analyzeProbes } from "../analyze/probes.js";
import { analyzeRepresentations } from "../analyze/representations.js";
import { FitlabInputError } from "../errors.js";
import { HEAD_STATS, parseAttentionResult, parseCompareResult, parseHiddenResult, parseProbeResult, readInspectResult, type AttentionResult, type CompareResult, type HiddenResult, type ProbeResult } from "../runs/inspect-results.js";
import type { RunRecord } from "../runs/store.js";
import { readTensor, slice2d } from "../runs/tensors.js";
import type * as attention from "./attention-charts.js";
import type * as probes from "./probe-charts.js";
import type * as representations from "./representation-charts.js";

/** The chart functions the pictures are drawn with. */
export type ChartKit = Pick<typeof attention, "diffHeatmap" | "headMapChart" | "headPairChart" | "headStatHeatmap" | "modelView" | "updateNormChart"> &
  Pick<typeof probes, "probeChart" | "probeCheckpointChart"> &
  Pick<typeof representations, "anisotropyChart" | "ckaBaseTunedChart" | "ckaMatrixChart" | "logitLensChart" | "normChart" | "outlierChart">;

function tokensOf(run: RunRecord, file: string): string[] {
  return (JSON.parse(fs.readFileSync(path.join(run.dir, file), "utf8")) as { tokens: string[] }).tokens;
}

/** A chart by name, drawn only when asked: `--json` and the dashboard need the names, the report the pictures. */
export interface LazyChart {
  readonly name: string;
  readonly render: (k: ChartKit) => string;
}

export interface Doc {
  readonly title: string;
  readonly findings: readonly string[];
  readonly charts: readonly LazyChart[];
}

function attentionDoc(run: RunRecord, r: AttentionResult): Doc {
  const a = analyzeAttention(r.heads_stats);
  const charts: LazyChart[] = HEAD_STATS.map((s) => ({ name: `heads-${s.replace(/_/g, "-")}`, render: (k) => k.headStatHeatmap(r.heads_stats, s) }));
  const m = r.maps[0];
  if (m) {
    const file = path.join(run.dir, m.file);
    let pooledT: ReturnType<typeof readTensor> | null = null;
    const pooled = () => (pooledT ??= readTensor(file, "pooled"));
    charts.push({ name: "model-view", render: (k) => k.modelView({ data: pooled().data, layers: r.layers, heads: r.heads, size: m.pooled_size }, m.tokens) });
    const picks = new Map<string, string>();
    for (const h of m.full_heads.slice(0, 4)) picks.set(h, "full resolution");
    for (const h of [a.previousTokenHeads[0], a.sinkHeads[0], a.mostFocused].filter((x) => x)) if (picks.size < 6 && !picks.has(`${h!.layer}.${h!.head}`)) picks.set(`${h!.layer}.${h!.head}`, "pooled");
    for (const [key, kind] of picks) {
      const [l, h] = key.split(".").map(Number) as [number, number];
      charts.push({
        name: `head-${l}-${h}`,
        render: (k) => {
          const tokens = tokensOf(run, m.tokens_file);
          const map = kind === "full resolution" && m.full_heads.includes(key) ? (() => { const t = readTensor(file, `full.${key}`); return { rows: t.shape[0]!, cols: t.shape[1]!, data: t.data }; })() : slice2d(pooled(), l, h);
          return k.headMapChart(map, tokens, `Layer ${l}, head ${h}: attention map of prompt ${m.prompt} (${map.rows === tokens.length ? "full resolution" : `pooled to ${map.rows} x ${map.cols}`})`);
        },
      });
    }
  }
  return { title: `Attention of ${run.model}`, findings: a.findings, charts };
}

function compareDoc(run: RunRecord, r: CompareResult): Doc {
  const d = analyzeFinetune(r.heads, r.modules);
  const charts: LazyChart[] = [
    { name: "diff-js", render: (k) => k.diffHeatmap(r.heads, "js_divergence") },
    { name: "diff-entropy", render: (k) => k.diffHeatmap(r.heads, "entropy_change") },
    { name: "diff-sink", render: (k) => k.diffHeatmap(r.heads, "first_token_share_change") },
    { name: "diff-prev", render: (k) => k.diffHeatmap(r.heads, "prev_token_share_change") },
    { name: "lora-update", render: (k) => k.updateNormChart(r.modules, r.layers) },
  ];
  const m = r.maps[0];
  const top = d.topHeads[0];
  if (m && top && top.js_divergence > 0) {
    charts.push({
      name: `pair-${top.layer}-${top.head}`,
      render: (k) => {
        const base = readTensor(path.join(run.dir, m.base), "pooled");
        const tuned = readTensor(path.join(run.dir, m.tuned), "pooled");
        return k.headPairChart(slice2d(base, top.layer, top.head), slice2d(tuned, top.layer, top.head), tokensOf(run, m.tokens_file), `Layer ${top.layer}, head ${top.head}, the head that changed most`);
      },
    });
  }
  return { title: `Base vs fine-tuned attention: ${run.model} + ${path.basename(path.dirname(r.adapter))}/${path.basename(r.adapter)}`, findings: d.findings, charts };
}

function hiddenDoc(r: HiddenResult): Doc {
  const a = analyzeRepresentations(r);
  const base = r.base_layers as HiddenResult["layers"] | undefined;
  const charts: LazyChart[] = [
    { name: "norms", render: (k) => k.normChart(r.layers) },
    { name: "anisotropy", render: (k) => k.anisotropyChart(r.layers, base) },
    { name: "outliers", render: (k) => k.outlierChart(r.layers) },
    { name: "cka", render: (k) => k.ckaMatrixChart(r.cka) },
  ];
  const tunedCka = r.cka_base_tuned;
  if (tunedCka) charts.push({ name: "cka-base-tuned", render: (k) => k.ckaBaseTunedChart(tunedCka) });
  r.lens.slice(0, 2).forEach((e, i) => charts.push({ name: `logit-lens-${i}`, render: (k) => k.logitLensChart(e) }));
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
        { name: "probe-checkpoints-selectivity", render: (k) => k.probeCheckpointChart(cks, "selectivity") },
        { name: "probe-checkpoints-accuracy", render: (k) => k.probeCheckpointChart(cks, "accuracy") },
        { name: "probe-last", render: (k) => k.probeChart(last.layers, `Linear probe per layer at step ${last.step}`) },
      ],
    };
  }
  const a = analyzeProbes(r.layers ?? []);
  return { title: `Linear probes (${r.level}-level, ${r.examples} examples)`, findings: a.findings, charts: [{ name: "probe", render: (k) => k.probeChart(r.layers ?? []) }] };
}

export function docOf(run: RunRecord, raw: Record<string, unknown>): Doc {
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

export function jsonOf(run: RunRecord, raw: Record<string, unknown>, d: Doc): Record<string, unknown> {
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

