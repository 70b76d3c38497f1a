// Planner predictions for the inspection GPU bench (bench/inspect_gpu.py), computed here with Node and shipped
// as JSON, since the GPU machine may have no Node. The same function `fitlab inspect` records for its runs.
// Run: npm run build && node bench/inspect-gpu-predictions.mjs > bench/inspect-gpu-predictions.json
import { predictInspect } from "../dist/runs/inspect.js";
import { makeContext } from "../dist/memory/context.js";
import { storedBytesPerPrompt } from "../dist/memory/extraction.js";
import { engineProfile } from "../dist/engines/profile.js";
import { resolveModel } from "../dist/spec/catalog.js";
import { resolveWorkload } from "../dist/workload/resolve.js";
import { estimateMemory } from "../dist/memory/estimate.js";

const MODEL = "Qwen/Qwen2.5-7B";
const SEQ = 2048;
const FULL_HEADS = 4;
export const CASES = [
  { id: "attention-qwen2.5-7b-nf4-2048", job: "attention", capture: "recompute" },
  { id: "attention-eager-all-layers-qwen2.5-7b-nf4-2048", job: "attention", capture: "eager" },
  { id: "compare-qwen2.5-7b-nf4-2048", job: "compare" },
  { id: "hidden-qwen2.5-7b-nf4-2048", job: "hidden" },
];

const spec = resolveModel(MODEL);
const out = CASES.map((c) => {
  let allocated;
  if (c.capture === "eager") {
    const w = resolveWorkload({ kind: "attention_extract", quant: "bnb-nf4-dq", seq: SEQ, batch: 1, attentionCapture: "all-layers" });
    allocated = estimateMemory(spec, w).allocatedBytes;
  } else allocated = predictInspect(c.job, MODEL, "nf4", SEQ, "bfloat16", null).allocated_bytes;
  const w = resolveWorkload({ kind: c.job === "hidden" ? "hidden_extract" : "attention_extract", quant: "bnb-nf4-dq", seq: SEQ });
  const disk = storedBytesPerPrompt(makeContext(spec, w, engineProfile(w.engine)), c.job === "attention" ? FULL_HEADS : 0);
  return { ...c, model: MODEL, config: "Qwen__Qwen2.5-7B.json", seq: SEQ, full_heads: c.job === "attention" ? FULL_HEADS : 0, predicted: { allocated_bytes: allocated, disk_bytes_per_prompt: disk } };
});
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
