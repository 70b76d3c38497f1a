// The real Python worker on CPU with a tiny model built locally (no downloads). CI creates the worker's
// environment first (`fitlab engine setup` in .ci/run); without it these tests fail under CI and are
// skipped, loudly, on a developer machine that has not run the setup.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { workerReady } from "../../src/runs/env.js";
import { runJob } from "../../src/runs/worker.js";

const BIN = fileURLToPath(new URL("../../bin/fitlab.js", import.meta.url));
const DEMO = fileURLToPath(new URL("../../data/demo/", import.meta.url));
const ready = workerReady();
if (!ready && process.env.CI) throw new Error("CI must run `npx fitlab engine setup` before the tests (see .ci/run)");
if (!ready) console.warn("SKIPPED: worker tests need `npx fitlab engine setup`");

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-worker-"));
const qwen = path.join(tmp, "tiny-qwen2");
const llama = path.join(tmp, "tiny-llama");
const train = path.join(DEMO, "train.jsonl");

function fitlab(args: string[], runs: string) {
  const r = spawnSync(process.execPath, [BIN, ...args, "--runs", runs], { encoding: "utf8", env: { ...process.env, FITLAB_NO_NVIDIA_SMI: "1" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const runArgs = (model: string, extra: string[] = []) => ["run", "--model", model, "--data", train, "--lr", "0.01", "--batch", "8", "--seq", "32", "--eval-every", "20", "--checkpoint-every", "20", "--device", "cpu", "--json", ...extra];

describe.runIf(ready)("the worker on CPU", () => {
  beforeAll(async () => {
    const words = JSON.parse(fs.readFileSync(path.join(DEMO, "words.json"), "utf8"));
    await runJob("make_tiny", { out_dir: qwen, arch: "qwen2", words });
    await runJob("make_tiny", { out_dir: llama, arch: "llama", words });
  }, 120_000);

  it("answers the doctor with versions and the sm_120 question", async () => {
    const r = await runJob("doctor", {});
    const rep = r.report as Record<string, unknown>;
    expect(rep.torch).toMatch(/^\d+\.\d+/);
    expect(typeof rep.torch_has_sm_120).toBe("boolean");
    expect(rep.fused_loss).toMatch(/no CUDA GPU/); // the lean runner's fused loss needs CUDA (engine/fitlab_worker/loss.py)
    expect(r.problems).toEqual(expect.arrayContaining([expect.stringMatching(/CPU/)]));
  }, 120_000);

  it("LoRA on the learnable task halves the eval loss at least; the reloaded adapter reproduces it within 1e-4", async () => {
    const runs = path.join(tmp, "runs-lora");
    const r = fitlab(runArgs(qwen, ["--steps", "100"]), runs);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out).runs[0];
    expect(summary.status).toBe("done");
    expect(summary.eval_loss.final).toBeLessThanOrEqual(summary.eval_loss.initial / 2);
    // the last checkpoint is a PEFT adapter folder that PeftModel.from_pretrained loads
    const ckpt = path.join(summary.dir, "checkpoint-100");
    expect(fs.existsSync(path.join(ckpt, "adapter_model.safetensors"))).toBe(true);
    expect(fs.existsSync(path.join(ckpt, "adapter_config.json"))).toBe(true);
    const config = JSON.parse(fs.readFileSync(path.join(summary.dir, "config.json"), "utf8"));
    const e = await runJob("evaluate", { model: config.model, method: "lora", adapter: ckpt, dataset: config.dataset, seed: config.seed, max_seq_len: config.max_seq_len, batch_size: config.batch_size, device: "cpu" });
    expect(Math.abs((e.eval_loss as number) - summary.eval_loss.final)).toBeLessThan(1e-4);
  }, 240_000);

  it("a run killed with SIGKILL mid-training resumes, with no gap and no repeated step in its metrics", async () => {
    const runs = path.join(tmp, "runs-kill");
    const child = spawn(process.execPath, [BIN, ...runArgs(qwen, ["--steps", "120"]), "--runs", runs], { detached: true, stdio: "ignore", env: { ...process.env, FITLAB_NO_NVIDIA_SMI: "1" } });
    const metricsFile = () => {
      const d = fs.existsSync(runs) ? fs.readdirSync(runs).find((n) => n.startsWith("r")) : undefined;
      return d ? path.join(runs, d, "metrics.jsonl") : null;
    };
    const deadline = Date.now() + 120_000;
    for (;;) {
      const f = metricsFile();
      const n = f && fs.existsSync(f) ? fs.readFileSync(f, "utf8").split("\n").filter((l) => l.includes('"train"')).length : 0;
      if (n >= 50) break;
      if (Date.now() > deadline) throw new Error("training never reached step 50");
      await new Promise((res) => setTimeout(res, 100));
    }
    process.kill(-child.pid!, "SIGKILL");
    await new Promise((res) => setTimeout(res, 500));
    const list = JSON.parse(spawnSync(process.execPath, [BIN, "runs", "--runs", runs, "list", "--json"], { encoding: "utf8" }).stdout);
    expect(list).toHaveLength(1);
    expect(list[0].status).toBe("interrupted");
    const resumed = spawnSync(process.execPath, [BIN, "runs", "--runs", runs, "resume", list[0].id, "--json"], { encoding: "utf8", env: { ...process.env, FITLAB_NO_NVIDIA_SMI: "1" } });
    expect(resumed.status).toBe(0);
    expect(JSON.parse(resumed.stdout).status).toBe("done");
    const lines = fs.readFileSync(metricsFile()!, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const steps = lines.filter((l) => l.type === "train").map((l) => l.step);
    expect(steps).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    const evalSteps = lines.filter((l) => l.type === "eval").map((l) => l.step);
    expect(new Set(evalSteps).size).toBe(evalSteps.length);
  }, 300_000);

  it("two runs at once leave the run store consistent", async () => {
    const runs = path.join(tmp, "runs-two");
    const start = () =>
      new Promise<number>((res) => {
        const c = spawn(process.execPath, [BIN, ...runArgs(qwen, ["--steps", "20"]), "--runs", runs], { stdio: "ignore", env: { ...process.env, FITLAB_NO_NVIDIA_SMI: "1" } });
        c.on("close", (code) => res(code ?? -1));
      });
    const codes = await Promise.all([start(), start()]);
    expect(codes).toEqual([0, 0]);
    const db = new Database(path.join(runs, "fitlab.sqlite"), { readonly: true });
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    const rows = db.prepare("SELECT id, status, dir, steps FROM runs").all() as { id: string; status: string; dir: string; steps: number }[];
    db.close();
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r.status).toBe("done");
      expect(r.steps).toBe(20);
      expect(fs.existsSync(path.join(r.dir, "result.json"))).toBe(true);
    }
    expect(new Set(rows.map((r) => r.dir)).size).toBe(2);
  }, 300_000);

  it("QLoRA runs on the CPU where bitsandbytes supports it (Llama layout), and says it needs a GPU where it does not", () => {
    const runs = path.join(tmp, "runs-qlora");
    const ok = fitlab(runArgs(llama, ["--steps", "20", "--method", "qlora"]), runs);
    const okRun = JSON.parse(ok.out).runs[0];
    expect(okRun.status).toBe("done");
    const no = fitlab(runArgs(qwen, ["--steps", "20", "--method", "qlora"]), runs);
    const noRun = JSON.parse(no.out).runs[0];
    if (noRun.status === "failed") {
      expect(noRun.error.kind).toBe("needs_gpu");
      expect(noRun.error.message).toMatch(/^QLoRA needs a GPU here: bitsandbytes/);
    } else expect(noRun.status).toBe("done"); // a newer bitsandbytes may handle biased 4-bit layers on the CPU
  }, 300_000);

  for (const file of ["prompt-completion.jsonl", "chat.jsonl"]) {
    it(`trains on ${file} with the loss on the answer only`, () => {
      const runs = path.join(tmp, `runs-${file}`);
      const r = fitlab(["run", "--model", qwen, "--data", path.join(DEMO, file), "--lr", "0.01", "--batch", "8", "--seq", "32", "--steps", "40", "--eval-every", "20", "--device", "cpu", "--json"], runs);
      const run = JSON.parse(r.out).runs[0];
      expect(run.status).toBe("done");
      expect(run.eval_loss.final).toBeLessThan(run.eval_loss.initial / 2);
    }, 120_000);
  }

  it("evaluates forgetting for the base model and each checkpoint", async () => {
    const runs = path.join(tmp, "runs-forget");
    const r = JSON.parse(fitlab(runArgs(qwen, ["--steps", "40", "--general", path.join(DEMO, "general.txt"), "--mc", path.join(DEMO, "mc.jsonl")]), runs).out);
    const points = r.forgetting.points;
    expect(points.map((p: { step: number }) => p.step)).toEqual([0, 20, 40]);
    for (const p of points) {
      expect(p.perplexity).toBeGreaterThan(1);
      expect(p.mc_accuracy).toBeGreaterThanOrEqual(0);
    }
    expect(r.forgetting.findings.join(" ")).toMatch(/perplexity/);
  }, 300_000);

  it("a learning-rate sweep from a plan compares its runs and names the best", () => {
    const runs = path.join(tmp, "runs-sweep");
    const plan = path.join(tmp, "plan.yaml");
    fs.writeFileSync(
      plan,
      `fitlab_plan: 1\nname: t\ntracks:\n  - id: D\n    name: d\n    experiments:\n      - id: sweep\n        model: ${qwen}\n        workload: { kind: lora, seq: 32, batch: 8, rank: 8, alpha: 16 }\n        data: { tokens: 1000 }\n        sweep: { param: learning_rate, values: [0.0001, 0.01] }\n        run: { dataset: { train: ${train} }, max_steps: 30, eval_every: 10, checkpoint_every: 30, device: cpu }\n`,
    );
    const r = fitlab(["run", "D.sweep", "--plan", plan, "--json"], runs);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out);
    expect(out.runs).toHaveLength(2);
    expect(out.sweep.verdict[0]).toMatch(/best learning rate: 0.01/);
  }, 300_000);
});

describe("bad inputs never leave a half-made run", () => {
  const runs = path.join(tmp, "runs-bad");
  const bad = path.join(tmp, "bad");
  fs.mkdirSync(bad, { recursive: true });
  fs.writeFileSync(path.join(bad, "empty.jsonl"), "");
  fs.writeFileSync(path.join(bad, "malformed.jsonl"), '{"text": "count a b"}\n{"text": oops}\n');
  fs.writeFileSync(path.join(bad, "nofield.jsonl"), '{"content": "count a b"}\n');
  const cases: [string, string[], RegExp][] = [
    ["an empty dataset", ["--data", path.join(bad, "empty.jsonl")], /dataset .*empty.jsonl is empty/],
    ["a malformed line", ["--data", path.join(bad, "malformed.jsonl")], /line 2 is not valid JSON/],
    ["no text field", ["--data", path.join(bad, "nofield.jsonl")], /line 1 has no text field: give "text", "prompt"\+"completion", or "messages"/],
    ["a missing model folder", ["--model", path.join(tmp, "no-such-model")], /model folder .*no-such-model does not exist/],
  ];
  for (const [what, args, msg] of cases) {
    it.runIf(ready)(`${what}: one line naming the fix, exit 2, nothing in the store`, () => {
      const base = ["run", "--model", qwen, "--data", train, "--steps", "5"];
      const merged = [...base];
      for (let i = 0; i < args.length; i += 2) merged[merged.indexOf(args[i]!) + 1] = args[i + 1]!;
      const r = fitlab(merged, runs);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(msg);
      expect(r.err.trim().split("\n")).toHaveLength(1);
      const entries = fs.existsSync(runs) ? fs.readdirSync(runs).filter((n) => n.startsWith("r") || n.startsWith(".r")) : [];
      expect(entries).toEqual([]);
    });
  }
  it("an absent worker environment: one line naming `fitlab engine setup`", () => {
    const r = spawnSync(process.execPath, [BIN, "run", "--model", qwen, "--data", train, "--runs", runs], { encoding: "utf8", env: { ...process.env, FITLAB_HOME: path.join(tmp, "no-home") } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/worker environment is missing: run `npx fitlab engine setup`/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
