// A plan's evaluation experiment (`run.adapter_from`): `fitlab run` evaluates the base model and every
// checkpoint of the newest finished run of the training experiment it names, as A.forgetting-eval does.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { workerReady } from "../../src/runs/env.js";
import { runJob } from "../../src/runs/worker.js";
import { expectOneLineError } from "../helpers.js";

const BIN = fileURLToPath(new URL("../../bin/fitlab.js", import.meta.url));
const DEMO = fileURLToPath(new URL("../../data/demo/", import.meta.url));
const ready = workerReady();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-evalrun-"));
const model = path.join(tmp, "tiny-qwen2");
const runs = path.join(tmp, "runs");
const fitlab = (...args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args, "--runs", runs], { encoding: "utf8", env: { ...process.env, FITLAB_NO_NVIDIA_SMI: "1" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe.runIf(ready)("an evaluation experiment of a plan", () => {
  const plan = path.join(tmp, "plan.yaml");
  beforeAll(async () => {
    await runJob("make_tiny", { out_dir: model, arch: "qwen2", words: JSON.parse(fs.readFileSync(path.join(DEMO, "words.json"), "utf8")) });
    fs.writeFileSync(
      plan,
      `fitlab_plan: 1
name: t
tracks:
  - id: A
    name: a
    experiments:
      - id: ft
        model: ${model}
        workload: { kind: lora, seq: 32, batch: 8, rank: 8, alpha: 16 }
        data: { tokens: 1000 }
        run: { dataset: ${path.join(DEMO, "train.jsonl")}, learning_rate: 0.01, max_steps: 20, eval_every: 10, checkpoint_every: 10, device: cpu }
      - id: forgetting
        model: ${model}
        workload: { kind: inference_prefill, seq: 32, batch: 4 }
        data: { prompts: 10 }
        run: { adapter_from: A.ft, general_text: ${path.join(DEMO, "general.txt")}, multiple_choice: ${path.join(DEMO, "mc.jsonl")}, device: cpu }
`,
    );
  }, 120_000);

  it("before the training run exists: one line naming what to run first", () => {
    expectOneLineError(fitlab("run", "A.forgetting", "--plan", plan), /evaluates the newest finished run of A.ft, and there is none .*: run `fitlab run A.ft` first/);
  });

  it("after it: perplexity and accuracy for the base model and each checkpoint", () => {
    expect(fitlab("run", "A.ft", "--plan", plan, "--json").code).toBe(0);
    const r = fitlab("run", "A.forgetting", "--plan", plan, "--json");
    expect(r.code, r.err).toBe(0);
    const out = JSON.parse(r.out);
    expect(out.points.map((p: { step: number }) => p.step)).toEqual([0, 10, 20]);
    for (const p of out.points) {
      expect(p.perplexity).toBeGreaterThan(1);
      expect(p.mc_accuracy).toBeGreaterThanOrEqual(0);
    }
    expect(out.findings.join(" ")).toMatch(/perplexity/);
  }, 300_000);
});
