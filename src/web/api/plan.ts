// The Plan page's questions, answered by the functions the CLI calls: `fitlab estimate --json`,
// `fitlab fit --json`, `fitlab models --json`, `fitlab gpus --json`, `fitlab decide --format json|html`.
// Settings arrive as the CLI's flag names (`seq`, `grad-accum`, `packed=false`, ...). Only built-in models
// and catalog GPUs: nothing from the browser names a file.
import { FitlabInputError } from "../../errors.js";

/** Query keys the estimate and fit accept: the CLI's workload flags (commander camel-cases them). */
const WORKLOAD_FLAGS = ["workload", "seq", "batch", "grad-accum", "packed", "rank", "alpha", "targets", "dropout", "quant", "dtype", "optimizer", "optimizer-in-backward", "grad-ckpt", "attn", "loss", "compile", "engine", "engine-version", "gpus", "sharding", "prompt", "new-tokens", "capture", "probe-samples", "probe-features", "probe-classes"] as const;
const camel = (k: string) => k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

async function builtinModel(name: string | undefined) {
  const { catalogEntries, resolveModel } = await import("../../spec/catalog.js");
  const { DEFAULT_MODEL } = await import("../../cli/options.js");
  const want = (name ?? DEFAULT_MODEL).toLowerCase();
  const entry = catalogEntries().find((e) => e.id.toLowerCase() === want);
  if (!entry) throw new FitlabInputError(`the dashboard takes built-in model names only ("${name}" is not one; see \`fitlab models\`); for a local model folder use \`fitlab estimate --model DIR\``);
  return resolveModel(entry.id);
}

/** Query -> (model, GPU, workload), through the CLI's own flag parsing. */
async function experimentOf(q: Record<string, string>, extra: readonly string[] = []) {
  const { loadGpuCatalog } = await import("../../hardware/catalog.js");
  const { DEFAULT_GPU, workloadInputFromFlags } = await import("../../cli/options.js");
  const { resolveWorkload } = await import("../../workload/resolve.js");
  const flags: Record<string, string | boolean> = {};
  for (const [k, v] of Object.entries(q)) {
    if (k === "model" || k === "gpu" || extra.includes(k)) continue;
    if (!(WORKLOAD_FLAGS as readonly string[]).includes(k)) throw new FitlabInputError(`unknown setting "${k}"; settings: ${WORKLOAD_FLAGS.join(", ")}`);
    if (k === "packed") flags.packed = v !== "false";
    else if (k === "compile" || k === "optimizer-in-backward") flags[camel(k)] = v === "true";
    else if (v !== "") flags[camel(k)] = v;
  }
  const spec = await builtinModel(q.model);
  const gpu = loadGpuCatalog().find(q.gpu ?? DEFAULT_GPU);
  const workload = resolveWorkload(workloadInputFromFlags(flags));
  return { spec, gpu, workload };
}

export async function estimateAnswer(q: Record<string, string>) {
  const { estimate } = await import("../../planner.js");
  const { intArg } = await import("../../cli/options.js");
  const { spec, gpu, workload } = await experimentOf(q, ["dataset-tokens"]);
  const datasetTokens = intArg("--dataset-tokens", q["dataset-tokens"] || undefined, 1, 1e15);
  return estimate(spec, workload, gpu, datasetTokens !== undefined ? { datasetTokens } : {});
}

export async function fitAnswerFor(q: Record<string, string>) {
  const { fitAnswer } = await import("../../fit/answer.js");
  const { spec, gpu, workload } = await experimentOf(q);
  return fitAnswer(spec, workload, gpu);
}

export async function modelsAnswer() {
  const { modelList } = await import("../../cli/models.js");
  return modelList();
}

export async function gpusAnswer() {
  const { gpuList } = await import("../../cli/gpus.js");
  return gpuList();
}

const DECIDE_FLAGS: Record<string, "gpu" | "horizonMonths" | "utilization" | "electricity"> = { gpu: "gpu", "horizon-months": "horizonMonths", utilization: "utilization", electricity: "electricity" };

/**
 * An uploaded plan may name built-in models only: resolving anything else would read a path the browser
 * chose. Checked on the parsed YAML before the plan is resolved.
 */
async function checkUploadedModels(text: string): Promise<void> {
  // the yaml package as every data file loads it (data/yaml-cache.ts): a dynamic import of the "yaml" package in the bundled CLI
  // yields the CommonJS module as a default export only, and a missing parse() must never pass as "not YAML"
  const { QUIET_PARSE, yamlLib } = await import("../../data/yaml-cache.js");
  const lib = yamlLib();
  let raw: unknown;
  try {
    raw = lib.parse(text, QUIET_PARSE);
  } catch (e) {
    if (e instanceof lib.YAMLError) return; // the plan check reports YAML errors with their line
    throw e;
  }
  const { catalogEntries } = await import("../../spec/catalog.js");
  const builtin = new Set(catalogEntries().map((e) => e.id.toLowerCase()));
  const tracks = (raw as { tracks?: unknown })?.tracks;
  if (!Array.isArray(tracks)) return;
  for (const t of tracks as { id?: unknown; experiments?: unknown }[]) {
    if (!Array.isArray(t?.experiments)) continue;
    for (const ex of t.experiments as { id?: unknown; model?: unknown; run?: { model?: unknown } }[]) {
      for (const m of [ex?.model, ex?.run?.model]) {
        if (typeof m === "string" && !builtin.has(m.toLowerCase())) throw new FitlabInputError(`uploaded plans may name built-in models only: experiment ${String(t.id)}.${String(ex.id)} names "${m}" (for local models run \`fitlab decide --plan FILE\`)`);
      }
    }
  }
}

/** The decision for the built-in plan, or for an uploaded one (YAML text). */
export async function decisionAnswer(q: Record<string, string>, uploaded: string | null, format: "json" | "html") {
  const { decide } = await import("../../decide/decision.js");
  const { decisionInputs } = await import("../../cli/decide.js");
  const { loadPlanText } = await import("../../plan/load.js");
  const flags: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) {
    if (k === "format") continue;
    const f = DECIDE_FLAGS[k];
    if (!f) throw new FitlabInputError(`unknown setting "${k}"; settings: ${Object.keys(DECIDE_FLAGS).join(", ")}, format`);
    if (v !== "") flags[f] = v;
  }
  let plan;
  if (uploaded !== null) {
    await checkUploadedModels(uploaded);
    plan = loadPlanText(uploaded, "uploaded-plan.yaml");
  }
  const d = decide(decisionInputs(flags, plan));
  if (format === "json") return d;
  const { renderHtml } = await import("../../report/html.js");
  return renderHtml(d);
}
