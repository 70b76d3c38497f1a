// What the dashboard may show of a run, by its kind. Each kind lists the files of its run folder that the
// browser may fetch (by name, never by path), and may answer an "inspect" question with the object its
// CLI command prints with --json. A kind without an entry shows its summary only.
//
// To add an Inspect view for a kind (attention, compare, hidden, probe: helper issue #7's jobs), add its
// entry here (its artefact names and `answer`, calling the same function as `fitlab inspect ... --json`)
// and a front-end view under web/src/views/, registered in web/src/views/index.ts by the same kind.
import type { RunKind, RunRecord } from "../runs/store.js";

export interface Inspector {
  /** files in the run's folder the browser may fetch by name (GET /api/runs/:id/artefacts/:name) */
  readonly artefacts: readonly string[];
  /** the kind's answer for GET /api/runs/:id/inspect */
  readonly answer?: (run: RunRecord) => Promise<unknown>;
}

const TRAIN_FILES = ["metrics.jsonl", "config.json", "estimate.json", "result.json", "forgetting.json"] as const;

export const INSPECTORS: Partial<Record<RunKind, Inspector>> = {
  train: { artefacts: TRAIN_FILES },
  evaluate: { artefacts: ["config.json", "result.json"] },
};

export function inspectorOf(kind: RunKind): Inspector {
  return INSPECTORS[kind] ?? { artefacts: ["config.json", "result.json"] };
}
