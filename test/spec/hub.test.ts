// Models by hub id against a stand-in hub on 127.0.0.1 (HF_ENDPOINT): config.json and the safetensors headers
// (by HTTP range requests) are fetched once, cached in the fitlab home and said so; later calls stay offline;
// an unreachable hub is a one-line error naming the id.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, expectOneLineError, runCli } from "../helpers.js";
import { llamaTensors, safetensorsBytes } from "../support/model-files.js";
import { startHubStandin, type HubStandin } from "../support/hub-config-standin.js";

const cfg = {
  architectures: ["LlamaForCausalLM"], model_type: "llama", hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2,
  num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 96, tie_word_embeddings: false, torch_dtype: "bfloat16",
};
const dims = { hidden: 64, inter: 128, layers: 2, heads: 4, kv: 2, vocab: 96, tied: false };
const all = llamaTensors(dims, "BF16");
// two shards, as the hub serves big models: model.safetensors.index.json + model-0000x-of-00002.safetensors
const shard1 = all.slice(0, 10);
const shard2 = all.slice(10);
const index = { metadata: {}, weight_map: Object.fromEntries([...shard1.map((t) => [t.name, "model-00001-of-00002.safetensors"]), ...shard2.map((t) => [t.name, "model-00002-of-00002.safetensors"])]) };

/** The CLI as a child process without blocking the event loop (the stand-in server runs in this process). */
function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, FITLAB_NO_NVIDIA_SMI: "1", ...env } });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("close", (code) => resolve({ code, out, err }));
  });
}

let hub: HubStandin;
let home: string;
beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-hub-"));
  hub = await startHubStandin({
    "tiny-org/tiny-llama/config.json": JSON.stringify(cfg),
    "tiny-org/tiny-llama/model.safetensors.index.json": JSON.stringify(index),
    "tiny-org/tiny-llama/model-00001-of-00002.safetensors": safetensorsBytes(shard1),
    "tiny-org/tiny-llama/model-00002-of-00002.safetensors": safetensorsBytes(shard2),
    "tiny-org/config-only/config.json": JSON.stringify(cfg),
  });
});
afterAll(async () => {
  await hub.close();
  fs.rmSync(home, { recursive: true, force: true });
});

describe("models by hub id", () => {
  it("fetches config.json and the shard headers by range requests once, caches them, and says so", async () => {
    const env = { HF_ENDPOINT: hub.endpoint, FITLAB_HOME: home };
    const r = await cli(["models", "tiny-org/tiny-llama", "--json"], env);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/fetched config\.json and 2 safetensors headers of tiny-org\/tiny-llama from http:\/\/127\.0\.0\.1:\d+; cached in .*tiny-org--tiny-llama/);
    const spec = JSON.parse(r.out);
    expect(spec.hiddenSize).toBe(64);
    expect(spec.stored.totalBytes).toBe(spec.params.total * 2);
    // headers only: every safetensors request is a range request, never the whole file
    const st = hub.requests.filter((q) => q.path.endsWith(".safetensors"));
    expect(st.length).toBeGreaterThanOrEqual(2);
    expect(st.every((q) => q.range !== null)).toBe(true);
    expect(fs.existsSync(path.join(home, "hub", "tiny-org--tiny-llama", "config.json"))).toBe(true);
    // second call: from the cache, no request, nothing said
    const before = hub.requests.length;
    const again = await cli(["estimate", "--model", "tiny-org/tiny-llama", "--workload", "inference_decode", "--gpu", "rtx 4090", "--json"], env);
    expect(again.code).toBe(0);
    expect(again.err).toBe("");
    expect(hub.requests.length).toBe(before);
    expect(JSON.parse(again.out).components.weights).toBe(spec.stored.totalBytes);
  });
  it("a model without safetensors still resolves from its config.json", async () => {
    const r = await cli(["models", "tiny-org/config-only"], { HF_ENDPOINT: hub.endpoint, FITLAB_HOME: home });
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/fetched config\.json of tiny-org\/config-only .*no safetensors headers: HTTP 404/);
  });
  it("an unknown id or an unreachable hub is one line naming the id, exit 2", async () => {
    const missing = await cli(["estimate", "--model", "tiny-org/nope"], { HF_ENDPOINT: hub.endpoint, FITLAB_HOME: home });
    expectOneLineError(missing, /unknown model "tiny-org\/nope": not built in, and its config\.json could not be fetched from http:\/\/127\.0\.0\.1:\d+ \(HTTP 404: no such model\)/);
    // a port nobody listens on: start a server, note its port, close it
    const gone = await startHubStandin({});
    const endpoint = gone.endpoint;
    await gone.close();
    expectOneLineError(runCli(["models", "someone/offline-model"], { HF_ENDPOINT: endpoint, FITLAB_HOME: home }), /unknown model "someone\/offline-model": .*could not be fetched from http:\/\/127\.0\.0\.1:\d+ \(unreachable: ECONNREFUSED\)/);
  });

  it("a quantized upload of a built-in model is planned from the built-in config when the hub cannot be reached, and said so", async () => {
    const gone = await startHubStandin({});
    const endpoint = gone.endpoint;
    await gone.close();
    const env = { HF_ENDPOINT: endpoint, FITLAB_HOME: home };
    const decode = ["--workload", "inference_decode", "--seq", "4096", "--gpu", "rtx 4090", "--json"];
    const awq = await cli(["estimate", "--model", "Qwen/Qwen3-8B-AWQ", ...decode], env);
    expect(awq.code).toBe(0);
    expect(awq.err).toMatch(/Qwen\/Qwen3-8B-AWQ is not built in and was not fetched: planned with the architecture of Qwen\/Qwen3-8B, stored as awq-int4 \(the "-AWQ" in its name\)/);
    // the same plan as the built-in model told to load AWQ weights: the name added nothing else
    const base = runCli(["estimate", "--model", "Qwen/Qwen3-8B", "--quant", "awq-int4", ...decode], env);
    expect(base.code).toBe(0);
    expect(JSON.parse(awq.out).components).toEqual(JSON.parse(base.out).components);
    // suffixes stack and the owner may differ: Unsloth's 4-bit upload of an -Instruct twin
    const bnb = await cli(["estimate", "--model", "unsloth/Qwen2.5-7B-Instruct-bnb-4bit", "--json"], env);
    expect(bnb.code).toBe(0);
    expect(JSON.parse(bnb.out).workload.quant).toBe("bnb-nf4-dq");
    // a name whose remainder is not built in stays an unknown model
    expectOneLineError(await cli(["estimate", "--model", "someone/Mystery-9B-AWQ"], env), /unknown model "someone\/Mystery-9B-AWQ": .*could not be fetched/);
  });
  it("a fetched config.json wins over the name", async () => {
    const env = { HF_ENDPOINT: hub.endpoint, FITLAB_HOME: home };
    const r = await cli(["estimate", "--model", "tiny-org/tiny-llama-AWQ", "--workload", "inference_decode", "--json"], env);
    // not on the stand-in hub and not built in: the rule does not invent a model
    expectOneLineError(r, /unknown model "tiny-org\/tiny-llama-AWQ"/);
  });
});
