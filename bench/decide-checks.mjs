// The issue #10 checks as a script: `decide --format json` with --gpu set to each catalog card, alone and with
// --horizon-months 36 --utilization 0.3: no computed trigger passed while the choice stands; no best purchase
// (or choice) with less memory or sustained throughput than the current card; a verdict (fits/tight/no) for
// each experiment x option; a change list for every unlocked experiment. One line per case, then NO PROBLEMS
// or the problems. Run: npm run build && node bench/decide-checks.mjs
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
const bin = fileURLToPath(new URL("../bin/fitlab.js", import.meta.url));
const gpus = JSON.parse(spawnSync(process.execPath, [bin, "gpus", "--json"], { encoding: "utf8" }).stdout).map((g) => g.name);
const problems = [];
const cases = [...gpus.map((g) => ["--gpu", g]), ["--horizon-months", "36", "--utilization", "0.3"], ...gpus.map((g) => ["--gpu", g, "--horizon-months", "36", "--utilization", "0.3"])];
for (const extra of cases) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [bin, "decide", "--format", "json", ...extra], { encoding: "utf8", env: { ...process.env, FITLAB_NO_NVIDIA_SMI: "1" } });
  if (r.status !== 0) { problems.push(`${extra.join(" ")}: exit ${r.status} ${r.stderr}`); continue; }
  const d = JSON.parse(r.stdout);
  const opt = (n) => d.options.find((o) => o.name === n);
  const cur = d.options[0];
  for (const t of d.triggers.filter((t) => t.kind === "computed")) {
    const passed = t.direction === "above" ? t.now >= t.threshold : t.now <= t.threshold;
    if (passed || t.passed) problems.push(`${extra.join(" ")}: trigger passed ${t.id} now ${t.now} thr ${t.threshold}`);
  }
  const bu = d.recommendation.best_upgrade && opt(d.recommendation.best_upgrade);
  if (bu && (bu.usable_bytes < cur.usable_bytes || bu.sustained_flops_per_s < cur.sustained_flops_per_s)) problems.push(`${extra.join(" ")}: best upgrade ${bu.name} smaller/slower`);
  const ch = d.recommendation.option !== cur.name && opt(d.recommendation.option);
  if (ch && (ch.usable_bytes < cur.usable_bytes || ch.sustained_flops_per_s < cur.sustained_flops_per_s)) problems.push(`${extra.join(" ")}: choice smaller/slower`);
  for (const e of d.experiments) for (const c of e.options) if (!["fits", "tight", "no"].includes(c.verdict)) problems.push(`${extra.join(" ")}: ${e.key} ${c.option} verdict ${c.verdict}`);
  for (const i of d.infeasible) for (const u of i.unlocked_by) if (!Array.isArray(u.changes)) problems.push(`no changes list`);
  console.log(extra.join(" ").padEnd(70), (Date.now() - t0 + "ms").padStart(7), d.recommendation.choice.padEnd(40), "upgrade:", (d.recommendation.best_upgrade ?? "-").padEnd(40), d.triggers.filter((t) => t.kind === "computed").map((t) => `${t.id}=${Math.round(t.threshold)}`).join(" "));
}
console.log(problems.length ? problems.join("\n") : "NO PROBLEMS");
