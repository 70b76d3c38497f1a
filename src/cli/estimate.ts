// `fitlab estimate`: one experiment on one GPU, component by component.
import { Command } from "commander";
import { loadGpuCatalog } from "../hardware/catalog.js";
import { estimate, type Estimate } from "../planner.js";
import { ensureModel, resolveModel } from "../spec/catalog.js";
import { resolveWorkload } from "../workload/resolve.js";
import { count, duration, gib, table } from "./format.js";
import { addWorkloadOptions, intArg, workloadInputFromFlags, type WorkloadFlags } from "./options.js";
import { print } from "./output.js";

export function renderEstimate(e: Estimate): string {
  const rows = Object.entries(e.components)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => [k.replace(/_/g, " "), gib(v)]);
  const w = e.workload;
  const lines = [
    `${e.model} · ${w.kind}${w.lora ? ` r${w.lora.rank} ${w.lora.targets.length === 7 ? "all-linear" : w.lora.targets.join("+")}` : ""}${w.quant !== "none" ? ` · ${w.quant}` : ""} · seq ${w.seqLen} × batch ${w.batch} · ${w.engine} · ${e.gpu}`,
    "",
    table(["component (at the peak)", "memory"], rows),
    "",
    ...(e.peak.gpus > 1 ? [`${e.peak.gpus} GPUs (${w.sharding}${w.kind === "full" ? `, ${w.precision} precision` : ""}): figures are per GPU; all GPUs together ${gib(e.peak.total_device_bytes)}${e.peak.offloaded_host_bytes > 0 ? `; ${gib(e.peak.offloaded_host_bytes)} offloaded to CPU memory` : ""}`] : []),
    `peak (${e.peak.phase}): allocated ${gib(e.peak.allocated_bytes)} · reserved ${gib(e.peak.reserved_bytes)} · device ${gib(e.peak.device_bytes)}  [band ${gib(e.peak.low_bytes)} – ${gib(e.peak.high_bytes)}]`,
    `${e.fits ? "fits" : "does NOT fit"} on ${e.gpu} (${gib(e.gpu_usable_bytes)} usable; ${e.headroom_bytes >= 0 ? `${gib(e.headroom_bytes)} to spare` : `short by ${gib(-e.headroom_bytes)}`})`,
    `speed: ${count(Math.round(e.tokens_per_s))} tokens/s · step ${duration(e.step_seconds)}${e.total_seconds !== null ? ` · total ${duration(e.total_seconds)}` : ""} · bound by ${e.bottleneck}${e.transfer_seconds > 0 ? ` · transfers between GPUs/host ${duration(e.transfer_seconds)} per step` : ""}`,
  ];
  if (e.calibration) lines.push(`calibrated on ${e.calibration.runs} of your runs (fitlab calibrate): memory x${e.calibration.memory_factor}${e.calibration.compute_factor !== null ? `, speed x${e.calibration.compute_factor}` : ""}; --no-calibration for the shipped model`);
  if (e.paged_host_bytes > 0) lines.push(`paged optimizer state in host memory: ${gib(e.paged_host_bytes)}`);
  for (const warn of e.warnings) lines.push(`warning: ${warn}`);
  return lines.join("\n");
}

export function estimateCommand(): Command {
  const cmd = new Command("estimate").description("predict peak VRAM (component by component) and run time of one experiment on one GPU");
  addWorkloadOptions(cmd)
    .option("--dataset-tokens <n>", "training tokens x epochs, for the total run time")
    .option("--json", "print the estimate object")
    .option("--no-calibration", "ignore the correction fitted on your runs (fitlab calibrate)")
    .action(async (o: WorkloadFlags & { model: string; gpu: string; gpuFile?: string; json?: boolean; datasetTokens?: string }) => {
      const fetched = await ensureModel(o.model);
      if (fetched) process.stderr.write(`fitlab: ${fetched}\n`);
      const spec = resolveModel(o.model);
      const gpu = loadGpuCatalog(o.gpuFile).find(o.gpu);
      const workload = resolveWorkload(workloadInputFromFlags(o), spec);
      const datasetTokens = intArg("--dataset-tokens", o.datasetTokens, 1, 1e15);
      const e = estimate(spec, workload, gpu, datasetTokens !== undefined ? { datasetTokens } : {});
      print(o.json ? e : renderEstimate(e), o.json);
    });
  return cmd;
}
