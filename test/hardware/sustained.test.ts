// What cards sustain: measured matmul rates (data/sustained.yaml) and the spec-sheet rule for cards without one,
// checked leave-one-out on the measurements (the rule is refitted without the card it predicts).
import { describe, expect, it } from "vitest";
import { loadGpuCatalog } from "../../src/hardware/catalog.js";
import type { Gpu } from "../../src/hardware/gpu.js";
import { fitRule, measurements, ruleCheck, sustainedMatmul } from "../../src/hardware/sustained.js";
import { estimate } from "../../src/planner.js";
import { resolveModel } from "../../src/spec/catalog.js";
import { resolveWorkload } from "../../src/workload/resolve.js";

const cat = loadGpuCatalog();
const T = 1e12;

describe("sustained throughput", () => {
  it("uses the published measurement where there is one, with its source", () => {
    const t4 = sustainedMatmul(cat.find("T4"));
    expect(t4.basis).toBe("measured");
    expect(t4.flopsPerS / T).toBeCloseTo(24, 5); // NVIDIA forum: ~24 TFLOPS sustained at 70 W, not the 65 peak
    expect(sustainedMatmul(cat.find("L40S")).flopsPerS).toBeLessThan(sustainedMatmul(cat.find("A100 80GB SXM4")).flopsPerS * 1.02);
  });

  it("finds the measurement of a catalog card through either side's name or alias", () => {
    // data/sustained.yaml names "NVIDIA RTX A6000", "GeForce RTX 3080 Ti", "RTX PRO 6000 Blackwell Workstation"
    expect(sustainedMatmul(cat.find("A6000")).flopsPerS / T).toBeCloseTo(123.34, 5);
    expect(sustainedMatmul(cat.find("3080 Ti")).flopsPerS / T).toBeCloseTo(76.47, 5);
    expect(sustainedMatmul(cat.find("RTX PRO 6000")).flopsPerS / T).toBeCloseTo(417.98, 5);
    // and the catalog's datasheet rate is the nominal rate the file's rule was given for each of them
    for (const m of measurements()) {
      const g = cat.tryFind(m.gpu);
      if (g) expect(Math.abs(g.bf16DenseFlopsPerS / m.nominalFlopsPerS - 1), m.gpu).toBeLessThan(0.01);
    }
  });

  it("the leave-one-out rule is within 12% of every measured card whose compute capability has another measurement", () => {
    const rows = ruleCheck();
    const checked = rows.filter((r) => !r.alone);
    expect(checked.length).toBeGreaterThanOrEqual(15);
    for (const r of checked) expect(Math.abs(r.error), `${r.gpu}: rule ${(r.rule / T).toFixed(1)} vs ${(r.measured / T).toFixed(1)}`).toBeLessThan(0.12);
    // the T4 is the only Turing card measured: nothing to check it against, and nominal x clock factor is far off
    const t4 = rows.find((r) => r.gpu === "NVIDIA T4")!;
    expect(t4.alone).toBe(true);
    expect(t4.error).toBeGreaterThan(0.5);
  });

  it("judges the low-power full-rate cards power-limited and no GeForce card", () => {
    const fit = fitRule(measurements());
    expect([...fit.powerLimited].sort()).toEqual(["NVIDIA L4", "NVIDIA L40S", "NVIDIA T4"]);
    expect(fit.clockFactor["half-rate"]).toBeGreaterThan(1);
    expect(fit.clockFactor["full-rate"]).toBeLessThan(0.85);
  });

  it("a card added later gets the rule, and a warning when its compute capability has no measured card", () => {
    const base = cat.find("GeForce RTX 4080 (16GB)");
    const like = (over: Partial<Gpu>): Gpu => ({ ...base, name: "Test card", aliases: [], ...over });
    const ada = sustainedMatmul(like({}));
    expect(ada.basis).toBe("rule");
    expect(ada.warnings).toEqual([]);
    expect(ada.flopsPerS).toBeGreaterThan(base.bf16DenseFlopsPerS); // GeForce cards boost above the rated clock
    // a 60 W full-rate Ada card is power-limited by the rule: far below its nominal peak
    const lowPower = sustainedMatmul(like({ gpuClass: "datacenter", tdpWatts: 60, bf16DenseFlopsPerS: 120e12 }));
    expect(lowPower.flopsPerS / T).toBeCloseTo(60 * fitRule(measurements()).flopsPerWatt["8.9"]! / T, 6);
    expect(lowPower.detail).toMatch(/power-limited/);
    const volta = sustainedMatmul(like({ computeCapability: "7.0" }));
    expect(volta.warnings.join(" ")).toMatch(/no measured card with compute capability 7\.0/);
  });

  it("the time model follows: a T4 trains slower than an RTX 5060 Ti, an L4 slower than an RTX 3090", () => {
    const spec = resolveModel("Qwen/Qwen2.5-7B");
    const w = resolveWorkload({ kind: "qlora", seq: 1024, batch: 2 });
    const tps = (g: string) => estimate(spec, w, cat.find(g)).tokens_per_s;
    expect(tps("T4")).toBeLessThan(tps("5060 Ti"));
    expect(tps("L4")).toBeLessThan(tps("3090"));
    expect(tps("L40S")).toBeLessThan(tps("A100 80GB SXM4") * 1.02);
  });
});
