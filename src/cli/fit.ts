// `fitlab fit`: the cheapest change that makes an experiment fit, and the longest sequence / largest batch.
import { Command } from "commander";
import { fitAnswer } from "../fit/answer.js";
import { findFit } from "../fit/search.js";
import { loadGpuCatalog } from "../hardware/catalog.js";
import { ensureModel, resolveModel } from "../spec/catalog.js";
import { resolveWorkload } from "../workload/resolve.js";
import { count, gib } from "./format.js";
import { addWorkloadOptions, workloadInputFromFlags, type WorkloadFlags } from "./options.js";
import { print } from "./output.js";

export function fitCommand(): Command {
  const cmd = new Command("fit").description("find the cheapest change that makes an experiment fit a GPU, and the longest sequence / largest batch that fits");
  addWorkloadOptions(cmd)
    .option("--json", "print the result object")
    .option("--no-calibration", "ignore the correction fitted on your runs (fitlab calibrate)")
    .action(async (o: WorkloadFlags & { model: string; gpu: string; gpuFile?: string; json?: boolean }) => {
      const fetched = await ensureModel(o.model);
      if (fetched) process.stderr.write(`fitlab: ${fetched}\n`);
      const spec = resolveModel(o.model);
      const gpu = loadGpuCatalog(o.gpuFile).find(o.gpu);
      const workload = resolveWorkload(workloadInputFromFlags(o), spec);
      const r = findFit(spec, workload, gpu);
      const result = fitAnswer(spec, workload, gpu, r);
      if (o.json) return print(result, true);
      const lines: string[] = [];
      lines.push(`${spec.name} · ${workload.kind} on ${gpu.name} (${gib(gpu.usableBytes)} usable): needs ${gib(r.baseline.peak.minimum_device_bytes)} at least, ${gib(r.baseline.peak.device_bytes)} expected`);
      if (r.baseline.calibration) lines.push(`(calibrated on ${r.baseline.calibration.runs} of your runs: memory x${r.baseline.calibration.memory_factor}; --no-calibration for the shipped model)`);
      if (r.fitsAsIs) lines.push("fits as it is.");
      else if (r.cheapest) {
        lines.push(`cheapest change (${r.cheapest.cost === "none" ? "free" : `costs ${r.cheapest.cost}`}): ${r.cheapest.descriptions.join(" + ")}`);
        lines.push(`  -> ${gib(r.cheapest.estimate.peak.device_bytes)} at ${count(Math.round(r.cheapest.estimate.tokens_per_s))} tokens/s`);
        for (const s of r.singles.slice(1, 6)) lines.push(`also fits: ${s.descriptions.join(" + ")} (${s.cost}) -> ${gib(s.estimate.peak.device_bytes)}`);
      } else lines.push("nothing in the ladder makes it fit this card: it needs a bigger GPU or several GPUs.");
      if (result.max_seq_len !== null) lines.push(`longest sequence that fits${r.cheapest ? " (with the change)" : ""}: ${count(result.max_seq_len)} tokens`);
      if (result.max_batch !== null) lines.push(`largest micro-batch that fits${r.cheapest ? " (with the change)" : ""}: ${result.max_batch}`);
      print(lines.join("\n"), false);
    });
  return cmd;
}
