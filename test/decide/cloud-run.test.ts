// Where the decision rents an experiment (preferredCloudRun): without risk of running out of memory before
// tight, as the title says before a departure from it, then the bill; a tight cell's safe variant counts as an
// offer without risk. The same choice feeds the strategies' cloud bill, the bursts and `fitlab burst`.
import { describe, expect, it } from "vitest";
import type { Cell, SafeVariant } from "../../src/decide/feasibility.js";
import { evaluateStrategy, preferredCloudRun, type MatrixRow } from "../../src/decide/strategy.js";
import type { HardwareOption } from "../../src/decide/options.js";
import type { PlanExperiment } from "../../src/plan/load.js";

const ex = { key: "S.x", stretch: true, cpuOnly: false } as unknown as PlanExperiment;

function cloud(name: string, verdict: Cell["verdict"], costUsd: number, o: Partial<Cell> = {}): Cell {
  return { option: `cloud: ${name}`, kind: "cloud", verdict, fits: verdict !== "no", changes: [], change_descriptions: [], departs_from_plan: [], settings: { gpus: 1 }, gpus: 1, peak_bytes: 10, high_bytes: verdict === "fits" ? 11 : 13, seconds: 3600, gpu_hours: 1, bottleneck: "compute", cost_usd: costUsd, margin: verdict === "fits" ? 0.2 : 0.05, risk: null, safe: null, estimated: true, ...o };
}
const current: Cell = { ...cloud("x", "no", 0), option: "current: C", kind: "current" };
const safe = (costUsd: number, o: Partial<SafeVariant> = {}): SafeVariant => ({ changes: ["grad-checkpointing"], change_descriptions: ["gradient checkpointing"], departs_from_plan: [], seconds: 4700, gpu_hours: 1.3, cost_usd: costUsd, peak_bytes: 8, high_bytes: 9, ...o });
const row = (...cells: Cell[]): MatrixRow => ({ experiment: ex, cells: [current, ...cells] });

describe("where an experiment is rented", () => {
  it("prefers an offer that fits the whole band to a cheaper tight one", () => {
    const r = preferredCloudRun(row(cloud("cheap", "tight", 1), cloud("dear", "fits", 3)))!;
    expect(r).toMatchObject({ option: "cloud: dear", verdict: "fits", cost_usd: 3 });
  });

  it("counts a tight offer with the changes that remove its risk as an offer without risk", () => {
    const r = preferredCloudRun(row(cloud("cheap", "tight", 1, { safe: safe(1.4) }), cloud("dear", "fits", 3)))!;
    expect(r).toMatchObject({ option: "cloud: cheap", verdict: "fits", cost_usd: 1.4, changes: ["grad-checkpointing"], seconds: 4700 });
  });

  it("prefers a run that is what its title says to a cheaper one that changes its optimizer", () => {
    const departs = { changes: ["adamw-8bit"], departs_from_plan: ["optimizer: adamw -> adamw8bit"] };
    const r = preferredCloudRun(row(cloud("cheap", "fits", 1, departs), cloud("dear", "fits", 3)))!;
    expect(r.option).toBe("cloud: dear");
    // with no run as titled, the departure is taken, and carried
    expect(preferredCloudRun(row(cloud("cheap", "fits", 1, departs), cloud("tight", "tight", 0.5)))).toMatchObject({ option: "cloud: cheap", departs_from_plan: ["optimizer: adamw -> adamw8bit"] });
  });

  it("falls back to the cheapest tight offer, and says it is tight", () => {
    const r = preferredCloudRun(row(cloud("a", "tight", 2), cloud("b", "tight", 1), cloud("c", "no", 0)))!;
    expect(r).toMatchObject({ option: "cloud: b", verdict: "tight" });
    expect(preferredCloudRun(row(cloud("c", "no", 0)))).toBeNull();
  });

  it("the strategy bills the bursts at the chosen offer and names its verdict and changes", () => {
    const options = [
      { name: "current: C", kind: "current", priceUsd: null, resaleFraction: 0, runWatts: 300, idleWatts: 15, condition: null, gpu: { name: "C" }, upgrade: false },
      { name: "cloud: cheap", kind: "cloud" },
      { name: "cloud: dear", kind: "cloud" },
    ] as unknown as HardwareOption[];
    const rows = [row(cloud("cheap", "tight", 1, { safe: safe(1.4) }), cloud("dear", "fits", 3))];
    const s = evaluateStrategy(rows, options, 0, { horizonMonths: 24, electricityUsdPerKwh: 0.25, priceFactor: 1, workFactor: 1, cloudPriceFactor: 1, stretchFactor: 1, cycleMonths: 3 });
    expect(s.bursts).toEqual([expect.objectContaining({ experiment: "S.x", option: "cloud: cheap", verdict: "fits", changes: ["grad-checkpointing"], cost_usd: 1.4 })]);
    expect(s.breakdown.cloud_usd).toBeCloseTo(1.4, 6);
  });
});
