// `fitlab inspect` input checks that fail before anything runs: one line, exit 2, nothing in the store. And plan
// run sections for inspections: prompts, adapter and probe data resolve beside the plan; no dataset is needed.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadPlan } from "../../src/plan/load.js";
import { settingsFromPlan } from "../../src/cli/inspect.js";
import { expectOneLineError, inputError } from "../helpers.js";
import { fitlab, ready, storeFolders, storeRows, tmpDir } from "./worker-helpers.js";

const tmp = tmpDir("inspect-cli");
const model = path.join(tmp, "model");
fs.mkdirSync(model);
// a real architecture (a built-in config) and an empty but well-formed safetensors file (header "{}"): the
// flag checks below are what fails, not the model
fs.copyFileSync(new URL("../../data/models/Qwen__Qwen2.5-0.5B.json", import.meta.url), path.join(model, "config.json"));
const header = Buffer.from("{}");
const len = Buffer.alloc(8);
len.writeBigUInt64LE(BigInt(header.length));
fs.writeFileSync(path.join(model, "model.safetensors"), Buffer.concat([len, header]));
const prompts = path.join(tmp, "p.txt");
fs.writeFileSync(prompts, "aa ab ac\n");

describe.runIf(ready)("inspect: bad input before the worker starts", () => {
  const runs = path.join(tmp, "runs");
  const cases: [string, string[], RegExp][] = [
    ["no prompt file", ["inspect", "attention", "--model", model], /needs --prompts FILE/],
    ["a missing prompt file", ["inspect", "hidden", "--model", model, "--prompts", path.join(tmp, "nope.txt")], /prompt file .*nope\.txt does not exist/],
    ["a bad head list", ["inspect", "attention", "--model", model, "--prompts", prompts, "--heads", "3x"], /--heads takes LAYER\.HEAD items/],
    ["compare without an adapter", ["inspect", "compare", "--model", model, "--prompts", prompts], /needs --adapter/],
    ["an adapter that is neither a folder nor a run", ["inspect", "compare", "--model", model, "--prompts", prompts, "--adapter", "r-missing"], /no run "r-missing"/],
    ["--run outside probe", ["inspect", "attention", "--model", model, "--prompts", prompts, "--run", "x"], /unknown option '--run'/],
    ["probe without data", ["inspect", "probe", "--model", model], /needs --data FILE/],
    ["a model folder without weights", ["inspect", "attention", "--model", tmp, "--prompts", prompts], /has no config\.json/],
    ["a bad --positions", ["inspect", "hidden", "--model", model, "--prompts", prompts, "--positions", "some"], /--positions must be last, mean, all/],
  ];
  for (const [name, args, msg] of cases) {
    it(name, () => {
      expectOneLineError(fitlab(args, runs), msg);
    });
  }
  it("left nothing in the store", () => {
    expect(storeRows(runs)).toEqual([]);
    expect(storeFolders(runs)).toEqual([]);
  });
});

describe("plan run sections for inspections", () => {
  it("resolve prompts, probe data and adapter folders beside the plan; a run id stays an id", () => {
    const dir = tmpDir("inspect-plan");
    fs.mkdirSync(path.join(dir, "adapter"));
    fs.writeFileSync(path.join(dir, "prompts.txt"), "aa ab ac\n");
    fs.writeFileSync(path.join(dir, "labels.jsonl"), '{"text":"aa","label":0}\n{"text":"ab","label":1}\n');
    const plan = path.join(dir, "plan.yaml");
    fs.writeFileSync(
      plan,
      `fitlab_plan: 1
name: t
tracks:
  - id: B
    name: Attention
    experiments:
      - id: cmp
        model: Qwen/Qwen2.5-7B
        workload: { kind: attention_extract, quant: bnb-nf4-dq, seq: 2048 }
        data: { prompts: 10 }
        run: { prompts: prompts.txt, adapter: adapter, inspect: compare }
      - id: probes
        model: Qwen/Qwen2.5-7B
        workload: { kind: probe, probeSamples: 100 }
        run: { probe_data: labels.jsonl, probe_run: A.qlora }
`,
    );
    const p = loadPlan(plan);
    const cmp = settingsFromPlan(p.experiments[0]!);
    expect(cmp).toMatchObject({ kind: "compare", prompts: path.join(dir, "prompts.txt"), adapter: path.join(dir, "adapter"), quant: "nf4", maxTokens: 2048, experiment: "B.cmp" });
    const probes = settingsFromPlan(p.experiments[1]!);
    expect(probes).toMatchObject({ kind: "probe", data: path.join(dir, "labels.jsonl"), run: "A.qlora", quant: "none" });
    // a training experiment whose run section names prompts but no dataset is the plan's problem, with its line
    fs.appendFileSync(plan, "      - id: train-without-data\n        model: Qwen/Qwen2.5-7B\n        workload: { kind: qlora, seq: 512 }\n        data: { tokens: 1000 }\n        run: { prompts: prompts.txt }\n");
    const msg = inputError(() => loadPlan(plan)).message;
    // two problems: prompts do not apply to training, and the dataset is missing; the first is shown with its line
    expect(msg).toMatch(/has 2 problems; line 2\d: .*run\.prompts: prompts applies to inspections/);
  });
});
