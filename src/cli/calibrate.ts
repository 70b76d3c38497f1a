// `fitlab calibrate`: how far the planner's predictions were from the user's own runs, per GPU and engine,
// and the correction that closes the gap (stored in the fitlab home; estimate, fit, decide and run use it
// and say so; --no-calibration ignores it).
import { Command } from "commander";
import { calibrationFile, readCalibration, writeCalibration } from "../calibration/correction.js";
import { fitCalibration, MIN_RUNS } from "../calibration/fit.js";
import { FitlabInputError } from "../errors.js";
import { loadGpuCatalog } from "../hardware/catalog.js";
import { observationsFromRuns } from "../runs/observations.js";
import { RunStore } from "../runs/store.js";
import { table } from "./format.js";
import { print } from "./output.js";

const pct = (x: number | null) => (x === null ? "-" : `${(x * 100).toFixed(1)} %`);

export function calibrateCommand(): Command {
  return new Command("calibrate")
    .description("compare predictions with your finished GPU runs and fit a correction per GPU and engine (memory margin, compute efficiency)")
    .option("--runs <dir>", "run store folder (default ./runs or $FITLAB_RUNS)")
    .option("--dry-run", "show the fit without storing it")
    .option("--reset", "delete the stored correction")
    .option("--json", "print the fit as JSON")
    .action((o: { runs?: string; dryRun?: boolean; reset?: boolean; json?: boolean }) => {
      const file = calibrationFile();
      if (o.reset && o.dryRun) throw new FitlabInputError("--reset deletes the stored correction; --dry-run stores nothing: give one of them");
      if (o.reset) {
        writeCalibration({ fitlab_calibration: 1, corrections: [] }, file);
        return print(o.json ? { file, corrections: [] } : `cleared ${file}: the planner is as shipped`, o.json === true);
      }
      const store = new RunStore(o.runs);
      let runs;
      try {
        runs = store.list({ kind: "train" });
      } finally {
        store.close();
      }
      const { observations, skipped } = observationsFromRuns(runs, loadGpuCatalog());
      const { groups, corrections } = fitCalibration(observations);
      const previous = readCalibration(file);
      if (!o.dryRun && corrections.length > 0) {
        // keep corrections for GPUs and engines these runs say nothing about
        const kept = (previous?.corrections ?? []).filter((c) => !corrections.some((n) => n.gpu === c.gpu && n.engine === c.engine));
        writeCalibration({ fitlab_calibration: 1, corrections: [...kept, ...corrections] }, file);
      }
      const result = { file, stored: !o.dryRun && corrections.length > 0, observations: observations.length, skipped, min_runs: MIN_RUNS, groups, corrections };
      if (o.json) return print(result, true);
      if (observations.length === 0) return print(`no finished GPU run with a measured peak in ${store.dir}${skipped ? ` (${skipped} without a prediction or a known card)` : ""}: nothing to calibrate`, false);
      const rows = groups.map((g) => [
        g.gpu,
        g.engine,
        String(g.memory.runs),
        `x${g.memory.factor.toFixed(3)}`,
        pct(g.memory.medianErrorBefore),
        pct(g.memory.medianErrorAfter),
        g.compute ? `x${g.compute.factor.toFixed(3)}` : "-",
        g.compute ? pct(g.compute.medianErrorBefore) : "-",
        g.compute ? pct(g.compute.medianErrorAfter) : "-",
      ]);
      const lines = [
        table(["GPU", "engine", "runs", "memory", "error before", "after (leave-one-out)", "speed", "error before", "after"], rows),
        "",
        corrections.length === 0
          ? `no GPU and engine has ${MIN_RUNS} runs yet: nothing stored`
          : o.dryRun
            ? `dry run: ${file} unchanged`
            : `stored ${corrections.length} correction${corrections.length > 1 ? "s" : ""} in ${file}: estimate, fit, decide and run use ${corrections.length > 1 ? "them" : "it"} (marked "calibrated"); --no-calibration ignores ${corrections.length > 1 ? "them" : "it"}`,
      ];
      print(lines.join("\n"), false);
    });
}
