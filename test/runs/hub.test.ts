// The worker's real hub loading code (huggingface_hub, transformers, the `datasets` library) against the local
// stand-in (test/support/hub-standin.ts) through HF_ENDPOINT: models by id with the resolved commit recorded,
// safetensors only, gated models and HF_TOKEN, HF_HUB_OFFLINE, download progress; datasets by id mapped to the
// worker's formats and sampled to a token budget; WikiText- and ARC-shaped sets for forgetting.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { venvPython, workerReady } from "../../src/runs/env.js";
import type { WorkerEvent } from "../../src/runs/protocol.js";
import { runJob } from "../../src/runs/worker.js";
import { startHubStandin, type HubStandin } from "../support/hub-standin.js";
import { runCliAsync, workerFailure } from "../helpers.js";

const DEMO = fileURLToPath(new URL("../../data/demo/", import.meta.url));
const FIXTURES = fileURLToPath(new URL("../support/make_hub_fixtures.py", import.meta.url));
const ready = workerReady();
if (!ready && process.env.CI) throw new Error("CI must run `npx fitlab engine setup` before the tests (see .ci/run)");

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-hub-"));
let hub: HubStandin;
const hfHome = path.join(tmp, "hf-home");
const env = (extra: Record<string, string> = {}) => ({ HF_ENDPOINT: hub.url, HF_HOME: hfHome, HF_TOKEN: "", HF_HUB_OFFLINE: "0", HF_HUB_DISABLE_TELEMETRY: "1", ...extra });

describe.runIf(ready)("models and datasets by hub id, against a local stand-in hub", () => {
  beforeAll(async () => {
    const model = path.join(tmp, "tiny-qwen2");
    await runJob("make_tiny", { out_dir: model, arch: "qwen2", words: JSON.parse(fs.readFileSync(path.join(DEMO, "words.json"), "utf8")) });
    const fx = path.join(tmp, "fx");
    const r = spawnSync(venvPython(), [FIXTURES, fx, path.join(DEMO, "words.json")], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    // a repo with pickled weights only (the bytes are never fetched: it is refused from its file list)
    const pickles = path.join(tmp, "pickles");
    fs.mkdirSync(pickles);
    fs.copyFileSync(path.join(model, "config.json"), path.join(pickles, "config.json"));
    fs.writeFileSync(path.join(pickles, "pytorch_model.bin"), Buffer.alloc(64));
    hub = await startHubStandin([
      { type: "model", id: "fitlab-test/tiny-qwen2", dir: model },
      { type: "model", id: "fitlab-test/gated-qwen2", dir: model, gated: true },
      { type: "model", id: "fitlab-test/pickles", dir: pickles },
      { type: "dataset", id: "fitlab-test/tiny-alpaca", dir: path.join(fx, "alpaca") },
      { type: "dataset", id: "fitlab-test/tiny-chat", dir: path.join(fx, "chat") },
      { type: "dataset", id: "fitlab-test/wikitext", dir: path.join(fx, "wikitext") },
      { type: "dataset", id: "fitlab-test/arc", dir: path.join(fx, "arc") },
    ]);
  }, 180_000);
  afterAll(async () => hub?.close());

  it("the stand-in answers Range requests and HEADs the way the hub does", async () => {
    const url = `${hub.url}/fitlab-test/tiny-qwen2/resolve/main/model.safetensors`;
    const head = await fetch(url, { method: "HEAD" });
    expect(head.headers.get("x-repo-commit")).toBe(hub.sha("fitlab-test/tiny-qwen2"));
    const size = Number(head.headers.get("x-linked-size"));
    const r = await fetch(url, { headers: { Range: "bytes=0-7" } });
    expect(r.status).toBe(206);
    expect(r.headers.get("content-range")).toBe(`bytes 0-7/${size}`);
    const headerLen = Buffer.from(await r.arrayBuffer()).readBigUInt64LE(0);
    const json = await (await fetch(url, { headers: { Range: `bytes=8-${7 + Number(headerLen)}` } })).text();
    expect(Object.keys(JSON.parse(json))).toContain("model.embed_tokens.weight");
    expect((await fetch(`${hub.url}/fitlab-test/gated-qwen2/resolve/main/config.json`)).status).toBe(401);
  });

  it("trains a hub model on a hub instruction set: resolved commits recorded, Alpaca prompts, a sample sized to the token budget, download progress", async () => {
    const out = path.join(tmp, "run-alpaca");
    const events: WorkerEvent[] = [];
    const budget = 1500;
    const r = await runJob(
      "train",
      { model: "fitlab-test/tiny-qwen2", method: "lora", dataset: { hub: "fitlab-test/tiny-alpaca", tokens: budget, eval_fraction: 0.1 }, max_steps: 3, batch_size: 4, max_seq_len: 128, learning_rate: 0.01, device: "cpu", output_dir: out },
      { env: env(), onEvent: (e) => events.push(e) },
    );
    expect(r.model_source).toEqual({ id: "fitlab-test/tiny-qwen2", revision: "main", sha: hub.sha("fitlab-test/tiny-qwen2"), source: "hub" });
    const ds = r.data_source as Record<string, number | string>;
    expect(ds).toMatchObject({ source: "hub", id: "fitlab-test/tiny-alpaca", sha: hub.sha("fitlab-test/tiny-alpaca"), format: "instruction", rows: 120 });
    expect(ds.tokens as number).toBeGreaterThanOrEqual(budget);
    expect(ds.selected as number).toBeLessThan(120); // the budget stopped the sample before the end
    // the selected records are kept in the run folder, with the Alpaca prompt and the output as completion
    const rows = fs.readFileSync(path.join(out, "data", "train.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(rows.length + fs.readFileSync(path.join(out, "data", "eval.jsonl"), "utf8").trim().split("\n").length).toBe(ds.selected);
    expect(rows[0].prompt).toMatch(/### Instruction:\ncount\n\n### Input:\n(\w ){2}\w\n\n### Response:\n$/);
    expect(rows[0].completion).toBe(rows[0].prompt.match(/### Input:\n(.*)\n/)[1]);
    expect(JSON.parse(fs.readFileSync(path.join(out, "model_source.json"), "utf8")).sha).toBe(hub.sha("fitlab-test/tiny-qwen2"));
    // GPU telemetry is skipped cleanly on the CPU: no NVML fields, no device-level peak
    const metric = JSON.parse(fs.readFileSync(path.join(out, "metrics.jsonl"), "utf8").split("\n").find((l) => l.includes('"train"'))!);
    expect(Object.keys(metric)).not.toContain("gpu_util_pct");
    expect(r.device_peak_bytes).toBeNull();
    expect(r.gpu_name).toBeNull();
    const downloads = events.filter((e) => e.type === "progress" && e.job === "download");
    expect(downloads.some((e) => e.type === "progress" && typeof e.total === "number" && e.step === e.total && e.total > 100_000)).toBe(true);
    // configs, tokenizer and safetensors only
    const fetched = hub.requests.filter((q) => q.startsWith("GET /fitlab-test/tiny-qwen2/resolve/")).map((q) => q.split("/").at(-1));
    expect(fetched).toEqual(expect.arrayContaining(["config.json", "model.safetensors", "tokenizer.json"]));
    expect(fetched.some((f) => f!.endsWith(".bin"))).toBe(false);
  }, 300_000);

  it("`fitlab run --model ID --data ID` trains on a hub chat set (messages) and records where both came from", async () => {
    const runs = path.join(tmp, "runs-chat");
    const r = await runCliAsync(["run", "--model", "fitlab-test/tiny-qwen2", "--data", "fitlab-test/tiny-chat", "--steps", "3", "--batch", "4", "--seq", "64", "--lr", "0.01", "--device", "cpu", "--runs", runs, "--json"], env());
    expect(r.code, r.err).toBe(0);
    const run = JSON.parse(r.out).runs[0];
    expect(run.status).toBe("done");
    const source = JSON.parse(fs.readFileSync(path.join(run.dir, "data", "source.json"), "utf8"));
    expect(source).toMatchObject({ id: "fitlab-test/tiny-chat", format: "messages", sha: hub.sha("fitlab-test/tiny-chat") });
    expect(JSON.parse(fs.readFileSync(path.join(run.dir, "data", "train.jsonl"), "utf8").split("\n")[0]!).messages[1].role).toBe("assistant");
  }, 300_000);

  it("refuses a repo with pickled weights only, before downloading anything", async () => {
    const e = await workerFailure(runJob("evaluate", { model: "fitlab-test/pickles", device: "cpu" }, { env: env() }));
    expect(e.kind).toBe("input");
    expect(e.message).toMatch(/^model fitlab-test\/pickles has only pickled weights \(pytorch_model.bin\) .*safetensors only/);
    expect(e.message).not.toMatch(/\n/);
    expect(hub.requests.some((q) => q.includes("pytorch_model.bin"))).toBe(false);
  }, 120_000);

  it("a gated model: one line naming HF_TOKEN without a token, another with a token that has no access, and it loads with one that has", async () => {
    const none = await workerFailure(runJob("evaluate", { model: "fitlab-test/gated-qwen2", device: "cpu" }, { env: env() }));
    expect(none.message).toMatch(/^model fitlab-test\/gated-qwen2 is gated: accept its terms at https:\/\/huggingface.co\/fitlab-test\/gated-qwen2 and set HF_TOKEN/);
    const wrong = await workerFailure(runJob("evaluate", { model: "fitlab-test/gated-qwen2", device: "cpu" }, { env: env({ HF_TOKEN: "hf_wrong" }) }));
    expect(wrong.message).toMatch(/the token in HF_TOKEN has no access/);
    const ok = await runJob("evaluate", { model: "fitlab-test/gated-qwen2", device: "cpu", general_text: path.join(DEMO, "general.txt") }, { env: env({ HF_TOKEN: "hf_standin_token" }) });
    expect(ok.perplexity).toBeGreaterThan(1);
  }, 300_000);

  it("HF_HUB_OFFLINE: an uncached model fails at once in one line; a cached one loads without the network", async () => {
    const t0 = Date.now();
    const e = await workerFailure(runJob("evaluate", { model: "fitlab-test/never-fetched", device: "cpu" }, { env: env({ HF_HUB_OFFLINE: "1" }) }));
    const seconds = (Date.now() - t0) / 1000;
    expect(e.message).toMatch(/^model fitlab-test\/never-fetched \(revision main\) is not in the Hugging Face cache and HF_HUB_OFFLINE=1 forbids downloading it/);
    expect(seconds).toBeLessThan(15); // the worker checks before it imports torch (about 1 s on an idle machine)
    // no hub at all: a dead endpoint, and the cache from the runs above
    const before = hub.requests.length;
    const ok = await runJob("evaluate", { model: "fitlab-test/tiny-qwen2", device: "cpu", general_text: path.join(DEMO, "general.txt") }, { env: env({ HF_HUB_OFFLINE: "1", HF_ENDPOINT: "http://127.0.0.1:9" }) });
    expect(ok.perplexity).toBeGreaterThan(1);
    expect((ok.model_source as { source: string }).source).toBe("cache");
    expect(hub.requests.length).toBe(before);
    // a cached dataset too (the `datasets` cache), and one line for one that is not cached
    const offline = env({ HF_HUB_OFFLINE: "1", HF_ENDPOINT: "http://127.0.0.1:9" });
    const trained = await runJob("train", { model: "fitlab-test/tiny-qwen2", method: "lora", dataset: { hub: "fitlab-test/tiny-alpaca", examples: 40 }, max_steps: 1, batch_size: 4, max_seq_len: 128, device: "cpu", output_dir: path.join(tmp, "run-offline") }, { env: offline });
    expect(trained.data_source).toMatchObject({ id: "fitlab-test/tiny-alpaca", sha: null, selected: 40 });
    const noData = await workerFailure(runJob("train", { model: "fitlab-test/tiny-qwen2", method: "lora", dataset: { hub: "fitlab-test/never" }, max_steps: 1, device: "cpu", output_dir: path.join(tmp, "run-offline-2") }, { env: offline }));
    expect(noData.message).toMatch(/^dataset fitlab-test\/never is not in the cache and HF_HUB_OFFLINE=1 forbids downloading it/);
    expect(hub.requests.length).toBe(before);
    const unreachable = await workerFailure(runJob("evaluate", { model: "fitlab-test/other", device: "cpu" }, { env: env({ HF_ENDPOINT: "http://127.0.0.1:9" }) }));
    expect(unreachable.message).toMatch(/^cannot reach http:\/\/127.0.0.1:9 to fetch fitlab-test\/other .*HF_HUB_OFFLINE=1/);
  }, 300_000);

  it("forgetting data by id: perplexity on a WikiText-shaped config/split, accuracy on ARC-shaped items", async () => {
    const r = await runJob(
      "evaluate",
      {
        model: "fitlab-test/tiny-qwen2",
        device: "cpu",
        general_text: { hub: "fitlab-test/wikitext", config: "wikitext-2-raw-v1", split: "test" },
        multiple_choice: { hub: "fitlab-test/arc", config: "ARC-Easy", split: "test", limit: 10 },
      },
      { env: env() },
    );
    expect(r.perplexity).toBeGreaterThan(1);
    expect(r.mc_items).toBe(10);
    expect(r.mc_accuracy).toBeGreaterThanOrEqual(0);
    expect(r.mc_accuracy).toBeLessThanOrEqual(1);
    expect(r.general_text_sha).toBe(hub.sha("fitlab-test/wikitext"));
    expect(r.multiple_choice_sha).toBe(hub.sha("fitlab-test/arc"));
    const bad = await workerFailure(runJob("evaluate", { model: "fitlab-test/tiny-qwen2", device: "cpu", general_text: { hub: "fitlab-test/wikitext", config: "wikitext-2-raw-v1", split: "nope" } }, { env: env() }));
    expect(bad.kind).toBe("input");
    expect(bad.message).toMatch(/^dataset fitlab-test\/wikitext: .*nope/);
  }, 300_000);
});
