// Evaluate a run's checkpoints (and the base model) for forgetting; and reload one adapter to check
// that it reproduces the run's eval loss.
import fs from "node:fs";
import path from "node:path";
import type { ForgettingPoint } from "../analyze/forgetting.js";
import type { RunRecord } from "./store.js";
import { runJob } from "./worker.js";

export function checkpoints(run: RunRecord): { step: number; path: string }[] {
  if (!fs.existsSync(run.dir)) return [];
  return fs
    .readdirSync(run.dir)
    .map((n) => /^checkpoint-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null && fs.existsSync(path.join(run.dir, m[0], "trainer_state.json")))
    .map((m) => ({ step: Number(m[1]), path: path.join(run.dir, m[0]) }))
    .sort((a, b) => a.step - b.step);
}

function runConfig(run: RunRecord): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(run.dir, "config.json"), "utf8")) as Record<string, unknown>;
}

/** Eval loss of base + adapter at `checkpoint`, on the run's own eval split. */
export async function evalCheckpoint(run: RunRecord, checkpoint: string): Promise<number> {
  const c = runConfig(run);
  const r = await runJob("evaluate", { model: c.model, method: c.method, adapter: checkpoint, dataset: c.dataset, seed: c.seed, max_seq_len: c.max_seq_len, batch_size: c.batch_size, packing: c.packing, device: c.device });
  return r.eval_loss as number;
}

export interface ForgettingHooks {
  /** before the first evaluation: how many there will be (the base model and each checkpoint) */
  readonly onStart?: (total: number) => void;
  /** after each evaluation */
  readonly onPoint?: (p: ForgettingPoint, done: number, total: number) => void;
}

/** What `forgetting.json` holds: the points and the files they were measured on. */
export interface StoredForgetting {
  readonly general_text: string | null;
  readonly multiple_choice: string | null;
  readonly computed_at: string | null;
  readonly points: readonly ForgettingPoint[];
}

const FORGETTING_FILE = "forgetting.json";

/** The forgetting results stored with a run (by the demo, `fitlab run --general/--mc` or `runs forgetting`), or null. */
export function storedForgetting(run: RunRecord): StoredForgetting | null {
  const file = path.join(run.dir, FORGETTING_FILE);
  if (!fs.existsSync(file)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return null; // unreadable: evaluate again
  }
  // fitlab 0.1.0 stored the bare list of points
  if (Array.isArray(raw)) return { general_text: null, multiple_choice: null, computed_at: null, points: raw as ForgettingPoint[] };
  const o = raw as Partial<StoredForgetting>;
  return Array.isArray(o.points) ? { general_text: o.general_text ?? null, multiple_choice: o.multiple_choice ?? null, computed_at: o.computed_at ?? null, points: o.points } : null;
}

/** Do stored results answer this question: the same files (when given) and every current checkpoint? */
export function storedAnswers(stored: StoredForgetting, run: RunRecord, generalText: string | null, multipleChoice: string | null): boolean {
  const same = (given: string | null, had: string | null) => given === null || (had !== null && path.resolve(given) === had);
  const steps = new Set(stored.points.map((p) => p.step));
  return same(generalText, stored.general_text) && same(multipleChoice, stored.multiple_choice) && steps.has(0) && checkpoints(run).every((c) => steps.has(c.step));
}

export async function forgettingCurve(run: RunRecord, generalText: string | null, multipleChoice: string | null, hooks: ForgettingHooks = {}): Promise<ForgettingPoint[]> {
  const c = runConfig(run);
  const points: ForgettingPoint[] = [];
  const targets: { step: number; path: string | null }[] = [{ step: 0, path: null }, ...checkpoints(run)];
  hooks.onStart?.(targets.length);
  for (const t of targets) {
    const r = await runJob("evaluate", {
      model: c.model,
      method: c.method,
      adapter: t.path,
      general_text: generalText ? path.resolve(generalText) : null,
      multiple_choice: multipleChoice ? path.resolve(multipleChoice) : null,
      max_seq_len: c.max_seq_len,
      device: c.device,
    });
    const p = { step: t.step, checkpoint: t.path, perplexity: (r.perplexity as number | undefined) ?? null, mc_accuracy: (r.mc_accuracy as number | undefined) ?? null };
    points.push(p);
    hooks.onPoint?.(p, points.length, targets.length);
  }
  const stored: StoredForgetting = {
    general_text: generalText ? path.resolve(generalText) : null,
    multiple_choice: multipleChoice ? path.resolve(multipleChoice) : null,
    computed_at: new Date().toISOString(),
    points,
  };
  const tmp = path.join(run.dir, `${FORGETTING_FILE}.tmp`);
  fs.writeFileSync(tmp, `${JSON.stringify(stored, null, 2)}\n`);
  fs.renameSync(tmp, path.join(run.dir, FORGETTING_FILE));
  return points;
}
