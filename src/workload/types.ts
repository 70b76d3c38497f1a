// The one resolved, read-only description of an experiment that the memory and time models read.
// Built at the edge by workload/resolve.ts from CLI flags, plan entries or CSV case rows.

export const WORKLOAD_KINDS = [
  "inference_prefill", // one forward pass over the prompt, no generation
  "inference_decode", // prefill then autoregressive generation with a KV cache
  "full", // full fine-tuning
  "lora", // LoRA on an unquantized base
  "qlora", // LoRA on a quantized frozen base
  "attention_extract", // attention maps of every layer and head (per-layer recompute, or output_attentions)
  "hidden_extract", // the residual stream of every layer, reduced by hooks as it is produced
  "probe", // linear-probe training on cached features (no LLM forward)
] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export const QUANTS = ["none", "bnb-nf4", "bnb-nf4-dq", "bnb-fp4", "bnb-int8", "gptq-int4", "gptq-int8", "awq-int4", "fp8", "torchao-nf4"] as const;
/** `gguf-<TYPE>` (llama.cpp type, e.g. gguf-Q4_K_M) is accepted as well. */
export type Quant = (typeof QUANTS)[number] | `gguf-${string}`;

export const DTYPES = ["bf16", "fp16", "fp32"] as const;
export type ComputeDtype = (typeof DTYPES)[number];

export const OPTIMIZERS = ["adamw", "adamw-fused", "adamw8bit", "paged-adamw8bit", "paged-adamw32bit", "adafactor", "sgd", "none"] as const;
export type Optimizer = (typeof OPTIMIZERS)[number];

export const GRAD_CKPT = ["none", "full", "selective", "offload"] as const;
export type GradCkpt = (typeof GRAD_CKPT)[number];

export const ATTN_IMPLS = ["eager", "sdpa", "flash2", "flex", "unknown"] as const;
export type AttnImpl = (typeof ATTN_IMPLS)[number];

export const LOSS_IMPLS = ["standard", "chunked", "fused-linear-ce", "unknown"] as const;
export type LossImpl = (typeof LOSS_IMPLS)[number];

/** fused per-layer kernels: Liger Kernel's RMSNorm / RoPE / SwiGLU (fitlab-worker --kernels liger) */
export const KERNELS = ["none", "liger"] as const;
export type Kernels = (typeof KERNELS)[number];

/** How the work is split over GPUs (the `parallel` column of CASES.md). Training: data parallel with a full
 *  replica (ddp), ZeRO stages (DeepSpeed; zero2-offload / zero3-offload move the optimizer, and for stage 3
 *  the parameters too, to CPU memory), FSDP full shard or hybrid shard (shard inside a node, replicate across
 *  nodes). Inference: tensor parallel (tp), pipeline parallel (pp), and accelerate's device_map="auto" (layers
 *  placed one after another across the GPUs). */
export const SHARDINGS = ["none", "ddp", "fsdp", "fsdp-hybrid", "zero1", "zero2", "zero2-offload", "zero3", "zero3-offload", "tp", "pp", "device-map"] as const;
export type Sharding = (typeof SHARDINGS)[number];

/** Full fine-tuning precision: "pure" keeps parameters, gradients and optimizer states in the compute dtype
 *  (torchtune, most single-GPU HF scripts that load in bf16); "mixed" keeps fp32 master weights (torch AMP on
 *  fp32 parameters, DeepSpeed's fp32 optimizer partitions, FSDP MixedPrecision on fp32 shards). */
export const PRECISIONS = ["pure", "mixed"] as const;
export type Precision = (typeof PRECISIONS)[number];

/** What lives in CPU memory instead of the GPU (DeepSpeed offload_optimizer / offload_param, FSDP CPUOffload). */
export const OFFLOADS = ["none", "optimizer", "optimizer+params"] as const;
export type Offload = (typeof OFFLOADS)[number];

/** HF Llama module names that LoRA can target. */
export const LORA_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "lm_head"] as const;
export type LoraModule = (typeof LORA_MODULES)[number];

export interface LoraSettings {
  readonly rank: number;
  readonly alpha: number;
  readonly targets: readonly LoraModule[];
  readonly dropout: number;
}

export interface Workload {
  readonly kind: WorkloadKind;
  readonly quant: Quant;
  readonly computeDtype: ComputeDtype;
  /** tokens per sequence (training: the packed length or the truncation cap; inference: prompt + new tokens) */
  readonly seqLen: number;
  /** sequences per micro-batch per GPU */
  readonly batch: number;
  readonly gradAccum: number;
  /** true when every sequence really is seqLen tokens; false when seqLen is a cap */
  readonly packed: boolean;
  /** unpacked data: the average tokens of one example as the run's tokenizer counts them (the dataset's own
   *  property), or null when not given; sets the tokens a step really processes, not the peak */
  readonly meanTokens: number | null;
  /** unpacked data: batches are grouped by length (HF Trainer group_by_length, PEFT's BucketIterator), so a
   *  batch is padded to little more than its examples' own lengths */
  readonly lengthGrouped: boolean;
  readonly lora: LoraSettings | null;
  readonly optimizer: Optimizer;
  readonly optimizerInBackward: boolean;
  readonly gradCkpt: GradCkpt;
  readonly attn: AttnImpl;
  readonly loss: LossImpl;
  /** chunked loss: tokens per chunk of lm_head + cross-entropy (fitlab-worker keeps one chunk live) */
  readonly lossChunkTokens: number;
  readonly kernels: Kernels;
  readonly compile: boolean;
  /** engine profile id (data/engines.yaml) */
  readonly engine: string;
  /** engine version string as given ("transformers 4.48.1; peft 0.13.2"), used for version-aware rules */
  readonly engineVersion: string;
  readonly nGpus: number;
  readonly sharding: Sharding;
  /** GPUs per node: the shard group of fsdp-hybrid */
  readonly gpusPerNode: number;
  /** full fine-tuning: fp32 master weights or not */
  readonly precision: Precision;
  readonly offload: Offload;
  /** inference: prompt tokens and generated tokens per sequence */
  readonly promptTokens: number;
  readonly newTokens: number;
  /** attention extraction: keep every layer's map (output_attentions, eager), or capture one layer at a time
   *  (fitlab inspect: recomputed beside SDPA in chunks of query rows, memory/extraction.ts) */
  readonly attentionCapture: "all-layers" | "per-layer";
  /** linear probes: cached feature rows, feature width (0 = model hidden size) and classes */
  readonly probe: { readonly samples: number; readonly features: number; readonly classes: number } | null;
}
