// Evaluate a run's checkpoints (and the base model) for forgetting; and reload one adapter to check
// that it reproduces the run's eval loss.
import fs from "node:fs";
import path from "node:path";
import type { ForgettingPoint } from "../analyze/forgetting.js";
import type { EvalData } from "./dataset.js";
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
  const r = await runJob("evaluate", { model: c.model, method: c.method, adapter: checkpoint, dataset: c.dataset, run_dir: run.dir, seed: c.seed, max_seq_len: c.max_seq_len, batch_size: c.batch_size, packing: c.packing, device: c.device });
  return r.eval_loss as number;
}

const evalData = (d: EvalData | null) => (d === null ? null : typeof d === "string" ? path.resolve(d) : d);

export async function forgettingCurve(run: RunRecord, generalText: EvalData | null, multipleChoice: EvalData | null, onPoint: (p: ForgettingPoint) => void = () => {}): Promise<ForgettingPoint[]> {
  const c = runConfig(run);
  const points: ForgettingPoint[] = [];
  const targets: { step: number; path: string | null }[] = [{ step: 0, path: null }, ...checkpoints(run)];
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
    onPoint(p);
  }
  const tmp = path.join(run.dir, "forgetting.json.tmp");
  fs.writeFileSync(tmp, `${JSON.stringify(points, null, 2)}\n`);
  fs.renameSync(tmp, path.join(run.dir, "forgetting.json"));
  return points;
}
