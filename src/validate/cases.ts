// Read measured cases (the columns of shared/data/cases-public.csv, documented in CASES.md) into
// resolved cases. Bad rows are kept as rejected rows with their reason, never dropped silently.
import fs from "node:fs";
import { parse } from "csv-parse/sync";
import { FitlabInputError } from "../errors.js";
import { VERSION_ERAS } from "../engines/versions.js";
import { engineId } from "../engines/profile.js";
import type { WorkloadInput } from "../workload/resolve.js";
import { SHARDINGS, type Sharding, type WorkloadKind } from "../workload/types.js";

export const REQUIRED_COLUMNS = [
  "id", "model", "workload", "quant", "compute_dtype", "lora_rank", "lora_alpha", "lora_targets", "optimizer",
  "optimizer_in_backward", "batch_size", "grad_accum", "seq_len", "packed", "grad_ckpt", "attn_impl", "loss_impl",
  "torch_compile", "framework", "gpu", "gpu_mem_gib", "n_gpus", "outcome", "metric", "peak_gib", "tokens_per_s",
  "new_tokens", "prompt_tokens", "trust",
] as const;

export type Metric = "allocated" | "active" | "reserved" | "nvidia-smi" | "unknown";
export type Outcome = "fits" | "oom" | "max-fit";

/** A setting the row's source does not state: the planner scores the default and shows the spread over
 *  these alternatives. */
export interface UnknownSetting {
  readonly setting: "attn" | "loss" | "parallel" | "versions" | "longest batch";
  readonly alternatives: readonly Partial<WorkloadInput>[];
}

export interface MeasuredCase {
  readonly id: string;
  /** the publication the row comes from (source_url): the unit of leave-one-source-out cross-validation */
  readonly source: string;
  readonly model: string;
  readonly workloadInput: WorkloadInput;
  readonly gpu: string | null;
  readonly gpuMemGib: number | null;
  readonly outcome: Outcome;
  readonly metric: Metric | null;
  readonly peakGib: number | null;
  readonly tokensPerS: number | null;
  readonly trust: string;
  readonly framework: string;
  /** settings the row leaves unknown that the model had to assume */
  readonly assumptions: readonly string[];
  /** settings the source does not state, with their alternatives */
  readonly unknowns: readonly UnknownSetting[];
}

export interface RejectedRow {
  readonly id: string;
  readonly line: number;
  readonly reason: string;
}

const WORKLOADS: Record<string, WorkloadKind> = {
  full: "full",
  lora: "lora",
  qlora: "qlora",
  inference_prefill: "inference_prefill",
  inference_decode: "inference_decode",
};

/** When the source gives no length cap for unpacked instruction data, the longest batch is assumed to be
 *  this many tokens (alpaca-style datasets: "most samples are under 512 tokens", CASES.md). */
export const UNKNOWN_SEQ_DEFAULT = 512;

function bool(v: string, col: string): boolean | undefined {
  if (v === "") return undefined;
  if (v === "true") return true;
  if (v === "false") return false;
  throw new Error(`${col} must be true or false, got "${v}"`);
}

function number(v: string, col: string): number | undefined {
  if (v === "") return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${col} must be a non-negative number, got "${v}"`);
  return n;
}

function rowToCase(r: Record<string, string>): MeasuredCase {
  const assumptions: string[] = [];
  const kind = WORKLOADS[r.workload ?? ""];
  if (!kind) throw new Error(`unknown workload "${r.workload}"`);
  const inference = kind.startsWith("inference");
  let seq = number(r.seq_len ?? "", "seq_len");
  const packed = bool(r.packed ?? "", "packed");
  if (seq === undefined && !inference) {
    seq = UNKNOWN_SEQ_DEFAULT;
    assumptions.push(`no sequence cap: longest batch assumed ${UNKNOWN_SEQ_DEFAULT} tokens`);
  }
  const given = r.framework || "other";
  const known = engineId(given);
  if (!known) assumptions.push(`framework "${given}" has no engine profile: treated as Hugging Face transformers + PEFT`);
  const framework = known ?? "other";
  const unknowns: UnknownSetting[] = [];
  const nGpus = number(r.n_gpus ?? "", "n_gpus") ?? 1;
  // parallel: empty for one GPU; a file without the column reads as one GPU where n_gpus is 1, else unknown
  const parallelRaw = (r.parallel ?? "").trim();
  let parallel: Sharding | undefined;
  if (parallelRaw === "" && nGpus === 1) parallel = undefined;
  else if (parallelRaw === "" || parallelRaw === "unknown") {
    const alts: Sharding[] = inference ? ["tp", "device-map", "pp"] : kind === "full" ? ["zero3", "fsdp", "zero2", "ddp"] : ["ddp", "zero3", "fsdp"];
    parallel = inference ? (framework === "vllm" || framework === "sglang" ? "tp" : "device-map") : kind === "full" ? "zero3" : "ddp";
    unknowns.push({ setting: "parallel", alternatives: alts.map((p) => ({ sharding: p })) });
    assumptions.push(`split over ${nGpus} GPUs not stated: ${parallel} assumed`);
  } else if ((SHARDINGS as readonly string[]).includes(parallelRaw)) parallel = parallelRaw as Sharding;
  else throw new Error(`unknown parallel "${parallelRaw}"; use ${SHARDINGS.filter((x) => x !== "none").join(", ")} or unknown`);
  if (r.attn_impl === "unknown" || (!inference && !r.attn_impl)) unknowns.push({ setting: "attn", alternatives: [{ attn: "sdpa" }, { attn: "eager" }] });
  // unpacked data: the longest batch of the run is unknown, between a quarter of the cap and the cap
  if (!inference && packed === false && seq !== undefined && seq > 512) unknowns.push({ setting: "longest batch", alternatives: [{ seq }, { seq: Math.max(256, Math.round(seq / 4)) }] });
  if (!r.framework_version) unknowns.push({ setting: "versions", alternatives: VERSION_ERAS.map((e) => ({ engineVersion: e.versions })) });
  const rank = number(r.lora_rank ?? "", "lora_rank");
  const input: WorkloadInput = {
    kind,
    quant: r.quant || "none",
    dtype: (r.compute_dtype || "bf16") as WorkloadInput["dtype"],
    batch: number(r.batch_size ?? "", "batch_size") ?? (assumptions.push("batch size assumed 1"), 1),
    gradAccum: number(r.grad_accum ?? "", "grad_accum"),
    packed: inference ? undefined : (packed ?? false),
    optimizer: (r.optimizer || (inference ? "none" : "adamw")) as WorkloadInput["optimizer"],
    optimizerInBackward: bool(r.optimizer_in_backward ?? "", "optimizer_in_backward"),
    gradCkpt: (r.grad_ckpt || undefined) as WorkloadInput["gradCkpt"],
    attn: (r.attn_impl || "unknown") as WorkloadInput["attn"],
    loss: (r.loss_impl || "standard") as WorkloadInput["loss"],
    compile: bool(r.torch_compile ?? "", "torch_compile"),
    engine: framework,
    engineVersion: r.framework_version ?? "",
    nGpus,
  };
  if (parallel !== undefined) input.sharding = parallel;
  if (!r.compute_dtype) assumptions.push("compute dtype assumed bf16");
  if (kind === "lora" || kind === "qlora") {
    if (rank === undefined) assumptions.push("LoRA rank assumed 16");
    input.rank = rank;
    input.alpha = number(r.lora_alpha ?? "", "lora_alpha");
    input.targets = r.lora_targets || (assumptions.push("LoRA targets assumed qv (PEFT default for Llama)"), "qv");
  }
  if (inference) {
    const prompt = number(r.prompt_tokens ?? "", "prompt_tokens") ?? 0;
    const gen = number(r.new_tokens ?? "", "new_tokens") ?? 0;
    if (kind === "inference_decode") {
      input.promptTokens = prompt;
      input.newTokens = gen;
      input.seq = Math.max(1, prompt + gen);
    } else {
      input.seq = seq ?? Math.max(1, prompt);
    }
  } else {
    input.seq = seq;
  }
  const outcome = (r.outcome || "fits") as Outcome;
  if (!["fits", "oom", "max-fit"].includes(outcome)) throw new Error(`unknown outcome "${r.outcome}"`);
  const metric = (r.metric || null) as Metric | null;
  if (metric && !["allocated", "active", "reserved", "nvidia-smi", "unknown"].includes(metric)) throw new Error(`unknown metric "${metric}"`);
  return {
    id: r.id ?? "",
    source: (r.source_url || "unknown source").trim(),
    model: r.model ?? "",
    workloadInput: input,
    gpu: r.gpu || null,
    gpuMemGib: number(r.gpu_mem_gib ?? "", "gpu_mem_gib") ?? null,
    outcome,
    metric,
    peakGib: number(r.peak_gib ?? "", "peak_gib") ?? null,
    tokensPerS: number(r.tokens_per_s ?? "", "tokens_per_s") ?? null,
    trust: r.trust || "unknown",
    framework,
    assumptions,
    unknowns,
  };
}

export function readCases(file: string): { cases: MeasuredCase[]; rejected: RejectedRow[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new FitlabInputError(`cannot read cases file ${file}`);
  }
  let rows: Record<string, string>[];
  try {
    rows = parse(text, { columns: true, skip_empty_lines: true, relax_column_count: true, trim: true, bom: true });
  } catch (e) {
    throw new FitlabInputError(`${file} is not valid CSV: ${(e as Error).message.split("\n")[0]}`);
  }
  const header = text.split(/\r?\n/, 1)[0]?.split(",").map((c) => c.trim().replace(/^"|"$/g, "")) ?? [];
  const missing = REQUIRED_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length > 0) throw new FitlabInputError(`${file} lacks the columns ${missing.join(", ")} (see shared/data/CASES.md)`);
  const cases: MeasuredCase[] = [];
  const rejected: RejectedRow[] = [];
  rows.forEach((r, i) => {
    try {
      if (!r.id) throw new Error("empty id");
      cases.push(rowToCase(r));
    } catch (e) {
      rejected.push({ id: r.id || `row ${i + 2}`, line: i + 2, reason: (e as Error).message });
    }
  });
  return { cases, rejected };
}
