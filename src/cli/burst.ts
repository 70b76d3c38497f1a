// `fitlab burst EXPERIMENT`: a SkyPilot task that runs one plan experiment where the decision would rent it:
// the cheapest cloud GPU that fits it without risk (as planned where possible), else the cheapest tight one.
import path from "node:path";
import { Command } from "commander";
import { renderSkypilotTask, roundHours, skypilotAccelerator, skypilotClusterName, SKYPILOT_KNOWN_GPUS } from "../burst/skypilot.js";
import { feasibilityCell } from "../decide/feasibility.js";
import { preferredCloudRun } from "../decide/strategy.js";
import { hardwareOptions } from "../decide/options.js";
import { FitlabInputError } from "../errors.js";
import { DEFAULT_PLAN_PATH } from "../plan/load.js";
import { decisionInputs, type DecideFlags } from "./decide.js";
import { writeOut } from "./write.js";

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
      const options = hardwareOptions(input.catalog, input.current, input.book).filter((x) => x.kind === "cloud" && SKYPILOT_KNOWN_GPUS.includes(x.gpu.name));
      // the decision's own choice among these offers: without risk of running out of memory, as planned where
      // possible, cheapest (src/decide/strategy.ts)
      const chosen = preferredCloudRun({ experiment: ex, cells: options.map((opt) => feasibilityCell(ex, opt, input.book.assumptions)) });
      if (!chosen) throw new FitlabInputError(`no cloud GPU in the catalog fits ${ex.key}`);
      const opt = options.find((x) => x.name === chosen.option)!;
      const planFile = o.plan ? path.relative(process.cwd(), path.resolve(o.plan)) : path.relative(path.resolve(DEFAULT_PLAN_PATH, "../../.."), DEFAULT_PLAN_PATH);
      const hours = Math.max(chosen.seconds / 3600, 0.01) + input.book.assumptions.cloudSetupHoursPerRun;
      const gpus = chosen.gpus || 1;
      const notes = [
        ...(chosen.verdict === "tight" ? [`Tight: the expected peak fits the ${opt.gpu.name}, the top of the estimate's band does not (no cloud GPU in the catalog fits it all), so the run may run out of memory.`] : [`Fits the ${opt.gpu.name} with the estimate's whole band (no risk of running out of memory predicted).`]),
        ...(chosen.changes.length ? [`Only with ${chosen.changes.join(", ")}${chosen.departs_from_plan.length ? ` (${chosen.departs_from_plan.join(", ")})` : ""}: set them in the plan's run section, or the run refuses a predicted out-of-memory.`] : []),
      ];
      const yaml = renderSkypilotTask({
        experiment: ex.key,
        gpuName: opt.gpu.name,
        gpuCount: gpus,
        useSpot: o.spot ?? false,
        diskGb: disk,
        fitlabCommand: `npx fitlab run ${ex.key} --plan ${planFile}`,
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
        process.stderr.write(`wrote ${o.out}: ${ex.key} on ${gpus} x ${opt.gpu.name} (${skypilotAccelerator(opt.gpu.name)}), about ${roundHours(hours)} h, about $${(hours * opt.cloud!.usdPerHour * gpus).toFixed(2)}; launch with: ${launch}\n`);
      }
    });
}
