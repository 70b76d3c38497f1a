// `fitlab burst EXPERIMENT`: a SkyPilot task that runs one plan experiment on the cheapest cloud GPU that fits it.
import path from "node:path";
import { Command } from "commander";
import { renderSkypilotTask, roundHours, skypilotAccelerator, skypilotClusterName, SKYPILOT_KNOWN_GPUS } from "../burst/skypilot.js";
import { feasibilityCell } from "../decide/feasibility.js";
import { hardwareOptions } from "../decide/options.js";
import { FitlabInputError } from "../errors.js";
import { DEFAULT_PLAN_PATH, type PlanExperiment } from "../plan/load.js";
import { decisionInputs, type DecideFlags } from "./decide.js";
import { writeOut } from "./write.js";
import { dryRun } from "./run.js";

/** The experiment after the ones it reads (run.adapter_from, recursively), in the order they must run. */
export function withDependencies(ex: PlanExperiment, all: readonly PlanExperiment[]): PlanExperiment[] {
  const order: PlanExperiment[] = [];
  const visit = (e: PlanExperiment, seen: Set<string>) => {
    if (seen.has(e.key)) throw new FitlabInputError(`${e.key}: run.adapter_from goes round in a circle (${[...seen, e.key].join(" -> ")})`);
    const from = e.run?.adapterFrom;
    const dep = from ? all.find((x) => x.key === from) : undefined;
    if (dep && !order.includes(dep)) visit(dep, new Set([...seen, e.key]));
    if (!order.includes(e)) order.push(e);
  };
  visit(ex, new Set());
  return order;
}

export function burstCommand(): Command {
  return new Command("burst")
    .description("write a SkyPilot task YAML that runs one plan experiment on the cheapest cloud GPU that fits it")
    .argument("<experiment>", "experiment key (TRACK.ID, e.g. S.qlora-70b) or id")
    .option("--plan <file>", "lab plan (default: the built-in plan)")
    .option("--gpu-file <yaml>", "extra or overriding GPUs")
    .option("--prices <yaml>", "cloud offers overriding the catalog")
    .option("--spot", "allow spot instances (managed job with recovery)")
    .option("--disk <gb>", "disk size in GB", "200")
    .option("--bucket <name>", "a bucket (SkyPilot storage) the run folder is copied into when the run ends; required with --spot")
    .option("--out <file>", "write the YAML to a file")
    .option("--no-calibration", "ignore the correction fitted on your runs (fitlab calibrate)")
    .action((key: string, o: DecideFlags & { spot?: boolean; disk: string; out?: string; bucket?: string }) => {
      const input = decisionInputs(o);
      const ex = input.plan.experiments.find((e) => e.key === key || e.id === key);
      if (!ex) throw new FitlabInputError(`no experiment "${key}" in ${input.plan.file}; known: ${input.plan.experiments.map((e) => e.key).join(", ")}`);
      if (ex.cpuOnly) throw new FitlabInputError(`${ex.key} runs on the CPU: nothing to burst`);
      if (!ex.run) throw new FitlabInputError(`${ex.key} has no run section, so \`fitlab run ${ex.key}\` could not run it on the cloud: add one to the plan (model, dataset, settings)`);
      const disk = Number(o.disk);
      if (!Number.isInteger(disk) || disk < 50 || disk > 10000) throw new FitlabInputError(`--disk must be a whole number of GB from 50 to 10000, got "${o.disk}"`);
      // an experiment that reads another's newest run (adapter_from) finds an empty run store on the cloud
      // machine: the task runs that experiment first, on the same card
      const chain = withDependencies(ex, input.plan.experiments);
      const options = hardwareOptions(input.catalog, input.current, input.book).filter((x) => x.kind === "cloud" && SKYPILOT_KNOWN_GPUS.includes(x.gpu.name));
      const cells = options
        .map((opt) => {
          const parts = chain.map((e) => feasibilityCell(e, opt, input.book.assumptions));
          // the decision's cell may fit only after changes (an 8-bit optimizer, another loss) that `fitlab run` does
          // not make: the card must also fit each experiment as the worker runs it (`fitlab run --dry-run`)
          const runnable = parts.every((c) => c.fits) && chain.every((e) => (dryRun(e, { gpu: opt.gpu.name, planGpu: null, experiments: input.plan.experiments }).estimate as { fits: boolean }).fits);
          return { opt, parts, fits: runnable, seconds: parts.reduce((t, c) => t + c.seconds, 0), cost: parts.reduce((t, c) => t + c.cost_usd, 0), gpus: Math.max(...parts.map((c) => c.settings.gpus || 1)) };
        })
        .filter((c) => c.fits);
      if (cells.length === 0) throw new FitlabInputError(`no cloud GPU in the catalog fits ${chain.map((e) => e.key).join(" and ")} as its run section runs it (\`fitlab run ${ex.key} --dry-run --gpu NAME\` shows why)`);
      cells.sort((a, b) => a.cost - b.cost);
      const { opt, seconds } = cells[0]!;
      const planFile = o.plan ? path.relative(process.cwd(), path.resolve(o.plan)) : path.relative(path.resolve(DEFAULT_PLAN_PATH, "../../.."), DEFAULT_PLAN_PATH);
      const hours = Math.max(seconds / 3600, 0.01) + input.book.assumptions.cloudSetupHoursPerRun;
      const gpus = cells[0]!.gpus;
      const yaml = renderSkypilotTask({
        experiment: ex.key,
        gpuName: opt.gpu.name,
        gpuCount: gpus,
        useSpot: o.spot ?? false,
        diskGb: disk,
        fitlabCommand: chain.map((e) => `npx fitlab run ${e.key} --plan ${planFile}`).join(" && "),
        planFile,
        estimatedHours: hours,
        usdPerHour: opt.cloud!.usdPerHour,
        ...(o.bucket !== undefined ? { bucket: o.bucket } : {}),
      });
      writeOut(yaml, o.out);
      if (o.out) {
        const name = skypilotClusterName(ex.key);
        const launch = o.spot ? `sky jobs launch -n ${name} --secret HF_TOKEN ${o.out}` : `sky launch -c ${name} --secret HF_TOKEN ${o.out}`;
        process.stderr.write(`wrote ${o.out}: ${chain.length > 1 ? `${chain.slice(0, -1).map((e) => e.key).join(", ")} then ` : ""}${ex.key} on ${gpus} x ${opt.gpu.name} (${skypilotAccelerator(opt.gpu.name)}), about ${roundHours(hours)} h, about $${(hours * opt.cloud!.usdPerHour * gpus).toFixed(2)}; launch with: ${launch}\n`);
      }
    });
}
