// What `fitlab calibrate` learns from: every finished GPU training run with a measured peak, paired with the
// shipped planner's prediction for it (the run store keeps both). The GPU is the catalog card the run ran on
// (CUDA's name, else the card the estimate was made for); the engine is the estimate's.
import fs from "node:fs";
import path from "node:path";
import type { Observation } from "../calibration/fit.js";
import type { GpuCatalog } from "../hardware/catalog.js";
import type { RunRecord } from "./store.js";

export function observationsFromRuns(runs: readonly RunRecord[], catalog: GpuCatalog): { observations: Observation[]; skipped: number } {
  const observations: Observation[] = [];
  let skipped = 0;
  for (const r of runs) {
    if (r.status !== "done" || r.device !== "cuda") continue;
    // device level where both figures exist, else reserved: the same quantity on both sides
    const pair =
      r.predicted_device_bytes !== null && r.measured_device_bytes !== null
        ? { p: r.predicted_device_bytes, m: r.measured_device_bytes }
        : r.predicted_reserved_bytes !== null && r.measured_reserved_bytes !== null
          ? { p: r.predicted_reserved_bytes, m: r.measured_reserved_bytes }
          : null;
    let est: { gpu?: string | null; workload?: { engine?: string } } = {};
    try {
      est = JSON.parse(fs.readFileSync(path.join(r.dir, "estimate.json"), "utf8")) ?? {};
    } catch {
      est = {};
    }
    const gpu = (r.gpu ? catalog.tryFind(r.gpu)?.name : undefined) ?? est.gpu ?? null;
    if (!pair || !gpu) {
      skipped++;
      continue;
    }
    observations.push({
      run: r.id,
      gpu,
      engine: est.workload?.engine ?? "fitlab-worker",
      predictedBytes: pair.p,
      measuredBytes: pair.m,
      predictedTokensPerS: r.predicted_tokens_per_s,
      measuredTokensPerS: r.measured_tokens_per_s,
    });
  }
  return { observations, skipped };
}
