// A run's metrics.jsonl: one line per optimizer step ("train") and per evaluation ("eval"), as the worker
// writes them (engine/fitlab_worker/jobs/train.py). Light on purpose: readers (the dashboard, the analyses)
// need no planner.
import fs from "node:fs";
import path from "node:path";
import type { RunRecord } from "./store.js";

export interface MetricLine {
  readonly type: "train" | "eval";
  readonly step: number;
  readonly loss?: number;
  readonly eval_loss?: number;
  readonly lr?: number;
  readonly grad_norm?: number;
  readonly tokens_per_s?: number;
}

/** metrics.jsonl of a run, skipping a line cut short by a kill. */
export function readMetrics(run: RunRecord): MetricLine[] {
  const file = path.join(run.dir, "metrics.jsonl");
  if (!fs.existsSync(file)) return [];
  const out: MetricLine[] = [];
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as MetricLine);
    } catch {
      // a partial last line after a kill: the resume rewrites it
    }
  }
  return out;
}
