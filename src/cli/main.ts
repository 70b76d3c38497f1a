// The fitlab CLI: a thin adapter over the library. Input errors print one line and exit 2.
import { Command, CommanderError } from "commander";
import { activateCalibration } from "../calibration/correction.js";
import { FitlabInputError } from "../errors.js";
import { estimateCommand } from "./estimate.js";
import { fitCommand } from "./fit.js";
import { gpusCommand } from "./gpus.js";
import { modelsCommand } from "./models.js";
import { validateCommand } from "./validate.js";
import { extraCommands } from "./registry.js";

export function program(): Command {
  const p = new Command("fitlab")
    .description("predict, decide, run and understand LLM experiments on one GPU")
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)");
  for (const c of [estimateCommand(), fitCommand(), validateCommand(), gpusCommand(), modelsCommand(), ...extraCommands()]) p.addCommand(c);
  // the user's calibration (fitlab calibrate) for the commands that estimate, unless --no-calibration
  p.hook("preAction", (_p, cmd) => {
    if (cmd.options.some((opt) => opt.long === "--no-calibration")) activateCalibration(cmd.opts().calibration !== false);
  });
  p.exitOverride();
  for (const c of p.commands) c.exitOverride();
  return p;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    // a command may set a non-zero exit code after printing its findings (plan check)
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version are successes; commander already printed its message for usage errors
      return e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help" ? 0 : 2;
    }
    if (e instanceof FitlabInputError) {
      process.stderr.write(`fitlab: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`fitlab: internal error: ${(e as Error).message}\n`);
    if (process.env.FITLAB_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return 1;
  }
}
