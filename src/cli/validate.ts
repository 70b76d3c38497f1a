// `fitlab validate FILE.csv`: score the planner against measured cases.
import { Command } from "commander";
import { FitlabInputError } from "../errors.js";
import { oneLine } from "../input/shown.js";
import { readCases } from "../validate/cases.js";
import { validateCases, type ValidationReport } from "../validate/score.js";
import { table } from "./format.js";
import { print } from "./output.js";

const pct = (x: number | null) => (x === null ? "-" : `${x.toFixed(1)}%`);
const num = (x: number | null, d = 2) => (x === null ? "-" : x.toFixed(d));

export function renderValidation(r: ValidationReport): string {
  const rows = r.cases.map((c) => [
    c.id,
    c.expressed ? c.framework : "not expressed",
    c.metric ?? "-",
    num(c.measured_gib),
    num(c.predicted_gib),
    pct(c.abs_pct_error),
    num(c.measured_tokens_per_s, 0),
    num(c.predicted_tokens_per_s, 0),
    pct(c.tokens_abs_pct_error),
    c.outcome || "-",
    c.fit_agrees === null ? "-" : c.fit_agrees ? "agree" : "DISAGREE",
  ]);
  const s = r.summary;
  const lines = [
    table(["id", "engine", "counter", "meas GiB", "pred GiB", "err", "meas tok/s", "pred tok/s", "err", "outcome", "fit"], rows),
    "",
    `memory: ${s.memory.expressed}/${s.memory.n} cases, median error ${pct(s.memory.median_abs_pct_error)}, within 10%: ${pct(s.memory.within_10pct === null ? null : s.memory.within_10pct * 100)}, within 20%: ${pct(s.memory.within_20pct === null ? null : s.memory.within_20pct * 100)}`,
    `throughput: ${s.throughput.expressed}/${s.throughput.n} cases, median error ${pct(s.throughput.median_abs_pct_error)}`,
    `fits/OOM: ${s.fit_agreement.agree}/${s.fit_agreement.n} agree`,
  ];
  for (const c of r.cases.filter((x) => !x.expressed)) lines.push(`not expressed ${c.id}: ${c.reason}`);
  return lines.join("\n");
}

export function validateCommand(): Command {
  return new Command("validate")
    .description("score the planner against measured cases (columns of shared/data/cases-public.csv)")
    .argument("<file>", "CSV file of measured cases")
    .option("--trust <levels>", "comma-separated trust levels to keep (high, medium, low)")
    .option("--json", "print the validation object")
    .action((file: string, o: { trust?: string; json?: boolean }) => {
      const { cases, rejected } = readCases(file);
      let selected = cases;
      if (o.trust) {
        const levels = o.trust.split(",").map((t) => t.trim()).filter(Boolean);
        const bad = levels.filter((l) => !["high", "medium", "low"].includes(l));
        if (bad.length) throw new FitlabInputError(`--trust takes high, medium, low; got ${bad.join(", ")}`);
        selected = cases.filter((c) => levels.includes(c.trust));
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
      print(o.json ? report : renderValidation(report), o.json);
    });
}
