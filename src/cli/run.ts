// `fitlab run [EXPERIMENT]`: run a plan experiment (a single run or a sweep) or a run given by flags;
// record it in the run store with the planner's prediction beside what it measured.
import path from "node:path";
import { Command } from "commander";
import { analyzeLoss } from "../analyze/loss-curve.js";
import { forgettingFindings } from "../analyze/forgetting.js";
import { compareSweep } from "../analyze/sweep.js";
import { FitlabInputError } from "../errors.js";
import { DEFAULT_PLAN_PATH, loadPlan, type PlanExperiment } from "../plan/load.js";
import { forgettingCurve } from "../runs/evaluate.js";
import { RunStore, type RunRecord } from "../runs/store.js";
import { checkGeneralText, checkMultipleChoice } from "../runs/dataset.js";
import type { WorkerEvent } from "../runs/protocol.js";
import { checkRunInputs, createRun, executeRun, readMetrics, TRAIN_DEFAULTS, type TrainSettings } from "../runs/train.js";
import { oneLine } from "../input/shown.js";
import { gib } from "./format.js";
import { intArg, numArg } from "./options.js";
import { print } from "./output.js";
import { trainingProgress } from "./progress.js";

type Flags = Record<string, string | boolean | undefined>;

function settingsFromFlags(o: Flags): TrainSettings {
  const s = (k: string) => (typeof o[k] === "string" ? (o[k] as string) : undefined);
  if (!s("model")) throw new FitlabInputError("give an experiment from a plan, or --model DIR and --data FILE");
  if (!s("data")) throw new FitlabInputError("--data FILE (JSONL of text, prompt/completion or messages) is required with --model");
  const method = s("method") ?? "lora";
  if (!["lora", "qlora", "full"].includes(method)) throw new FitlabInputError(`--method must be lora, qlora or full, got "${method}"`);
  const schedule = s("schedule") ?? "linear";
  if (!["linear", "cosine", "constant"].includes(schedule)) throw new FitlabInputError(`--schedule must be linear, cosine or constant, got "${schedule}"`);
  const device = s("device") ?? "auto";
  if (!["auto", "cpu", "cuda"].includes(device)) throw new FitlabInputError(`--device must be auto, cpu or cuda, got "${device}"`);
  return {
    ...TRAIN_DEFAULTS,
    name: s("name") ?? `${method}-${path.basename(s("model")!)}`,
    model: s("model")!,
    method: method as TrainSettings["method"],
    targets: s("targets") ?? "all-linear",
    rank: intArg("--rank", s("rank"), 1, 4096) ?? TRAIN_DEFAULTS.rank,
    alpha: numArg("--alpha", s("alpha"), 0.001, 1e6) ?? TRAIN_DEFAULTS.alpha,
    dropout: numArg("--dropout", s("dropout"), 0, 0.99) ?? 0,
    learningRate: numArg("--lr", s("lr"), 1e-9, 10) ?? TRAIN_DEFAULTS.learningRate,
    schedule: schedule as TrainSettings["schedule"],
    warmupSteps: intArg("--warmup", s("warmup"), 0, 1e7) ?? 0,
    batch: intArg("--batch", s("batch"), 1, 4096) ?? TRAIN_DEFAULTS.batch,
    gradAccum: intArg("--grad-accum", s("gradAccum"), 1, 1e6) ?? 1,
    maxSeqLen: intArg("--seq", s("seq"), 2, 1_000_000) ?? TRAIN_DEFAULTS.maxSeqLen,
    packing: o.packing === true,
    gradientCheckpointing: o.gradCkpt === true,
    seed: intArg("--seed", s("seed"), 0, 2 ** 31) ?? 0,
    maxSteps: intArg("--steps", s("steps"), 1, 1e8) ?? null,
    epochs: numArg("--epochs", s("epochs"), 0.001, 1000) ?? 1,
    evalEvery: intArg("--eval-every", s("evalEvery"), 1, 1e8) ?? TRAIN_DEFAULTS.evalEvery,
    checkpointEvery: intArg("--checkpoint-every", s("checkpointEvery"), 1, 1e8) ?? TRAIN_DEFAULTS.checkpointEvery,
    dataset: { train: s("data")!, eval: s("evalData") ?? null, evalFraction: numArg("--eval-fraction", s("evalFraction"), 0.001, 0.9) ?? 0.1 },
    device: device as TrainSettings["device"],
  };
}

/** One TrainSettings per run of a plan experiment (a sweep gives several). */
export function settingsFromPlan(ex: PlanExperiment): TrainSettings[] {
  if (!ex.run) throw new FitlabInputError(`experiment ${ex.key} has no run section (dataset and training settings): add one to the plan to run it`);
  const r = ex.run;
  return ex.runs.map((pr) => {
    const w = pr.workload;
    if (w.kind !== "lora" && w.kind !== "qlora" && w.kind !== "full") throw new FitlabInputError(`experiment ${ex.key} is ${w.kind}: fitlab run trains (lora, qlora, full)`);
    const lr = ex.sweep && /^(learning_rate|lr)$/.test(ex.sweep.param) ? Number(pr.value) : (r.learning_rate ?? TRAIN_DEFAULTS.learningRate);
    return {
      ...TRAIN_DEFAULTS,
      name: ex.sweep ? `${ex.key} ${pr.label}` : ex.key,
      experiment: ex.key,
      sweepValue: pr.value === null ? null : String(pr.value),
      model: r.model ?? ex.modelName!,
      method: w.kind,
      targets: w.lora ? (w.lora.targets.length === 7 ? "all-linear" : w.lora.targets.join("+")) : "all-linear",
      rank: w.lora?.rank ?? TRAIN_DEFAULTS.rank,
      alpha: w.lora?.alpha ?? TRAIN_DEFAULTS.alpha,
      dropout: w.lora?.dropout ?? 0,
      learningRate: lr,
      schedule: r.schedule ?? "linear",
      warmupSteps: r.warmup_steps ?? 0,
      batch: w.batch,
      gradAccum: w.gradAccum,
      maxSeqLen: w.seqLen,
      packing: w.packed,
      gradientCheckpointing: w.gradCkpt !== "none",
      seed: r.seed ?? 0,
      maxSteps: r.max_steps ?? null,
      epochs: r.epochs ?? 1,
      evalEvery: r.eval_every ?? TRAIN_DEFAULTS.evalEvery,
      checkpointEvery: r.checkpoint_every ?? TRAIN_DEFAULTS.checkpointEvery,
      dataset: { train: r.dataset.train, eval: r.dataset.eval ?? null, evalFraction: r.dataset.eval_fraction ?? 0.1 },
      device: r.device ?? "auto",
    };
  });
}

export function runSummary(r: RunRecord): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    status: RunStore.displayStatus(r),
    steps: r.steps,
    device: r.device,
    eval_loss: { initial: r.initial_eval_loss, final: r.final_eval_loss, best: r.best_eval_loss },
    memory: { predicted_allocated_bytes: r.predicted_allocated_bytes, measured_allocated_bytes: r.measured_allocated_bytes, predicted_reserved_bytes: r.predicted_reserved_bytes, measured_reserved_bytes: r.measured_reserved_bytes },
    tokens_per_s: { predicted: r.predicted_tokens_per_s, measured: r.measured_tokens_per_s },
    error: r.error ? { kind: r.error_kind, message: r.error, suggestion: r.suggestion } : null,
    dir: r.dir,
  };
}

export function describeRun(r: RunRecord): string {
  const mem = (x: number | null) => (x === null ? "n/a" : gib(x));
  const lines = [
    `${r.id} ${r.name}: ${RunStore.displayStatus(r)}${r.steps !== null ? `, ${r.steps} steps` : ""}${r.device ? ` on ${r.device}` : ""}`,
    `  eval loss: ${r.initial_eval_loss?.toFixed(4) ?? "-"} -> ${r.final_eval_loss?.toFixed(4) ?? "-"} (best ${r.best_eval_loss?.toFixed(4) ?? "-"})`,
    `  peak memory predicted/measured: allocated ${mem(r.predicted_allocated_bytes)} / ${r.device === "cpu" ? "n/a on the CPU" : mem(r.measured_allocated_bytes)}, reserved ${mem(r.predicted_reserved_bytes)} / ${r.device === "cpu" ? "n/a on the CPU" : mem(r.measured_reserved_bytes)}`,
    `  tokens/s predicted/measured: ${r.predicted_tokens_per_s?.toFixed(0) ?? "n/a (no GPU)"} / ${r.measured_tokens_per_s?.toFixed(0) ?? "-"}`,
  ];
  if (r.error) lines.push(`  failed (${r.error_kind}): ${r.error}${r.suggestion ? `\n  ${r.suggestion}` : ""}`);
  return lines.join("\n");
}

/** Worker notes worth a line on stderr: checkpoints skipped on resume, where it resumed from. */
export function resumeNotes(e: WorkerEvent): void {
  if (e.type === "log" && /^(skipped|resumed|removed)/.test(e.message)) process.stderr.write(`fitlab: ${oneLine(e.message)}\n`);
}

export async function trainOne(store: RunStore, s: TrainSettings, quiet: boolean, opts: { inputsChecked?: boolean } = {}): Promise<RunRecord> {
  const run = createRun(store, s, opts);
  const bar = quiet ? null : trainingProgress(run.name);
  try {
    return await executeRun(store, run, { onEvent: (e) => (bar?.onEvent(e), quiet ? undefined : resumeNotes(e)) });
  } finally {
    bar?.stop();
  }
}

export function runCommand(): Command {
  return new Command("run")
    .description("run a plan experiment (one run or a sweep), or a fine-tune given by flags; records predicted and measured figures")
    .argument("[experiment]", "experiment key from the plan (e.g. A.lr-sweep)")
    .option("--plan <file>", "lab plan with run sections", DEFAULT_PLAN_PATH)
    .option("--runs <dir>", "run store folder (default ./runs or $FITLAB_RUNS)")
    .option("--model <dir|id>", "model folder (config.json + safetensors) or Hugging Face id")
    .option("--method <m>", "lora, qlora or full")
    .option("--data <jsonl>", "training data: JSONL of text, prompt/completion or chat messages")
    .option("--eval-data <jsonl>", "held-out data (default: a split of --data)")
    .option("--eval-fraction <f>", "held-out share when --eval-data is not given")
    .option("--lr <x>").option("--schedule <s>", "linear, cosine or constant").option("--warmup <steps>")
    .option("--steps <n>").option("--epochs <n>").option("--batch <n>").option("--grad-accum <n>").option("--seq <n>", "max sequence length")
    .option("--rank <r>").option("--alpha <a>").option("--targets <list>").option("--dropout <p>")
    .option("--packing").option("--grad-ckpt").option("--seed <n>").option("--eval-every <n>").option("--checkpoint-every <n>")
    .option("--device <d>", "auto, cpu or cuda").option("--name <name>")
    .option("--general <file>", "general-text file: perplexity before and after (forgetting)")
    .option("--mc <jsonl>", "multiple-choice file: accuracy before and after (forgetting)")
    .option("--json", "print the summary as JSON")
    .action(async (experiment: string | undefined, o: Flags) => {
      if (typeof o.runs === "string") process.env.FITLAB_RUNS = o.runs;
      // every input is checked before the store is opened or the worker started: bad input writes nothing
      let settings: TrainSettings[];
      let general = typeof o.general === "string" ? o.general : null;
      let mc = typeof o.mc === "string" ? o.mc : null;
      let sweepParam: string | null = null;
      if (experiment) {
        const plan = loadPlan(String(o.plan));
        const ex = plan.experiments.find((e) => e.key === experiment || e.id === experiment);
        if (!ex) throw new FitlabInputError(`no experiment ${JSON.stringify(experiment.slice(0, 80))} in ${plan.file}; known: ${plan.experiments.map((e) => e.key).join(", ")}`);
        settings = settingsFromPlan(ex);
        general ??= ex.run?.general_text ?? null;
        mc ??= ex.run?.multiple_choice ?? null;
        sweepParam = ex.sweep?.param ?? null;
      } else settings = [settingsFromFlags(o)];
      const seen = new Set<string>();
      for (const s of settings) checkRunInputs(s, seen);
      if (general) checkGeneralText(general);
      if (mc) checkMultipleChoice(mc);
      const store = new RunStore();
      try {
        const sweepId = settings.length > 1 ? `${settings[0]!.experiment ?? "sweep"}@${new Date().toISOString().replace(/[-:]/g, "").slice(0, 15)}` : null;
        const runs: RunRecord[] = [];
        for (const s of settings) runs.push(await trainOne(store, { ...s, sweep: sweepId }, o.json === true, { inputsChecked: true }));
        const out: Record<string, unknown> = { runs: runs.map(runSummary) };
        const lines = runs.map(describeRun);
        for (const r of runs.filter((x) => x.status === "done")) {
          const findings = analyzeLoss(readMetrics(r)).findings.map((f) => f.message);
          (out.runs as Record<string, unknown>[]).find((x) => x.id === r.id)!.findings = findings;
          lines.push(`  ${r.name}:`, ...findings.map((f) => `    - ${f}`));
        }
        if (sweepId && sweepParam) {
          const cmp = compareSweep(store.list({ sweep: sweepId }), sweepParam);
          out.sweep = { id: sweepId, ...cmp };
          lines.push(`sweep ${sweepId}:`, ...cmp.verdict.map((v) => `  - ${v}`));
        }
        const finished = runs.filter((r) => r.status === "done");
        if ((general || mc) && finished.length > 0) {
          const r = finished[0]!;
          const points = await forgettingCurve(r, general, mc);
          out.forgetting = { run: r.id, points, findings: forgettingFindings(points) };
          lines.push(`forgetting (${r.name}):`, ...forgettingFindings(points).map((f) => `  - ${f}`));
        }
        print(o.json ? out : lines.join("\n"), o.json === true);
        if (runs.some((r) => r.status === "failed")) process.exitCode = 1;
      } finally {
        store.close();
      }
    });
}
