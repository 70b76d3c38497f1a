// `fitlab ui` is safe by default: the contract's first line, the token swapped for an HttpOnly cookie,
// Bearer accepted, 401 without the token, 403 for a foreign Host (DNS rebinding) or a foreign Origin on a
// POST, `..` and absolute paths refused in every parameter, and nothing outside the run store read
// (a symlink out of a run folder, a run row pointing elsewhere). Against the real process.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunStore } from "../../src/runs/store.js";
import { seedAttentionRun } from "../fixtures/seed-inspect.mjs";
import { seedRun } from "../fixtures/seed-store.mjs";
import { BIN, request, startUiProcess, type UiProcess } from "./ui-process.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-ui-sec-"));
const runs = path.join(tmp, "runs");
const SECRET = "SECRET-7f3a-do-not-serve";
const secretFile = path.join(tmp, "outside", "secret.jsonl");
const ids: Record<string, string> = {};
let ui: UiProcess;
const auth = () => ({ Authorization: `Bearer ${ui.token}` });

beforeAll(async () => {
  fs.mkdirSync(path.dirname(secretFile), { recursive: true });
  fs.writeFileSync(secretFile, `{"type":"train","step":1,"loss":1,"note":"${SECRET}"}\n`);
  const store = new RunStore(runs);
  ids.ok = seedRun(store, { name: "ok", steps: 20, ckptEvery: 10, forgetting: true }).id;
  // a run folder whose metrics.jsonl is a symlink out of the store
  const link = seedRun(store, { name: "symlinked", steps: 5 });
  fs.rmSync(path.join(link.dir, "metrics.jsonl"));
  fs.symlinkSync(secretFile, path.join(link.dir, "metrics.jsonl"));
  ids.link = link.id;
  // a run row whose folder lies outside the store (and none inside)
  const away = seedRun(store, { name: "elsewhere", steps: 5 });
  fs.rmSync(away.dir, { recursive: true });
  store.update(away.id, { dir: path.dirname(secretFile) });
  fs.copyFileSync(secretFile, path.join(path.dirname(secretFile), "metrics.jsonl"));
  ids.away = away.id;
  // attention runs: one as the worker writes it; one whose map file is a symlink out of its folder; one whose
  // result names a map file outside its folder
  ids.att = seedAttentionRun(store, { name: "att", prompts: [8] }).id;
  const linked = seedAttentionRun(store, { name: "att-linked", prompts: [8] });
  fs.copyFileSync(path.join(linked.dir, "maps/prompt-000.safetensors"), path.join(path.dirname(secretFile), "stolen.safetensors"));
  fs.rmSync(path.join(linked.dir, "maps/prompt-000.safetensors"));
  fs.symlinkSync(path.join(path.dirname(secretFile), "stolen.safetensors"), path.join(linked.dir, "maps/prompt-000.safetensors"));
  fs.rmSync(path.join(linked.dir, "maps/prompt-000.json"));
  fs.symlinkSync(secretFile, path.join(linked.dir, "maps/prompt-000.json"));
  ids.attLinked = linked.id;
  const tampered = seedAttentionRun(store, { name: "att-tampered", prompts: [8] });
  const result = JSON.parse(fs.readFileSync(path.join(tampered.dir, "result.json"), "utf8"));
  result.maps[0].file = "../../outside/secret.jsonl";
  result.maps[0].tokens_file = "/etc/passwd";
  fs.writeFileSync(path.join(tampered.dir, "result.json"), JSON.stringify(result));
  ids.attTampered = tampered.id;
  store.close();
  ui = await startUiProcess(runs);
}, 60_000);
afterAll(() => ui?.stop());

describe("the contract", () => {
  it("prints `fitlab ui: http://127.0.0.1:PORT/?token=TOKEN` first, on a free port for --port 0", () => {
    expect(ui.firstLine).toMatch(/^fitlab ui: http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    expect(ui.port).toBeGreaterThan(0);
  });
  it("GET /api/runs with the Bearer token returns the run list; without it 401; with Host evil.example 403", async () => {
    const ok = await request(ui.port, "GET", "/api/runs", auth());
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).map((r: { name: string }) => r.name).sort()).toEqual(["att", "att-linked", "att-tampered", "elsewhere", "ok", "symlinked"]);
    expect((await request(ui.port, "GET", "/api/runs")).status).toBe(401);
    expect((await request(ui.port, "GET", "/api/runs", { ...auth(), Host: "evil.example" })).status).toBe(403);
    expect((await request(ui.port, "GET", "/api/runs", { ...auth(), Host: `evil.example:${ui.port}` })).status).toBe(403);
    expect((await request(ui.port, "GET", "/api/runs", { ...auth(), Host: `localhost:${ui.port}` })).status).toBe(200);
  });
});

describe("the token", () => {
  it("the printed URL swaps the token for an HttpOnly, SameSite=Strict cookie and drops it from the address", async () => {
    const r = await request(ui.port, "GET", `/?token=${ui.token}`);
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe("/");
    const cookie = String(r.headers["set-cookie"]);
    expect(cookie).toMatch(new RegExp(`^fitlab_${ui.port}=${ui.token}; HttpOnly; SameSite=Strict; Path=/$`));
    const withCookie = await request(ui.port, "GET", "/api/runs", { Cookie: `fitlab_${ui.port}=${ui.token}` });
    expect(withCookie.status).toBe(200);
    const page = await request(ui.port, "GET", "/", { Cookie: `fitlab_${ui.port}=${ui.token}` });
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js"><\/script>/);
  });
  it("a wrong token is refused everywhere: URL, cookie, Bearer, and the event streams", async () => {
    const wrong = ui.token.replace(/^./, (c) => (c === "A" ? "B" : "A"));
    expect((await request(ui.port, "GET", `/?token=${wrong}`)).status).toBe(401);
    expect((await request(ui.port, "GET", "/api/runs", { Cookie: `fitlab_${ui.port}=${wrong}` })).status).toBe(401);
    expect((await request(ui.port, "GET", "/api/runs", { Authorization: `Bearer ${wrong}` })).status).toBe(401);
    expect((await request(ui.port, "GET", "/api/runs", { Authorization: `Bearer ${ui.token}x` })).status).toBe(401);
    expect((await request(ui.port, "GET", "/api/runs/stream")).status).toBe(401);
    expect((await request(ui.port, "GET", `/api/runs/${ids.ok}/live`)).status).toBe(401);
    expect((await request(ui.port, "GET", "/")).status).toBe(401);
    expect((await request(ui.port, "GET", "/assets/x.js")).status).toBe(401);
  });
});

describe("state-changing requests check Origin", () => {
  const plan = "fitlab_plan: 1\nname: mine\ntracks:\n  - id: A\n    name: a\n    experiments:\n      - id: q\n        model: Qwen/Qwen2.5-7B\n        workload: { kind: qlora, seq: 1024, batch: 1, rank: 16 }\n        data: { tokens: 1000000 }\n";
  const cookie = () => ({ Cookie: `fitlab_${ui.port}=${ui.token}`, "Content-Type": "text/yaml" });
  it("a foreign Origin on a POST: 403, even with the cookie", async () => {
    const r = await request(ui.port, "POST", "/api/decide", { ...cookie(), Origin: "http://evil.example" }, plan);
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body).error).toMatch(/origin "http:\/\/evil.example" may not change anything here/);
    expect((await request(ui.port, "POST", "/api/decide", { ...cookie(), Origin: `http://127.0.0.1:${ui.port}`, "Sec-Fetch-Site": "cross-site" }, plan)).status).toBe(403);
    // a cookie without any Origin is not enough either (a browser always sends one on POST)
    expect((await request(ui.port, "POST", "/api/decide", cookie(), plan)).status).toBe(403);
  });
  it("our own Origin may POST (an uploaded plan gets its decision); a script with the Bearer token may too", async () => {
    const r = await request(ui.port, "POST", "/api/decide", { ...cookie(), Origin: `http://127.0.0.1:${ui.port}` }, plan);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).plan).toBe("mine");
    expect((await request(ui.port, "POST", "/api/decide", { ...auth(), "Content-Type": "text/yaml" }, plan)).status).toBe(200);
  });
  it("an uploaded plan may not name a local path as its model", async () => {
    const r = await request(ui.port, "POST", "/api/decide", { ...auth(), "Content-Type": "text/yaml" }, plan.replace("Qwen/Qwen2.5-7B", path.dirname(secretFile)));
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error).toMatch(/uploaded plans may name built-in models only/);
  });
  it("WebSocket upgrades are not served", async () => {
    expect((await request(ui.port, "GET", "/api/runs", { ...auth(), Connection: "Upgrade", Upgrade: "websocket" })).status).toBe(400);
  });
});

describe("paths are refused in every parameter, and nothing outside the run store is read", () => {
  const bad = ["..", "../../etc/passwd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "%252e%252e%252fsecret", "/etc/passwd", "%2Fetc%2Fpasswd", "C:%5CWindows", "a%5C..%5Cb", "x%00y", "~%2F.ssh"];
  const targets = (v: string) => [
    `/api/runs/${v}`,
    `/api/runs/${v}/series`,
    `/api/runs/${v}/live`,
    `/api/runs/${v}/forgetting`,
    `/api/runs/${ids.ok}/artefacts/${v}`,
    `/api/runs/${v}/inspect`,
    `/api/runs/${v}/maps/0`,
    `/api/runs/${ids.att}/maps/${v}`,
    `/api/runs/${ids.att}/maps/0/${v}/0`,
    `/api/runs/${ids.att}/maps/0/0/${v}`,
    `/api/runs/${ids.att}/maps/0/0/0?side=${v}`,
    `/api/runs/${ids.att}/maps/0/0/0?res=${v}`,
    `/api/runs/${ids.att}/artefacts/${v}`,
    `/api/runs?sweep=${v}`,
    `/api/runs?experiment=${v}`,
    `/api/compare?runs=${v}`,
    `/api/compare?sweep=${v}`,
    `/api/estimate?model=${v}`,
    `/api/estimate?gpu=${v}`,
    `/api/fit?model=${v}`,
    `/api/decide?gpu=${v}`,
    `/assets/${v}`,
  ];
  it("`..`, absolute paths, backslashes and NUL: 400 for every endpoint and parameter", async () => {
    for (const v of bad) {
      for (const t of targets(v)) {
        const r = await request(ui.port, "GET", t, auth());
        expect([t, r.status]).toEqual([t, 400]);
        expect(r.body).not.toContain(SECRET);
      }
    }
  });
  it("a run folder with a symlink out of the store: refused, the file is never served", async () => {
    for (const t of [`/api/runs/${ids.link}`, `/api/runs/${ids.link}/series`, `/api/runs/${ids.link}/artefacts/metrics.jsonl`, `/api/runs/${ids.link}/live`]) {
      const r = await request(ui.port, "GET", t, auth());
      expect([t, r.status]).toEqual([t, 403]);
      expect(r.body).not.toContain(SECRET);
    }
  });
  it("a run whose stored folder lies outside the store: refused", async () => {
    const r = await request(ui.port, "GET", `/api/runs/${ids.away}/series`, auth());
    expect(r.status).toBe(403);
    expect(r.body).not.toContain(SECRET);
  });
  it("a run's files by name only, from its kind's list", async () => {
    const ok = await request(ui.port, "GET", `/api/runs/${ids.ok}/artefacts/metrics.jsonl`, auth());
    expect(ok.status).toBe(200);
    expect(ok.body.split("\n")[1]).toMatch(/^\{"type":"train","step":1,/);
    const no = await request(ui.port, "GET", `/api/runs/${ids.ok}/artefacts/fitlab.sqlite`, auth());
    expect(no.status).toBe(404);
    expect(JSON.parse(no.body).error).toMatch(/train runs have no file "fitlab.sqlite" to show; files: metrics.jsonl/);
    expect((await request(ui.port, "GET", "/api/runs/ok", auth())).status).toBe(404); // names are not ids
  });
});

describe("the Inspect endpoints", () => {
  const targets = () => [`/api/runs/${ids.att}/inspect`, `/api/runs/${ids.att}/maps/0`, `/api/runs/${ids.att}/maps/0/1/2`, `/api/runs/${ids.att}/artefacts/result.json`];
  it("need the token and this server's Host, like every other endpoint", async () => {
    for (const t of targets()) {
      expect([t, (await request(ui.port, "GET", t, auth())).status]).toEqual([t, 200]);
      expect([t, (await request(ui.port, "GET", t)).status]).toEqual([t, 401]);
      expect([t, (await request(ui.port, "GET", t, { Authorization: `Bearer ${ui.token}x` })).status]).toEqual([t, 401]);
      expect([t, (await request(ui.port, "GET", t, { ...auth(), Host: `evil.example:${ui.port}` })).status]).toEqual([t, 403]);
    }
  });
  it("a map file that is a symlink out of the run's folder is never served", async () => {
    for (const t of [`/api/runs/${ids.attLinked}/maps/0`, `/api/runs/${ids.attLinked}/maps/0/0/0`]) {
      const r = await request(ui.port, "GET", t, auth());
      expect([t, r.status]).toEqual([t, 403]);
      expect(r.body).not.toContain(SECRET);
      expect(JSON.parse(r.body).error).toMatch(/points outside its folder/);
    }
  });
  it("a result naming map files outside the run's folder (a tampered result.json) is refused before any read", async () => {
    for (const t of [`/api/runs/${ids.attTampered}/maps/0`, `/api/runs/${ids.attTampered}/maps/0/0/0`]) {
      const r = await request(ui.port, "GET", t, auth());
      expect([t, r.status]).toEqual([t, 400]);
      expect(r.body).not.toContain(SECRET);
      expect(r.body).not.toContain("root:");
      expect(JSON.parse(r.body).error).toMatch(/names a map file .* that the worker does not write/);
    }
  });
  it("a state-changing method on them is refused from a foreign Origin and not served otherwise", async () => {
    const r = await request(ui.port, "POST", `/api/runs/${ids.att}/maps/0/0/0`, { Cookie: `fitlab_${ui.port}=${ui.token}`, Origin: "http://evil.example" });
    expect(r.status).toBe(403);
    expect((await request(ui.port, "POST", `/api/runs/${ids.att}/maps/0/0/0`, auth())).status).toBe(404);
  });
});

describe("the port", () => {
  it("a port in use: one line saying so, exit 2", () => {
    const r = spawnSync(process.execPath, [BIN, "ui", "--port", String(ui.port), "--no-open", "--runs", runs], { encoding: "utf8", timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(new RegExp(`^fitlab: port ${ui.port} on 127.0.0.1 is in use: give another --port, or --port 0 for a free one$`));
    expect(r.stdout).toBe("");
  });
});

describe("headers", () => {
  it("a strict content-security policy and no framing, on pages, API answers and refusals", async () => {
    for (const r of [await request(ui.port, "GET", "/", { Cookie: `fitlab_${ui.port}=${ui.token}` }), await request(ui.port, "GET", "/api/runs", auth()), await request(ui.port, "GET", "/api/runs")]) {
      expect(r.headers["content-security-policy"]).toMatch(/default-src 'none'; script-src 'self';/);
      expect(r.headers["content-security-policy"]).toMatch(/frame-ancestors 'none'/);
      expect(r.headers["content-security-policy"]).not.toMatch(/script-src[^;]*unsafe/);
      expect(r.headers["x-frame-options"]).toBe("DENY");
      expect(r.headers["x-content-type-options"]).toBe("nosniff");
      expect(r.headers["access-control-allow-origin"]).toBeUndefined();
    }
  });
});
