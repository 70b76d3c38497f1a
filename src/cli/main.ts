// The fitlab CLI: a thin adapter over the library. Input errors print one line and exit 2.
// Start-up is lazy: only commander loads up front; the command being run imports its own module
// (registry.ts), and the others appear in the help as name and description only.
import { Command, CommanderError } from "commander";
import { FitlabInputError } from "../errors.js";
import { COMMANDS } from "./registry.js";

/** The command a command line runs: the first word after the options of `fitlab` itself (`help X` runs X's help). */
function commandName(argv: readonly string[]): string | undefined {
  const words = argv.slice(2).filter((a) => !a.startsWith("-"));
  return words[0] === "help" ? words[1] : words[0];
}

/** The program with the command `argv` names loaded in full and every other command as a help stub. */
export async function program(argv: readonly string[] = process.argv): Promise<Command> {
  const p = new Command("fitlab")
    .description("predict, decide, run and understand LLM experiments on one GPU")
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)");
  const wanted = commandName(argv);
  if (wanted && COMMANDS.some((c) => c.name === wanted)) {
    // a CLI call validates each data file once: zod's JIT fast path costs more to compile than it saves
    (await import("zod")).config({ jitless: true });
  }
  for (const c of COMMANDS) {
    if (c.name === wanted) p.addCommand(await c.load());
    else p.command(c.name).description(c.description);
  }
  // the user's calibration (fitlab calibrate) for the commands that estimate, unless --no-calibration
  p.hook("preAction", async (_p, cmd) => {
    if (cmd.options.some((opt) => opt.long === "--no-calibration")) (await import("../calibration/correction.js")).activateCalibration(cmd.opts().calibration !== false);
  });
  p.exitOverride();
  for (const c of p.commands) c.exitOverride();
  return p;
}

/** Every command built in full (tests and the dashboard's command list). */
export async function allCommands(): Promise<Command[]> {
  return Promise.all(COMMANDS.map((c) => c.load()));
}

export async function main(argv: string[]): Promise<number> {
  try {
    await (await program(argv)).parseAsync(argv);
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
