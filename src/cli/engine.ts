// `fitlab engine setup` and `fitlab doctor`: the Python worker's environment and what it can do here.
import { spawnSync } from "node:child_process";
import { Command } from "commander";
import { venvDir, workerReady } from "../runs/env.js";
import { setupEngine } from "../runs/setup.js";
import { runJob } from "../runs/worker.js";
import { print } from "./output.js";

export function engineCommand(): Command {
  const engine = new Command("engine").description("the Python worker (torch, transformers, peft, bitsandbytes) that runs experiments");
  engine
    .command("setup")
    .description("create the worker's virtual environment and install its pinned packages from PyPI")
    .action(async () => {
      const status = await setupEngine((s) => process.stderr.write(`[${s.step}/${s.total}] ${s.name}\n`));
      print(status === "ready" ? `worker environment already set up at ${venvDir()}` : `worker environment ready at ${venvDir()}`, false);
    });
  return engine;
}

function nvidiaSmi(): string | null {
  if (process.env.FITLAB_NO_NVIDIA_SMI) return null;
  const r = spawnSync("nvidia-smi", ["--query-gpu=name,memory.total,driver_version,compute_cap", "--format=csv,noheader"], { encoding: "utf8", timeout: 3000 });
  return r.status === 0 ? r.stdout.trim() : null;
}

export function doctorCommand(): Command {
  return new Command("doctor")
    .description("report Python, torch, CUDA, the GPU and its compute capability, kernel support, free VRAM, and what to fix")
    .option("--json", "print the report as JSON")
    .action(async (o: { json?: boolean }) => {
      const smi = nvidiaSmi();
      if (!workerReady()) {
        const report = { worker: "missing", venv: venvDir(), nvidia_smi: smi, problems: ["the worker environment is missing: run `npx fitlab engine setup`"] };
        print(o.json ? report : `worker environment: missing (${venvDir()})\nnvidia-smi: ${smi ?? "none (no NVIDIA GPU or driver)"}\nfix: run \`npx fitlab engine setup\``, o.json);
        // nothing can run here until it is set up: say so in the exit status too (scripts, CI)
        process.exitCode = 1;
        return;
      }
      const r = await runJob("doctor", {});
      const rep = r.report as Record<string, unknown>;
      const problems = (r.problems as string[]) ?? [];
      if (o.json) return print({ worker: "ready", venv: venvDir(), nvidia_smi: smi, ...r }, true);
      const gpus = (rep.gpus as { name: string; compute_capability: string; free_bytes: number; total_bytes: number; torch_has_kernels: boolean }[]) ?? [];
      const lines = [
        `python ${rep.python} · torch ${rep.torch} (CUDA build ${rep.cuda_build ?? "none"}) · transformers ${rep.transformers} · peft ${rep.peft} · bitsandbytes ${rep.bitsandbytes}`,
        `torch kernels for: ${((rep.torch_arch_list as string[]) ?? []).join(" ") || "-"} (Blackwell sm_120: ${rep.torch_has_sm_120 ? "yes" : "NO"})`,
        gpus.length
          ? gpus.map((g) => `GPU ${g.name}: compute capability ${g.compute_capability}, ${(g.free_bytes / 2 ** 30).toFixed(1)} of ${(g.total_bytes / 2 ** 30).toFixed(1)} GiB free, torch kernels ${g.torch_has_kernels ? "yes" : "NO"}`).join("\n")
          : "GPU: none visible to torch (CPU mode)",
        `bitsandbytes 4-bit on CPU: ${rep.bnb_4bit_cpu ? "yes" : `no${rep.bnb_4bit_cpu_error ? ` (${rep.bnb_4bit_cpu_error})` : ""}`}${rep.bnb_4bit_gpu !== undefined ? ` · on GPU: ${rep.bnb_4bit_gpu ? "yes" : "no"}` : ""}`,
        ...problems.map((p) => `to fix: ${p}`),
      ];
      print(lines.join("\n"), false);
    });
}
