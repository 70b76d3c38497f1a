// Which runs: the filters of `fitlab runs list` and of the dashboard's run list (kind, status as a person
// sees it, experiment, sweep as written in the plan), checked once at the edge.
import { FitlabInputError } from "../errors.js";
import { RUN_KINDS, RunStore, type RunKind, type RunRecord } from "./store.js";
import { sweepMatches } from "./sweeps.js";

/** Statuses as shown: the stored ones plus "interrupted" (running, but its process is gone). */
export const SHOWN_STATUSES = ["running", "interrupted", "done", "failed", "oom"] as const;
export type ShownStatus = (typeof SHOWN_STATUSES)[number];

export interface RunFilter {
  readonly kind?: RunKind;
  readonly status?: ShownStatus;
  readonly experiment?: string;
  readonly sweep?: string;
}

/** Raw filter values (CLI flags, URL query) -> a checked filter; one-line errors name the bad value. */
export function parseRunFilter(raw: { kind?: string | undefined; status?: string | undefined; experiment?: string | undefined; sweep?: string | undefined }): RunFilter {
  const f: { -readonly [K in keyof RunFilter]: RunFilter[K] } = {};
  if (raw.kind) {
    if (!(RUN_KINDS as readonly string[]).includes(raw.kind)) throw new FitlabInputError(`kind must be one of ${RUN_KINDS.join(", ")}, got "${raw.kind}"`);
    f.kind = raw.kind as RunKind;
  }
  if (raw.status) {
    if (!(SHOWN_STATUSES as readonly string[]).includes(raw.status)) throw new FitlabInputError(`status must be one of ${SHOWN_STATUSES.join(", ")}, got "${raw.status}"`);
    f.status = raw.status as ShownStatus;
  }
  if (raw.experiment) f.experiment = raw.experiment;
  if (raw.sweep) f.sweep = raw.sweep;
  return f;
}

/** The runs matching a filter, oldest first (the store's order). */
export function findRuns(store: RunStore, f: RunFilter = {}): RunRecord[] {
  const stored = f.status === "interrupted" ? "running" : f.status;
  return store
    .list({ ...(f.kind ? { kind: f.kind } : {}), ...(stored ? { status: stored } : {}), ...(f.experiment ? { experiment: f.experiment } : {}) })
    .filter((r) => (f.sweep === undefined || sweepMatches(r.sweep, f.sweep)) && (f.status === undefined || RunStore.displayStatus(r) === f.status));
}
