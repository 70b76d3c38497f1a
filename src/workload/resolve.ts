// Normalise workload settings from any source (CLI flags, lab plans, CSV case rows) into a Workload.
// Defaults follow what each stack does out of the box, and are named in one place.
import { z } from "zod";
import { FitlabInputError } from "../errors.js";
import { engineProfiles } from "../engines/profile.js";
import { isGgufType } from "../memory/gguf-types.js";
import { shown } from "../input/shown.js";
import { zodIssueText } from "../input/zod-issue.js";
import { refuseInapplicable } from "./applies.js";
import {
  ATTN_IMPLS,
  DTYPES,
  GRAD_CKPT,
  LORA_MODULES,
  LOSS_IMPLS,
  OPTIMIZERS,
  QUANTS,
  SHARDINGS,
  WORKLOAD_KINDS,
  type LoraModule,
  type Quant,
  type Workload,
  type WorkloadKind,
} from "./types.js";

const posInt = (max: number) => z.coerce.number().int().positive().max(max);

/** Loose input: everything optional except the kind; strings accepted for numbers and booleans. */
export const workloadInputSchema = z
  .object({
    kind: z.enum(WORKLOAD_KINDS),
    quant: z.string().optional(),
    dtype: z.enum(DTYPES).optional(),
    seq: posInt(10_000_000).optional(),
    batch: posInt(65_536).optional(),
    gradAccum: posInt(1_000_000).optional(),
    packed: z.boolean().optional(),
    rank: posInt(65_536).optional(),
    alpha: z.coerce.number().positive().max(1e6).optional(),
    targets: z.string().optional(),
    dropout: z.coerce.number().min(0).max(0.99).optional(),
    optimizer: z.enum(OPTIMIZERS).optional(),
    optimizerInBackward: z.boolean().optional(),
    gradCkpt: z.enum(GRAD_CKPT).optional(),
    attn: z.enum(ATTN_IMPLS).optional(),
    loss: z.enum(LOSS_IMPLS).optional(),
    compile: z.boolean().optional(),
    engine: z.string().optional(),
    engineVersion: z.string().optional(),
    nGpus: posInt(4096).optional(),
    sharding: z.enum(SHARDINGS).optional(),
    promptTokens: z.coerce.number().int().min(0).max(10_000_000).optional(),
    newTokens: z.coerce.number().int().min(0).max(10_000_000).optional(),
    attentionCapture: z.enum(["all-layers", "per-layer"]).optional(),
    probeSamples: z.coerce.number().int().min(0).max(1e9).optional(),
    probeFeatures: z.coerce.number().int().min(0).max(1e6).optional(),
    probeClasses: posInt(1e6).optional(),
  })
  .strict();
export type WorkloadInput = z.input<typeof workloadInputSchema>;

/** Expand a LoRA target list: qv, qkv, qkvo, all-linear, or a +/,-joined list of HF module names. */
export function parseLoraTargets(spec: string): LoraModule[] {
  const s = spec.trim().toLowerCase();
  const named: Record<string, LoraModule[]> = {
    qv: ["q_proj", "v_proj"],
    qkv: ["q_proj", "k_proj", "v_proj"],
    qkvo: ["q_proj", "k_proj", "v_proj", "o_proj"],
    "all-linear": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    all: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
  };
  const hit = named[s];
  if (hit) return hit;
  const parts = s.split(/[+,\s]+/).filter(Boolean);
  for (const p of parts) {
    if (!(LORA_MODULES as readonly string[]).includes(p)) throw new FitlabInputError(`unknown LoRA target "${p}"; use qv, qkv, qkvo, all-linear or +-joined names from ${LORA_MODULES.join(", ")}`);
  }
  if (parts.length === 0) throw new FitlabInputError("empty LoRA target list");
  return [...new Set(parts)] as LoraModule[];
}

export function parseQuant(q: string): Quant {
  if ((QUANTS as readonly string[]).includes(q)) return q as Quant;
  if (q.startsWith("gguf-") && isGgufType(q.slice(5))) return `gguf-${q.slice(5).toUpperCase()}`;
  throw new FitlabInputError(`unknown quantization "${q}"; use ${QUANTS.join(", ")} or gguf-<TYPE> (e.g. gguf-Q4_K_M)`);
}

const TRAINING: readonly WorkloadKind[] = ["full", "lora", "qlora"];

/** Fill defaults and check the combination. Throws FitlabInputError with one line on bad input. */
export function resolveWorkload(input: WorkloadInput): Workload {
  const parsed = workloadInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join(".");
    const got = key ? (input as Record<string, unknown>)[key] : undefined;
    throw new FitlabInputError(`bad workload setting ${key || "(input)"}${got !== undefined ? ` = ${shown(got)}` : ""}: ${zodIssueText(issue, got)}`);
  }
  const i = parsed.data;
  refuseInapplicable(i);
  const kind = i.kind;
  const training = TRAINING.includes(kind);
  const inference = kind === "inference_decode" || kind === "inference_prefill";
  const quant = parseQuant(i.quant ?? (kind === "qlora" ? "bnb-nf4-dq" : "none"));
  if (kind === "qlora" && quant === "none") throw new FitlabInputError("qlora needs a quantized base (--quant bnb-nf4-dq, bnb-nf4, bnb-int8, gptq-int4, awq-int4 or torchao-nf4)");
  if (kind === "full" && quant !== "none") throw new FitlabInputError(`full fine-tuning cannot train a ${quant} base: use qlora, or --quant none`);
  if (kind === "lora" && quant !== "none") throw new FitlabInputError(`lora means an unquantized base; with ${quant} use --workload qlora`);
  const engine = i.engine ?? (quant.startsWith("gguf-") ? "llama.cpp" : inference ? "hf-generate" : "hf-peft");
  if (!engineProfiles().has(engine)) throw new FitlabInputError(`unknown engine "${engine}"; known: ${[...engineProfiles().keys()].join(", ")}`);
  const newTokens = kind === "inference_decode" ? (i.newTokens ?? Math.min(256, Math.max(1, Math.floor((i.seq ?? 2048) / 2)))) : 0;
  const seq = i.seq ?? (i.promptTokens !== undefined ? i.promptTokens + newTokens : 2048);
  const promptTokens = kind === "inference_decode" ? (i.promptTokens ?? Math.max(0, seq - newTokens)) : inference ? seq : 0;
  const lora =
    kind === "lora" || kind === "qlora"
      ? {
          rank: i.rank ?? 16,
          alpha: i.alpha ?? 2 * (i.rank ?? 16),
          targets: parseLoraTargets(i.targets ?? "all-linear"),
          dropout: i.dropout ?? 0,
        }
      : null;
  // prepare_model_for_kbit_training turns gradient checkpointing on by default (peft utils/other.py)
  const gradCkpt = i.gradCkpt ?? (kind === "qlora" && engine !== "torchtune" ? "full" : "none");
  const optimizer = i.optimizer ?? (training ? "adamw" : kind === "probe" ? "adamw" : "none");
  if (!training && kind !== "probe" && optimizer !== "none") throw new FitlabInputError(`${kind} has no optimizer (got ${optimizer})`);
  const nGpus = i.nGpus ?? 1;
  const attn = i.attn ?? (kind === "attention_extract" ? "eager" : "sdpa");
  if (kind === "attention_extract" && attn !== "eager") throw new FitlabInputError("attention extraction needs eager attention (output_attentions=True is not supported by sdpa/flash kernels)");
  return Object.freeze({
    kind,
    quant,
    computeDtype: i.dtype ?? "bf16",
    seqLen: inference && kind === "inference_decode" ? promptTokens + newTokens : seq,
    batch: i.batch ?? 1,
    gradAccum: i.gradAccum ?? 1,
    packed: i.packed ?? true,
    lora: lora ? Object.freeze({ ...lora, targets: Object.freeze(lora.targets) }) : null,
    optimizer,
    optimizerInBackward: i.optimizerInBackward ?? false,
    gradCkpt: training ? gradCkpt : "none",
    attn,
    loss: i.loss ?? "standard",
    compile: i.compile ?? false,
    engine,
    engineVersion: i.engineVersion ?? "",
    nGpus,
    sharding: i.sharding ?? (nGpus > 1 ? "ddp" : "none"),
    promptTokens,
    newTokens,
    attentionCapture: i.attentionCapture ?? "all-layers",
    probe: kind === "probe" ? Object.freeze({ samples: i.probeSamples ?? 10_000, features: i.probeFeatures ?? 0, classes: i.probeClasses ?? 2 }) : null,
  });
}
