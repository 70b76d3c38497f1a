// `fitlab inspect attention` on the real worker with tiny models built here. A head planted to attend to the
// previous token must be found; the maps recomputed beside SDPA must equal HF eager attention for every layer
// and head (GQA: 4 query heads share 2 key/value heads); twice the layers must not double the extraction's
// memory; bad input leaves nothing in the store.
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { attentionChunkRows } from "../../src/memory/extraction.js";
import { readTensor, tensorNames } from "../../src/runs/tensors.js";
import { expectOneLineError } from "../helpers.js";
import { fitlab, makeTiny, randomWords, ready, rng, storeFolders, storeRows, tmpDir, writePrompts, WORDS } from "./worker-helpers.js";

const tmp = tmpDir("attention");
const planted = path.join(tmp, "planted");
const llama = path.join(tmp, "llama");
const r = rng(7);
const prompts = writePrompts(path.join(tmp, "prompts.txt"), [0, 1, 2].map(() => randomWords(r, 24).join(" ")));

describe.runIf(ready)("inspect attention on the worker", () => {
  beforeAll(async () => {
    // layer 2, head 1 attends to the previous token (constant q/k biases, RoPE does the rest: make_tiny.py)
    await makeTiny(planted, { num_layers: 4, max_positions: 1100, plant: { prev_token_head: { layer: 2, head: 1, strength: 8 } } });
    await makeTiny(llama, { arch: "llama", num_layers: 3 });
  }, 180_000);

  it("reports the planted previous-token head, with the contract fields for every layer x head", () => {
    const runs = path.join(tmp, "runs-planted");
    const res = fitlab(["inspect", "attention", "--model", planted, "--prompts", prompts, "--device", "cpu", "--json"], runs);
    expect(res.code, res.err).toBe(0);
    const j = res.json as { run_id: string; layers: number; heads: number; tokens: number; peak_bytes: number; heads_stats: Record<string, number>[]; maps: unknown[]; findings: string[] };
    for (const k of ["run_id", "layers", "heads", "tokens", "peak_bytes", "heads_stats", "maps"]) expect(j).toHaveProperty(k);
    expect(j.heads_stats).toHaveLength(4 * 4);
    const head = j.heads_stats.find((h) => h.layer === 2 && h.head === 1)!;
    expect(head.prev_token_share).toBeGreaterThanOrEqual(0.9);
    // no other head is a previous-token head: the planted structure is what is found
    for (const h of j.heads_stats.filter((x) => !(x.layer === 2 && x.head === 1))) expect(h.prev_token_share).toBeLessThan(0.5);
    expect(j.findings.join(" ")).toMatch(/L2H1 \(1\.00\)/);
    // pictures and report beside the results; the run is in the store as kind attention
    const row = storeRows(runs)[0]!;
    expect(row).toMatchObject({ kind: "attention", status: "done" });
    const dir = path.join(runs, j.run_id);
    for (const f of ["report.html", "report/model-view.svg", "report/heads-prev-token-share.svg", "stats.safetensors", "maps/prompt-000.safetensors"]) expect(fs.existsSync(path.join(dir, f)), f).toBe(true);
    // the pooled maps are float16 [layer, head, bins, bins] with at most 128 bins a side
    const pooled = readTensor(path.join(dir, "maps/prompt-000.safetensors"), "pooled");
    expect(pooled.shape).toEqual([4, 4, 24, 24]);
  }, 180_000);

  for (const [name, model, layers] of [["Qwen2", planted, 4], ["Llama", llama, 3]] as const) {
    it(`recomputed maps equal HF eager attention within 1e-4 in fp32, every layer and head, GQA (${name})`, () => {
      const runs = path.join(tmp, `runs-eq-${name}`);
      const args = (capture: string) => ["inspect", "attention", "--model", model, "--prompts", prompts, "--device", "cpu", "--dtype", "fp32", "--heads", "all", "--full-dtype", "float32", "--capture", capture, ...(capture === "recompute" ? ["--chunk-bytes", "20000"] : []), "--json"]; // eager takes no chunk
      const rec = fitlab(args("recompute"), runs);
      const eager = fitlab(args("eager"), runs);
      expect(rec.code, rec.err).toBe(0);
      expect(eager.code, eager.err).toBe(0);
      // several chunks of query rows per map (the chunking is exercised), as the planner computes them
      expect(rec.json.chunk_rows).toBe(attentionChunkRows(4, 24, "attention", 20000));
      expect(rec.json.chunk_rows as number).toBeLessThan(24);
      for (const p of [0, 1, 2]) {
        const f = (j: Record<string, unknown>) => path.join(runs, j.run_id as string, `maps/prompt-00${p}.safetensors`);
        const names = tensorNames(f(rec.json)).filter((n) => n.startsWith("full."));
        expect(names).toHaveLength(layers * 4);
        let worst = 0;
        for (const n of names) {
          const a = readTensor(f(rec.json), n).data;
          const b = readTensor(f(eager.json), n).data;
          expect(a.length).toBe(b.length);
          for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
          // rows are probability distributions over the keys a query may see
          expect(a.slice(0, 24).reduce((s, x) => s + x, 0)).toBeCloseTo(1, 5);
        }
        expect(worst).toBeLessThanOrEqual(1e-4);
      }
    }, 240_000);
  }

  it("twice the layers does not double the extraction's memory (one layer's maps at a time); keeping every layer does", async () => {
    const m4 = path.join(tmp, "mem4");
    const m8 = path.join(tmp, "mem8");
    await makeTiny(m4, { num_layers: 4, max_positions: 1100 });
    await makeTiny(m8, { num_layers: 8, max_positions: 1100 });
    const long = writePrompts(path.join(tmp, "long.txt"), [randomWords(rng(3), 1024).join(" ")]);
    const runs = path.join(tmp, "runs-mem");
    const transient = (model: string, capture: string) => {
      const res = fitlab(["inspect", "attention", "--model", model, "--prompts", long, "--device", "cpu", "--capture", capture, ...(capture === "recompute" ? ["--chunk-bytes", String(4 * 2 ** 20)] : []), "--json"], runs);
      expect(res.code, res.err).toBe(0);
      return res.json.transient_bytes as number;
    };
    const r4 = transient(m4, "recompute");
    const r8 = transient(m8, "recompute");
    const e4 = transient(m4, "eager");
    const e8 = transient(m8, "eager");
    const mib = (b: number) => (b / 2 ** 20).toFixed(1);
    console.log(`bounded memory, 1,024-token prompt, 4 heads: recompute 4 layers ${mib(r4)} MiB, 8 layers ${mib(r8)} MiB; eager all-layers 4 layers ${mib(e4)} MiB, 8 layers ${mib(e8)} MiB (peak RSS above the loaded model)`);
    // one layer's map is 4 heads x 1024^2 x 4 B = 16 MiB: streaming stays flat, keeping all grows by 4 x 16 MiB
    expect(r8).toBeLessThan(1.3 * r4 + 4 * 2 ** 20);
    expect(e8 - e4).toBeGreaterThan(40 * 2 ** 20);
    expect(r8).toBeLessThan(e8 / 2);
  }, 300_000);

  it("bad input: a prompt longer than the context, an empty prompt file, an adapter for another model: one line, exit 2, nothing in the store", async () => {
    const runs = path.join(tmp, "runs-bad");
    const tooLong = writePrompts(path.join(tmp, "too-long.txt"), [randomWords(rng(5), 1200).join(" ")]);
    let res = fitlab(["inspect", "attention", "--model", planted, "--prompts", tooLong, "--device", "cpu"], runs);
    expectOneLineError(res, /prompt 1 of .* has 1200 tokens, more than the model's context of 1100/);
    const empty = path.join(tmp, "empty.txt");
    fs.writeFileSync(empty, "\n\n");
    res = fitlab(["inspect", "attention", "--model", planted, "--prompts", empty, "--device", "cpu"], runs);
    expectOneLineError(res, /has no prompts/);
    const other = path.join(tmp, "other");
    await makeTiny(other, { hidden_size: 32, num_layers: 2, adapter: { out_dir: path.join(tmp, "other-adapter"), layers: [1], targets: ["q_proj"] } });
    res = fitlab(["inspect", "attention", "--model", planted, "--adapter", path.join(tmp, "other-adapter"), "--prompts", prompts, "--device", "cpu"], runs);
    expectOneLineError(res, /adapter .* was trained for .*other.*: model\.layers\.1\.self_attn\.q_proj has input width 64 here, 32 in the adapter/);
    expect(storeRows(runs)).toEqual([]);
    expect(storeFolders(runs)).toEqual([]);
    expect(WORDS).toHaveLength(40);
  }, 240_000);
});
