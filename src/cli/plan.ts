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
    .option("--json", "print the problems as JSON")
    .action((file: string, o: { json?: boolean }) => {
      const { plan: p, problems } = checkPlan(file);
      if (o.json) print({ file, ok: problems.length === 0, problems, experiments: p?.experiments.map((e) => e.key) ?? [] }, true);
      else if (problems.length === 0) print(`${file}: ok, ${p!.experiments.length} experiments in ${new Set(p!.experiments.map((e) => e.track)).size} tracks`, false);
      else {
        for (const pr of problems) process.stderr.write(`${file}:${pr.line}: ${pr.path ? `${pr.path}: ` : ""}${pr.message}\n`);
        process.stderr.write(`${problems.length} problem${problems.length > 1 ? "s" : ""}\n`);
      }
      if (problems.length > 0) process.exitCode = 2;
    });
  return plan;
}
