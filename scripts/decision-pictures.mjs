#!/usr/bin/env node
// Writes the decision document's two charts for the README (docs/decision/*.svg): the VRAM each experiment of the
// built-in plan needs against each card, and the cumulative cost of buying against staying. The same functions
// `fitlab decide --format html` draws them with (src/report/charts.ts), on the built-in defaults (no nvidia-smi,
// the shipped planner without a user's calibration).
// Usage: npm run build && node scripts/decision-pictures.mjs
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

process.env.FITLAB_NO_NVIDIA_SMI = "1";
process.env.FITLAB_HOME = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-pictures-"));
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { decisionInputs } = await import(path.join(root, "dist/cli/decide.js"));
const { decide } = await import(path.join(root, "dist/decide/decision.js"));
const { vramChart, costChart } = await import(path.join(root, "dist/report/charts.js"));

const d = decide(decisionInputs({}));
const out = path.join(root, "docs/decision");
fs.mkdirSync(out, { recursive: true });
/** The chart's <svg> as a file of its own (Plot leaves out the namespace a standalone file needs). */
const standalone = (html) => {
  const svg = html.slice(html.indexOf("<svg"), html.lastIndexOf("</svg>") + 6);
  return svg.includes("xmlns=") ? svg : svg.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"');
};
for (const [name, chart] of [["vram.svg", vramChart(d)], ["cost.svg", costChart(d)]]) {
  fs.writeFileSync(path.join(out, name), standalone(chart) + "\n");
  console.log(`wrote ${path.relative(root, path.join(out, name))}`);
}
