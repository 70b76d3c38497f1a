// Benchmark: wall time of `fitlab decide` on the built-in plan (goal: under 0.5 s), cold and warm
// (the first call after a change parses the YAML data files; later calls read their cached parse).
// Run: npm run build && node bench/decide.mjs
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../bin/fitlab.js", import.meta.url));
const env = { ...process.env, FITLAB_NO_NVIDIA_SMI: "1" };
const time = (args) => {
  const s = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env });
  if (r.status !== 0) throw new Error(r.stderr);
  return Number(process.hrtime.bigint() - s) / 1e6;
};
for (const format of ["md", "json", "html"]) {
  const runs = Array.from({ length: 7 }, () => time(["decide", "--format", format])).sort((a, b) => a - b);
  console.log(`fitlab decide --format ${format}: median ${runs[3].toFixed(0)} ms, best ${runs[0].toFixed(0)} ms, worst ${runs[6].toFixed(0)} ms (7 runs)`);
}
