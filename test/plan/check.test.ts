import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkPlan, DEFAULT_PLAN_PATH, loadPlan } from "../../src/plan/load.js";

const BROKEN = fileURLToPath(new URL("../fixtures/plans/broken.yaml", import.meta.url));

describe("lab plans", () => {
  it("the built-in plan has the learner's three tracks and the stretch work", () => {
    const p = loadPlan(DEFAULT_PLAN_PATH);
    const keys = p.experiments.map((e) => e.key);
    for (const k of ["A.qlora-basic", "A.loss-curves", "A.lr-sweep", "A.rank-sweep", "A.forgetting-eval", "B.attention-extract", "B.attention-viz", "B.attention-compare", "C.activation-extract", "C.activation-stats", "C.linear-probes", "S.full-ft-7b", "S.qlora-13b", "S.qlora-70b", "S.full-precision", "S.batch-size", "S.long-context", "S.multi-gpu"]) expect(keys).toContain(k);
    expect(p.experiments.find((e) => e.key === "A.lr-sweep")!.runs).toHaveLength(4);
    expect(p.experiments.find((e) => e.key === "A.rank-sweep")!.runs.map((r) => r.workload.lora!.rank)).toEqual([4, 8, 16, 64]);
  });
  it("reports every problem of a broken plan at once, each with its line", () => {
    const { plan, problems } = checkPlan(BROKEN);
    expect(plan).toBeNull();
    const byLine = problems.map((p) => [p.line, p.message]);
    expect(byLine).toEqual(
      expect.arrayContaining([
        [12, expect.stringMatching(/unknown model "acme\/Nope-7B"/)],
        [17, expect.stringMatching(/seq = -5/)],
        [19, expect.stringMatching(/needs data.tokens/)],
        [26, expect.stringMatching(/sweep param "colour"/)],
      ]),
    );
    expect(problems).toHaveLength(4);
  });
  it("reports schema errors with the line of the offending key", () => {
    const { problems } = checkPlan(fileURLToPath(new URL("../fixtures/plans/schema-error.yaml", import.meta.url)));
    expect(problems.map((p) => p.line)).toEqual([3, 7]);
  });
});
