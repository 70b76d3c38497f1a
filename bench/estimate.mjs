// Benchmark: planner estimates per second on one core, and the wall time of one CLI call.
// Run: npm run build && node bench/estimate.mjs   (goal: >= 100,000 estimates/s)
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { loadGpuCatalog } from "../dist/hardware/catalog.js";
import { estimate } from "../dist/planner.js";
import { resolveModel } from "../dist/spec/catalog.js";
import { resolveWorkload } from "../dist/workload/resolve.js";

const spec = resolveModel("Qwen/Qwen2.5-7B");
const gpu = loadGpuCatalog().find("GeForce RTX 5060 Ti 16GB");
const workloads = [256, 512, 1024, 2048, 4096, 8192].flatMap((seq) =>
  ["qlora", "lora", "full"].map((kind) => resolveWorkload({ kind, seq, batch: 2 })),
);

let n = 0;
let sink = 0;
const t0 = process.hrtime.bigint();
const budgetNs = 2_000_000_000n;
while (process.hrtime.bigint() - t0 < budgetNs) {
  for (const w of workloads) {
    sink += estimate(spec, w, gpu).peak.device_bytes;
    n++;
  }
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(`estimates per second (memory + time, one core): ${Math.round(n / seconds).toLocaleString("en-US")}  (${n} in ${seconds.toFixed(2)} s; checksum ${sink % 997})`);

const bin = fileURLToPath(new URL("../bin/fitlab.js", import.meta.url));
const times = [];
for (let i = 0; i < 5; i++) {
  const s = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [bin, "estimate", "--json"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  times.push(Number(process.hrtime.bigint() - s) / 1e6);
}
times.sort((a, b) => a - b);
console.log(`one CLI call (node bin/fitlab.js estimate --json), median of 5: ${times[2].toFixed(0)} ms`);
