// The Inspect API: `GET /api/runs/:id/inspect` is the object `fitlab inspect show ID --json` prints (the one
// `fitlab inspect ... --json` printed when the run finished); a prompt's tokens and pooled-bin edges; one
// head's map as float32 with its shape, equal to what the map file holds; bad requests get a one-line 400/404.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { binEdges } from "../../src/runs/inspect-maps.js";
import { RunStore } from "../../src/runs/store.js";
import { readTensorBlock } from "../../src/runs/tensors.js";
import { seedAttentionRun, seedCompareRun, seedHiddenRun, seedProbeRun } from "../fixtures/seed-inspect.mjs";
import { seedRun } from "../fixtures/seed-store.mjs";
import { expectOneLineError, runCli } from "../helpers.js";
import { request, startUiProcess, type UiProcess } from "./ui-process.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-ui-inspect-api-"));
const runs = path.join(tmp, "runs");
const runs_: Record<string, { id: string; dir: string }> = {};
let ui: UiProcess;

beforeAll(async () => {
  const store = new RunStore(runs);
  runs_.attention = seedAttentionRun(store, { prompts: [300, 16], full: ["1.2"] });
  runs_.compare = seedCompareRun(store, {});
  runs_.hidden = seedHiddenRun(store, {});
  runs_.probe = seedProbeRun(store, {});
  runs_.probeOne = seedProbeRun(store, { name: "one probe", steps: null });
  runs_.train = seedRun(store, { name: "a fine-tune", steps: 10 });
  runs_.pending = store.create({ kind: "attention", name: "still running", model: "m", method: "float32", config: {}, estimate: null });
  store.close();
  ui = await startUiProcess(runs);
}, 60_000);
afterAll(() => ui?.stop());

const get = (target: string) => request(ui.port, "GET", target, { Authorization: `Bearer ${ui.token}` });
const json = async (target: string) => {
  const r = await get(target);
  return { status: r.status, body: r.headers["content-type"]?.includes("json") ? JSON.parse(r.body) : r.body };
};

/** A binary answer as float32 values, with its shape header. */
function binary(target: string): Promise<{ status: number; shape: string | undefined; side: string | undefined; values: Float32Array }> {
  return new Promise((resolve, reject) => {
    import("node:http").then(({ default: http }) => {
      const req = http.request({ host: "127.0.0.1", port: ui.port, path: target, headers: { Host: `127.0.0.1:${ui.port}`, Authorization: `Bearer ${ui.token}` } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () => {
          const b = Buffer.concat(chunks);
          const values = new Float32Array(b.length / 4);
          for (let i = 0; i < values.length; i++) values[i] = b.readFloatLE(4 * i);
          resolve({ status: res.statusCode ?? 0, shape: res.headers["x-fitlab-shape"] as string | undefined, side: res.headers["x-fitlab-side"] as string | undefined, values });
        });
      });
      req.on("error", reject);
      req.end();
    }, reject);
  });
}

describe("the inspection's object: the CLI's --json", () => {
  it.each(["attention", "compare", "hidden", "probe", "probeOne"])("%s: GET /api/runs/:id/inspect = `fitlab inspect show ID --json`", async (k) => {
    const cli = runCli(["inspect", "show", runs_[k]!.id, "--runs", runs, "--json"]);
    expect(cli.err).toBe("");
    const api = await json(`/api/runs/${runs_[k]!.id}/inspect`);
    expect(api.status).toBe(200);
    expect(api.body).toEqual(JSON.parse(cli.out));
    expect(api.body.findings.length).toBeGreaterThan(0);
  });
  it("`fitlab inspect show` in words; a training run or an unfinished one: one line, exit 2", async () => {
    const text = runCli(["inspect", "show", "B.attention", "--runs", runs]);
    expect(text.out).toMatch(/B\.attention \(attention, done\)\n {2}- 1 of 16 heads attend mostly to the previous token \(share >= 0\.5\): L1H2 \(0\.90\)/);
    expectOneLineError(runCli(["inspect", "show", runs_.train!.id, "--runs", runs]), /is a train run, not an inspection .*`fitlab runs show /);
    expectOneLineError(runCli(["inspect", "show", runs_.pending!.id, "--runs", runs]), /has no result/);
    const pending = await json(`/api/runs/${runs_.pending!.id}/inspect`);
    expect(pending.status).toBe(404);
    expect(pending.body.error).toMatch(/has no result yet: it is still running/);
    expect((await json(`/api/runs/${runs_.train!.id}/inspect`)).status).toBe(404);
  });
});

describe("attention maps, one head at a time", () => {
  it("a prompt: its tokens, the pooled bins' token edges, the heads at full resolution", async () => {
    const a = runs_.attention!;
    const p0 = (await json(`/api/runs/${a.id}/maps/0`)).body;
    const tokens = JSON.parse(fs.readFileSync(path.join(a.dir, "maps/prompt-000.json"), "utf8")).tokens;
    expect(p0).toMatchObject({ run_id: a.id, kind: "attention", prompt: 0, tokens, layers: 4, heads: 4, pooled_size: 128, full_heads: ["1.2"], sides: ["attention"] });
    expect(p0.bin_edges).toHaveLength(129);
    expect([p0.bin_edges[0], p0.bin_edges[64], p0.bin_edges[65], p0.bin_edges[128]]).toEqual([0, 150, 153, 300]);
    const p1 = (await json(`/api/runs/${a.id}/maps/1`)).body;
    expect(p1.bin_edges).toEqual(Array.from({ length: 17 }, (_, i) => i));
    expect((await json(`/api/runs/${runs_.compare!.id}/maps/0`)).body.sides).toEqual(["base", "tuned", "difference"]);
  });
  it("a head's pooled or full map: float32 rows x cols, the values of the file", async () => {
    const a = runs_.attention!;
    const file = path.join(a.dir, "maps/prompt-000.safetensors");
    const pooled = await binary(`/api/runs/${a.id}/maps/0/1/2`);
    expect([pooled.status, pooled.shape]).toEqual([200, "128,128"]);
    expect([...pooled.values]).toEqual([...readTensorBlock(file, "pooled", [1, 2]).data]);
    const full = await binary(`/api/runs/${a.id}/maps/0/1/2?res=full`);
    expect(full.shape).toBe("300,300");
    expect([...full.values]).toEqual([...readTensorBlock(file, "full.1.2", []).data]);
    // another head of the same file: a different block
    const other = await binary(`/api/runs/${a.id}/maps/0/3/1`);
    expect([...other.values]).toEqual([...readTensorBlock(file, "pooled", [3, 1]).data]);
    expect([...other.values]).not.toEqual([...pooled.values]);
  });
  it("compare: base, fine-tuned and their difference", async () => {
    const c = runs_.compare!;
    const f = (side: string) => readTensorBlock(path.join(c.dir, `maps/prompt-000-${side}.safetensors`), "pooled", [2, 0]).data;
    const base = await binary(`/api/runs/${c.id}/maps/0/2/0?side=base`);
    const tuned = await binary(`/api/runs/${c.id}/maps/0/2/0?side=tuned`);
    const diff = await binary(`/api/runs/${c.id}/maps/0/2/0?side=difference`);
    expect([...base.values]).toEqual([...f("base")]);
    expect([...tuned.values]).toEqual([...f("tuned")]);
    expect(diff.side).toBe("difference");
    diff.values.forEach((v, i) => expect(v).toBeCloseTo(tuned.values[i]! - base.values[i]!, 6));
    expect(Math.min(...diff.values)).toBeLessThan(-0.3); // the sink the fine-tune removed
  });
  it.each([
    ["maps/5", 400, /run \S+ kept no maps of prompt 5 \(prompts with maps: 0, 1\)/],
    ["maps/0/9/0", 400, /layer 9 is out of range: the model has 4 layers \(0-3\)/],
    ["maps/0/0/4", 400, /head 4 is out of range: the model has 4 heads per layer \(0-3\)/],
    ["maps/0/2/0?res=full", 400, /head 2\.0 was not kept at full resolution for prompt 0 \(full-resolution heads: 1\.2\)/],
    ["maps/0/2/0?side=base", 400, /side must be attention for an attention run, got "base"/],
    ["maps/0/2/0?side=left", 400, /side must be attention, base, tuned, difference, got "left"/],
    ["maps/0/2/0?res=huge", 400, /res must be pooled or full, got "huge"/],
    ["maps/0/2/0?colour=red", 400, /unknown parameter "colour"; parameters: side, res/],
    ["maps/x/2/0", 400, /prompt must be a whole number, got "x"/],
    ["maps/0/-1/0", 400, /layer must be a whole number, got "-1"/],
  ])("attention run, %s: %i with one line", async (tail, status, msg) => {
    const r = await json(`/api/runs/${runs_.attention!.id}/${tail}`);
    expect(r.status).toBe(status);
    expect(r.body.error).toMatch(msg);
    expect(r.body.error).not.toMatch(/\n/);
  });
  it("runs without maps: 404", async () => {
    for (const k of ["hidden", "probe", "train"]) {
      const r = await json(`/api/runs/${runs_[k]!.id}/maps/0`);
      expect(r.status).toBe(404);
      expect(r.body.error).toMatch(/runs keep no attention maps/);
    }
    expect((await json(`/api/runs/${runs_.pending!.id}/maps/0/0/0`)).status).toBe(404);
  });
});

describe("pooled bins", () => {
  it("bin b starts at the first token the worker puts in it (floor(t * P / T)), for any T and P <= T", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 128 }), (T, p) => {
        const P = Math.min(T, p);
        const e = binEdges(T, P);
        if (e[0] !== 0 || e[P] !== T) return false;
        for (let t = 0; t < T; t++) {
          const b = Math.floor((t * P) / T);
          if (!(e[b]! <= t && t < e[b + 1]!)) return false;
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });
});
