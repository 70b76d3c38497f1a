// The planner's inspection workloads describe the jobs: per-layer capture holds one layer's chunk, never every
// layer's maps; the seed's Track B/C experiments (Qwen2.5-7B, NF4, all layers and heads) fit 16 GB at 2,048-token
// prompts; what the attention job writes per prompt stays under 300 MB.
import { describe, expect, it } from "vitest";
import { loadGpuCatalog } from "../../src/hardware/catalog.js";
import { makeContext } from "../../src/memory/context.js";
import { estimateMemory, fitsIn } from "../../src/memory/estimate.js";
import { allLayersAttentionBytes, attentionChunkRows, storedBytesPerPrompt } from "../../src/memory/extraction.js";
import { engineProfile } from "../../src/engines/profile.js";
import { loadPlan } from "../../src/plan/load.js";
import { predictInspect } from "../../src/runs/inspect.js";
import { resolveModel } from "../../src/spec/catalog.js";
import { resolveWorkload } from "../../src/workload/resolve.js";

const GIB = 2 ** 30;
const qwen = resolveModel("Qwen/Qwen2.5-7B");
const card = loadGpuCatalog().find("GeForce RTX 5060 Ti 16GB");

describe("planner terms of the inspection jobs", () => {
  it("the seed's Track B and C experiments fit the 16 GB card at 2,048-token prompts, all layers and heads", () => {
    const plan = loadPlan();
    const keys = ["B.attention-extract", "B.attention-compare", "C.activation-extract", "C.linear-probes"];
    for (const key of keys) {
      const ex = plan.experiments.find((e) => e.key === key)!;
      const w = ex.runs[0]!.workload;
      const at2048 = w.kind === "probe" ? w : { ...w, seqLen: 2048 };
      const est = estimateMemory(ex.model!, at2048, card);
      expect(fitsIn(est, card.usableBytes), `${key}: ${(est.minimumDeviceBytes / GIB).toFixed(1)} GiB`).toBe(true);
    }
    // the comparison holds the base pass's q/k and a second set of probabilities per chunk: still far below
    const cmp = predictInspect("compare", "Qwen/Qwen2.5-7B", "nf4", 2048, "bfloat16", null)!;
    expect(cmp.allocated_bytes as number).toBeLessThan(8 * GIB);
  });

  it("per-layer capture does not grow with the number of layers; all-layers does, by one map per layer", () => {
    const w = resolveWorkload({ kind: "attention_extract", quant: "bnb-nf4-dq", seq: 2048 });
    const twice = { ...qwen, numLayers: 2 * qwen.numLayers };
    expect(estimateMemory(twice, w).components.activations).toBe(estimateMemory(qwen, w).components.activations);
    const all = resolveWorkload({ kind: "attention_extract", quant: "bnb-nf4-dq", seq: 2048, attentionCapture: "all-layers" });
    const ctx = makeContext(qwen, all, engineProfile(all.engine));
    // research note 1.2: Qwen2.5-7B, 28 layers x 28 query heads x 2,048^2 tokens in bf16 = 6.1 GiB of maps
    const maps = allLayersAttentionBytes(ctx) - 28 * 2048 * 2048 * 4 - 2 * 2048 * 3584 * 2;
    expect(maps / GIB).toBeCloseTo(6.125, 3);
    expect(fitsIn(estimateMemory(qwen, all, card), card.usableBytes)).toBe(true); // 11.8 GiB on 15.5 usable
    const llama8 = resolveModel("meta-llama/Llama-3.1-8B");
    // Llama-3.1-8B: 32 x 32 heads, 8.0 GiB of maps at 2,048 (research note 1.2) does not fit beside the model at 4,096
    const at4k = resolveWorkload({ kind: "attention_extract", quant: "bnb-nf4-dq", seq: 4096, attentionCapture: "all-layers" });
    expect(fitsIn(estimateMemory(llama8, at4k, card), card.usableBytes)).toBe(false);
    expect(fitsIn(estimateMemory(llama8, { ...at4k, attentionCapture: "per-layer", attn: "sdpa" }, card), card.usableBytes)).toBe(true);
  });

  it("chunks of query rows keep the fp32 workspace within 64 MiB", () => {
    // Qwen2.5-7B at 2,048 tokens: 3 fp32 tensors x 28 heads x 2,048 keys x 4 B = 688 KiB per row -> 97 rows
    expect(attentionChunkRows(28, 2048)).toBe(97);
    expect(attentionChunkRows(28, 2048, "compare")).toBe(48);
    expect(attentionChunkRows(4, 10)).toBe(10);
    expect(attentionChunkRows(64, 1_000_000)).toBe(1);
  });

  it("stores at most 300 MB per 2,048-token prompt: pooled 128 x 128 float16 maps of all 784 heads and their statistics", () => {
    const w = resolveWorkload({ kind: "attention_extract", quant: "bnb-nf4-dq", seq: 2048 });
    const ctx = makeContext(qwen, w, engineProfile(w.engine));
    const pooled = storedBytesPerPrompt(ctx);
    expect(pooled).toBe(28 * 28 * (128 * 128 * 2 + 20)); // 25.7 MB
    // with eight heads at full resolution (8 MiB each) it is still below the budget
    expect(storedBytesPerPrompt(ctx, 8)).toBeLessThan(300e6);
    const h = resolveWorkload({ kind: "hidden_extract", quant: "bnb-nf4-dq", seq: 2048 });
    expect(storedBytesPerPrompt(makeContext(qwen, h, engineProfile(h.engine)))).toBe(29 * 3584 * 2);
  });

  it("all-layers capture still needs eager attention; per-layer runs beside SDPA", () => {
    expect(resolveWorkload({ kind: "attention_extract" }).attn).toBe("sdpa");
    expect(resolveWorkload({ kind: "attention_extract", attentionCapture: "all-layers" }).attn).toBe("eager");
    expect(() => resolveWorkload({ kind: "attention_extract", attentionCapture: "all-layers", attn: "sdpa" })).toThrow(/needs eager attention/);
  });
});
