// The fitlab CLI: a thin adapter over the library. Exit codes: 0 success, 2 bad input or usage (one line on
// stderr, never a stack trace), 1 a failure of the work itself (a run that failed, a full disk).
// Start-up is lazy: only commander loads up front; the command being run imports its own module
// (registry.ts), and the others appear in the help as name and description only.
import { Command, CommanderError } from "commander";
import { FitlabInputError } from "../errors.js";
import { exitCodeOf, messageOf } from "./failure.js";
import { COMMANDS } from "./registry.js";

/** "fitlab plan check" */
function fullName(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * Every command, nested ones included: usage errors throw (exit 2 in main) and print one line; a command
 * that only groups subcommands refuses a missing or unknown subcommand in one line.
 */
function configure(cmd: Command): void {
  cmd.exitOverride();
  cmd.configureOutput({
    outputError: (str, write) => write(`fitlab: ${str.replace(/^error: /, "").replace(/\s+/g, " ").trim()} (see \`${fullName(cmd)} --help\`)\n`),
  });
  const subs = cmd.commands.map((c) => c.name());
  if (cmd.parent && subs.length > 0 && !(cmd as unknown as { _actionHandler: unknown })._actionHandler) {
    cmd.allowExcessArguments(true).action((_o: unknown, self: Command) => {
      const given = self.args[0];
      throw new FitlabInputError(given === undefined ? `\`${fullName(cmd)}\` needs a subcommand: ${subs.join(", ")}` : `unknown subcommand ${JSON.stringify(given.slice(0, 40))} for \`${fullName(cmd)}\`; use ${subs.join(", ")}`);
    });
  }
  for (const c of cmd.commands) configure(c);
}

/** An empty option or argument ("--gpu ''") is refused before any command runs. */
function refuseEmptyValues(_root: Command, action: Command): void {
  for (let c: Command | null = action; c; c = c.parent) {
    for (const [k, v] of Object.entries(c.opts())) {
      if (typeof v === "string" && v.trim() === "") throw new FitlabInputError(`--${kebab(k)} needs a value, got an empty string`);
    }
  }
  for (const a of action.args) if (a.trim() === "") throw new FitlabInputError(`\`${fullName(action)}\` got an empty argument`);
}

/** The command a command line runs: the first word after the options of `fitlab` itself (`help X` runs X's help). */
function commandName(argv: readonly string[]): string | undefined {
  const words = argv.slice(2).filter((a) => !a.startsWith("-"));
  return words[0] === "help" ? words[1] : words[0];
}

/** The program with the command `argv` names loaded in full and every other command as a help stub. */
export async function program(argv: readonly string[] = process.argv): Promise<Command> {
  const p = new Command("fitlab").description("predict, decide, run and understand LLM experiments on one GPU").version("0.1.0");
  const wanted = commandName(argv);
  if (wanted && COMMANDS.some((c) => c.name === wanted)) {
    // a CLI call validates each data file once: zod's JIT fast path costs more to compile than it saves
    (await import("zod")).config({ jitless: true });
  }
  for (const c of COMMANDS) {
    if (c.name === wanted) p.addCommand(await c.load());
    else p.command(c.name).description(c.description);
  }
  p.hook("preAction", refuseEmptyValues);
  // the user's calibration (fitlab calibrate) for the commands that estimate, unless --no-calibration
  p.hook("preAction", async (_p, cmd) => {
    if (cmd.options.some((opt) => opt.long === "--no-calibration")) (await import("../calibration/correction.js")).activateCalibration(cmd.opts().calibration !== false);
  });
  configure(p);
  return p;
}

/** Every command built in full (tests and the dashboard's command list). */
export async function allCommands(): Promise<Command[]> {
  return Promise.all(COMMANDS.map((c) => c.load()));
}

export async function main(argv: string[]): Promise<number> {
  process.exitCode = undefined;
  try {
    await (await program(argv)).parseAsync(argv);
    // a command may set a non-zero exit code after printing its findings (plan check, a failed run)
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version are successes; commander already printed one line for a usage error
      return e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help" ? 0 : 2;
    }
    process.stderr.write(`fitlab: ${messageOf(e)}\n`);
    if (process.env.FITLAB_DEBUG && !(e instanceof FitlabInputError)) process.stderr.write(`${(e as Error).stack}\n`);
    return exitCodeOf(e);
  }
}
