// Minimal change lists: a step made redundant by a later, stronger step is dropped, and no listed step can go.
import { describe, expect, it } from "vitest";
import { CHANGES, findFit } from "../../src/fit/search.js";
import { applyChanges, dropSuperseded, pruneChanges, SUPERSEDED_BY } from "../../src/fit/minimal.js";
import { loadGpuCatalog } from "../../src/hardware/catalog.js";
import { estimateMemory, fitsIn } from "../../src/memory/estimate.js";
import { resolveModel } from "../../src/spec/catalog.js";
import { resolveWorkload } from "../../src/workload/resolve.js";

const cat = loadGpuCatalog();
const spec = resolveModel("Qwen/Qwen2.5-7B");
const change = (id: string) => CHANGES.find((c) => c.id === id)!;
const fits = (w: ReturnType<typeof resolveWorkload>, gpu: string) => fitsIn(estimateMemory(spec, w, cat.find(gpu)), cat.find(gpu).usableBytes);

describe("minimal change lists", () => {
  it("bf16 full fine-tuning of a 7B model on an RTX 5090: every remaining change is needed", () => {
    const w = resolveWorkload({ kind: "full", seq: 1024, batch: 2, gradAccum: 8, optimizer: "adamw" });
    const r = findFit(spec, w, cat.find("GeForce RTX 5090"), { allow: (c) => c.cost !== "experiment" });
    expect(r.fitsAsIs).toBe(false);
    const ids = r.cheapest!.changes;
    expect(ids.length).toBeGreaterThan(0);
    expect(fits(r.cheapest!.workload, "GeForce RTX 5090")).toBe(true);
    for (const drop of ids) {
      const rest = ids.filter((x) => x !== drop).map(change);
      expect(fits(applyChanges(w, rest), "GeForce RTX 5090"), `still fits without ${drop}`).toBe(false);
    }
    for (const [weak, strong] of Object.entries(SUPERSEDED_BY)) expect(ids.includes(weak) && ids.includes(strong)).toBe(false);
  });

  it("pruning drops a step that a later step superseded", () => {
    // chunked loss, then fused loss: the fused loss alone is what the run uses
    const w = resolveWorkload({ kind: "qlora", quant: "bnb-nf4-dq", seq: 1024, batch: 10, gradAccum: 1 });
    const gpu = cat.find("GeForce RTX 5060 Ti 16GB");
    const steps = [change("chunked-loss"), change("fused-loss"), change("offload-checkpointing")];
    const applied = applyChanges(w, steps);
    expect(fitsIn(estimateMemory(spec, applied, gpu), gpu.usableBytes)).toBe(true);
    const kept = pruneChanges(spec, w, gpu, steps).map((c) => c.id);
    expect(kept).not.toContain("chunked-loss");
    expect(kept).toContain("fused-loss");
  });

  it("a merged list keeps only the stronger step of each pair", () => {
    expect(dropSuperseded(["chunked-loss", "fused-loss", "grad-checkpointing"])).toEqual(["fused-loss", "grad-checkpointing"]);
    expect(dropSuperseded(["halve-batch", "batch-1", "adamw-8bit"])).toEqual(["batch-1", "adamw-8bit"]);
  });
});
