// The planner's estimate of an inspection experiment (Track B or C) as the worker runs it, before anything is
// downloaded (`fitlab run B.attention-extract --dry-run`): the extraction workload one prompt at a time
// (engine/fitlab_worker/jobs/attention.py, compare.py, hidden.py, probe.py load the model once and run one prompt
// per forward), plus what the job holds beside it that the workload alone does not name:
//   compare  the base pass's q/k of the current layer and the second set of probabilities per chunk
//            (extraction.ts recomputeAttentionBytes "compare" over "attention"), and the LoRA adapter, which
//            PEFT keeps in fp32 for reading (autocast_adapter_dtype, peft/tuners/tuners_utils.py);
//   hidden   with an adapter, the adapter;
//   probe    the probe fits run on the device with the model still loaded (probe.py fits each layer after the
//            extraction pass): the larger of the forward's transient and one layer's probe (features, head,
//            L-BFGS history, logits: extraction.ts probeBytes).
import type { Gpu } from "../hardware/gpu.js";
import { trainable } from "../memory/trainable.js";
import { makeContext } from "../memory/context.js";
import { estimateMemory } from "../memory/estimate.js";
import { recomputeAttentionBytes } from "../memory/extraction.js";
import { engineProfile } from "../engines/profile.js";
import { estimate as planEstimate, type Estimate } from "../planner.js";
import type { ModelSpec } from "../spec/types.js";
import { resolveWorkload } from "../workload/resolve.js";
import type { Workload } from "../workload/types.js";
import type { InspectKind } from "./inspect.js";

export interface InspectionEstimate {
  /** the planner's estimate of the extraction pass, with the job's extra bytes added to every peak figure */
  readonly estimate: Estimate;
  /** the workload the extraction pass is estimated as */
  readonly workload: Workload;
  readonly extra: { readonly compare_bytes: number; readonly adapter_bytes: number; readonly probe_bytes: number };
  /** forward passes over every prompt per model read: compare reads each prompt with and without the adapter */
  readonly passes: number;
}

/** The extraction workload of an inspection: one prompt of `seqLen` tokens per forward, in the plan's quant. */
export function inspectionWorkload(kind: InspectKind, planned: Workload): Workload {
  return resolveWorkload({
    kind: kind === "hidden" || kind === "probe" ? "hidden_extract" : "attention_extract",
    quant: planned.quant,
    seq: planned.seqLen,
    batch: 1,
    engine: "fitlab-worker",
    ...(kind === "attention" || kind === "compare" ? { attentionCapture: "per-layer" as const } : {}),
  });
}

export function estimateInspection(spec: ModelSpec, kind: InspectKind, planned: Workload, gpu: Gpu, adapterWorkload: Workload | null): InspectionEstimate {
  const w = inspectionWorkload(kind, planned);
  const e = planEstimate(spec, w, gpu);
  const ctx = makeContext(spec, w, engineProfile(w.engine));
  const compare = kind === "compare" ? Math.max(0, recomputeAttentionBytes(ctx, "compare") - recomputeAttentionBytes(ctx, "attention")) : 0;
  // the adapter's LoRA weights in fp32, from the training experiment's rank and targets
  const adapter = adapterWorkload && kind !== "attention" ? trainable(makeContext(spec, adapterWorkload, engineProfile("fitlab-worker"))).params * 4 : 0;
  let probe = 0;
  if (kind === "probe") {
    const fit = estimateMemory(spec, planned).allocatedBytes; // the probe workload: features, head, optimizer, logits
    probe = Math.max(0, fit - e.components.activations);
  }
  const extra = compare + adapter + probe;
  const peak = {
    ...e.peak,
    allocated_bytes: e.peak.allocated_bytes + extra,
    reserved_bytes: e.peak.reserved_bytes + extra,
    device_bytes: e.peak.device_bytes + extra,
    low_bytes: e.peak.low_bytes + extra,
    high_bytes: e.peak.high_bytes + extra,
    minimum_device_bytes: e.peak.minimum_device_bytes + extra,
    total_device_bytes: e.peak.total_device_bytes + extra,
  };
  const fits = peak.minimum_device_bytes <= gpu.usableBytes;
  return {
    estimate: { ...e, peak, fits, headroom_bytes: gpu.usableBytes - (fits ? peak.device_bytes : peak.minimum_device_bytes) },
    workload: w,
    extra: { compare_bytes: compare, adapter_bytes: adapter, probe_bytes: probe },
    passes: kind === "compare" ? 2 : 1,
  };
}
