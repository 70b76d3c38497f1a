// Minimal change lists: a cumulative fit search can keep steps a later step makes unnecessary (chunked loss
// before fused loss, checkpointing before offloaded checkpointing). These helpers drop them.
import type { Gpu } from "../hardware/gpu.js";
import { estimateMemory, fitsIn } from "../memory/estimate.js";
import type { ModelSpec } from "../spec/types.js";
import type { Workload } from "../workload/types.js";
import type { Change } from "./search.js";

/** A change made redundant by a stronger change of the same setting (same field, more memory saved). */
export const SUPERSEDED_BY: Readonly<Record<string, string>> = {
  "chunked-loss": "fused-loss",
  "grad-checkpointing": "offload-checkpointing",
  "halve-batch": "batch-1",
  "adamw-8bit": "paged-adamw-8bit",
};

/** Apply changes in order to the planned workload; a change that no longer applies is skipped. */
export function applyChanges(workload: Workload, changes: readonly Change[]): Workload {
  let w = workload;
  for (const c of changes) w = c.apply(w) ?? w;
  return w;
}

/** Drop every change the list still fits without (one pass, first to last): the result is 1-minimal, no step
 *  can be removed on its own. `fits` is the search's rule (default: the planner's fit rule). */
export function pruneChanges(spec: ModelSpec, workload: Workload, gpu: Gpu, changes: readonly Change[], fits: (w: Workload) => boolean = (w) => fitsIn(estimateMemory(spec, w, gpu), gpu.usableBytes)): Change[] {
  let kept = [...changes];
  // by position: a step applied twice (half the batch, then half again) is two steps
  for (let i = 0; i < kept.length; ) {
    const without = [...kept.slice(0, i), ...kept.slice(i + 1)];
    if (fits(applyChanges(workload, without))) kept = without;
    else i++;
  }
  return kept;
}

/** Ids with the ones a stronger listed change supersedes removed (for lists merged over several runs). */
export function dropSuperseded(ids: readonly string[]): string[] {
  return ids.filter((id) => !(SUPERSEDED_BY[id] !== undefined && ids.includes(SUPERSEDED_BY[id]!)));
}
