// A decode estimate says which cards its kernels' bandwidth efficiency was measured on when the card asked
// about is not one of them (src/time/decode-coverage.ts). Named case: the only SGLang decode rows of
// test/fixtures/cases-public.csv are QwenLM/Qwen3's speed benchmark on an NVIDIA H20 96GB, where SGLang 0.4.6
// reaches a third of the card's bandwidth (Qwen3-32B bf16: 20.7 tok/s, slower than transformers' eager loop on
// the same card, 26.2 tok/s); an SGLang estimate on an RTX 4090 carries that fraction and must say so.
import { describe, expect, it } from "vitest";
import { currentCalibration, withCalibration, type Calibration } from "../../src/engines/calibration.js";
import { loadGpuCatalog } from "../../src/hardware/catalog.js";
import { estimate } from "../../src/planner.js";
import { resolveModel } from "../../src/spec/catalog.js";
import { resolveWorkload, type WorkloadInput } from "../../src/workload/resolve.js";

const gpus = loadGpuCatalog();
const spec = resolveModel("Qwen/Qwen2.5-7B");
const decode = (engine: string) => resolveWorkload({ kind: "inference_decode", quant: "none", dtype: "bf16", batch: 1, promptTokens: 1, newTokens: 2048, engine } satisfies WorkloadInput, spec);
const cardWarnings = (engine: string, gpu: string) => estimate(spec, decode(engine), gpus.find(gpu)).warnings.filter((w) => w.startsWith("decode speed"));

describe("decode speed: the cards its kernels were measured on", () => {
  it("the shipped calibration lists SGLang's decode rows on the H20 only, vLLM's on the A100 80GB", () => {
    const cards = currentCalibration().covered?.decodeGpus;
    expect(cards?.sglang).toEqual(["NVIDIA H20 96GB"]);
    expect(cards?.vllm).toEqual(["NVIDIA A100 80GB SXM4"]);
  });

  it("SGLang on an RTX 4090 names the H20; on the H20 itself there is nothing to say", () => {
    const w = cardWarnings("sglang", "GeForce RTX 4090");
    expect(w).toHaveLength(1);
    expect(w[0]).toContain("NVIDIA H20 96GB");
    expect(w[0]).toContain("GeForce RTX 4090");
    expect(cardWarnings("sglang", "NVIDIA H20 96GB")).toEqual([]);
  });

  it("a runtime without a fit of its own names the sibling whose kernels it borrows, and its cards", () => {
    const shipped = currentCalibration();
    const { decode_bw_efficiency: _dropped, ...sglangRest } = shipped.kernels.sglang ?? {};
    const cal: Calibration = { ...shipped, kernels: { ...shipped.kernels, sglang: sglangRest }, covered: { ...shipped.covered!, decodeGpus: { vllm: ["NVIDIA A100 80GB SXM4"] } } };
    const w = withCalibration(cal, () => cardWarnings("sglang", "GeForce RTX 4090"));
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/vllm kernels \(which sglang shares\)/);
    expect(w[0]).toContain("NVIDIA A100 80GB SXM4");
    expect(withCalibration(cal, () => cardWarnings("sglang", "NVIDIA A100 80GB SXM4"))).toEqual([]);
  });

  it("kernels never measured decoding say their efficiency is the prior; a file without the cards says nothing; training is not decode", () => {
    expect(cardWarnings("unsloth", "GeForce RTX 4090")[0]).toMatch(/no published decode measurement of the unsloth kernels/);
    const shipped = currentCalibration();
    expect(withCalibration({ ...shipped, covered: { ...shipped.covered!, decodeGpus: null } }, () => cardWarnings("sglang", "GeForce RTX 4090"))).toEqual([]);
    const train = resolveWorkload({ kind: "qlora", quant: "bnb-nf4-dq", seq: 1024, batch: 1, engine: "hf-peft" } as WorkloadInput, spec);
    expect(estimate(spec, train, gpus.find("GeForce RTX 4090")).warnings.filter((w) => w.startsWith("decode speed"))).toEqual([]);
  });
});
