// What autograd keeps per decoder layer, measured on the real stack (transformers + PEFT + bitsandbytes on the
// CPU, tiny Llama built here) and held against the planner's per-layer term (src/memory/activations.ts). The
// cases separate the mechanisms: PEFT's fp32 adapters on a 16-bit layer copy each adapted module's input
// (all linears, and q/v only), a 32-bit layer shares it, full fine-tuning keeps each input once, and a 4-bit
// base computes in fp32 after PEFT's k-bit preparation and in bf16 without it. Then a whole checkpointed step:
// the most bytes alive at once against the planner's recompute phase, which adds the moment a recomputed layer
// passes through (PEFT's fp32 LoRA output on up_proj, or the SwiGLU backward's gradients).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { engineProfile } from "../../src/engines/profile.js";
import { layerSavedBytesPerToken } from "../../src/memory/activations.js";
import { makeContext } from "../../src/memory/context.js";
import { estimateMemory } from "../../src/memory/estimate.js";
import { loadGpuCatalog } from "../../src/hardware/catalog.js";
import { ENGINE_DIR, venvPython, workerReady } from "../../src/runs/env.js";
import { resolveModel } from "../../src/spec/catalog.js";
import { resolveWorkload, type WorkloadInput } from "../../src/workload/resolve.js";

const CHECKS = fileURLToPath(new URL("./saved_checks.py", import.meta.url));
const ready = workerReady();
if (!ready && process.env.CI) throw new Error("CI must run `npx fitlab engine setup` before the tests (see .ci/run)");

// grouped-query attention (4 query heads, 2 KV heads) so q and k/v widths differ
const SHAPE = { hidden: 256, intermediate: 704, heads: 4, kv_heads: 2, vocab: 1000, rank: 16, batch: 2, seq: 256 };
const ALL = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

interface Case {
  readonly python: { kind: "lora" | "qlora" | "full"; dtype: "bf16" | "fp32"; targets?: string[]; prepare?: boolean };
  readonly planner: WorkloadInput;
}
const common = { seq: SHAPE.seq, batch: SHAPE.batch, gradCkpt: "none", attn: "sdpa", rank: SHAPE.rank, dropout: 0 } as const;
const CASES: Record<string, Case> = {
  "LoRA on every linear of a bf16 model (fp32 adapters: one fp32 input copy per adapted module)": {
    python: { kind: "lora", dtype: "bf16", targets: ALL },
    planner: { ...common, kind: "lora", dtype: "bf16", targets: "all-linear", engine: "hf-peft" },
  },
  "LoRA on q and v of a bf16 model": {
    python: { kind: "lora", dtype: "bf16", targets: ["q_proj", "v_proj"] },
    planner: { ...common, kind: "lora", dtype: "bf16", targets: "qv", engine: "hf-peft" },
  },
  "LoRA on every linear of an fp32 model (adapter and input share a dtype: the input is kept once)": {
    python: { kind: "lora", dtype: "fp32", targets: ALL },
    planner: { ...common, kind: "lora", dtype: "fp32", targets: "all-linear", engine: "hf-peft" },
  },
  "full fine-tuning in bf16": {
    python: { kind: "full", dtype: "bf16" },
    planner: { ...common, kind: "full", dtype: "bf16", engine: "hf-peft", rank: undefined, dropout: undefined },
  },
  "QLoRA (NF4) after prepare_model_for_kbit_training: the layer computes in fp32": {
    python: { kind: "qlora", dtype: "bf16", targets: ALL, prepare: true },
    planner: { ...common, kind: "qlora", quant: "bnb-nf4", dtype: "bf16", targets: "all-linear", engine: "hf-peft" },
  },
  "QLoRA (NF4) without it (LLaMA-Factory): bf16 layer, fp32 adapters": {
    python: { kind: "qlora", dtype: "bf16", targets: ALL, prepare: false },
    planner: { ...common, kind: "qlora", quant: "bnb-nf4", dtype: "bf16", targets: "all-linear", engine: "llama-factory" },
  },
};

// a checkpointed step: a small vocabulary so the loss is not the peak, eight layers of checkpoints
const PEAK_SHAPE = { ...SHAPE, hidden: 512, intermediate: 1376, heads: 8, kv_heads: 4, vocab: 256, seq: 1024, layers: 8 };
const PEAKS: Record<string, Case & { checkpointing: "reentrant" | "non-reentrant" }> = {
  "LoRA on every linear of a bf16 model": { ...CASES["LoRA on every linear of a bf16 model (fp32 adapters: one fp32 input copy per adapted module)"]!, checkpointing: "non-reentrant" },
  "LoRA on q and v of a bf16 model": { ...CASES["LoRA on q and v of a bf16 model"]!, checkpointing: "reentrant" },
  "LoRA on every linear of an fp32 model": { ...CASES["LoRA on every linear of an fp32 model (adapter and input share a dtype: the input is kept once)"]!, checkpointing: "non-reentrant" },
  "full fine-tuning in bf16": { ...CASES["full fine-tuning in bf16"]!, checkpointing: "non-reentrant" },
  "QLoRA after prepare_model_for_kbit_training": { ...CASES["QLoRA (NF4) after prepare_model_for_kbit_training: the layer computes in fp32"]!, checkpointing: "reentrant" },
};

let measured: Record<string, number>;
let peaks: Record<string, number>;
let config: string;
let peakConfig: string;

describe.runIf(ready)("bytes autograd keeps per decoder layer, measured on transformers + PEFT + bitsandbytes", () => {
  beforeAll(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-saved-"));
    config = path.join(dir, "config.json");
    fs.writeFileSync(
      config,
      JSON.stringify({ architectures: ["LlamaForCausalLM"], model_type: "llama", hidden_size: SHAPE.hidden, num_hidden_layers: 4, intermediate_size: SHAPE.intermediate, num_attention_heads: SHAPE.heads, num_key_value_heads: SHAPE.kv_heads, vocab_size: SHAPE.vocab, max_position_embeddings: 4096, rms_norm_eps: 1e-6, tie_word_embeddings: false, torch_dtype: "bfloat16", hidden_act: "silu" }),
    );
    peakConfig = path.join(dir, "peak", "config.json");
    fs.mkdirSync(path.dirname(peakConfig));
    fs.writeFileSync(
      peakConfig,
      JSON.stringify({ architectures: ["LlamaForCausalLM"], model_type: "llama", hidden_size: PEAK_SHAPE.hidden, num_hidden_layers: PEAK_SHAPE.layers, intermediate_size: PEAK_SHAPE.intermediate, num_attention_heads: PEAK_SHAPE.heads, num_key_value_heads: PEAK_SHAPE.kv_heads, vocab_size: PEAK_SHAPE.vocab, max_position_embeddings: 4096, rms_norm_eps: 1e-6, tie_word_embeddings: false, torch_dtype: "bfloat16", hidden_act: "silu" }),
    );
    const cases = Object.fromEntries(Object.entries(CASES).map(([k, c]) => [k, c.python]));
    const peakCases = Object.fromEntries(Object.entries(PEAKS).map(([k, c]) => [k, { ...c.python, checkpointing: c.checkpointing }]));
    const r = spawnSync(venvPython(), [CHECKS, JSON.stringify({ cases, shape: SHAPE, peaks: peakCases, peak_shape: PEAK_SHAPE })], { encoding: "utf8", env: { ...process.env, PYTHONPATH: ENGINE_DIR }, maxBuffer: 16 << 20 });
    if (r.status !== 0) throw new Error(`saved_checks.py failed: ${r.stderr.split("\n").slice(-8).join("\n")}`);
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { per_layer: Record<string, number>; peak: Record<string, number> };
    measured = out.per_layer;
    peaks = out.peak;
  }, 600_000);

  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: the planner's per-layer bytes within 0.5 %`, () => {
      const spec = resolveModel(config);
      const w = resolveWorkload(c.planner);
      const planned = layerSavedBytesPerToken(makeContext(spec, w, engineProfile(w.engine)), SHAPE.seq);
      const got = measured[name]!;
      expect(got).toBeGreaterThan(1000); // the measurement saw the layer's tensors
      expect(Math.abs(planned - got) / got).toBeLessThan(0.005);
    });
  }

  for (const [name, c] of Object.entries(PEAKS)) {
    it(`a checkpointed step (${c.checkpointing}), ${name}: the planner's peak of activations and gradients within 8 %`, () => {
      const w = resolveWorkload({ ...c.planner, seq: PEAK_SHAPE.seq, gradCkpt: "full", loss: "standard", optimizer: "sgd" });
      const m = estimateMemory(resolveModel(peakConfig), w, loadGpuCatalog().find("NVIDIA A100 80GB SXM4"));
      // what the step adds to the weights and adapters alive before it (the CPU has no context or allocator)
      const k = m.components;
      const planned = k.activations + k.logits_and_loss + k.gradients + k.optimizer_step + k.gathered_params;
      const got = peaks[name]!;
      expect(m.peakPhase).toBe("recompute");
      expect(Math.abs(planned - got) / got).toBeLessThan(0.08);
    });
  }

  it("the cases tell the mechanisms apart: a bf16 layer with fp32 adapters keeps over 1.4 x what full bf16 training keeps", () => {
    // a bf16 layer with fp32 adapters keeps almost as much as an fp32 layer, far more than full bf16 training
    expect(measured[Object.keys(CASES)[0]!]!).toBeGreaterThan(1.4 * measured["full fine-tuning in bf16"]!);
  });
});
