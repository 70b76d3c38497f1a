import { describe, expect, it } from "vitest";
import { catalogEntries, resolveModel } from "../../src/spec/catalog.js";
import { specFromConfig } from "../../src/spec/config.js";

describe("parameter counts of every shipped config", () => {
  const entries = catalogEntries();
  it("ships the models the planner promises", () => {
    const ids = entries.map((e) => e.id);
    for (const id of [
      "Qwen/Qwen2.5-0.5B", "Qwen/Qwen2.5-1.5B", "Qwen/Qwen2.5-3B", "Qwen/Qwen2.5-7B", "Qwen/Qwen2.5-14B", "Qwen/Qwen2.5-32B", "Qwen/Qwen2.5-72B",
      "meta-llama/Llama-2-7b-hf", "meta-llama/Llama-2-13b-hf", "meta-llama/Llama-2-70b-hf", "meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-70B",
      "meta-llama/Llama-3.2-1B", "meta-llama/Llama-3.2-3B", "mistralai/Mistral-7B-v0.1", "google/gemma-2-9b", "microsoft/Phi-3-mini-4k-instruct",
      "mistralai/Mixtral-8x7B-v0.1",
    ]) expect(ids).toContain(id);
  });
  for (const e of entries) {
    it(`${e.id} = ${e.official_params ?? "(no official figure)"}`, () => {
      const spec = resolveModel(e.id);
      if (e.official_params !== null) expect(spec.params.total).toBe(e.official_params);
      const p = spec.params;
      expect(p.embeddings + p.attention + p.mlp + p.norms + p.lmHead).toBe(p.total);
    });
  }
  it("matches the two anchors exactly", () => {
    expect(resolveModel("Qwen/Qwen2.5-7B").params.total).toBe(7_615_616_512);
    expect(resolveModel("meta-llama/Llama-3.1-8B").params.total).toBe(8_030_261_248);
  });
  it("counts MoE active parameters (Mixtral: 2 of 8 experts per token)", () => {
    const s = resolveModel("mistralai/Mixtral-8x7B-v0.1");
    // total minus 6 idle experts per layer: 46,702,792,704 - 32 x 6 x 3 x 4096 x 14336 = 12,879,925,248,
    // the "12.9B active parameters" of the Mixtral paper (Jiang et al. 2024)
    expect(s.params.active).toBe(46_702_792_704 - 32 * 6 * 3 * 4096 * 14336);
    expect(s.params.active).toBe(12_879_925_248);
    expect(s.numExperts).toBe(8);
  });
  it("reads GQA, head_dim, tied embeddings and sliding windows", () => {
    const gemma = resolveModel("google/gemma-2-9b");
    expect([gemma.headDim, gemma.numKvHeads, gemma.tiedEmbeddings, gemma.slidingLayers, gemma.slidingWindow]).toEqual([256, 8, true, 21, 4096]);
    const mistral = resolveModel("mistralai/Mistral-7B-v0.1");
    expect([mistral.slidingLayers, mistral.slidingWindow]).toEqual([32, 4096]);
    const qwen = resolveModel("Qwen/Qwen2.5-7B");
    expect([qwen.slidingLayers, qwen.tiedEmbeddings, qwen.numKvHeads]).toEqual([0, false, 4]);
  });
  it("rejects a config without sizes with one line", () => {
    expect(() => specFromConfig({ model_type: "llama" }, "broken")).toThrow(/broken has no hidden_size/);
    expect(() => specFromConfig([], "arr")).toThrow(/not a JSON object/);
  });
});
