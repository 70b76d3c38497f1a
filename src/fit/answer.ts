// The fit search's answer as one object: what `fitlab fit --json` prints and the dashboard receives.
import type { Gpu } from "../hardware/gpu.js";
import type { ModelSpec } from "../spec/types.js";
import type { Workload } from "../workload/types.js";
import { findFit, maxBatch, maxSequence, type FitResult } from "./search.js";

export function fitAnswer(spec: ModelSpec, workload: Workload, gpu: Gpu, r: FitResult = findFit(spec, workload, gpu)) {
  const target = r.cheapest?.workload ?? workload;
  const training = ["full", "lora", "qlora"].includes(target.kind);
  return {
    model: spec.name,
    gpu: gpu.name,
    fits_as_is: r.fitsAsIs,
    baseline: { device_bytes: r.baseline.peak.device_bytes, minimum_device_bytes: r.baseline.peak.minimum_device_bytes, usable_bytes: gpu.usableBytes },
    cheapest: r.cheapest && {
      changes: r.cheapest.changes,
      descriptions: r.cheapest.descriptions,
      cost: r.cheapest.cost,
      settings: r.cheapest.workload,
      device_bytes: r.cheapest.estimate.peak.device_bytes,
      tokens_per_s: r.cheapest.estimate.tokens_per_s,
    },
    alternatives: r.singles.slice(1).map((s) => ({ changes: s.changes, cost: s.cost, device_bytes: s.estimate.peak.device_bytes, tokens_per_s: s.estimate.tokens_per_s })),
    max_seq_len: target.kind === "probe" ? null : maxSequence(spec, target, gpu),
    max_batch: training || target.kind.startsWith("inference") ? maxBatch(spec, target, gpu) : null,
  };
}
export type FitAnswer = ReturnType<typeof fitAnswer>;
