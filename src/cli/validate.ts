// `fitlab validate FILE.csv [--cv source]`: score the planner against measured cases, in sample and
// (with --cv source) leave-one-source-out.
import { Command } from "commander";
import { FitlabInputError } from "../errors.js";
import { ensureModel } from "../spec/catalog.js";
import { oneLine } from "../input/shown.js";
import { readCases } from "../validate/cases.js";
import { crossValidate, type CrossValidation } from "../validate/cv.js";
import { validateCases, type CaseResult, type ValidationReport, type ValidationSummary } from "../validate/score.js";
import { table } from "./format.js";
import { print } from "./output.js";

const pct = (x: number | null) => (x === null ? "-" : `${x.toFixed(1)}%`);
const share = (x: number | null) => (x === null ? "-" : `${(x * 100).toFixed(1)}%`);
const num = (x: number | null, d = 2) => (x === null ? "-" : x.toFixed(d));

export function renderSummary(label: string, s: ValidationSummary): string[] {
  const f = s.fit;
  return [
    `${label} memory: ${s.memory.expressed}/${s.memory.n} cases, median error ${pct(s.memory.median_abs_pct_error)}, within 10%: ${share(s.memory.within_10pct)}, within 15%: ${share(s.memory.within_15pct)}, within 20%: ${share(s.memory.within_20pct)}; band holds ${share(s.memory.band_coverage)}; the spread over unstated settings holds ${share(s.memory.spread_coverage)} of the ${s.memory.with_spread} cases it widens`,
    `${label} throughput: ${s.throughput.expressed}/${s.throughput.n} cases, median error ${pct(s.throughput.median_abs_pct_error)}, within 20%: ${share(s.throughput.within_20pct)}`,
    `${label} fits/OOM: ${f.agree}/${f.n} agree; OOM precision ${share(f.oom_precision)} (${f.true_oom}/${f.predicted_oom} predicted OOMs were OOM), recall ${share(f.oom_recall)} (${f.true_oom}/${f.oom} OOMs predicted)`,
  ];
}

export function renderValidation(r: ValidationReport, cv?: CrossValidation): string {
  const cvById = new Map<string, CaseResult>((cv?.cases ?? []).map((c) => [c.id, c]));
  const rows = r.cases.map((c) => {
    const k = cvById.get(c.id);
    return [
      c.id,
      c.expressed ? c.framework : "not expressed",
      c.metric ?? "-",
      num(c.measured_gib),
      num(c.predicted_gib),
      c.spread_low_gib !== null && c.spread_high_gib !== null && c.spread_high_gib - c.spread_low_gib > 0.005 ? `${num(c.spread_low_gib)}–${num(c.spread_high_gib)}` : "",
      pct(c.abs_pct_error),
      ...(cv ? [pct(k?.abs_pct_error ?? null)] : []),
      num(c.measured_tokens_per_s, 0),
      num(c.predicted_tokens_per_s, 0),
      pct(c.tokens_abs_pct_error),
      ...(cv ? [pct(k?.tokens_abs_pct_error ?? null)] : []),
      c.outcome || "-",
      c.fit_agrees === null ? "-" : c.fit_agrees ? "agree" : "DISAGREE",
    ];
  });
  const head = ["id", "engine", "counter", "meas GiB", "pred GiB", "spread", "err", ...(cv ? ["cv err"] : []), "meas tok/s", "pred tok/s", "err", ...(cv ? ["cv err"] : []), "outcome", "fit"];
  const lines = [table(head, rows), "", ...renderSummary("in-sample", r.summary)];
  if (cv) lines.push(...renderSummary("cross-validated (leave one source out)", cv.summary), `cross-validation: ${cv.folds.length} sources, each scored with constants fitted on the others`);
  for (const c of r.cases.filter((x) => !x.expressed)) lines.push(`not expressed ${c.id}: ${c.reason}`);
  return lines.join("\n");
}

export function validateCommand(): Command {
  return new Command("validate")
    .description("score the planner against measured cases (columns of shared/data/cases-public.csv); --cv source adds leave-one-source-out scores")
    .argument("<file>", "CSV file of measured cases")
    .option("--trust <levels>", "comma-separated trust levels to keep (high, medium, low)")
    .option("--cv <unit>", "cross-validate: 'source' refits the calibrated numbers without each source's rows and scores those rows")
    .option("--json", "print the validation object (with --cv: a `cv` summary with the same fields as `summary`)")
    .action(async (file: string, o: { trust?: string; json?: boolean; cv?: string }) => {
      if (o.cv !== undefined && o.cv !== "source") throw new FitlabInputError(`--cv takes "source" (leave one source out), got "${o.cv}"`);
      const { cases, rejected } = readCases(file);
      let selected = cases;
      if (o.trust) {
        const levels = o.trust.split(",").map((t) => t.trim()).filter(Boolean);
        const bad = levels.filter((l) => !["high", "medium", "low"].includes(l));
        if (bad.length) throw new FitlabInputError(`--trust takes high, medium, low; got ${bad.join(", ")}`);
        selected = cases.filter((c) => levels.includes(c.trust));
      }
      // models by hub id are fetched once (config.json + safetensors headers) before scoring
      for (const m of [...new Set(selected.map((c) => c.model))]) {
        try {
          const note = await ensureModel(m);
          if (note) process.stderr.write(`fitlab: ${note}\n`);
        } catch (e) {
          if (!(e instanceof FitlabInputError)) throw e;
          process.stderr.write(`fitlab: ${oneLine(e.message)}\n`);
        }
      }
      const report = validateCases(selected, rejected);
      // nothing scored is a failed validation, not a report of zeros: one line naming the first reason
      const scored = report.cases.filter((c) => c.abs_pct_error !== null || c.tokens_abs_pct_error !== null || c.fit_agrees !== null);
      if (scored.length === 0) {
        const first = report.cases.find((c) => !c.expressed);
        const why = first ? `; first: ${first.id}: ${first.reason}` : selected.length === 0 ? "; no row was selected" : "";
        throw new FitlabInputError(`no row of ${file} could be scored (${rejected.length} rejected, ${report.cases.length - rejected.length} read)${why}`);
      }
      for (const r of rejected) process.stderr.write(`fitlab: skipped ${r.id} (line ${r.line}): ${oneLine(r.reason)}\n`);
      const cv = o.cv ? crossValidate(selected, rejected) : undefined;
      if (o.json) {
        const out = cv ? { ...report, cv: cv.summary, cv_cases: cv.cases, cv_folds: cv.folds.map((f) => ({ source: f.source, rows: f.rows, calibration: { global: f.calibration.global, kernels: f.calibration.kernels } })) } : report;
        print(out, true);
      } else print(renderValidation(report, cv), false);
    });
}
