// Every subcommand, registered lazily: its module (and what that module imports: the planner, SQLite, Plot)
// loads only when that command runs, so `fitlab --version` and `fitlab estimate` do not pay for the others.
// To add a command: one entry here, with the same name and description as the Command the module builds
// (test/cli/startup.test.ts checks they agree).
import type { Command } from "commander";

export interface LazyCommand {
  readonly name: string;
  readonly description: string;
  readonly load: () => Promise<Command>;
}

export const COMMANDS: readonly LazyCommand[] = [
  { name: "estimate", description: "predict peak VRAM (component by component) and run time of one experiment on one GPU", load: async () => (await import("./estimate.js")).estimateCommand() },
  { name: "fit", description: "find the cheapest change that makes an experiment fit a GPU, and the longest sequence / largest batch that fits", load: async () => (await import("./fit.js")).fitCommand() },
  { name: "validate", description: "score the planner against measured cases (columns of shared/data/cases-public.csv); --cv source adds leave-one-source-out scores", load: async () => (await import("./validate.js")).validateCommand() },
  { name: "gpus", description: "list the GPU catalog (specs, prices, cloud offers, with sources and dates)", load: async () => (await import("./gpus.js")).gpusCommand() },
  { name: "models", description: "list built-in models, or show one model's parameter counts (name, hub id, config.json, model folder or .gguf file)", load: async () => (await import("./models.js")).modelsCommand() },
  { name: "decide", description: "write the hardware decision document for a lab plan: feasibility, costs, recommendation, triggers", load: async () => (await import("./decide.js")).decideCommand() },
  { name: "plan", description: "work with lab plans", load: async () => (await import("./plan.js")).planCommand() },
  { name: "burst", description: "write a SkyPilot task YAML that runs one plan experiment on the cheapest cloud GPU that fits it without risk", load: async () => (await import("./burst.js")).burstCommand() },
  { name: "engine", description: "the Python worker (torch, transformers, peft, bitsandbytes) that runs experiments", load: async () => (await import("./engine.js")).engineCommand() },
  { name: "doctor", description: "report Python, torch, CUDA, the GPU and its compute capability, kernel support, free VRAM, and what to fix", load: async () => (await import("./engine.js")).doctorCommand() },
  { name: "run", description: "run a plan experiment (one run or a sweep), or a fine-tune given by flags; records predicted and measured figures", load: async () => (await import("./run.js")).runCommand() },
  { name: "runs", description: "the run store: list, show, compare, sweeps, resume, forgetting", load: async () => (await import("./runs.js")).runsCommand() },
  { name: "demo", description: "build a tiny model locally and run, on CPU: Track A (LoRA fine-tune, 3-point learning-rate sweep, forgetting curve); --track B/C/BC: attention, base vs fine-tuned, hidden states and probes", load: async () => (await import("./demo.js")).demoCommand() },
  { name: "ui", description: "the dashboard in the browser: plan (estimate, fit, decision), runs live, compare, on 127.0.0.1 with a token", load: async () => (await import("./ui.js")).uiCommand() },
  { name: "inspect", description: "Tracks B and C: attention, base vs fine-tuned, hidden states and linear probes, as runs with pictures", load: async () => (await import("./inspect.js")).inspectCommand() },
  { name: "calibrate", description: "compare predictions with your finished GPU runs and fit a correction per GPU and engine (memory margin, compute efficiency)", load: async () => (await import("./calibrate.js")).calibrateCommand() },
];
