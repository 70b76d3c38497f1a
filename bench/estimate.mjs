// Benchmark: planner estimates per second on one core, and the wall time of one CLI call. Both are printed
// per wall second and per CPU second (user + sys of this process): on a shared, loaded machine the wall rate
// falls with the load while the CPU rate does not; a bare `node -e ""` is timed beside the CLI call for scale.
// Run: npm run build && node bench/estimate.mjs   (goal: >= 100,000 estimates/s on one core)
import { spawnSync } from "node:child_process";
import fs from "node:fs";
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
const c0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
// two seconds of CPU, not of wall time: on a loaded machine a wall budget ends before the JIT has warmed up
const cpuBudgetUs = 2_000_000;
const cpuUsed = () => {
  const u = process.cpuUsage(c0);
  return u.user + u.system;
};
while (cpuUsed() < cpuBudgetUs) {
  for (const w of workloads) {
    sink += estimate(spec, w, gpu).peak.device_bytes;
    n++;
  }
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const cu = process.cpuUsage(c0);
const cpuSeconds = (cu.user + cu.system) / 1e6;
console.log(`estimates per second (memory + time, one core): ${Math.round(n / seconds).toLocaleString("en-US")} per wall second, ${Math.round(n / cpuSeconds).toLocaleString("en-US")} per CPU second  (${n} in ${seconds.toFixed(2)} s wall, ${cpuSeconds.toFixed(2)} s CPU; checksum ${sink % 997}; load average ${(await import("node:os")).loadavg()[0].toFixed(1)})`);

const bin = fileURLToPath(new URL("../bin/fitlab.js", import.meta.url));
/** CPU ms of this process's waited-for children so far (cutime + cstime of /proc/self/stat; NaN off Linux) */
function childCpuMs() {
  try {
    const f = fs.readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
    return ((Number(f[13]) + Number(f[14])) / 100) * 1000; // clock ticks of USER_HZ = 100
  } catch {
    return NaN;
  }
}
/** wall ms of a child process, and its CPU ms */
function timed(args) {
  const cpu0 = childCpuMs();
  const s = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return { wall: Number(process.hrtime.bigint() - s) / 1e6, cpu: childCpuMs() - cpu0 };
}
const cli = [];
const bare = [];
for (let i = 0; i < 7; i++) {
  cli.push(timed([bin, "estimate", "--json"]));
  bare.push(timed(["-e", ""]));
}
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`one CLI call (node bin/fitlab.js estimate --json), median of 7: ${med(cli.map((x) => x.wall)).toFixed(0)} ms wall, ${med(cli.map((x) => x.cpu)).toFixed(0)} ms CPU; bare \`node -e ""\`: ${med(bare.map((x) => x.wall)).toFixed(0)} ms wall, ${med(bare.map((x) => x.cpu)).toFixed(0)} ms CPU`);
