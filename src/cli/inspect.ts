// `fitlab inspect attention|compare|hidden|probe`: Tracks B and C. Each runs the worker job as a run of the
// store, writes its pictures and an HTML report into the run's folder, and prints findings (or, with --json,
// the object the dashboard receives). Only wiring: the work is in runs/inspect.ts, analyze/ and report/.
import path from "node:path";
import { Command } from "commander";
import { FitlabInputError } from "../errors.js";
import type { PlanExperiment } from "../plan/load.js";
import { storedInspectJson } from "../report/inspect-doc.js";
import { INSPECT_KINDS, inspect, type InspectKind, type InspectSettings } from "../runs/inspect.js";
import { parseHeadList } from "../runs/inspect-inputs.js";
import { inspectKindOf } from "../runs/inspect-plan.js";
import { RunStore, type RunRecord } from "../runs/store.js";
import { checkHubSources } from "../runs/hub-check.js";
import { looksLocal } from "../plan/run-spec.js";
import { gib } from "./format.js";
import { intArg } from "./options.js";
import { print } from "./output.js";
import { inspectProgress } from "./progress.js";

type Flags = Record<string, string | boolean | undefined>;

function oneOf<T extends string>(flag: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new FitlabInputError(`${flag} must be ${allowed.join(", ")}, got "${v}"`);
  return v as T;
}

/** Settings that only mean something beside another: refused alone rather than silently ignored. */
function refuseInapplicable(s: (k: string) => string | undefined): void {
  if (s("maxBytes") !== undefined && s("positions") !== "all") throw new FitlabInputError("--max-bytes caps the features stored with --positions all: add it, or drop --max-bytes");
  if (s("chunkBytes") !== undefined && s("capture") === "eager") throw new FitlabInputError("--chunk-bytes sizes the streaming recompute; --capture eager takes every layer's maps at once: drop one of them");
  if (s("fullDtype") !== undefined && s("heads") === undefined) throw new FitlabInputError("--full-dtype is the dtype of the full-resolution maps of --heads: give --heads, or drop --full-dtype");
  if (s("quant") === "nf4" && s("device") === "cpu") throw new FitlabInputError("--quant nf4 loads 4-bit weights with bitsandbytes on a CUDA GPU: with --device cpu use --quant none");
  if (s("run") !== undefined && s("model") !== undefined) throw new FitlabInputError("--run probes that training run's own model: drop --model");
  if (s("run") !== undefined && s("adapter") !== undefined) throw new FitlabInputError("--run probes every checkpoint of that run; --adapter probes one adapter: give one of them");
}

export function settingsFromFlags(kind: InspectKind, o: Flags): InspectSettings {
  const s = (k: string) => (typeof o[k] === "string" ? (o[k] as string) : undefined);
  refuseInapplicable(s);
  return {
    kind,
    ...(s("name") ? { name: s("name")! } : {}),
    model: s("model") ?? null,
    prompts: s("prompts") ?? null,
    data: s("data") ?? null,
    adapter: s("adapter") ?? null,
    run: s("run") ?? null,
    quant: oneOf("--quant", s("quant"), ["none", "nf4"] as const) ?? "none",
    device: oneOf("--device", s("device"), ["auto", "cpu", "cuda"] as const) ?? "auto",
    dtype: oneOf("--dtype", s("dtype"), ["auto", "bf16", "fp16", "fp32"] as const) ?? "auto",
    heads: parseHeadList(s("heads")),
    maxPrompts: intArg("--max-prompts", s("maxPrompts"), 1, 1e9) ?? null,
    maxTokens: intArg("--max-tokens", s("maxTokens"), 2, 1e8) ?? null,
    mapPrompts: intArg("--map-prompts", s("mapPrompts"), 0, 1e6) ?? null,
    positions: oneOf("--positions", s("positions"), ["last", "mean", "all"] as const) ?? "last",
    maxBytes: intArg("--max-bytes", s("maxBytes"), 1, 2 ** 50) ?? null,
    ...(s("pool") !== undefined ? { pool: oneOf("--pool", s("pool"), ["last", "mean"] as const)! } : {}),
    capture: oneOf("--capture", s("capture"), ["recompute", "eager"] as const) ?? "recompute",
    fullDtype: oneOf("--full-dtype", s("fullDtype"), ["float16", "float32"] as const) ?? "float16",
    ...(s("chunkBytes") ? { chunkBytes: intArg("--chunk-bytes", s("chunkBytes"), 1, 2 ** 40)! } : {}),
    seed: intArg("--seed", s("seed"), 0, 2 ** 31) ?? 0,
  };
}

/** Hub prompts or probe data sized to the experiment: data.prompts prompts, the probe workload's samples. */
function sized<T extends { examples?: number | undefined }>(v: string | T | undefined, n: number | undefined): string | T | null {
  if (v === undefined) return null;
  if (typeof v === "string" || v.examples !== undefined || !n) return v;
  return { ...v, examples: n };
}

/** The newest finished run of a plan's training experiment (what adapter_from reads). */
export function adapterFromRun(store: RunStore, ex: PlanExperiment, from: string): RunRecord {
  const parent = store.list({ experiment: from, status: "done" }).filter((r) => r.kind === "train").at(-1);
  if (!parent) throw new FitlabInputError(`experiment ${ex.key} reads the newest finished run of ${from}, and there is none in ${store.dir}: run \`fitlab run ${from}\` first`);
  return parent;
}

/** The inspection a plan experiment asks for: its run section (prompts, adapter, probe data), its workload kind.
 *  With run.adapter_from, the newest finished run of that training experiment gives the adapter (compare,
 *  hidden) or the checkpoints a probe follows (probe); without a store (a dry run) it stays unresolved. */
export function settingsFromPlan(ex: PlanExperiment, store: RunStore | null = null): InspectSettings {
  const r = ex.run;
  const w = ex.runs[0]?.workload;
  if (!r || !w) throw new FitlabInputError(`experiment ${ex.key} has no run section: add one (prompts, adapter or probe_data) to run it`);
  const kind = inspectKindOf(ex);
  let adapter = r.adapter ?? null;
  let run = r.probe_run ?? null;
  if (r.adapterFrom && store) {
    const parent = adapterFromRun(store, ex, r.adapterFrom);
    if (kind === "probe") run ??= parent.id;
    else if (kind !== "attention") adapter ??= parent.id;
  }
  return {
    kind,
    name: ex.key,
    experiment: ex.key,
    model: r.model ?? ex.modelName,
    ...(r.modelRevision ? { modelRevision: r.modelRevision } : {}),
    prompts: sized(r.prompts, ex.data.prompts),
    data: sized(r.probe_data, w.probe?.samples),
    adapter,
    run,
    quant: w.quant === "none" ? "none" : "nf4",
    device: r.device ?? "auto",
    maxTokens: w.seqLen,
    positions: "last",
    seed: r.seed ?? 0,
  };
}

export interface InspectReport {
  readonly run: RunRecord;
  readonly json: Record<string, unknown>;
  readonly text: string;
}

/** Run one inspection, write its report, and return the JSON object and the text a person reads. */
export async function runInspection(store: RunStore, s: InspectSettings, quiet: boolean): Promise<InspectReport> {
  const bar = quiet ? null : inspectProgress(`${s.kind}`);
  let out;
  try {
    out = await inspect(store, s, bar ? { onEvent: bar.onEvent } : {});
  } finally {
    bar?.stop();
  }
  const { run, result } = out;
  if (run.status !== "done") {
    process.exitCode = 1;
    return { run, json: { run_id: run.id, kind: run.kind, status: run.status, error: { kind: run.error_kind, message: run.error } }, text: `${run.id} ${run.name}: ${run.status} (${run.error_kind}): ${run.error}` };
  }
  // the chart library loads here, once there are pictures to draw (`inspect show` needs none)
  const { inspectDocument, writeInspectReport } = await import("../report/inspect-report.js");
  const doc = inspectDocument(run, result);
  const html = writeInspectReport(run, doc);
  const r = result as { peak_bytes?: number; transient_bytes?: number; device?: string; seconds?: number };
  const text = [
    `${run.id} ${run.name}: ${doc.title}`,
    `  ${r.device === "cuda" ? "GPU" : "CPU"} peak ${gib(r.peak_bytes ?? 0)}, ${gib(r.transient_bytes ?? 0)} above the loaded model${run.predicted_allocated_bytes ? `; planner predicts ${gib(run.predicted_allocated_bytes)} on a CUDA device` : ""}; ${Math.round(r.seconds ?? 0)} s`,
    ...doc.findings.map((f) => `  - ${f}`),
    `  report: ${html}`,
    `  pictures: ${path.join(run.dir, "report")}/*.svg`,
  ].join("\n");
  return { run, json: doc.json, text };
}

function addCommon(cmd: Command): Command {
  // nested under `inspect`: main.ts only sets exitOverride on top-level commands (usage errors exit 2)
  return cmd
    .exitOverride()
    .showSuggestionAfterError(false)
    .option("--model <dir|id>", "model folder (config.json + safetensors) or Hugging Face id")
    .option("--quant <q>", "none or nf4 (4-bit, needs a GPU)")
    .option("--device <d>", "auto, cpu or cuda")
    .option("--dtype <d>", "auto, bf16, fp16 or fp32")
    .option("--max-prompts <n>", "use the first n prompts/examples")
    .option("--max-tokens <n>", "cut each prompt to n tokens (default: a prompt longer than the context is an error)")
    .option("--name <name>", "run name")
    .option("--runs <dir>", "run store folder (default ./runs or $FITLAB_RUNS)")
    .option("--seed <n>")
    .option("--json", "print the result as JSON (what the dashboard receives)");
}

function action(kind: InspectKind) {
  return async (o: Flags) => {
    if (typeof o.runs === "string") process.env.FITLAB_RUNS = o.runs;
    const settings = settingsFromFlags(kind, o);
    // a hub model must be in the cache when offline, or the hub must answer: before the store is touched
    if (settings.model && !looksLocal(settings.model)) await checkHubSources([{ kind: "model", id: settings.model }]);
    const store = new RunStore();
    try {
      const rep = await runInspection(store, settings, o.json === true);
      print(o.json ? rep.json : rep.text, o.json === true);
    } finally {
      store.close();
    }
  };
}

export function inspectCommand(): Command {
  const cmd = new Command("inspect").description("Tracks B and C: attention, base vs fine-tuned, hidden states and linear probes, as runs with pictures");
  cmd.addCommand(
    addCommon(new Command("attention").description("per layer x head: entropy, distance, sink, previous-token and self shares; pooled maps; exact under SDPA, one layer at a time"))
      .option("--prompts <file>", "one prompt per line, or JSONL with \"text\"")
      .option("--adapter <dir|run>", "a LoRA adapter folder or a training run id")
      .option("--heads <list>", "heads kept at full resolution: LAYER.HEAD,... or all")
      .option("--map-prompts <n>", "prompts whose pooled maps are kept (default 4)")
      .option("--capture <c>", "recompute (default: streaming, any backend) or eager (output_attentions: every layer at once)")
      .option("--full-dtype <d>", "float16 (default) or float32 for full-resolution maps")
      .option("--chunk-bytes <n>", "fp32 workspace per chunk of query rows")
      .action(action("attention")),
  );
  cmd.addCommand(
    addCommon(new Command("compare").description("base vs fine-tuned from one load: JS divergence and change of each statistic per head; LoRA update norm per module"))
      .option("--prompts <file>", "one prompt per line, or JSONL with \"text\"")
      .option("--adapter <dir|run>", "a LoRA adapter folder or a training run id")
      .option("--map-prompts <n>", "prompts whose pooled maps are kept (default 1)")
      .option("--chunk-bytes <n>", "fp32 workspace per chunk of query rows")
      .action(action("compare")),
  );
  cmd.addCommand(
    addCommon(new Command("hidden").description("residual stream after the embeddings and each layer: norms, anisotropy, outlier dims, logit lens, CKA (and base vs fine-tuned)"))
      .option("--prompts <file>", "one prompt per line, or JSONL with \"text\"")
      .option("--adapter <dir|run>", "a LoRA adapter folder or a training run id: also compares with the base model")
      .option("--positions <p>", "features stored: last (default), mean or all (up to --max-bytes)")
      .option("--max-bytes <n>", "byte budget of stored features with --positions all (default 256 MiB)")
      .action(action("hidden")),
  );
  cmd.addCommand(
    addCommon(new Command("probe").description("linear probes per layer with a control task (Hewitt & Liang 2019) and selectivity; --run follows a training run's checkpoints"))
      .option("--data <jsonl>", "labelled data: {\"text\",\"label\"} or {\"tokens\":[...],\"labels\":[...]} per line")
      .option("--adapter <dir|run>", "probe the fine-tuned model")
      .option("--run <id>", "probe every checkpoint of this training run (step 0 = base model)")
      .option("--pool <p>", "sentence-level feature: last token (default) or mean")
      .action(action("probe")),
  );
  cmd.addCommand(
    new Command("show")
      .description("a finished inspection run's findings (or, with --json, the object its command printed), without running it again")
      .exitOverride()
      .showSuggestionAfterError(false)
      .argument("<run>", "an attention, compare, hidden or probe run: id or name")
      .option("--runs <dir>", "run store folder (default ./runs or $FITLAB_RUNS)")
      .option("--json", "print the result as JSON (what the dashboard receives)")
      .action((id: string, o: Flags) => {
        if (typeof o.runs === "string") process.env.FITLAB_RUNS = o.runs;
        const store = new RunStore();
        try {
          const run = store.get(id);
          if (!(INSPECT_KINDS as readonly string[]).includes(run.kind)) throw new FitlabInputError(`run ${run.id} is a ${run.kind} run, not an inspection (attention, compare, hidden, probe): \`fitlab runs show ${run.id}\` shows it`);
          const json = storedInspectJson(run);
          const findings = (json.findings as string[] | undefined) ?? [];
          print(o.json ? json : [`${run.id} ${run.name} (${run.kind}, ${run.status})`, ...findings.map((f) => `  - ${f}`), `  report: ${String(json.report)}`].join("\n"), o.json === true);
        } finally {
          store.close();
        }
      }),
  );
  return cmd;
}
