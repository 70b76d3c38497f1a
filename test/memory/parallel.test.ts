// Multi-GPU memory per GPU against the documented formulas: the ZeRO paper (Rajbhandari et al. 2020, §5 and
// Figure 1: model states 2Ψ + 2Ψ + KΨ with K = 12 for mixed-precision Adam) and DeepSpeed's own estimators
// (deepspeed/runtime/zero/stage_1_and_2.py estimate_zero2_model_states_mem_needs, stage3.py
// estimate_zero3_model_states_mem_needs). Ψ is the parameter count, N the data-parallel GPUs.
import { describe, expect, it } from "vitest";
import { engineProfile } from "../../src/engines/profile.js";
import { makeContext } from "../../src/memory/context.js";
import { estimateMemory } from "../../src/memory/estimate.js";
import { largestModuleParams, modelStates } from "../../src/memory/model-states.js";
import { resolveModel } from "../../src/spec/catalog.js";
import { resolveWorkload, type WorkloadInput } from "../../src/workload/resolve.js";
import { inputError } from "../helpers.js";

const llama = resolveModel("meta-llama/Llama-3.1-8B");
const PSI = llama.params.total; // 8,030,261,248

function states(input: Partial<WorkloadInput>) {
  const w = resolveWorkload({ kind: "full", optimizer: "adamw-fused", gradCkpt: "full", ...input } as WorkloadInput);
  const ctx = makeContext(llama, w, engineProfile(w.engine));
  const ms = modelStates(ctx);
  // steady model states: parameters, gradients and optimizer state held between steps (ZeRO's definition)
  return { ms, w, ctx, steady: ms.weights + ms.gradientsPersistent + ms.optimizerState, atStep: ms.weights + ms.gradientsAtStep + ms.optimizerState };
}

describe("ZeRO and DDP per-GPU model states (mixed precision AdamW, K = 12)", () => {
  for (const n of [2, 4, 8, 64]) {
    it(`DDP on ${n} GPUs keeps the whole 16Ψ on every GPU (ZeRO paper baseline), plus the Reducer's gradient buckets`, () => {
      const { ms, atStep, w } = states({ nGpus: n, sharding: "ddp", precision: "mixed" });
      expect(w.precision).toBe("mixed");
      // torch AMP layout: fp32 parameters (4) + fp32 gradients (4) + Adam m, v (8) = 16 bytes per parameter
      expect(ms.weights + ms.optimizerState).toBe(12 * PSI);
      expect(atStep).toBe(16 * PSI + 4 * PSI); // + one bucket copy of the fp32 gradients
    });
    it(`ZeRO-1 on ${n} GPUs: 2Ψ + 2Ψ + 12Ψ/N`, () => {
      const { steady } = states({ nGpus: n, sharding: "zero1" });
      expect(steady).toBe(2 * PSI + 2 * PSI + Math.round((12 * PSI) / n));
    });
    it(`ZeRO-2 on ${n} GPUs: 2Ψ + (2 + 12)Ψ/N, and the fp32 gradient partition (4Ψ/N) at the step`, () => {
      const { steady, atStep } = states({ nGpus: n, sharding: "zero2" });
      expect(steady).toBe(2 * PSI + Math.round((2 * PSI) / n) + Math.round((12 * PSI) / n));
      expect(atStep - steady).toBe(Math.round((4 * PSI) / n));
      // DeepSpeed's estimator (4Ψ + 16Ψ/N) counts the full 16-bit gradients before reduction: an upper bound
      expect(atStep).toBeLessThanOrEqual(4 * PSI + Math.round((16 * PSI) / n) + n);
    });
    it(`ZeRO-3 on ${n} GPUs: largest_layer_memory + 18Ψ/N, DeepSpeed's estimate_zero3_model_states_mem_needs`, () => {
      const { ms, atStep } = states({ nGpus: n, sharding: "zero3" });
      const largest = largestModuleParams(makeContext(llama, resolveWorkload({ kind: "full" }), engineProfile("hf-peft")));
      expect(largest).toBe(128256 * 4096); // the embedding (and the untied lm_head) is the largest module
      expect(atStep + ms.gathered).toBeCloseTo(4 * largest + (18 * PSI) / n, -2);
    });
  }
  it("ZeRO offload: 2Ψ on the GPU for stage 2 + optimizer offload; 4·largest (+2Ψ/N) for stage 3", () => {
    const z2 = states({ nGpus: 8, sharding: "zero2-offload" });
    expect(z2.atStep).toBe(2 * PSI);
    expect(z2.ms.hostBytes).toBeGreaterThan(12 * PSI);
    const largest = 128256 * 4096;
    const z3opt = states({ nGpus: 8, sharding: "zero3", offload: "optimizer" });
    expect(z3opt.atStep + z3opt.ms.gathered).toBe(4 * largest + Math.round((2 * PSI) / 8));
    const z3all = states({ nGpus: 8, sharding: "zero3-offload" });
    expect(z3all.atStep + z3all.ms.gathered).toBe(4 * largest);
  });
  it("FSDP full shard divides every state by N; hybrid shard only by the node's GPUs", () => {
    const full = states({ nGpus: 16, sharding: "fsdp", precision: "mixed" });
    const hybrid = states({ nGpus: 16, gpusPerNode: 8, sharding: "fsdp-hybrid", precision: "mixed" });
    expect(full.atStep).toBeCloseTo((16 * PSI) / 16, -2); // fp32 parameters, gradients and Adam, all sharded
    expect(hybrid.ms.weights).toBe(Math.round((4 * PSI) / 8));
    // the root unit (embeddings + lm_head) stays gathered: 2 x 128256 x 4096 bf16 parameters at least
    expect(full.ms.gathered).toBeGreaterThan(2 * 128256 * 4096 * 2);
  });
  it("pure bf16 full fine-tuning is 8 bytes per parameter; mixed adds fp32 master weights (16)", () => {
    expect(states({ precision: "pure" }).atStep).toBe(8 * PSI); // adamw-fused: no foreach temporary
    expect(states({ precision: "mixed" }).atStep).toBe(16 * PSI);
  });
  it("DeepSpeed runs keep fp32 master weights by default; torchtune FSDP stays pure bf16", () => {
    expect(states({ nGpus: 4, sharding: "zero3" }).w.precision).toBe("mixed");
    expect(states({ nGpus: 4, sharding: "fsdp", engine: "torchtune" }).w.precision).toBe("pure");
  });
  it("QLoRA under FSDP shards the 4-bit base over the GPUs", () => {
    const one = estimateMemory(llama, resolveWorkload({ kind: "qlora", seq: 2048 }));
    const four = estimateMemory(llama, resolveWorkload({ kind: "qlora", seq: 2048, nGpus: 4, sharding: "fsdp" }));
    expect(four.components.weights).toBe(Math.round(one.components.weights / 4));
    expect(four.gpus).toBe(4);
    expect(four.totalDeviceBytes).toBe(four.deviceBytes * 4);
  });
  it("refuses strategies that do not apply, with one line", () => {
    expect(inputError(() => resolveWorkload({ kind: "full", nGpus: 2, sharding: "tp" })).message).toMatch(/tp for training is not modelled/);
    expect(inputError(() => resolveWorkload({ kind: "inference_decode", nGpus: 2, sharding: "zero3" })).message).toMatch(/use tp, pp or device-map/);
  });
});

describe("multi-GPU inference per GPU", () => {
  const mixtral = resolveModel("mistralai/Mixtral-8x7B-v0.1");
  const one = estimateMemory(mixtral, resolveWorkload({ kind: "inference_decode", promptTokens: 1024, newTokens: 256 }));
  it("Mixtral on two GPUs with device_map=auto puts half the weights on each", () => {
    const two = estimateMemory(mixtral, resolveWorkload({ kind: "inference_decode", promptTokens: 1024, newTokens: 256, nGpus: 2 }));
    expect(two.components.weights).toBe(Math.round(one.components.weights / 2));
    expect(two.deviceBytes).toBeLessThan(one.deviceBytes * 0.55);
    expect(two.totalDeviceBytes).toBe(2 * two.deviceBytes);
  });
  it("tensor parallel splits weights and KV heads, replicating KV heads when there are fewer than GPUs", () => {
    const w = (n: number) => resolveWorkload({ kind: "inference_decode", promptTokens: 4096, newTokens: 256, nGpus: n, sharding: "tp", engine: "hf-generate" });
    const t2 = estimateMemory(mixtral, w(2));
    expect(t2.components.weights).toBe(Math.round(one.components.weights / 2));
    const t16 = estimateMemory(mixtral, w(16)); // 8 KV heads over 16 GPUs: one head per GPU, replicated
    const t8 = estimateMemory(mixtral, w(8));
    expect(t16.components.kv_cache).toBe(t8.components.kv_cache);
  });
});
