// A probe experiment's `runs` counts the probes its one job fits per model read (one per hidden state,
// engine/fitlab_worker/jobs/probe.py), so it must match the model: a wrong count is a plan problem at its line.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkPlan, DEFAULT_PLAN_PATH } from "../../src/plan/load.js";

function planWith(runsLine: string): string {
  const text = fs.readFileSync(DEFAULT_PLAN_PATH, "utf8");
  expect(text).toContain("        runs: 29\n");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-probe-runs-"));
  const file = path.join(dir, "plan.yaml");
  fs.writeFileSync(file, text.replace("        runs: 29\n", runsLine));
  return file;
}

describe("runs of a probe experiment", () => {
  it("the built-in plan's 29 are Qwen2.5-7B's hidden states (embeddings + 28 layers)", () => {
    const { plan, problems } = checkPlan(DEFAULT_PLAN_PATH);
    expect(problems).toEqual([]);
    const ex = plan!.experiments.find((e) => e.key === "C.linear-probes")!;
    expect(ex.runs).toHaveLength(ex.model!.numLayers + 1);
  });

  it("another count is reported at its line, naming the model's", () => {
    const file = planWith("        runs: 28\n");
    const line = fs.readFileSync(file, "utf8").split("\n").findIndex((l) => l === "        runs: 28") + 1;
    const { plan, problems } = checkPlan(file);
    expect(plan).toBeNull();
    expect(problems).toEqual([expect.objectContaining({ line, message: expect.stringMatching(/runs \(28\) of probe experiment C\.linear-probes .* has 29 \(embeddings \+ 28 layers\)/) })]);
  });

  it("without runs the plan is valid", () => {
    expect(checkPlan(planWith("")).problems).toEqual([]);
  });
});
