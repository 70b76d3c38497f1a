// The dashboard in a real browser (Debian's chromium through playwright-core): every page opens, the
// memory bar follows a setting, the fit search and the decision are one click away, a run's steps appear
// live (the real worker training a tiny model on the CPU, and appended lines without it), runs overlay,
// a sweep shows its verdict. Each test ends with a screenshot under artifacts/screenshots/.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workerReady } from "../../src/runs/env.js";
import { RunStore } from "../../src/runs/store.js";
import { runJob } from "../../src/runs/worker.js";
import { seedRun, trainLine } from "../fixtures/seed-store.mjs";
import { CHROMIUM, launch, shot, watchErrors } from "./browser.js";
import { BIN, startUiProcess, type UiProcess } from "./ui-process.js";

const DEMO = fileURLToPath(new URL("../../data/demo/", import.meta.url));
const hasBrowser = fs.existsSync(CHROMIUM);
if (!hasBrowser && process.env.CI) throw new Error(`CI needs chromium at ${CHROMIUM} (.ci/run installs it)`);
if (!hasBrowser) console.warn(`SKIPPED: browser tests need chromium at ${CHROMIUM}`);
const ready = workerReady();

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-ui-browser-"));
const runs = path.join(tmp, "runs");
const ids: Record<string, string> = {};
let ui: UiProcess;
let browser: { ctx: BrowserContext; close: () => Promise<void> };
let page: Page;
let errors: string[];

const attr = async (sel: string, name: string) => Number(await page.locator(sel).first().getAttribute(name));

describe.runIf(hasBrowser)("the dashboard in chromium", () => {
  beforeAll(async () => {
    const store = new RunStore(runs);
    ids.main = seedRun(store, { name: "D.lora", experiment: "D.lora", steps: 120, ckptEvery: 20, forgetting: true }).id;
    for (const [v, floor] of [["0.001", 1.1], ["0.01", 0.7], ["0.05", 1.5]] as const) ids[`lr${v}`] = seedRun(store, { name: `D.lr-sweep learning_rate=${v}`, experiment: "D.lr-sweep", sweep: "D.lr-sweep@20260102T000000", sweepValue: v, floor, steps: 60, seed: Number(v) * 1000 }).id;
    for (let i = 0; i < 3; i++) seedRun(store, { name: `A.qlora-basic gpu ${i}`, experiment: "A.qlora-basic", steps: 80, gpu: true, seed: 10 + i });
    ids.attention = seedRun(store, { name: "B.attention-extract", kind: "attention", steps: 1 }).id;
    ids.live = seedRun(store, { name: "appending", steps: 10, status: "running" }).id;
    store.close();
    ui = await startUiProcess(runs);
    browser = await launch();
    page = await browser.ctx.newPage();
    errors = watchErrors(page);
    await page.goto(ui.url);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await ui?.stop();
  });

  it("opens from the printed URL: the token becomes a cookie, the address loses it, the run list shows", async () => {
    expect(page.url()).toBe(`${ui.base}/`);
    const cookies = await browser.ctx.cookies();
    expect(cookies.find((c) => c.name === `fitlab_${ui.port}`)).toMatchObject({ httpOnly: true, sameSite: "Strict" });
    await page.waitForSelector("[data-testid=runs-table]");
    expect(await attr("[data-testid=runs-table]", "data-count")).toBe(9);
    await page.selectOption("[data-testid=filter-sweep]", "D.lr-sweep");
    await page.waitForFunction(() => document.querySelector("[data-testid=runs-table]")?.getAttribute("data-count") === "3");
    await page.selectOption("[data-testid=filter-sweep]", "");
    await page.selectOption("[data-testid=filter-kind]", "attention");
    await page.waitForFunction(() => document.querySelector("[data-testid=runs-table]")?.getAttribute("data-count") === "1");
    await page.selectOption("[data-testid=filter-kind]", "");
    await page.waitForFunction(() => document.querySelector("[data-testid=runs-table]")?.getAttribute("data-count") === "9");
    await shot(page, "runs");
    expect(errors).toEqual([]);
  });

  it("plan: the stacked bar follows a setting; the fit search applies; the decision shows (built-in and uploaded)", async () => {
    await page.goto(`${ui.base}/#/plan`);
    await page.waitForSelector("[data-testid=memory-bar] svg");
    const before = await attr("[data-testid=memory-bar]", "data-device-bytes");
    const seq = page.locator("label:has([data-testid=seq]) input.exact");
    await seq.fill("8192");
    await seq.press("Enter");
    await page.waitForFunction((b) => Number(document.querySelector("[data-testid=memory-bar]")?.getAttribute("data-device-bytes")) > b, before);
    const after = await attr("[data-testid=memory-bar]", "data-device-bytes");
    expect(after).toBeGreaterThan(before);
    // the bar is the server's estimate: the same figure `fitlab estimate --seq 8192 --json` gives
    const cli = JSON.parse((await import("node:child_process")).spawnSync(process.execPath, [BIN, "estimate", "--seq", "8192", "--json"], { encoding: "utf8" }).stdout);
    expect(after).toBe(cli.peak.device_bytes);
    await expect.poll(() => page.locator("[data-testid=memory-bar] svg rect").count()).toBeGreaterThan(8);
    await shot(page, "plan-estimate");

    await page.selectOption("[data-testid=workload]", "full");
    await page.waitForFunction(() => document.querySelector("[data-testid=memory-bar]")?.getAttribute("data-fits") === "false");
    await page.click("[data-testid=find-fit]");
    await page.waitForSelector("[data-testid=apply-fit]");
    expect(await page.textContent("[data-testid=fit-answer]")).toMatch(/Cheapest change/);
    await shot(page, "plan-fit");
    await page.click("[data-testid=apply-fit]");
    await page.waitForFunction(() => document.querySelector("[data-testid=memory-bar]")?.getAttribute("data-fits") === "true");

    await page.click("[data-testid=decide-builtin]");
    await page.waitForSelector("[data-testid=decision] table", { timeout: 30_000 });
    await expect.poll(() => page.locator("[data-testid=decision] svg").count()).toBe(2);
    await shot(page, "plan-decision");
    const plan = path.join(tmp, "my-lab.yaml");
    fs.writeFileSync(plan, "fitlab_plan: 1\nname: my uploaded lab\ntracks:\n  - id: A\n    name: a\n    experiments:\n      - id: q\n        model: Qwen/Qwen2.5-7B\n        workload: { kind: qlora, seq: 1024, batch: 1, rank: 16 }\n        data: { tokens: 1000000 }\n");
    await page.setInputFiles("[data-testid=plan-upload]", plan);
    await page.waitForFunction(() => document.querySelector("[data-testid=decision]")?.textContent?.includes("my uploaded lab"));
    expect(errors).toEqual([]);
  });

  it("one run: predicted beside measured, findings, and steps appended to its metrics appear live", async () => {
    await page.goto(`${ui.base}/#/runs/${ids.live}`);
    await page.waitForFunction(() => document.querySelector("[data-testid=live]")?.getAttribute("data-steps") === "10");
    const file = path.join(runs, ids.live!, "metrics.jsonl");
    for (let s = 11; s <= 25; s++) {
      fs.appendFileSync(file, `${JSON.stringify(trainLine(s, 1 + 1 / s))}\n`);
      await page.waitForFunction((n) => document.querySelector("[data-testid=live]")?.getAttribute("data-last-step") === String(n), s);
    }
    expect(await attr("[data-testid=chart-loss] .uplot-box", "data-points")).toBe(26); // steps 0 (eval) .. 25
    await shot(page, "run-appended");
    await page.goto(`${ui.base}/#/runs/${ids.main}`);
    await page.waitForSelector("[data-testid=forgetting] svg");
    expect(await page.textContent("[data-testid=findings]")).toMatch(/training loss went from/);
    await shot(page, "run-done");
    expect(errors).toEqual([]);
  });

  it("a long run list renders the rows in view only, and scrolling brings the rest", async () => {
    const many = path.join(tmp, "many-runs");
    const store = new RunStore(many);
    for (let i = 0; i < 400; i++) seedRun(store, { name: `run ${String(i).padStart(3, "0")}`, steps: 3, evalEvery: 3, seed: i });
    store.close();
    const other = await startUiProcess(many);
    try {
      const p = await browser.ctx.newPage();
      const errs = watchErrors(p);
      await p.goto(other.url);
      await p.waitForSelector("[data-testid=runs-table]");
      expect(await p.getAttribute("[data-testid=runs-table]", "data-count")).toBe("400");
      expect(Number(await p.getAttribute("[data-testid=runs-table]", "data-rendered"))).toBeLessThan(60);
      expect(await p.locator("a", { hasText: "run 399" }).count()).toBe(0);
      await p.evaluate(() => scrollTo(0, document.body.scrollHeight));
      await p.locator("a", { hasText: "run 399" }).waitFor();
      await shot(p, "runs-400-scrolled", false);
      expect(errs).toEqual([]);
      await p.close();
    } finally {
      await other.stop();
    }
  });

  it("an inspection run without its result shows its summary and says why (the Inspect views: inspect-browser.test.ts)", async () => {
    await page.goto(`${ui.base}/#/runs/${ids.attention}`);
    await page.waitForSelector("[data-testid=inspect-error]");
    expect(await page.getAttribute("[data-testid=run-page]", "data-kind")).toBe("attention");
    expect(await page.textContent("[data-testid=inspect-error]")).toMatch(/has no result \(status done\)/);
    // the page's fetch of the missing result is the one console error
    expect(errors.filter((e) => !e.includes("404"))).toEqual([]);
    errors.length = 0;
  });

  it("compare: ticked runs overlaid with forgetting; a sweep with its verdict; predicted vs measured", async () => {
    await page.goto(`${ui.base}/#/runs`);
    await page.waitForSelector("[data-testid=runs-table]");
    for (const id of [ids.main!, ids["lr0.01"]!]) await page.check(`tr[data-run="${id}"] input[type=checkbox]`);
    await page.click("[data-testid=compare-picked]");
    await page.waitForSelector("[data-testid=overlay] canvas");
    await expect.poll(() => attr("[data-testid=overlay] .uplot-box", "data-points")).toBe(121);
    await page.waitForSelector("[data-testid=forgetting] svg");
    await shot(page, "compare-runs");

    await page.goto(`${ui.base}/#/compare?sweep=D.lr-sweep`);
    await page.waitForSelector("[data-testid=overlay] canvas");
    expect(await page.textContent("[data-testid=verdict]")).toMatch(/best learning rate: 0\.01 \(best eval loss 0\.8\d\d\)/);
    expect(await page.locator("[data-testid=compare-table] tbody tr").count()).toBe(3);
    await shot(page, "compare-sweep");

    await page.goto(`${ui.base}/#/compare`);
    await page.waitForSelector("[data-testid=pred-vs-meas] svg");
    expect(await page.locator("[data-testid=pred-vs-meas] svg circle").count()).toBeGreaterThanOrEqual(3);
    await shot(page, "compare-predicted-vs-measured");
    expect(errors).toEqual([]);
  });

  it.runIf(ready)(
    "a CPU run of a tiny model (the real worker) appears in the list and its steps arrive in the browser as it trains",
    async () => {
      const model = path.join(tmp, "tiny-qwen2");
      await runJob("make_tiny", { out_dir: model, arch: "qwen2", words: JSON.parse(fs.readFileSync(path.join(DEMO, "words.json"), "utf8")), seed: 0 });
      await page.goto(`${ui.base}/#/runs`);
      await page.waitForSelector("[data-testid=runs-table]");
      const child = spawn(process.execPath, [BIN, "run", "--model", model, "--data", path.join(DEMO, "train.jsonl"), "--lr", "0.01", "--batch", "8", "--seq", "32", "--steps", "40", "--eval-every", "10", "--checkpoint-every", "40", "--device", "cpu", "--name", "live tiny qwen2", "--runs", runs, "--json"], { stdio: "ignore", env: { ...process.env, FITLAB_NO_NVIDIA_SMI: "1" } });
      const exited = new Promise<number | null>((res) => child.on("exit", res));
      // the list learns of the new run from the store's event stream
      const link = page.locator("a", { hasText: "live tiny qwen2" });
      await link.waitFor({ timeout: 60_000 });
      await link.click();
      await page.waitForSelector("[data-testid=live]");
      const seen = new Set<number>();
      const deadline = Date.now() + 180_000;
      while (Date.now() < deadline) {
        seen.add(Number(await page.getAttribute("[data-testid=live]", "data-last-step")));
        if ((await page.getAttribute("[data-testid=run-page]", "data-status")) === "done" || seen.has(40)) break;
        await page.waitForTimeout(150);
      }
      // steps arrived while it trained, not all at the end
      expect([...seen].filter((s) => s > 0 && s < 40).length).toBeGreaterThanOrEqual(3);
      expect(await exited).toBe(0);
      await page.waitForFunction(() => document.querySelector("[data-testid=run-page]")?.getAttribute("data-status") === "done", undefined, { timeout: 30_000 });
      expect(await attr("[data-testid=live]", "data-steps")).toBe(40);
      await shot(page, "run-live-cpu");
      expect(errors).toEqual([]);
    },
    300_000,
  );
});
