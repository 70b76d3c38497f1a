// Table-driven check of the planner against the published, measured cases (test/fixtures/cases-public.csv, a
// copy of shared/data/cases-public.csv plus the rows named in test/fixtures/README.md). Tolerances are explicit;
// known misses are named with the reason. The headline is leave-one-source-out: the calibrated numbers fitted
// without the rows of the source being scored.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CALIBRATED_PARAMS, currentCalibration, PRIOR_CALIBRATION, withCalibration } from "../../src/engines/calibration.js";
import { readCases } from "../../src/validate/cases.js";
import { crossValidate, prepareAll } from "../../src/validate/cv.js";
import { fitCalibration } from "../../src/validate/fit.js";
import { validateCases } from "../../src/validate/score.js";
import { runCli } from "../helpers.js";

const FILE = fileURLToPath(new URL("../fixtures/cases-public.csv", import.meta.url));
const { cases, rejected } = readCases(FILE);
const trusted = cases.filter((c) => c.trust === "high" || c.trust === "medium");
const report = validateCases(trusted);
const cv = crossValidate(trusted);

/** Per-row memory tolerance (absolute % error) for trusted rows, in sample. */
const MEMORY_TOLERANCE_PCT = 25;
/** Rows the model is known to miss, and why (the model is not tuned to them). */
const KNOWN_MEMORY_MISSES: Record<string, string> = {
  M006: "unpacked alpaca under a 4,096 cap: real batches are far shorter than the cap the planner assumes",
  M056: "ms-swift 'delete' truncation at batch 2: variable-length batches fragment the allocator beyond the fitted margin",
  M062: "the same, QLoRA",
  M069: "MetaMathQA truncated to 768 with dynamic padding: most batches are far shorter than the cap",
  M095: "Unsloth notebook on unpacked Alpaca/chat data: samples far shorter than the 2,048 cap",
  M101: "the same (Gemma-2-9B, 256K vocabulary: the cap's logits dominate the over-estimate)",
  M091: "bs16 decode with an undated transformers: the legacy tuple KV cache (2x) cannot be inferred without a version",
  M615: "FSDP CPU offload of a bf16 LoRA on 2 x RTX 4090: the reserved peak is a third above the shard plus one gathered unit; not explained",
};

describe("validation against cases-public.csv (trust high + medium)", () => {
  it("reads every row, the parallel column included", () => {
    expect(rejected).toEqual([]);
    expect(cases.length).toBe(412);
    const tp = cases.find((c) => c.id === "M220")!;
    expect([tp.workloadInput.nGpus, tp.workloadInput.sharding]).toEqual([4, "tp"]);
    const dm = cases.find((c) => c.id === "M212")!;
    expect([dm.workloadInput.nGpus, dm.workloadInput.sharding]).toEqual([2, "device-map"]);
    expect(cases.find((c) => c.id === "M040")!.workloadInput.sharding).toBeUndefined();
    expect(new Set(trusted.map((c) => c.source)).size).toBe(16);
    const fsdp = cases.find((c) => c.id === "M601")!;
    expect([fsdp.workloadInput.nGpus, fsdp.workloadInput.sharding]).toEqual([2, "fsdp"]);
  });
  it("in sample: memory median <= 6% and >= 80% within 15%; throughput median <= 20% (5.3 %, 84.9 %, 17.4 %)", () => {
    const m = report.summary.memory;
    expect(m.expressed).toBe(m.n);
    expect(m.median_abs_pct_error!).toBeLessThanOrEqual(6);
    expect(m.within_15pct!).toBeGreaterThanOrEqual(0.8);
    expect(report.summary.throughput.median_abs_pct_error!).toBeLessThanOrEqual(20);
  });
  it("leave one source out: memory median <= 8% and >= 80% within 15% (the issue's bar; 5.4 %, 83.4 %); throughput median <= 27% (25.4 %: the H20 rows, measured by one source only, miss the bar of 20 %)", () => {
    const m = cv.summary.memory;
    expect(m.expressed).toBe(m.n);
    expect(m.median_abs_pct_error!).toBeLessThanOrEqual(8);
    expect(m.within_15pct!).toBeGreaterThanOrEqual(0.8);
    expect(cv.summary.throughput.median_abs_pct_error!).toBeLessThanOrEqual(27);
    expect(cv.folds.length).toBe(16);
  });
  it("the band holds at least 80% of the cross-validated cases", () => {
    expect(cv.summary.memory.band_coverage!).toBeGreaterThanOrEqual(0.8);
  });
  it("fit/OOM as precision and recall of OOM: 4 of the 5 measured OOMs predicted; the false alarms are FSDP-QLoRA batches that ran within 12 % of a 24 GB card", () => {
    for (const s of [report.summary.fit, cv.summary.fit]) {
      expect(s.n).toBeGreaterThan(300);
      expect(s.oom).toBe(5);
      expect(s.oom_recall).toBeGreaterThanOrEqual(0.8);
      expect(s.oom_precision).toBeGreaterThanOrEqual(0.25);
    }
  });
  for (const r of report.cases.filter((x) => x.measured_gib !== null)) {
    const known = KNOWN_MEMORY_MISSES[r.id];
    it(`${r.id} (${r.framework}, ${r.metric}): ${r.measured_gib} GiB within ${MEMORY_TOLERANCE_PCT}%${known ? " — known miss" : ""}`, () => {
      expect(r.expressed).toBe(true);
      if (known) expect(r.abs_pct_error!).toBeGreaterThan(MEMORY_TOLERANCE_PCT); // if it starts passing, drop it from the list
      else expect(r.abs_pct_error!).toBeLessThanOrEqual(MEMORY_TOLERANCE_PCT);
    });
  }
  for (const id of ["M082", "M084", "M129"]) {
    it(`${id} is predicted out of memory, as measured`, () => {
      const r = report.cases.find((x) => x.id === id)!;
      expect(r.outcome).toBe("oom");
      expect(r.predicted_fits).toBe(false);
    });
  }
  for (const id of ["M083", "M085", "M088", "M128"]) {
    it(`${id} (the OOM row's partner) is predicted to fit, as measured`, () => {
      expect(report.cases.find((x) => x.id === id)!.predicted_fits).toBe(true);
    });
  }
  it("shows the spread over settings a source leaves unstated (unpacked data: the longest batch)", () => {
    const r = report.cases.find((x) => x.id === "M006")!;
    expect(r.unknown_settings).toContain("longest batch");
    expect(r.spread_low_gib!).toBeLessThan(r.predicted_gib! * 0.7);
    expect(r.spread_low_gib!).toBeLessThanOrEqual(r.measured_gib! * 1.2);
  });
});

describe("calibration", () => {
  it("data/calibration.yaml is what the fitter gives on these cases (nobody tunes it by hand)", () => {
    const { prepared } = withCalibration(PRIOR_CALIBRATION, () => prepareAll(trusted));
    const fresh = fitCalibration(prepared);
    const shipped = currentCalibration();
    for (const p of CALIBRATED_PARAMS) {
      if (p.scope === "global") expect([p.key, shipped.global[p.key]]).toEqual([p.key, fresh.global[p.key]]);
    }
    for (const [family, values] of Object.entries(fresh.kernels)) {
      for (const [k, v] of Object.entries(values ?? {})) expect([family, k, shipped.kernels[family as keyof typeof shipped.kernels]?.[k]]).toEqual([family, k, v]);
    }
  });
  it("a fold never sees the rows of the source it scores", () => {
    // the fold's numbers are exactly a fit on the other sources alone
    const src = "https://github.com/QwenLM/Qwen2.5";
    const fold = cv.folds.find((f) => f.source === src)!;
    const { prepared } = prepareAll(trusted.filter((c) => c.source !== src));
    expect(fitCalibration(prepared).kernels).toEqual(fold.calibration.kernels);
  });
});

describe("the cases format", () => {
  it("a file without the parallel column still reads: one GPU, or unknown when n_gpus > 1", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-cases-"));
    const text = fs.readFileSync(FILE, "utf8").split("\n");
    const header = text[0]!.split(",");
    const at = header.indexOf("parallel");
    const drop = (line: string) => {
      // the parallel field is never quoted: drop the at-th comma-separated field of the unquoted prefix
      const parts = line.split(",");
      return [...parts.slice(0, at), ...parts.slice(at + 1)].join(",");
    };
    const one = text.find((l) => l.startsWith("M040,"))!;
    const multi = text.find((l) => l.startsWith("M212,"))!;
    const f = path.join(dir, "old.csv");
    fs.writeFileSync(f, [drop(text[0]!), drop(one), drop(multi)].join("\n"));
    const r = readCases(f);
    expect(r.rejected).toEqual([]);
    expect(r.cases[0]!.unknowns.map((u) => u.setting)).not.toContain("parallel");
    expect(r.cases[1]!.unknowns.map((u) => u.setting)).toContain("parallel");
    expect(r.cases[1]!.assumptions.join(" ")).toMatch(/split over 2 GPUs not stated: device-map assumed/);
  });
  it("reads fp8, bnb-fp4 and gptq-int8, and rejects an unknown parallel value with its line", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-cases-"));
    const lines = fs.readFileSync(FILE, "utf8").split("\n");
    const m205 = lines.find((l) => l.startsWith("M205,"))!;
    const fp8 = m205.replace(/^M205,/, "Y001,").replace(",gptq-int8,", ",fp8,");
    const fp4 = m205.replace(/^M205,/, "Y002,").replace(",gptq-int8,", ",bnb-fp4,");
    const badPar = lines.find((l) => l.startsWith("M212,"))!.replace(/^M212,/, "Y003,").replace(",device-map,", ",ring,");
    const f = path.join(dir, "new.csv");
    fs.writeFileSync(f, [lines[0], m205, fp8, fp4, badPar].join("\n"));
    const r = readCases(f);
    expect(r.cases.map((c) => c.workloadInput.quant)).toEqual(["gptq-int8", "fp8", "bnb-fp4"]);
    expect(r.rejected).toEqual([{ id: "Y003", line: 5, reason: expect.stringMatching(/unknown parallel "ring"/) }]);
  });
  it("validate --cv source --json adds a cv summary with the same fields as summary", () => {
    const r = runCli(["validate", FILE, "--trust", "high", "--cv", "source", "--json"]);
    expect(r.code).toBe(0);
    const v = JSON.parse(r.out);
    const keys = (o: object): string[] => Object.entries(o).flatMap(([k, x]) => (x !== null && typeof x === "object" ? keys(x).map((s) => `${k}.${s}`) : [k])).sort();
    expect(keys(v.cv)).toEqual(keys(v.summary));
    expect(v.cv.memory.median_abs_pct_error).toBeGreaterThan(0);
  }, 120_000);
});
