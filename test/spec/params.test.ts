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
      // issue #11: Qwen3 (dense and MoE), Gemma-3, Llama-3.3, Phi-4, DeepSeek-R1 distills
      "Qwen/Qwen3-0.6B", "Qwen/Qwen3-1.7B", "Qwen/Qwen3-4B", "Qwen/Qwen3-8B", "Qwen/Qwen3-14B", "Qwen/Qwen3-32B", "Qwen/Qwen3-30B-A3B", "Qwen/Qwen3-235B-A22B",
      "google/gemma-3-1b-it", "google/gemma-3-4b-it", "google/gemma-3-12b-it", "google/gemma-3-27b-it", "meta-llama/Llama-3.3-70B-Instruct", "microsoft/phi-4",
      "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B", "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B",
      "deepseek-ai/DeepSeek-R1-Distill-Llama-8B", "deepseek-ai/DeepSeek-R1-Distill-Llama-70B",
    ]) expect(ids).toContain(id);
  });
  /** The count at the precision a figure is published with ("0.6B" -> one decimal of billions, "3209M" -> millions). */
  const atPrecision = (n: number, stated: string): string => {
    const unit = stated.endsWith("B") ? 1e9 : 1e6;
    const decimals = stated.includes(".") ? stated.split(".")[1]!.length - 1 : 0;
    return `${(n / unit).toFixed(decimals)}${stated.slice(-1)}`;
  };
  for (const e of entries) {
    it(`${e.id} = ${e.official_params ?? e.official_params_stated ?? e.official_non_embedding_stated ?? "(no official figure)"}`, () => {
      const spec = resolveModel(e.id);
      if (e.official_params !== null) expect(spec.params.total).toBe(e.official_params);
      if (e.official_params_stated) expect(atPrecision(spec.params.total, e.official_params_stated)).toBe(e.official_params_stated);
      const nonEmbedding = spec.params.attention + spec.params.mlp + spec.params.norms;
      if (e.official_non_embedding_stated) expect(atPrecision(nonEmbedding, e.official_non_embedding_stated)).toBe(e.official_non_embedding_stated);
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
  it("Qwen3 MoE: 128 experts of width 768, 8 per token: 3.3B of 30.5B active (model card)", () => {
    const s = resolveModel("Qwen/Qwen3-30B-A3B");
    expect([s.numExperts, s.expertsPerToken, s.expertIntermediateSize, s.sharedExpertIntermediateSize]).toEqual([128, 8, 768, 0]);
    expect((s.params.active / 1e9).toFixed(1)).toBe("3.4"); // 3,353,032,704 (the card rounds down to 3.3B)
    expect(s.params.active).toBe(s.params.total - 48 * 120 * 3 * 2048 * 768);
    const big = resolveModel("Qwen/Qwen3-235B-A22B");
    expect((big.params.active / 1e9).toFixed(0)).toBe("22");
  });
  it("Gemma-3: text model under text_config, 5 of 6 layers slide, q/k norms", () => {
    const g = resolveModel("google/gemma-3-12b-it");
    expect([g.modelType, g.hiddenSize, g.numLayers, g.slidingLayers, g.slidingWindow, g.tiedEmbeddings]).toEqual(["gemma3_text", 3840, 48, 40, 1024, true]);
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
