// `fitlab plan check FILE`: validate a lab plan without running anything; every problem with its line.
import { Command } from "commander";
import { checkPlan, DEFAULT_PLAN_PATH } from "../plan/load.js";
import { print } from "./output.js";

export function planCommand(): Command {
  const plan = new Command("plan").description("work with lab plans");
  plan
    .command("check")
    .description("check a lab plan and list every problem with its line")
    .argument("[file]", "plan file (default: the built-in plan)", DEFAULT_PLAN_PATH)
    .option("--gpu-file <yaml>", "extra or overriding GPUs (as for decide), for the plan's current_gpu")
    .option("--json", "print the problems as JSON")
    .action((file: string, o: { json?: boolean; gpuFile?: string }) => {
      const { plan: p, problems } = checkPlan(file, { gpuFile: o.gpuFile });
      if (o.json) print({ file, ok: problems.length === 0, problems, experiments: p?.experiments.map((e) => e.key) ?? [] }, true);
      else if (problems.length === 0) print(`${file}: ok, ${p!.experiments.length} experiments in ${new Set(p!.experiments.map((e) => e.track)).size} tracks`, false);
      else {
        // one line per problem; a count only when there are several
        for (const pr of problems) process.stderr.write(`fitlab: ${file}:${pr.line}: ${pr.path ? `${pr.path}: ` : ""}${pr.message}\n`);
        if (problems.length > 1) process.stderr.write(`fitlab: ${problems.length} problems\n`);
      }
      if (problems.length > 0) process.exitCode = 2;
    });
  return plan;
}
