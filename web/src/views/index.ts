// Which view shows a run, by its kind: training runs have the live view; the inspection kinds (attention,
// compare, hidden, probe) their Inspect views over GET /api/runs/:id/inspect (the object
// `fitlab inspect ... --json` prints). A kind's files and answer are listed in src/web/inspect.ts.
import type { FunctionComponent } from "preact";
import type { RunKind, RunReport } from "../types.ts";
import { AttentionView } from "./attention.tsx";
import { FinetuneDiffView } from "./finetune-diff.tsx";
import { HiddenView } from "./hidden.tsx";
import { ProbeView } from "./probe.tsx";
import { TrainView } from "./train.tsx";

export type RunView = FunctionComponent<{ run: RunReport; onRunChanged: () => void }>;

export const VIEWS: Partial<Record<RunKind, RunView>> = {
  train: TrainView,
  attention: AttentionView,
  compare: FinetuneDiffView,
  hidden: HiddenView,
  probe: ProbeView,
};
