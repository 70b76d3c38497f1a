// Data parallelism on the CPU under torchrun (gloo): the same plan experiment in one process and in two, at the
// same global batch and seed, gives the same loss curve within 1e-4, the same gradient norms and eval losses.
// DDP (every process holds the model) and FSDP (torch's fully_shard: each process holds half of every
// parameter, gradient and optimizer state), for a LoRA and a full fine-tune; an FSDP checkpoint is the
// one-process checkpoint (safetensors, no pickle), and a run interrupted after it resumes on the same curve.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { workerReady, venvPython } from "../../src/runs/env.js";
import { runJob } from "../../src/runs/worker.js";
import { estimateMemory } from "../../src/memory/estimate.js";
import { resolveModel } from "../../src/spec/catalog.js";
import { resolveWorkload } from "../../src/workload/resolve.js";

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

/** A plan whose experiment runs on `gpus` processes: the global micro-batch is 8 sequences (batch is per
 *  process, as the planner counts it), two micro-batches per step, the same seed. */
const plan = (gpus: number, sharding: "ddp" | "fsdp", method: "lora" | "full") => {
  const file = path.join(tmp, `plan-${method}-${sharding}-${gpus}.yaml`);
  const lora = method === "lora" ? ", rank: 8, alpha: 16" : ", optimizer: adamw";
  const lr = method === "lora" ? 0.01 : 0.001;
  fs.writeFileSync(
    file,
    `fitlab_plan: 1\nname: dp\ntracks:\n  - id: D\n    name: d\n    experiments:\n      - id: ft\n        model: ${model}\n        workload: { kind: ${method}, seq: 32, batch: ${8 / gpus}, gradAccum: 2${lora}, nGpus: ${gpus}, sharding: ${sharding} }\n        data: { tokens: 1000 }\n        run: { dataset: { train: ${path.join(DEMO, "train.jsonl")} }, learning_rate: ${lr}, max_steps: 12, eval_every: 6, checkpoint_every: 12, seed: 3, device: cpu }\n`,
  );
  return file;
};

type Metric = { type: string; step: number; loss?: number; eval_loss?: number; grad_norm?: number; tokens?: number };
const metrics = (dir: string): Metric[] =>
  fs
    .readFileSync(path.join(dir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Metric);

async function runPlan(gpus: number, sharding: "ddp" | "fsdp", method: "lora" | "full") {
  const r = await fitlab(["run", "D.ft", "--plan", plan(gpus, sharding, method), "--runs", path.join(tmp, `runs-${method}-${sharding}-${gpus}`), "--json"]);
  expect(r.code, r.err).toBe(0);
  const run = JSON.parse(r.out).runs[0] as { dir: string; status: string };
  expect(run.status).toBe("done");
  return { dir: run.dir, seconds: r.seconds };
}

function expectSameCurve(a: Metric[], b: Metric[]): void {
  const ta = a.filter((m) => m.type === "train");
  const tb = b.filter((m) => m.type === "train");
  expect(tb.map((m) => m.step)).toEqual(ta.map((m) => m.step));
  expect(ta).toHaveLength(12);
  for (let i = 0; i < ta.length; i++) {
    expect(Math.abs(tb[i]!.loss! - ta[i]!.loss!), `loss at step ${i + 1}`).toBeLessThan(1e-4);
    expect(Math.abs(tb[i]!.grad_norm! - ta[i]!.grad_norm!), `grad norm at step ${i + 1}`).toBeLessThan(1e-4);
    expect(tb[i]!.tokens).toBe(ta[i]!.tokens); // tokens summed over both processes
  }
  // the loss fell: the curve is a real one, not a flat line two ways
  expect(ta.at(-1)!.loss!).toBeLessThan(ta[0]!.loss! * 0.8);
  const ea = a.filter((m) => m.type === "eval").map((m) => m.eval_loss!);
  const eb = b.filter((m) => m.type === "eval").map((m) => m.eval_loss!);
  expect(eb.length).toBe(ea.length);
  ea.forEach((v, i) => expect(Math.abs(eb[i]! - v)).toBeLessThan(1e-4));
}

/** Largest absolute difference between two checkpoints' safetensors files (same names, same tensors). */
function maxDiff(a: string, b: string, file: string): number {
  const py = `import sys\nfrom safetensors.torch import load_file\na, b = load_file(sys.argv[1]), load_file(sys.argv[2])\nassert sorted(a) == sorted(b), (sorted(a)[:3], sorted(b)[:3])\nprint(max(float((a[k].double() - b[k].double()).abs().max()) for k in a if k != "rng.torch"))`;
  const out = spawnSync(venvPython(), ["-c", py, path.join(a, file), path.join(b, file)], { encoding: "utf8" });
  expect(out.status, out.stderr).toBe(0);
  return Number(out.stdout.trim());
}

const filesOf = (dir: string) => fs.readdirSync(dir).sort();

describe.runIf(ready)("data parallel under torchrun on the CPU (gloo)", () => {
  let one: { dir: string; seconds: number };
  beforeAll(async () => {
    await runJob("make_tiny", { out_dir: model, arch: "qwen2", words: JSON.parse(fs.readFileSync(path.join(DEMO, "words.json"), "utf8")) });
    one = await runPlan(1, "ddp", "lora");
  }, 300_000);

  it("DDP: two processes give the one-process loss curve within 1e-4", async () => {
    const two = await runPlan(2, "ddp", "lora");
    console.log(`wall time (LoRA, 12 steps): 1 process ${one.seconds.toFixed(1)} s, 2 processes DDP ${two.seconds.toFixed(1)} s`);
    expectSameCurve(metrics(one.dir), metrics(two.dir));
    // rank 0 owns the run folder; rank 1 kept its copy apart
    expect(fs.existsSync(path.join(two.dir, ".rank1", "metrics.jsonl"))).toBe(true);
  }, 600_000);

  it("FSDP, LoRA: the one-process curve within 1e-4, and the same adapter checkpoint (safetensors, gathered on rank 0)", async () => {
    const two = await runPlan(2, "fsdp", "lora");
    console.log(`wall time (LoRA, 12 steps): 2 processes FSDP ${two.seconds.toFixed(1)} s`);
    expectSameCurve(metrics(one.dir), metrics(two.dir));
    const [c1, c2] = [path.join(one.dir, "checkpoint-12"), path.join(two.dir, "checkpoint-12")];
    expect(filesOf(c2)).toEqual(filesOf(c1));
    expect(filesOf(c2).some((f) => /\.(bin|pt|pth|pkl|ckpt)$/.test(f))).toBe(false);
    expect(maxDiff(c1, c2, "adapter_model.safetensors")).toBeLessThan(1e-4);
    expect(maxDiff(c1, c2, "optimizer.safetensors")).toBeLessThan(1e-4);
    const result = JSON.parse(fs.readFileSync(path.join(two.dir, "result.json"), "utf8"));
    expect(result.runtime).toMatchObject({ processes: 2, sharding: "fsdp", global_micro_batch: 8 });
    // FSDP keeps one checkpoint of all the shards: rank 1 writes none of its own
    expect(fs.readdirSync(path.join(two.dir, ".rank1")).filter((f) => f.startsWith("checkpoint"))).toEqual([]);
  }, 600_000);

  it("FSDP, full fine-tune: the one-process curve and weights within 1e-4; interrupted after a checkpoint, it resumes on the same curve", async () => {
    const single = await runPlan(1, "ddp", "full");
    const two = await runPlan(2, "fsdp", "full");
    console.log(`wall time (full, 12 steps): 1 process ${single.seconds.toFixed(1)} s, 2 processes FSDP ${two.seconds.toFixed(1)} s`);
    expectSameCurve(metrics(single.dir), metrics(two.dir));
    expect(maxDiff(path.join(single.dir, "checkpoint-12"), path.join(two.dir, "checkpoint-12"), "model.safetensors")).toBeLessThan(1e-4);
    // what each process holds is what the planner divides by N: fp32 parameters, gradients and AdamW's two
    // moments, half each (FSDP pads a shard by at most one row)
    const held = JSON.parse(fs.readFileSync(path.join(two.dir, "result.json"), "utf8")).sharded_state_bytes as { params: number; grads: number; optimizer: number };
    const planned = estimateMemory(resolveModel(model), resolveWorkload({ kind: "full", seq: 32, batch: 4, gradAccum: 2, optimizer: "adamw", nGpus: 2, sharding: "fsdp", engine: "fitlab-worker" })).components;
    expect(held.params / planned.weights).toBeCloseTo(1, 1);
    expect(held.grads / planned.gradients).toBeCloseTo(1, 1);
    expect(held.optimizer / planned.optimizer_state).toBeCloseTo(1, 1);
    console.log(`FSDP per process: params ${held.params} B (planner ${planned.weights}), grads ${held.grads} (${planned.gradients}), optimizer ${held.optimizer} (${planned.optimizer_state})`);
    // the same run, stopped after its step-6 checkpoint and resumed: FSDP gathers and scatters the states
    const config = { ...JSON.parse(fs.readFileSync(path.join(two.dir, "config.json"), "utf8")), checkpoint_every: 6, output_dir: path.join(tmp, "fsdp-resumed") };
    const stopped = await runJob("train", { ...config, stop_after_steps: 6 }, { processes: 2 });
    expect(stopped.stopped_at).toBe(6);
    expect(filesOf(path.join(config.output_dir, "checkpoint-6"))).toEqual(expect.arrayContaining(["model.safetensors", "optimizer.safetensors", "trainer_state.json"]));
    const logs: string[] = [];
    await runJob("train", { ...config, resume: true }, { processes: 2, onEvent: (e) => void (e.type === "log" && logs.push(e.message)) });
    expect(logs).toContain("resumed from checkpoint-6");
    expectSameCurve(metrics(two.dir), metrics(config.output_dir));
  }, 900_000);
});
