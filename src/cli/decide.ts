// `fitlab decide`: the hardware decision document for a lab plan (built-in default when none is given).
import { Command } from "commander";
import { decide, type Decision, type DecisionInput } from "../decide/decision.js";
import { detectGpu, loadPriceBook } from "../decide/options.js";
import { hasActiveCalibration, readCalibration } from "../calibration/correction.js";
import { FitlabInputError } from "../errors.js";
import { loadGpuCatalog } from "../hardware/catalog.js";
import type { Gpu } from "../hardware/gpu.js";
import { DEFAULT_PLAN_PATH, loadPlan, type Plan } from "../plan/load.js";
import { numArg } from "./options.js";
import { writeOut } from "./write.js";

export const FALLBACK_GPU = "GeForce RTX 5060 Ti 16GB";

export interface DecideFlags {
  plan?: string;
  gpu?: string;
  gpuFile?: string;
  prices?: string;
  horizonMonths?: string;
  utilization?: string;
  electricity?: string;
  idleWatts?: string;
}

/** Shared by decide, burst and the dashboard: load the plan (unless given), the catalogs and the current card. */
export function decisionInputs(o: DecideFlags, given?: Plan): DecisionInput {
  const plan = given ?? loadPlan(o.plan ?? DEFAULT_PLAN_PATH, { gpuFile: o.gpuFile });
  const catalog = loadGpuCatalog(o.gpuFile);
  const book = loadPriceBook(o.prices, catalog);
  let current: Gpu;
  let currentSource: DecisionInput["currentSource"];
  const detected = o.gpu !== undefined ? null : detectGpu(catalog);
  if (o.gpu !== undefined) [current, currentSource] = [catalog.find(o.gpu), "--gpu"];
  else if (detected) [current, currentSource] = [detected, "nvidia-smi"];
  else if (plan.currentGpu) [current, currentSource] = [catalog.find(plan.currentGpu), "plan"];
  else [current, currentSource] = [catalog.find(FALLBACK_GPU), "default"];
  const horizonMonths = numArg("--horizon-months", o.horizonMonths, 1, 240);
  const utilization = numArg("--utilization", o.utilization, 0.001, 1);
  const electricityUsdPerKwh = numArg("--electricity", o.electricity, 0, 5);
  const idleWatts = numArg("--idle-watts", o.idleWatts, 0, 2000);
  return {
    plan,
    catalog,
    current,
    currentSource,
    book,
    ...(horizonMonths !== undefined ? { horizonMonths } : {}),
    ...(utilization !== undefined ? { utilization } : {}),
    ...(electricityUsdPerKwh !== undefined ? { electricityUsdPerKwh } : {}),
    ...(idleWatts !== undefined ? { idleWatts } : {}),
  };
}

/** The document in one format; the renderers load only when asked for (Plot and linkedom only for html). */
export async function render(d: Decision, format: string): Promise<string> {
  switch (format) {
    case "md":
      return (await import("../report/markdown.js")).renderMarkdown(d);
    case "json":
      return JSON.stringify(d, null, 2);
    case "html":
      return (await import("../report/html.js")).renderHtml(d);
    default:
      throw new FitlabInputError(`--format must be md, json or html, got "${format}"`);
  }
}

export function decideCommand(): Command {
  return new Command("decide")
    .description("write the hardware decision document for a lab plan: feasibility, costs, recommendation, triggers")
    .option("--plan <file>", "lab plan (YAML); default: the built-in learner's lab")
    .option("--gpu <name>", "what if the current card were this one (default: nvidia-smi, else the plan's, else RTX 5060 Ti 16GB)")
    .option("--gpu-file <yaml>", "extra or overriding GPUs")
    .option("--prices <yaml>", "purchase prices, cloud offers and assumptions overriding data/prices.yaml")
    .option("--horizon-months <n>", "planning horizon in months")
    .option("--utilization <u>", "busy share of the current card (0-1); scales the plan's core work to match")
    .option("--electricity <usd>", "electricity price, USD per kWh")
    .option("--idle-watts <w>", "idle power charged to each owned card (default: the card's own idle draw, 15 W GeForce / 40 W datacenter)")
    .option("--format <f>", "md, json or html", "md")
    .option("--out <file>", "write to a file instead of stdout")
    .option("--no-calibration", "ignore the correction fitted on your runs (fitlab calibrate)")
    .action(async (o: DecideFlags & { format: string; out?: string }) => {
      if (!["md", "json", "html"].includes(o.format)) throw new FitlabInputError(`--format must be md, json or html, got "${o.format}"`);
      writeOut(await render(decide(decisionInputs(o)), o.format), o.out);
      const cal = hasActiveCalibration() ? readCalibration() : null;
      if (cal) process.stderr.write(`fitlab: calibrated figures for ${cal.corrections.map((c) => `${c.gpu} (${c.engine}, ${c.runs} runs)`).join(", ")}; --no-calibration for the shipped model\n`);
    });
}
