// Faults a real training run meets, on the real worker (CPU, a tiny model built locally): SIGKILL of the
// worker or of fitlab, a corrupt newest checkpoint, an absurd trainer state, a full disk (injected ENOSPC,
// and a real small tmpfs filled from outside when this machine may mount one), concurrent resumes, and bad
// data only the worker can see. Each ends with a consistent store and either a completed run (no gap, no
// repeated step, the losses of an uninterrupted run) or a failed row with a one-line reason.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workerReady } from "../../src/runs/env.js";
import { runJob } from "../../src/runs/worker.js";

const BIN = fileURLToPath(new URL("../../bin/fitlab.js", import.meta.url));
const DEMO = fileURLToPath(new URL("../../data/demo/", import.meta.url));
const ready = workerReady();
if (!ready && process.env.CI) throw new Error("CI must run `npx fitlab engine setup` before the tests (see .ci/run)");
if (!ready) console.warn("SKIPPED: runner fault tests need `npx fitlab engine setup`");

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-faults-"));
const model = path.join(tmp, "tiny-qwen2");
const train = path.join(DEMO, "train.jsonl");
const STEPS = 40;
const baseEnv = { ...process.env, FITLAB_NO_NVIDIA_SMI: "1" };
const runArgs = (runs: string, extra: string[] = []) => ["run", "--model", model, "--data", train, "--lr", "0.01", "--batch", "8", "--seq", "32", "--eval-every", "10", "--checkpoint-every", "10", "--device", "cpu", "--steps", String(STEPS), "--json", "--runs", runs, ...extra];

function fitlab(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...baseEnv, ...env }, timeout: 240_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A `fitlab run` in its own process group, so a test can kill it (or only its worker). */
function start(runs: string, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...runArgs(runs)], { detached: true, stdio: "ignore", env: { ...baseEnv, ...env } });
}

const runDir = (runs: string) => {
  const d = fs.existsSync(runs) ? fs.readdirSync(runs).find((n) => /^r\d/.test(n)) : undefined;
  return d ? path.join(runs, d) : null;
};

function metricLines(dir: string): { type: string; step: number; loss?: number; eval_loss?: number }[] {
  const f = path.join(dir, "metrics.jsonl");
  if (!fs.existsSync(f)) return [];
  return fs
    .readFileSync(f, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l)];
      } catch {
        return [];
      }
    });
}

async function waitForStep(runs: string, step: number): Promise<string> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const d = runDir(runs);
    if (d && metricLines(d).filter((m) => m.type === "train" && m.step >= step).length > 0) return d;
    if (Date.now() > deadline) throw new Error(`training never reached step ${step}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** Children of `pid` whose command line matches (Linux /proc). */
function childrenOf(pid: number, match: RegExp): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid && match.test(fs.readFileSync(`/proc/${p}/cmdline`, "utf8"))) out.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((res) => child.once("exit", res));
}

function rows(runs: string): { id: string; status: string; steps: number | null; error_kind: string | null; error: string | null; pid: number | null }[] {
  const db = new Database(path.join(runs, "fitlab.sqlite"), { readonly: true });
  try {
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    return db.prepare("SELECT id, status, steps, error_kind, error, pid FROM runs").all() as ReturnType<typeof rows>;
  } finally {
    db.close();
  }
}

/** A finished run: train steps 1..STEPS once each, evals unique, the row done with STEPS steps. */
function expectComplete(runs: string): { losses: number[] } {
  const [row] = rows(runs);
  expect(row!.status).toBe("done");
  expect(row!.steps).toBe(STEPS);
  const lines = metricLines(runDir(runs)!);
  const steps = lines.filter((l) => l.type === "train").map((l) => l.step);
  expect(steps).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
  const evals = lines.filter((l) => l.type === "eval").map((l) => l.step);
  expect(new Set(evals).size).toBe(evals.length);
  expect(fs.readdirSync(runDir(runs)!).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  return { losses: lines.filter((l) => l.type === "train").map((l) => l.loss!) };
}

/** Kill a run's whole process group once it reached `step`: an interrupted run with checkpoints 10, 20, 30. */
async function interruptedRun(name: string, step = 33): Promise<{ runs: string; dir: string; id: string }> {
  const runs = path.join(tmp, name);
  const child = start(runs);
  const dir = await waitForStep(runs, step);
  process.kill(-child.pid!, "SIGKILL");
  await exited(child);
  await new Promise((res) => setTimeout(res, 300));
  const [row] = rows(runs);
  return { runs, dir, id: row!.id };
}

const resume = (runs: string, id: string, env: Record<string, string> = {}) => fitlab(["runs", "--runs", runs, "resume", id, "--json"], env);

describe.runIf(ready)("runner faults, on the real worker", () => {
  let reference: number[] = [];

  beforeAll(async () => {
    const words = JSON.parse(fs.readFileSync(path.join(DEMO, "words.json"), "utf8"));
    await runJob("make_tiny", { out_dir: model, arch: "qwen2", words });
    const runs = path.join(tmp, "reference");
    const r = fitlab(runArgs(runs));
    expect(r.code).toBe(0);
    reference = expectComplete(runs).losses;
  }, 300_000);

  afterAll(() => {
    for (const d of fs.readdirSync(tmp)) if (d.startsWith("mnt-")) spawnSync("umount", [path.join(tmp, d)]);
  });

  it("SIGKILL of the worker: the row fails with the signal, not a warning line; resume gives the uninterrupted losses", async () => {
    const runs = path.join(tmp, "kill-worker");
    const child = start(runs);
    await waitForStep(runs, 25);
    const [worker] = childrenOf(child.pid!, /fitlab_worker/);
    expect(worker).toBeDefined();
    process.kill(worker!, "SIGKILL");
    await exited(child);
    expect(child.exitCode).toBe(1);
    const [row] = rows(runs);
    expect(row!.status).toBe("failed");
    expect(row!.error_kind).toBe("crashed");
    expect(row!.error).toMatch(/^the worker was killed by SIGKILL .*after step \d+ before finishing train$/);
    const r = resume(runs, row!.id);
    expect(r.code).toBe(0);
    const { losses } = expectComplete(runs);
    // same data order, RNG and optimizer state: the resumed run retraces the uninterrupted one
    expect(losses.length).toBe(reference.length);
    losses.forEach((l, i) => expect(Math.abs(l - reference[i]!)).toBeLessThan(1e-6));
  }, 300_000);

  it("SIGKILL of fitlab alone: its worker dies with it (no orphan writing the run); resume completes", async () => {
    const runs = path.join(tmp, "kill-parent");
    const child = start(runs);
    await waitForStep(runs, 15);
    const [worker] = childrenOf(child.pid!, /fitlab_worker/);
    expect(worker).toBeDefined();
    process.kill(child.pid!, "SIGKILL");
    await exited(child);
    const deadline = Date.now() + 10_000;
    while (alive(worker!) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    expect(alive(worker!)).toBe(false);
    const list = JSON.parse(fitlab(["runs", "--runs", runs, "list", "--json"]).out);
    expect(list[0].status).toBe("interrupted");
    expect(resume(runs, list[0].id).code).toBe(0);
    expectComplete(runs);
  }, 300_000);

  it("a corrupt newest checkpoint: resume falls back to the previous one, names what it skipped, completes", async () => {
    const { runs, dir, id } = await interruptedRun("corrupt");
    const adapter = path.join(dir, "checkpoint-30", "adapter_model.safetensors");
    fs.truncateSync(adapter, Math.floor(fs.statSync(adapter).size / 2));
    const r = fitlab(["runs", "--runs", runs, "resume", id]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/fitlab: skipped checkpoint-30: adapter_model\.safetensors is .* \(kept as checkpoint-30\.corrupt\)/);
    expect(r.err).toMatch(/fitlab: resumed from checkpoint-20/);
    expectComplete(runs);
    expect(fs.existsSync(path.join(dir, "checkpoint-30.corrupt"))).toBe(true);
    expect(fs.existsSync(path.join(dir, "checkpoint-30", "trainer_state.json"))).toBe(true);
  }, 300_000);

  it("a trainer state claiming step 5000 of 40 is not trusted: the run resumes from a checkpoint that verifies and trains to the end", async () => {
    const { runs, dir, id } = await interruptedRun("absurd");
    const stateFile = path.join(dir, "checkpoint-30", "trainer_state.json");
    const state = JSON.parse(fs.readFileSync(stateFile, "utf8"));
    fs.writeFileSync(stateFile, JSON.stringify({ ...state, step: 5000 }));
    fs.cpSync(path.join(dir, "checkpoint-20"), path.join(dir, "checkpoint-5000"), { recursive: true });
    const st5000 = path.join(dir, "checkpoint-5000", "trainer_state.json");
    fs.writeFileSync(st5000, JSON.stringify({ ...JSON.parse(fs.readFileSync(st5000, "utf8")), step: 5000 }));
    const r = fitlab(["runs", "--runs", runs, "resume", id]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/skipped checkpoint-5000: step 5000 is outside this run's 40 steps/);
    expect(r.err).toMatch(/skipped checkpoint-30: its trainer_state.json says step 5000, not 30/);
    expectComplete(runs);
  }, 300_000);

  it("a full disk while writing a checkpoint (injected ENOSPC): no checkpoint-N.tmp left, the row failed with the cause; resume completes", async () => {
    const runs = path.join(tmp, "enospc");
    const r = fitlab(runArgs(runs), { FITLAB_FAULT: "enospc_at_checkpoint=20" });
    expect(r.code).toBe(1);
    const [row] = rows(runs);
    expect(row!.status).toBe("failed");
    expect(row!.error_kind).toBe("disk_full");
    expect(row!.error).toMatch(/^no space left on the device writing checkpoint-20 in /);
    expect(row!.error).not.toMatch(/\n/);
    const dir = runDir(runs)!;
    expect(fs.readdirSync(dir).filter((n) => n.endsWith(".tmp"))).toEqual([]);
    expect(fs.existsSync(path.join(dir, "checkpoint-10"))).toBe(true);
    expect(resume(runs, row!.id).code).toBe(0);
    expectComplete(runs);
  }, 300_000);

  it("too little free disk for the next checkpoint: refused before writing it, the row failed with the sizes", () => {
    const runs = path.join(tmp, "no-room");
    const r = fitlab(runArgs(runs), { FITLAB_FAULT: "free_bytes=1000" });
    expect(r.code).toBe(1);
    const [row] = rows(runs);
    expect(row!.status).toBe("failed");
    expect(row!.error_kind).toBe("disk_full");
    expect(row!.error).toMatch(/^not enough free disk in .* for checkpoint-10: needs \d[\d,]* MiB, 1 MiB free/);
  }, 300_000);

  // a real file system that fills up from outside: a small tmpfs, when this machine lets the tests mount one
  const mountable = (() => {
    if (!ready || process.getuid?.() !== 0) return false;
    const probe = path.join(tmp, "mnt-probe");
    fs.mkdirSync(probe);
    const ok = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe]).status === 0;
    if (ok) spawnSync("umount", [probe]);
    return ok;
  })();

  it.runIf(mountable)("a disk filled from outside mid-run (real tmpfs): the next checkpoint is refused, the row failed; freed, the run resumes", async () => {
    const runs = path.join(tmp, "mnt-full");
    fs.mkdirSync(runs);
    expect(spawnSync("mount", ["-t", "tmpfs", "-o", "size=96m", "tmpfs", runs]).status).toBe(0);
    const child = start(runs);
    await waitForStep(runs, 12);
    // leave 4 MiB: room for metrics and the store, not for a checkpoint and its margin
    const free = fs.statfsSync(runs).bavail * fs.statfsSync(runs).bsize;
    const filler = path.join(runs, "filler");
    fs.writeFileSync(filler, Buffer.alloc(Math.max(0, free - 4 * 2 ** 20)));
    await exited(child);
    expect(child.exitCode).toBe(1);
    const [row] = rows(runs);
    expect(row!.status).toBe("failed");
    expect(row!.error_kind).toBe("disk_full");
    expect(row!.error).toMatch(/^not enough free disk in .* for checkpoint-\d+/);
    expect(fs.readdirSync(runDir(runs)!).filter((n) => n.endsWith(".tmp"))).toEqual([]);
    fs.rmSync(filler);
    expect(resume(runs, row!.id).code).toBe(0);
    expectComplete(runs);
  }, 300_000);

  it.runIf(mountable)("a new run on a nearly full disk is refused before it starts, and nothing is written", () => {
    const runs = path.join(tmp, "mnt-tiny");
    fs.mkdirSync(runs);
    expect(spawnSync("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", runs]).status).toBe(0);
    const r = fitlab(runArgs(runs));
    expect(r.code).toBe(2);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toMatch(/^fitlab: not enough free disk in .* for the checkpoints of .*: needs \d[\d,]* MiB, \d[\d,]* MiB free/);
    expect(fs.readdirSync(runs).filter((n) => /^\.?r\d/.test(n))).toEqual([]);
  }, 120_000);

  it("two resumes of one run at once: one runs it, the other is refused in one line; the run completes once", async () => {
    const { runs, id } = await interruptedRun("concurrent", 15);
    const go = () =>
      new Promise<{ code: number | null; err: string }>((res) => {
        const c = spawn(process.execPath, [BIN, "runs", "--runs", runs, "resume", id, "--json"], { env: baseEnv });
        let err = "";
        c.stderr.on("data", (d) => (err += d));
        c.on("close", (code) => res({ code, err }));
      });
    const results = await Promise.all([go(), go()]);
    const codes = results.map((r) => r.code).sort();
    expect(codes).toEqual([0, 2]);
    const refused = results.find((r) => r.code === 2)!;
    expect(refused.err.trim().split("\n")).toHaveLength(1);
    expect(refused.err).toMatch(/is being run by process \d+|is still running|already finished/);
    expectComplete(runs);
  }, 300_000);

  it("bad data only the worker can see (every completion cut away by --seq): the row fails with that reason, exit 1", () => {
    const runs = path.join(tmp, "worker-data");
    const data = path.join(tmp, "long-prompts.jsonl");
    fs.writeFileSync(data, Array.from({ length: 8 }, () => JSON.stringify({ prompt: "count a b c d e f g h i j k l a b c d e f g h", completion: "i j" })).join("\n"));
    const r = fitlab(["run", "--model", model, "--data", data, "--seq", "4", "--steps", "5", "--device", "cpu", "--json", "--runs", runs]);
    expect(r.code).toBe(1);
    const [row] = rows(runs);
    expect(row!.status).toBe("failed");
    expect(row!.error_kind).toBe("input");
    expect(row!.error).toMatch(/no training example has a token to learn from/);
  }, 300_000);
});
