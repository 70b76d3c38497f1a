// Data parallelism on the CPU: the same plan experiment in one process and in two (torchrun, gloo) at the same
// global batch and seed gives the same loss curve within 1e-4, and the same eval losses.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { workerReady } from "../../src/runs/env.js";
import { runJob } from "../../src/runs/worker.js";

const BIN = fileURLToPath(new URL("../../bin/fitlab.js", import.meta.url));
const DEMO = fileURLToPath(new URL("../../data/demo/", import.meta.url));
const ready = workerReady();
if (!ready && process.env.CI) throw new Error("CI must run `npx fitlab engine setup` before the tests (see .ci/run)");

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-ddp-"));
const model = path.join(tmp, "tiny-qwen2");

function fitlab(args: string[]): Promise<{ code: number | null; out: string; err: string; seconds: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, FITLAB_NO_NVIDIA_SMI: "1" } });
    let out = "";
    let err = "";
    c.stdout.on("data", (d: Buffer) => (out += d.toString()));
    c.stderr.on("data", (d: Buffer) => (err += d.toString()));
    c.on("close", (code) => resolve({ code, out, err, seconds: (Date.now() - t0) / 1000 }));
  });
}

const plan = (gpus: number) => {
  const file = path.join(tmp, `plan-${gpus}.yaml`);
  // global micro-batch 8 (4 per process with two), two micro-batches per step, same seed
  fs.writeFileSync(
    file,
    `fitlab_plan: 1\nname: ddp\ntracks:\n  - id: D\n    name: d\n    experiments:\n      - id: ft\n        model: ${model}\n        workload: { kind: lora, seq: 32, batch: 8, gradAccum: 2, rank: 8, alpha: 16, nGpus: ${gpus}, sharding: ddp }\n        data: { tokens: 1000 }\n        run: { dataset: { train: ${path.join(DEMO, "train.jsonl")} }, learning_rate: 0.01, max_steps: 12, eval_every: 6, checkpoint_every: 12, seed: 3, device: cpu }\n`,
  );
  return file;
};

const metrics = (dir: string) =>
  fs
    .readFileSync(path.join(dir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { type: string; step: number; loss?: number; eval_loss?: number; grad_norm?: number; tokens?: number });

describe.runIf(ready)("data parallel under torchrun on the CPU (gloo)", () => {
  beforeAll(async () => {
    await runJob("make_tiny", { out_dir: model, arch: "qwen2", words: JSON.parse(fs.readFileSync(path.join(DEMO, "words.json"), "utf8")) });
  }, 120_000);

  it("two processes give the one-process loss curve within 1e-4", async () => {
    const one = await fitlab(["run", "D.ft", "--plan", plan(1), "--runs", path.join(tmp, "runs-1"), "--json"]);
    const two = await fitlab(["run", "D.ft", "--plan", plan(2), "--runs", path.join(tmp, "runs-2"), "--json"]);
    console.log(`wall time: 1 process ${one.seconds.toFixed(1)} s, 2 processes ${two.seconds.toFixed(1)} s`);
    expect(one.code, one.err).toBe(0);
    expect(two.code, two.err).toBe(0);
    const [r1, r2] = [JSON.parse(one.out).runs[0], JSON.parse(two.out).runs[0]];
    expect(r2.status).toBe("done");
    const m1 = metrics(r1.dir);
    const m2 = metrics(r2.dir);
    const train1 = m1.filter((m) => m.type === "train");
    const train2 = m2.filter((m) => m.type === "train");
    expect(train2.map((m) => m.step)).toEqual(train1.map((m) => m.step));
    expect(train1).toHaveLength(12);
    for (let i = 0; i < train1.length; i++) {
      expect(Math.abs(train2[i]!.loss! - train1[i]!.loss!), `step ${i + 1}`).toBeLessThan(1e-4);
      expect(Math.abs(train2[i]!.grad_norm! - train1[i]!.grad_norm!), `grad norm at step ${i + 1}`).toBeLessThan(1e-4);
      expect(train2[i]!.tokens).toBe(train1[i]!.tokens); // tokens summed over both processes
    }
    // the loss fell: the curve is a real one, not a flat line two ways
    expect(train1.at(-1)!.loss!).toBeLessThan(train1[0]!.loss! * 0.8);
    const e1 = m1.filter((m) => m.type === "eval").map((m) => m.eval_loss!);
    const e2 = m2.filter((m) => m.type === "eval").map((m) => m.eval_loss!);
    expect(e2.length).toBe(e1.length);
    e1.forEach((v, i) => expect(Math.abs(e2[i]! - v)).toBeLessThan(1e-4));
    // rank 0 owns the run folder; rank 1 kept its copy apart
    expect(fs.existsSync(path.join(r2.dir, ".rank1", "metrics.jsonl"))).toBe(true);
  }, 600_000);
});
