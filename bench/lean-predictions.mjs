// Planner predictions for the lean-runner bench (bench/lean_vs_trl.py): each case of that bench, predicted for
// the stack it runs on (fitlab-worker with its options, or hf-trl for TRL SFTTrainer + PEFT), on one GPU.
// Computed here with Node and shipped as JSON, since the GPU machine may have no Node.
// Run: npm run build && node bench/lean-predictions.mjs "GeForce RTX 5060 Ti 16GB" > bench/lean-predictions.json
import { loadGpuCatalog } from "../dist/hardware/catalog.js";
import { estimate } from "../dist/planner.js";
import { resolvedLean, TRAIN_DEFAULTS } from "../dist/runs/train.js";
import { resolveModel } from "../dist/spec/catalog.js";
import { resolveWorkload } from "../dist/workload/resolve.js";

const gpu = loadGpuCatalog().find(process.argv[2] ?? "GeForce RTX 5060 Ti 16GB");
const MODEL = { id: "Qwen/Qwen2.5-7B", config: "Qwen__Qwen2.5-7B.json" };
// QLoRA r16 all linear layers, batch 1, one example of exactly `seq` tokens per step (no padding, no packing)
export const RUNNERS = [
  { runner: "trl", engine: "hf-trl", gradCkpt: "full", loss: "standard", kernels: "none", optimizer: "adamw" },
  { runner: "worker", engine: "fitlab-worker", gradCkpt: "full", loss: "auto", kernels: "auto", optimizer: "adamw" },
  { runner: "worker-offload", engine: "fitlab-worker", gradCkpt: "offload", loss: "auto", kernels: "auto", optimizer: "paged-adamw8bit" },
];
const SEQS = [2048, 8192];

const cases = SEQS.flatMap((seq) =>
  RUNNERS.map((r) => {
    const lean = r.engine === "fitlab-worker" ? resolvedLean({ ...TRAIN_DEFAULTS, loss: r.loss, kernels: r.kernels, device: "cuda" }, gpu) : { loss: r.loss, kernels: r.kernels };
    const w = resolveWorkload({ kind: "qlora", seq, batch: 1, packed: false, rank: 16, alpha: 32, targets: "all-linear", gradCkpt: r.gradCkpt, optimizer: r.optimizer, loss: lean.loss, kernels: lean.kernels, engine: r.engine, quant: "bnb-nf4-dq" });
    const e = estimate(resolveModel(MODEL.id), w, gpu);
    return {
      id: `${r.runner}-${seq}`,
      ...r,
      model: MODEL.id,
      config: MODEL.config,
      seq,
      batch: 1,
      rank: 16,
      planned: { loss: lean.loss, kernels: lean.kernels },
      gpu: gpu.name,
      predicted: { allocated_bytes: e.peak.allocated_bytes, reserved_bytes: e.peak.reserved_bytes, device_bytes: e.peak.device_bytes, tokens_per_s: e.tokens_per_s, phase: e.peak.phase, components: e.components },
    };
  }),
);
process.stdout.write(`${JSON.stringify(cases, null, 2)}\n`);
