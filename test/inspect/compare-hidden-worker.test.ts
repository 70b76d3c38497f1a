// `fitlab inspect compare` and `inspect hidden` on the real worker. An adapter whose update is non-zero only in
// layer k must leave every layer before k unchanged (attention and residual stream) and change layer k; a
// planted massive dimension must be found; random embeddings must give anisotropy near 0.
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { fitlab, makeTiny, randomWords, ready, rng, storeRows, tmpDir, WORDS, writePrompts } from "./worker-helpers.js";

const tmp = tmpDir("compare");
const model = path.join(tmp, "model");
const adapter = path.join(tmp, "adapter-layer2");
const massive = path.join(tmp, "massive");
const K = 2;
const r = rng(11);
const prompts = writePrompts(path.join(tmp, "prompts.txt"), [0, 1, 2].map(() => randomWords(r, 20).join(" ")));
// every prompt starts with the word that carries the massive activation
const massivePrompts = writePrompts(path.join(tmp, "massive.txt"), [0, 1, 2, 3].map(() => [WORDS[0], ...randomWords(r, 30, WORDS.slice(1))].join(" ")));

describe.runIf(ready)("inspect compare and hidden on the worker", () => {
  beforeAll(async () => {
    // LoRA on q_proj and v_proj of layer K only (PEFT layers_to_transform), B non-zero
    await makeTiny(model, { num_layers: 4, adapter: { out_dir: adapter, layers: [K], targets: ["q_proj", "v_proj"], rank: 4, alpha: 8 } });
    await makeTiny(massive, { num_layers: 3, plant: { massive: { word: WORDS[0], dim: 7, value: 300 } } });
  }, 180_000);

  it("compare: no change before layer k (JS and every statistic <= 1e-6), a change at k; update norms only in layer k", () => {
    const runs = path.join(tmp, "runs-compare");
    const res = fitlab(["inspect", "compare", "--model", model, "--adapter", adapter, "--prompts", prompts, "--device", "cpu", "--json"], runs);
    expect(res.code, res.err).toBe(0);
    const j = res.json as { heads: Record<string, number>[]; modules: { name: string; layer: number; update_norm: number; head_norms?: number[] }[]; findings: string[] };
    expect(j.heads).toHaveLength(4 * 4);
    for (const h of j.heads.filter((x) => x.layer! < K)) {
      for (const k of ["js_divergence", "entropy_change", "first_token_share_change", "prev_token_share_change", "self_share_change", "mean_distance_change"]) expect(Math.abs(h[k]!), `${k} L${h.layer}H${h.head}`).toBeLessThanOrEqual(1e-6);
    }
    const atK = j.heads.filter((x) => x.layer === K);
    expect(Math.max(...atK.map((h) => h.js_divergence!))).toBeGreaterThan(1e-3);
    expect(j.modules.map((m) => m.name).sort()).toEqual([`model.layers.${K}.self_attn.q_proj`, `model.layers.${K}.self_attn.v_proj`]);
    for (const m of j.modules) {
      expect(m.layer).toBe(K);
      expect(m.update_norm).toBeGreaterThan(0);
      // per-head norms split the update: their squares add up to the whole (Frobenius norm over row blocks)
      expect(Math.hypot(...m.head_norms!)).toBeCloseTo(m.update_norm, 4);
    }
    expect(j.findings.join(" ")).toMatch(/unchanged in layers 0-1 .* changes from layer 2 on/);
    expect(storeRows(runs)[0]).toMatchObject({ kind: "compare", status: "done" });
  }, 180_000);

  it("hidden with the adapter: the residual stream equals the base model's before layer k and differs from k on", () => {
    const runs = path.join(tmp, "runs-hidden-adapter");
    const res = fitlab(["inspect", "hidden", "--model", model, "--adapter", adapter, "--prompts", prompts, "--device", "cpu", "--json"], runs);
    expect(res.code, res.err).toBe(0);
    const j = res.json as { layers: unknown[]; cka: number[][]; cka_base_tuned: number[]; max_abs_change: number[] };
    // points: 0 = embeddings, 1 + l = output of layer l
    expect(j.layers).toHaveLength(5);
    expect(j.cka).toHaveLength(5);
    for (let p = 0; p <= K; p++) {
      expect(j.max_abs_change[p]!).toBeLessThanOrEqual(1e-6);
      expect(j.cka_base_tuned[p]!).toBeGreaterThan(1 - 1e-6);
    }
    expect(j.max_abs_change[K + 1]!).toBeGreaterThan(1e-3);
    expect(j.cka_base_tuned[K + 1]!).toBeLessThan(1);
  }, 180_000);

  it("hidden: a planted massive dimension is found in every layer; random embeddings give anisotropy near 0", () => {
    const runs = path.join(tmp, "runs-massive");
    const res = fitlab(["inspect", "hidden", "--model", massive, "--prompts", massivePrompts, "--device", "cpu", "--json"], runs);
    expect(res.code, res.err).toBe(0);
    const j = res.json as { layers: { layer: number; anisotropy: number; mean_norm: number; outlier_dims: { dim: number; ratio: number; position: number }[] }[]; lens: unknown[]; findings: string[] };
    expect(j.layers[0]!.layer).toBe(0); // embeddings first
    for (const l of j.layers) {
      expect(l.outlier_dims[0]?.dim, `layer ${l.layer}`).toBe(7);
      expect(l.outlier_dims[0]!.ratio).toBeGreaterThan(100);
      expect(l.outlier_dims[0]!.position).toBe(0);
      expect(l.outlier_dims.filter((d) => d.dim !== 7)).toEqual([]);
    }
    expect(j.findings.join(" ")).toMatch(/dim 7 is massive in every layer/);
    const random = fitlab(["inspect", "hidden", "--model", model, "--prompts", prompts, "--device", "cpu", "--json"], runs);
    const emb = (random.json.layers as { anisotropy: number }[])[0]!;
    expect(Math.abs(emb.anisotropy)).toBeLessThan(0.1);
    expect(j.lens.length).toBeGreaterThan(0);
  }, 180_000);
});
