// Out of memory, before and during a run: the planner's refusal with the fit search's cheapest change, and a CUDA
// out-of-memory injected at a chosen step (torch.cuda.OutOfMemoryError, test-only key) recorded as `oom` with the
// measured peak, the prediction and the cheapest change, in one line.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { loadGpuCatalog } from "../../src/hardware/catalog.js";
import { estimate } from "../../src/planner.js";
import { workerReady } from "../../src/runs/env.js";
import { oomAdvice, preflight } from "../../src/runs/preflight.js";
import { RunStore } from "../../src/runs/store.js";
import { createRun, executeRun, readMetrics, TRAIN_DEFAULTS } from "../../src/runs/train.js";
import { runJob } from "../../src/runs/worker.js";
import { resolveModel } from "../../src/spec/catalog.js";
import { resolveWorkload } from "../../src/workload/resolve.js";
import { expectOneLineError, runCli } from "../helpers.js";

const DEMO = fileURLToPath(new URL("../../data/demo/", import.meta.url));
const ready = workerReady();
const gpu = loadGpuCatalog().find("GeForce RTX 5060 Ti 16GB");
const qwen7 = resolveModel("Qwen/Qwen2.5-7B");
const gib = (b: number) => b / 2 ** 30;

describe("before a run: the planner's check", () => {
  it("full fine-tuning of a 7B on the 16 GB card is refused with the cheapest change, which does fit", () => {
    const w = resolveWorkload({ kind: "full", seq: 1024, batch: 2, gradAccum: 8, optimizer: "adamw", engine: "fitlab-worker" });
    const p = preflight(qwen7, w, gpu);
    expect(p.fits).toBe(false);
    expect(p.refusal).toMatch(/^predicted not to fit GeForce RTX 5060 Ti 16GB: needs at least \d+\.\d GiB of 15\.5 GiB usable; (cheapest change that fits: .+ \(\d+\.\d GiB\)|no change in the fit search makes it fit: .+); --force tries anyway$/);
    if (p.fit!.cheapest) expect(p.fit!.cheapest.estimate.fits).toBe(true);
  });
  it("the seed's QLoRA fits and is not refused", () => {
    const w = resolveWorkload({ kind: "qlora", quant: "bnb-nf4-dq", seq: 1024, batch: 2, gradAccum: 8, rank: 16, targets: "all-linear", optimizer: "paged-adamw8bit", engine: "fitlab-worker" });
    expect(preflight(qwen7, w, gpu)).toMatchObject({ fits: true, refusal: null });
  });
});

describe("after an out-of-memory: the cheapest change with the margin the run showed", () => {
  // the seed's QLoRA, which the planner says fits the card
  const w = resolveWorkload({ kind: "qlora", quant: "bnb-nf4-dq", seq: 1024, batch: 2, gradAccum: 8, rank: 16, targets: "all-linear", engine: "fitlab-worker" });
  const predicted = estimate(qwen7, w, gpu).peak.allocated_bytes;
  it("a run that needed much more than predicted: the change fits the card with that ratio of its predicted peak", () => {
    // an OOM on the card already implies at least usable / predicted; a measured need beyond that sets the margin
    const implied = gpu.usableBytes / estimate(qwen7, w, gpu).peak.minimum_device_bytes;
    const factor = implied + 0.3;
    const a = oomAdvice(qwen7, w, gpu, Math.round(predicted * factor));
    expect(a.ratio).toBeCloseTo(factor, 6);
    expect(a.fit.cheapest).not.toBeNull();
    const chosen = a.fit.cheapest!.estimate.peak.minimum_device_bytes;
    expect(gib(chosen * a.ratio)).toBeLessThanOrEqual(gib(gpu.usableBytes));
    expect(a.line).toMatch(new RegExp(`^cheapest change that fits with a ${a.ratio.toFixed(2)}x margin: `));
  });
  it("nothing measured (no allocator on the CPU): the OOM itself says the card's memory was too little", () => {
    expect(estimate(qwen7, w, gpu).fits).toBe(true);
    const a = oomAdvice(qwen7, w, gpu, null);
    expect(a.ratio).toBeCloseTo(gpu.usableBytes / estimate(qwen7, w, gpu).peak.minimum_device_bytes, 6);
  });
});

describe.runIf(ready)("an out-of-memory injected during a run", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-oom-"));
  const model = path.join(tmp, "tiny-qwen2");
  beforeAll(async () => {
    await runJob("make_tiny", { out_dir: model, arch: "qwen2", words: JSON.parse(fs.readFileSync(path.join(DEMO, "words.json"), "utf8")) });
  }, 120_000);

  it("is recorded with status oom, its step, the prediction and a change, in one line; the steps before it are kept", async () => {
    const store = new RunStore(path.join(tmp, "runs"));
    try {
      const s = { ...TRAIN_DEFAULTS, name: "oom", model, method: "lora" as const, batch: 4, maxSeqLen: 32, maxSteps: 6, evalEvery: 100, checkpointEvery: 100, device: "cpu" as const, dataset: { train: path.join(DEMO, "train.jsonl"), evalFraction: 0.1 }, gpu: "GeForce RTX 5060 Ti 16GB", injectOomAtStep: 3 };
      const run = await executeRun(store, createRun(store, s));
      expect(run.status).toBe("oom");
      expect(run.error_kind).toBe("oom");
      expect(run.steps).toBe(3);
      expect(run.error).not.toMatch(/\n/);
      expect(run.error).toMatch(/^CUDA out of memory at step 3: measured peak n\/a allocated, n\/a reserved \(\+2\.00 GiB asked\); predicted \d+\.\d\d GiB allocated; (cheapest change that fits with a [\d.]+x margin: .+|no change in the fit search fits with a [\d.]+x margin: it needs a bigger card|the fit search finds no cheaper setting than this one)$/);
      expect(run.suggestion).toBe(run.error!.split("; ").at(-1));
      expect(readMetrics(run).filter((m) => m.type === "train").map((m) => m.step)).toEqual([1, 2]);
      expect(store.list({ status: "oom" }).map((r) => r.id)).toEqual([run.id]);
    } finally {
      store.close();
    }
  }, 300_000);

  it("`fitlab run` refuses a run the planner predicts not to fit the card, in one line, and leaves nothing behind", () => {
    const runs = path.join(tmp, "runs-refused");
    const r = runCli(["run", "--model", "Qwen/Qwen2.5-7B", "--method", "full", "--data", path.join(DEMO, "train.jsonl"), "--seq", "1024", "--batch", "2", "--gpu", "GeForce RTX 5060 Ti 16GB", "--runs", runs]);
    expectOneLineError(r, /predicted not to fit GeForce RTX 5060 Ti 16GB: .* --force tries anyway/);
    expect(fs.existsSync(runs) ? fs.readdirSync(runs).filter((n) => /^\.?r\d/.test(n)) : []).toEqual([]);
  });
});

describe("the run store keeps device-level memory and the card (schema v3)", () => {
  it("a version-2 store gains the columns; its rows keep their values", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-store-v2-"));
    const store = new RunStore(dir);
    const r = store.create({ name: "x", model: "m", method: "lora", config: {}, estimate: null, predictedAllocatedBytes: 5 });
    store.close();
    // take it back to version 2 as fitlab 0.1 wrote it: drop the v3 columns
    const sqlite = spawnSync("node", ["-e", `const D=require("better-sqlite3");const d=new D(${JSON.stringify(path.join(dir, "fitlab.sqlite"))});for (const c of ["predicted_device_bytes","measured_device_bytes","gpu"]) d.exec("ALTER TABLE runs DROP COLUMN "+c);d.pragma("user_version = 2");d.close();`], { encoding: "utf8" });
    expect(sqlite.status, sqlite.stderr).toBe(0);
    const again = new RunStore(dir);
    const old = again.get(r.id);
    expect(old.predicted_allocated_bytes).toBe(5);
    expect(old.measured_device_bytes).toBeNull();
    again.update(r.id, { measured_device_bytes: 123, gpu: "NVIDIA GeForce RTX 5060 Ti" });
    expect(again.get(r.id)).toMatchObject({ measured_device_bytes: 123, gpu: "NVIDIA GeForce RTX 5060 Ti" });
    again.close();
  });
});
