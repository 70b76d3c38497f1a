// The analyses of Tracks B and C on hand-made results whose answer is known.
import { describe, expect, it } from "vitest";
import { analyzeAttention, SINK_SHARE } from "../../src/analyze/attention-heads.js";
import { analyzeFinetune, ranges } from "../../src/analyze/finetune-diff.js";
import { analyzeProbeCheckpoints, analyzeProbes } from "../../src/analyze/probes.js";
import { analyzeRepresentations, outlierDims } from "../../src/analyze/representations.js";
import type { CompareHead, HeadStats, HiddenResult, LayerStats, ProbeLayer } from "../../src/runs/inspect-results.js";

const head = (layer: number, head: number, o: Partial<HeadStats> = {}): HeadStats => ({ layer, head, entropy: 2, mean_distance: 5, first_token_share: 0.1, prev_token_share: 0.1, self_share: 0.1, ...o });

describe("attention heads", () => {
  it("finds previous-token heads and counts sinks above Gu et al.'s 0.3", () => {
    const stats = [head(0, 0), head(0, 1, { prev_token_share: 0.97, entropy: 0.1 }), head(1, 0, { first_token_share: 0.8 }), head(1, 1, { first_token_share: SINK_SHARE })];
    const a = analyzeAttention(stats);
    expect(a.previousTokenHeads.map((h) => [h.layer, h.head])).toEqual([[0, 1]]);
    // exactly 0.3 is not above the threshold
    expect(a.sinkHeads.map((h) => [h.layer, h.head])).toEqual([[1, 0]]);
    expect(a.sinkRate).toBe(0.25);
    expect(a.mostFocused).toMatchObject({ layer: 0, head: 1 });
    expect(a.byLayer[1]!.first_token_share).toBeCloseTo(0.55, 10);
    expect(a.findings[0]).toBe("1 of 4 heads attend mostly to the previous token (share >= 0.5): L0H1 (0.97)");
  });
});

describe("fine-tune difference", () => {
  const c = (layer: number, js: number): CompareHead => ({ layer, head: 0, js_divergence: js, entropy_change: -js, first_token_share_change: 0, prev_token_share_change: 0, self_share_change: 0, mean_distance_change: 0 });
  it("locates the first changed layer and the layers the update touches", () => {
    const d = analyzeFinetune([c(0, 0), c(1, 5e-7), c(2, 0.02), c(3, 0.001)], [
      { name: "model.layers.2.self_attn.q_proj", module: "q_proj", layer: 2, update_norm: 3 },
      { name: "model.layers.3.self_attn.q_proj", module: "q_proj", layer: 3, update_norm: 0.01 },
    ]);
    expect(d.firstChangedLayer).toBe(2);
    // 0.01 is below 1 % of the largest update (3): not counted as touched
    expect(d.touchedLayers).toEqual([2]);
    expect(d.topHeads[0]!.layer).toBe(2);
    expect(d.findings[1]).toMatch(/unchanged in layers 0-1/);
  });
  it("says so when an adapter is still at its initialisation (B = 0)", () => {
    const d = analyzeFinetune([c(0, 0)], [{ name: "x", module: "q_proj", layer: 0, update_norm: 0 }]);
    expect(d.findings[0]).toMatch(/zero update/);
    expect(d.firstChangedLayer).toBeNull();
  });
  it("writes layer ranges", () => {
    expect(ranges([0, 1, 2, 5, 7, 8])).toBe("layers 0-2, 5, 7-8");
    expect(ranges([4])).toBe("layer 4");
  });
});

describe("representations", () => {
  const layer = (l: number, dims: { dim: number; ratio: number }[], anisotropy = 0.1): LayerStats => ({
    layer: l, mean_norm: 1 + l, norm_p05: 0.5, median_norm: 1, norm_p95: 2, max_norm: 3, anisotropy, median_abs: 0.1,
    top_dims: dims.map((d) => ({ ...d, max_abs: d.ratio / 10, prompt: 0, position: 0 })), outlier_dims: dims.filter((d) => d.ratio >= 100).map((d) => ({ ...d, max_abs: d.ratio / 10, prompt: 0, position: 0 })),
  });
  const r = (layers: LayerStats[], extra: Partial<HiddenResult> = {}): HiddenResult => ({
    num_layers: layers.length - 1, heads: 4, kv_heads: 2, head_dim: 16, hidden_size: 64, peak_bytes: 0, baseline_bytes: 0, transient_bytes: 0, memory_source: "cpu_peak_rss", device: "cpu", dtype: "float32",
    prompts: 1, tokens: 10, positions: "last", stored_rows: 1, truncated: false, layers, cka: layers.map((_, i) => layers.map((__, j) => (i === j ? 1 : i + j === 3 ? 0.4 : 0.9))), lens: [], ...extra,
  }) as HiddenResult;
  it("follows a dim that stays an outlier across layers and calls it massive above 1,000x", () => {
    const layers = [layer(0, [{ dim: 7, ratio: 4000 }, { dim: 3, ratio: 5 }]), layer(1, [{ dim: 7, ratio: 900 }]), layer(2, [{ dim: 7, ratio: 500 }, { dim: 9, ratio: 150 }])];
    const dims = outlierDims(layers);
    expect(dims.map((d) => [d.dim, d.layers])).toEqual([[7, [0, 1, 2]], [9, [2]]]);
    const a = analyzeRepresentations(r(layers));
    expect(a.findings[0]).toMatch(/^dim 7 is massive in every layer: up to 4,000x/);
    expect(a.findings[1]).toMatch(/^dim 9 is an outlier at layer 1/);
    // the adjacent pair (1, 2) has CKA 0.4, the others 0.9
    expect(a.biggestChange).toEqual({ layer: 2, cka: 0.4 });
  });
  it("finds where a fine-tune starts to differ from its base model", () => {
    const layers = [0, 1, 2, 3].map((l) => layer(l, []));
    const a = analyzeRepresentations(r(layers, { cka_base_tuned: [1, 1, 0.95, 0.9] }));
    expect(a.firstTunedChange).toBe(2);
    expect(a.findings.join(" ")).toMatch(/matches the base model up to layer 0; from layer 1 on it differs/);
  });
});

describe("probes", () => {
  const p = (layer: number, accuracy: number, control: number): ProbeLayer => ({ layer, accuracy, control_accuracy: control, selectivity: accuracy - control, train_accuracy: 1, majority: 0.5 });
  it("a layer decodes the label when it beats the majority class and the control task by 0.1", () => {
    const a = analyzeProbes([p(0, 0.55, 0.5), p(1, 0.62, 0.9), p(2, 0.98, 0.5), p(3, 0.97, 0.52)]);
    // layer 1 beats the majority by 0.12 but its selectivity is negative: the probe memorises
    expect(a.firstDecodable).toBe(2);
    expect(a.bestSelectivity.layer).toBe(2);
    expect(a.findings[2]).toMatch(/control task reaches 0.90/);
  });
  it("reads the change across checkpoints", () => {
    // point 0 is the embeddings, point 1 the output of layer 0
    const f = analyzeProbeCheckpoints([{ step: 0, layers: [p(0, 0.5, 0.5), p(1, 0.55, 0.5)] }, { step: 100, layers: [p(0, 0.5, 0.5), p(1, 0.9, 0.5)] }]);
    expect(f[0]).toBe("over training (step 0 to 100) the best selectivity goes from 0.05 (layer 0) to 0.40 (layer 0)");
    expect(f[1]).toBe("the first decodable layer moves from none to layer 0");
  });
});
