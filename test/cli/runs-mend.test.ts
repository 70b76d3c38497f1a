// The run commands as a new user meets them: sweep ids as written in the plan, stored forgetting results,
// one SVG per file, filters, and the doctor's exit status. Runs are seeded (no worker needed).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { RunStore } from "../../src/runs/store.js";
import { seedRun } from "../fixtures/seed-store.mjs";
import { expectOneLineError, runCli } from "../helpers.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-runs-"));
const runs = path.join(tmp, "runs");
// no worker here: anything that tried to evaluate again would fail loudly
const noWorker = { FITLAB_HOME: path.join(tmp, "no-home") };
const ids: Record<string, string> = {};

beforeAll(() => {
  const store = new RunStore(runs);
  ids.main = seedRun(store, { name: "D.lora", experiment: "D.lora", steps: 60, ckptEvery: 20, forgetting: true }).id;
  // an older run of the sweep (two values), then the latest (three values)
  for (const [v, floor] of [["0.001", 1.2], ["0.01", 0.9]] as const) seedRun(store, { name: `D.lr-sweep learning_rate=${v}`, experiment: "D.lr-sweep", sweep: "D.lr-sweep@20260101T000000", sweepValue: v, floor, steps: 40 });
  for (const [v, floor] of [["0.001", 1.1], ["0.01", 0.7], ["0.05", 1.5]] as const) seedRun(store, { name: `D.lr-sweep learning_rate=${v}`, experiment: "D.lr-sweep", sweep: "D.lr-sweep@20260102T000000", sweepValue: v, floor, steps: 40 });
  ids.bare = seedRun(store, { name: "no-forgetting", steps: 30, ckptEvery: 10 }).id;
  store.close();
});

const cli = (args: string[]) => runCli(["runs", "--runs", runs, ...args], noWorker);
const json = (args: string[]) => {
  const r = cli([...args, "--json"]);
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.out);
};

describe("sweep ids as written in the plan", () => {
  it("runs list shows the plan's sweep id and filters by it (every time it ran)", () => {
    const all = json(["list"]);
    expect(all.filter((r: { sweep: string | null }) => r.sweep === "D.lr-sweep")).toHaveLength(5);
    expect(json(["list", "--sweep", "D.lr-sweep"])).toHaveLength(5);
    expect(json(["list", "--sweep", "D.lr-sweep@20260101T000000"])).toHaveLength(2);
    const text = cli(["list"]).out;
    expect(text).toMatch(/D\.lr-sweep learning_rate=0\.05 +train +done +D\.lr-sweep /);
  });
  it("runs compare --sweep D.lr-sweep compares its latest run and names the best learning rate", () => {
    const c = json(["compare", "--sweep", "D.lr-sweep"]);
    expect(c.sweep).toEqual({ key: "D.lr-sweep", instance: "D.lr-sweep@20260102T000000", instances: 2 });
    expect(c.param).toBe("learning_rate");
    expect(c.rows.map((r: { value: string }) => r.value)).toEqual(["0.001", "0.01", "0.05"]);
    expect(c.verdict[0]).toMatch(/^best learning rate: 0\.01 /);
    expect(cli(["compare", "--sweep", "D.lr-sweep"]).out).toMatch(/^sweep D\.lr-sweep \(D\.lr-sweep@20260102T000000, the latest of 2/);
    expect(json(["compare", "--sweep", "D.lr-sweep@20260101T000000"]).rows).toHaveLength(2);
  });
  it("runs sweeps lists each sweep with what varied", () => {
    const s = json(["sweeps"]);
    expect(s.map((x: { instance: string }) => x.instance)).toEqual(["D.lr-sweep@20260102T000000", "D.lr-sweep@20260101T000000"]);
    expect(s[0]).toMatchObject({ key: "D.lr-sweep", runs: 3, param: "learning_rate", values: ["0.001", "0.01", "0.05"] });
  });
  it("an unknown sweep: one line naming the sweeps there are", () => {
    expectOneLineError(cli(["compare", "--sweep", "D.nope"]), /no sweep "D\.nope" in .*; sweeps: D\.lr-sweep/);
  });
  it("filters by kind and status, and refuses an unknown one", () => {
    expect(json(["list", "--kind", "probe"])).toEqual([]);
    expect(json(["list", "--status", "done", "--experiment", "D.lora"])).toHaveLength(1);
    expectOneLineError(cli(["list", "--kind", "painting"]), /kind must be one of train, evaluate, attention, compare, hidden, probe, got "painting"/);
  });
});

describe("runs forgetting", () => {
  it("draws from the stored results, without the worker", () => {
    const t0 = Date.now();
    const f = json(["forgetting", ids.main!]);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(f.points.map((p: { step: number }) => p.step)).toEqual([0, 20, 40, 60]);
    expect(f.findings[0]).toMatch(/^general-text perplexity: 20\.00 \(base\) -> 29\.00 at step 60 \(\+45%\): the fine-tune is forgetting general text/);
    expect(cli(["forgetting", ids.main!]).out).toMatch(/stored results of 2026-01-01/);
  });
  it("the same files as stored are still answered from the store; other files need the worker", () => {
    expect(cli(["forgetting", ids.main!, "--general", "/data/general.txt"]).code).not.toBe(0); // that file does not exist here
    const other = path.join(tmp, "other.txt");
    fs.writeFileSync(other, "some general text\n");
    expectOneLineError(cli(["forgetting", ids.main!, "--general", other]), /worker environment is missing/);
  });
  it("with nothing stored: one line saying what to give", () => {
    expectOneLineError(cli(["forgetting", ids.bare!]), /no forgetting results stored for r.*: give --general FILE and\/or --mc FILE/);
  });
  it("--svg writes one valid SVG document holding both charts", () => {
    const file = path.join(tmp, "forgetting.svg");
    expect(cli(["forgetting", ids.main!, "--svg", file]).code).toBe(0);
    const svg = fs.readFileSync(file, "utf8");
    // a strict XML parser: one root element, well formed
    const py = spawnSync("python3", ["-c", "import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); r = d.documentElement; print(r.tagName, len([c for c in r.childNodes if c.nodeType == 1]))", file], { encoding: "utf8" });
    expect(py.stderr).toBe("");
    expect(py.stdout.trim()).toBe("svg 2");
    expect(svg).toContain("General-text perplexity");
    expect(svg).toContain("Multiple-choice accuracy");
  });
});

describe("doctor", () => {
  it("exits non-zero when the worker environment is missing, and says how to fix it", () => {
    const r = runCli(["doctor"], noWorker);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/worker environment: missing/);
    expect(r.out).toMatch(/npx fitlab engine setup/);
    const j = runCli(["doctor", "--json"], noWorker);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.out).worker).toBe("missing");
  });
});
