// The forgetting curve stored with a run (forgetting.json): its points and the files they were measured
// on, so `fitlab runs forgetting` and the dashboard show it without evaluating again.
import fs from "node:fs";
import path from "node:path";
import type { ForgettingPoint } from "../analyze/forgetting.js";
import { checkpoints } from "./checkpoints.js";
import type { EvalData } from "./dataset.js";
import type { RunRecord } from "./store.js";

/** What `forgetting.json` holds: the points and the files they were measured on. */
export interface StoredForgetting {
  readonly general_text: string | null;
  readonly multiple_choice: string | null;
  readonly computed_at: string | null;
  readonly points: readonly ForgettingPoint[];
}

export const FORGETTING_FILE = "forgetting.json";

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

/** How evaluation data is named in forgetting.json: a local file by its absolute path, a hub dataset as
 *  `hub:ID[/config][:split]`. */
export function evalDataKey(d: EvalData | null): string | null {
  if (d === null) return null;
  if (typeof d === "string") return path.resolve(d);
  return `hub:${d.hub}${d.config ? `/${d.config}` : ""}${d.split ? `:${d.split}` : ""}`;
}

/** Do stored results answer this question: the same data (when given) and every current checkpoint? */
export function storedAnswers(stored: StoredForgetting, run: RunRecord, generalText: EvalData | null, multipleChoice: EvalData | null): boolean {
  const same = (given: EvalData | null, had: string | null) => given === null || (had !== null && evalDataKey(given) === had);
  const steps = new Set(stored.points.map((p) => p.step));
  return same(generalText, stored.general_text) && same(multipleChoice, stored.multiple_choice) && steps.has(0) && checkpoints(run).every((c) => steps.has(c.step));
}


/** Write forgetting.json atomically (temp file + rename). */
export function writeStoredForgetting(run: RunRecord, stored: StoredForgetting): void {
  const tmp = path.join(run.dir, `${FORGETTING_FILE}.tmp`);
  fs.writeFileSync(tmp, `${JSON.stringify(stored, null, 2)}\n`);
  fs.renameSync(tmp, path.join(run.dir, FORGETTING_FILE));
}
