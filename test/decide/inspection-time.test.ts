// An inspection experiment (Track B or C) is one worker job: the decision counts the same seconds and peak
// for it as `fitlab run EXP --dry-run` (runs/inspect-plan.ts), on the built-in plan and the default card.
// An evaluation (A.forgetting-eval) is one job as well, reading the base and each checkpoint of the run it follows.
// Before, the decision counted C.linear-probes as 29 runs of 50 s each (1,450 s) while the dry run counted
// the features of the 5 models the probe job reads (1,754 s).
import { describe, expect, it } from "vitest";
import { decide } from "../../src/decide/decision.js";
import { loadPriceBook } from "../../src/decide/options.js";
import { loadGpuCatalog } from "../../src/hardware/catalog.js";
import { loadPlan } from "../../src/plan/load.js";
import { runCli } from "../helpers.js";

const GPU = "GeForce RTX 5060 Ti 16GB";
const catalog = loadGpuCatalog();
const plan = loadPlan();
const d = decide({ plan, catalog, current: catalog.find(GPU), currentSource: "plan", book: loadPriceBook(), asOf: "2026-11-30" });
const row = (key: string) => d.experiments.find((e) => e.key === key)!;

interface DryRun {
  estimate: { total_seconds: number; peak: { device_bytes: number }; models_read?: number; probes_per_model?: number; extraction_seconds?: number; probe_fit_seconds?: number };
}
function dryRun(key: string): DryRun {
  const r = runCli(["run", key, "--dry-run", "--json", "--gpu", GPU]);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as DryRun;
}

describe("the decision and the dry run plan an inspection as the same job", () => {
  for (const key of ["C.linear-probes", "B.attention-extract", "B.attention-compare", "C.activation-extract"]) {
    it(`${key}: the decision's seconds and peak on the current card are the dry run's`, () => {
      const dry = dryRun(key);
      const cell = row(key).options[0]!;
      expect(cell.option).toBe(`current: ${GPU}`);
      expect(cell.fits).toBe(true);
      expect(dry.estimate.total_seconds).toBeGreaterThan(0);
      expect(cell.seconds).toBe(dry.estimate.total_seconds);
      expect(cell.peak_bytes).toBe(dry.estimate.peak.device_bytes);
      // one job: one run in the store, no sequential sweep
      expect(row(key).runs).toBe(1);
      expect(cell.bottleneck).not.toBe("sequential sweep");
    });
  }

  it("C.linear-probes reads the base and each checkpoint of A.qlora-basic and fits 29 probes on each, in one job", () => {
    const dry = dryRun("C.linear-probes");
    // A.qlora-basic: 5M tokens x 2 epochs / (1024 x 2 x 8 tokens a step) = 611 steps, a checkpoint every 200 -> 4, plus the base
    expect(dry.estimate.models_read).toBe(5);
    expect(dry.estimate.probes_per_model).toBe(29);
    // the forward passes dominate; the fits (bounded by reading 5,000 x 3,584 fp32 features) are a small share
    expect(dry.estimate.probe_fit_seconds!).toBeGreaterThan(0);
    expect(dry.estimate.probe_fit_seconds!).toBeLessThan(dry.estimate.extraction_seconds! / 5);
    expect(Math.abs(dry.estimate.total_seconds - dry.estimate.extraction_seconds! - dry.estimate.probe_fit_seconds!)).toBeLessThanOrEqual(1); // each rounded
    // the job's peak holds the 4-bit 7B model, not only the probe's features (about 1.3 GB)
    expect(row("C.linear-probes").options[0]!.peak_bytes).toBeGreaterThan(5 * 2 ** 30);
  });

  it("A.forgetting-eval is one job that evaluates the base and each of A.qlora-basic's 4 checkpoints: the decision counts 5 models, as the dry run does", () => {
    const r = runCli(["run", "A.forgetting-eval", "--dry-run", "--json", "--gpu", GPU]);
    expect(r.code, r.err).toBe(0);
    const dry = JSON.parse(r.out) as DryRun & { models_read: number; seconds_per_model: number };
    // the same count as the probe's: 611 steps, a checkpoint every 200 -> 4, plus the base (not the plan's runs: 2)
    expect(dry.models_read).toBe(5);
    expect(Math.abs(dry.estimate.total_seconds - 5 * dry.seconds_per_model)).toBeLessThanOrEqual(3);
    const cell = row("A.forgetting-eval").options[0]!;
    expect(cell.seconds).toBe(dry.estimate.total_seconds);
    expect(row("A.forgetting-eval").runs).toBe(1);
    expect(cell.bottleneck).not.toBe("sequential sweep");
  });
});
