// A GGUF file as a model: its metadata (llama.cpp's `<arch>.*` keys, written by convert_hf_to_gguf.py from
// the HF config) normalised into the same ModelSpec a config.json gives, with the stored bytes of its
// tensors and its file type as the stored format (gguf-<TYPE>).
import { FitlabInputError } from "../errors.js";
import { GGUF_FILE_TYPES } from "../memory/gguf-types.js";
import { specFromConfig } from "./config.js";
import type { GgufSummary, GgufValue } from "./gguf.js";
import type { ModelSpec, StoredQuant } from "./types.js";

/** llama.cpp architecture names -> transformers model_type (for the family layout rules in config.ts). */
const ARCH_MODEL_TYPE: Readonly<Record<string, string>> = {
  llama: "llama",
  mistral: "mistral",
  qwen2: "qwen2",
  qwen2moe: "qwen2_moe",
  qwen3: "qwen3",
  qwen3moe: "qwen3_moe",
  gemma: "gemma",
  gemma2: "gemma2",
  gemma3: "gemma3_text",
  phi3: "phi3",
  deepseek2: "deepseek_v2",
};

function numberOf(v: GgufValue | undefined): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  // per-layer arrays (e.g. head_count_kv of hybrid models): the largest entry
  if (Array.isArray(v)) {
    const xs = v.map(numberOf).filter((x): x is number => x !== undefined);
    return xs.length ? Math.max(...xs) : undefined;
  }
  return undefined;
}

export function specFromGguf(g: GgufSummary, name: string): ModelSpec {
  const arch = g.architecture;
  if (!arch) throw new FitlabInputError(`${name}: GGUF file has no general.architecture`);
  const m = g.metadata;
  const key = (k: string) => numberOf(m[`${arch}.${k}`]);
  const vocab = key("vocab_size") ?? g.arrayLengths["tokenizer.ggml.tokens"];
  const experts = key("expert_count") ?? 0;
  const raw: Record<string, unknown> = {
    architectures: [`${arch} (GGUF)`],
    model_type: ARCH_MODEL_TYPE[arch] ?? arch,
    hidden_size: key("embedding_length"),
    num_hidden_layers: key("block_count"),
    num_attention_heads: key("attention.head_count"),
    num_key_value_heads: key("attention.head_count_kv"),
    head_dim: key("attention.key_length"),
    intermediate_size: key("feed_forward_length") ?? key("expert_feed_forward_length"),
    vocab_size: vocab,
    max_position_embeddings: key("context_length"),
    sliding_window: key("attention.sliding_window"),
    // convert_hf_to_gguf.py writes output.weight only for untied heads
    tie_word_embeddings: !g.tensorNames.includes("output.weight"),
  };
  if (experts > 1) {
    raw.num_local_experts = experts;
    raw.num_experts_per_tok = key("expert_used_count");
    raw.moe_intermediate_size = key("expert_feed_forward_length") ?? key("feed_forward_length");
    const sharedFf = key("expert_shared_feed_forward_length");
    const sharedCount = key("expert_shared_count");
    if (sharedFf) raw.shared_expert_intermediate_size = sharedFf * (sharedCount ?? 1);
  }
  for (const [k, v] of Object.entries(raw)) if (v === undefined) delete raw[k];
  const base = specFromConfig(raw, name);
  const typeName = g.fileType !== null ? GGUF_FILE_TYPES[g.fileType] : undefined;
  const storedQuant: StoredQuant | null = typeName ? `gguf-${typeName}` : null;
  return {
    ...base,
    storedDtype: typeName ?? "gguf",
    preQuantized: { method: "gguf", bits: Math.round((g.totalBytes * 8) / Math.max(1, g.totalParams)), groupSize: 0, weightBlock: null, descAct: false },
    storedQuant,
    storedBytes: g.totalBytes,
    stored: { format: "gguf", totalBytes: g.totalBytes, floatBytes: g.floatBytes, floatParams: g.floatParams },
  };
}
