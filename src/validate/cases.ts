// Read measured cases (the columns of shared/data/cases-public.csv, documented in CASES.md) into
// resolved cases. Bad rows are kept as rejected rows with their reason, never dropped silently.
import { parse } from "csv-parse/sync";
import { FitlabInputError } from "../errors.js";
import { LIMITS } from "../input/limits.js";
import { readTextFile } from "../input/read.js";
import { shown, shownString } from "../input/shown.js";
import { VERSION_ERAS } from "../engines/versions.js";
import { engineId } from "../engines/profile.js";
import type { WorkloadInput } from "../workload/resolve.js";
import { parseQuant } from "../workload/resolve.js";
import { ATTN_IMPLS, DTYPES, GRAD_CKPT, LOSS_IMPLS, OPTIMIZERS, SHARDINGS, type Sharding, type WorkloadKind } from "../workload/types.js";

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
  throw new Error(`${col} must be true or false, got ${shown(v)}`);
}

function number(v: string, col: string): number | undefined {
  if (v === "") return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${col} must be a non-negative number, got ${shown(v)}`);
  return n;
}

/** A column that takes one word of a vocabulary (empty: the default). */
function word(v: string | undefined, col: string, allowed: readonly string[]): string | undefined {
  if (v === undefined || v === "") return undefined;
  if (!allowed.includes(v)) throw new Error(`${col} ${shown(v)} is not one of ${allowed.join(", ")}`);
  return v;
}

function rowToCase(r: Record<string, string>): MeasuredCase {
  const assumptions: string[] = [];
  const kind = WORKLOADS[r.workload ?? ""];
  if (!kind) throw new Error(`unknown workload ${shown(r.workload ?? "")}; use ${Object.keys(WORKLOADS).join(", ")}`);
  // the vocabularies of CASES.md, checked here so a typo skips its row with the reason instead of
  // scoring a default in its place
  try {
    if (r.quant) parseQuant(r.quant);
  } catch {
    throw new Error(`quant ${shown(r.quant)} is not a quantization fitlab knows (none, bnb-nf4, bnb-nf4-dq, bnb-fp4, bnb-int8, gptq-int4, gptq-int8, awq-int4, fp8, torchao-nf4, gguf-<TYPE>)`);
  }
  word(r.compute_dtype, "compute_dtype", DTYPES);
  word(r.optimizer, "optimizer", OPTIMIZERS);
  word(r.grad_ckpt, "grad_ckpt", GRAD_CKPT);
  word(r.attn_impl, "attn_impl", ATTN_IMPLS);
  word(r.loss_impl, "loss_impl", LOSS_IMPLS);
  const nGpusRaw = r.n_gpus ?? "";
  if (nGpusRaw !== "" && !/^[1-9]\d{0,3}$/.test(nGpusRaw)) throw new Error(`n_gpus must be a whole number of GPUs from 1 to 9999, got ${shown(nGpusRaw)}`);
  const inference = kind.startsWith("inference");
  let seq = number(r.seq_len ?? "", "seq_len");
  const packed = bool(r.packed ?? "", "packed");
  if (seq === undefined && !inference) {
    seq = UNKNOWN_SEQ_DEFAULT;
    assumptions.push(`no sequence cap: longest batch assumed ${UNKNOWN_SEQ_DEFAULT} tokens`);
  }
  const given = r.framework || "other";
  // "other" with AutoAWQ's version and no transformers named: AutoAWQ's own fused runtime
  const versionText = (r.framework_version ?? "").toLowerCase();
  const inferred = given === "other" && /\bautoawq\b/.test(versionText) && !/\btransformers\b/.test(versionText) ? "autoawq" : null;
  if (inferred) assumptions.push(`framework "other" with ${inferred} named in the versions: planned as ${inferred}`);
  const known = engineId(inferred ?? given);
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
  else throw new Error(`unknown parallel ${shown(parallelRaw)}; use ${SHARDINGS.filter((x) => x !== "none").join(", ")} or unknown`);
  if (parallel !== undefined && parallel !== "none" && nGpus === 1 && !parallel.endsWith("-offload")) throw new Error(`parallel ${parallel} with n_gpus 1: nothing is split over one GPU (leave parallel empty, or give n_gpus)`);
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
  // optional columns: the average tokens per example the source's own counts give (unpacked data) and whether
  // its batches are grouped by length; they set the tokens a step processes (src/time/step-tokens.ts)
  const meanTokens = number(r.mean_tokens ?? "", "mean_tokens");
  if (meanTokens !== undefined) input.meanTokens = Math.max(1, Math.round(meanTokens));
  if (bool(r.length_grouped ?? "", "length_grouped") === true) input.lengthGrouped = true;
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
  if (!["fits", "oom", "max-fit"].includes(outcome)) throw new Error(`unknown outcome ${shown(r.outcome ?? "")}; use fits, oom or max-fit`);
  const metric = (r.metric || null) as Metric | null;
  if (metric && !["allocated", "active", "reserved", "nvidia-smi", "unknown"].includes(metric)) throw new Error(`unknown metric ${shown(metric)}; use allocated, active, reserved, nvidia-smi or unknown`);
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

/** csv-parse's error codes in words (its own messages quote the offending value). */
const CSV_ERRORS: Readonly<Record<string, string>> = {
  CSV_QUOTE_NOT_CLOSED: "a quoted field is never closed",
  INVALID_OPENING_QUOTE: "a quote inside an unquoted field (quote the whole field and double the inner quotes)",
  CSV_INVALID_CLOSING_QUOTE: "text right after a closing quote (double the quotes inside a quoted field)",
  CSV_RECORD_INCONSISTENT_FIELDS_LENGTH: "a row with more fields than the header has columns",
  CSV_RECORD_INCONSISTENT_COLUMNS: "a row with more fields than the header has columns",
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: "text right after a closing quote",
  CSV_MAX_RECORD_SIZE: "a field too long",
  CSV_INVALID_COLUMN_NAME: "a column name that is not text",
};

export function readCases(file: string): { cases: MeasuredCase[]; rejected: RejectedRow[] } {
  const label = `cases file ${file}`;
  const text = readTextFile(file, "cases file", LIMITS.casesBytes);
  if (text.trim() === "") throw new FitlabInputError(`${label} is empty: it needs a header row (see shared/data/CASES.md)`);
  let header: string[] = [];
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, {
      columns: (h: string[]) => {
        header = h.map((c) => String(c).trim());
        const dup = header.find((c, i) => c !== "" && header.indexOf(c) !== i);
        if (dup !== undefined) throw new FitlabInputError(`${label} line 1: the column ${shownString(dup)} appears twice`);
        return header;
      },
      info: true,
      skip_empty_lines: true,
      // a short row leaves its last columns empty; a long one would lose fields: an error at its line
      relax_column_count_less: true,
      trim: true,
      bom: true,
      max_record_size: 1 << 20,
      to: LIMITS.casesRows + 1,
    }) as typeof records;
  } catch (e) {
    if (e instanceof FitlabInputError) throw e;
    const err = e as { code?: string; lines?: number };
    const what = CSV_ERRORS[err.code ?? ""] ?? `unreadable CSV (${err.code ?? "parse error"})`;
    throw new FitlabInputError(`${label}${err.lines ? ` line ${err.lines}` : ""}: not valid CSV: ${what}`);
  }
  if (records.length > LIMITS.casesRows) throw new FitlabInputError(`${label} has more than ${LIMITS.casesRows.toLocaleString("en-US")} rows (the limit)`);
  const missing = REQUIRED_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length > 0) throw new FitlabInputError(`${label} line 1: lacks the column${missing.length > 1 ? "s" : ""} ${missing.slice(0, 8).join(", ")}${missing.length > 8 ? ` and ${missing.length - 8} more` : ""} (see shared/data/CASES.md)`);
  const cases: MeasuredCase[] = [];
  const rejected: RejectedRow[] = [];
  const seen = new Map<string, number>();
  for (const { record: r, info } of records) {
    const line = info.lines;
    const id = r.id ?? "";
    try {
      if (!id) throw new Error("empty id");
      if (!/^[\w.:-]{1,80}$/.test(id)) throw new Error(`id ${shown(id)} must be letters, digits, '.', ':', '-' or '_' (at most 80)`);
      const before = seen.get(id);
      if (before !== undefined) throw new Error(`id ${id} is already used on line ${before}`);
      seen.set(id, line);
      cases.push(rowToCase(r));
    } catch (e) {
      const safeId = /^[\w.:-]{1,80}$/.test(id) ? id : `row on line ${line}`;
      rejected.push({ id: safeId, line, reason: (e as Error).message });
    }
  }
  return { cases, rejected };
}
