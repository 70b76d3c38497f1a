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
  /** dtype the checkpoint is stored in (config torch_dtype), e.g. "bfloat16" */
  readonly storedDtype: string;
  /** pre-quantized checkpoint (GPTQ/AWQ) as declared in quantization_config, else null */
  readonly preQuantized: { readonly method: string; readonly bits: number; readonly groupSize: number } | null;
  readonly linears: readonly LinearShape[];
  readonly params: ParamCounts;
  /** exact bytes stored on disk when read from safetensors/GGUF headers, else null */
  readonly storedBytes: number | null;
}
