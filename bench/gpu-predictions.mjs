// Planner predictions for the GPU measurement bench (bench/gpu_vs_planner.py), computed here with Node
// and shipped as JSON, since the GPU machine may have no Node.
// Run: npm run build && node bench/gpu-predictions.mjs "NVIDIA H100 80GB SXM5" > bench/gpu-predictions.json
import { loadGpuCatalog } from "../dist/hardware/catalog.js";
import { estimate } from "../dist/planner.js";
import { resolveModel } from "../dist/spec/catalog.js";
import { resolveWorkload } from "../dist/workload/resolve.js";

const gpu = loadGpuCatalog().find(process.argv[2] ?? "NVIDIA H100 80GB SXM5");
// 7B-class architectures; full fine-tuning of a 7B model does not fit 80 GB with AdamW states in bf16,
// so full fine-tuning is measured on the 3B of the same family
export const CASES = [
  { id: "qlora-qwen2.5-7b-1024x2", model: "Qwen/Qwen2.5-7B", config: "Qwen__Qwen2.5-7B.json", method: "qlora", seq: 1024, batch: 2, rank: 16, gradCkpt: true },
  { id: "qlora-qwen2.5-7b-2048x1-nockpt", model: "Qwen/Qwen2.5-7B", config: "Qwen__Qwen2.5-7B.json", method: "qlora", seq: 2048, batch: 1, rank: 16, gradCkpt: false },
  { id: "lora-llama3.1-8b-1024x2", model: "meta-llama/Llama-3.1-8B", config: "meta-llama__Llama-3.1-8B.json", method: "lora", seq: 1024, batch: 2, rank: 16, gradCkpt: true },
  { id: "lora-qwen2.5-7b-512x4-nockpt", model: "Qwen/Qwen2.5-7B", config: "Qwen__Qwen2.5-7B.json", method: "lora", seq: 512, batch: 4, rank: 16, gradCkpt: false },
  { id: "full-qwen2.5-3b-1024x2", model: "Qwen/Qwen2.5-3B", config: "Qwen__Qwen2.5-3B.json", method: "full", seq: 1024, batch: 2, rank: 0, gradCkpt: true },
];

const out = CASES.map((c) => {
  const w = resolveWorkload({ kind: c.method, seq: c.seq, batch: c.batch, packed: true, ...(c.method !== "full" ? { rank: c.rank, alpha: 2 * c.rank, targets: "all-linear" } : {}), gradCkpt: c.gradCkpt ? "full" : "none", optimizer: "adamw", loss: "standard", kernels: "none", engine: "fitlab-worker", quant: c.method === "qlora" ? "bnb-nf4-dq" : "none" });
  const e = estimate(resolveModel(c.model), w, gpu);
  return { ...c, gpu: gpu.name, predicted: { allocated_bytes: e.peak.allocated_bytes, reserved_bytes: e.peak.reserved_bytes, device_bytes: e.peak.device_bytes, tokens_per_s: e.tokens_per_s, components: e.components } };
});
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
