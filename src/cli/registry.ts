// Subcommands beyond the planner's five (decide, plan, burst, run, ...), registered here.
import type { Command } from "commander";

export function extraCommands(): Command[] {
  return [];
}
