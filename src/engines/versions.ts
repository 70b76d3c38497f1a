// Library-version awareness: read "name version; name version" strings (the CASES.md framework_version
// format, also accepted on the CLI) and answer the few questions whose answer changed across releases.

export type Versions = ReadonlyMap<string, readonly number[]>;

// estimates read the same few version strings over and over: parse each once
const parsed = new Map<string, Versions>();

export function parseVersions(text: string): Versions {
  let v = parsed.get(text);
  if (v === undefined) {
    if (parsed.size > 1000) parsed.clear();
    v = parse(text);
    parsed.set(text, v);
  }
  return v;
}

function parse(text: string): Versions {
  const out = new Map<string, number[]>();
  for (const part of text.split(/[;,]/)) {
    const m = part.trim().match(/^([A-Za-z][\w.-]*)\s+v?(\d+(?:\.\d+)*)/);
    if (m) out.set(m[1]!.toLowerCase(), m[2]!.split(".").map(Number));
  }
  return out;
}

/** a < b for dotted versions */
export function versionBelow(v: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < Math.max(v.length, b.length); i++) {
    const x = v[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x < y;
  }
  return false;
}

/** transformers before 4.36 kept the KV cache as tuples rebuilt by torch.cat every step, so the old and
 *  new cache coexist until forward returns (DynamicCache, 4.36, updates layer by layer). When the string
 *  names no transformers version, companion releases of that era imply it: auto-gptq < 0.6,
 *  bitsandbytes < 0.42 and torch < 2.2 all predate transformers 4.36 (December 2023). */
export function legacyTupleKvCache(versions: Versions): boolean {
  const tf = versions.get("transformers");
  if (tf) return versionBelow(tf, [4, 36]);
  const before = (lib: string, v: number[]) => {
    const have = versions.get(lib);
    return have !== undefined && versionBelow(have, v);
  };
  return before("auto-gptq", [0, 6]) || before("bitsandbytes", [0, 42]) || before("torch", [2, 2]);
}

/** bitsandbytes before 0.45 kept LLM.int8 weights twice on pre-Ampere GPUs: row-major CB plus the
 *  col_turing/col_ampere tiled CxB used by igemmlt (bitsandbytes autograd/_functions.py MatMul8bitLt). */
export function int8DoubleCopy(versions: Versions, computeCapability: string | null): boolean {
  const bnb = versions.get("bitsandbytes");
  const old = bnb === undefined || versionBelow(bnb, [0, 45]);
  const major = computeCapability ? Number(computeCapability.split(".")[0]) : 8;
  return old && major < 8;
}

/** transformers before 4.46 upcast the logits inside the model's forward (LlamaForCausalLM.forward:
 *  `logits = logits.float()`) and the loss made a shifted fp32 copy; 4.46 moved the upcast into
 *  loss_utils.ForCausalLMLoss, keeping the bf16 logits in the output. Without a transformers version, the
 *  release era of companion libraries decides: torch < 2.5 and ms-swift < 3 shipped with transformers < 4.46;
 *  a newer transformers-era companion (ms-swift >= 3, torch >= 2.5) implies the new loss. Returns null when
 *  the string says nothing either way (the planner then shows both). */
export function legacyFp32Logits(versions: Versions): boolean | null {
  const tf = versions.get("transformers");
  if (tf) return versionBelow(tf, [4, 46]);
  const swift = versions.get("ms-swift") ?? versions.get("swift");
  if (swift) return versionBelow(swift, [3]);
  const torch = versions.get("torch");
  if (torch) return versionBelow(torch, [2, 5]);
  return null;
}

/** Rows (batch x new tokens) from which transformers' GPTQ kernels stop running a fused 4-bit GEMV and instead
 *  reconstruct the whole fp16 weight, then call cuBLAS: ExLlama v1, auto-gptq's kernel before 0.5, does so from
 *  8 rows (auto_gptq/modeling/_utils.py autogptq_post_init: `matmul_recons_thd = 8`; exllama q4_matmul.cu
 *  `height >= matmul_recons_thd`); ExLlamaV2, the default from auto-gptq 0.5 / optimum on, above 50
 *  (exllamav2 q_gemm.cu `MAX_Q_GEMM_ROWS 50`). */
export function gptqReconstructRows(versions: Versions): number {
  const autoGptq = versions.get("auto-gptq");
  return autoGptq !== undefined && versionBelow(autoGptq, [0, 5]) ? 8 : 50;
}

/** generate() before transformers 4.45 computed the prefill logits for every prompt position, upcast to fp32
 *  (LlamaForCausalLM / Qwen2ForCausalLM.forward: `logits = self.lm_head(hidden_states); logits =
 *  logits.float()`); 4.45 added num_logits_to_keep so generate() keeps only the last position. Without a
 *  transformers version the engine profile's default stands. */
export function allPrefillLogits(versions: Versions): boolean | null {
  const tf = versions.get("transformers");
  return tf ? versionBelow(tf, [4, 45]) : null;
}

/** transformers' sparse-MoE blocks (Qwen2-MoE, Qwen3-MoE) looped over every expert each forward, running each
 *  expert's MLP on an empty slice when no token was routed to it (`for expert_idx in range(self.num_experts)`);
 *  later releases loop only over the experts the batch hit (`expert_hit = torch.greater(expert_mask.sum(...),
 *  0).nonzero()`). The boundary is taken as 4.52: the Qwen3 speed benchmark's transformers 4.51.3 decodes
 *  Qwen3-30B-A3B at the all-experts rate (public measurement, QwenLM/Qwen3 docs speed_benchmark.md). */
export function moeLoopsAllExperts(versions: Versions): boolean {
  const tf = versions.get("transformers");
  return tf !== undefined && versionBelow(tf, [4, 52]);
}

/** Quantized linears that transformers runs through Triton kernels, whose Python launcher costs far more host
 *  time per call than an ATen op: fine-grained FP8 (integrations/finegrained_fp8.py: a Triton per-token
 *  activation quantization and a Triton block-scaled GEMM per linear), and GPTQModel's 8-bit kernel (TritonV2,
 *  its only CUDA kernel for 8 bits: gptqmodel/nn_modules/qlinear/tritonv2.py). */
export function tritonLinears(quant: string, versions: Versions): boolean {
  if (quant === "fp8") return true;
  return quant === "gptq-int8" && versions.has("gptqmodel");
}

/** Version strings standing for each side of every version rule, for showing the spread when a run does
 *  not say its versions: today's releases, and the 2023 generation (transformers 4.35, bitsandbytes 0.41). */
export const VERSION_ERAS: readonly { readonly label: string; readonly versions: string }[] = [
  { label: "current releases", versions: "transformers 4.57; bitsandbytes 0.48; torch 2.8" },
  { label: "2023 releases (transformers 4.35, bitsandbytes 0.41)", versions: "transformers 4.35; bitsandbytes 0.41" },
];

/** AutoAWQ before 0.2.0 sized its fused layers' KV cache by from_quantized's `max_new_tokens` argument (the
 *  number of tokens to generate, which "essentially determines the context size", AutoAWQ issue #317), grown
 *  to the prompt when a prompt is longer (PR #75) and rolled when decoding passes it; 0.2.0 renamed it
 *  `max_seq_len`, the whole context (PR #330). Without an autoawq version the newer rule applies. */
export function autoawqCacheByNewTokens(versions: Versions): boolean {
  const awq = versions.get("autoawq");
  return awq !== undefined && versionBelow(awq, [0, 2]);
}
