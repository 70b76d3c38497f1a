import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { BIN, expectOneLineError, runCli } from "../helpers.js";
import { parse } from "yaml";

const BROKEN = fileURLToPath(new URL("../fixtures/plans/broken.yaml", import.meta.url));
const run = (...args: string[]) => runCli(args);

describe("fitlab decide (CLI)", () => {
  it("prints the Markdown document with no arguments", () => {
    const r = run("decide");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^# Hardware decision/);
    expect(r.out).toContain("Recommendation: stay, and burst to the cloud");
  });
  it("--format json prints the object; --gpu changes the current card", () => {
    const r = run("decide", "--format", "json", "--gpu", "NVIDIA A100 80GB SXM4");
    const d = JSON.parse(r.out);
    expect(d.current_gpu).toBe("NVIDIA A100 80GB SXM4");
    const full = d.experiments.find((e: { name: string }) => e.name === "full-ft-7b");
    expect(full.options[0].fits).toBe(true);
  });
  it("--out writes the HTML file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-"));
    const f = path.join(dir, "decision.html");
    const r = run("decide", "--format", "html", "--out", f);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(f, "utf8")).toContain("<svg");
  });
  const bad: [string, string[], RegExp][] = [
    ["an unknown GPU", ["decide", "--gpu", "Voodoo 5"], /unknown GPU "Voodoo 5"/],
    ["an absurd electricity price", ["decide", "--electricity", "-1"], /--electricity must be between 0 and 5/],
    ["an absurd horizon", ["decide", "--horizon-months", "9999"], /--horizon-months must be between 1 and 240/],
    ["a negative idle power", ["decide", "--idle-watts", "-3"], /--idle-watts must be between 0 and 2000/],
    ["a bad format", ["decide", "--format", "pdf"], /--format must be md, json or html/],
    ["a broken plan", ["decide", "--plan", BROKEN], /has 4 problems; line 12/],
  ];
  for (const [what, args, msg] of bad) {
    it(`rejects ${what} with one line and exit 2`, () => {
      expectOneLineError(run(...args), msg);
    });
  }
  it("rejects absurd prices in a prices file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-"));
    const f = path.join(dir, "prices.yaml");
    fs.writeFileSync(f, "buy:\n  - gpu: GeForce RTX 4090\n    condition: new\n    price_usd: -5\n    source: me\n");
    const r = run("decide", "--prices", f);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/line 4: buy\[0\]\.price_usd: must be more than 0, found -5/);
  });
});

describe("one price per card across `fitlab gpus` and `fitlab decide`", () => {
  it("the street price and the cloud rate decide uses are the ones gpus lists", () => {
    const gpus = JSON.parse(run("gpus", "--json").out) as { name: string; streetPrices: { condition: string; price_usd: number; date: string | null }[]; sustainedFlopsPerS: number }[];
    const d = JSON.parse(run("decide", "--format", "json").out);
    for (const o of d.options.filter((x: { kind: string }) => x.kind === "buy")) {
      const g = gpus.find((x) => x.name === o.gpu)!;
      const p = g.streetPrices.find((x) => x.condition === o.condition)!;
      expect(p.price_usd).toBe(o.price_usd);
      expect(p.date).toBe(o.price_date);
      expect(g.sustainedFlopsPerS).toBe(o.sustained_flops_per_s);
    }
    const text = run("gpus").out;
    expect(text).toMatch(/GeForce RTX 4090 .*\$2,500 new \(2026-02, stale\)/);
    expect(text).toMatch(/GeForce RTX 4090 .*\$1,599/); // the launch MSRP is still there, in its own column
  });
});

describe("fitlab plan check", () => {
  it("lists every problem of a broken plan with its line, exit 2", () => {
    const r = run("plan", "check", BROKEN);
    expect(r.code).toBe(2);
    const lines = r.err.trim().split("\n");
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/broken.yaml:12: .*unknown model/);
    expect(lines[4]).toBe("fitlab: 4 problems");
  });
  it("accepts the built-in plan", () => {
    const r = run("plan", "check");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/ok, 18 experiments in 4 tracks/);
  });
});

describe("fitlab burst", () => {
  it("writes a SkyPilot task for the cheapest cloud GPU that fits the 70B QLoRA", () => {
    const r = run("burst", "S.qlora-70b");
    expect(r.code).toBe(0);
    const t = parse(r.out);
    expect(t.name).toMatch(/^[a-z][a-z0-9-]*$/);
    expect(t.resources.accelerators).toMatch(/^(A100-80GB|H100|H200|L40S):1$/);
    expect(typeof t.resources.use_spot).toBe("boolean");
    expect(t.resources.autostop.idle_minutes).toBeGreaterThan(0);
    expect(t.setup).toContain("npm ci");
    expect(t.run).toContain("fitlab run S.qlora-70b");
  });
  it("refuses an experiment without a run section in one line (full precision has none: the worker has no fp32 switch)", () => {
    const r = run("burst", "S.full-precision", "--spot", "--bucket", "b-results");
    expectOneLineError(r, /S.full-precision has no run section/);
  });
  it("writes the task to a file and says on stderr where, on what, for how long (hours rounded) and how to launch it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-burst-"));
    const out = path.join(dir, "t.yaml");
    const r = run("burst", "A.qlora-basic", "--out", out);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^wrote .*t.yaml: A.qlora-basic on 1 x .*, about \d+(\.\d)? h, about \$\d+\.\d\d; launch with: sky launch -c fitlab-a-qlora-basic --secret HF_TOKEN /);
    const t = parse(fs.readFileSync(out, "utf8"));
    expect(t.run).toContain("npx fitlab run A.qlora-basic --plan data/plans/default.yaml");
    expect(t.secrets).toEqual({ HF_TOKEN: null });
  });
  it("rents where the decision would, and says on stderr and in the task when the run needs changes or is tight", () => {
    const d = JSON.parse(run("decide", "--format", "json").out);
    const e = d.experiments.find((x: { key: string }) => x.key === "S.batch-size");
    const r = run("burst", "S.batch-size");
    expect(r.code).toBe(0);
    const gpu = d.options.find((o: { name: string }) => o.name === e.cloud_run.option).gpu;
    expect(r.out).toContain(`on 1 x ${gpu}`);
    expect(e.cloud_run.changes.length).toBeGreaterThan(0);
    // the plan's workload needs changes there, but the run section as written already fits that card (the worker
    // resolves its automatic loss and kernels on the card, `fitlab run --dry-run`): the task says so, not "only with"
    const dry = JSON.parse(run("run", "S.batch-size", "--dry-run", "--gpu", gpu, "--json").out);
    expect(dry.estimate.fits).toBe(true);
    const changes = e.cloud_run.changes.join(", ");
    expect(r.out).toContain(`# The plan's workload needs ${changes} on this card; its run section as written fits it already`);
    expect(r.out).not.toContain("# Only with");
    expect(r.err).toMatch(new RegExp(`^note: (Fits|Tight).*The plan's workload needs ${changes}`));
    // a run section that no cloud card runs as written (no checkpointing at batch 16): rented where the decision
    // would, and only with the changes, set in the run section
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-burst-"));
    const plan = fs.readFileSync(fileURLToPath(new URL("../../data/plans/default.yaml", import.meta.url)), "utf8");
    const sweep = "        sweep: { param: batch, values: [1, 2, 4, 8, 16] }\n        run:\n";
    expect(plan).toContain(sweep);
    fs.writeFileSync(path.join(dir, "plan.yaml"), plan.replace(sweep, `${sweep}          grad_ckpt: none\n`));
    const b = spawnSync(process.execPath, [BIN, "burst", "S.batch-size", "--plan", "plan.yaml"], { cwd: dir, encoding: "utf8", env: { ...process.env, FITLAB_NO_NVIDIA_SMI: "1" } });
    expect(b.status).toBe(0);
    expect(b.stdout).toContain(`on 1 x ${gpu}`);
    expect(b.stdout).toContain(`# Only with ${changes}: set them in the plan's run section`);
    expect(b.stderr).toMatch(new RegExp(`^note: (Fits|Tight).*Only with ${changes}`));
    // a run as planned says it fits the whole band, and prints no note
    const q = run("burst", "S.qlora-70b");
    expect(q.out).toMatch(/# Fits the .* with the estimate's whole band/);
    expect(q.err).toBe("");
  });
  it("a spot burst needs a bucket", () => {
    expectOneLineError(run("burst", "S.qlora-70b", "--spot"), /give a bucket \(--bucket NAME\)/);
  });
  it("rejects an unknown experiment and a CPU-only one", () => {
    expect(run("burst", "Z.nothing").err).toMatch(/no experiment "Z.nothing"/);
    expect(run("burst", "A.loss-curves").err).toMatch(/runs on the CPU/);
  });
});
