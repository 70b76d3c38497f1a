// `fitlab runs list | show | compare | sweeps | resume | forgetting`: the run store, predicted beside measured.
// Each --json prints the object the dashboard receives (src/analyze/run-report.ts, src/runs/summary.ts).
import fs from "node:fs";
import { Command } from "commander";
import { analyzeLoss } from "../analyze/loss-curve.js";
import type { ForgettingPoint } from "../analyze/forgetting.js";
import { compareRuns, runReport, storedForgettingReport, type ForgettingReport } from "../analyze/run-report.js";
import { FitlabInputError } from "../errors.js";
import { lineChart } from "../report/line-chart.js";
import { stackSvgs } from "../report/stack.js";
import { forgettingCurve, storedAnswers, storedForgetting } from "../runs/evaluate.js";
import { findRuns, parseRunFilter } from "../runs/query.js";
import { checkGeneralText, checkMultipleChoice } from "../runs/dataset.js";
import { RunStore, type RunRecord } from "../runs/store.js";
import { runSummary } from "../runs/summary.js";
import { listSweeps } from "../runs/sweeps.js";
import { executeRun, readMetrics } from "../runs/train.js";
import { requireWorker } from "../runs/worker.js";
import { gib, table } from "./format.js";
import { print } from "./output.js";
import { evaluationProgress, trainingProgress } from "./progress.js";
import { describeRun, resumeNotes } from "./run.js";
import { writeOut } from "./write.js";

const withStore = async <T>(dir: string | undefined, f: (s: RunStore) => Promise<T> | T): Promise<T> => {
  if (dir) process.env.FITLAB_RUNS = dir;
  const store = new RunStore();
  try {
    return await f(store);
  } finally {
    store.close();
  }
};

const mem = (x: number | null) => (x === null ? "-" : gib(x));

export function lossChartSvg(runs: readonly RunRecord[]): string {
  const series = runs.flatMap((r, i) => {
    const a = analyzeLoss(readMetrics(r));
    const label = r.sweep_value ?? r.name;
    return [
      { name: `${label} train`, points: a.points.map((p) => [p.step, p.smoothed] as const), group: i },
      { name: `${label} eval`, points: a.evals.map((e) => [e.step, e.eval_loss] as const), dashed: true, group: i },
    ];
  });
  return lineChart(runs.length > 1 ? "Loss curves (smoothed train, dashed eval)" : `Loss curve: ${runs[0]?.name ?? ""}`, "step", "loss", series);
}

/** Perplexity and multiple-choice accuracy over training, each on its own scale: two charts. */
export function forgettingChartList(points: readonly ForgettingPoint[]): string[] {
  return [
    lineChart("General-text perplexity over training (step 0 = base model)", "step", "perplexity", [{ name: "perplexity", points: points.filter((p) => p.perplexity !== null).map((p) => [p.step, p.perplexity!] as const) }]),
    lineChart("Multiple-choice accuracy over training (step 0 = base model)", "step", "accuracy", [{ name: "accuracy", points: points.filter((p) => p.mc_accuracy !== null).map((p) => [p.step, p.mc_accuracy!] as const), group: 1 }]),
  ];
}

/** The two forgetting charts stacked in one SVG document (for --svg files). */
export function forgettingCharts(points: readonly ForgettingPoint[]): string {
  return stackSvgs(forgettingChartList(points));
}

function forgettingText(f: ForgettingReport, note: string | null): string {
  return [
    table(["step", "perplexity", "MC accuracy"], f.points.map((p) => [String(p.step), p.perplexity?.toFixed(3) ?? "-", p.mc_accuracy === null ? "-" : `${(p.mc_accuracy * 100).toFixed(0)}%`])),
    ...f.findings.map((x) => `- ${x}`),
    ...(note ? [note] : []),
  ].join("\n");
}

export function runsCommand(): Command {
  const runs = new Command("runs").description("the run store: list, show, compare, sweeps, resume, forgetting").option("--runs <dir>", "run store folder (default ./runs or $FITLAB_RUNS)");
  const storeDir = () => runs.opts().runs as string | undefined;
  runs
    .command("list")
    .description("every run with its status, eval loss and predicted vs measured memory")
    .option("--kind <kind>", "train, evaluate, attention, compare, hidden or probe")
    .option("--status <status>", "running, interrupted, done, failed or oom")
    .option("--experiment <key>", "runs of one plan experiment (e.g. A.qlora-basic)")
    .option("--sweep <id>", "runs of one sweep, as written in the plan (e.g. D.lr-sweep)")
    .option("--json", "print JSON")
    .action((o: { json?: boolean; kind?: string; status?: string; experiment?: string; sweep?: string }) =>
      withStore(storeDir(), (store) => {
        const all = findRuns(store, parseRunFilter(o));
        if (o.json) return print(all.map(runSummary), true);
        if (all.length === 0) return print(`no runs${o.kind || o.status || o.experiment || o.sweep ? " matching the filter" : ""} in ${store.dir}`, false);
        print(
          table(
            ["id", "name", "kind", "status", "sweep", "steps", "final eval", "pred alloc", "meas alloc", "pred tok/s", "meas tok/s"],
            all.map((r) => {
              const s = runSummary(r);
              return [r.id, r.name, r.kind, s.status, s.sweep ?? "-", String(r.steps ?? "-"), r.final_eval_loss?.toFixed(4) ?? "-", mem(r.predicted_allocated_bytes), r.device === "cpu" ? "n/a (cpu)" : mem(r.measured_allocated_bytes), r.predicted_tokens_per_s?.toFixed(0) ?? "-", r.measured_tokens_per_s?.toFixed(0) ?? "-"];
            }),
          ),
          false,
        );
      }),
    );
  runs
    .command("sweeps")
    .description("every sweep in the store: its id as written in the plan, each time it ran, what varied")
    .option("--json", "print JSON")
    .action((o: { json?: boolean }) =>
      withStore(storeDir(), (store) => {
        const all = listSweeps(store);
        if (o.json) return print(all, true);
        if (all.length === 0) return print(`no sweeps in ${store.dir}`, false);
        print(table(["sweep", "instance", "runs", "param", "values"], all.map((s) => [s.key, s.instance, String(s.runs), s.param ?? "-", s.values.join(", ")])), false);
      }),
    );
  runs
    .command("show")
    .description("one run: predicted and measured side by side, loss-curve findings, checkpoints")
    .argument("<run>", "run id or name")
    .option("--svg <file>", "write the loss curve as an SVG chart")
    .option("--json", "print JSON")
    .action((id: string, o: { json?: boolean; svg?: string }) =>
      withStore(storeDir(), (store) => {
        const r = store.get(id);
        const rep = runReport(r);
        if (o.svg) writeOut(lossChartSvg([r]), o.svg);
        if (o.json) return print(rep, true);
        print([describeRun(r), `  checkpoints: ${rep.checkpoints.join(", ") || "none"}`, "  findings:", ...rep.findings.map((f) => `    - ${f.message}`), ...(rep.forgetting ? ["  forgetting (stored):", ...rep.forgetting.findings.map((f) => `    - ${f}`)] : [])].join("\n"), false);
      }),
    );
  runs
    .command("compare")
    .description("compare runs (or a sweep): final and best eval loss, memory, speed, and a verdict")
    .argument("[runs...]", "run ids")
    .option("--sweep <id>", "every run of a sweep, as written in the plan (D.lr-sweep: its latest run) or a full instance id")
    .option("--param <name>", "what varies (learning_rate, rank, ...); read from the sweep when omitted")
    .option("--svg <file>", "write the overlaid loss curves as an SVG chart")
    .option("--json", "print JSON")
    .action((ids: string[], o: { sweep?: string; param?: string; svg?: string; json?: boolean }) =>
      withStore(storeDir(), (store) => {
        const { runs: list, ...cmp } = compareRuns(store, { ids, ...(o.sweep ? { sweep: o.sweep } : {}), ...(o.param ? { param: o.param } : {}) });
        if (o.svg) writeOut(lossChartSvg(list), o.svg);
        if (o.json) return print(cmp, true);
        print(
          [
            ...(cmp.sweep ? [`sweep ${cmp.sweep.key} (${cmp.sweep.instance}${cmp.sweep.instances > 1 ? `, the latest of ${cmp.sweep.instances}; see \`fitlab runs sweeps\`` : ""})`] : []),
            table(["run", cmp.param, "status", "final eval", "best eval", "pred alloc", "meas alloc", "meas tok/s"], cmp.rows.map((r) => [r.run, r.value, r.status, r.final_eval_loss?.toFixed(4) ?? "-", r.best_eval_loss?.toFixed(4) ?? "-", mem(r.predicted_allocated_bytes), mem(r.measured_allocated_bytes), r.measured_tokens_per_s?.toFixed(0) ?? "-"])),
            ...cmp.verdict.map((v) => `- ${v}`),
          ].join("\n"),
          false,
        );
      }),
    );
  runs
    .command("resume")
    .description("continue an interrupted run from its newest checkpoint")
    .argument("<run>", "run id or name")
    .option("--json", "print JSON")
    .action((id: string, o: { json?: boolean }) =>
      withStore(storeDir(), async (store) => {
        const r = store.get(id);
        if (RunStore.displayStatus(r) === "running") throw new FitlabInputError(`run ${r.id} is still running (pid ${r.pid})`);
        if (r.status === "done") throw new FitlabInputError(`run ${r.id} already finished`);
        const bar = o.json ? null : trainingProgress(`${r.name} (resumed)`);
        const done = await executeRun(store, r, { onEvent: (e) => (bar?.onEvent(e), o.json ? undefined : resumeNotes(e)) }).finally(() => bar?.stop());
        print(o.json ? runSummary(done) : describeRun(done), o.json);
        if (done.status === "failed") process.exitCode = 1;
      }),
    );
  runs
    .command("forgetting")
    .description("perplexity on general text and multiple-choice accuracy, base model and every checkpoint: the stored results, or measured now")
    .argument("<run>", "run id or name")
    .option("--general <file>", "held-out general text")
    .option("--mc <jsonl>", "multiple-choice JSONL: {question, choices, answer}")
    .option("--recompute", "evaluate again even when stored results answer")
    .option("--svg <file>", "write the forgetting curves (perplexity, accuracy) as one SVG")
    .option("--json", "print JSON")
    .action((id: string, o: { general?: string; mc?: string; recompute?: boolean; svg?: string; json?: boolean }) =>
      withStore(storeDir(), async (store) => {
        if (o.general) checkGeneralText(o.general);
        if (o.mc) checkMultipleChoice(o.mc);
        const r = store.get(id);
        const stored = storedForgetting(r);
        const general = o.general ?? null;
        const mc = o.mc ?? null;
        let report: ForgettingReport;
        let note: string | null = null;
        if (!o.recompute && stored && storedAnswers(stored, r, general, mc)) {
          report = storedForgettingReport(r)!;
          note = `(stored results${stored.computed_at ? ` of ${stored.computed_at}` : ""}; --recompute evaluates again)`;
        } else {
          const g = general ?? (o.recompute ? stored?.general_text ?? null : null);
          const m = mc ?? (o.recompute ? stored?.multiple_choice ?? null : null);
          if (!g && !m) throw new FitlabInputError(stored ? `the stored forgetting results of ${r.id} do not cover its checkpoints: give --general FILE and/or --mc FILE to evaluate again` : `no forgetting results stored for ${r.id}: give --general FILE and/or --mc FILE to measure them`);
          requireWorker();
          const progress = o.json ? null : evaluationProgress(`forgetting (${r.name})`);
          await forgettingCurve(r, g, m, progress ?? {}).finally(() => progress?.stop());
          report = storedForgettingReport(r)!;
        }
        if (o.svg) writeOut(forgettingCharts(report.points), o.svg);
        print(o.json ? report : forgettingText(report, note), o.json);
      }),
    );
  return runs;
}
