// What the dashboard may show of a run, by its kind. Each kind lists the files of its run folder that the
// browser may fetch (by name, never by path), and may answer an "inspect" question with the object its
// CLI command prints with --json. A kind without an entry shows its summary only.
//
// The inspection kinds (attention, compare, hidden, probe) answer with `fitlab inspect show ID --json`, the
// object `fitlab inspect ... --json` printed when the run finished (report/inspect-doc.ts); their views
// are in web/src/views/, registered in web/src/views/index.ts by the same kind. Attention maps, one head at a
// time, come from /api/runs/:id/maps/... (src/web/api/inspect.ts).
import fs from "node:fs";
import path from "node:path";
import type { RunKind, RunRecord } from "../runs/store.js";
import { HttpError } from "./api/errors.js";

export interface Inspector {
  /** files in the run's folder the browser may fetch by name (GET /api/runs/:id/artefacts/:name) */
  readonly artefacts: readonly string[];
  /** the kind's answer for GET /api/runs/:id/inspect */
  readonly answer?: (run: RunRecord) => Promise<unknown>;
}

const TRAIN_FILES = ["metrics.jsonl", "config.json", "estimate.json", "result.json", "forgetting.json"] as const;
const INSPECT_FILES = ["config.json", "estimate.json", "result.json"] as const;

/** The stored inspection's JSON; loaded on first use (it pulls in the analyses). */
async function inspection(run: RunRecord): Promise<unknown> {
  if (!fs.existsSync(path.join(run.dir, "result.json"))) throw new HttpError(404, `run ${run.id} has no result${run.status === "running" ? " yet: it is still running" : ` (status ${run.status})`}`);
  return (await import("../report/inspect-doc.js")).storedInspectJson(run);
}

export const INSPECTORS: Partial<Record<RunKind, Inspector>> = {
  train: { artefacts: TRAIN_FILES },
  evaluate: { artefacts: ["config.json", "result.json"] },
  attention: { artefacts: INSPECT_FILES, answer: inspection },
  compare: { artefacts: [...INSPECT_FILES, "modules.json"], answer: inspection },
  hidden: { artefacts: [...INSPECT_FILES, "lens.json"], answer: inspection },
  probe: { artefacts: INSPECT_FILES, answer: inspection },
};

export function inspectorOf(kind: RunKind): Inspector {
  return INSPECTORS[kind] ?? { artefacts: ["config.json", "result.json"] };
}
