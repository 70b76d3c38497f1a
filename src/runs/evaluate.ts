// Evaluate a run's checkpoints (and the base model) for forgetting; and reload one adapter to check
// that it reproduces the run's eval loss.
import fs from "node:fs";
import path from "node:path";
import type { ForgettingPoint } from "../analyze/forgetting.js";
import { checkpoints } from "./checkpoints.js";
import { evalDataKey, writeStoredForgetting } from "./forgetting-store.js";
import type { EvalData } from "./dataset.js";
import type { RunRecord } from "./store.js";
import { runJob } from "./worker.js";

export { checkpoints } from "./checkpoints.js";
export { storedAnswers, storedForgetting, type StoredForgetting } from "./forgetting-store.js";

function runConfig(run: RunRecord): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(run.dir, "config.json"), "utf8")) as Record<string, unknown>;
}

/** Eval loss of base + adapter at `checkpoint`, on the run's own eval split. */
export async function evalCheckpoint(run: RunRecord, checkpoint: string): Promise<number> {
  const c = runConfig(run);
  const r = await runJob("evaluate", { model: c.model, method: c.method, adapter: checkpoint, dataset: c.dataset, run_dir: run.dir, seed: c.seed, max_seq_len: c.max_seq_len, batch_size: c.batch_size, packing: c.packing, device: c.device });
  return r.eval_loss as number;
}

export interface ForgettingHooks {
  /** before the first evaluation: how many there will be (the base model and each checkpoint) */
  readonly onStart?: (total: number) => void;
  /** after each evaluation */
  readonly onPoint?: (p: ForgettingPoint, done: number, total: number) => void;
}

const evalData = (d: EvalData | null) => (d === null ? null : typeof d === "string" ? path.resolve(d) : d);

export async function forgettingCurve(run: RunRecord, generalText: EvalData | null, multipleChoice: EvalData | null, hooks: ForgettingHooks = {}): Promise<ForgettingPoint[]> {
  const c = runConfig(run);
  const points: ForgettingPoint[] = [];
  const targets: { step: number; path: string | null }[] = [{ step: 0, path: null }, ...checkpoints(run)];
  hooks.onStart?.(targets.length);
  for (const t of targets) {
    const r = await runJob("evaluate", {
      model: c.model,
      method: c.method,
      adapter: t.path,
      run_dir: run.dir,
      general_text: evalData(generalText),
      multiple_choice: evalData(multipleChoice),
      max_seq_len: c.max_seq_len,
      device: c.device,
    });
    const p = { step: t.step, checkpoint: t.path, perplexity: (r.perplexity as number | undefined) ?? null, mc_accuracy: (r.mc_accuracy as number | undefined) ?? null };
    points.push(p);
    hooks.onPoint?.(p, points.length, targets.length);
  }
  writeStoredForgetting(run, { general_text: evalDataKey(generalText), multiple_choice: evalDataKey(multipleChoice), computed_at: new Date().toISOString(), points });
  return points;
}
