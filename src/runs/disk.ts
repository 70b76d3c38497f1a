// Free disk before a run: a checkpoint holds the trained weights and AdamW's two moments, so a run is not
// started where its first checkpoint cannot be written. (The worker checks again, exactly, before each
// checkpoint: engine/fitlab_worker/ckpt.py.)
import fs from "node:fs";
import { engineProfile } from "../engines/profile.js";
import { FitlabInputError } from "../errors.js";
import { makeContext } from "../memory/context.js";
import { trainable } from "../memory/trainable.js";
import type { ModelSpec } from "../spec/types.js";
import type { Workload } from "../workload/types.js";

/** Room for metrics, configs and the run store beside the checkpoints. */
export const DISK_MARGIN_BYTES = 64 * 1024 * 1024;

/**
 * Bytes of one checkpoint: trained parameters (adapter, or the whole model) plus torch AdamW's exp_avg and
 * exp_avg_sq, which have the parameter's dtype (torch/optim/adamw.py: zeros_like(p)). On the CPU the worker
 * trains in fp32, so the dtype is taken as the larger of the planned one and fp32 for adapters.
 */
export function checkpointBytes(spec: ModelSpec, workload: Workload, cpu: boolean): number {
  const t = trainable(makeContext(spec, workload, engineProfile(workload.engine)));
  // parameters, AdamW's two moments and (DeepSpeed mixed precision) the fp32 master copy, as the run holds them
  const bytesPerParam = cpu ? 3 * 4 : t.paramBytes + 2 * t.momentBytes + t.masterBytes;
  return t.params * bytesPerParam;
}

/** Bytes free to this user on the file system holding `dir` (null when it cannot be told). */
export function freeBytes(dir: string): number | null {
  try {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

/** Refuse to start when `dir` has less free space than `neededBytes` plus the margin. */
export function requireFreeDisk(dir: string, neededBytes: number, what: string): void {
  const free = freeBytes(dir);
  if (free === null) return;
  const need = neededBytes + DISK_MARGIN_BYTES;
  if (free < need) {
    const mib = (b: number) => `${Math.ceil(b / 2 ** 20).toLocaleString("en-US")} MiB`;
    throw new FitlabInputError(`not enough free disk in ${dir} for ${what}: needs ${mib(need)}, ${mib(free)} free; free some space or use --runs on another disk`);
  }
}
