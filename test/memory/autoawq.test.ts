// AutoAWQ's fused runtime (engine autoawq), against the source's own benchmark rows (AutoAWQ README
// 'Benchmarks', AutoAWQ 0.1.6 on an RTX 4090, examples/benchmark.py, test/fixtures/cases-public.csv M552-M565):
//  - its prefill attention is eager whatever the attention setting (awq/modules/fused/attn.py: matmul scores,
//    softmax(scores.float())), so the prefill transient grows with batch x heads x prompt^2;
//  - before 0.2.0 its cache is sized by from_quantized's max_new_tokens (the benchmark passes the tokens to
//    generate), so a 2,048 + 2,048 round holds a 2,048-token cache, not 4,096; from 0.2.0 the whole context.
// Before these two mechanisms the planner put the batch-8 round at 8.3 GiB against the measured 16.82 GiB.
import { describe, expect, it } from "vitest";
import { loadGpuCatalog } from "../../src/hardware/catalog.js";
import { estimateMemory } from "../../src/memory/estimate.js";
import { resolveModel } from "../../src/spec/catalog.js";
import { resolveWorkload, type WorkloadInput } from "../../src/workload/resolve.js";

const GiB = 2 ** 30;
const mistral = resolveModel("mistralai/Mistral-7B-v0.1");
const rtx4090 = loadGpuCatalog().find("GeForce RTX 4090");
const awq = (o: Partial<WorkloadInput>) =>
  estimateMemory(mistral, resolveWorkload({ kind: "inference_decode", quant: "awq-int4", promptTokens: 2048, newTokens: 2048, batch: 1, engine: "autoawq", engineVersion: "autoawq 0.1.6", ...o }), rtx4090);

describe("AutoAWQ fused runtime", () => {
  it("the measured rounds: Mistral-7B at 2,048 + 2,048, batch 1 (5.55 GiB) and batch 8 (16.82 GiB), within 16 %", () => {
    for (const [batch, measured] of [[1, 5.55], [8, 16.82]] as const) {
      const e = awq({ batch });
      expect(Math.abs(e.allocatedBytes / GiB - measured) / measured).toBeLessThan(0.16);
    }
  });
  it("the prefill transient is eager's whatever the attention setting: it grows with the square of the prompt", () => {
    const act = (prompt: number, attn: "sdpa" | "flash2") => awq({ promptTokens: prompt, newTokens: prompt, batch: 8, attn }).components.activations;
    expect(act(2048, "sdpa")).toBe(act(2048, "flash2"));
    // 4x the prompt-squared scores from 1,024 to 2,048 tokens, against 2x for anything linear in the prompt
    expect(act(2048, "sdpa") / act(1024, "sdpa")).toBeGreaterThan(3.5);
    // at 2,048 tokens, batch 8, 32 heads, the score matrices are gigabytes: far above transformers' SDPA prefill
    const hf = estimateMemory(mistral, resolveWorkload({ kind: "inference_decode", quant: "awq-int4", promptTokens: 2048, newTokens: 2048, batch: 8, engine: "hf-generate", attn: "sdpa" }), rtx4090);
    expect(act(2048, "sdpa") - hf.components.activations).toBeGreaterThan(4 * GiB);
  });
  it("before 0.2 the cache holds max(prompt, new tokens), from 0.2 the whole context", () => {
    const old = awq({ batch: 8, engineVersion: "autoawq 0.1.6" }).components.kv_cache;
    const now = awq({ batch: 8, engineVersion: "autoawq 0.2.9" }).components.kv_cache;
    // Mistral-7B: 32 layers x 8 KV heads x 128 x 2 (K, V) x 2 bytes = 128 KiB a token; 8 x 2,048 more tokens
    expect(now - old).toBe(8 * 2048 * 32 * 8 * 128 * 2 * 2);
    // a prompt longer than the new tokens grows the cache to the prompt (AutoAWQ PR #75)
    const longPrompt = awq({ promptTokens: 3000, newTokens: 64, engineVersion: "autoawq 0.1.6" }).components.kv_cache;
    const shortPrompt = awq({ promptTokens: 64, newTokens: 3000, engineVersion: "autoawq 0.1.6" }).components.kv_cache;
    expect(longPrompt).toBe(shortPrompt);
  });
});
