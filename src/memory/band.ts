// The low-high band around an estimate: +-8% inside the calibrated range (the median error on the
// published cases, `fitlab validate`), +-25% outside it, with a warning that says why.
import type { MemoryContext } from "./context.js";

const CALIBRATED_ENGINES = new Set(["hf-peft", "hf-legacy", "fitlab-worker", "hf-trl", "fms-acceleration", "torchtune", "ms-swift", "qwen-finetune", "unsloth", "hf-generate", "llama-factory", "llama.cpp", "vllm"]);

export function calibrationSpread(ctx: MemoryContext, warnings: string[]): number {
  const { workload, spec } = ctx;
  let spread = 0.08;
  const out = (why: string) => {
    warnings.push(`outside the calibrated range: ${why}`);
    spread = 0.25;
  };
  if (!CALIBRATED_ENGINES.has(workload.engine)) out(`engine ${workload.engine} has no measured cases`);
  if (workload.kind === "attention_extract" || workload.kind === "hidden_extract" || workload.kind === "probe") out(`${workload.kind} has no published measurements (mechanism-only estimate)`);
  if (ctx.peakSeqLen > 65536) out(`sequence length ${ctx.peakSeqLen} is beyond the measured 64K tokens`);
  if (spec.numExperts > 1) out("mixture-of-experts models have no measured cases");
  if (workload.nGpus > 1) out("multi-GPU sharding has no measured cases");
  if (workload.sharding === "none" && workload.nGpus > 1) warnings.push("several GPUs without sharding: each GPU holds a full replica");
  return spread;
}
