// Subcommands beyond the planner's five, registered here.
import type { Command } from "commander";
import { burstCommand } from "./burst.js";
import { calibrateCommand } from "./calibrate.js";
import { decideCommand } from "./decide.js";
import { doctorCommand, engineCommand } from "./engine.js";
import { planCommand } from "./plan.js";
import { demoCommand } from "./demo.js";
import { runCommand } from "./run.js";
import { runsCommand } from "./runs.js";

export function extraCommands(): Command[] {
  return [decideCommand(), planCommand(), burstCommand(), engineCommand(), doctorCommand(), runCommand(), runsCommand(), demoCommand(), calibrateCommand()];
}
