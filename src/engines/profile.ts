// Engine profiles (data/engines.yaml) resolved into one read-only type. Loaded once and cached.
// Profiles hold mechanisms only; the calibrated numbers are read through calibration.ts.
import { z } from "zod";
import { FitlabInputError } from "../errors.js";
import { rankBySimilarity } from "../data/match.js";
import { loadYamlData, type DataFile } from "../input/data-file.js";
import { LIMITS } from "../input/limits.js";
import { shownString } from "../input/shown.js";
import { WORKLOAD_KINDS, type GradCkpt, type Kernels, type LossImpl, type Optimizer, type Precision, type WorkloadKind } from "../workload/types.js";

export const KERNEL_FAMILIES = ["hf", "unsloth", "torchtune", "vllm", "sglang", "llama.cpp", "autoawq"] as const;
export type KernelFamily = (typeof KERNEL_FAMILIES)[number];

/** What a runner can be told to do (fitlab-worker lists exactly its options); absent: anything. */
export interface EngineOptions {
  readonly loss: readonly LossImpl[];
  readonly gradCkpt: readonly GradCkpt[];
  readonly optimizer: readonly Optimizer[];
  readonly kernels: readonly Kernels[];
  readonly optimizerInBackward: boolean;
}

export interface EngineProfile {
  readonly id: string;
  readonly description: string;
  readonly source: string;
  readonly kernels: KernelFamily;
  readonly kbitUpcastFp32: boolean;
  readonly adapterBytes: number;
  /** peak bytes per logit at the loss for the current release; "unknown" reads as standard */
  readonly lossBytesPerLogit: Readonly<Record<LossImpl, number>>;
  /** chunked loss without torch.compile: extra bytes per logit autograd keeps for every chunk */
  readonly chunkedEagerExtraBytes: number;
  /** the loss is the model's own forward(labels=...) (version and remote-code rules apply) */
  readonly modelLoss: boolean;
  readonly optimizerForeachTemp: boolean;
  readonly fullPrecision: Precision;
  readonly fsdpPrecision: Precision;
  readonly gradCkptDefault: Readonly<Partial<Record<WorkloadKind, GradCkpt>>>;
  readonly lossDefault: LossImpl;
  readonly prefillLogits: "last" | "all";
  readonly kvPreallocFraction: number | null;
  readonly kvPreallocContext: boolean;
  /** prompt tokens one prefill forward takes at a time (llama.cpp's n_ubatch); null: the whole prompt at once */
  readonly prefillChunkTokens: number | null;
  /** the engine's own prefill attention materializes the score matrix whatever the attention setting: bytes
   *  alive per score at its widest (null: the workload's attention implementation decides) */
  readonly prefillScoreBytes: number | null;
  readonly cachingAllocator: boolean;
  /** CUDA context + cuBLAS workspace outside the allocator (nvidia-smi minus reserved), GiB */
  readonly cudaContextGib: number;
  readonly hostOverlapsGpu: boolean;
  /** chunked loss keeps one chunk's logits live (recomputed in backward) rather than all chunks */
  readonly chunkedLossOneChunk: boolean;
  /** fused linear-CE implementation whose buffers are counted: Liger's (or none: 0 B) */
  readonly fusedLoss: "liger" | null;
  /** packed rows are masked with a dense [b,1,s,s] mask that SDPA turns into a saved float bias per layer */
  readonly packedDenseMask: boolean;
  readonly options: EngineOptions | null;
}

const frac = z.number().min(0).max(1);
const profileSchema = z
  .object({
    extends: z.string().optional(),
    description: z.string(),
    source: z.string().optional(),
    kernels: z.enum(KERNEL_FAMILIES).optional(),
    kbit_upcast_fp32: z.boolean().optional(),
    // ranges: bytes per element of a 64-bit type at most; a CUDA context is ~0.3-1 GiB
    adapter_bytes: z.number().positive().max(8).optional(),
    loss_bytes_per_logit: z.object({ standard: z.number().min(0).max(64), chunked: z.number().min(0).max(64), "fused-linear-ce": z.number().min(0).max(64), unknown: z.number().min(0).max(64).optional() }).strict().optional(),
    model_loss: z.boolean().optional(),
    chunked_eager_extra_bytes: z.number().min(0).max(64).optional(),
    optimizer_foreach_temp: z.boolean().optional(),
    full_precision: z.enum(["pure", "mixed"]).optional(),
    fsdp_precision: z.enum(["pure", "mixed"]).optional(),
    grad_ckpt_default: z.partialRecord(z.enum(WORKLOAD_KINDS), z.enum(["none", "full", "selective", "offload"])).optional(),
    loss_default: z.enum(["standard", "chunked", "fused-linear-ce"]).optional(),
    prefill_logits: z.enum(["last", "all"]).optional(),
    kv_prealloc_fraction: frac.optional(),
    kv_prealloc_context: z.boolean().optional(),
    prefill_chunk_tokens: z.number().int().min(1).max(1_000_000).optional(),
    prefill_score_bytes: z.number().int().min(1).max(64).optional(),
    caching_allocator: z.boolean().optional(),
    cuda_context_gib: z.number().min(0).max(16).optional(),
    host_overlaps_gpu: z.boolean().optional(),
    chunked_loss_live: z.enum(["all-chunks", "one-chunk"]).optional(),
    fused_loss: z.enum(["liger"]).optional(),
    packed_mask: z.enum(["varlen", "dense"]).optional(),
    options: z
      .object({
        loss: z.array(z.enum(["standard", "chunked", "fused-linear-ce"])),
        grad_ckpt: z.array(z.enum(["none", "full", "selective", "offload"])),
        optimizer: z.array(z.enum(["adamw", "adamw-fused", "adamw8bit", "paged-adamw8bit", "paged-adamw32bit", "adafactor", "sgd"])),
        kernels: z.array(z.enum(["none", "liger"])),
        optimizer_in_backward: z.boolean(),
      })
      .strict()
      .optional(),
  })
  .strict();
const fileSchema = z.object({ profiles: z.record(z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, "a profile id is lower-case letters, digits, '.' and '-'"), profileSchema) }).strict();
type RawProfile = z.infer<typeof profileSchema>;

let cache: ReadonlyMap<string, EngineProfile> | null = null;

type Fail = DataFile<unknown>["fail"];

function flatten(id: string, raw: Record<string, RawProfile>, fail: Fail, seen: string[] = []): RawProfile {
  const p = raw[id];
  if (!p) return fail(["profiles", seen.at(-1)!, "extends"], `extends unknown profile ${shownString(id)}`);
  if (seen.includes(id)) return fail(["profiles", id, "extends"], `profiles extend each other in a loop: ${[...seen, id].join(" -> ")}`);
  if (!p.extends) return p;
  const parent = flatten(p.extends, raw, fail, [...seen, id]);
  return { ...parent, ...p, source: p.source ?? parent.source };
}

function resolve(id: string, raw: Record<string, RawProfile>, fail: Fail): EngineProfile {
  const p = flatten(id, raw, fail);
  const req = <T>(v: T | undefined, field: string): T => {
    if (v === undefined) return fail(["profiles", id], `lacks ${field} (nor does a profile it extends give it)`);
    return v;
  };
  const loss = req(p.loss_bytes_per_logit, "loss_bytes_per_logit");
  return Object.freeze({
    id,
    description: p.description,
    source: p.source ?? "",
    kernels: req(p.kernels, "kernels"),
    kbitUpcastFp32: req(p.kbit_upcast_fp32, "kbit_upcast_fp32"),
    adapterBytes: req(p.adapter_bytes, "adapter_bytes"),
    lossBytesPerLogit: Object.freeze({ ...loss, unknown: loss.unknown ?? loss.standard }),
    modelLoss: p.model_loss ?? true,
    chunkedEagerExtraBytes: p.chunked_eager_extra_bytes ?? 0,
    optimizerForeachTemp: req(p.optimizer_foreach_temp, "optimizer_foreach_temp"),
    fullPrecision: p.full_precision ?? "pure",
    fsdpPrecision: p.fsdp_precision ?? "mixed",
    gradCkptDefault: Object.freeze({ ...(p.grad_ckpt_default ?? {}) }) as Partial<Record<WorkloadKind, GradCkpt>>,
    lossDefault: p.loss_default ?? "standard",
    prefillLogits: p.prefill_logits ?? "last",
    kvPreallocFraction: p.kv_prealloc_fraction ?? null,
    kvPreallocContext: p.kv_prealloc_context ?? false,
    prefillChunkTokens: p.prefill_chunk_tokens ?? null,
    prefillScoreBytes: p.prefill_score_bytes ?? null,
    cachingAllocator: p.caching_allocator ?? true,
    cudaContextGib: req(p.cuda_context_gib, "cuda_context_gib"),
    hostOverlapsGpu: p.host_overlaps_gpu ?? true,
    chunkedLossOneChunk: p.chunked_loss_live === "one-chunk",
    fusedLoss: p.fused_loss ?? null,
    packedDenseMask: p.packed_mask === "dense",
    options: p.options
      ? Object.freeze({ loss: p.options.loss, gradCkpt: p.options.grad_ckpt, optimizer: p.options.optimizer, kernels: p.options.kernels, optimizerInBackward: p.options.optimizer_in_backward })
      : null,
  });
}

export function loadEngineProfiles(path: string | URL = new URL("../../data/engines.yaml", import.meta.url)): ReadonlyMap<string, EngineProfile> {
  const f = loadYamlData(path, "engine profiles", LIMITS.dataFileBytes, fileSchema);
  const raw = f.data.profiles as Record<string, RawProfile>;
  return new Map(Object.keys(raw).map((id) => [id, resolve(id, raw, f.fail)]));
}

export function engineProfiles(): ReadonlyMap<string, EngineProfile> {
  cache ??= loadEngineProfiles();
  return cache;
}

/** Names people write for the same stacks (framework columns, tool names). */
export const ENGINE_ALIASES: Readonly<Record<string, string>> = {
  transformers: "hf-peft",
  hf: "hf-peft",
  peft: "hf-peft",
  trl: "hf-trl",
  "hf-trainer": "hf-peft",
  deepspeed: "hf-peft",
  accelerate: "hf-peft",
  ollama: "llama.cpp",
  "llama-cpp": "llama.cpp",
  llamacpp: "llama.cpp",
  "llama-bench": "llama.cpp",
  "hf-transformers": "hf-generate",
  "transformers-generate": "hf-generate",
  swift: "ms-swift",
  llamafactory: "llama-factory",
};

/** The profile id for a name: exact, or a known alias; undefined otherwise. */
export function engineId(name: string): string | undefined {
  const n = name.trim().toLowerCase();
  if (engineProfiles().has(n)) return n;
  return ENGINE_ALIASES[n];
}

export function engineProfile(id: string): EngineProfile {
  const p = engineProfiles().get(id) ?? engineProfiles().get(engineId(id) ?? id);
  if (!p) throw new FitlabInputError(`unknown engine "${id}"; closest: ${rankBySimilarity(id, [...engineProfiles().keys()]).slice(0, 3).join(", ")}`);
  return p;
}
