#!/usr/bin/env node
// Rewrites data/calibration.yaml: fits the calibrated numbers (src/engines/calibration.ts) on the published
// cases (test/fixtures/cases-public.csv, trust high + medium), and sets the band to the error that holds
// 80 % of the leave-one-source-out cross-validated cases. Run `npm run build` first (it reads dist/).
// Usage: node scripts/calibrate.mjs [cases.csv] [--check]   (--check: fail if the file would change)
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { readCases } = await import(path.join(root, "dist/validate/cases.js"));
const { fitCalibration } = await import(path.join(root, "dist/validate/fit.js"));
const { crossValidate, prepareAll, bandFor } = await import(path.join(root, "dist/validate/cv.js"));
const { PRIOR_CALIBRATION, withCalibration } = await import(path.join(root, "dist/engines/calibration.js"));
const { engineProfile, engineProfiles } = await import(path.join(root, "dist/engines/profile.js"));

const args = process.argv.slice(2);
const check = args.includes("--check");
const file = args.find((a) => !a.startsWith("--")) ?? path.join(root, "test/fixtures/cases-public.csv");
const { cases } = readCases(file);
const trusted = cases.filter((c) => c.trust === "high" || c.trust === "medium");
const { prepared } = withCalibration(PRIOR_CALIBRATION, () => prepareAll(trusted));
const cal = fitCalibration(prepared);
const cv = crossValidate(trusted);
const cvErrors = cv.cases.filter((r) => r.abs_pct_error !== null).map((r) => r.abs_pct_error);
const band = bandFor(cvErrors);
// how far real peaks went above their held-out estimates (measured / estimate - 1, from the signed error
// (estimate - measured) / measured): the decision reads the risk of a tight fit from it
const signed = cv.cases.filter((r) => r.abs_pct_error !== null && r.signed_pct_error !== null).map((r) => r.signed_pct_error / 100);
const above = signed.filter((e) => e < 0).map((e) => Math.round((1 / (1 + e) - 1) * 1000) / 1000).sort((a, b) => a - b);

// what the cases cover: outside it the band widens (src/memory/band.ts)
const engines = new Set(prepared.map((p) => p.workload.engine));
// an engine inherits coverage from the profile it extends when it adds no mechanism of its own
const covered = {
  engines: [...engines].sort(),
  parallel: [...new Set(prepared.filter((p) => p.workload.nGpus > 1).map((p) => p.workload.sharding))].sort(),
  moe: prepared.some((p) => p.spec.numExperts > 1 && p.c.peakGib !== null),
  // the cards each kernel family's measured decode speeds ran on: an estimate elsewhere says so
  // (src/time/decode-coverage.ts)
  decode_gpus: decodeGpus(prepared),
  max_seq: Math.max(...prepared.map((p) => (p.workload.kind.startsWith("inference") ? p.workload.promptTokens + p.workload.newTokens : p.workload.seqLen))),
};
function decodeGpus(rows) {
  const byFamily = new Map();
  for (const p of rows) {
    if (p.workload.kind !== "inference_decode" || p.c.tokensPerS === null || p.gpu === null) continue;
    const family = engineProfile(p.workload.engine).kernels;
    byFamily.set(family, (byFamily.get(family) ?? new Set()).add(p.gpu.name));
  }
  return Object.fromEntries([...byFamily].sort(([a], [b]) => a.localeCompare(b)).map(([f, cards]) => [f, [...cards].sort()]));
}
const r4 = (x) => Math.round(x * 1e4) / 1e4;
const out = {
  source: `fitted by scripts/calibrate.mjs on ${path.relative(root, file)} (trust high+medium, ${prepared.length} rows, ${new Set(prepared.map((p) => p.c.source)).size} sources); band = 80th percentile of leave-one-source-out errors`,
  global: Object.fromEntries(Object.entries(cal.global).map(([k, v]) => [k, r4(v)])),
  kernels: Object.fromEntries(Object.entries(cal.kernels).map(([f, o]) => [f, Object.fromEntries(Object.entries(o).map(([k, v]) => [k, r4(v)]))])),
  band: { memory: band, held_out: { cases: signed.length, above } },
  covered,
};
const text = `# Calibrated numbers: what each stands for is in src/engines/calibration.ts. Written by
# \`npm run calibrate\` (scripts/calibrate.mjs); do not edit by hand. Known profiles: ${[...engineProfiles().keys()].length}.
${stringify(out)}`;
const target = path.join(root, "data/calibration.yaml");
if (check) {
  const same = fs.existsSync(target) && fs.readFileSync(target, "utf8") === text;
  console.log(same ? "data/calibration.yaml is up to date" : "data/calibration.yaml differs from a fresh fit: run npm run calibrate");
  process.exit(same ? 0 : 1);
}
fs.writeFileSync(target, text);
console.log(text);
console.log(`cross-validated memory median ${cv.summary.memory.median_abs_pct_error}% (band ${band * 100}% holds ${cv.summary.memory.band_coverage})`);
