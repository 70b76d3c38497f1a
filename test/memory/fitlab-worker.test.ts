// The planner's fitlab-worker profile: it describes exactly the worker's options (and refuses others), its
// loss, checkpointing, kernel and packing mechanisms move the terms they should, and `fitlab fit` suggests
// only what the worker can run on the named card. The byte counts themselves are measured against the worker
// in test/runs/lean.test.ts.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { findFit, maxSequence } from "../../src/fit/search.js";
import { loadGpuCatalog } from "../../src/hardware/catalog.js";
import { engineProfile } from "../../src/engines/profile.js";
import { makeContext } from "../../src/memory/context.js";
import { estimateMemory } from "../../src/memory/estimate.js";
import { trainingLogitsBytes } from "../../src/memory/logits.js";
import { loadPlan } from "../../src/plan/load.js";
import { settingsFromPlan } from "../../src/cli/run.js";
import { resolveModel } from "../../src/spec/catalog.js";
import { resolveWorkload, type WorkloadInput } from "../../src/workload/resolve.js";
import { expectOneLineError, inputError, runCli } from "../helpers.js";

const qwen7 = resolveModel("Qwen/Qwen2.5-7B");
const card = loadGpuCatalog().find("GeForce RTX 5060 Ti 16GB");
const qlora = (o: Partial<WorkloadInput>) => resolveWorkload({ kind: "qlora", seq: 2048, batch: 1, rank: 16, engine: "fitlab-worker", ...o });
const mem = (o: Partial<WorkloadInput>) => estimateMemory(qwen7, qlora(o), card);
/** the loss term, whatever phase holds the peak */
const lossBytes = (o: Partial<WorkloadInput>, engine = "fitlab-worker") => {
  const w = resolveWorkload({ kind: "qlora", seq: 2048, batch: 1, rank: 16, engine, ...o });
  return trainingLogitsBytes(makeContext(qwen7, w, engineProfile(engine)));
};

describe("the fitlab-worker engine profile", () => {
  it("refuses what the worker cannot do, in one line naming what it offers", () => {
    expect(inputError(() => qlora({ gradCkpt: "selective" })).message).toMatch(/fitlab-worker has no checkpointing mode "selective"; it offers none, full, offload/);
    expect(inputError(() => qlora({ optimizer: "adafactor" })).message).toMatch(/fitlab-worker has no optimizer "adafactor"/);
    expect(inputError(() => resolveWorkload({ kind: "full", engine: "fitlab-worker", optimizerInBackward: true })).message).toMatch(/cannot fuse the optimizer step/);
    expectOneLineError(runCli(["estimate", "--engine", "fitlab-worker", "--grad-ckpt", "selective"]), /fitlab-worker has no checkpointing mode "selective"/);
    // other stacks keep every option
    expect(resolveWorkload({ kind: "qlora", engine: "hf-peft", gradCkpt: "selective" }).gradCkpt).toBe("selective");
  });

  it("defaults to the loss its auto choice takes on a CUDA card (fused), other engines to the standard loss", () => {
    expect(qlora({}).loss).toBe("fused-linear-ce");
    expect(resolveWorkload({ kind: "qlora", engine: "hf-trl" }).loss).toBe("standard");
  });

  it("counts one live chunk for its chunked loss: the term follows the chunk, not the sequence (torchtune-style engines follow the sequence)", () => {
    const worker = (seq: number, chunk: number) => lossBytes({ seq, loss: "chunked", lossChunkTokens: chunk });
    expect(worker(2048, 256)).toBeLessThan(lossBytes({ loss: "standard" }) / 5);
    expect(worker(2048, 128)).toBeLessThan(worker(2048, 256) * 0.6);
    // one chunk of 256 tokens costs the same at 2,048 and 8,192 tokens but for the hidden-state copy
    expect(worker(8192, 256) - worker(2048, 256)).toBeLessThan(worker(2048, 256) / 2);
    const tt = (seq: number) => lossBytes({ seq, loss: "chunked", lossChunkTokens: 256 }, "torchtune");
    expect(tt(8192) / tt(2048)).toBeCloseTo(4, 5);
  });

  it("offloaded checkpointing, Liger kernels and the fused loss each lower the peak; packing's dense mask grows with seq²", () => {
    const full = mem({ loss: "chunked", gradCkpt: "full" });
    expect(mem({ loss: "chunked", gradCkpt: "offload" }).allocatedBytes).toBeLessThan(full.allocatedBytes);
    expect(lossBytes({ loss: "fused-linear-ce" })).toBeLessThan(lossBytes({ loss: "chunked" }));
    const lora = (kernels: "none" | "liger") => estimateMemory(qwen7, resolveWorkload({ kind: "lora", seq: 1024, batch: 1, engine: "fitlab-worker", gradCkpt: "none", kernels }), card).components.activations;
    expect(lora("liger")).toBeLessThan(lora("none"));
    // a single unpadded row needs no mask; packed rows carry [b,1,s,s] plus a saved bias per layer
    const acts = (seq: number, packed: boolean) => estimateMemory(qwen7, qlora({ seq, packed, gradCkpt: "none", loss: "chunked" })).components.activations;
    const maskPart = (seq: number) => acts(seq, true) - acts(seq, false);
    expect(maskPart(2048)).toBeGreaterThan(0);
    expect(maskPart(4096) / maskPart(2048)).toBeCloseTo(4, 5);
  });

  it("fit suggests only the worker's options, and no Liger on a card without bf16 Triton kernels", () => {
    const w = qlora({ seq: 8192, loss: "standard", gradCkpt: "none" });
    const fit = findFit(qwen7, w, card);
    expect(fit.fitsAsIs).toBe(false);
    expect(fit.cheapest).not.toBeNull();
    const all = [...fit.singles, fit.cheapest!].flatMap((o) => o.changes);
    expect(all).not.toContain("optimizer-in-backward");
    for (const o of [...fit.singles, fit.cheapest!]) expect(["none", "full", "offload"]).toContain(o.workload.gradCkpt);
    expect(fit.cheapest!.estimate.fits).toBe(true);
    const t4 = loadGpuCatalog().find("NVIDIA T4");
    const onT4 = findFit(qwen7, w, t4);
    expect([...onT4.singles, ...(onT4.cheapest ? [onT4.cheapest] : [])].flatMap((o) => o.changes)).not.toContain("fused-loss");
    expect([...onT4.singles, ...(onT4.cheapest ? [onT4.cheapest] : [])].flatMap((o) => o.changes)).not.toContain("liger-kernels");
  });

  it("the lean options lengthen the longest QLoRA sequence that fits the 16 GB card", () => {
    const longest = (o: Partial<WorkloadInput>) => maxSequence(qwen7, qlora(o), card);
    const hf = maxSequence(qwen7, resolveWorkload({ kind: "qlora", seq: 2048, rank: 16, engine: "hf-trl" }), card);
    expect(longest({ loss: "chunked", gradCkpt: "full" })).toBeGreaterThan(2 * hf);
    expect(longest({ loss: "fused-linear-ce", kernels: "liger", gradCkpt: "offload", optimizer: "paged-adamw8bit" })).toBeGreaterThan(longest({ loss: "chunked", gradCkpt: "full" }));
  });
});

describe("lean options in a plan's run section", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-lean-plan-"));
  // the plan's dataset must exist (plan check reads the files a run will read)
  fs.writeFileSync(path.join(dir, "t.jsonl"), '{"text": "a b c"}\n');
  const write = (run: string) => {
    const file = path.join(dir, `plan-${Math.random().toString(36).slice(2)}.yaml`);
    fs.writeFileSync(path.join(path.dirname(file), "t.jsonl"), '{"text":"hello"}\n');
    fs.writeFileSync(file, `fitlab_plan: 1\nname: t\ntracks:\n  - id: A\n    name: a\n    experiments:\n      - id: x\n        model: Qwen/Qwen2.5-7B\n        workload: { kind: qlora, seq: 2048, rank: 16 }\n        data: { tokens: 1000 }\n        run: { dataset: { train: t.jsonl }, ${run} }\n`);
    return file;
  };

  it("become the run's settings", () => {
    const plan = loadPlan(write("loss: chunked, loss_chunk_tokens: 128, grad_ckpt: offload, optimizer: paged-adamw8bit, kernels: none, compile: true, packing: true"));
    const [s] = settingsFromPlan(plan.experiments[0]!);
    expect(s).toMatchObject({ loss: "chunked", lossChunkTokens: 128, gradientCheckpointing: "offload", optimizer: "paged-adamw8bit", kernels: "none", compile: true, packing: true });
  });

  it("default to auto loss and kernels, and QLoRA's full checkpointing", () => {
    const [s] = settingsFromPlan(loadPlan(write("max_steps: 10")).experiments[0]!);
    expect(s).toMatchObject({ loss: "auto", kernels: "auto", gradientCheckpointing: "full", optimizer: "adamw", compile: false });
  });

  it("a bad value is one line naming the file line and the key", () => {
    const e = inputError(() => loadPlan(write("optimizer: lion")));
    expect(e.message).toMatch(/line \d+/);
    expect(e.message).toMatch(/optimizer/);
  });

  it("`fitlab run` rejects a bad lean flag in one line", () => {
    expectOneLineError(runCli(["run", "--runs", path.join(dir, "runs"), "--model", dir, "--data", "x.jsonl", "--loss", "fast"]), /--loss must be auto, standard, chunked or fused, got "fast"/);
    expectOneLineError(runCli(["run", "--runs", path.join(dir, "runs"), "--model", dir, "--data", "x.jsonl", "--grad-ckpt", "some"]), /--grad-ckpt must be none, full or offload, got "some"/);
    expectOneLineError(runCli(["run", "--runs", path.join(dir, "runs"), "--model", dir, "--data", "x.jsonl", "--loss-chunk", "0"]), /--loss-chunk must be a whole number of tokens/);
  });
});
