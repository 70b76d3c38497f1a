// The low-high band around an estimate. Inside the range the published cases cover, its half-width is the
// calibrated band of data/calibration.yaml: the error that holds at least 80 % of the cases when each source
// is scored by constants fitted without it (`fitlab validate --cv source`). Outside that range it doubles
// (at least ±25 %), with a warning that says why.
import { currentCalibration } from "../engines/calibration.js";
import type { MemoryContext } from "./context.js";

export function calibrationSpread(ctx: MemoryContext, warnings: string[]): number {
  const { workload, spec } = ctx;
  const cal = currentCalibration();
  const inside = cal.bandMemory;
  let spread = inside;
  const out = (why: string) => {
    warnings.push(`outside the calibrated range: ${why}`);
    spread = Math.max(0.25, 2 * inside);
  };
  const cov = cal.covered;
  if (cov) {
    if (!cov.engines.includes(ctx.engine.id)) out(`engine ${ctx.engine.id} has no measured cases`);
    if (workload.nGpus > 1 && !cov.parallel.includes(workload.sharding)) out(`${workload.sharding} on ${workload.nGpus} GPUs has no measured cases`);
    if (spec.numExperts > 1 && !cov.moe) out("mixture-of-experts models have no measured cases");
    if (ctx.peakSeqLen > cov.maxSeq) out(`sequence length ${ctx.peakSeqLen} is beyond the measured ${cov.maxSeq} tokens`);
  }
  if (workload.kind === "attention_extract" || workload.kind === "hidden_extract" || workload.kind === "probe") out(`${workload.kind} has no published measurements (mechanism-only estimate)`);
  if (workload.sharding === "none" && workload.nGpus > 1) warnings.push("several GPUs without sharding: each GPU holds a full replica");
  return spread;
}
