// Unpacked data: a step computes on the tokens its batch really holds, not on the truncation cap, when the
// batches are grouped by length (src/time/step-tokens.ts).
// Named case: PEFT method_comparison, full fine-tuning of Llama-3.2-3B on an L40S (case M073 of
// test/fixtures/cases-public.csv; results/full-finetuning--llama-3.2-3B-lr_0.00001.json): MetaMathQA truncated at
// 768 tokens, batch 4, torch AdamW, batches grouped by length (run.py BucketIterator). The source's own counts
// give 4,198,051 train tokens over 20,000 samples (210 per example); it reports 2316 tokens/s. Padded to the
// cap, the planner amortises each AdamW step over 3072 tokens instead of ~840 and predicts 2.8x too fast.
import { describe, expect, it } from "vitest";
import { loadGpuCatalog } from "../../src/hardware/catalog.js";
import { resolveModel } from "../../src/spec/catalog.js";
import { estimateTime } from "../../src/time/throughput.js";
import { resolveWorkload, type WorkloadInput } from "../../src/workload/resolve.js";
import { inputError } from "../helpers.js";

const gpu = loadGpuCatalog().find("NVIDIA L40S");
const spec = resolveModel("meta-llama/Llama-3.2-3B");
const M073: WorkloadInput = {
  kind: "full", quant: "none", dtype: "bf16", batch: 4, gradAccum: 1, seq: 768, packed: false, optimizer: "adamw",
  gradCkpt: "none", attn: "sdpa", loss: "standard", engine: "hf-peft", engineVersion: "peft 0.19.2.dev0; transformers 5.13.1; torch 2.13.0+cu130",
};
const tps = (extra: Partial<WorkloadInput>) => estimateTime(spec, resolveWorkload({ ...M073, ...extra }, spec), gpu).tokensPerS;
const MEASURED = 2316;

describe("tokens a step processes on unpacked data", () => {
  it("M073 (2316 tok/s measured): with its 210-token mean in length-grouped batches, within a factor 2.2; padded to the cap, beyond 2.5x", () => {
    const real = tps({ meanTokens: 210, lengthGrouped: true });
    const capped = tps({});
    expect(capped / MEASURED).toBeGreaterThan(2.5);
    expect(real / MEASURED).toBeLessThan(2.2);
    expect(real / MEASURED).toBeGreaterThan(1);
  });

  it("a length-grouped batch of 210-token examples computes like packed 210-token rows", () => {
    const grouped = estimateTime(spec, resolveWorkload({ ...M073, meanTokens: 210, lengthGrouped: true }, spec), gpu);
    const packed = estimateTime(spec, resolveWorkload({ ...M073, seq: 210, packed: true }, spec), gpu);
    expect(grouped.stepSeconds).toBeCloseTo(packed.stepSeconds, 9);
    expect(grouped.tokensPerS).toBeCloseTo(packed.tokensPerS, 6);
  });

  it("random batches of several examples keep the cap (the mean does not give the longest of the batch); one example per batch does not need grouping", () => {
    expect(tps({ meanTokens: 210 })).toBeCloseTo(tps({}), 6);
    const one = (extra: Partial<WorkloadInput>) => tps({ batch: 1, ...extra });
    expect(one({ meanTokens: 210 })).toBeCloseTo(one({ meanTokens: 210, lengthGrouped: true }), 6);
    expect(one({ meanTokens: 210 })).toBeLessThan(one({}));
  });

  it("a mean above the cap is the cap (longer examples are truncated)", () => {
    expect(tps({ meanTokens: 5000, lengthGrouped: true })).toBeCloseTo(tps({ seq: 768, packed: true }), 6);
  });

  it("the peak is unchanged: it follows the longest batch of the run, which the mean does not give", async () => {
    const { estimateMemory } = await import("../../src/memory/estimate.js");
    const a = estimateMemory(spec, resolveWorkload({ ...M073, meanTokens: 210, lengthGrouped: true }, spec), gpu);
    const b = estimateMemory(spec, resolveWorkload(M073, spec), gpu);
    expect(a.reservedBytes).toBe(b.reservedBytes);
  });

  it("refuses a mean length or length grouping on packed data, in one line", () => {
    expect(inputError(() => resolveWorkload({ ...M073, packed: true, meanTokens: 210 }, spec)).message).toMatch(/unpacked data.*--no-packed/);
    expect(inputError(() => resolveWorkload({ ...M073, packed: undefined, lengthGrouped: true }, spec)).message).toMatch(/unpacked data/);
  });
});
