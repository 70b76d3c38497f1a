// Benchmark: how fitlab meets its corpus of bad inputs (test/corpus/make-corpus.mjs). Prints the corpus
// size, how many cases were refused as expected (one line, the expected exit code, no stack trace), the
// slowest case, and the wall time of refusing a 50 MB plan in a fresh process (goal: under 1 s).
// Run: npm run build && node bench/bad-input.mjs
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { makeCorpus } from "../test/corpus/make-corpus.mjs";
import { main } from "../dist/cli/main.js";
import { loadCalibration } from "../dist/engines/calibration.js";
import { loadEngineProfiles } from "../dist/engines/profile.js";
import { FitlabInputError } from "../dist/errors.js";

const bin = fileURLToPath(new URL("../bin/fitlab.js", import.meta.url));
const root = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-bench-corpus-"));
const { cases, store } = makeCorpus(root);
process.env.FITLAB_NO_NVIDIA_SMI = "1";

async function inProcess(argv, env = {}) {
  const err = [];
  const [ow, ew] = [process.stdout.write, process.stderr.write];
  process.stdout.write = () => true;
  process.stderr.write = (c) => (err.push(String(c)), true);
  const saved = { ...process.env, FITLAB_RUNS: store };
  Object.assign(process.env, saved, env);
  const t0 = performance.now();
  try {
    const code = await main(["node", "fitlab", ...argv]);
    return { code, err: err.join(""), ms: performance.now() - t0 };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    process.exitCode = undefined;
  }
}

let refused = 0;
let slowest = { ms: 0, what: "" };
const t0 = performance.now();
/** A data file no flag names (engine profiles, calibrated numbers): its loader, as main() would report it. */
function load(c) {
  const t0 = performance.now();
  try {
    (c.load.kind === "engines" ? loadEngineProfiles : loadCalibration)(c.load.file);
    return { code: 0, err: "", ms: performance.now() - t0 };
  } catch (e) {
    return e instanceof FitlabInputError ? { code: 2, err: `fitlab: ${e.message}\n`, ms: performance.now() - t0 } : { code: 1, err: `fitlab: internal error: ${e}\n`, ms: performance.now() - t0 };
  }
}

for (const c of cases) {
  const r = c.load ? load(c) : await inProcess(c.argv, c.env);
  const ok = r.code === c.exit && r.err.trim().split("\n").length === 1 && !/internal error|\n\s+at /.test(r.err);
  if (ok) refused++;
  else console.log(`NOT REFUSED AS EXPECTED: ${c.id} ${c.what}: exit ${r.code}: ${r.err.trim().slice(0, 200)}`);
  if (r.ms > slowest.ms) slowest = { ms: r.ms, what: `${c.id} ${c.what}` };
}
const total = performance.now() - t0;
console.log(`corpus: ${cases.length} bad inputs, ${refused} refused as expected (${((refused / cases.length) * 100).toFixed(1)} %)`);
console.log(`in-process: ${total.toFixed(0)} ms in all, slowest ${slowest.ms.toFixed(0)} ms (${slowest.what})`);

const big = cases.find((c) => c.what === "50 MB plan");
const size = fs.statSync(big.argv[2]).size;
const median = (argv, code) => {
  const runs = Array.from({ length: 5 }, () => {
    const s = performance.now();
    const r = spawnSync(process.execPath, [bin, ...argv], { encoding: "utf8" });
    if (r.status !== code) throw new Error(`${argv.join(" ")}: exit ${r.status}`);
    return performance.now() - s;
  }).sort((a, b) => a - b);
  return runs[2];
};
const inside = await inProcess(big.argv);
console.log(`a ${(size / 2 ** 20).toFixed(1)} MiB plan: refused in ${inside.ms.toFixed(1)} ms in-process; ${median(big.argv, 2).toFixed(0)} ms as a fresh process, against ${median(["--version"], 0).toFixed(0)} ms for \`fitlab --version\` (medians of 5; goal < 1000 ms)`);
fs.rmSync(root, { recursive: true, force: true });
