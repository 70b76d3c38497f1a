// Sweep ids. A plan names a sweep by its experiment key ("D.lr-sweep"); each time it runs, its runs share
// an instance id, the key plus the start time ("D.lr-sweep@20260412T103000"). People write the key, as in
// the plan; the latest instance answers for it, and the full instance id picks an older one.
import { FitlabInputError } from "../errors.js";
import type { RunRecord, RunStore } from "./store.js";

/** The instance id of a sweep started now (second resolution, UTC). */
export function sweepInstanceId(key: string, at: Date = new Date()): string {
  return `${key}@${at.toISOString().replace(/[-:]/g, "").slice(0, 15)}`;
}

/** The plan's key of a sweep instance id ("D.lr-sweep@2026..." -> "D.lr-sweep"). */
export function sweepKey(instance: string): string {
  const at = instance.lastIndexOf("@");
  return at > 0 ? instance.slice(0, at) : instance;
}

/** Does a run's sweep instance answer to `id` (the key as written in the plan, or a full instance id)? */
export function sweepMatches(instance: string | null, id: string): boolean {
  return instance !== null && (instance === id || sweepKey(instance) === id);
}

export interface SweepSummary {
  /** as written in the plan */
  readonly key: string;
  readonly instance: string;
  readonly runs: number;
  /** what varies, read from the run names ("A.lr-sweep learning_rate=0.01") */
  readonly param: string | null;
  readonly values: readonly string[];
  readonly started_at: string;
}

/** What varies across a sweep's runs: the name part "param=value" that run.ts writes. */
export function sweepParam(runs: readonly RunRecord[]): string | null {
  for (const r of runs) {
    const m = / (\w+)=/.exec(r.name);
    if (m) return m[1]!;
  }
  return null;
}

/** Every sweep instance in the store, newest first. */
export function listSweeps(store: RunStore): SweepSummary[] {
  const by = new Map<string, RunRecord[]>();
  for (const r of store.list()) if (r.sweep) by.set(r.sweep, [...(by.get(r.sweep) ?? []), r]);
  return [...by.entries()]
    .map(([instance, runs]) => ({ key: sweepKey(instance), instance, runs: runs.length, param: sweepParam(runs), values: runs.map((r) => r.sweep_value ?? r.name), started_at: runs[0]!.created_at }))
    .sort((a, b) => (a.started_at < b.started_at ? 1 : a.started_at > b.started_at ? -1 : 0));
}

export interface ResolvedSweep {
  readonly key: string;
  readonly instance: string;
  readonly runs: readonly RunRecord[];
  /** how many instances answer to the id the person wrote (the latest was taken) */
  readonly instances: number;
}

/** The runs of the sweep `id` (key as in the plan: its latest instance; or a full instance id). */
export function resolveSweep(store: RunStore, id: string): ResolvedSweep {
  const matching = listSweeps(store).filter((s) => s.instance === id || s.key === id);
  const latest = matching[0];
  if (!latest) {
    const known = [...new Set(listSweeps(store).map((s) => s.key))];
    throw new FitlabInputError(`no sweep "${id}" in ${store.dir}${known.length ? `; sweeps: ${known.slice(0, 6).join(", ")}` : " (it has no sweeps yet)"}`);
  }
  return { key: latest.key, instance: latest.instance, runs: store.list({ sweep: latest.instance }), instances: matching.length };
}
