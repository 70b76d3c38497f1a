// GPTQ decode through transformers' kernels: from a row count that depends on the kernel generation, the packed
// weight is reconstructed to fp16 and multiplied by cuBLAS (src/engines/versions.ts gptqReconstructRows).
// Named case: optimum tests/benchmark/README.md 'GPTQ benchmark / Generation benchmark results' (cases M089,
// M091, M093 of test/fixtures/cases-public.csv): Llama-2-13b-chat on an A100 80GB, 512 + 512 tokens, auto-gptq
// 0.4 with the ExLlama kernel. At batch 16 the GPTQ model decodes at 167.68 tok/s, slower than fp16 (228.76).
import { describe, expect, it } from "vitest";
import { engineProfile } from "../../src/engines/profile.js";
import { gptqReconstructRows, parseVersions } from "../../src/engines/versions.js";
import { loadGpuCatalog } from "../../src/hardware/catalog.js";
import { makeContext } from "../../src/memory/context.js";
import { resolveModel } from "../../src/spec/catalog.js";
import { estimateTime, gptqReconstructs } from "../../src/time/throughput.js";
import { resolveWorkload, type WorkloadInput } from "../../src/workload/resolve.js";

const gpu = loadGpuCatalog().find("NVIDIA A100 80GB SXM4");
const spec = resolveModel("meta-llama/Llama-2-13b-chat-hf");
const decode = (quant: string, batch: number, engineVersion: string) =>
  resolveWorkload({ kind: "inference_decode", quant, dtype: "fp16", batch, promptTokens: 512, newTokens: 512, attn: "eager", engine: "hf-generate", engineVersion } satisfies WorkloadInput, spec);

describe("GPTQ reconstruct path (ExLlama v1 / v2)", () => {
  it("thresholds follow the kernel generation: auto-gptq < 0.5 at 8 rows, ExLlamaV2 above 50", () => {
    expect(gptqReconstructRows(parseVersions("auto-gptq 0.4 (exllama kernel)"))).toBe(8);
    expect(gptqReconstructRows(parseVersions("auto-gptq 0.7.1; transformers 4.46.0"))).toBe(50);
    expect(gptqReconstructRows(parseVersions(""))).toBe(50);
  });

  it("applies to transformers' GPTQ kernels at batch 16 only, not at batch 1, not to vLLM or unquantized weights", () => {
    const ctx = (w: ReturnType<typeof decode>) => makeContext(spec, w, engineProfile(w.engine), gpu.computeCapability);
    expect(gptqReconstructs(ctx(decode("gptq-int4", 16, "auto-gptq 0.4")), 16)).toBe(true);
    expect(gptqReconstructs(ctx(decode("gptq-int4", 1, "auto-gptq 0.4")), 1)).toBe(false);
    expect(gptqReconstructs(ctx(decode("gptq-int4", 16, "auto-gptq 0.7")), 16)).toBe(false);
    expect(gptqReconstructs(ctx(decode("none", 16, "auto-gptq 0.4")), 16)).toBe(false);
    const vllm = resolveWorkload({ kind: "inference_decode", quant: "gptq-int4", dtype: "fp16", batch: 16, promptTokens: 512, newTokens: 512, engine: "vllm" } satisfies WorkloadInput, spec);
    expect(gptqReconstructs(ctx(vllm), 16)).toBe(false);
  });

  it("optimum's bs16 GPTQ decode (167.68 tok/s, slower than fp16's 228.76) within 25 % (20 % low since the hf attention efficiency is also fitted on the long-context H20 rows), and below fp16", () => {
    const gptq = estimateTime(spec, decode("gptq-int4", 16, "auto-gptq 0.4 (exllama kernel)"), gpu).tokensPerS;
    const fp16 = estimateTime(spec, decode("none", 16, ""), gpu).tokensPerS;
    expect(Math.abs(gptq - 167.68) / 167.68).toBeLessThanOrEqual(0.25);
    expect(gptq).toBeLessThan(fp16);
    // without the reconstruct path (ExLlamaV2 at 16 rows) the packed weights stream faster than fp16
    expect(estimateTime(spec, decode("gptq-int4", 16, "auto-gptq 0.7"), gpu).tokensPerS).toBeGreaterThan(fp16);
  });
});
