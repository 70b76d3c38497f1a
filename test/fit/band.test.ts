// Fit search "within the band": the changes with which even the top of the estimate's band fits the card (the
// decision's way out of a tight verdict); the default search (the expected need fits) is unchanged by it.
import { describe, expect, it } from "vitest";
import { CHANGES, findFit } from "../../src/fit/search.js";
import { applyChanges } from "../../src/fit/minimal.js";
import { loadGpuCatalog } from "../../src/hardware/catalog.js";
import { estimateMemory } from "../../src/memory/estimate.js";
import { resolveModel } from "../../src/spec/catalog.js";
import { resolveWorkload } from "../../src/workload/resolve.js";

const cat = loadGpuCatalog();
const spec = resolveModel("Qwen/Qwen2.5-7B");
const gpu = cat.find("GeForce RTX 5060 Ti 16GB");
const change = (id: string) => CHANGES.find((c) => c.id === id)!;
const top = (w: ReturnType<typeof resolveWorkload>) => estimateMemory(spec, w, gpu).highBytes;

describe("fit search within the band", () => {
  it("QLoRA of a 7B at 1152 x 2 with the standard loss: fits as it is, but its band crosses 16 GB; one change brings it all in", () => {
    const w = resolveWorkload({ kind: "qlora", quant: "bnb-nf4-dq", seq: 1152, batch: 2, gradAccum: 8, optimizer: "paged-adamw8bit" });
    expect(findFit(spec, w, gpu).fitsAsIs).toBe(true);
    expect(top(w)).toBeGreaterThan(gpu.usableBytes);
    const r = findFit(spec, w, gpu, { within: "band" });
    expect(r.fitsAsIs).toBe(false);
    expect(r.cheapest!.changes).toHaveLength(1);
    expect(top(r.cheapest!.workload)).toBeLessThanOrEqual(gpu.usableBytes);
    // the cheapest way: a loss that keeps no full fp32 logits, before anything that costs time
    expect(["chunked-loss", "fused-loss"]).toContain(r.cheapest!.changes[0]);
  });

  it("an evaluation pass in batches of 8 comes within the band with half the batch (same results, more passes)", () => {
    const w = resolveWorkload({ kind: "inference_prefill", quant: "bnb-nf4-dq", seq: 1024, batch: 8 });
    expect(top(w)).toBeGreaterThan(gpu.usableBytes);
    const r = findFit(spec, w, gpu, { within: "band" });
    expect(r.cheapest!.changes).toEqual(["halve-eval-batch"]);
    expect(r.cheapest!.workload.batch).toBe(4);
    expect(top(applyChanges(w, [change("halve-eval-batch")]))).toBeLessThanOrEqual(gpu.usableBytes);
    // a prefill of one sequence cannot be halved
    expect(change("halve-eval-batch").apply({ ...w, batch: 1 })).toBeNull();
  });
});
