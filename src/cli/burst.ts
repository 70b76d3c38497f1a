// `fitlab burst EXPERIMENT`: a SkyPilot task that runs one plan experiment where the decision would rent it:
// the cheapest cloud GPU that fits it without risk (as planned where possible), else the cheapest tight one.
import path from "node:path";
import { Command } from "commander";
import { renderSkypilotTask, roundHours, skypilotAccelerator, skypilotClusterName, SKYPILOT_KNOWN_GPUS } from "../burst/skypilot.js";
import { feasibilityCell } from "../decide/feasibility.js";
import { preferredCloudRun } from "../decide/strategy.js";
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
    .description("write a SkyPilot task YAML that runs one plan experiment on the cheapest cloud GPU that fits it without risk")
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
      // the decision's own choice among these offers: without risk of running out of memory, as planned where
      // possible, cheapest (src/decide/strategy.ts); first among the cards where every experiment of the chain runs
      // as its run section is written (`fitlab run --dry-run`), since `fitlab run` makes no change of its own
      const asWrittenByGpu = new Map<string, boolean>();
      const runsAsWritten = (gpuName: string): boolean => {
        let fits = asWrittenByGpu.get(gpuName);
        if (fits === undefined) {
          fits = chain.every((e) => (dryRun(e, { gpu: gpuName, planGpu: null, experiments: input.plan.experiments }).estimate as { fits: boolean }).fits);
          asWrittenByGpu.set(gpuName, fits);
        }
        return fits;
      };
      const depsFit = options.filter((opt) => chain.every((e) => e === ex || feasibilityCell(e, opt, input.book.assumptions, input.plan.experiments).fits));
      const pick = (opts: typeof options) => preferredCloudRun({ experiment: ex, cells: opts.map((opt) => feasibilityCell(ex, opt, input.book.assumptions, input.plan.experiments)) });
      const chosen = pick(depsFit.filter((opt) => runsAsWritten(opt.gpu.name))) ?? pick(depsFit);
      if (!chosen) throw new FitlabInputError(`no cloud GPU in the catalog fits ${chain.map((e) => e.key).join(" and ")} (\`fitlab run ${ex.key} --dry-run --gpu NAME\` shows why)`);
      const opt = options.find((x) => x.name === chosen.option)!;
      const planFile = o.plan ? path.relative(process.cwd(), path.resolve(o.plan)) : path.relative(path.resolve(DEFAULT_PLAN_PATH, "../../.."), DEFAULT_PLAN_PATH);
      // the experiments this one reads run first on the same machine: their time is rented too
      const depSeconds = chain.filter((e) => e !== ex).reduce((t, e) => t + feasibilityCell(e, opt, input.book.assumptions, input.plan.experiments).seconds, 0);
      const hours = Math.max((chosen.seconds + depSeconds) / 3600, 0.01) + input.book.assumptions.cloudSetupHoursPerRun;
      const gpus = chosen.gpus || 1;
      // the decision plans the experiment's workload as its stack runs it; `fitlab run` runs the worker with its own
      // automatic loss and kernels, which may already fit where the workload needs changes
      const asWritten = chosen.changes.length > 0 && runsAsWritten(opt.gpu.name);
      const notes = [
        ...(chosen.verdict === "tight" ? [`Tight: the expected peak fits the ${opt.gpu.name}, the top of the estimate's band does not (no cloud GPU in the catalog fits it all), so the run may run out of memory.`] : [`Fits the ${opt.gpu.name} with the estimate's whole band (no risk of running out of memory predicted).`]),
        ...(chosen.changes.length && !asWritten ? [`Only with ${chosen.changes.join(", ")}${chosen.departs_from_plan.length ? ` (${chosen.departs_from_plan.join(", ")})` : ""}: set them in the plan's run section, or the run refuses a predicted out-of-memory.`] : []),
        ...(asWritten ? [`The plan's workload needs ${chosen.changes.join(", ")} on this card; its run section as written fits it already (the worker's automatic loss and kernels: \`fitlab run ${ex.key} --dry-run --gpu "${opt.gpu.name}"\`).`] : []),
      ];
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
        notes,
      });
      writeOut(yaml, o.out);
      if (chosen.verdict === "tight" || chosen.changes.length) process.stderr.write(`note: ${notes.join(" ")}\n`);
      if (o.out) {
        const name = skypilotClusterName(ex.key);
        const launch = o.spot ? `sky jobs launch -n ${name} --secret HF_TOKEN ${o.out}` : `sky launch -c ${name} --secret HF_TOKEN ${o.out}`;
        process.stderr.write(`wrote ${o.out}: ${chain.length > 1 ? `${chain.slice(0, -1).map((e) => e.key).join(", ")} then ` : ""}${ex.key} on ${gpus} x ${opt.gpu.name} (${skypilotAccelerator(opt.gpu.name)}), about ${roundHours(hours)} h, about $${(hours * opt.cloud!.usdPerHour * gpus).toFixed(2)}; launch with: ${launch}\n`);
      }
    });
}
