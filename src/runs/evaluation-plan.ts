// The planned cost of an evaluation experiment (forgetting): one worker job that evaluates the base model and
// each checkpoint of the newest finished run of its `adapter_from` training experiment (src/runs/forgetting.ts
// runs engine/fitlab_worker/jobs/evaluate.py once per model read). Its plan `runs` do not multiply the job: the
// models read do, counted as a probe counts them (runs/inspect-plan.ts modelsReadAfter).
import type { PlanExperiment } from "../plan/load.js";
import { modelsReadAfter } from "./inspect-plan.js";

/** An evaluation experiment (forgetting): an inference workload with perplexity or multiple-choice data. */
export function isEvaluation(ex: PlanExperiment): boolean {
  const kind = ex.runs[0]?.workload.kind;
  return kind !== undefined && kind !== "lora" && kind !== "qlora" && kind !== "full" && !!ex.run && (ex.run.general_text !== null || ex.run.multiple_choice !== null) && !ex.run.dataset;
}

/** Models an evaluation reads: the base and each checkpoint of its adapter_from experiment; 1 without one. */
export function modelsReadByEvaluation(ex: PlanExperiment, experiments: readonly PlanExperiment[]): number {
  const fromKey = ex.run?.adapterFrom;
  const from = fromKey ? experiments.find((e) => e.key === fromKey) : undefined;
  return from ? modelsReadAfter(from) : 1;
}
