// Normalise a Hugging Face config.json (any of the common causal-LM families) into a ModelSpec.
// This is the only place that reads raw config keys; everything downstream reads ModelSpec.
import { FitlabInputError } from "../errors.js";
import type { LinearShape, ModelSpec, ParamCounts, PreQuantized, StoredQuant } from "./types.js";

type Raw = Record<string, unknown>;

function num(raw: Raw, keys: readonly string[]): number | undefined {
  for (const k of keys) {
    const v = raw[k];
    if (typeof v === "number" && Number.isFinite(v)) return v;
  }
  return undefined;
}

function need(raw: Raw, keys: readonly string[], name: string): number {
  const v = num(raw, keys);
  if (v === undefined) throw new FitlabInputError(`config for ${name} has no ${keys[0]} (also looked for ${keys.slice(1).join(", ") || "nothing else"})`);
  if (!Number.isInteger(v) || v <= 0) throw new FitlabInputError(`config for ${name}: ${keys[0]} must be a positive integer, got ${v}`);
  return v;
}

/** Which family-specific layout rules apply; chosen from model_type / architectures. */
interface Layout {
  /** bias on q/k/v (Qwen2, Qwen-1 c_attn, BLOOM) */
  qkvBias: boolean;
  /** bias on o_proj and MLP linears (BLOOM) */
  denseBias: boolean;
  /** gated (SwiGLU/GeGLU) MLP with 3 matrices vs plain 2-matrix MLP */
  gated: boolean;
  /** norm weights per layer, in units of hidden size (RMSNorm: 1 each; LayerNorm with bias: 2 each) */
  normsPerLayer: number;
  /** extra per-layer norm params not proportional to hidden (Qwen3 q_norm/k_norm: 2·head_dim) */
  extraNormPerLayer: (headDim: number) => number;
  /** final-norm params in units of hidden size */
  finalNorm: number;
  /** embedding layernorm params (BLOOM word_embeddings_layernorm) in units of hidden size */
  embedNorm: number;
}

function layoutFor(modelType: string, arch: string): Layout {
  const base: Layout = { qkvBias: false, denseBias: false, gated: true, normsPerLayer: 2, extraNormPerLayer: () => 0, finalNorm: 1, embedNorm: 0 };
  switch (modelType) {
    case "qwen2":
    case "qwen2_moe":
      return { ...base, qkvBias: true };
    case "qwen": // Qwen-1 remote code: c_attn has bias, c_proj/w1/w2 none (no_bias=true)
      return { ...base, qkvBias: true };
    case "qwen3":
    case "qwen3_moe":
      return { ...base, extraNormPerLayer: (d) => 2 * d };
    case "gemma2":
      return { ...base, normsPerLayer: 4 }; // input, post-attn, pre-ffw, post-ffw RMSNorm (modeling_gemma2.py)
    case "gemma3_text":
    case "gemma3":
      // Gemma-2's four norms plus q_norm/k_norm of head_dim (modeling_gemma3.py Gemma3Attention)
      return { ...base, normsPerLayer: 4, extraNormPerLayer: (d) => 2 * d };
    case "bloom":
      // BLOOM: LayerNorm (weight+bias) ×2 per layer, final LN, embedding LN; all linears biased; 4h GELU MLP
      return { qkvBias: true, denseBias: true, gated: false, normsPerLayer: 4, extraNormPerLayer: () => 0, finalNorm: 2, embedNorm: 2 };
    default:
      if (/Bloom/i.test(arch)) return layoutFor("bloom", arch);
      return base;
  }
}

/** Build the resolved spec. `name` is used in messages and as the spec's display name. */
export function specFromConfig(raw: unknown, name: string): ModelSpec {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new FitlabInputError(`config for ${name} is not a JSON object`);
  let cfg = raw as Raw;
  // multimodal wrappers keep the language model under text_config
  if (typeof cfg.text_config === "object" && cfg.text_config !== null && num(cfg, ["hidden_size"]) === undefined) {
    cfg = { ...(cfg.text_config as Raw), architectures: cfg.architectures, torch_dtype: cfg.torch_dtype ?? (cfg.text_config as Raw).torch_dtype };
  }
  const archs = Array.isArray(cfg.architectures) ? (cfg.architectures as unknown[]).map(String) : [];
  const arch = archs[0] ?? "unknown";
  const modelType = typeof cfg.model_type === "string" ? cfg.model_type : arch.toLowerCase().includes("llama") ? "llama" : "unknown";
  const layout = layoutFor(modelType, arch);

  const hidden = need(cfg, ["hidden_size", "n_embd", "n_embed", "d_model"], name);
  const layers = need(cfg, ["num_hidden_layers", "n_layer", "num_layers"], name);
  const heads = need(cfg, ["num_attention_heads", "n_head"], name);
  const kvHeads = num(cfg, ["num_key_value_heads", "multi_query_group_num"]) ?? (cfg.multi_query === true ? 1 : heads);
  const headDim = num(cfg, ["head_dim", "kv_channels"]) ?? hidden / heads;
  if (!Number.isInteger(headDim)) throw new FitlabInputError(`config for ${name}: hidden_size ${hidden} is not divisible by ${heads} heads and no head_dim is given`);
  const vocab = need(cfg, ["vocab_size", "padded_vocab_size"], name);
  let inter = num(cfg, ["intermediate_size", "ffn_hidden_size", "n_inner"]) ?? (layout.gated ? undefined : 4 * hidden);
  if (inter === undefined) throw new FitlabInputError(`config for ${name} has no intermediate_size`);
  // Qwen-1 stores twice the width of each of w1/w2 (modeling_qwen.py: ff_dim_in = intermediate_size // 2)
  if (modelType === "qwen") inter = inter / 2;
  const numExperts = num(cfg, ["num_local_experts", "num_experts", "n_routed_experts"]) ?? 1;
  const expertsPerToken = numExperts > 1 ? (num(cfg, ["num_experts_per_tok", "moe_topk"]) ?? 2) : 1;
  // routed expert width: moe_intermediate_size (Qwen2/3-MoE, DeepSeek); Mixtral's experts use intermediate_size
  const expertInter = numExperts > 1 ? (num(cfg, ["moe_intermediate_size", "expert_intermediate_size"]) ?? inter) : inter;
  // shared experts: Qwen2-MoE one shared MLP of shared_expert_intermediate_size; DeepSeek n_shared_experts of
  // moe_intermediate_size each (modeling_deepseek.py DeepseekV2MoE: intermediate_size * n_shared_experts)
  const nShared = numExperts > 1 ? (num(cfg, ["n_shared_experts", "num_shared_experts"]) ?? 0) : 0;
  const sharedExpertInter = numExperts > 1 ? (num(cfg, ["shared_expert_intermediate_size"]) ?? nShared * expertInter) : 0;
  // transformers default for tie_word_embeddings is true in PretrainedConfig, but Llama/Mistral/Qwen-1 configs
  // without the key are untied in practice (their classes default it to false); Gemma/BLOOM default to tied.
  const tiedDefault = ["gemma", "gemma2", "gemma3_text", "bloom"].includes(modelType);
  const tied = typeof cfg.tie_word_embeddings === "boolean" ? cfg.tie_word_embeddings : tiedDefault;
  const maxPositions = num(cfg, ["max_position_embeddings", "max_sequence_length", "seq_length", "n_positions"]) ?? 2048;

  // Sliding window: Mistral-v0.1 (all layers), Gemma-2 (every other layer), Qwen2 only when use_sliding_window.
  // sliding_window 0 means no window (config-check.ts refuses negative windows)
  let slidingWindow = num(cfg, ["sliding_window"]) || null;
  let slidingLayers = 0;
  if (slidingWindow !== null) {
    if (modelType.startsWith("qwen2") || modelType.startsWith("qwen3")) {
      if (cfg.use_sliding_window === true) {
        const maxWindowLayers = num(cfg, ["max_window_layers"]) ?? layers;
        slidingLayers = Math.max(0, layers - maxWindowLayers);
      }
    } else if (modelType === "gemma2") {
      slidingLayers = Math.floor(layers / 2);
    } else if (modelType === "gemma3_text" && num(cfg, ["sliding_window_pattern", "_sliding_window_pattern"]) !== undefined && !Array.isArray(cfg.layer_types)) {
      // every sliding_window_pattern-th layer is global, the others slide (modeling_gemma3.py)
      const pattern = num(cfg, ["sliding_window_pattern", "_sliding_window_pattern"])!;
      slidingLayers = layers - Math.floor(layers / pattern);
    } else if (Array.isArray(cfg.layer_types)) {
      slidingLayers = (cfg.layer_types as unknown[]).filter((t) => t === "sliding_attention").length;
    } else {
      slidingLayers = layers;
    }
    if (slidingLayers === 0 || slidingWindow >= maxPositions) { slidingWindow = slidingLayers === 0 ? null : slidingWindow; }
  }
  if (slidingWindow === null) slidingLayers = 0;

  const qOut = heads * headDim;
  const kvOut = kvHeads * headDim;
  const linears: LinearShape[] = [
    { name: "q_proj", inFeatures: hidden, outFeatures: qOut, copies: 1, activeCopies: 1 },
    { name: "k_proj", inFeatures: hidden, outFeatures: kvOut, copies: 1, activeCopies: 1 },
    { name: "v_proj", inFeatures: hidden, outFeatures: kvOut, copies: 1, activeCopies: 1 },
    { name: "o_proj", inFeatures: qOut, outFeatures: hidden, copies: 1, activeCopies: 1 },
  ];
  const mlpLinears = (width: number, copies: number, active: number): LinearShape[] =>
    layout.gated
      ? [
          { name: "gate_proj", inFeatures: hidden, outFeatures: width, copies, activeCopies: active },
          { name: "up_proj", inFeatures: hidden, outFeatures: width, copies, activeCopies: active },
          { name: "down_proj", inFeatures: width, outFeatures: hidden, copies, activeCopies: active },
        ]
      : [
          { name: "up_proj", inFeatures: hidden, outFeatures: width, copies, activeCopies: active },
          { name: "down_proj", inFeatures: width, outFeatures: hidden, copies, activeCopies: active },
        ];
  linears.push(...mlpLinears(expertInter, numExperts, expertsPerToken));
  if (sharedExpertInter > 0) linears.push(...mlpLinears(sharedExpertInter, 1, 1));

  const weightsOf = (l: LinearShape, copies: number) => l.inFeatures * l.outFeatures * copies;
  const attnWeights = linears.slice(0, 4).reduce((s, l) => s + weightsOf(l, 1), 0);
  const attnBias = (layout.qkvBias ? qOut + 2 * kvOut : 0) + (layout.denseBias ? hidden : 0);
  const mlpLin = linears.slice(4);
  const mlpBias = layout.denseBias ? mlpLin.reduce((s, l) => s + l.outFeatures * l.copies, 0) : 0;
  const router = numExperts > 1 ? hidden * numExperts + (sharedExpertInter > 0 ? hidden : 0) : 0;
  const mlpTotal = mlpLin.reduce((s, l) => s + weightsOf(l, l.copies), 0) + mlpBias + router;
  const mlpActive = mlpLin.reduce((s, l) => s + weightsOf(l, l.activeCopies), 0) + mlpBias + router;

  const embeddings = vocab * hidden + (cfg.position_embedding_type === "absolute" || modelType === "gpt2" ? maxPositions * hidden : 0);
  const attention = layers * (attnWeights + attnBias);
  const norms = layers * (layout.normsPerLayer * hidden + layout.extraNormPerLayer(headDim)) + layout.finalNorm * hidden + layout.embedNorm * hidden;
  const lmHead = tied ? 0 : vocab * hidden;
  const mlp = layers * mlpTotal;
  const total = embeddings + attention + mlp + norms + lmHead;
  const active = total - layers * (mlpTotal - mlpActive);
  const params: ParamCounts = { embeddings, attention, mlp, norms, lmHead, total, active };

  const { preQuantized, storedQuant } = storedFormat((cfg.quantization_config ?? (raw as Raw).quantization_config ?? null) as Raw | null);
  const storedDtype = typeof cfg.torch_dtype === "string" ? cfg.torch_dtype : typeof cfg.dtype === "string" ? cfg.dtype : "bfloat16";

  return Object.freeze({
    name,
    architecture: arch,
    modelType,
    hiddenSize: hidden,
    numLayers: layers,
    numHeads: heads,
    numKvHeads: kvHeads,
    headDim,
    intermediateSize: inter,
    vocabSize: vocab,
    tiedEmbeddings: tied,
    gatedMlp: layout.gated,
    maxPositions,
    slidingWindow,
    slidingLayers,
    numExperts,
    expertsPerToken,
    expertIntermediateSize: expertInter,
    sharedExpertIntermediateSize: sharedExpertInter,
    // Qwen-1 remote code: CrossEntropyLoss on the shifted 16-bit logits, no .float() (modeling_qwen.py QWenLMHeadModel.forward)
    lossOn16BitLogits: modelType === "qwen",
    storedDtype,
    preQuantized,
    storedQuant,
    linears: Object.freeze(linears.map((l) => Object.freeze(l))),
    params: Object.freeze(params),
    storedBytes: null,
    stored: null,
  });
}

/** quantization_config -> the stored format. Methods: GPTQ (auto-gptq / gptqmodel), AWQ, bitsandbytes
 *  serialized 4/8-bit, FP8 (block-wise weight_block_size or per-tensor), compressed-tensors (llm-compressor
 *  config_groups: 8-bit float -> fp8, 8-bit int -> int8 like GPTQ-Int8, 4-bit int -> int4 like GPTQ-Int4). */
export function storedFormat(qc: Raw | null): { preQuantized: PreQuantized | null; storedQuant: StoredQuant | null } {
  if (!qc || typeof qc !== "object") return { preQuantized: null, storedQuant: null };
  const method = typeof qc.quant_method === "string" ? qc.quant_method.toLowerCase() : qc.load_in_4bit === true || qc.load_in_8bit === true ? "bitsandbytes" : "";
  if (!method) return { preQuantized: null, storedQuant: null };
  const n = (k: string) => (typeof qc[k] === "number" ? (qc[k] as number) : undefined);
  const pq = (bits: number, groupSize = 0, weightBlock: readonly [number, number] | null = null, descAct = false): PreQuantized => ({ method, bits, groupSize, weightBlock, descAct });
  switch (method) {
    case "gptq": {
      const bits = n("bits") ?? 4;
      const q: StoredQuant | null = bits === 4 ? "gptq-int4" : bits === 8 ? "gptq-int8" : null;
      return { preQuantized: pq(bits, n("group_size") ?? 128, null, qc.desc_act === true), storedQuant: q };
    }
    case "awq": {
      const bits = n("bits") ?? n("w_bit") ?? 4;
      return { preQuantized: pq(bits, n("group_size") ?? n("q_group_size") ?? 128), storedQuant: bits === 4 ? "awq-int4" : null };
    }
    case "bitsandbytes":
    case "bitsandbytes_4bit":
    case "bitsandbytes_8bit": {
      if (qc.load_in_8bit === true || qc._load_in_8bit === true || method.endsWith("8bit")) return { preQuantized: pq(8), storedQuant: "bnb-int8" };
      const type = String(qc.bnb_4bit_quant_type ?? "nf4");
      const dq = qc.bnb_4bit_use_double_quant === true;
      return { preQuantized: pq(4, 64), storedQuant: type === "fp4" ? "bnb-fp4" : dq ? "bnb-nf4-dq" : "bnb-nf4" };
    }
    case "fp8": {
      const b = qc.weight_block_size;
      const block = Array.isArray(b) && b.length === 2 && b.every((x) => typeof x === "number") ? ([b[0], b[1]] as [number, number]) : null;
      return { preQuantized: pq(8, 0, block), storedQuant: "fp8" };
    }
    case "compressed-tensors": {
      const groups = (qc.config_groups ?? {}) as Record<string, Raw>;
      const w = Object.values(groups).map((g) => (g?.weights ?? null) as Raw | null).find((x) => x !== null) ?? null;
      if (!w) return { preQuantized: pq(0), storedQuant: null };
      const bits = typeof w.num_bits === "number" ? w.num_bits : 8;
      const float = w.type === "float";
      const strategy = String(w.strategy ?? "tensor");
      const group = strategy === "group" && typeof w.group_size === "number" ? w.group_size : strategy === "channel" ? -1 : 0;
      const blk = Array.isArray(w.block_structure) && w.block_structure.length === 2 ? ([Number(w.block_structure[0]), Number(w.block_structure[1])] as [number, number]) : null;
      const q: StoredQuant | null = bits === 8 ? (float ? "fp8" : "gptq-int8") : bits === 4 && !float ? "gptq-int4" : null;
      return { preQuantized: pq(bits, group, blk), storedQuant: q };
    }
    default:
      // mxfp4, hqq, eetq, ...: recorded, not modelled (weights then come from stored bytes when read)
      return { preQuantized: pq(n("bits") ?? 0), storedQuant: null };
  }
}
