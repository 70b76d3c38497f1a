// The server is a thin adapter: each API answer is the JSON the CLI prints with --json for the same
// question (no figure computed twice), and bad input gets the CLI's one-line message with a 400.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunStore } from "../../src/runs/store.js";
import { seedRun } from "../fixtures/seed-store.mjs";
import { runCli } from "../helpers.js";
import { request, startUiProcess, type UiProcess } from "./ui-process.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-ui-api-"));
const runs = path.join(tmp, "runs");
const ids: Record<string, string> = {};
let ui: UiProcess;

beforeAll(async () => {
  const store = new RunStore(runs);
  ids.main = seedRun(store, { name: "D.lora", experiment: "D.lora", steps: 40, ckptEvery: 20, forgetting: true }).id;
  for (const [v, floor] of [["0.001", 1.1], ["0.01", 0.7]] as const) ids[v] = seedRun(store, { name: `D.lr-sweep learning_rate=${v}`, experiment: "D.lr-sweep", sweep: "D.lr-sweep@20260102T000000", sweepValue: v, floor, steps: 30 }).id;
  seedRun(store, { name: "gpu run", steps: 30, gpu: true });
  store.close();
  ui = await startUiProcess(runs);
}, 60_000);
afterAll(() => ui?.stop());

const api = async (target: string) => {
  const r = await request(ui.port, "GET", target, { Authorization: `Bearer ${ui.token}` });
  return { status: r.status, json: r.headers["content-type"]?.includes("json") ? JSON.parse(r.body) : r.body };
};
const cli = (args: string[]) => {
  const r = runCli(args);
  expect(r.err).toBe("");
  return args.includes("html") ? r.out : JSON.parse(r.out);
};
const store = (args: string[]) => cli(["runs", "--runs", runs, ...args, "--json"]);

describe("the API answers with the CLI's --json objects", () => {
  it("runs list, filtered runs list, sweeps", async () => {
    expect((await api("/api/runs")).json).toEqual(store(["list"]));
    expect((await api("/api/runs?sweep=D.lr-sweep&status=done")).json).toEqual(store(["list", "--sweep", "D.lr-sweep", "--status", "done"]));
    expect((await api("/api/sweeps")).json).toEqual(store(["sweeps"]));
  });
  it("runs show, compare (runs and a sweep as written in the plan), forgetting", async () => {
    expect((await api(`/api/runs/${ids.main}`)).json).toEqual(store(["show", ids.main!]));
    expect((await api("/api/compare?sweep=D.lr-sweep")).json).toEqual(store(["compare", "--sweep", "D.lr-sweep"]));
    expect((await api(`/api/compare?runs=${ids.main},${ids["0.01"]}`)).json).toEqual(store(["compare", ids.main!, ids["0.01"]!]));
    expect((await api(`/api/runs/${ids.main}/forgetting`)).json).toEqual(store(["forgetting", ids.main!]));
  });
  it("estimate and fit, with the CLI's flag names", async () => {
    expect((await api("/api/estimate?model=Qwen/Qwen2.5-0.5B&workload=lora&seq=1024&batch=4&rank=8&packed=false&dataset-tokens=1000000")).json).toEqual(
      cli(["estimate", "--model", "Qwen/Qwen2.5-0.5B", "--workload", "lora", "--seq", "1024", "--batch", "4", "--rank", "8", "--no-packed", "--dataset-tokens", "1000000", "--json"]),
    );
    expect((await api("/api/fit?workload=full&gpu=GeForce%20RTX%204090")).json).toEqual(cli(["fit", "--workload", "full", "--gpu", "GeForce RTX 4090", "--json"]));
  });
  it("models, GPUs and the decision (JSON and HTML)", async () => {
    expect((await api("/api/models")).json).toEqual(cli(["models", "--json"]));
    expect((await api("/api/gpus")).json).toEqual(cli(["gpus", "--json"]));
    expect((await api("/api/decide?format=json&horizon-months=24")).json).toEqual(cli(["decide", "--format", "json", "--horizon-months", "24"]));
    expect((await api("/api/decide?format=html")).json).toBe(cli(["decide", "--format", "html"]));
  });
  it("a run's series: every train step with the analysis's smoothing", async () => {
    const s = (await api(`/api/runs/${ids.main}/series`)).json;
    expect(s.train.step).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(s.eval.step).toEqual([0, 20, 40]);
    const { analyzeLoss } = await import("../../src/analyze/loss-curve.js");
    const lines = fs.readFileSync(path.join(runs, ids.main!, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(s.train.smoothed).toEqual(analyzeLoss(lines).points.map((p) => p.smoothed));
  });
});

describe("bad input: 400 with the CLI's one-line message", () => {
  it.each([
    ["/api/estimate?seq=abc", /--seq must be a whole number, got "abc"/],
    ["/api/estimate?workload=painting", /unknown workload "painting"/],
    ["/api/estimate?model=NoSuchModel-9B", /built-in model names only \("NoSuchModel-9B" is not one/],
    ["/api/estimate?colour=blue", /unknown setting "colour"/],
    ["/api/runs?kind=painting", /kind must be one of train, evaluate, attention, compare, hidden, probe, got "painting"/],
    ["/api/runs?limit=3", /unknown parameter "limit"/],
    ["/api/compare?sweep=D.nope", /no sweep "D.nope"/],
    ["/api/decide?format=pdf", /format must be json or html/],
  ])("%s", async (target, msg) => {
    const r = await api(target);
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(msg);
    expect(r.json.error).not.toMatch(/\n/);
  });
  it("an unknown run: 404", async () => {
    expect((await api("/api/runs/r20990101000000-abcdef")).status).toBe(404);
  });
});
