// `fitlab run [EXPERIMENT]`: run a plan experiment (a single run or a sweep) or a run given by flags;
// record it in the run store with the planner's prediction beside what it measured.
import fs from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { analyzeLoss } from "../analyze/loss-curve.js";
import { forgettingFindings } from "../analyze/forgetting.js";
import { compareSweep } from "../analyze/sweep.js";
import { FitlabInputError } from "../errors.js";
import type { WorkerRuntime } from "../runs/train.js";
import { DEFAULT_PLAN_PATH, loadPlan, type PlanExperiment } from "../plan/load.js";
import { loadGpuCatalog } from "../hardware/catalog.js";
import type { Gpu } from "../hardware/gpu.js";
import { estimate as planEstimate } from "../planner.js";
import { looksLocal, type DatasetSpec, type EvalData } from "../runs/dataset.js";
import { checkHubSources, type HubSource } from "../runs/hub-check.js";
import { isHubDataset } from "../plan/run-spec.js";
import { isHubName } from "../plan/run-rules.js";
import { forgettingCurve } from "../runs/evaluate.js";
import { preflight, runGpu } from "../runs/preflight.js";
import { resolveModel } from "../spec/catalog.js";
import { RunStore, type RunRecord } from "../runs/store.js";
import { runSummary } from "../runs/summary.js";
import { sweepInstanceId } from "../runs/sweeps.js";
import { checkRunInputs, createRun, refuseIfNotFitting, executeRun, readMetrics, TRAIN_DEFAULTS, workloadOf, type CreateOptions, type TrainSettings } from "../runs/train.js";
import { duration, gib } from "./format.js";
import { leanSettings } from "../runs/lean-options.js";
import { checkGeneralText, checkMultipleChoice } from "../runs/dataset.js";
import type { WorkerEvent } from "../runs/protocol.js";
import { oneLine, shownString } from "../input/shown.js";
import { intArg, numArg } from "./options.js";
import { print } from "./output.js";
import { evaluationProgress, trainingProgress } from "./progress.js";
import { runInspection, settingsFromPlan as inspectSettingsFromPlan } from "./inspect.js";
import { isEvaluation, modelsReadByEvaluation } from "../runs/evaluation-plan.js";
import { isInspection, planInspection } from "../runs/inspect-plan.js";
import { runSeconds } from "../decide/feasibility.js";

type Flags = Record<string, string | boolean | undefined>;

/** The flags that describe a run: with a plan experiment, the plan describes it and these are errors. */
const RUN_FLAGS: readonly [string, string][] = [
  ["model", "--model"], ["modelRevision", "--model-revision"], ["method", "--method"], ["data", "--data"], ["dataConfig", "--data-config"], ["dataSplit", "--data-split"],
  ["examples", "--examples"], ["evalData", "--eval-data"], ["evalFraction", "--eval-fraction"], ["lr", "--lr"], ["schedule", "--schedule"], ["warmup", "--warmup"],
  ["steps", "--steps"], ["epochs", "--epochs"], ["batch", "--batch"], ["gradAccum", "--grad-accum"], ["seq", "--seq"], ["rank", "--rank"], ["alpha", "--alpha"],
  ["targets", "--targets"], ["dropout", "--dropout"], ["packing", "--packing"], ["gradCkpt", "--grad-ckpt"], ["lossChunk", "--loss-chunk"], ["compile", "--compile"],
  ["seed", "--seed"], ["evalEvery", "--eval-every"], ["checkpointEvery", "--checkpoint-every"], ["device", "--device"], ["name", "--name"],
];

/** Flags given beside a plan experiment (the plan's run section sets these). --loss, --optimizer and --kernels
 *  have defaults, so they count only when they differ from them. */
function refuseRunFlags(o: Flags, key: string): void {
  const given = RUN_FLAGS.filter(([k]) => o[k] !== undefined).map(([, f]) => f);
  for (const [k, f, d] of [["loss", "--loss", "auto"], ["optimizer", "--optimizer", "adamw"], ["kernels", "--kernels", "auto"]] as const) if (o[k] !== undefined && o[k] !== d) given.push(f);
  if (given.length > 0) throw new FitlabInputError(`${given.join(", ")} ${given.length > 1 ? "describe" : "describes"} a run given by flags; experiment ${key} takes its settings from the plan's run section: drop ${given.length > 1 ? "them" : "it"} or edit the plan`);
}

function settingsFromFlags(o: Flags): TrainSettings {
  const s = (k: string) => (typeof o[k] === "string" ? (o[k] as string) : undefined);
  if (!s("model")) throw new FitlabInputError("give an experiment from a plan, or --model DIR and --data FILE");
  if (!s("data")) throw new FitlabInputError("--data FILE (JSONL of text, prompt/completion or messages) is required with --model");
  const model = s("model")!;
  if (!looksLocal(model) && !isHubName(model)) throw new FitlabInputError(`--model ${shownString(model)} is neither a model folder nor a Hugging Face id (owner/name)`);
  const method = s("method") ?? "lora";
  if (!["lora", "qlora", "full"].includes(method)) throw new FitlabInputError(`--method must be lora, qlora or full, got "${method}"`);
  // LoRA settings mean nothing to a full fine-tune
  if (method === "full") for (const [k, f] of [["rank", "--rank"], ["alpha", "--alpha"], ["targets", "--targets"], ["dropout", "--dropout"]] as const) if (o[k] !== undefined) throw new FitlabInputError(`${f} applies to lora and qlora, not --method full: drop it`);
  const schedule = s("schedule") ?? "linear";
  if (!["linear", "cosine", "constant"].includes(schedule)) throw new FitlabInputError(`--schedule must be linear, cosine or constant, got "${schedule}"`);
  const device = s("device") ?? "auto";
  if (!["auto", "cpu", "cuda"].includes(device)) throw new FitlabInputError(`--device must be auto, cpu or cuda, got "${device}"`);
  if (device === "cpu") {
    // Liger's fused loss and kernels are Triton kernels on CUDA; the planner's fit check is for a GPU
    if (o.loss === "fused") throw new FitlabInputError("--loss fused runs Liger's Triton kernel on a CUDA GPU: with --device cpu use --loss chunked (or auto)");
    if (o.kernels === "liger") throw new FitlabInputError("--kernels liger are Triton kernels for a CUDA GPU: with --device cpu use --kernels none (or auto)");
    if (o.force === true) throw new FitlabInputError("--force overrides the GPU fit check: a --device cpu run has none to override");
    if (s("gpu")) throw new FitlabInputError("--gpu names the card a GPU run is checked against: a --device cpu run has none");
  }
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
    ...leanSettings(
      { loss: s("loss"), lossChunkTokens: s("lossChunk"), gradCkpt: o.gradCkpt, optimizer: s("optimizer"), kernels: s("kernels"), compile: o.compile === true ? true : undefined },
      { loss: "--loss", lossChunkTokens: "--loss-chunk", gradCkpt: "--grad-ckpt", optimizer: "--optimizer", kernels: "--kernels", compile: "--compile" },
      method as TrainSettings["method"],
    ),
    seed: intArg("--seed", s("seed"), 0, 2 ** 31) ?? 0,
    maxSteps: intArg("--steps", s("steps"), 1, 1e8) ?? null,
    epochs: numArg("--epochs", s("epochs"), 0.001, 1000) ?? 1,
    evalEvery: intArg("--eval-every", s("evalEvery"), 1, 1e8) ?? TRAIN_DEFAULTS.evalEvery,
    checkpointEvery: intArg("--checkpoint-every", s("checkpointEvery"), 1, 1e8) ?? TRAIN_DEFAULTS.checkpointEvery,
    dataset: datasetFromFlags(s),
    device: device as TrainSettings["device"],
    ...(s("modelRevision") ? { modelRevision: s("modelRevision")! } : {}),
    ...(s("gpu") ? { gpu: s("gpu")! } : {}),
  };
}

/** --data: a JSONL file, or a hub dataset id (with --data-config, --data-split, --examples). */
function datasetFromFlags(s: (k: string) => string | undefined): DatasetSpec {
  const data = s("data")!;
  const evalFraction = numArg("--eval-fraction", s("evalFraction"), 0.001, 0.9) ?? 0.1;
  if (s("evalData") && s("evalFraction")) throw new FitlabInputError("--eval-fraction splits --data when no --eval-data is given: drop one of them");
  if (looksLocal(data)) {
    for (const [k, f] of [["dataConfig", "--data-config"], ["dataSplit", "--data-split"], ["examples", "--examples"]] as const) if (s(k)) throw new FitlabInputError(`${f} applies to a Hugging Face dataset id, not the local file ${shownString(data)}: drop it`);
    return { train: data, eval: s("evalData") ?? null, evalFraction };
  }
  if (!isHubName(data)) throw new FitlabInputError(`--data ${shownString(data)} is neither a JSONL file nor a Hugging Face dataset id (owner/name)`);
  if (s("evalData")) throw new FitlabInputError("--eval-data is a local JSONL beside a local --data; a hub dataset is split by --eval-fraction");
  const examples = intArg("--examples", s("examples"), 1, 1e9);
  return { hub: data, evalFraction, ...(s("dataConfig") ? { config: s("dataConfig")! } : {}), ...(s("dataSplit") ? { split: s("dataSplit")! } : {}), ...(examples ? { examples, select: "first" as const } : {}) };
}

/** One TrainSettings per run of a plan experiment (a sweep gives several). */
export function settingsFromPlan(ex: PlanExperiment): TrainSettings[] {
  if (!ex.run) throw new FitlabInputError(`experiment ${ex.key} has no run section (dataset and training settings): add one to the plan to run it`);
  if (!ex.run.dataset) throw new FitlabInputError(`experiment ${ex.key}: its run section names no dataset`);
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
      packing: r.packing ?? w.packed,
      ...leanSettings(
        { loss: r.loss, lossChunkTokens: r.loss_chunk_tokens, gradCkpt: r.grad_ckpt, optimizer: r.optimizer, kernels: r.kernels, compile: r.compile },
        { loss: `${ex.key} run.loss`, lossChunkTokens: `${ex.key} run.loss_chunk_tokens`, gradCkpt: `${ex.key} run.grad_ckpt`, optimizer: `${ex.key} run.optimizer`, kernels: `${ex.key} run.kernels`, compile: `${ex.key} run.compile` },
        w.kind,
        w,
      ),
      seed: r.seed ?? 0,
      maxSteps: r.max_steps ?? null,
      epochs: r.epochs ?? ex.data.epochs ?? 1,
      evalEvery: r.eval_every ?? TRAIN_DEFAULTS.evalEvery,
      checkpointEvery: r.checkpoint_every ?? TRAIN_DEFAULTS.checkpointEvery,
      dataset: r.dataset!,
      device: r.device ?? "auto",
      ...(r.modelRevision ? { modelRevision: r.modelRevision } : {}),
      ...(w.nGpus > 1 ? { nGpus: w.nGpus, sharding: w.sharding === "fsdp" ? ("fsdp" as const) : ("ddp" as const) } : {}),
    };
  });
}

/** The JSON of one run (`runs list --json`, the dashboard's run list). */
export { runSummary };

export function describeRun(r: RunRecord): string {
  const mem = (x: number | null) => (x === null ? "n/a" : gib(x));
  const src = runSummary(r) as { model_source?: { id: string; sha: string | null }; data_source?: { id?: string; sha?: string | null }; runtime: WorkerRuntime | null };
  const lines = [
    `${r.id} ${r.name}: ${RunStore.displayStatus(r)}${r.steps !== null ? `, ${r.steps} steps` : ""}${r.device ? ` on ${r.device}` : ""}${r.gpu ? ` (${r.gpu})` : ""}`,
    ...(src.model_source?.sha ? [`  model ${src.model_source.id} @ ${src.model_source.sha.slice(0, 12)}${src.data_source?.sha ? `, data ${src.data_source.id} @ ${src.data_source.sha.slice(0, 12)}` : ""}`] : []),
    `  eval loss: ${r.initial_eval_loss?.toFixed(4) ?? "-"} -> ${r.final_eval_loss?.toFixed(4) ?? "-"} (best ${r.best_eval_loss?.toFixed(4) ?? "-"})`,
    `  peak memory predicted/measured: allocated ${mem(r.predicted_allocated_bytes)} / ${r.device === "cpu" ? "n/a on the CPU" : mem(r.measured_allocated_bytes)}, reserved ${mem(r.predicted_reserved_bytes)} / ${r.device === "cpu" ? "n/a on the CPU" : mem(r.measured_reserved_bytes)}${r.device === "cuda" ? `, device ${mem(r.predicted_device_bytes)} / ${mem(r.measured_device_bytes)}` : ""}`,
    `  tokens/s predicted/measured: ${r.predicted_tokens_per_s?.toFixed(0) ?? "n/a (no GPU)"} / ${r.measured_tokens_per_s?.toFixed(0) ?? "-"}`,
  ];
  const rt = src.runtime;
  if (rt) {
    lines.push(
      `  ran: loss ${rt.loss}${rt.loss_chunk_tokens ? ` (${rt.loss_chunk_tokens}-token chunks)` : ""}: ${rt.loss_reason}; checkpointing ${rt.gradient_checkpointing}; ${rt.packing ? `packed into ${rt.packed_rows} rows (${Math.round((rt.packing_fill ?? 0) * 100)}% full)` : "unpacked"}; optimizer ${rt.optimizer}${rt.optimizer_note ? ` (${rt.optimizer_note})` : ""}; kernels ${rt.kernels}${rt.compile ? "; compiled" : ""}`,
    );
  }
  if (r.error && r.status === "oom") lines.push(`  ${r.error}`);
  else if (r.error) lines.push(`  failed (${r.error_kind}): ${r.error}${r.suggestion ? `\n  ${r.suggestion}` : ""}`);
  return lines.join("\n");
}

/** Worker notes worth a line on stderr: checkpoints skipped on resume, where it resumed from. */
export function resumeNotes(e: WorkerEvent): void {
  if (e.type === "log" && /^(skipped|resumed|removed)/.test(e.message)) process.stderr.write(`fitlab: ${oneLine(e.message)}\n`);
}

export async function trainOne(store: RunStore, s: TrainSettings, quiet: boolean, opts: CreateOptions = {}): Promise<RunRecord> {
  const run = createRun(store, s, opts);
  const bar = quiet ? null : trainingProgress(run.name);
  try {
    return await executeRun(store, run, { onEvent: (e) => (bar?.onEvent(e), quiet ? undefined : resumeNotes(e)) });
  } finally {
    bar?.stop();
  }
}

/** The resolved run of a plan experiment, as `--dry-run` prints it: nothing is downloaded or started. */
export function dryRun(ex: PlanExperiment, o: { gpu?: string | undefined; planGpu: string | null; experiments?: readonly PlanExperiment[] }): Record<string, unknown> {
  const target = runGpu(loadGpuCatalog(), { flag: o.gpu, planGpu: o.planGpu, needDetected: false })!;
  const gpu = { name: target.gpu.name, source: target.source, usable_bytes: target.gpu.usableBytes };
  const r = ex.run!;
  const model = { id: r.model ?? ex.modelName, revision: r.modelRevision ?? (r.model && looksLocal(r.model) ? null : "main") };
  const estimateOf = (e: ReturnType<typeof planEstimate>, cheapest: string | null) => ({
    gpu,
    peak: { allocated_bytes: e.peak.allocated_bytes, reserved_bytes: e.peak.reserved_bytes, device_bytes: e.peak.device_bytes, low_bytes: e.peak.low_bytes, high_bytes: e.peak.high_bytes, minimum_device_bytes: e.peak.minimum_device_bytes, phase: e.peak.phase },
    fits: e.fits,
    headroom_bytes: e.headroom_bytes,
    tokens_per_s: e.tokens_per_s,
    total_seconds: e.total_seconds,
    calibration: e.calibration,
    ...(e.fits ? {} : { cheapest_change: cheapest }),
  });
  if (isInspection(ex)) return inspectionDryRun(ex, target.gpu, model, estimateOf, o.experiments ?? []);
  if (isEvaluation(ex)) {
    const w = ex.runs[0]!.workload;
    const e = planEstimate(ex.model!, { ...w, engine: "fitlab-worker" }, target.gpu);
    // the job reads the base model and each checkpoint of adapter_from, each over the plan's data
    const modelsRead = modelsReadByEvaluation(ex, o.experiments ?? []);
    const perModelS = runSeconds(e, ex);
    return { experiment: ex.key, kind: "evaluate", model, adapter_from: r.adapterFrom ?? null, general_text: r.general_text, multiple_choice: r.multiple_choice, settings: { workload: w.kind, seq: w.seqLen, batch: w.batch, quant: w.quant }, models_read: modelsRead, seconds_per_model: Math.round(perModelS), estimate: { ...estimateOf(e, null), total_seconds: Math.round(perModelS * modelsRead) } };
  }
  const settings = settingsFromPlan(ex);
  const one = (s: TrainSettings) => {
    const tokens = ex.data.tokens * (s.epochs ?? ex.data.epochs);
    // the worker's "auto" loss and kernels resolve on the card, as the run itself resolves them (train.ts resolvedLean)
    const pf = preflight(resolveModel(s.model), workloadOf(s, target.gpu), target.gpu, tokens > 0 ? tokens : undefined);
    const { model: _m, dataset: _d, ...rest } = s;
    return { settings: rest, estimate: estimateOf(pf.estimate, pf.fit?.cheapest ? pf.fit.cheapest.descriptions.join(" + ") : null) };
  };
  const all = settings.map(one);
  const worst = all.reduce((a, b) => (b.estimate.peak.device_bytes > a.estimate.peak.device_bytes ? b : a));
  return {
    experiment: ex.key,
    kind: "train",
    model,
    dataset: settings[0]!.dataset,
    settings: all[0]!.settings,
    estimate: { ...worst.estimate, fits: all.every((x) => x.estimate.fits) },
    ...(all.length > 1 ? { runs: settings.map((s, i) => ({ label: ex.runs[i]!.label, ...all[i]! })) } : {}),
  };
}

/** An inspection (Track B or C): the prompts or probe data it reads, the settings the worker gets, and the
 *  planner's estimate of the job as it runs (runs/inspect-plan.ts, the same figure `fitlab decide` counts). */
function inspectionDryRun(
  ex: PlanExperiment,
  gpu: Gpu,
  model: { id: string | null | undefined; revision: string | null },
  estimateOf: (e: ReturnType<typeof planEstimate>, cheapest: string | null) => Record<string, unknown>,
  others: readonly PlanExperiment[],
): Record<string, unknown> {
  const s = inspectSettingsFromPlan(ex);
  const planned = ex.runs[0]!.workload;
  const r = ex.run!;
  const job = planInspection(ex, gpu, others);
  const { kind, inspection: ie } = job;
  const e = ie.estimate;
  const input = kind === "probe" ? s.data : s.prompts;
  return {
    experiment: ex.key,
    kind: "inspect",
    inspect: kind,
    model,
    dataset: input,
    ...(kind === "probe" ? { probe_data: s.data } : { prompts: s.prompts }),
    adapter_from: r.adapterFrom ?? null,
    settings: { inspect: kind, workload: ie.workload.kind, seq: ie.workload.seqLen, batch: 1, quant: ie.workload.quant, max_tokens: s.maxTokens, device: s.device, ...(kind === "attention" || kind === "compare" ? { capture: "recompute", attention_capture: ie.workload.attentionCapture } : {}), ...(kind === "hidden" ? { positions: s.positions } : {}), ...(kind === "probe" ? { probe_samples: planned.probe?.samples, probe_classes: planned.probe?.classes } : {}) },
    estimate: {
      ...estimateOf(e, null),
      total_seconds: e.tokens_per_s > 0 ? job.seconds : null,
      extra_bytes: ie.extra,
      passes: ie.passes,
      ...(kind === "probe" ? { models_read: job.modelsRead, probes_per_model: job.probes, extraction_seconds: Math.round(job.extractionSeconds), probe_fit_seconds: Math.round(job.probeFitSeconds) } : {}),
    },
  };
}

function describeDryRun(d: Record<string, unknown>): string {
  const e = d.estimate as { gpu: { name: string; source: string }; peak: { device_bytes: number; minimum_device_bytes: number }; fits: boolean; tokens_per_s: number; total_seconds: number | null; cheapest_change?: string | null };
  const m = d.model as { id: string; revision: string | null };
  const data = d.kind === "inspect" ? `${String(d.inspect)} of ${d.inspect === "probe" ? "probe data" : "prompts"} ${JSON.stringify(d.dataset)}${d.adapter_from ? `, with the newest finished run of ${String(d.adapter_from)}` : ""}` : d.kind === "evaluate" ? `evaluates ${d.adapter_from ? `the newest run of ${String(d.adapter_from)} (base and each checkpoint: ${String(d.models_read)} models, planned)` : "the base model"}: perplexity ${JSON.stringify(d.general_text)}, multiple choice ${JSON.stringify(d.multiple_choice)}` : `dataset ${JSON.stringify(d.dataset)}`;
  return [
    `${String(d.experiment)} (dry run: nothing downloaded, nothing started)`,
    `  model ${m.id}${m.revision ? ` @ ${m.revision}` : ""}`,
    `  ${data}`,
    `  ${e.gpu.name} (${e.gpu.source}): ${gib(e.peak.device_bytes)} expected, ${gib(e.peak.minimum_device_bytes)} at least -> ${e.fits ? "fits" : `does NOT fit; ${e.cheapest_change ? `cheapest change: ${e.cheapest_change}` : `no change in the fit search fits: \`fitlab burst ${String(d.experiment)}\` rents a card that does`}`}`,
    `  ${Math.round(e.tokens_per_s)} tokens/s${e.total_seconds !== null ? `, about ${duration(e.total_seconds)}` : ""}`,
    ...(Array.isArray(d.runs) ? [`  ${d.runs.length} runs: ${(d.runs as { label: string }[]).map((r) => r.label).join(", ")}`] : []),
  ].join("\n");
}

export function runCommand(): Command {
  return new Command("run")
    .description("run a plan experiment (one run or a sweep), or a fine-tune given by flags; records predicted and measured figures")
    .argument("[experiment]", "experiment key from the plan (e.g. A.lr-sweep)")
    .option("--plan <file>", "lab plan with run sections", DEFAULT_PLAN_PATH)
    .option("--runs <dir>", "run store folder (default ./runs or $FITLAB_RUNS)")
    .option("--model <dir|id>", "model folder (config.json + safetensors) or Hugging Face id")
    .option("--model-revision <rev>", "branch, tag or commit of a hub model (default main)")
    .option("--method <m>", "lora, qlora or full")
    .option("--data <jsonl|id>", "training data: JSONL of text, prompt/completion or chat messages, or a Hugging Face dataset id")
    .option("--data-config <name>", "hub dataset config (e.g. wikitext-2-raw-v1)").option("--data-split <split>", "hub dataset split (default train)")
    .option("--examples <n>", "hub dataset: the first N rows")
    .option("--eval-data <jsonl>", "held-out data (default: a split of --data)")
    .option("--eval-fraction <f>", "held-out share when --eval-data is not given")
    .option("--lr <x>").option("--schedule <s>", "linear, cosine or constant").option("--warmup <steps>")
    .option("--steps <n>").option("--epochs <n>").option("--batch <n>").option("--grad-accum <n>").option("--seq <n>", "max sequence length")
    .option("--rank <r>").option("--alpha <a>").option("--targets <list>").option("--dropout <p>")
    .option("--packing", "pack whole examples into rows (position ids reset, attention kept inside each example)")
    .option("--grad-ckpt [mode]", "activation checkpointing: none, full (the bare flag) or offload (kept layer inputs in CPU memory); QLoRA default full")
    .option("--loss <impl>", "auto (fused on CUDA with Liger, else chunked), standard, chunked or fused", "auto")
    .option("--loss-chunk <tokens>", "tokens per chunk of the chunked loss (default 256)")
    .option("--optimizer <o>", "adamw, adamw-fused, adamw8bit or paged-adamw8bit", "adamw")
    .option("--kernels <k>", "auto (Liger RMSNorm/RoPE/SwiGLU on CUDA), none or liger", "auto")
    .option("--compile", "torch.compile each decoder layer")
    .option("--seed <n>").option("--eval-every <n>").option("--checkpoint-every <n>")
    .option("--device <d>", "auto, cpu or cuda").option("--name <name>")
    .option("--gpu <name>", "the card to predict for and check against (default: what nvidia-smi sees; for --dry-run, else the plan's)")
    .option("--dry-run", "print the resolved run (model, dataset, settings, the estimate) without downloading or starting anything")
    .option("--force", "start a GPU run even when the planner predicts it does not fit")
    .option("--general <file>", "general-text file: perplexity before and after (forgetting)")
    .option("--mc <jsonl>", "multiple-choice file: accuracy before and after (forgetting)")
    .option("--json", "print the summary as JSON")
    .option("--no-calibration", "ignore the correction fitted on your runs (fitlab calibrate)")
    .action(async (experiment: string | undefined, o: Flags) => {
      if (typeof o.runs === "string") process.env.FITLAB_RUNS = o.runs;
      const gpuFlag = typeof o.gpu === "string" ? o.gpu : undefined;
      let ex: PlanExperiment | null = null;
      let planGpu: string | null = null;
      let experiments: readonly PlanExperiment[] = [];
      if (experiment) {
        const plan = loadPlan(String(o.plan));
        ex = plan.experiments.find((e) => e.key === experiment || e.id === experiment) ?? null;
        if (!ex) throw new FitlabInputError(`no experiment ${JSON.stringify(experiment.slice(0, 80))} in ${plan.file}; known: ${plan.experiments.map((e) => e.key).join(", ")}`);
        if (ex.cpuOnly) throw new FitlabInputError(`experiment ${ex.key} is CPU-side analysis (cpu: true): nothing to run on a GPU`);
        if (!ex.run) throw new FitlabInputError(`experiment ${ex.key} has no run section (dataset and training settings): add one to the plan to run it`);
        refuseRunFlags(o, ex.key);
        planGpu = plan.currentGpu;
        experiments = plan.experiments;
      } else if (o.plan !== DEFAULT_PLAN_PATH) throw new FitlabInputError("--plan names the plan an experiment comes from: give the experiment (fitlab run TRACK.ID --plan FILE)");
      if (o.dryRun) {
        if (!ex) throw new FitlabInputError("--dry-run needs an experiment from a plan");
        if (o.force === true) throw new FitlabInputError("--force starts a run the planner says does not fit; --dry-run starts nothing: drop one of them");
        const d = dryRun(ex, { gpu: gpuFlag, planGpu, experiments });
        return print(o.json ? d : describeDryRun(d), o.json === true);
      }
      const inspection = ex !== null && isInspection(ex);
      const evaluation = ex !== null && isEvaluation(ex);
      // every input of a training run is checked before the store is opened or the worker started: bad input writes nothing
      let settings: TrainSettings[] = [];
      let general: EvalData | null = typeof o.general === "string" ? o.general : null;
      let mc: EvalData | null = typeof o.mc === "string" ? o.mc : null;
      let sweepParam: string | null = null;
      if (!inspection && !evaluation) {
        if (ex) {
          settings = settingsFromPlan(ex).map((s) => (gpuFlag ? { ...s, gpu: gpuFlag } : s));
          general ??= ex.run?.general_text ?? null;
          mc ??= ex.run?.multiple_choice ?? null;
          sweepParam = ex.sweep?.param ?? null;
        } else settings = [settingsFromFlags(o)];
        const seen = new Set<string>();
        for (const s of settings) checkRunInputs(s, seen);
        if (typeof general === "string") checkGeneralText(general);
        if (typeof mc === "string") checkMultipleChoice(mc);
      }
      if ((inspection || evaluation) && (o.general !== undefined || o.mc !== undefined)) throw new FitlabInputError(`--general and --mc measure forgetting after a training run; experiment ${ex!.key} is ${evaluation ? "an evaluation: its run section names its files" : "an inspection"}`);
      if ((inspection || evaluation) && o.force === true) throw new FitlabInputError(`--force overrides the fit check of a training run; experiment ${ex!.key} is ${evaluation ? "an evaluation" : "an inspection"}`);
      // hub models and datasets: in the cache when offline, else a hub that answers; before the store is touched
      const hub: HubSource[] = [];
      const hubEval = (d: EvalData | null) => (d !== null && typeof d === "object" ? hub.push({ kind: "dataset", id: d.hub }) : 0);
      const hubModel = (m: string | null | undefined) => (m && !looksLocal(m) ? hub.push({ kind: "model", id: m }) : 0);
      if (ex && (inspection || evaluation)) {
        hubModel(ex.run?.model ?? ex.modelName);
        if (evaluation) [ex.run!.general_text, ex.run!.multiple_choice].forEach(hubEval);
      }
      for (const s of settings) {
        hubModel(s.model);
        if (isHubDataset(s.dataset)) hub.push({ kind: "dataset", id: s.dataset.hub });
      }
      if (!inspection && !evaluation) [general, mc].forEach(hubEval);
      for (const s of settings) refuseIfNotFitting(s, o.force === true);
      await checkHubSources(hub);
      const store = new RunStore();
      try {
        if (ex && evaluation) return await runEvaluation(store, ex, o);
        if (ex && inspection) {
          // Tracks B and C: the experiment is an inspection (attention, compare, hidden, probe)
          const rep = await runInspection(store, inspectSettingsFromPlan(ex, store), o.json === true);
          print(o.json ? { runs: [rep.json] } : rep.text, o.json === true);
          return;
        }
        const sweepId = sweepParam !== null || settings.length > 1 ? sweepInstanceId(settings[0]!.experiment ?? "sweep") : null;
        const runs: RunRecord[] = [];
        for (const s of settings) runs.push(await trainOne(store, { ...s, sweep: sweepId }, o.json === true, { force: o.force === true, inputsChecked: true }));
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
          lines.push(`sweep ${settings[0]!.experiment ?? sweepId} (${sweepId}):`, ...cmp.verdict.map((v) => `  - ${v}`));
        }
        const finished = runs.filter((r) => r.status === "done");
        if ((general || mc) && finished.length > 0) {
          const r = finished[0]!;
          const progress = o.json ? null : evaluationProgress(`forgetting (${r.name})`);
          const points = await forgettingCurve(r, general, mc, progress ?? {}).finally(() => progress?.stop());
          out.forgetting = { run: r.id, points, findings: forgettingFindings(points) };
          lines.push(`forgetting (${r.name}):`, ...forgettingFindings(points).map((f) => `  - ${f}`));
        }
        print(o.json ? out : lines.join("\n"), o.json === true);
        if (runs.some((r) => r.status === "failed" || r.status === "oom")) process.exitCode = 1;
      } finally {
        store.close();
      }
    });
}

/** An evaluation experiment: the forgetting curve of the newest finished run of `adapter_from` (base model
 *  and each checkpoint), or the base model alone when the run section names no training experiment. */
async function runEvaluation(store: RunStore, ex: PlanExperiment, o: Flags): Promise<void> {
  const r = ex.run!;
  const from = r.adapterFrom ?? null;
  const parent = from ? store.list({ experiment: from, status: "done" }).at(-1) : undefined;
  if (from && !parent) throw new FitlabInputError(`experiment ${ex.key} evaluates the newest finished run of ${from}, and there is none in ${store.dir}: run \`fitlab run ${from}\` first`);
  if (!parent) throw new FitlabInputError(`experiment ${ex.key} needs run.adapter_from (the training experiment whose checkpoints it evaluates)`);
  const points = await forgettingCurve(parent, r.general_text, r.multiple_choice);
  const findings = forgettingFindings(points);
  print(o.json ? { experiment: ex.key, run: parent.id, points, findings } : [`forgetting of ${parent.name} (${parent.id}):`, ...findings.map((f) => `  - ${f}`)].join("\n"), o.json === true);
}
