// The README's dashboard pictures: `fitlab ui` on a run store (e.g. the one `fitlab demo` filled), opened in
// headless chromium, three pages captured into docs/. Usage:
//   npx fitlab demo && node scripts/dashboard-screenshots.mjs runs
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const runs = path.resolve(process.argv[2] ?? "runs");
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

await page.goto(`${base}/#/plan`);
await page.waitForSelector("[data-testid=memory-bar] svg");
await page.screenshot({ path: path.join(DOCS, "dashboard-plan.png") });

const list = JSON.parse(await (await fetch(`${base}/api/runs`, { headers: { Authorization: `Bearer ${url.split("token=")[1]}` } })).text());
const main = list.find((r) => r.sweep === null && r.kind === "train" && r.status === "done") ?? list[0];
await page.goto(`${base}/#/runs/${main.id}`);
await page.waitForSelector("[data-testid=chart-loss] canvas");
await page.waitForTimeout(300);
await page.screenshot({ path: path.join(DOCS, "dashboard-run.png") });

const sweep = list.find((r) => r.sweep)?.sweep;
await page.goto(sweep ? `${base}/#/compare?sweep=${encodeURIComponent(sweep)}` : `${base}/#/compare`);
await page.waitForSelector(sweep ? "[data-testid=overlay] canvas" : "[data-testid=pred-vs-meas]");
await page.waitForTimeout(300);
await page.screenshot({ path: path.join(DOCS, "dashboard-compare.png") });

await ctx.close();
proc.kill("SIGTERM");
console.log(`wrote ${["plan", "run", "compare"].map((n) => path.join(DOCS, `dashboard-${n}.png`)).join(", ")}`);
