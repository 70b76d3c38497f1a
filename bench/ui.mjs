// The dashboard's figures, measured in headless Chromium (Debian's, through playwright-core) against the
// real `fitlab ui` process:
//   1. start-up: process start -> first line -> first API answer (GET /api/runs), whole process;
//   2. step-to-browser latency: a line appended to a run's metrics.jsonl -> the step rendered in the page;
//   3. overlay of 10 runs x 20,000 points: the chart's draw (uPlot), plus aligning and fetching the series;
//   4. the run list with 1,000 runs: navigation start -> the table rendered;
//   5. Inspect: an attention run shaped like Qwen2.5-7B's (28 layers x 28 query heads, a 2,048-token prompt
//      pooled to 128 x 128 per head, one head at full resolution): navigation -> the five heat maps drawn, and
//      a click on a head -> its map painted (the next frame after it is drawn), pooled and full resolution.
// Usage: npm run build && node bench/ui.mjs [--quick] [--only inspect]
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { RunStore } from "../dist/runs/store.js";
import { seedAttentionRun } from "../test/fixtures/seed-inspect.mjs";
import { seedRun, trainLine } from "../test/fixtures/seed-store.mjs";

const quick = process.argv.includes("--quick");
const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : null;
const BIN = fileURLToPath(new URL("../bin/fitlab.js", import.meta.url));
const CHROMIUM = process.env.FITLAB_CHROMIUM ?? "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-bench-ui-"));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const fmt = (x) => `${x.toFixed(0)} ms`;
console.log(`load average at start: ${(await import("node:os")).loadavg().map((x) => x.toFixed(1)).join(" ")} on ${(await import("node:os")).cpus().length} cores`);

function startUi(runs) {
  const t0 = performance.now();
  const proc = spawn(process.execPath, [BIN, "ui", "--port", "0", "--no-open", "--runs", runs], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, FITLAB_NO_NVIDIA_SMI: "1" } });
  return new Promise((resolve, reject) => {
    let out = "";
    proc.on("exit", (c) => reject(new Error(`fitlab ui exited ${c}`)));
    proc.stdout.on("data", (d) => {
      out += d;
      const m = /^fitlab ui: (http:\/\/127\.0\.0\.1:\d+)\/\?token=(\S+)\n/.exec(out);
      if (m && !proc.started) {
        proc.started = true;
        resolve({ proc, t0, firstLineMs: performance.now() - t0, base: m[1], token: m[2], url: `${m[1]}/?token=${m[2]}`, stop: () => new Promise((r) => (proc.removeAllListeners("exit"), proc.on("exit", r), proc.kill("SIGTERM"))) });
      }
    });
  });
}

async function browser() {
  const profile = fs.mkdtempSync(path.join(tmp, "profile-"));
  return chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1360, height: 900 } });
}

const results = {};

// 1. start-up ------------------------------------------------------------------------------------
if (!only) {
  const runs = path.join(tmp, "startup-runs");
  const store = new RunStore(runs);
  for (let i = 0; i < 20; i++) seedRun(store, { name: `run ${i}`, steps: 20, seed: i });
  store.close();
  const first = [];
  const answer = [];
  for (let i = 0; i < (quick ? 3 : 7); i++) {
    const ui = await startUi(runs);
    const r = await fetch(`${ui.base}/api/runs`, { headers: { Authorization: `Bearer ${ui.token}` } });
    await r.json();
    answer.push(performance.now() - ui.t0);
    first.push(ui.firstLineMs);
    await ui.stop();
  }
  // the same, the server module alone (dist/web/server.js, unbundled, without the CLI's launcher): what the server
  // itself costs, and a bare node process for reference
  const server = [];
  const bare = [];
  const script = `const { startUi } = await import(${JSON.stringify(new URL("../dist/web/server.js", import.meta.url).href)}); const ui = await startUi({ host: "127.0.0.1", port: 0, runsDir: ${JSON.stringify(runs)} }); const r = await fetch(ui.url.replace(/\\/\\?token=.*/, "/api/runs"), { headers: { Authorization: "Bearer " + ui.guard.token } }); await r.json(); await ui.close();`;
  const time = (args) => new Promise((res) => { const t = performance.now(); spawn(process.execPath, args, { stdio: "ignore" }).on("exit", () => res(performance.now() - t)); });
  for (let i = 0; i < (quick ? 3 : 7); i++) {
    server.push(await time(["--input-type=module", "-e", script]));
    bare.push(await time(["-e", ""]));
  }
  results.startup = { first_line_ms: median(first), first_answer_ms: median(answer), max_first_answer_ms: Math.max(...answer), server_only_answer_and_exit_ms: median(server), bare_node_ms: median(bare) };
  console.log(`start-up: first line ${fmt(median(first))}, first API answer (GET /api/runs, 20 runs) ${fmt(median(answer))} after process start (median of ${answer.length}; max ${fmt(Math.max(...answer))}); target < 1000 ms`);
  console.log(`  the server module alone (unbundled, no CLI): start + first answer + exit ${fmt(median(server))}; a bare \`node -e ""\` ${fmt(median(bare))}`);
}

if (!only) {
const runs = path.join(tmp, "runs");
const store = new RunStore(runs);
const live = seedRun(store, { name: "live", steps: 10, status: "running" });
const overlay = [];
for (let i = 0; i < 10; i++) overlay.push(seedRun(store, { name: `big ${i}`, steps: 20000, evalEvery: 1000, seed: i, floor: 0.5 + i * 0.05 }).id);
const listCount = quick ? 200 : 1000;
for (let i = 0; i < listCount - 11; i++) seedRun(store, { name: `list ${i}`, steps: 5, evalEvery: 5, seed: i, ...(i % 10 === 0 ? { sweep: `A.lr-sweep@2026010${i % 7}T000000`, sweepValue: String(i), experiment: "A.lr-sweep" } : {}) });
store.close();
const ui = await startUi(runs);
const ctx = await browser();
const page = await ctx.newPage();
await page.goto(ui.url);
await page.waitForSelector("[data-testid=runs-table]");

// 2. step-to-browser latency -----------------------------------------------------------------------
{
  await page.goto(`${ui.base}/#/runs/${live.id}`);
  await page.waitForFunction(() => document.querySelector("[data-testid=live]")?.getAttribute("data-steps") === "10");
  const file = path.join(live.dir, "metrics.jsonl");
  const lat = [];
  for (let s = 11; s <= (quick ? 30 : 110); s++) {
    const written = Date.now();
    fs.appendFileSync(file, `${JSON.stringify(trainLine(s, 1 + 1 / s))}\n`);
    await page.waitForFunction((n) => document.querySelector("[data-testid=live]")?.getAttribute("data-last-step") === String(n), s, { polling: "raf" });
    const shown = Number(await page.getAttribute("[data-testid=live]", "data-last-step-at"));
    lat.push(shown - written);
    await page.waitForTimeout(50);
  }
  results.step_latency = { median_ms: median(lat), p95_ms: pct(lat, 0.95), max_ms: Math.max(...lat), n: lat.length };
  console.log(`step -> browser: median ${fmt(median(lat))}, p95 ${fmt(pct(lat, 0.95))}, max ${fmt(Math.max(...lat))} over ${lat.length} steps (written to metrics.jsonl -> rendered); target < 1000 ms`);
}

// 3. overlay of 10 runs x 20,000 points ---------------------------------------------------------------
{
  const draw = [];
  const align = [];
  const fetchMs = [];
  for (let i = 0; i < (quick ? 2 : 5); i++) {
    await page.goto(`${ui.base}/#/runs`);
    await page.goto(`${ui.base}/#/compare?runs=${overlay.join(",")}`);
    await page.waitForFunction(() => document.querySelector("[data-testid=overlay] .uplot-box")?.getAttribute("data-draw-ms") !== null && document.querySelector("[data-testid=overlay] .uplot-box")?.getAttribute("data-points") === "20001", undefined, { timeout: 60_000 });
    draw.push(Number(await page.getAttribute("[data-testid=overlay] .uplot-box", "data-draw-ms")));
    align.push(Number(await page.evaluate(() => document.body.dataset.overlayAlignMs)));
    fetchMs.push(Number(await page.evaluate(() => document.body.dataset.seriesFetchMs)));
  }
  // a redraw of the same 200,000 points (a resize): draw alone
  const redraw = await page.evaluate(async () => {
    const box = document.querySelector("[data-testid=overlay] .uplot-box");
    const before = Number(box.dataset.draws);
    document.querySelector("main").style.width = "1100px";
    for (let k = 0; k < 100 && Number(box.dataset.draws) === before; k++) await new Promise((r) => setTimeout(r, 20));
    return Number(box.dataset.drawMs);
  });
  results.overlay = { draw_ms: median(draw), cold_draw_ms: draw[0], align_ms: median(align), redraw_ms: redraw, fetch_ms: median(fetchMs) };
  await page.screenshot({ path: path.join(tmp, "overlay.png") });
  console.log(`overlay 10 runs x 20,000 points: draw ${fmt(median(draw))} (uPlot: chart made and drawn; median of ${draw.length}, the first, cold, ${fmt(draw[0])}); redraw on resize ${fmt(redraw)}; aligning the runs on one axis ${fmt(median(align))}; fetching the 10 series ${fmt(median(fetchMs))}; target draw < 100 ms`);
}

// 4. the run list with 1,000 runs ------------------------------------------------------------------------
{
  const load = [];
  for (let i = 0; i < (quick ? 2 : 5); i++) {
    await page.goto("about:blank");
    await page.goto(`${ui.base}/#/runs`);
    await page.waitForFunction((n) => document.querySelector("[data-testid=runs-table]")?.getAttribute("data-count") === String(n), listCount, { polling: "raf", timeout: 30_000 });
    load.push(await page.evaluate(() => performance.now()));
  }
  results.run_list = { runs: listCount, load_ms: median(load), max_ms: Math.max(...load) };
  console.log(`run list with ${listCount} runs: ${fmt(median(load))} from navigation start to the table (median of ${load.length}; max ${fmt(Math.max(...load))}); target < 1000 ms`);
}

await ctx.close();
await ui.stop();
}

// 5. Inspect: a 28 x 28-head model's attention run ---------------------------------------------------------
{
  const runs = path.join(tmp, "inspect-runs");
  const store = new RunStore(runs);
  const t0 = performance.now();
  const att = seedAttentionRun(store, { name: "Qwen2.5-7B-shaped attention", layers: 28, heads: 28, prompts: [2048], full: ["5.7"], plant: { prev: "5.7", sink: "20.3" }, model: "Qwen/Qwen2.5-7B" });
  store.close();
  const seedMs = performance.now() - t0;
  const file = path.join(att.dir, "maps/prompt-000.safetensors");
  const ui = await startUi(runs);
  const ctx = await browser();
  const page = await ctx.newPage();
  await page.goto(ui.url);
  await page.waitForSelector("[data-testid=runs-table]");
  const open = [];
  for (let i = 0; i < (quick ? 2 : 5); i++) {
    await page.goto("about:blank");
    await page.goto(`${ui.base}/#/runs/${att.id}`);
    await page.waitForFunction(() => document.querySelectorAll("[data-testid^=grid-] rect[data-layer]").length === 5 * 784, undefined, { polling: "raf", timeout: 30_000 });
    open.push(await page.evaluate(() => performance.now()));
  }
  // click a head, then wait for its map and the frame that paints it
  const clickToPaint = (layer, head, res) =>
    page.evaluate(
      async ({ layer, head, res }) => {
        const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
        const t = performance.now();
        if (res) {
          const sel = document.querySelector("[data-testid=map-resolution]");
          sel.value = res;
          sel.dispatchEvent(new Event("change", { bubbles: true }));
        } else document.querySelector(`[data-testid=grid-prev_token_share] rect[data-layer="${layer}"][data-head="${head}"]`).dispatchEvent(new MouseEvent("click", { bubbles: true }));
        const want = `${layer}.${head}`;
        for (;;) {
          const panel = document.querySelector("[data-testid=head-panel]");
          const map = document.querySelector("[data-testid=map-attention]");
          if (panel?.dataset.loaded === want && map && (!res || map.dataset.resolution === res)) break;
          await frame();
        }
        await frame();
        return { ms: performance.now() - t, drawMs: Number(document.querySelector("[data-testid=map-attention] .plot").dataset.drawMs) };
      },
      { layer, head, res },
    );
  const pooled = [];
  const draw = [];
  let k = 0;
  for (let i = 0; i < (quick ? 6 : 20); i++) {
    // a different head each time: nothing cached in the page
    const layer = (i * 5 + 1) % 28;
    const head = (i * 11 + 3) % 28;
    if (layer === 5 && head === 7) continue;
    const r = await clickToPaint(layer, head, null);
    pooled.push(r.ms);
    draw.push(r.drawMs);
    k++;
  }
  // the head kept at full resolution: opens at 2,048 x 2,048, then pooled
  const full = [];
  const fullDraw = [];
  for (let i = 0; i < (quick ? 2 : 4); i++) {
    await page.goto("about:blank");
    await page.goto(`${ui.base}/#/runs/${att.id}`);
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=grid-prev_token_share] rect[data-layer]").length === 784, undefined, { polling: "raf", timeout: 30_000 });
    const r = await clickToPaint(5, 7, null);
    full.push(r.ms);
    fullDraw.push(r.drawMs);
  }
  await page.screenshot({ path: path.join(tmp, "inspect.png") });
  results.inspect = { heads: 784, tokens: 2048, file_bytes: fs.statSync(file).size, seed_ms: seedMs, page_ms: median(open), pooled_click_to_paint_ms: median(pooled), pooled_p95_ms: pct(pooled, 0.95), pooled_draw_ms: median(draw), full_click_to_paint_ms: median(full), full_draw_ms: median(fullDraw) };
  console.log(`inspect, 28 x 28 heads (pooled maps file ${(fs.statSync(file).size / 2 ** 20).toFixed(1)} MiB): the page with five 784-cell heat maps ${fmt(median(open))} from navigation (median of ${open.length})`);
  console.log(`  click a head -> its 128 x 128 pooled map of 2,048 tokens painted: median ${fmt(median(pooled))}, p95 ${fmt(pct(pooled, 0.95))} over ${k} heads (Plot's draw ${fmt(median(draw))}); target < 200 ms per tile`);
  console.log(`  the head kept at full resolution (2,048 x 2,048, 16 MiB of float32): ${fmt(median(full))} click to paint (draw ${fmt(median(fullDraw))}, median of ${full.length})`);
  await ctx.close();
  await ui.stop();
}

fs.rmSync(tmp, { recursive: true, force: true });
console.log(JSON.stringify(results));
