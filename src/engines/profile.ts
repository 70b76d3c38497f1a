// Engine profiles (data/engines.yaml) resolved into one read-only type. Loaded once and cached.
import fs from "node:fs";
import { parseYamlCached } from "../data/yaml-cache.js";
import { z } from "zod";
import { FitlabInputError } from "../errors.js";
import type { GradCkpt, Kernels, LossImpl, Optimizer } from "../workload/types.js";

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
  readonly kbitUpcastFp32: boolean;
  readonly adapterBytes: number;
  readonly lossBytesPerLogit: Readonly<Record<LossImpl, number>>;
  readonly optimizerForeachTemp: boolean;
  readonly reservedFixedBytes: number;
  readonly reservedFraction: number;
  readonly unpackedFraction: number;
  readonly cudaContextBytes: number;
  readonly prefillLogits: "last" | "all";
  readonly kvPreallocFraction: number | null;
  readonly kvPreallocContext: boolean;
  readonly trainEfficiency: number;
  readonly quantTrainPenalty: number;
  readonly prefillEfficiency: number;
  readonly decodeBwEfficiency: number;
  readonly decodeLayerOverheadS: number;
  readonly decodeKvSecondsPerByte: number;
  /** chunked loss keeps one chunk's logits live (recomputed in backward) rather than all chunks */
  readonly chunkedLossOneChunk: boolean;
  /** fused linear-CE implementation whose buffers are counted: Liger's (or none: 0 B) */
  readonly fusedLoss: "liger" | null;
  /** packed rows are masked with a dense [b,1,s,s] mask that SDPA turns into a saved float bias per layer */
  readonly packedDenseMask: boolean;
  /** loss when the workload names none */
  readonly defaultLoss: LossImpl;
  readonly options: EngineOptions | null;
}

const GIB = 2 ** 30;
const frac = z.number().min(0).max(1);
const profileSchema = z
  .object({
    extends: z.string().optional(),
    description: z.string(),
    source: z.string().optional(),
    kbit_upcast_fp32: z.boolean().optional(),
    adapter_bytes: z.number().positive().optional(),
    loss_bytes_per_logit: z.object({ standard: z.number(), chunked: z.number(), "fused-linear-ce": z.number(), unknown: z.number() }).optional(),
    optimizer_foreach_temp: z.boolean().optional(),
    reserved_fixed_gib: z.number().min(0).optional(),
    reserved_fraction: z.number().min(0).optional(),
    unpacked_fraction: z.number().min(0).optional(),
    cuda_context_gib: z.number().min(0).optional(),
    prefill_logits: z.enum(["last", "all"]).optional(),
    kv_prealloc_fraction: frac.optional(),
    kv_prealloc_context: z.boolean().optional(),
    train_efficiency: frac.optional(),
    quant_train_penalty: z.number().min(1).optional(),
    prefill_efficiency: frac.optional(),
    decode_bw_efficiency: frac.optional(),
    decode_layer_overhead_ms: z.number().min(0).optional(),
    decode_kv_ms_per_gib: z.number().min(0).optional(),
    chunked_loss_live: z.enum(["all-chunks", "one-chunk"]).optional(),
    fused_loss: z.enum(["liger"]).optional(),
    packed_mask: z.enum(["varlen", "dense"]).optional(),
    default_loss: z.enum(["standard", "chunked", "fused-linear-ce"]).optional(),
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
const fileSchema = z.object({ profiles: z.record(z.string(), profileSchema) });
type RawProfile = z.infer<typeof profileSchema>;

let cache: ReadonlyMap<string, EngineProfile> | null = null;

function flatten(id: string, raw: Record<string, RawProfile>, seen: string[] = []): RawProfile {
  const p = raw[id];
  if (!p) throw new FitlabInputError(`engine profile "${seen.at(-1) ?? id}" extends unknown profile "${id}"`);
  if (seen.includes(id)) throw new FitlabInputError(`engine profiles extend each other in a loop: ${[...seen, id].join(" -> ")}`);
  if (!p.extends) return p;
  const parent = flatten(p.extends, raw, [...seen, id]);
  return { ...parent, ...p, source: p.source ?? parent.source };
}

function resolve(id: string, raw: Record<string, RawProfile>): EngineProfile {
  const p = flatten(id, raw);
  const req = <T>(v: T | undefined, field: string): T => {
    if (v === undefined) throw new FitlabInputError(`engine profile "${id}" lacks ${field}`);
    return v;
  };
  return Object.freeze({
    id,
    description: p.description,
    source: p.source ?? "",
    kbitUpcastFp32: req(p.kbit_upcast_fp32, "kbit_upcast_fp32"),
    adapterBytes: req(p.adapter_bytes, "adapter_bytes"),
    lossBytesPerLogit: Object.freeze({ ...req(p.loss_bytes_per_logit, "loss_bytes_per_logit") }),
    optimizerForeachTemp: req(p.optimizer_foreach_temp, "optimizer_foreach_temp"),
    reservedFixedBytes: Math.round(req(p.reserved_fixed_gib, "reserved_fixed_gib") * GIB),
    reservedFraction: req(p.reserved_fraction, "reserved_fraction"),
    unpackedFraction: req(p.unpacked_fraction, "unpacked_fraction"),
    cudaContextBytes: Math.round(req(p.cuda_context_gib, "cuda_context_gib") * GIB),
    prefillLogits: p.prefill_logits ?? "last",
    kvPreallocFraction: p.kv_prealloc_fraction ?? null,
    kvPreallocContext: p.kv_prealloc_context ?? false,
    trainEfficiency: req(p.train_efficiency, "train_efficiency"),
    quantTrainPenalty: p.quant_train_penalty ?? 1,
    prefillEfficiency: req(p.prefill_efficiency, "prefill_efficiency"),
    decodeBwEfficiency: req(p.decode_bw_efficiency, "decode_bw_efficiency"),
    decodeLayerOverheadS: req(p.decode_layer_overhead_ms, "decode_layer_overhead_ms") / 1000,
    decodeKvSecondsPerByte: req(p.decode_kv_ms_per_gib, "decode_kv_ms_per_gib") / 1000 / GIB,
    chunkedLossOneChunk: p.chunked_loss_live === "one-chunk",
    fusedLoss: p.fused_loss ?? null,
    packedDenseMask: p.packed_mask === "dense",
    defaultLoss: p.default_loss ?? "standard",
    options: p.options
      ? Object.freeze({ loss: p.options.loss, gradCkpt: p.options.grad_ckpt, optimizer: p.options.optimizer, kernels: p.options.kernels, optimizerInBackward: p.options.optimizer_in_backward })
      : null,
  });
}

export function loadEngineProfiles(path: string | URL = new URL("../../data/engines.yaml", import.meta.url)): ReadonlyMap<string, EngineProfile> {
  let text: string;
  try {
    text = fs.readFileSync(path, "utf8");
  } catch {
    throw new FitlabInputError(`cannot read engine profiles at ${String(path)}`);
  }
  const parsed = fileSchema.safeParse(parseYamlCached(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FitlabInputError(`engine profiles ${String(path)}: ${issue?.path.join(".")}: ${issue?.message}`);
  }
  const raw = parsed.data.profiles;
  return new Map(Object.keys(raw).map((id) => [id, resolve(id, raw)]));
}

export function engineProfiles(): ReadonlyMap<string, EngineProfile> {
  cache ??= loadEngineProfiles();
  return cache;
}

export function engineProfile(id: string): EngineProfile {
  const p = engineProfiles().get(id);
  if (!p) throw new FitlabInputError(`unknown engine "${id}"; known: ${[...engineProfiles().keys()].join(", ")}`);
  return p;
}
