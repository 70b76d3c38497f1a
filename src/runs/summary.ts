// One run as the CLI prints it with --json and the dashboard receives it: identity, where it sits in the
// plan (experiment, sweep as written in the plan), status as a person sees it, predicted beside measured.
import fs from "node:fs";
import path from "node:path";
import { RunStore, type RunRecord } from "./store.js";
import { sweepKey } from "./sweeps.js";

export interface RunSummary {
  /** where the model and the data came from (hub commits), as the worker recorded them in the run folder */
  readonly model_source?: unknown;
  readonly data_source?: unknown;
  readonly id: string;
  readonly kind: RunRecord["kind"];
  readonly name: string;
  readonly status: string;
  readonly experiment: string | null;
  /** the sweep as written in the plan ("D.lr-sweep"), and this instance of it */
  readonly sweep: string | null;
  readonly sweep_instance: string | null;
  readonly sweep_value: string | null;
  readonly parent_run: string | null;
  readonly model: string;
  readonly method: string;
  readonly created_at: string;
  readonly finished_at: string | null;
  readonly steps: number | null;
  readonly device: string | null;
  readonly eval_loss: { readonly initial: number | null; readonly final: number | null; readonly best: number | null };
  readonly memory: {
    readonly predicted_allocated_bytes: number | null;
    readonly measured_allocated_bytes: number | null;
    readonly predicted_reserved_bytes: number | null;
    readonly measured_reserved_bytes: number | null;
    readonly predicted_device_bytes: number | null;
    readonly measured_device_bytes: number | null;
  };
  /** the GPU the run measured on (null on the CPU) */
  readonly gpu: string | null;
  readonly tokens_per_s: { readonly predicted: number | null; readonly measured: number | null };
  readonly error: { readonly kind: string | null; readonly message: string; readonly suggestion: string | null } | null;
  /** what the worker ran (its result.json "runtime": loss, checkpointing, packing, optimizer, kernels), or null before it finished */
  readonly runtime: Record<string, unknown> | null;
  readonly dir: string;
}

function runtimeOf(r: RunRecord): Record<string, unknown> | null {
  try {
    return (JSON.parse(fs.readFileSync(path.join(r.dir, "result.json"), "utf8")) as { runtime?: Record<string, unknown> }).runtime ?? null;
  } catch {
    return null;
  }
}

function sources(r: RunRecord): { model_source?: unknown; data_source?: unknown } {
  const read = (f: string) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(r.dir, f), "utf8")) as unknown;
    } catch {
      return undefined;
    }
  };
  const model = read("model_source.json");
  const data = read(path.join("data", "source.json"));
  return { ...(model ? { model_source: model } : {}), ...(data ? { data_source: data } : {}) };
}

export function runSummary(r: RunRecord): RunSummary {
  return {
    ...sources(r),
    id: r.id,
    kind: r.kind,
    name: r.name,
    status: RunStore.displayStatus(r),
    experiment: r.experiment,
    sweep: r.sweep === null ? null : sweepKey(r.sweep),
    sweep_instance: r.sweep,
    sweep_value: r.sweep_value,
    parent_run: r.parent_run,
    model: r.model,
    method: r.method,
    created_at: r.created_at,
    finished_at: r.finished_at,
    steps: r.steps,
    device: r.device,
    eval_loss: { initial: r.initial_eval_loss, final: r.final_eval_loss, best: r.best_eval_loss },
    memory: {
      predicted_allocated_bytes: r.predicted_allocated_bytes,
      measured_allocated_bytes: r.measured_allocated_bytes,
      predicted_reserved_bytes: r.predicted_reserved_bytes,
      measured_reserved_bytes: r.measured_reserved_bytes,
      predicted_device_bytes: r.predicted_device_bytes,
      measured_device_bytes: r.measured_device_bytes,
    },
    gpu: r.gpu,
    tokens_per_s: { predicted: r.predicted_tokens_per_s, measured: r.measured_tokens_per_s },
    error: r.error ? { kind: r.error_kind, message: r.error, suggestion: r.suggestion } : null,
    runtime: runtimeOf(r),
    dir: r.dir,
  };
}
