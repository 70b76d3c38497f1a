// The checks a config.json passes before config.ts reads it: every size field a whole number in a sane
// range (a schema), then the rules between fields (kv heads divide heads, experts per token within the
// experts, ...). One line naming the file, the field, what was expected and what was found.
import { z } from "zod";
import { FitlabInputError } from "../errors.js";
import { shown } from "../input/shown.js";
import { valueAt, zodIssueText } from "../input/zod-issue.js";
import type { ModelSpec } from "./types.js";

/** [keys read by config.ts, in the order it reads them; smallest; largest; why the largest]. */
const FIELDS: readonly (readonly [readonly string[], number, number])[] = [
  // the largest published models: hidden 18432 (Nemotron-4 340B), 126 layers (Llama-3.1 405B),
  // 128 heads, head_dim 256 (Gemma), vocab 262144 (Gemma 3), 256 experts (DeepSeek-V3); limits are far above
  [["hidden_size", "n_embd", "n_embed", "d_model"], 1, 131_072],
  [["num_hidden_layers", "n_layer", "num_layers"], 1, 1024],
  [["num_attention_heads", "n_head"], 1, 1024],
  [["num_key_value_heads", "multi_query_group_num"], 1, 1024],
  [["head_dim", "kv_channels"], 1, 4096],
  [["vocab_size", "padded_vocab_size"], 1, 8_388_608],
  [["intermediate_size", "ffn_hidden_size", "n_inner"], 1, 2_097_152],
  [["moe_intermediate_size"], 1, 2_097_152],
  [["shared_expert_intermediate_size"], 0, 2_097_152],
  [["num_local_experts", "num_experts", "n_routed_experts"], 1, 4096],
  [["num_experts_per_tok", "moe_topk"], 1, 4096],
  // Llama 4 Scout: 10M positions
  [["max_position_embeddings", "max_sequence_length", "seq_length", "n_positions"], 1, 134_217_728],
  [["sliding_window"], 0, 134_217_728],
  [["max_window_layers"], 0, 1_000_000],
];

/** Largest model fitlab reasons about: 10 trillion parameters, several times the largest published. */
export const MAX_PARAMS = 1e13;

const intField = (min: number, max: number) => z.number().int().min(min).max(max).nullable().optional();

const shape: Record<string, z.ZodType> = {};
for (const [keys, min, max] of FIELDS) for (const k of keys) shape[k] = intField(min, max);
const rawSchema = z.looseObject({
  ...shape,
  model_type: z.string().max(200).optional(),
  architectures: z.array(z.string().max(200)).max(64).nullable().optional(),
  torch_dtype: z.string().max(64).nullable().optional(),
  dtype: z.string().max(64).nullable().optional(),
  tie_word_embeddings: z.boolean().nullable().optional(),
  use_sliding_window: z.boolean().nullable().optional(),
  multi_query: z.boolean().nullable().optional(),
  layer_types: z.array(z.string().max(100)).max(1_000_000).nullable().optional(),
  quantization_config: z
    .looseObject({
      quant_method: z.string().max(100).optional(),
      bits: z.number().int().min(1).max(32).nullable().optional(),
      group_size: z.number().int().min(-1).max(1_048_576).nullable().optional(),
    })
    .nullable()
    .optional(),
});

function expectation(key: string): string | null {
  for (const [keys, min, max] of FIELDS) if (keys.includes(key)) return `a whole number from ${min.toLocaleString("en-US")} to ${max.toLocaleString("en-US")}`;
  switch (key) {
    case "tie_word_embeddings":
    case "use_sliding_window":
    case "multi_query":
      return "true or false";
    case "architectures":
    case "layer_types":
      return "a list of names";
    default:
      return null;
  }
}

type Raw = Record<string, unknown>;

/** The first of `keys` that holds a number (what config.ts reads). */
function first(cfg: Raw, keys: readonly string[]): [string, number] | undefined {
  for (const k of keys) if (typeof cfg[k] === "number") return [k, cfg[k] as number];
  return undefined;
}

/** Check a parsed config.json; `label` names it in messages (its path). Throws FitlabInputError. */
export function checkConfig(raw: unknown, label: string): void {
  const bad = (msg: string): never => {
    throw new FitlabInputError(`${label}: ${msg}`);
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) bad(`expected a JSON object, found ${Array.isArray(raw) ? "a list" : shown(raw)}`);
  let cfg = raw as Raw;
  // multimodal wrappers keep the language model under text_config (config.ts reads it there)
  if (cfg.text_config !== undefined && typeof cfg.hidden_size !== "number") {
    if (typeof cfg.text_config !== "object" || cfg.text_config === null || Array.isArray(cfg.text_config)) bad("text_config must be an object");
    cfg = cfg.text_config as Raw;
    label = `${label} text_config`;
  }
  const parsed = rawSchema.safeParse(cfg);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.map(String).join(".");
    const top = String(issue.path[0] ?? "");
    const value = valueAt(cfg, issue.path);
    const known = expectation(top);
    bad(issue.path.length === 1 && known ? `${key} must be ${known}, found ${shown(value)}` : `${key}: ${zodIssueText(issue, value)}`);
  }
  const hidden = first(cfg, FIELDS[0]![0]);
  const layers = first(cfg, FIELDS[1]![0]);
  const heads = first(cfg, FIELDS[2]![0]);
  const kv = first(cfg, FIELDS[3]![0]);
  const headDim = first(cfg, FIELDS[4]![0]);
  const experts = first(cfg, FIELDS[9]![0]);
  const perToken = first(cfg, FIELDS[10]![0]);
  const maxWindowLayers = first(cfg, FIELDS[13]![0]);
  if (!hidden) bad(`has no hidden size (looked for ${FIELDS[0]![0].join(", ")})`);
  if (!layers) bad(`has no layer count (looked for ${FIELDS[1]![0].join(", ")})`);
  if (!heads) bad(`has no attention-head count (looked for ${FIELDS[2]![0].join(", ")})`);
  if (!first(cfg, FIELDS[5]![0])) bad(`has no vocabulary size (looked for ${FIELDS[5]![0].join(", ")})`);
  if (kv && kv[1] > heads![1]) bad(`${kv[0]} (${kv[1]}) must not exceed ${heads![0]} (${heads![1]})`);
  if (kv && heads![1] % kv[1] !== 0) bad(`${kv[0]} (${kv[1]}) must divide ${heads![0]} (${heads![1]}): each key/value head serves a whole group of query heads`);
  if (!headDim && hidden![1] % heads![1] !== 0) bad(`${hidden![0]} (${hidden![1]}) is not divisible by ${heads![0]} (${heads![1]}) and no head_dim is given`);
  if (perToken && experts && experts[1] > 1 && perToken[1] > experts[1]) bad(`${perToken[0]} (${perToken[1]}) must not exceed ${experts[0]} (${experts[1]})`);
  if (maxWindowLayers && maxWindowLayers[1] > layers![1] && cfg.use_sliding_window === true) bad(`max_window_layers (${maxWindowLayers[1]}) exceeds ${layers![0]} (${layers![1]})`);
  if (Array.isArray(cfg.layer_types) && cfg.layer_types.length !== layers![1]) bad(`layer_types lists ${cfg.layer_types.length} layers but ${layers![0]} is ${layers![1]}`);
}

/** After config.ts: a model far larger than any that exists is a broken config, not a model to plan. */
export function checkSpecSize(spec: ModelSpec, label: string): void {
  if (!(spec.params.total <= MAX_PARAMS)) {
    throw new FitlabInputError(`${label}: describes ${spec.params.total.toExponential(2)} parameters, above the limit of ${MAX_PARAMS.toExponential(0)} (check the size fields)`);
  }
}
