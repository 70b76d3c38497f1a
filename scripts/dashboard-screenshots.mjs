// The README's dashboard pictures: `fitlab ui` on a run store (e.g. the one `fitlab demo` filled), opened in
// headless chromium, its pages captured into docs/: plan, a run, compare, and the Inspect views of the Tracks
// B/C demo (an attention run with its previous-token head opened, a compare run with its most changed head).
// Usage:
//   npx fitlab demo && npx fitlab demo --track BC && node scripts/dashboard-screenshots.mjs runs [--only inspect]
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const runs = path.resolve(process.argv[2] ?? "runs");
const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : null;
const written = [];
const BIN = fileURLToPath(new URL("../bin/fitlab.js", import.meta.url));
const DOCS = fileURLToPath(new URL("../docs/", import.meta.url));
const proc = spawn(process.execPath, [BIN, "ui", "--port", "0", "--no-open", "--runs", runs], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, FITLAB_NO_NVIDIA_SMI: "1" } });
const url = await new Promise((resolve) => {
  let out = "";
  proc.stdout.on("data", (d) => {
    out += d;
    const m = /^fitlab ui: (\S+)\n/.exec(out);
    if (m) resolve(m[1]);
  });
});
const base = url.replace(/\/\?token=.*/, "");
const ctx = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-shots-")), {
  executablePath: process.env.FITLAB_CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1280, height: 860 },
});
const page = await ctx.newPage();
await page.goto(url);
await page.waitForSelector("[data-testid=runs-table]");
fs.mkdirSync(DOCS, { recursive: true });

const api = async (p) => JSON.parse(await (await fetch(`${base}${p}`, { headers: { Authorization: `Bearer ${url.split("token=")[1]}` } })).text());
const list = await api("/api/runs");
const save = async (name) => {
  await page.screenshot({ path: path.join(DOCS, name) });
  written.push(path.join(DOCS, name));
};

if (!only) {
await page.goto(`${base}/#/plan`);
await page.waitForSelector("[data-testid=memory-bar] svg");
await save("dashboard-plan.png");

const main = list.find((r) => r.sweep === null && r.kind === "train" && r.status === "done") ?? list[0];
await page.goto(`${base}/#/runs/${main.id}`);
await page.waitForSelector("[data-testid=chart-loss] canvas");
await page.waitForTimeout(300);
await save("dashboard-run.png");

const sweep = list.find((r) => r.sweep)?.sweep;
await page.goto(sweep ? `${base}/#/compare?sweep=${encodeURIComponent(sweep)}` : `${base}/#/compare`);
await page.waitForSelector(sweep ? "[data-testid=overlay] canvas" : "[data-testid=pred-vs-meas]");
await page.waitForTimeout(300);
await save("dashboard-compare.png");
}

// the Inspect views are taller: the heat maps and the head's map side by side
await page.setViewportSize({ width: 1280, height: 1180 });
// Inspect: the first done attention run with maps, its strongest previous-token head opened and one cell hovered
const attention = list.find((r) => r.kind === "attention" && r.status === "done");
if (attention) {
  const j = await api(`/api/runs/${attention.id}/inspect`);
  const top = [...j.heads_stats].sort((a, b) => b.prev_token_share - a.prev_token_share)[0];
  await page.goto(`${base}/#/runs/${attention.id}`);
  await page.waitForSelector("[data-testid=inspect-attention]");
  await page.click(`[data-testid=grid-prev_token_share] rect[data-layer="${top.layer}"][data-head="${top.head}"]`);
  await page.waitForSelector(`[data-testid=head-panel][data-loaded="${top.layer}.${top.head}"]`);
  const frame = await page.locator("[data-testid=map-attention] svg[data-map] [aria-label=frame]").boundingBox();
  const T = Number(await page.getAttribute("[data-testid=map-attention]", "data-tokens"));
  const q = Math.min(T - 1, 6);
  await page.mouse.move(frame.x + ((q - 0.5) / T) * frame.width, frame.y + ((q + 0.5) / T) * frame.height, { steps: 3 });
  await page.waitForTimeout(200);
  await save("dashboard-inspect.png");
}
const compare = list.find((r) => r.kind === "compare" && r.status === "done");
if (compare) {
  const j = await api(`/api/runs/${compare.id}/inspect`);
  const top = [...j.heads].sort((a, b) => b.js_divergence - a.js_divergence)[0];
  await page.goto(`${base}/#/runs/${compare.id}`);
  await page.waitForSelector("[data-testid=inspect-compare]");
  await page.click(`[data-testid=grid-js_divergence] rect[data-layer="${top.layer}"][data-head="${top.head}"]`);
  await page.waitForSelector(`[data-testid=head-panel][data-loaded="${top.layer}.${top.head}"]`);
  await page.mouse.move(0, 0);
  await page.waitForTimeout(200);
  await save("dashboard-inspect-compare.png");
}

await ctx.close();
proc.kill("SIGTERM");
console.log(`wrote ${written.join(", ")}`);
