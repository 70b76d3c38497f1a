// The worker's lean options (loss, checkpointing, optimizer, kernels, compile, packing) from CLI flags or a
// plan's run section, checked once here into TrainSettings fields. One-line errors name the flag or key.
import { FitlabInputError } from "../errors.js";
import { DEFAULT_LOSS_CHUNK_TOKENS } from "../workload/resolve.js";
import type { Workload } from "../workload/types.js";
import type { TrainSettings } from "./train.js";

export const LOSS_CHOICES = ["auto", "standard", "chunked", "fused"] as const;
export const CKPT_CHOICES = ["none", "full", "offload"] as const;
export const OPTIMIZER_CHOICES = ["adamw", "adamw-fused", "adamw8bit", "paged-adamw8bit"] as const;
export const KERNEL_CHOICES = ["auto", "none", "liger"] as const;

export type LeanSettings = Pick<TrainSettings, "loss" | "lossChunkTokens" | "gradientCheckpointing" | "optimizer" | "kernels" | "compile">;

/** Raw values as given (flag strings, plan YAML values); undefined = not given. */
export interface LeanInput {
  readonly loss?: unknown;
  readonly lossChunkTokens?: unknown;
  readonly gradCkpt?: unknown;
  readonly optimizer?: unknown;
  readonly kernels?: unknown;
  readonly compile?: unknown;
}

function pick<T extends string>(where: string, value: unknown, choices: readonly T[]): T | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string" && (choices as readonly string[]).includes(value)) return value as T;
  throw new FitlabInputError(`${where} must be ${choices.slice(0, -1).join(", ")} or ${choices.at(-1)}, got ${JSON.stringify(value)}`);
}

/** names: how each input is called where it came from (e.g. "--loss" or "run.loss"). `fallback` is the
 *  plan workload's own choice (resolved by the planner), used when the run names none. */
export function leanSettings(input: LeanInput, names: Record<keyof LeanInput, string>, method: TrainSettings["method"], fallback?: Workload): LeanSettings {
  const chunk = input.lossChunkTokens;
  let lossChunkTokens = fallback?.lossChunkTokens ?? DEFAULT_LOSS_CHUNK_TOKENS;
  if (chunk !== undefined && chunk !== null) {
    const n = typeof chunk === "number" ? chunk : typeof chunk === "string" && /^\d+$/.test(chunk.trim()) ? Number(chunk) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > 1_000_000) throw new FitlabInputError(`${names.lossChunkTokens} must be a whole number of tokens between 1 and 1000000, got ${JSON.stringify(chunk)}`);
    lossChunkTokens = n;
  }
  const ckptRaw = input.gradCkpt === true ? "full" : input.gradCkpt === false ? "none" : input.gradCkpt;
  const fromWorkload = {
    // a workload loss may be the engine default rather than a choice: only "chunked" is taken (fused = auto)
    loss: fallback?.loss === "chunked" ? "chunked" : undefined,
    gradCkpt: fallback && (CKPT_CHOICES as readonly string[]).includes(fallback.gradCkpt) ? fallback.gradCkpt : undefined,
    optimizer: fallback && (OPTIMIZER_CHOICES as readonly string[]).includes(fallback.optimizer) ? fallback.optimizer : undefined,
    kernels: fallback?.kernels === "liger" ? "liger" : undefined,
  };
  if (fallback && !fromWorkload.gradCkpt && ckptRaw === undefined) throw new FitlabInputError(`the worker has no ${fallback.gradCkpt} checkpointing: use none, full or offload`);
  if (fallback && !fromWorkload.optimizer && input.optimizer === undefined) throw new FitlabInputError(`the worker has no optimizer ${fallback.optimizer}: use ${OPTIMIZER_CHOICES.join(", ")}`);
  const loss = pick(names.loss, input.loss, LOSS_CHOICES);
  if (chunk !== undefined && chunk !== null && (loss === "standard" || loss === "fused")) throw new FitlabInputError(`${names.lossChunkTokens} sets the chunk of the chunked loss, not of ${names.loss} ${loss}: drop one of them`);
  return {
    loss: loss ?? (fromWorkload.loss as LeanSettings["loss"] | undefined) ?? "auto",
    lossChunkTokens,
    // PEFT's prepare_model_for_kbit_training checkpoints by default: so does the worker for QLoRA
    gradientCheckpointing: pick(names.gradCkpt, ckptRaw, CKPT_CHOICES) ?? (fromWorkload.gradCkpt as LeanSettings["gradientCheckpointing"] | undefined) ?? (method === "qlora" ? "full" : "none"),
    optimizer: pick(names.optimizer, input.optimizer, OPTIMIZER_CHOICES) ?? (fromWorkload.optimizer as LeanSettings["optimizer"] | undefined) ?? "adamw",
    kernels: pick(names.kernels, input.kernels, KERNEL_CHOICES) ?? (fromWorkload.kernels as LeanSettings["kernels"] | undefined) ?? "auto",
    compile: input.compile === undefined || input.compile === null ? (fallback?.compile ?? false) : input.compile === true,
  };
}
