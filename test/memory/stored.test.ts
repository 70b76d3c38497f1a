// Weights as stored: pre-quantized checkpoints from quantization_config, stored bytes from safetensors and GGUF
// headers, GGUF files as models; and MoE: expert widths in activations, active experts in decode bytes.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineProfile } from "../../src/engines/profile.js";
import { loadGpuCatalog } from "../../src/hardware/catalog.js";
import { layerSavedBytesPerToken } from "../../src/memory/activations.js";
import { makeContext } from "../../src/memory/context.js";
import { estimateMemory } from "../../src/memory/estimate.js";
import { quantStateBytes } from "../../src/memory/quant-state.js";
import { quantizableParams, weightsBytes } from "../../src/memory/weights.js";
import { resolveModel } from "../../src/spec/catalog.js";
import { specFromConfig } from "../../src/spec/config.js";
import { activeExpertFraction, decodeWeightBytes } from "../../src/time/throughput.js";
import { resolveWorkload, type WorkloadInput } from "../../src/workload/resolve.js";
import { expectOneLineError, inputError, runCli } from "../helpers.js";
import { ggufBytes, llamaTensors, writeModelFolder, type GgufTensor } from "../support/model-files.js";

const GIB = 2 ** 30;
let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-stored-")); });
afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });

const tiny = { hidden: 64, inter: 128, layers: 2, heads: 4, kv: 2, vocab: 96, tied: false };
const tinyConfig = (extra: Record<string, unknown> = {}) => ({
  architectures: ["LlamaForCausalLM"], model_type: "llama", hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2,
  num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 96, tie_word_embeddings: false, torch_dtype: "bfloat16", ...extra,
});
const ctxOf = (spec: ReturnType<typeof resolveModel>, input: WorkloadInput) => {
  const w = resolveWorkload(input, spec);
  return { w, ctx: makeContext(spec, w, engineProfile(w.engine)) };
};

describe("pre-quantized checkpoints run in their stored format", () => {
  const gptq = resolveModel("Qwen/Qwen2.5-7B-Instruct-GPTQ-Int4");
  it("a GPTQ-Int4 7B decodes with 4-bit weights, not 14.2 GiB of bf16", () => {
    const { w, ctx } = ctxOf(gptq, { kind: "inference_decode", promptTokens: 1024, newTokens: 128 });
    expect(w.quant).toBe("gptq-int4");
    const q = quantizableParams(ctx);
    // the linears at 4 bits, embeddings and lm_head (544,997,376 each) and norms in fp16
    expect(weightsBytes(ctx)).toBe(Math.round(q * 0.5 + (gptq.params.total - q) * 2));
    expect(weightsBytes(ctx) / GIB).toBeLessThan(5.2);
    // fp16 scale + 4-bit zero per 128 weights, and one int32 g_idx per input feature
    expect(quantStateBytes(ctx)).toBeGreaterThan(q * (2.5 / 128));
    expect(estimateMemory(gptq, w).components.weights / GIB).toBeLessThan(5.2);
  });
  it("AWQ likewise, and a contradicting --quant is refused with one line", () => {
    const awq = resolveModel("Qwen/Qwen2.5-7B-Instruct-AWQ");
    const { w, ctx } = ctxOf(awq, { kind: "inference_decode" });
    expect(w.quant).toBe("awq-int4");
    expect(weightsBytes(ctx) / GIB).toBeLessThan(5.2);
    expect(inputError(() => resolveWorkload({ kind: "inference_decode", quant: "none" }, awq)).message).toMatch(/stored as awq-int4/);
  });
  it("LoRA on a pre-quantized base is QLoRA on its stored format", () => {
    expect(resolveWorkload({ kind: "lora" }, gptq).kind).toBe("qlora");
    expect(resolveWorkload({ kind: "lora" }, gptq).quant).toBe("gptq-int4");
  });
  it("reads FP8, bitsandbytes-serialized, GPTQ-Int8 and compressed-tensors quantization_config", () => {
    const fp8 = specFromConfig(tinyConfig({ quantization_config: { quant_method: "fp8", activation_scheme: "dynamic", weight_block_size: [128, 128] } }), "fp8");
    expect([fp8.storedQuant, fp8.preQuantized?.weightBlock]).toEqual(["fp8", [128, 128]]);
    const bnb = specFromConfig(tinyConfig({ quantization_config: { quant_method: "bitsandbytes", load_in_4bit: true, bnb_4bit_quant_type: "nf4", bnb_4bit_use_double_quant: true } }), "bnb");
    expect(bnb.storedQuant).toBe("bnb-nf4-dq");
    const fp4 = specFromConfig(tinyConfig({ quantization_config: { quant_method: "bitsandbytes", load_in_4bit: true, bnb_4bit_quant_type: "fp4" } }), "fp4");
    expect(fp4.storedQuant).toBe("bnb-fp4");
    const g8 = specFromConfig(tinyConfig({ quantization_config: { quant_method: "gptq", bits: 8, group_size: 128 } }), "g8");
    expect(g8.storedQuant).toBe("gptq-int8");
    const ctW8 = specFromConfig(tinyConfig({ quantization_config: { quant_method: "compressed-tensors", config_groups: { group_0: { weights: { num_bits: 8, type: "float", strategy: "channel" } } } } }), "ct8");
    expect(ctW8.storedQuant).toBe("fp8");
    const ctW4 = specFromConfig(tinyConfig({ quantization_config: { quant_method: "compressed-tensors", config_groups: { group_0: { weights: { num_bits: 4, type: "int", strategy: "group", group_size: 128 } } } } }), "ct4");
    expect([ctW4.storedQuant, ctW4.preQuantized?.groupSize]).toEqual(["gptq-int4", 128]);
  });
  it("FP8 weights are one byte each plus one fp32 scale per 128 x 128 block", () => {
    const fp8 = specFromConfig(tinyConfig({ quantization_config: { quant_method: "fp8", weight_block_size: [128, 128] } }), "fp8");
    const { ctx } = ctxOf(fp8, { kind: "inference_decode" });
    const q = quantizableParams(ctx);
    expect(weightsBytes(ctx)).toBe(Math.round(q * 1 + (fp8.params.total - q) * 2));
    expect(quantStateBytes(ctx)).toBe(Math.round((q * 4) / (128 * 128)));
  });
});

describe("stored bytes from the model's files", () => {
  it("a bf16 folder: the weights are the safetensors bytes exactly", () => {
    const folder = writeModelFolder(path.join(dir, "bf16"), tinyConfig(), llamaTensors(tiny, "BF16"));
    const spec = resolveModel(folder);
    expect(spec.stored?.totalBytes).toBe(spec.params.total * 2);
    const { ctx } = ctxOf(spec, { kind: "inference_decode" });
    expect(weightsBytes(ctx)).toBe(spec.stored!.totalBytes);
  });
  it("an fp32 checkpoint loaded in bf16 is cast on load: half its stored bytes", () => {
    const folder = writeModelFolder(path.join(dir, "fp32"), tinyConfig({ torch_dtype: "float32" }), llamaTensors(tiny, "F32"));
    const spec = resolveModel(folder);
    const { ctx } = ctxOf(spec, { kind: "inference_decode", dtype: "bf16" });
    expect(weightsBytes(ctx)).toBe(spec.stored!.totalBytes / 2);
  });
  it("a pre-quantized folder: packed weights, scales and zeros are the stored bytes", () => {
    const qcfg = tinyConfig({ quantization_config: { quant_method: "gptq", bits: 4, group_size: 32 } });
    // a GPTQ layout: int32 qweight (8 weights each), fp16 scales, int32 qzeros, int32 g_idx per linear
    const t = llamaTensors(tiny, "F16").flatMap((x) => {
      if (!/layers\.\d+\.(self_attn|mlp)\./.test(x.name)) return [x];
      const [out, inp] = x.shape as [number, number];
      const base = x.name.replace(/\.weight$/, "");
      return [
        { name: `${base}.qweight`, dtype: "I32", shape: [inp / 8, out] },
        { name: `${base}.scales`, dtype: "F16", shape: [inp / 32, out] },
        { name: `${base}.qzeros`, dtype: "I32", shape: [inp / 32, out / 8] },
        { name: `${base}.g_idx`, dtype: "I32", shape: [inp] },
      ];
    });
    const spec = resolveModel(writeModelFolder(path.join(dir, "gptq"), qcfg, t));
    const { w, ctx } = ctxOf(spec, { kind: "inference_decode" });
    expect(w.quant).toBe("gptq-int4");
    expect(weightsBytes(ctx)).toBe(spec.stored!.totalBytes);
    expect(quantStateBytes(ctx)).toBe(0); // inside the stored bytes
  });
});

describe("GGUF files as models for llama.cpp", () => {
  const tensors: GgufTensor[] = [{ name: "token_embd.weight", dims: [64, 96], type: "F16" }];
  for (let i = 0; i < 2; i++) {
    tensors.push(
      { name: `blk.${i}.attn_q.weight`, dims: [64, 64], type: "Q8_0" },
      { name: `blk.${i}.attn_k.weight`, dims: [64, 32], type: "Q8_0" },
      { name: `blk.${i}.attn_v.weight`, dims: [64, 32], type: "Q8_0" },
      { name: `blk.${i}.attn_output.weight`, dims: [64, 64], type: "Q8_0" },
      { name: `blk.${i}.ffn_gate.weight`, dims: [64, 128], type: "Q8_0" },
      { name: `blk.${i}.ffn_up.weight`, dims: [64, 128], type: "Q8_0" },
      { name: `blk.${i}.ffn_down.weight`, dims: [128, 64], type: "Q8_0" },
      { name: `blk.${i}.attn_norm.weight`, dims: [64], type: "F32" },
      { name: `blk.${i}.ffn_norm.weight`, dims: [64], type: "F32" },
    );
  }
  tensors.push({ name: "output_norm.weight", dims: [64], type: "F32" }, { name: "output.weight", dims: [64, 96], type: "Q8_0" });
  const meta = {
    "general.architecture": "llama", "general.file_type": 7, "llama.block_count": 2, "llama.embedding_length": 64,
    "llama.feed_forward_length": 128, "llama.attention.head_count": 4, "llama.attention.head_count_kv": 2, "llama.context_length": 4096,
  };
  let file: string;
  beforeAll(() => {
    file = path.join(dir, "tiny-Q8_0.gguf");
    fs.writeFileSync(file, ggufBytes(meta, 96, tensors));
  });
  it("reads the architecture from the GGUF metadata and runs as gguf-Q8_0 in llama.cpp", () => {
    const spec = resolveModel(file);
    expect([spec.hiddenSize, spec.numLayers, spec.numKvHeads, spec.vocabSize, spec.tiedEmbeddings, spec.storedQuant]).toEqual([64, 2, 2, 96, false, "gguf-Q8_0"]);
    const w = resolveWorkload({ kind: "inference_decode", promptTokens: 256, newTokens: 256 }, spec);
    expect([w.quant, w.engine]).toEqual(["gguf-Q8_0", "llama.cpp"]);
    const est = estimateMemory(spec, w);
    expect(est.components.weights).toBe(spec.stored!.totalBytes); // the file's tensor bytes, exactly
    // llama.cpp allocates the KV cache of the whole context up front (n_ctx): 2 x 2 layers x 2 heads x 16 x 2 B x 512
    expect(est.components.kv_cache).toBe(2 * 2 * 2 * 16 * 2 * 512);
  });
  it("estimate --model file.gguf defaults to decoding; training a GGUF file is refused with one line", () => {
    const r = runCli(["estimate", "--model", file, "--gpu", "rtx 4090", "--json"]);
    expect(r.code).toBe(0);
    const e = JSON.parse(r.out);
    expect([e.workload.kind, e.workload.quant, e.workload.engine]).toEqual(["inference_decode", "gguf-Q8_0", "llama.cpp"]);
    expectOneLineError(runCli(["estimate", "--model", file, "--workload", "qlora"]), /llama\.cpp file \(gguf-Q8_0\): use --workload inference_decode/);
  });
});

describe("mixture of experts", () => {
  const moe = resolveModel("Qwen/Qwen3-30B-A3B");
  it("activations follow moe_intermediate_size x experts per token (+ shared experts), not intermediate_size x k", () => {
    // plant: the same model made dense with an MLP as wide as the 8 active experts (8 x 768 = 6144)
    const dense = specFromConfig({ ...JSON.parse(fs.readFileSync(new URL("../../data/models/Qwen__Qwen3-30B-A3B.json", import.meta.url), "utf8")), num_experts: 1, intermediate_size: 8 * 768, model_type: "qwen3", architectures: ["Qwen3ForCausalLM"] }, "dense twin");
    const w = resolveWorkload({ kind: "lora", targets: "qkvo" });
    const a = layerSavedBytesPerToken(makeContext(moe, w, engineProfile("hf-peft")), 2048);
    const b = layerSavedBytesPerToken(makeContext(dense, w, engineProfile("hf-peft")), 2048);
    expect(a).toBe(b);
    // the old rule (intermediate_size 6144 x 8 experts) would have been far larger
    expect(makeContext(moe, w, engineProfile("hf-peft")).activeMlpWidth).toBe(6144);
  });
  it("shared experts add their width (Qwen2-MoE shared_expert_intermediate_size, DeepSeek n_shared_experts)", () => {
    const cfg = { ...tinyConfig(), model_type: "qwen2_moe", num_experts: 8, num_experts_per_tok: 2, moe_intermediate_size: 32, shared_expert_intermediate_size: 96 };
    const s = specFromConfig(cfg, "q2moe");
    expect([s.expertIntermediateSize, s.sharedExpertIntermediateSize]).toEqual([32, 96]);
    expect(makeContext(s, resolveWorkload({ kind: "lora" }), engineProfile("hf-peft")).activeMlpWidth).toBe(2 * 32 + 96);
    const ds = specFromConfig({ ...tinyConfig(), model_type: "deepseek_v2", n_routed_experts: 8, num_experts_per_tok: 2, moe_intermediate_size: 32, n_shared_experts: 2 }, "ds");
    expect(ds.sharedExpertIntermediateSize).toBe(64);
  });
  it("a decoded token reads only the experts its batch routes to: 8 of 128 at batch 1, nearly all at batch 64", () => {
    const ctx = makeContext(moe, resolveWorkload({ kind: "inference_decode" }), engineProfile("hf-generate"));
    const all = weightsBytes(ctx);
    const experts = 48 * 128 * 3 * 2048 * 768 * 2; // routed expert bytes in bf16
    const rest = all - experts - moe.params.embeddings * 2; // the input embedding is a row lookup
    expect(decodeWeightBytes(ctx, 1)).toBeCloseTo(rest + experts * (8 / 128), -3);
    expect(activeExpertFraction(moe, 64)).toBeCloseTo(1 - (120 / 128) ** 64, 10);
    expect(decodeWeightBytes(ctx, 64) / decodeWeightBytes(ctx, 1)).toBeGreaterThan(8); // 98.4 % of 28.7 GB against 6.8 %
    // so a batch-1 decode of the 30B MoE is faster than a dense 8B's on the same card
    const gpu = loadGpuCatalog().find("NVIDIA H100 80GB SXM5");
    const dense8 = makeContext(resolveModel("Qwen/Qwen3-8B"), resolveWorkload({ kind: "inference_decode" }), engineProfile("hf-generate"));
    expect(decodeWeightBytes(ctx, 1)).toBeLessThan(decodeWeightBytes(dense8, 1));
    expect(gpu.memBandwidthBytesPerS).toBeGreaterThan(0);
  });
});
