// Settings that do not apply to a workload are errors, not silence: `--rank` with full fine-tuning, new
// tokens for a training run, a probe's classes for an inference. Degenerate sizes (nothing to generate,
// an empty prompt to prefill, no probe samples) are refused too, rather than giving NaN tokens/s.
import { FitlabInputError } from "../errors.js";
import type { WorkloadKind } from "./types.js";

/** The parsed (loose) workload settings this rule reads. */
interface Settings {
  readonly kind: WorkloadKind;
  readonly rank?: number | undefined;
  readonly alpha?: number | undefined;
  readonly targets?: string | undefined;
  readonly dropout?: number | undefined;
  readonly promptTokens?: number | undefined;
  readonly newTokens?: number | undefined;
  readonly attentionCapture?: string | undefined;
  readonly probeSamples?: number | undefined;
  readonly probeFeatures?: number | undefined;
  readonly probeClasses?: number | undefined;
  readonly optimizerInBackward?: boolean | undefined;
  readonly gradCkpt?: string | undefined;
  readonly gradAccum?: number | undefined;
  readonly packed?: boolean | undefined;
  readonly meanTokens?: number | undefined;
  readonly lengthGrouped?: boolean | undefined;
  readonly loss?: string | undefined;
  readonly lossChunkTokens?: number | undefined;
  readonly kernels?: string | undefined;
  readonly precision?: string | undefined;
  readonly offload?: string | undefined;
  readonly gpusPerNode?: number | undefined;
}

const TRAINING: readonly WorkloadKind[] = ["full", "lora", "qlora"];
const INFERENCE: readonly WorkloadKind[] = ["inference_prefill", "inference_decode"];

/** Each setting (in CLI-flag words) with the kinds it applies to and whether it was given. */
function rules(i: Settings): [string, boolean, readonly WorkloadKind[], string][] {
  return [
    ["--rank", i.rank !== undefined, ["lora", "qlora"], "lora and qlora"],
    ["--alpha", i.alpha !== undefined, ["lora", "qlora"], "lora and qlora"],
    ["--targets", i.targets !== undefined, ["lora", "qlora"], "lora and qlora"],
    ["--dropout", i.dropout !== undefined, ["lora", "qlora"], "lora and qlora"],
    ["--prompt", i.promptTokens !== undefined, INFERENCE, "inference_prefill and inference_decode"],
    ["--new-tokens", i.newTokens !== undefined, ["inference_decode"], "inference_decode"],
    ["--capture", i.attentionCapture !== undefined, ["attention_extract"], "attention_extract"],
    ["--probe-samples", i.probeSamples !== undefined, ["probe"], "probe"],
    ["--probe-features", i.probeFeatures !== undefined, ["probe"], "probe"],
    ["--probe-classes", i.probeClasses !== undefined, ["probe"], "probe"],
    ["--optimizer-in-backward", i.optimizerInBackward === true, TRAINING, "training (full, lora, qlora)"],
    ["--grad-ckpt", i.gradCkpt !== undefined && i.gradCkpt !== "none", TRAINING, "training (full, lora, qlora)"],
    ["--grad-accum", i.gradAccum !== undefined && i.gradAccum > 1, [...TRAINING, "probe"], "training and probes"],
    ["--no-packed", i.packed === false, TRAINING, "training (full, lora, qlora)"],
    ["--mean-tokens", i.meanTokens !== undefined, TRAINING, "training (full, lora, qlora)"],
    ["--length-grouped", i.lengthGrouped === true, TRAINING, "training (full, lora, qlora)"],
    ["--loss", i.loss !== undefined && i.loss !== "standard" && i.loss !== "unknown", TRAINING, "training (full, lora, qlora)"],
    ["--loss-chunk", i.lossChunkTokens !== undefined, TRAINING, "training (full, lora, qlora)"],
    ["--kernels", i.kernels !== undefined && i.kernels !== "none", TRAINING, "training (full, lora, qlora)"],
    // full fine-tuning's own weights and states: pure bf16 or fp32 master copies (LoRA trains adapters only)
    ["--precision", i.precision !== undefined, ["full"], "full fine-tuning"],
    ["--offload", i.offload !== undefined && i.offload !== "none", TRAINING, "training (full, lora, qlora)"],
  ];
}

export function refuseInapplicable(i: Settings): void {
  for (const [flag, given, kinds, words] of rules(i)) {
    if (given && !kinds.includes(i.kind)) throw new FitlabInputError(`${flag} applies to ${words}, not ${i.kind}: drop it or change --workload`);
  }
  if (i.kind === "inference_decode" && i.newTokens === 0) throw new FitlabInputError("inference_decode with --new-tokens 0 generates nothing: give at least 1 new token, or use inference_prefill");
  if (i.kind === "inference_prefill" && i.promptTokens === 0) throw new FitlabInputError("inference_prefill with --prompt 0 has nothing to read: give at least 1 prompt token");
  if (i.kind === "probe" && i.probeSamples === 0) throw new FitlabInputError("a probe with --probe-samples 0 has nothing to train on: give at least 1 sample");
}
