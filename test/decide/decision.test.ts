// The decision on the built-in plan: verdicts, minimal changes, upgrades only, idle power, triggers, the seed's
// content, and the document itself.
import { describe, expect, it } from "vitest";
import { decide, type Decision } from "../../src/decide/decision.js";
import { currentCalibration } from "../../src/engines/calibration.js";
import { loadPriceBook } from "../../src/decide/options.js";
import { CHANGES } from "../../src/fit/search.js";
import { SUPERSEDED_BY } from "../../src/fit/minimal.js";
import { loadGpuCatalog } from "../../src/hardware/catalog.js";
import { estimateMemory, fitsIn } from "../../src/memory/estimate.js";
import { loadPlan } from "../../src/plan/load.js";
import { renderHtml } from "../../src/report/html.js";
import { renderMarkdown } from "../../src/report/markdown.js";

const catalog = loadGpuCatalog();
const plan = loadPlan();
const AS_OF = "2026-11-30";
const run = (gpu: string, extra = {}): Decision => decide({ plan, catalog, current: catalog.find(gpu), currentSource: "plan", book: loadPriceBook(), asOf: AS_OF, ...extra });
const cell = (d: Decision, key: string, option = 0) => d.experiments.find((e) => e.key === key)!.options[option]!;
const optionIndex = (d: Decision, name: string) => d.options.findIndex((o) => o.name === name);
const GIB = 2 ** 30;

describe("fitlab decide on the default plan", () => {
  const d = run("GeForce RTX 5060 Ti 16GB");

  it("basic QLoRA of Qwen2.5-7B fits the 16 GB card (its expected peak; the band may make it tight); full fine-tuning of a 7B model in bf16 does not", () => {
    expect(["fits", "tight"]).toContain(cell(d, "A.qlora-basic").verdict);
    expect(cell(d, "A.qlora-basic").peak_bytes).toBeLessThanOrEqual(d.current_card.usable_bytes);
    expect(cell(d, "A.qlora-basic").changes).toEqual([]);
    expect(cell(d, "S.full-ft-7b").verdict).toBe("no");
    expect(cell(d, "S.full-ft-7b").bottleneck).toBe("memory capacity");
    expect(d.infeasible.map((i) => i.experiment)).toContain("S.full-ft-7b");
  });

  it("every experiment x option has a verdict, and tight means the band crosses the usable memory", () => {
    for (const e of d.experiments) for (const c of e.options) expect(["fits", "tight", "no"]).toContain(c.verdict);
    const usable = d.current_card.usable_bytes;
    const f = cell(d, "A.forgetting-eval");
    // the example: 15.1 GiB expected, the band reaches past the 15.52 GiB usable
    expect(f.verdict).toBe("tight");
    expect(f.peak_bytes).toBeLessThanOrEqual(usable);
    expect(f.high_bytes).toBeGreaterThan(usable);
    for (const e of d.experiments.filter((x) => !x.cpu_only)) {
      const c = e.options[0]!;
      if (c.verdict === "fits") expect(c.high_bytes).toBeLessThanOrEqual(usable);
    }
  });

  it("every core track runs on the current card; the verdict per track says so", () => {
    for (const t of d.tracks.filter((x) => !x.stretch)) expect(t.verdict).toBe("yes");
    expect(d.tracks.find((t) => t.id === "S")!.verdict).toBe("partly");
    expect(d.tracks.find((t) => t.id === "A")!.tight).toContain("A.forgetting-eval");
  });

  it("an experiment unlocked only with changes says which, as a minimal list, and marks where it departs from its title", () => {
    const full = d.infeasible.find((i) => i.experiment === "S.full-ft-7b")!;
    const on5090 = full.unlocked_by.find((u) => u.option === "buy: GeForce RTX 5090 (new)")!;
    expect(on5090.changes.length).toBeGreaterThan(0);
    // the title says AdamW: a paged 8-bit optimizer is a departure, and it is named
    expect(on5090.departs_from_plan.join(" ")).toMatch(/optimizer: adamw -> paged-adamw8bit/);
    // no superseded step survives next to the step that supersedes it
    for (const [weak, strong] of Object.entries(SUPERSEDED_BY)) expect(on5090.changes.includes(weak) && on5090.changes.includes(strong)).toBe(false);
    // minimal: dropping any one change makes it no longer fit the 5090
    const ex = plan.experiments.find((e) => e.key === "S.full-ft-7b")!;
    const gpu = catalog.find("GeForce RTX 5090");
    for (const drop of on5090.changes) {
      let w = ex.runs[0]!.workload;
      for (const id of on5090.changes.filter((c) => c !== drop)) w = CHANGES.find((c) => c.id === id)!.apply(w) ?? w;
      expect(fitsIn(estimateMemory(ex.model!, w, gpu), gpu.usableBytes), `fits without ${drop}`).toBe(false);
    }
  });

  it("multi-GPU needs are per GPU x count, and rented as an instance of that many GPUs", () => {
    const m = d.infeasible.find((i) => i.experiment === "S.multi-gpu")!;
    expect(m.gpus).toBe(4);
    expect(m.cloud_run!.gpus).toBe(4);
    const e = d.experiments.find((x) => x.key === "S.multi-gpu")!;
    expect(e.options[0]!.bottleneck).toBe("gpu count");
    const rented = e.options.filter((o) => o.kind === "cloud" && o.fits);
    expect(rented.length).toBeGreaterThan(0);
    for (const c of rented) expect(c.gpus).toBe(4);
    expect(renderMarkdown(d)).toMatch(/\d+\.\d GiBᵉ per GPU × 4 GPUs/);
    expect(renderMarkdown(d)).toContain(`${m.cloud_run!.option.replace(/^cloud: /, "")} ×4`);
  });

  it("rents each experiment where it fits without risk, as its title says where possible, and says when it cannot", () => {
    const usable = (name: string) => catalog.find(d.options.find((o) => o.name === name)!.gpu).usableBytes;
    for (const e of d.experiments.filter((x) => !x.cpu_only)) {
      const clouds = e.options.filter((c) => c.kind === "cloud" && c.fits);
      const r = e.cloud_run;
      if (clouds.length === 0) {
        expect(r).toBeNull();
        continue;
      }
      const riskFree = clouds.some((c) => c.verdict === "fits" || c.safe !== null);
      // tight only when no offer fits without risk, as planned or with the changes that remove the risk
      expect(r!.verdict, e.key).toBe(riskFree ? "fits" : "tight");
      const c = e.options.find((x) => x.option === r!.option)!;
      if (r!.verdict === "fits") expect(c.verdict === "fits" ? c.high_bytes : c.safe!.high_bytes, e.key).toBeLessThanOrEqual(usable(r!.option));
      // nothing cheaper of the same standing was passed over
      const asTitled = clouds.flatMap((x) => [...(x.verdict === "fits" ? [{ cost: x.cost_usd, departs: x.departs_from_plan }] : []), ...(x.safe ? [{ cost: x.safe.cost_usd, departs: x.safe.departs_from_plan }] : [])]);
      const same = asTitled.filter((x) => (x.departs.length > 0) === (r!.departs_from_plan.length > 0));
      if (r!.verdict === "fits") {
        if (r!.departs_from_plan.length > 0) expect(asTitled.every((x) => x.departs.length > 0), `${e.key}: an as-titled run was passed over`).toBe(true);
        expect(Math.min(...same.map((x) => x.cost))).toBeCloseTo(r!.cost_usd, 2);
      }
    }
    // the case: the 4-GPU run is no longer a tight RTX 4090 x4 with changes, and full fine-tuning in bf16
    // with AdamW is rented as its title says
    const multi = d.experiments.find((x) => x.key === "S.multi-gpu")!.cloud_run!;
    expect(multi.verdict).toBe("fits");
    expect(multi.gpus).toBe(4);
    expect(d.experiments.find((x) => x.key === "S.full-ft-7b")!.cloud_run!.departs_from_plan).toEqual([]);
    // bursts and the strategy's cloud bill follow the same choice
    const stay = d.strategies.find((s) => s.kind === "current")!;
    for (const b of stay.bursts) {
      const r = d.experiments.find((x) => x.key === b.experiment)!.cloud_run!;
      expect({ option: b.option, verdict: b.verdict, changes: b.changes }).toEqual({ option: r.option, verdict: r.verdict, changes: r.changes });
    }
  });

  it("a tight verdict says how much room is left, how often held-out measurements went past it, and the change that removes the risk", () => {
    const md = renderMarkdown(d);
    expect(d.uncertainty.band).toBeGreaterThan(0.1);
    expect(d.uncertainty.cases).toBeGreaterThan(40);
    for (const e of d.experiments.filter((x) => !x.cpu_only && x.options[0]!.verdict === "tight")) {
      const c = e.options[0]!;
      // the room: usable over the expected peak, less than the band (else it would be "fits")
      expect(c.margin!).toBeCloseTo(d.current_card.usable_bytes / c.peak_bytes - 1, 3);
      expect(c.margin!).toBeLessThan(d.uncertainty.band * 1.01);
      expect(c.risk!.cases).toBe(d.uncertainty.cases);
      const line = md.split("\n").find((l) => l.startsWith(`- **${e.title}**`))!;
      expect(line, e.key).toMatch(new RegExp(`${c.risk!.exceeded} of ${c.risk!.cases} published measurements`));
      if (c.safe) {
        // the safe variant fits the whole band on the card, and the document names its changes
        expect(c.safe.high_bytes).toBeLessThanOrEqual(d.current_card.usable_bytes);
        for (const id of c.safe.changes) expect(line).toContain(id);
      } else expect(line).toMatch(/no change the decision may make/);
    }
    // less room, more held-out measurements went past it
    const forget = cell(d, "A.forgetting-eval");
    const basic = cell(d, "A.qlora-basic");
    expect(forget.margin!).toBeLessThan(basic.margin!);
    expect(forget.risk!.exceeded).toBeGreaterThan(basic.risk!.exceeded);
    // the evaluation's risk goes with a smaller evaluation batch: same numbers, more passes
    expect(forget.safe!.changes).toEqual(["halve-eval-batch"]);
    expect(md).toMatch(new RegExp(`Verdicts: \\*\\*fits\\*\\*: .*±${(currentCalibration().bandMemory * 100).toFixed(1).replace(".", "\\.")}%`));
  });

  it("recommends staying, with the cost line by line: idle draw is its own stated line", () => {
    expect(d.recommendation.choice).toBe("stay, and burst to the cloud");
    const stay = d.strategies.find((s) => s.kind === "current")!;
    const b = stay.breakdown;
    expect(b.depreciation_usd + b.job_electricity_usd + b.idle_electricity_usd + b.cloud_usd).toBeCloseTo(stay.horizon_cost_usd, -1);
    expect(b.idle_watts).toBe(15); // the card's own idle draw, not a whole desktop
    expect(d.assumptions.idle_assumption).toMatch(/card's own idle draw/);
    expect(d.recommendation.rationale.join(" ")).toMatch(/idle draw \(15 W assumed/);
    // charging a 45 W desktop kept on for the GPU adds exactly 30 W over the idle hours
    const desk = run("GeForce RTX 5060 Ti 16GB", { idleWatts: 45 });
    const s2 = desk.strategies.find((s) => s.kind === "current")!;
    const idleHours = 24 * 730 - stay.local_hours_per_month * 24;
    expect(s2.breakdown.idle_electricity_usd - b.idle_electricity_usd).toBeCloseTo((30 * idleHours * 0.25) / 1000, -1);
  });

  it("the best purchase is an upgrade: never less memory or throughput than the current card", () => {
    for (const gpu of ["GeForce RTX 5060 Ti 16GB", "GeForce RTX 4090", "NVIDIA A100 80GB SXM4", "NVIDIA T4"]) {
      const x = run(gpu);
      const cur = x.options[0]!;
      const best = x.recommendation.best_upgrade ? x.options.find((o) => o.name === x.recommendation.best_upgrade)! : null;
      if (best) {
        expect(best.usable_bytes).toBeGreaterThanOrEqual(cur.usable_bytes);
        expect(best.sustained_flops_per_s).toBeGreaterThanOrEqual(cur.sustained_flops_per_s);
      }
      for (const o of x.options.filter((y) => y.kind === "buy" && !y.upgrade)) expect(o.not_upgrade).toMatch(/less memory|slower|less bandwidth/);
    }
    // with an RTX 4090 in the machine, a used RTX 3090 is not an upgrade and never the best purchase
    const r4090 = run("GeForce RTX 4090");
    expect(r4090.recommendation.best_upgrade).not.toBe("buy: GeForce RTX 3090 (used)");
    expect(r4090.options.find((o) => o.name === "buy: GeForce RTX 3090 (used)")!.upgrade).toBe(false);
    expect(run("NVIDIA A100 80GB SXM4").recommendation.best_upgrade).toBeNull();
  });

  it("marks an option dominated by another that gives as much for no more money", () => {
    const o4090 = d.options.find((o) => o.name === "buy: GeForce RTX 4090 (new)")!;
    expect(o4090.dominated_by).toBe("buy: GeForce RTX 5090 (new)");
    expect(d.options.find((o) => o.name === "buy: GeForce RTX 5090 (new)")!.dominated_by).toBeNull();
    expect(d.options.find((o) => o.gpu === "NVIDIA H100 80GB PCIe" && o.kind === "cloud")!.dominated_by).toMatch(/H100 80GB SXM5/);
  });

  it("triggers are never passed while the choice stays, are stated with units, and include always-on access", () => {
    const computed = d.triggers.filter((t) => t.kind === "computed");
    expect(computed.length).toBeGreaterThanOrEqual(3);
    for (const t of computed) {
      expect(t.passed).toBe(false);
      expect(t.unit).toMatch(/GPU-hours\/month|USD\/month|USD|today's cloud rates/);
      expect(t.direction === "above" ? t.now! < t.threshold! : t.now! > t.threshold!).toBe(true);
    }
    const work = computed.find((t) => t.id === "work-above")!;
    expect(work.note).toMatch(/584 h a month/); // beyond what one card can run: said, not hidden
    expect(d.triggers.find((t) => t.id === "always-on")!.kind).toBe("qualitative");
    // the case: 36 months at 30% busy still stays, and nothing it lists as a trigger is passed
    const busy = run("GeForce RTX 5060 Ti 16GB", { horizonMonths: 36, utilization: 0.3 });
    expect(busy.recommendation.choice).toBe("stay, and burst to the cloud");
    for (const t of busy.triggers.filter((x) => x.kind === "computed")) expect(t.direction === "above" ? t.now! < t.threshold! : t.now! > t.threshold!).toBe(true);
  });

  it("turns to buying when the work is many times the plan", () => {
    const heavy = run("GeForce RTX 5060 Ti 16GB", { utilization: 1 }).sensitivity.filter((s) => s.factor.startsWith("amount of core work"));
    expect(heavy.some((s) => s.choice.startsWith("buy"))).toBe(true);
  });

  it("carries the seed's content: the card's architecture, impact of stretch work, the qualitative rationale", () => {
    expect(d.current_card.sm).toBe("sm_120");
    expect(d.current_card.family).toMatch(/Blackwell/);
    expect(d.current_card.min_cuda).toBe("12.8");
    for (const e of d.experiments.filter((x) => x.stretch)) expect(e.impact).toMatch(/^(high|medium|low)/);
    expect(d.recommendation.qualitative.join(" ")).toMatch(/What the lab is for/);
    expect(d.recommendation.qualitative.join(" ")).toMatch(/Reassess after the first pass through the lab \(3 months\)/);
  });

  it("says which prices are stale on the day it is written", () => {
    expect(d.prices.stale.length).toBeGreaterThan(0);
    expect(d.prices.stale.map((s) => s.option)).toContain("buy: GeForce RTX 3090 (used)");
    // the same file read in August 2026: the May 2026 street prices are fresh, the February one is not
    const june = run("GeForce RTX 5060 Ti 16GB", { asOf: "2026-08-20" });
    expect(june.prices.stale.map((s) => s.option)).not.toContain("buy: GeForce RTX 3090 (used)");
    expect(june.prices.stale.map((s) => s.option)).toContain("buy: GeForce RTX 4090 (new)");
  });

  it("with an A100 80GB as the current card, full fine-tuning of a 7B model is feasible and its settings are named", () => {
    const a = run("NVIDIA A100 80GB SXM4");
    const c = cell(a, "S.full-ft-7b");
    expect(c.fits).toBe(true);
    expect(c.settings).toMatchObject({ kind: "full", computeDtype: "bf16", optimizer: expect.any(String), batch: expect.any(Number), gradCkpt: expect.any(String) });
    expect(c.peak_bytes).toBeLessThanOrEqual(catalog.find("NVIDIA A100 80GB SXM4").usableBytes);
    expect(optionIndex(a, "current: NVIDIA A100 80GB SXM4")).toBe(0);
  });

  it("the JSON has the documented shape", () => {
    const j = JSON.parse(JSON.stringify(d));
    expect(typeof j.current_gpu).toBe("string");
    expect(j.experiments[0]).toMatchObject({ track: "A", name: "qlora-basic" });
    expect(j.experiments[0].options[0]).toEqual(expect.objectContaining({ option: expect.any(String), verdict: expect.stringMatching(/^(fits|tight)$/), fits: true, changes: [], settings: expect.any(Object), peak_bytes: expect.any(Number), high_bytes: expect.any(Number), seconds: expect.any(Number), bottleneck: expect.any(String), cost_usd: expect.any(Number) }));
    for (const o of j.options) expect(["current", "buy", "cloud"]).toContain(o.kind);
    expect(j.recommendation).toEqual(expect.objectContaining({ choice: expect.any(String), rationale: expect.any(Array), qualitative: expect.any(Array) }));
    expect(j.triggers[0]).toEqual(expect.objectContaining({ what: expect.any(String), threshold: expect.any(Number), unit: expect.any(String), knob: expect.any(Object) }));
    expect(j.infeasible[0].unlocked_by[0]).toEqual(expect.objectContaining({ option: expect.any(String), verdict: expect.any(String), changes: expect.any(Array) }));
  });
});

describe("the decision document", () => {
  const d = run("GeForce RTX 5060 Ti 16GB");
  it("Markdown matches the reviewed snapshot", async () => {
    await expect(renderMarkdown(d)).toMatchFileSnapshot("./__snapshots__/default-plan.md");
  });
  it("has every section, and marks figures estimated or catalog", () => {
    const md = renderMarkdown(d);
    for (const h of ["## Current setup", "## Verdict per track", "## Track A", "## Track B", "## Track C", "## Not feasible on the current card", "## Research directions", "## Purchase options", "## Recommendation", "## When to reconsider", "## Sensitivity", "## Summary"]) expect(md).toContain(h);
    expect(md).toMatch(/GiBᵉ/);
    expect(md).toMatch(/\$[\d,]+ᶜ/);
    expect(md).toMatch(/\*\*sm_120\*\*/);
    expect(md).toMatch(/\| tight \| 1\d\.\d GiBᵉ \(band to 1\d\.\d\)/);
    expect(md).toMatch(/⚠ optimizer paged-adamw8bit, not adamw as planned/);
  });
  it("HTML carries the two charts", async () => {
    const html = renderHtml(d);
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).toContain("Peak VRAM per experiment");
    expect(html).toContain("Cumulative cost over");
    await expect(html).toMatchFileSnapshot("./__snapshots__/default-plan.html");
  });
});
