// The decision on the built-in plan: feasibility, the recommendation, triggers, and the document itself.
import { describe, expect, it } from "vitest";
import { decide, type Decision } from "../../src/decide/decision.js";
import { loadPriceBook } from "../../src/decide/options.js";
import { loadGpuCatalog } from "../../src/hardware/catalog.js";
import { loadPlan } from "../../src/plan/load.js";
import { renderHtml } from "../../src/report/html.js";
import { renderMarkdown } from "../../src/report/markdown.js";

const catalog = loadGpuCatalog();
const plan = loadPlan();
const run = (gpu: string, extra = {}): Decision => decide({ plan, catalog, current: catalog.find(gpu), currentSource: "plan", book: loadPriceBook(), ...extra });
const cell = (d: Decision, key: string) => d.experiments.find((e) => e.key === key)!.options[0]!;

describe("fitlab decide on the default plan", () => {
  const d = run("GeForce RTX 5060 Ti 16GB");
  it("basic QLoRA of Qwen2.5-7B fits the 16 GB card; full fine-tuning of a 7B model in bf16 does not", () => {
    expect(cell(d, "A.qlora-basic").fits).toBe(true);
    expect(cell(d, "A.qlora-basic").changes).toEqual([]);
    expect(cell(d, "S.full-ft-7b").fits).toBe(false);
    expect(cell(d, "S.full-ft-7b").bottleneck).toBe("memory capacity");
    expect(d.infeasible.map((i) => i.experiment)).toContain("S.full-ft-7b");
  });
  it("every core experiment runs on the current card", () => {
    for (const e of d.experiments.filter((x) => !x.stretch)) expect(e.options[0]!.fits).toBe(true);
  });
  it("with an A100 80GB as the current card, full fine-tuning of a 7B model is feasible and its settings are named", () => {
    const a = run("NVIDIA A100 80GB SXM4");
    const c = cell(a, "S.full-ft-7b");
    expect(c.fits).toBe(true);
    expect(c.settings).toMatchObject({ kind: "full", computeDtype: "bf16", optimizer: expect.any(String), batch: expect.any(Number), gradCkpt: expect.any(String) });
    expect(c.peak_bytes).toBeLessThanOrEqual(catalog.find("NVIDIA A100 80GB SXM4").usableBytes);
  });
  it("the multi-GPU experiment can only be rented, with its GPU count", () => {
    const e = d.experiments.find((x) => x.key === "S.multi-gpu")!;
    expect(e.options[0]!.bottleneck).toBe("gpu count");
    const cloud = e.options.filter((o) => o.kind === "cloud" && o.fits);
    expect(cloud.length).toBeGreaterThan(0);
    expect(cloud[0]!.settings.gpus).toBe(4);
  });
  it("recommends staying and bursting at the plan's light use, with a rationale drawn from the numbers", () => {
    expect(d.recommendation.choice).toBe("stay, and burst to the cloud");
    expect(d.recommendation.rationale.join(" ")).toMatch(/\$\d/);
  });
  it("computes the cloud-spend trigger with the break-even formula, not a typed number", () => {
    const t = d.triggers.find((x) => x.unit === "USD/month")!;
    expect(t.threshold).toBeGreaterThan(0);
    // a dearer electricity price makes owning dearer, so the spend at which buying pays rises
    const dear = run("GeForce RTX 5060 Ti 16GB", { electricityUsdPerKwh: 0.6 }).triggers.find((x) => x.unit === "USD/month")!;
    expect(dear.threshold).toBeGreaterThan(t.threshold);
  });
  it("turns to buying when the work is many times the plan", () => {
    const busy = run("GeForce RTX 5060 Ti 16GB", { utilization: 1 });
    const heavy = busy.sensitivity.filter((s) => s.factor.startsWith("amount of work"));
    expect(heavy.some((s) => s.choice.startsWith("buy"))).toBe(true);
  });
  it("the JSON has the documented shape", () => {
    const j = JSON.parse(JSON.stringify(d));
    expect(typeof j.current_gpu).toBe("string");
    expect(j.experiments[0]).toMatchObject({ track: "A", name: "qlora-basic" });
    expect(j.experiments[0].options[0]).toEqual(expect.objectContaining({ option: expect.any(String), fits: true, settings: expect.any(Object), peak_bytes: expect.any(Number), seconds: expect.any(Number), bottleneck: expect.any(String), cost_usd: expect.any(Number) }));
    for (const o of j.options) expect(["current", "buy", "cloud"]).toContain(o.kind);
    expect(j.recommendation).toEqual(expect.objectContaining({ choice: expect.any(String), rationale: expect.any(Array) }));
    expect(j.triggers[0]).toEqual(expect.objectContaining({ what: expect.any(String), threshold: expect.any(Number) }));
  });
});

describe("the decision document", () => {
  const d = run("GeForce RTX 5060 Ti 16GB");
  it("Markdown matches the reviewed snapshot", async () => {
    await expect(renderMarkdown(d)).toMatchFileSnapshot("./__snapshots__/default-plan.md");
  });
  it("has every section, and marks figures estimated or catalog", () => {
    const md = renderMarkdown(d);
    for (const h of ["## Current setup", "## Track A", "## Track B", "## Track C", "## Not feasible on the current card", "## Research directions", "## Upgrade options", "## Recommendation", "## When to reconsider", "## Sensitivity", "## Summary"]) expect(md).toContain(h);
    expect(md).toMatch(/GiBᵉ/);
    expect(md).toMatch(/\$[\d,]+ᶜ/);
  });
  it("HTML carries the two charts", async () => {
    const html = renderHtml(d);
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).toContain("Peak VRAM per experiment");
    expect(html).toContain("Cumulative cost over");
    await expect(html).toMatchFileSnapshot("./__snapshots__/default-plan.html");
  });
});
