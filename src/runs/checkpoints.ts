// A run's checkpoints: the checkpoint-N folders that hold a complete training state.
import fs from "node:fs";
import path from "node:path";
import type { RunRecord } from "./store.js";

export function checkpoints(run: RunRecord): { step: number; path: string }[] {
  if (!fs.existsSync(run.dir)) return [];
  return fs
    .readdirSync(run.dir)
    .map((n) => /^checkpoint-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null && fs.existsSync(path.join(run.dir, m[0], "trainer_state.json")))
    .map((m) => ({ step: Number(m[1]), path: path.join(run.dir, m[0]) }))
    .sort((a, b) => a.step - b.step);
}
