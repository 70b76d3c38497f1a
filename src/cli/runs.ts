// `fitlab runs list | show | compare | resume | forgetting`: the run store, predicted beside measured.
import { Command } from "commander";
import { analyzeLoss } from "../analyze/loss-curve.js";
import { forgettingFindings, type ForgettingPoint } from "../analyze/forgetting.js";
import { compareSweep } from "../analyze/sweep.js";
import { FitlabInputError } from "../errors.js";
import { lineChart } from "../report/line-chart.js";
import { checkGeneralText, checkMultipleChoice } from "../runs/dataset.js";
import { checkpoints, forgettingCurve } from "../runs/evaluate.js";
import { RunStore, type RunRecord } from "../runs/store.js";
import { executeRun, readMetrics } from "../runs/train.js";
import { gib, table } from "./format.js";
import { print } from "./output.js";
import { trainingProgress } from "./progress.js";
import { describeRun, resumeNotes, runSummary } from "./run.js";
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

/** Perplexity and multiple-choice accuracy over training, each on its own scale. */
export function forgettingCharts(points: readonly ForgettingPoint[]): string {
  return [
    lineChart("General-text perplexity over training (step 0 = base model)", "step", "perplexity", [{ name: "perplexity", points: points.filter((p) => p.perplexity !== null).map((p) => [p.step, p.perplexity!] as const) }]),
    lineChart("Multiple-choice accuracy over training (step 0 = base model)", "step", "accuracy", [{ name: "accuracy", points: points.filter((p) => p.mc_accuracy !== null).map((p) => [p.step, p.mc_accuracy!] as const), group: 1 }]),
  ].join("\n");
}

export function runsCommand(): Command {
  const runs = new Command("runs").description("the run store: list, show, compare, resume, forgetting").option("--runs <dir>", "run store folder (default ./runs or $FITLAB_RUNS)");
  const storeDir = () => runs.opts().runs as string | undefined;
  runs
    .command("list")
    .description("every run with its status, eval loss and predicted vs measured memory")
    .option("--json", "print JSON")
    .action((o: { json?: boolean }) =>
      withStore(storeDir(), (store) => {
        const all = store.list();
        if (o.json) return print(all.map(runSummary), true);
        if (all.length === 0) return print(`no runs in ${store.dir}`, false);
        print(
          table(
            ["id", "name", "status", "steps", "final eval", "pred alloc", "meas alloc", "pred tok/s", "meas tok/s"],
            all.map((r) => [r.id, r.name, RunStore.displayStatus(r), String(r.steps ?? "-"), r.final_eval_loss?.toFixed(4) ?? "-", mem(r.predicted_allocated_bytes), r.device === "cpu" ? "n/a (cpu)" : mem(r.measured_allocated_bytes), r.predicted_tokens_per_s?.toFixed(0) ?? "-", r.measured_tokens_per_s?.toFixed(0) ?? "-"]),
          ),
          false,
        );
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
        const a = analyzeLoss(readMetrics(r));
        const ck = checkpoints(r).map((c) => c.step);
        if (o.svg) writeOut(lossChartSvg([r]), o.svg);
        if (o.json) return print({ ...runSummary(r), findings: a.findings, checkpoints: ck, evals: a.evals }, true);
        print([describeRun(r), `  checkpoints: ${ck.join(", ") || "none"}`, "  findings:", ...a.findings.map((f) => `    - ${f.message}`)].join("\n"), false);
      }),
    );
  runs
    .command("compare")
    .description("compare runs (or a sweep): final and best eval loss, memory, speed, and a verdict")
    .argument("[runs...]", "run ids")
    .option("--sweep <id>", "every run of a sweep")
    .option("--param <name>", "what varies (learning_rate, rank, ...); read from the sweep when omitted")
    .option("--svg <file>", "write the overlaid loss curves as an SVG chart")
    .option("--json", "print JSON")
    .action((ids: string[], o: { sweep?: string; param?: string; svg?: string; json?: boolean }) =>
      withStore(storeDir(), (store) => {
        const list = o.sweep ? store.list({ sweep: o.sweep }) : ids.map((i) => store.get(i));
        if (list.length === 0) throw new FitlabInputError(o.sweep ? `no runs in sweep "${o.sweep}"` : "name runs to compare, or --sweep ID");
        const param = o.param ?? (list[0]!.sweep_value !== null ? (list[0]!.name.match(/ (\w+)=/)?.[1] ?? "value") : "run");
        const cmp = compareSweep(list, param);
        if (o.svg) writeOut(lossChartSvg(list), o.svg);
        if (o.json) return print(cmp, true);
        print(
          [
            table(["run", param, "status", "final eval", "best eval", "pred alloc", "meas alloc", "meas tok/s"], cmp.rows.map((r) => [r.run, r.value, r.status, r.final_eval_loss?.toFixed(4) ?? "-", r.best_eval_loss?.toFixed(4) ?? "-", mem(r.predicted_allocated_bytes), mem(r.measured_allocated_bytes), r.measured_tokens_per_s?.toFixed(0) ?? "-"])),
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
    .description("perplexity on general text and multiple-choice accuracy: base model and every checkpoint")
    .argument("<run>", "run id or name")
    .option("--general <file>", "held-out general text")
    .option("--mc <jsonl>", "multiple-choice JSONL: {question, choices, answer}")
    .option("--svg <file>", "write the forgetting curve as an SVG chart")
    .option("--json", "print JSON")
    .action((id: string, o: { general?: string; mc?: string; svg?: string; json?: boolean }) => {
      if (!o.general && !o.mc) throw new FitlabInputError("give --general FILE and/or --mc FILE");
      if (o.general) checkGeneralText(o.general);
      if (o.mc) checkMultipleChoice(o.mc);
      return withStore(storeDir(), async (store) => {
        const r = store.get(id);
        const points = await forgettingCurve(r, o.general ?? null, o.mc ?? null);
        if (o.svg) writeOut(forgettingCharts(points), o.svg);
        const findings = forgettingFindings(points);
        print(o.json ? { run: r.id, points, findings } : [table(["step", "perplexity", "MC accuracy"], points.map((p) => [String(p.step), p.perplexity?.toFixed(3) ?? "-", p.mc_accuracy === null ? "-" : `${(p.mc_accuracy * 100).toFixed(0)}%`])), ...findings.map((f) => `- ${f}`)].join("\n"), o.json);
      });
    });
  return runs;
}
