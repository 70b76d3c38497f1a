// The planned cost of an inspection experiment (Track B or C) as one worker job, the figure both
// `fitlab run EXP --dry-run` and `fitlab decide` give: an inspection is one job whatever its plan's `runs`
// says (engine/fitlab_worker/jobs/attention.py, compare.py, hidden.py and probe.py load the model once and
// read every prompt through it):
//   attention, hidden  prompts x seq tokens, one prompt per forward, at the extraction workload's tokens/s;
//   compare            the same, twice: each prompt with and without the adapter (passes = 2);
//   probe              per model read (the base and each checkpoint of the adapter_from run, probe.py's loop
//                      over checkpoints): probe samples x seq tokens through the model, then one probe per
//                      hidden state (embeddings + each layer) fitted twice, on the real and on the control labels.
// A probe experiment's `runs` is the number of probes fitted per model read, inside that one job (one per
// hidden state, layers + 1); a compare's `runs: 2` is its two passes. Neither multiplies the job.
import type { Gpu } from "../hardware/gpu.js";
import { estimate as planEstimate } from "../planner.js";
import type { PlanExperiment } from "../plan/load.js";
import type { Workload, WorkloadKind } from "../workload/types.js";
import { estimateInspection, type InspectionEstimate } from "./inspect-estimate.js";
import type { InspectKind } from "./inspect.js";

/** The workload kinds `fitlab run` hands to an inspection job rather than to training or evaluation. */
export const INSPECTION_WORKLOADS: ReadonlySet<WorkloadKind> = new Set<WorkloadKind>(["attention_extract", "hidden_extract", "probe"]);

export function isInspection(ex: PlanExperiment): boolean {
  const kind = ex.runs[0]?.workload.kind;
  return !ex.cpuOnly && kind !== undefined && INSPECTION_WORKLOADS.has(kind);
}

/** Which inspection job an experiment runs: the run section's `inspect`, else from the workload (an attention
 *  extraction with an adapter and two runs is a comparison). */
export function inspectKindOf(ex: PlanExperiment): InspectKind {
  const r = ex.run;
  const w = ex.runs[0]!.workload;
  return r?.inspect ?? (w.kind === "hidden_extract" ? "hidden" : w.kind === "probe" ? "probe" : (r?.adapter || r?.adapterFrom) && ex.runs.length > 1 ? "compare" : "attention");
}

/** How many models a probe or an evaluation that follows a training experiment reads: the base, and each checkpoint the worker
 *  saves (every checkpoint_every steps and at the last, engine/fitlab_worker/jobs/train.py). Without max_steps
 *  the steps are counted as if every example filled the sequence: tokens x epochs / (seq x batch x gradAccum),
 *  the fewest the data can give (shorter examples make more steps), so this is a lower bound. */
export function modelsReadAfter(from: PlanExperiment): number {
  const w = from.runs[0]!.workload;
  const r = from.run;
  const steps = r?.max_steps ?? Math.ceil((from.data.tokens * (r?.epochs ?? from.data.epochs)) / Math.max(1, w.seqLen * w.batch * w.gradAccum));
  if (!(steps > 0)) return 1;
  const every = r?.checkpoint_every ?? 50; // train.py's default
  return 1 + Math.ceil(steps / every);
}

// interp/probes.py fit(): torch.optim.LBFGS(max_iter=200, line_search_fn="strong_wolfe"), whose max_eval
// defaults to max_iter * 5 // 4 (torch/optim/lbfgs.py): at most 250 loss-and-gradient evaluations per fit
const PROBE_FIT_EVALUATIONS = Math.floor((200 * 5) / 4);
// each evaluation reads the standardised features twice: the logits (x @ w) and the weight gradient (x^T @ dlogits)
const FEATURE_READS_PER_EVALUATION = 2;
// probe.py fits every layer twice: on the real labels and on the control task's (Hewitt & Liang 2019)
const FITS_PER_PROBE = 2;

export interface InspectionPlan {
  readonly kind: InspectKind;
  /** the extraction pass as the worker runs it, with the job's extra bytes (runs/inspect-estimate.ts) */
  readonly inspection: InspectionEstimate;
  /** prompts (probe: labelled samples) read through the model per pass */
  readonly prompts: number;
  /** models the job reads: a probe after a training experiment reads the base and each checkpoint; else 1 */
  readonly modelsRead: number;
  /** probe: probes fitted per model read (one per hidden state: layers + 1); else 0 */
  readonly probes: number;
  /** seconds of the forward passes: prompts x seq x passes x models read / extraction tokens/s */
  readonly extractionSeconds: number;
  /** probe: seconds of the fits (bounded by reading the cached features); else 0 */
  readonly probeFitSeconds: number;
  /** the whole job */
  readonly seconds: number;
}

/** The planned job of inspection experiment `ex` on `gpu`. `workload` is the workload to plan (default the
 *  plan's; the decision passes the one its fit search chose); `experiments` are the plan's, to find adapter_from. */
export function planInspection(ex: PlanExperiment, gpu: Gpu, experiments: readonly PlanExperiment[], workload: Workload = ex.runs[0]!.workload): InspectionPlan {
  const spec = ex.model!;
  const kind = inspectKindOf(ex);
  const fromKey = ex.run?.adapterFrom;
  const from = fromKey ? (experiments.find((e) => e.key === fromKey) ?? null) : null;
  const inspection = estimateInspection(spec, kind, workload, gpu, from?.runs[0]?.workload ?? null);
  const prompts = kind === "probe" ? (workload.probe?.samples ?? 0) : ex.data.prompts;
  const modelsRead = kind === "probe" && from ? modelsReadAfter(from) : 1;
  const tps = inspection.estimate.tokens_per_s;
  const extractionSeconds = tps > 0 ? (prompts * inspection.workload.seqLen * inspection.passes * modelsRead) / tps : 0;
  let probes = 0;
  let probeFitSeconds = 0;
  if (kind === "probe") {
    probes = spec.numLayers + 1; // probe.py: L + 1 hidden states (embeddings and each layer's output)
    // one read of every sample's features, at memory bandwidth (time/throughput.ts, the probe workload)
    const readSeconds = planEstimate(spec, workload, gpu).step_seconds;
    probeFitSeconds = modelsRead * probes * FITS_PER_PROBE * PROBE_FIT_EVALUATIONS * FEATURE_READS_PER_EVALUATION * readSeconds;
  }
  return { kind, inspection, prompts, modelsRead, probes, extractionSeconds, probeFitSeconds, seconds: Math.round(extractionSeconds + probeFitSeconds) };
}
