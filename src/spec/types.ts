// The one resolved, read-only description of a model that everything downstream reads.
// Built once at the edge (config.ts from an HF config.json; safetensors.ts / gguf.ts add stored bytes).

/** Parameter counts by component, exact integers. */
export interface ParamCounts {
  readonly embeddings: number; // token (and learned position) embeddings
  readonly attention: number; // q, k, v, o projections incl. biases, all layers
  readonly mlp: number; // dense MLP, or all experts + routers + shared experts for MoE, all layers
  readonly norms: number; // every norm weight/bias, all layers + final norm
  readonly lmHead: number; // 0 when tied to embeddings
  readonly total: number;
  /** parameters touched per token (MoE: top-k experts only); equals total for dense models */
  readonly active: number;
}

/** Shapes of one decoder layer's linear modules, in HF Llama naming. */
export interface LinearShape {
  readonly name: "q_proj" | "k_proj" | "v_proj" | "o_proj" | "gate_proj" | "up_proj" | "down_proj";
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** how many copies per layer (MoE experts); 1 for dense */
  readonly copies: number;
  /** copies touched per token (MoE: experts per token) */
  readonly activeCopies: number;
}

export interface ModelSpec {
  readonly name: string;
  readonly architecture: string; // e.g. "LlamaForCausalLM"
  readonly modelType: string; // e.g. "llama"
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly intermediateSize: number;
  readonly vocabSize: number;
  readonly tiedEmbeddings: boolean;
  readonly gatedMlp: boolean;
  readonly maxPositions: number;
  /** sliding-window size, or null when every layer is full attention */
  readonly slidingWindow: number | null;
  /** layers that use the sliding window (0 when none) */
  readonly slidingLayers: number;
  readonly numExperts: number; // 1 for dense models
  readonly expertsPerToken: number; // 1 for dense models
  /** width of one routed expert's MLP (moe_intermediate_size; intermediate_size for Mixtral); equals
   *  intermediateSize for dense models */
  readonly expertIntermediateSize: number;
  /** summed width of the always-active shared experts (Qwen2-MoE shared_expert_intermediate_size,
   *  DeepSeek n_shared_experts x moe_intermediate_size); 0 when none */
  readonly sharedExpertIntermediateSize: number;
  /** the model computes its loss on 16-bit logits without upcasting them (remote code such as Qwen-1's
   *  modeling_qwen.py); false for transformers' own classes, whose loss upcasts */
  readonly lossOn16BitLogits: boolean;
  /** dtype the checkpoint is stored in (config torch_dtype), e.g. "bfloat16" */
  readonly storedDtype: string;
  /** pre-quantized checkpoint as declared in quantization_config (or a GGUF file's type), else null */
  readonly preQuantized: PreQuantized | null;
  /** the workload quantization the stored format runs as (gptq-int4, fp8, gguf-Q4_K_M, ...), or null when
   *  the checkpoint holds plain floating-point weights or a format fitlab does not model (see preQuantized) */
  readonly storedQuant: StoredQuant | null;
  readonly linears: readonly LinearShape[];
  readonly params: ParamCounts;
  /** exact bytes stored on disk when read from safetensors/GGUF headers, else null */
  readonly storedBytes: number | null;
  /** the stored tensors by dtype, when read from safetensors/GGUF headers */
  readonly stored: StoredTensors | null;
}

/** Quantization formats a checkpoint can be stored in (a subset of the workload's Quant). */
export type StoredQuant = "bnb-nf4" | "bnb-nf4-dq" | "bnb-fp4" | "bnb-int8" | "gptq-int4" | "gptq-int8" | "awq-int4" | "fp8" | `gguf-${string}`;

export interface PreQuantized {
  /** quant_method as written (gptq, awq, bitsandbytes, fp8, compressed-tensors, gguf, ...) */
  readonly method: string;
  readonly bits: number;
  /** elements per scale group (GPTQ/AWQ group_size, -1 = per output channel); 0 when not grouped */
  readonly groupSize: number;
  /** FP8 block-wise scales: the [rows, cols] block, or null (per-tensor / per-channel) */
  readonly weightBlock: readonly [number, number] | null;
  /** GPTQ act-order keeps a g_idx (int32 per input feature) */
  readonly descAct: boolean;
}

export interface StoredTensors {
  readonly format: "safetensors" | "gguf";
  readonly totalBytes: number;
  /** bytes of floating-point tensors (F32/F16/BF16) that a dtype cast on load would resize */
  readonly floatBytes: number;
  /** elements of those floating-point tensors */
  readonly floatParams: number;
}
