// `fitlab inspect probe` on the real worker. The planted model copies a word's sign (a dim of its embedding)
// to the next position from layer 2 on (a previous-token head; layers 0-1 pass the embeddings through), so a
// label that is the sign of the second-to-last word is linearly decodable from layer 2 on and at chance
// before. The control task (a random label per example, Hewitt & Liang 2019) stays at chance.
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { DEMO_TRAIN } from "./paths.js";
import { expectOneLineError } from "../helpers.js";
import { fitlab, makeTiny, randomWords, ready, rng, storeFolders, storeRows, tmpDir, WORDS } from "./worker-helpers.js";

const tmp = tmpDir("probe");
const model = path.join(tmp, "planted");
const L = 2;
const POSITIVE = WORDS.slice(0, 20);
const plant = { prev_token_head: { layer: L, head: 1, strength: 8 }, copy: { from_dim: 5, to_dim: 9, gain: 6 }, silence_before: L, silence_mlp: true, word_sign: { dim: 5, positive: POSITIVE, value: 1 } };
const r = rng(5);
const sentences = path.join(tmp, "sentences.jsonl");
fs.writeFileSync(sentences, Array.from({ length: 80 }, () => randomWords(r, 8)).map((w) => JSON.stringify({ text: w.join(" "), label: POSITIVE.includes(w[6]!) ? "pos" : "neg" })).join("\n"));
const tokens = path.join(tmp, "tokens.jsonl");
fs.writeFileSync(tokens, Array.from({ length: 30 }, () => randomWords(r, 10)).map((w) => JSON.stringify({ tokens: w, labels: w.map((_, i) => (i === 0 ? "start" : POSITIVE.includes(w[i - 1]!) ? "pos" : "neg")) })).join("\n"));

describe.runIf(ready)("inspect probe on the worker", () => {
  beforeAll(async () => {
    await makeTiny(model, { num_layers: 4, plant });
  }, 120_000);

  it("sentence level: accuracy ~1 from layer L, chance before, selectivity > 0.3 at L", () => {
    const runs = path.join(tmp, "runs-sentence");
    const res = fitlab(["inspect", "probe", "--model", model, "--data", sentences, "--device", "cpu", "--json"], runs);
    expect(res.code, res.err).toBe(0);
    const layers = res.json.layers as { layer: number; accuracy: number; control_accuracy: number; selectivity: number; majority: number }[];
    expect(layers).toHaveLength(5); // embeddings + 4 layers; point 1 + l is layer l's output
    for (const p of layers.filter((x) => x.layer <= L)) expect(p.accuracy, `point ${p.layer}`).toBeLessThanOrEqual(0.7);
    for (const p of layers.filter((x) => x.layer > L)) expect(p.accuracy, `point ${p.layer}`).toBeGreaterThanOrEqual(0.95);
    expect(layers[L + 1]!.selectivity).toBeGreaterThan(0.3);
    expect(layers[L + 1]!.control_accuracy).toBeLessThanOrEqual(0.7);
    expect((res.json.findings as string[])[0]).toMatch(/decodable from layer 2 on/);
  }, 180_000);

  it("token level: each word's label (its predecessor's sign) is decodable from layer L, not before", () => {
    const runs = path.join(tmp, "runs-token");
    const res = fitlab(["inspect", "probe", "--model", model, "--data", tokens, "--device", "cpu", "--json"], runs);
    expect(res.code, res.err).toBe(0);
    const layers = res.json.layers as { layer: number; accuracy: number }[];
    expect(res.json.level).toBe("token");
    for (const p of layers.filter((x) => x.layer <= L)) expect(p.accuracy).toBeLessThanOrEqual(0.65);
    for (const p of layers.filter((x) => x.layer > L)) expect(p.accuracy).toBeGreaterThanOrEqual(0.85);
  }, 180_000);

  it("--run probes the base model and every checkpoint of a training run, linked as parent_run", () => {
    const runs = path.join(tmp, "runs-ckpt");
    const train = fitlab(["run", "--model", model, "--data", DEMO_TRAIN, "--steps", "4", "--batch", "4", "--seq", "16", "--checkpoint-every", "2", "--eval-every", "2", "--device", "cpu", "--json", "--lr", "0.01"], runs);
    expect(train.code, train.err).toBe(0);
    const trainId = (train.json.runs as { id: string }[])[0]!.id;
    const res = fitlab(["inspect", "probe", "--run", trainId, "--data", sentences, "--max-prompts", "40", "--device", "cpu", "--json"], runs);
    expect(res.code, res.err).toBe(0);
    const cks = res.json.checkpoints as { step: number; layers: unknown[] }[];
    expect(cks.map((c) => c.step)).toEqual([0, 2, 4]);
    for (const c of cks) expect(c.layers).toHaveLength(5);
    const row = storeRows(runs).find((x) => x.kind === "probe")!;
    expect(row.parent_run).toBe(trainId);
  }, 240_000);

  it("labels with a single class: one line, exit 2, nothing in the store", () => {
    const runs = path.join(tmp, "runs-bad");
    const one = path.join(tmp, "one-class.jsonl");
    fs.writeFileSync(one, ["aa ab", "ac ad", "ae af", "ag ah", "ai aj"].map((t) => JSON.stringify({ text: t, label: "x" })).join("\n"));
    expectOneLineError(fitlab(["inspect", "probe", "--model", model, "--data", one, "--device", "cpu"], runs), /single class/);
    expect(storeRows(runs)).toEqual([]);
    expect(storeFolders(runs)).toEqual([]);
  });
});
