// What cards sustain: every measured card against the spec-sheet rule fitted without it (leave-one-out), and the
// sustained rate fitlab uses for each catalog card (measured, or the rule with its warning).
// Run: npm run build && node bench/sustained.mjs
import { loadGpuCatalog } from "../dist/hardware/catalog.js";
import { fitRule, measurements, ruleCheck, sustainedMatmul } from "../dist/hardware/sustained.js";

const T = 1e12;
const fit = fitRule(measurements());
console.log(`rule: min(nominal x ${fit.clockFactor["half-rate"].toFixed(3)} (GeForce, half-rate FP32 accumulate) or x ${fit.clockFactor["full-rate"].toFixed(3)} (full rate), board W x TFLOPS/W ${Object.entries(fit.flopsPerWatt).map(([cc, v]) => `${cc}: ${(v / T).toFixed(3)}`).join(", ")})`);
console.log(`power-limited (fitted): ${fit.powerLimited.join(", ")}\n`);
console.log("measured card                         measured   rule (without it)   error");
const rows = ruleCheck();
for (const r of rows) console.log(`${r.gpu.padEnd(36)} ${(r.measured / T).toFixed(1).padStart(8)}   ${(r.rule / T).toFixed(1).padStart(8)}          ${`${(r.error * 100).toFixed(0)}%`.padStart(5)}${r.alone ? "  (only card of its compute capability: not checkable)" : ""}`);
const checked = rows.filter((r) => !r.alone).map((r) => Math.abs(r.error)).sort((a, b) => a - b);
console.log(`\nleave-one-out: median |error| ${(checked[checked.length >> 1] * 100).toFixed(1)}%, worst ${(checked.at(-1) * 100).toFixed(1)}% over ${checked.length} cards\n`);
console.log("catalog card                     datasheet   sustained   basis");
for (const g of loadGpuCatalog().all()) {
  const s = sustainedMatmul(g);
  console.log(`${g.name.padEnd(32)} ${(g.bf16DenseFlopsPerS / T).toFixed(0).padStart(9)}   ${(s.flopsPerS / T).toFixed(0).padStart(9)}   ${s.basis}${s.warnings.length ? `  ! ${s.warnings.join("; ")}` : ""}`);
}
