import { describe, expect, it } from "vitest";
import { forgettingFindings } from "../../src/analyze/forgetting.js";
import { analyzeLoss, ema } from "../../src/analyze/loss-curve.js";
import { compareSweep } from "../../src/analyze/sweep.js";
import { parseEvent } from "../../src/runs/protocol.js";
import type { RunRecord } from "../../src/runs/store.js";
import type { MetricLine } from "../../src/runs/train.js";

const curve = (f: (i: number) => number, n = 100): MetricLine[] => Array.from({ length: n }, (_, i) => ({ type: "train", step: i + 1, loss: f(i) }));
const kinds = (m: MetricLine[]) => analyzeLoss(m).findings.map((f) => f.kind);

describe("loss-curve analysis", () => {
  it("EMA with bias correction starts at the first value", () => {
    expect(ema([4, 4, 4])).toEqual([4, 4, 4]);
    expect(ema([0, 10], 0.5)[1]).toBeCloseTo(10 * 0.5 / 0.75);
  });
  it("reads a healthy decreasing curve as a trend with no alarms", () => {
    const k = kinds(curve((i) => 3 * Math.exp(-i / 20) + 0.5));
    expect(k).toContain("trend");
    expect(k).not.toContain("spike");
    expect(k).not.toContain("divergence");
  });
  it("finds a spike", () => {
    const f = analyzeLoss(curve((i) => (i === 60 ? 5 : 2 - i * 0.005 + 0.01 * Math.sin(i))));
    const spike = f.findings.find((x) => x.kind === "spike");
    expect(spike?.step).toBe(61);
  });
  it("finds divergence after a minimum", () => {
    const f = analyzeLoss(curve((i) => (i < 40 ? 3 - i * 0.05 : 1 + (i - 40) * 0.06)));
    expect(f.findings.find((x) => x.kind === "divergence")?.message).toMatch(/diverging/);
  });
  it("finds a plateau", () => {
    expect(kinds(curve((i) => (i < 30 ? 3 - i * 0.05 : 1.5)))).toContain("plateau");
  });
  it("a plateau where the loss rose a little is not called an improvement", () => {
    // falls, flattens, then creeps up (+0.02% a step) over the last fifth: a stall (too small to be a rise, let alone divergence)
    const f = analyzeLoss(curve((i) => (i < 30 ? 3 - i * 0.05 : i < 40 ? 1.5 : 1.5 + (i - 40) * 0.0002)));
    const p = f.findings.find((x) => x.kind === "plateau");
    expect(p?.message).toMatch(/the loss stopped improving \(1\.508 -> 1\.510, 0\.1% higher\)/);
    expect(p?.message).not.toMatch(/improves by/);
  });
  it("a loss rising again, short of divergence, is said so", () => {
    const f = analyzeLoss(curve((i) => (i < 70 ? 3 - i * 0.02 : 1.6 + (i - 70) * 0.01)));
    expect(f.findings.map((x) => x.kind)).toContain("rising");
    expect(f.findings.map((x) => x.kind)).not.toContain("plateau");
  });
  it("reports a non-finite loss", () => {
    expect(kinds(curve((i) => (i === 10 ? Number.NaN : 2)))).toContain("nan");
  });
  it("reads the train-eval gap", () => {
    const m: MetricLine[] = [...curve(() => 1, 20), { type: "eval", step: 20, eval_loss: 1.5 }];
    expect(analyzeLoss(m).findings.find((x) => x.kind === "gap")?.message).toMatch(/50% above the training loss/);
  });
});

const rec = (value: string, best: number): RunRecord => ({ id: `r${value}`, name: `x lr=${value}`, sweep_value: value, status: "done", best_eval_loss: best, final_eval_loss: best } as unknown as RunRecord);

describe("sweep verdicts", () => {
  it("names the best learning rate and warns when it sits at the edge", () => {
    const c = compareSweep([rec("0.0001", 2), rec("0.001", 1.5), rec("0.01", 1.0)], "learning_rate");
    expect(c.verdict[0]).toBe("best learning rate: 0.01 (best eval loss 1.000)");
    expect(c.verdict[1]).toMatch(/edge of the sweep: try larger/);
  });
  it("finds the rank where returns diminish", () => {
    const c = compareSweep([rec("4", 2.0), rec("8", 1.2), rec("16", 1.15), rec("64", 1.14)], "rank");
    expect(c.verdict[0]).toMatch(/returns diminish at rank 8/);
  });
});

describe("forgetting findings", () => {
  it("reports perplexity growth on general text and the MC change", () => {
    const f = forgettingFindings([
      { step: 0, checkpoint: null, perplexity: 10, mc_accuracy: 0.5 },
      { step: 100, checkpoint: "c", perplexity: 20, mc_accuracy: 0.75 },
    ]);
    expect(f[0]).toMatch(/10.00 \(base\) -> 20.00 at step 100 \(\+100%\): the fine-tune is forgetting general text/);
    expect(f[1]).toMatch(/50% -> 75% \(\+25 points\)/);
  });
});

describe("protocol", () => {
  it("accepts a metric event and rejects other versions and garbage with a clear message", () => {
    expect(parseEvent('{"v":1,"type":"eval","step":3,"eval_loss":1.5}')).toMatchObject({ type: "eval", step: 3 });
    expect(parseEvent('{"v":2,"type":"eval","step":3,"eval_loss":1.5}')).toMatchObject({ type: "error", kind: "protocol", message: expect.stringMatching(/protocol 2, fitlab speaks 1/) });
    expect(parseEvent("Traceback (most recent call last):")).toMatchObject({ type: "error", kind: "protocol" });
  });
});
