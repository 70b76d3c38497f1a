// Hub sources checked before a run exists (src/runs/hub-check.ts): offline, a repository must be in the
// Hugging Face caches in huggingface_hub's and datasets' own layouts; online, the hub must answer anything
// (a local stand-in server here; nothing can reach huggingface.co from the tests).
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FitlabInputError } from "../../src/errors.js";
import { checkHubSources, hubOffline, inHfCache } from "../../src/runs/hub-check.js";

const VARS = ["HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_DATASETS_CACHE", "HF_ENDPOINT", "XDG_CACHE_HOME"];
const saved = Object.fromEntries(VARS.map((k) => [k, process.env[k]]));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-hub-check-"));
let server: http.Server;
const seen: string[] = [];

beforeAll(async () => {
  // answers 404 to everything, as the hub does for a missing repository: an answer all the same
  server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
});
afterAll(() => {
  server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});
afterEach(() => {
  for (const k of VARS) if (saved[k] === undefined) delete process.env[k];
  else process.env[k] = saved[k];
});

async function refusal(p: Promise<void>): Promise<string> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(FitlabInputError);
  const msg = (e as Error).message;
  expect(msg).not.toContain("\n");
  return msg;
}

describe("hub sources before a run", () => {
  it("reads the offline switches as huggingface_hub does (1/on/yes/true), datasets' own switch for datasets only", () => {
    for (const k of VARS) delete process.env[k];
    expect(hubOffline("model")).toBe(false);
    process.env.HF_HUB_OFFLINE = "Yes";
    expect(hubOffline("model")).toBe(true);
    process.env.HF_HUB_OFFLINE = "0";
    expect(hubOffline("model")).toBe(false);
    process.env.HF_DATASETS_OFFLINE = "1";
    expect(hubOffline("model")).toBe(false);
    expect(hubOffline("dataset")).toBe(true);
  });

  it("offline: a model or dataset missing from the cache is one line; one in the cache passes", async () => {
    for (const k of VARS) delete process.env[k];
    const home = path.join(tmp, "hf");
    process.env.HF_HOME = home;
    process.env.HF_HUB_OFFLINE = "1";
    process.env.HF_ENDPOINT = "http://127.0.0.1:9"; // never asked while offline
    const model = { kind: "model" as const, id: "acme/tiny" };
    expect(await refusal(checkHubSources([model]))).toBe("model acme/tiny is not in the Hugging Face cache and HF_HUB_OFFLINE=1 forbids downloading it: run once with network, or unset HF_HUB_OFFLINE");
    // an empty snapshots folder is no copy
    fs.mkdirSync(path.join(home, "hub", "models--acme--tiny", "snapshots"), { recursive: true });
    expect(inHfCache(model)).toBe(false);
    fs.mkdirSync(path.join(home, "hub", "models--acme--tiny", "snapshots", "0123abc"));
    expect(inHfCache(model)).toBe(true);
    await checkHubSources([model]);
    // a dataset: the hub cache (datasets--owner--name) or the datasets library's own (owner___name)
    const ds = { kind: "dataset" as const, id: "acme/texts" };
    expect(await refusal(checkHubSources([model, ds]))).toMatch(/^dataset acme\/texts is not in the Hugging Face cache/);
    fs.mkdirSync(path.join(home, "datasets", "acme___texts"), { recursive: true });
    await checkHubSources([model, ds]);
    expect(seen).toEqual([]);
  });

  it("online: any answer of the hub will do; a hub that does not answer is one line naming it and the cache", async () => {
    for (const k of VARS) delete process.env[k];
    process.env.HF_HOME = path.join(tmp, "hf-online");
    process.env.HF_ENDPOINT = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    await checkHubSources([{ kind: "model", id: "acme/tiny" }, { kind: "model", id: "acme/tiny" }]);
    expect(seen).toEqual(["HEAD /api/models/acme/tiny"]); // once, though named twice
    // a closed port: refused, and told the copy in the cache could be used offline
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    process.env.HF_ENDPOINT = `http://127.0.0.1:${port}`;
    expect(await refusal(checkHubSources([{ kind: "dataset", id: "acme/texts" }]))).toBe(`cannot reach http://127.0.0.1:${port} to fetch dataset acme/texts (ECONNREFUSED): check the network; it is not in the Hugging Face cache either`);
    fs.mkdirSync(path.join(tmp, "hf-online", "hub", "datasets--acme--texts", "snapshots", "abc"), { recursive: true });
    expect(await refusal(checkHubSources([{ kind: "dataset", id: "acme/texts" }]))).toMatch(/check the network, or set HF_HUB_OFFLINE=1 to use the copy in the Hugging Face cache$/);
  });
});
