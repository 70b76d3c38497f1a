// The built-in plan runs: every core GPU experiment of Track A has a run section with public hub models and
// datasets, and `fitlab run EXP --dry-run --json` resolves it without a worker, a network or a download.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkPlan, DEFAULT_PLAN_PATH, loadPlan } from "../../src/plan/load.js";
import { expectOneLineError, runCli } from "../helpers.js";

// no worker environment and no network: a dry run needs neither
const ISOLATED = { FITLAB_HOME: path.join(os.tmpdir(), "fitlab-no-home"), HF_HUB_OFFLINE: "1" };
const dry = (...args: string[]) => runCli(["run", ...args, "--dry-run", "--json"], ISOLATED);

describe("run sections of the built-in plan", () => {
  const plan = loadPlan(DEFAULT_PLAN_PATH);
  it("every core Track A GPU experiment has one; training ones name a hub dataset sampled to data.tokens", () => {
    const core = plan.experiments.filter((e) => e.track === "A" && !e.cpuOnly);
    expect(core.map((e) => e.key)).toEqual(["A.qlora-basic", "A.lr-sweep", "A.rank-sweep", "A.forgetting-eval"]);
    for (const e of core) expect(e.run, e.key).not.toBeNull();
    for (const e of core.filter((x) => x.runs[0]!.workload.kind === "qlora")) {
      expect(e.run!.dataset).toMatchObject({ hub: "yahma/alpaca-cleaned", split: "train", select: "sample", tokens: e.data.tokens });
    }
    const forgetting = plan.experiments.find((e) => e.key === "A.forgetting-eval")!.run!;
    expect(forgetting.adapterFrom).toBe("A.qlora-basic");
    expect(forgetting.general_text).toMatchObject({ hub: "Salesforce/wikitext", config: "wikitext-2-raw-v1", split: "test" });
    expect(forgetting.multiple_choice).toMatchObject({ hub: "allenai/ai2_arc", config: "ARC-Easy", split: "test" });
  });

  it("A.qlora-basic --dry-run --json: model, dataset, settings and an estimate that fits the 16 GB card", () => {
    const r = dry("A.qlora-basic");
    expect(r.code).toBe(0);
    const d = JSON.parse(r.out);
    expect(Object.keys(d)).toEqual(expect.arrayContaining(["model", "dataset", "settings", "estimate"]));
    expect(d.model).toEqual({ id: "Qwen/Qwen2.5-7B", revision: "main" });
    expect(d.dataset.hub).toBe("yahma/alpaca-cleaned");
    expect(d.settings).toMatchObject({ method: "qlora", rank: 16, batch: 2, gradAccum: 8, maxSeqLen: 1024, epochs: 2, optimizer: "paged-adamw8bit" });
    expect(d.estimate.gpu).toMatchObject({ name: "GeForce RTX 5060 Ti 16GB", source: "plan" });
    expect(d.estimate.fits).toBe(true);
    expect(d.estimate.peak.device_bytes).toBeGreaterThan(8 * 2 ** 30);
    expect(d.estimate.peak.device_bytes).toBeLessThan(d.estimate.gpu.usable_bytes);
    // 5M tokens x 2 epochs at the predicted speed
    expect(d.estimate.total_seconds).toBeCloseTo((5e6 * 2) / d.estimate.tokens_per_s, -2);
  });

  it("a sweep lists each run's settings; an evaluation names what it evaluates", () => {
    const s = JSON.parse(dry("A.lr-sweep").out);
    expect(s.runs.map((r: { settings: { learningRate: number } }) => r.settings.learningRate)).toEqual([0.00001, 0.00003, 0.0001, 0.0003]);
    const e = JSON.parse(dry("A.forgetting-eval").out);
    expect(e.kind).toBe("evaluate");
    expect(e.adapter_from).toBe("A.qlora-basic");
    expect(e.estimate.fits).toBe(true);
  });

  it("a card too small: fits false with the fit search's answer", () => {
    const d = JSON.parse(dry("S.full-ft-7b").out);
    expect(d.estimate.fits).toBe(false);
    expect("cheapest_change" in d.estimate).toBe(true);
    const text = runCli(["run", "S.full-ft-7b", "--dry-run"], ISOLATED).out;
    expect(text).toMatch(/does NOT fit; (cheapest change: .+|no change in the fit search fits: `fitlab burst S.full-ft-7b`)/);
  });

  it("an experiment without a run section, or a CPU one: one line, exit 2", () => {
    expectOneLineError(dry("S.full-precision"), /experiment S.full-precision has no run section/);
    expectOneLineError(dry("A.loss-curves"), /CPU-side analysis/);
  });
});

describe("run sections in a user's plan", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-runplan-"));
  // the local dataset the plans name exists (a missing one is the plan's problem, tested below)
  fs.mkdirSync(path.join(dir, "data"));
  fs.writeFileSync(path.join(dir, "data/train.jsonl"), '{"text":"hello"}\n');
  const write = (name: string, run: string, extra = "") => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, `fitlab_plan: 1\nname: t\ntracks:\n  - id: T\n    name: t\n    experiments:\n      - id: ft\n        model: Qwen/Qwen2.5-0.5B\n        workload: { kind: lora, seq: 256, batch: 2, rank: 8 }\n        data: { tokens: 100000 }\n        run: ${run}\n${extra}`);
    return f;
  };
  it("a dataset given as a hub id string becomes a hub dataset sampled to data.tokens; a path string stays a file beside the plan", () => {
    const hub = checkPlan(write("hub.yaml", "{ dataset: tatsu-lab/alpaca }")).plan!.experiments[0]!.run!;
    expect(hub.dataset).toEqual({ hub: "tatsu-lab/alpaca", evalFraction: 0.1, tokens: 100000 });
    fs.mkdirSync(path.join(dir, "data"), { recursive: true });
    fs.writeFileSync(path.join(dir, "data/train.jsonl"), '{"text": "a b c"}\n');
    const local = checkPlan(write("local.yaml", "{ dataset: data/train.jsonl }")).plan!.experiments[0]!.run!;
    expect(local.dataset).toEqual({ train: path.join(dir, "data/train.jsonl"), eval: null, evalFraction: 0.1 });
    const first = checkPlan(write("first.yaml", "{ dataset: { hub: tatsu-lab/alpaca, select: first, examples: 500, fields: { prompt: instruction, completion: output } } }")).plan!.experiments[0]!.run!;
    expect(first.dataset).toEqual({ hub: "tatsu-lab/alpaca", evalFraction: 0.1, select: "first", examples: 500, fields: { prompt: "instruction", completion: "output" } });
  });
  it("problems: a training run without a dataset, an adapter_from naming no experiment, a bad hub id; each with its line", () => {
    const noData = checkPlan(write("nodata.yaml", "{ learning_rate: 0.001 }"));
    expect(noData.problems.map((p) => p.message)).toEqual([expect.stringMatching(/needs a dataset/)]);
    const badFrom = checkPlan(write("from.yaml", "{ dataset: a/b, adapter_from: T.nope }"));
    // adapter_from belongs to evaluation experiments: on a training one that is the one problem
    expect(badFrom.problems).toEqual([expect.objectContaining({ line: 11, message: expect.stringMatching(/adapter_from applies to evaluation experiments/) })]);
    const badId = checkPlan(write("id.yaml", "{ dataset: { hub: 'not an id!' } }"));
    expect(badId.problems[0]!.message).toMatch(/a Hugging Face dataset id/);
    const missing = checkPlan(write("missing.yaml", "{ dataset: data/nope.jsonl }"));
    expect(missing.problems).toEqual([expect.objectContaining({ line: 11, message: expect.stringMatching(/dataset .*nope\.jsonl does not exist/) })]);
  });
});
