// Subcommands beyond the planner's five, registered here.
import type { Command } from "commander";
import { burstCommand } from "./burst.js";
import { decideCommand } from "./decide.js";
import { planCommand } from "./plan.js";

export function extraCommands(): Command[] {
  return [decideCommand(), planCommand(), burstCommand()];
}
