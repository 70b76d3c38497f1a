// Benchmark: wall time of `fitlab run A.qlora-basic --dry-run` (the resolved run and its estimate; no worker,
// no network), whole process, 7 runs. Run: npm run build && node bench/dry-run.mjs
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
for (const args of [["run", "A.qlora-basic", "--dry-run"], ["run", "A.qlora-basic", "--dry-run", "--json"], ["run", "A.lr-sweep", "--dry-run", "--json"]]) {
  const runs = Array.from({ length: 7 }, () => time(args)).sort((a, b) => a - b);
  console.log(`fitlab ${args.join(" ")}: median ${runs[3].toFixed(0)} ms, best ${runs[0].toFixed(0)} ms, worst ${runs[6].toFixed(0)} ms (7 runs)`);
}
