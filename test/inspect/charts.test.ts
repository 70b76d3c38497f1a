// The pictures of Tracks B and C: snapshots of small, fixed inputs (layer x head heat maps, model view, one
// head's map with its tokens, difference heat map, update norms, norms, outliers, CKA, logit lens, probes),
// and the PNG encoder the heat-map images use, checked against zlib's own CRC-32 and inflate.
import { crc32, inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { diffHeatmap, headMapChart, headStatHeatmap, modelView, updateNormChart } from "../../src/report/attention-charts.js";
import { encodePng } from "../../src/report/png.js";
import { probeChart, probeCheckpointChart } from "../../src/report/probe-charts.js";
import { ckaMatrixChart, logitLensChart, normChart, outlierChart } from "../../src/report/representation-charts.js";
import type { CompareHead, HeadStats, LayerStats, ProbeLayer } from "../../src/runs/inspect-results.js";

const stats: HeadStats[] = [];
for (let l = 0; l < 3; l++) for (let h = 0; h < 4; h++) stats.push({ layer: l, head: h, entropy: 0.5 * l + 0.1 * h, mean_distance: l + h, first_token_share: l === 2 ? 0.6 : 0.1, prev_token_share: l === 1 && h === 2 ? 0.95 : 0.05, self_share: 0.1 });
const diag = (n: number) => Float32Array.from({ length: n * n }, (_, i) => (Math.floor(i / n) === (i % n) + 1 || i === 0 ? 1 : 0));
const snap = (name: string) => `./__snapshots__/${name}.svg`;

describe("attention pictures", () => {
  it("layer x head heat map of a statistic", async () => {
    const svg = headStatHeatmap(stats, "prev_token_share");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("Attention on the previous token per head");
    expect(svg.match(/<rect/g)!.length).toBeGreaterThanOrEqual(12);
    await expect(svg).toMatchFileSnapshot(snap("heads-prev"));
  });
  it("model view: one image per head", async () => {
    const L = 2;
    const H = 3;
    const n = 6;
    const data = new Float32Array(L * H * n * n);
    for (let k = 0; k < L * H; k++) data.set(diag(n), k * n * n);
    const svg = modelView({ data, layers: L, heads: H, size: n }, 6);
    expect(svg.match(/<image/g)).toHaveLength(L * H);
    await expect(svg).toMatchFileSnapshot(snap("model-view"));
  });
  it("one head's map with the prompt's tokens on the axes", async () => {
    const tokens = ["the", "cat", "sat", "on", "the", "mat"];
    const svg = headMapChart({ rows: 6, cols: 6, data: diag(6) }, tokens, "Layer 1, head 2");
    for (const t of ["cat", "sat", "mat"]) expect(svg).toContain(`>${t}<`);
    await expect(svg).toMatchFileSnapshot(snap("head-map"));
  });
  it("difference heat map and LoRA update norms", async () => {
    const heads: CompareHead[] = stats.map((s) => ({ layer: s.layer, head: s.head, js_divergence: s.layer === 2 ? 0.05 * (s.head + 1) : 0, entropy_change: s.layer === 2 ? -0.2 : 0, first_token_share_change: 0, prev_token_share_change: 0, self_share_change: 0, mean_distance_change: 0 }));
    await expect(diffHeatmap(heads, "js_divergence")).toMatchFileSnapshot(snap("diff-js"));
    await expect(diffHeatmap(heads, "entropy_change")).toMatchFileSnapshot(snap("diff-entropy"));
    await expect(updateNormChart([{ name: "model.layers.2.self_attn.q_proj", module: "q_proj", layer: 2, update_norm: 3.2 }, { name: "model.layers.2.self_attn.v_proj", module: "v_proj", layer: 2, update_norm: 1.1 }], 3)).toMatchFileSnapshot(snap("lora-update"));
  });
});

describe("representation and probe pictures", () => {
  const layer = (l: number): LayerStats => ({ layer: l, mean_norm: 1 + l, norm_p05: 0.5 + l, median_norm: 1 + l, norm_p95: 2 + l, max_norm: 30, anisotropy: 0.05 * l, median_abs: 0.1, top_dims: [{ dim: 7, ratio: 3000 / (l + 1), max_abs: 300, prompt: 0, position: 0 }, { dim: 2, ratio: 5, max_abs: 0.5, prompt: 1, position: 3 }], outlier_dims: [{ dim: 7, ratio: 3000 / (l + 1), max_abs: 300, prompt: 0, position: 0 }] });
  const layers = [0, 1, 2, 3].map(layer);
  it("norms, outliers and CKA", async () => {
    await expect(normChart(layers)).toMatchFileSnapshot(snap("norms"));
    const out = outlierChart(layers);
    expect(out).toContain("dim 7");
    await expect(out).toMatchFileSnapshot(snap("outliers"));
    await expect(ckaMatrixChart([[1, 0.9, 0.5], [0.9, 1, 0.7], [0.5, 0.7, 1]])).toMatchFileSnapshot(snap("cka"));
  });
  it("logit-lens table", async () => {
    const svg = logitLensChart({ prompt: 0, positions: [3, 4], tokens: ["on", "the"], next_tokens: ["the", "mat"], layers: [0, 1, 2].map((l) => ({ layer: l, top: [[["mat", 0.2 * l]], [["rug", 0.3 * l]]] as [string, number][][] })) });
    expect(svg).toContain(">rug<");
    await expect(svg).toMatchFileSnapshot(snap("logit-lens"));
  });
  it("probe accuracy and selectivity per layer and across checkpoints", async () => {
    const p = (l: number, acc: number): ProbeLayer => ({ layer: l, accuracy: acc, control_accuracy: 0.5, selectivity: acc - 0.5, train_accuracy: 1, majority: 0.5 });
    const ls = [p(0, 0.5), p(1, 0.55), p(2, 1), p(3, 0.98)];
    await expect(probeChart(ls)).toMatchFileSnapshot(snap("probe"));
    await expect(probeCheckpointChart([{ step: 0, layers: ls }, { step: 50, layers: ls.map((x) => ({ ...x, selectivity: x.selectivity * 0.5 })) }])).toMatchFileSnapshot(snap("probe-checkpoints"));
  });
});

describe("PNG encoding", () => {
  it("writes a valid PNG: signature, IHDR with the size, CRCs that zlib agrees with, pixels that inflate back", () => {
    const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    const png = encodePng(3, 2, rgb);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    let off = 8;
    const chunks: { type: string; data: Buffer }[] = [];
    while (off < png.length) {
      const len = png.readUInt32BE(off);
      const type = png.subarray(off + 4, off + 8).toString("ascii");
      const data = png.subarray(off + 8, off + 8 + len);
      expect(png.readUInt32BE(off + 8 + len)).toBe(crc32(png.subarray(off + 4, off + 8 + len)));
      chunks.push({ type, data });
      off += 12 + len;
    }
    expect(chunks.map((c) => c.type)).toEqual(["IHDR", "IDAT", "IEND"]);
    expect(chunks[0]!.data.readUInt32BE(0)).toBe(3);
    expect(chunks[0]!.data.readUInt32BE(4)).toBe(2);
    const raw = inflateSync(chunks[1]!.data);
    expect([...raw]).toEqual([0, ...rgb.subarray(0, 9), 0, ...rgb.subarray(9)]);
  });
});
