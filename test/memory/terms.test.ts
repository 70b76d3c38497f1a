// Every memory term against a worked example. The example is fms-acceleration case M077
// (Mistral-7B-v0.1, QLoRA NF4 + double quant, r16 on q/k/v/o, bs 4 x 4096 packed, gradient
// checkpointing, FlashAttention-2, standard HF loss, torch AdamW, A100 80GB): 19.25 GiB allocated.
import { describe, expect, it } from "vitest";
import { calibrated } from "../../src/engines/calibration.js";
import { engineProfile } from "../../src/engines/profile.js";
import { activationMemory } from "../../src/memory/activations.js";
import { adapterBytes, loraParams } from "../../src/memory/adapters.js";
import { makeContext } from "../../src/memory/context.js";
import { estimateMemory } from "../../src/memory/estimate.js";
import { gradientsBytes } from "../../src/memory/gradients.js";
import { kvCacheBytes } from "../../src/memory/kv-cache.js";
import { inferenceLogitsBytes, trainingLogitsBytes } from "../../src/memory/logits.js";
import { optimizerMemory } from "../../src/memory/optimizer-state.js";
import { allocatorMarginBytes } from "../../src/memory/overhead.js";
import { quantStateBytes } from "../../src/memory/quant-state.js";
import { quantizableParams, weightsBytes } from "../../src/memory/weights.js";
import { resolveModel } from "../../src/spec/catalog.js";
import { resolveWorkload } from "../../src/workload/resolve.js";

const GIB = 2 ** 30;
const mistral = resolveModel("mistralai/Mistral-7B-v0.1");
const m077 = resolveWorkload({ kind: "qlora", quant: "bnb-nf4-dq", rank: 16, alpha: 16, targets: "qkvo", batch: 4, seq: 4096, gradCkpt: "full", attn: "flash2", loss: "standard", optimizer: "adamw", engine: "fms-acceleration" });
const ctx = makeContext(mistral, m077, engineProfile("fms-acceleration"));

// Mistral-7B: h 4096, 32 layers, 32 heads, 8 KV heads, head_dim 128, I 14336, vocab 32000
const perLayerLinear = 4096 * 4096 + 2 * 4096 * 1024 + 4096 * 4096 + 3 * 4096 * 14336; // 218,103,808
const quantized = 32 * perLayerLinear; // 6,979,321,856
const rest = 7_241_732_096 - quantized; // embeddings, lm_head, norms: 262,410,240
const tokens = 4 * 4096;

describe("memory terms, worked example M077", () => {
  it("weights: NF4 body at 0.5 B, the rest upcast to fp32 by prepare_model_for_kbit_training", () => {
    expect(quantizableParams(ctx)).toBe(quantized);
    expect(weightsBytes(ctx)).toBe(quantized * 0.5 + rest * 4);
  });
  it("quantization state: 8-bit absmax per 64 + fp32 per 256 blocks", () => {
    expect(quantStateBytes(ctx)).toBe(Math.round(quantized * (1 / 64 + 4 / (64 * 256))));
  });
  it("adapters: r x (in + out) per targeted linear, fp32", () => {
    const perLayer = 16 * ((4096 + 4096) + 2 * (4096 + 1024) + (4096 + 4096));
    expect(loraParams(ctx)).toBe(32 * perLayer);
    expect(adapterBytes(ctx)).toBe(32 * perLayer * 4);
  });
  it("gradients: fp32, one per adapter parameter", () => {
    expect(gradientsBytes(ctx)).toBe(loraParams(ctx) * 4);
  });
  it("optimizer: AdamW m and v in the adapter dtype, plus the foreach sqrt temporary", () => {
    const o = optimizerMemory(ctx);
    expect(o.stateBytes).toBe(2 * loraParams(ctx) * 4);
    expect(o.stepTempBytes).toBe(loraParams(ctx) * 4);
  });
  it("activations: checkpointing keeps each layer's fp32 input (k-bit upcast stream)", () => {
    const a = activationMemory(ctx);
    expect(a.atLossBytes).toBe(32 * 4 * 4096 * tokens); // 8 GiB
  });
  it("logits and loss: 14 B per logit (bf16 logits, fp32 log-softmax, two fp32 gradients)", () => {
    expect(trainingLogitsBytes(ctx)).toBe(tokens * 32000 * 14);
  });
  it("allocator margin: fixed part plus the engine's share of the transient bytes", () => {
    const e = engineProfile("fms-acceleration");
    const fixed = calibrated(e, "reserved_fixed_gib") * GIB;
    expect(allocatorMarginBytes(ctx, 10 * GIB, 0)).toBe(Math.round(fixed + calibrated(e, "reserved_transient_fraction") * 10 * GIB));
    expect(allocatorMarginBytes(ctx, 10 * GIB, 4 * GIB)).toBe(allocatorMarginBytes(ctx, 10 * GIB, 0)); // packed: no variable-length share
  });
  it("the sum is the measured 19.25 GiB allocated within 5%", () => {
    const est = estimateMemory(mistral, m077);
    // inside backward: a recomputed layer's fp32 SwiGLU gradients (3 x 14,336 x 4 B a token, 2.8 GB for 16,384
    // tokens) on top of the checkpoints outgrow the loss's moment (src/memory/activations.ts)
    expect(est.peakPhase).toBe("recompute");
    expect(Math.abs(est.allocatedBytes / GIB - 19.25) / 19.25).toBeLessThan(0.05);
    expect(est.allocatedBytes).toBeLessThanOrEqual(est.reservedBytes);
    expect(est.reservedBytes).toBeLessThan(est.deviceBytes);
    expect(est.lowBytes).toBeLessThan(est.allocatedBytes);
    expect(est.highBytes).toBeGreaterThan(est.deviceBytes);
  });
});

describe("inference terms", () => {
  const llama = resolveModel("meta-llama/Llama-3.1-8B");
  const w = resolveWorkload({ kind: "inference_decode", promptTokens: 8000, newTokens: 192 });
  const c = makeContext(llama, w, engineProfile("hf-generate"));
  it("KV cache: 2 x layers x kv_heads x head_dim x 2 B per token (8,192 tokens of Llama-3.1-8B = 1 GiB)", () => {
    expect(kvCacheBytes(c, 8192)).toBe(2 * 32 * 8 * 128 * 2 * 8192);
    expect(kvCacheBytes(c, 8192)).toBe(GIB);
  });
  it("sliding-window layers cap their cache at the window (Mistral-7B-v0.1: 4,096)", () => {
    const mc = makeContext(mistral, w, engineProfile("hf-generate"));
    expect(kvCacheBytes(mc, 16384)).toBe(kvCacheBytes(mc, 4096));
  });
  it("generate() keeps the last position's logits only; a forward keeps them all, bf16 + fp32", () => {
    expect(inferenceLogitsBytes(c, 8000, false)).toBe(128256 * 6);
    expect(inferenceLogitsBytes(c, 8000, true)).toBe(8000 * 128256 * 6);
  });
  it("weights dominate a bf16 decode; the estimate names the decode phase", () => {
    const est = estimateMemory(llama, w);
    expect(est.components.weights).toBe(8_030_261_248 * 2);
    expect(["decode", "prefill"]).toContain(est.peakPhase);
  });
});

describe("optimizer variants", () => {
  const q = resolveModel("Qwen/Qwen2.5-7B");
  const full = (optimizer: string, extra = {}) => optimizerMemory(makeContext(q, resolveWorkload({ kind: "full", optimizer: optimizer as "adamw", ...extra }), engineProfile("hf-peft")));
  it("bf16 full fine-tuning: AdamW states follow the bf16 parameters (4 B), fused has no temporary", () => {
    expect(full("adamw").stateBytes).toBe(2 * 7_615_616_512 * 2);
    expect(full("adamw-fused").stepTempBytes).toBe(0);
  });
  it("8-bit AdamW is about a quarter of 32-bit states; paged keeps them off the GPU", () => {
    const a8 = full("adamw8bit").stateBytes;
    expect(a8 / (2 * 7_615_616_512)).toBeGreaterThan(1);
    expect(a8 / (2 * 7_615_616_512)).toBeLessThan(1.02);
    expect(full("paged-adamw8bit").stateBytes).toBe(0);
    expect(full("paged-adamw8bit").pagedBytes).toBeGreaterThan(0);
    expect(full("sgd").stateBytes).toBe(0);
  });
  it("optimizer-in-backward frees gradients as they appear", () => {
    const w = resolveWorkload({ kind: "full", optimizerInBackward: true });
    expect(gradientsBytes(makeContext(q, w, engineProfile("torchtune")))).toBe(152064 * 3584 * 2);
  });
});
