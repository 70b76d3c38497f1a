// Which view shows a run, by its kind. Training runs have the live view; the inspection kinds
// (attention, compare, hidden, probe) get theirs when their jobs land: add the component here, and the
// kind's entry (artefacts, answer) in src/web/inspect.ts.
import type { FunctionComponent } from "preact";
import type { RunKind, RunReport } from "../types.ts";
import { TrainView } from "./train.tsx";

export type RunView = FunctionComponent<{ run: RunReport; onRunChanged: () => void }>;

export const VIEWS: Partial<Record<RunKind, RunView>> = {
  train: TrainView,
};
