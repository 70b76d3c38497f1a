// Benchmark: whole-process start-up of the CLI (wall time, median of N runs each), with node's own bare start-up
// measured the same way for scale. Goals on a quiet 2-core machine: `fitlab --version` <= 0.2 s, `fitlab
// estimate` <= 0.3 s, `fitlab decide` <= 0.5 s. Commands are interleaved so that background load touches them
// alike; where /usr/bin/time exists, the child's CPU time (user + sys) is printed too: it moves less than wall
// time when other processes share the machine. Each fitlab command is timed twice: as bin/fitlab.js runs it (the
// bundle in dist/cli-bundle, from scripts/bundle-cli.mjs) and with FITLAB_NO_BUNDLE=1 (the plain tsc modules).
// Run: npm run build && node bench/startup.mjs [runs]     (default 15)
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const runs = Number(process.argv[2] ?? 15);
const bin = fileURLToPath(new URL("../bin/fitlab.js", import.meta.url));
const env = { ...process.env, FITLAB_NO_NVIDIA_SMI: "1" };
const TIME = "/usr/bin/time";
const haveTime = existsSync(TIME);

const fitlab = [
  ["fitlab --version", ["--version"]],
  ["fitlab --help", ["--help"]],
  ["fitlab estimate", ["estimate"]],
  ["fitlab decide", ["decide"]],
];
const plainEnv = { ...env, FITLAB_NO_BUNDLE: "1" };
const cases = [
  ["node (bare)", ["-e", ""], env],
  ...fitlab.flatMap(([name, args]) => [
    [name, [bin, ...args], env],
    [`${name} (no bundle)`, [bin, ...args], plainEnv],
  ]),
];
const goals = { "fitlab --version": 0.2, "fitlab estimate": 0.3, "fitlab decide": 0.5 };

/** One run: wall seconds (measured here) and CPU seconds (from /usr/bin/time, else null). */
function once(args, env) {
  const cmd = haveTime ? TIME : process.execPath;
  const argv = haveTime ? ["-f", "cpu %U %S", process.execPath, ...args] : args;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { env, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${args.join(" ")}: exit ${r.status}: ${r.stderr}`);
  const m = /cpu ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { wall, cpu: m ? Number(m[1]) + Number(m[2]) : null };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

for (const [, args, e] of cases) once(args, e); // warm the YAML parse cache and the file-system cache
const results = new Map(cases.map(([name]) => [name, []]));
for (let i = 0; i < runs; i++) for (const [name, args, e] of cases) results.get(name).push(once(args, e));

console.log(`whole-process start-up, median of ${runs} interleaved runs${haveTime ? " (cpu = user + sys of the child)" : ""}:`);
const bare = median(results.get("node (bare)").map((r) => r.wall));
for (const [name] of cases) {
  const rs = results.get(name);
  const wall = median(rs.map((r) => r.wall));
  const cpu = rs[0].cpu === null ? null : median(rs.map((r) => r.cpu));
  const goal = goals[name];
  console.log(`  ${name.padEnd(30)} wall ${wall.toFixed(3)} s${cpu === null ? "" : `  cpu ${cpu.toFixed(3)} s`}${goal ? `  (goal <= ${goal} s wall; ${(wall - bare).toFixed(3)} s above bare node)` : ""}`);
}
