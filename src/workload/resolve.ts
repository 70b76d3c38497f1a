// Normalise workload settings from any source (CLI flags, lab plans, CSV case rows) into a Workload.
// Defaults follow what each stack does out of the box, and are named in one place.
import { z } from "zod";
import { FitlabInputError } from "../errors.js";
import { engineProfile } from "../engines/profile.js";
import { isGgufType } from "../memory/gguf-types.js";
import { shown } from "../input/shown.js";
import { zodIssueText } from "../input/zod-issue.js";
import { refuseInapplicable } from "./applies.js";
import {
  ATTN_IMPLS,
  DTYPES,
  GRAD_CKPT,
  KERNELS,
  LORA_MODULES,
  LOSS_IMPLS,
  OFFLOADS,
  OPTIMIZERS,
  PRECISIONS,
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
    meanTokens: posInt(10_000_000).optional(),
    lengthGrouped: z.boolean().optional(),
    rank: posInt(65_536).optional(),
    alpha: z.coerce.number().positive().max(1e6).optional(),
    targets: z.string().optional(),
    dropout: z.coerce.number().min(0).max(0.99).optional(),
    optimizer: z.enum(OPTIMIZERS).optional(),
    optimizerInBackward: z.boolean().optional(),
    gradCkpt: z.enum(GRAD_CKPT).optional(),
    attn: z.enum(ATTN_IMPLS).optional(),
    loss: z.enum(LOSS_IMPLS).optional(),
    lossChunkTokens: posInt(10_000_000).optional(),
    kernels: z.enum(KERNELS).optional(),
    compile: z.boolean().optional(),
    engine: z.string().optional(),
    engineVersion: z.string().optional(),
    nGpus: posInt(4096).optional(),
    sharding: z.enum(SHARDINGS).optional(),
    /** the case-file name of `sharding` */
    parallel: z.enum(SHARDINGS).optional(),
    gpusPerNode: posInt(4096).optional(),
    precision: z.enum(PRECISIONS).optional(),
    offload: z.enum(OFFLOADS).optional(),
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

/** fitlab-worker's chunk of the chunked loss (engine/fitlab_worker/loss.py, `fitlab run --loss-chunk`) */
export const DEFAULT_LOSS_CHUNK_TOKENS = 256;

/** What a model's files fix before any setting is read: a pre-quantized checkpoint runs in its stored format. */
export interface StoredFormat {
  readonly name: string;
  /** the format the checkpoint is stored in (GPTQ, AWQ, FP8, bnb-serialized, GGUF), or null for plain weights */
  readonly storedQuant: Quant | null;
}

/** Fill defaults and check the combination. Throws FitlabInputError with one line on bad input.
 *  With `model`, a pre-quantized checkpoint sets the default quantization (and a contradicting one is refused). */
export function resolveWorkload(input: WorkloadInput, model?: StoredFormat): Workload {
  const parsed = workloadInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join(".");
    const got = key ? (input as Record<string, unknown>)[key] : undefined;
    throw new FitlabInputError(`bad workload setting ${key || "(input)"}${got !== undefined ? ` = ${shown(got)}` : ""}: ${zodIssueText(issue, got)}`);
  }
  const i = parsed.data;
  refuseInapplicable(i);
  let kind = i.kind;
  // a pre-quantized base cannot be trained in full or as plain LoRA: LoRA on it is QLoRA
  if (model?.storedQuant && kind === "lora" && i.quant === undefined) kind = "qlora";
  const training = TRAINING.includes(kind);
  const inference = kind === "inference_decode" || kind === "inference_prefill";
  const stored = model?.storedQuant ?? null;
  const quant = parseQuant(i.quant ?? stored ?? (kind === "qlora" ? "bnb-nf4-dq" : "none"));
  // NF4 with or without double quantization is the same stored family (the loader's setting decides)
  const sameFamily = stored !== null && stored.startsWith("bnb-nf4") && quant.startsWith("bnb-nf4");
  if (stored !== null && quant !== stored && !sameFamily) {
    throw new FitlabInputError(`${model!.name} is stored as ${stored}: it loads in that format, not ${quant} (drop --quant or pass ${stored})`);
  }
  if (i.sharding !== undefined && i.parallel !== undefined && i.sharding !== i.parallel) throw new FitlabInputError(`sharding ${i.sharding} and parallel ${i.parallel} disagree: they are the same setting`);
  if (quant.startsWith("gguf-") && !inference) throw new FitlabInputError(`${model?.name ?? "a GGUF model"} is a llama.cpp file (${quant}): use --workload inference_decode or inference_prefill`);
  if (kind === "qlora" && quant === "none") throw new FitlabInputError("qlora needs a quantized base (--quant bnb-nf4-dq, bnb-nf4, bnb-int8, gptq-int4, awq-int4 or torchao-nf4)");
  if (kind === "full" && quant !== "none") throw new FitlabInputError(`full fine-tuning cannot train a ${quant} base: use qlora, or --quant none`);
  if (kind === "lora" && quant !== "none") throw new FitlabInputError(`lora means an unquantized base; with ${quant} use --workload qlora`);
  const engine = i.engine !== undefined ? engineProfile(i.engine).id : quant.startsWith("gguf-") ? "llama.cpp" : inference ? "hf-generate" : "hf-peft";
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
  // each stack's own default (engines.yaml grad_ckpt_default), e.g. PEFT's prepare_model_for_kbit_training
  // turns checkpointing on for k-bit bases, Unsloth offloads it, LLaMA-Factory turns it on for every method
  const gradCkpt = i.gradCkpt ?? engineProfile(engine).gradCkptDefault[kind] ?? "none";
  const optimizer = i.optimizer ?? (training ? "adamw" : kind === "probe" ? "adamw" : "none");
  if (!training && kind !== "probe" && optimizer !== "none") throw new FitlabInputError(`${kind} has no optimizer (got ${optimizer})`);
  const nGpus = i.nGpus ?? 1;
  const sharding = i.sharding ?? i.parallel ?? (nGpus === 1 ? "none" : training ? "ddp" : engine === "vllm" || engine === "sglang" ? "tp" : "device-map");
  // training with tensor/pipeline parallelism (Megatron, torchtitan) is not modelled: say so rather than guess.
  // device_map="auto" training (naive model parallelism: layers spread over the GPUs, one busy at a time) is.
  if (training && (sharding === "tp" || sharding === "pp")) throw new FitlabInputError(`${sharding} for training is not modelled (use ddp, fsdp, fsdp-hybrid, zero1/2/3 or device-map)`);
  if (!training && ["ddp", "fsdp", "fsdp-hybrid", "zero1", "zero2", "zero2-offload", "zero3", "zero3-offload"].includes(sharding) && nGpus > 1) {
    throw new FitlabInputError(`${sharding} splits training state; for ${kind} on ${nGpus} GPUs use tp, pp or device-map`);
  }
  const implied = sharding === "zero3-offload" ? "optimizer+params" : sharding === "zero2-offload" ? "optimizer" : null;
  if (implied !== null && i.offload !== undefined && i.offload !== implied) throw new FitlabInputError(`${sharding} offloads ${implied} by definition; --offload ${i.offload} contradicts it (drop --offload)`);
  const offload = implied ?? i.offload ?? "none";
  // a split needs GPUs to split over: a split named without a GPU count is a forgotten --gpus (on one GPU only
  // the offloading variants change anything); an explicit count of 1 is a baseline, e.g. DDP's one process
  if (i.nGpus === undefined && sharding !== "none" && offload === "none" && (i.sharding !== undefined || i.parallel !== undefined)) {
    throw new FitlabInputError(`--parallel ${sharding} splits over several GPUs: give --gpus N (2 or more), or drop it for one GPU`);
  }
  if (i.gpusPerNode !== undefined) {
    if (sharding !== "fsdp-hybrid") throw new FitlabInputError(`--gpus-per-node applies to fsdp-hybrid (its shard group is one node), not ${sharding}: drop it or use --parallel fsdp-hybrid`);
    if (i.gpusPerNode > nGpus || nGpus % i.gpusPerNode !== 0) throw new FitlabInputError(`--gpus-per-node ${i.gpusPerNode} must divide the ${nGpus} GPUs into whole nodes`);
  }
  // DeepSpeed keeps fp32 master partitions for bf16/fp16 training (ZeRO paper §3: 2+2+12 bytes per parameter);
  // FSDP and single-GPU defaults are the engine's (data/engines.yaml full_precision / fsdp_precision).
  const profile = engineProfile(engine);
  const precision = i.precision ?? (sharding.startsWith("zero") ? "mixed" : sharding.startsWith("fsdp") ? profile.fsdpPrecision : profile.fullPrecision);
  // per-layer capture (fitlab inspect) recomputes each layer's maps beside SDPA; all-layers is output_attentions=True
  const attentionCapture = i.attentionCapture ?? "per-layer";
  const attn = i.attn ?? (kind === "attention_extract" && attentionCapture === "all-layers" ? "eager" : "sdpa");
  if (kind === "attention_extract" && attentionCapture === "all-layers" && attn !== "eager") throw new FitlabInputError("all-layers attention capture needs eager attention (output_attentions=True is not supported by sdpa/flash kernels): use --capture per-layer");
  const loss = i.loss ?? profile.lossDefault;
  if ((i.meanTokens !== undefined || i.lengthGrouped) && (i.packed ?? true)) throw new FitlabInputError("--mean-tokens and --length-grouped describe unpacked data (every packed row is --seq tokens): add --no-packed or drop them");
  if (i.lossChunkTokens !== undefined && loss !== "chunked") throw new FitlabInputError(`--loss-chunk sets the chunk of the chunked loss; this workload's loss is ${loss}: add --loss chunked or drop --loss-chunk`);
  const w: Workload = Object.freeze({
    kind,
    quant,
    computeDtype: i.dtype ?? "bf16",
    seqLen: inference && kind === "inference_decode" ? promptTokens + newTokens : seq,
    batch: i.batch ?? 1,
    gradAccum: i.gradAccum ?? 1,
    packed: i.packed ?? true,
    meanTokens: i.meanTokens ?? null,
    lengthGrouped: i.lengthGrouped ?? false,
    lora: lora ? Object.freeze({ ...lora, targets: Object.freeze(lora.targets) }) : null,
    optimizer,
    optimizerInBackward: i.optimizerInBackward ?? false,
    gradCkpt: training ? gradCkpt : "none",
    attn,
    loss,
    lossChunkTokens: i.lossChunkTokens ?? DEFAULT_LOSS_CHUNK_TOKENS,
    kernels: i.kernels ?? "none",
    compile: i.compile ?? false,
    engine,
    engineVersion: i.engineVersion ?? "",
    nGpus,
    sharding,
    gpusPerNode: Math.min(nGpus, i.gpusPerNode ?? 8),
    precision,
    offload,
    promptTokens,
    newTokens,
    attentionCapture,
    probe: kind === "probe" ? Object.freeze({ samples: i.probeSamples ?? 10_000, features: i.probeFeatures ?? 0, classes: i.probeClasses ?? 2 }) : null,
  });
  if (training) {
    const unsupported = unsupportedOption(w);
    if (unsupported) throw new FitlabInputError(unsupported);
  }
  return w;
}

/** Why this engine cannot run the workload's training options, or null. Engines that list their options
 *  (data/engines.yaml `options`, e.g. fitlab-worker) run exactly those. */
export function unsupportedOption(w: Workload): string | null {
  const opts = engineProfile(w.engine).options;
  if (!opts) return null;
  const check = (what: string, value: string, allowed: readonly string[]) => (allowed.includes(value) ? null : `${w.engine} has no ${what} "${value}"; it offers ${allowed.join(", ")}`);
  return (
    check("loss", w.loss, opts.loss) ??
    check("checkpointing mode", w.gradCkpt, opts.gradCkpt) ??
    check("optimizer", w.optimizer, opts.optimizer) ??
    check("kernels", w.kernels, opts.kernels) ??
    (w.optimizerInBackward && !opts.optimizerInBackward ? `${w.engine} cannot fuse the optimizer step into backward` : null)
  );
}
