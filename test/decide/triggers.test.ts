// Triggers agree with the recommendation: for random plans (synthetic feasibility matrices), prices and flags,
// each computed trigger is not passed today, the chooser's pick is unchanged anywhere between today's value and
// the threshold, and it changes once the threshold is passed. Checked on synthetic matrices and on the built-in
// plan's real matrix with random knobs.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Cell } from "../../src/decide/feasibility.js";
import { hardwareOptions, loadPriceBook, type HardwareOption } from "../../src/decide/options.js";
import { feasibilityCell } from "../../src/decide/feasibility.js";
import { chooseOption, type Knobs, type MatrixRow } from "../../src/decide/strategy.js";
import { choiceAt, computeTriggers, firstChange, type TriggerContext } from "../../src/decide/triggers.js";
import type { Gpu } from "../../src/hardware/gpu.js";
import { loadGpuCatalog } from "../../src/hardware/catalog.js";
import type { PlanExperiment } from "../../src/plan/load.js";
import { loadPlan } from "../../src/plan/load.js";

const gpu = (name: string) => ({ name }) as Gpu;

function option(name: string, kind: HardwareOption["kind"], o: Partial<HardwareOption> = {}): HardwareOption {
  return {
    name,
    kind,
    gpu: gpu(name.replace(/^\w+: /, "")),
    priceUsd: null,
    priceRangeUsd: null,
    condition: kind === "buy" ? "new" : null,
    resaleFraction: 0,
    priceSource: "test",
    priceDate: null,
    priceFreshness: null,
    cloud: kind === "cloud" ? { provider: "P", usdPerHour: 1, kind: "on-demand", date: null, source: "test" } : null,
    maxGpus: kind === "cloud" ? 8 : 1,
    runWatts: 300,
    idleWatts: 15,
    sustainedFlopsPerS: 1e14,
    upgrade: kind === "buy",
    notUpgrade: null,
    dominatedBy: null,
    ...o,
  };
}

function cell(opt: HardwareOption, fits: boolean, seconds: number, costUsd: number): Cell {
  return { option: opt.name, kind: opt.kind, verdict: fits ? "fits" : "no", fits, changes: [], change_descriptions: [], departs_from_plan: [], settings: { gpus: 1 }, gpus: 1, peak_bytes: 1, high_bytes: 1, seconds: fits ? seconds : 0, gpu_hours: seconds / 3600, bottleneck: "compute", cost_usd: fits ? costUsd : 0, margin: fits ? 1 : null, risk: null, safe: null, estimated: true };
}

const experiment = (i: number, stretch: boolean) => ({ key: `T.e${i}`, stretch, cpuOnly: false }) as unknown as PlanExperiment;

/** A random lab: the current card, 1-3 purchases (some not upgrades), 1-3 cloud offers, 2-8 experiments whose
 *  fits grow with the card's rank (a bigger card runs at least what a smaller one runs), random times and bills. */
const lab = fc
  .record({
    buys: fc.array(fc.record({ price: fc.double({ min: 100, max: 10000, noNaN: true }), resale: fc.double({ min: 0, max: 0.8, noNaN: true }), watts: fc.integer({ min: 100, max: 800 }), idle: fc.integer({ min: 0, max: 60 }), upgrade: fc.boolean(), speed: fc.double({ min: 0.5, max: 6, noNaN: true }) }), { minLength: 1, maxLength: 3 }),
    clouds: fc.array(fc.record({ rate: fc.double({ min: 0.1, max: 8, noNaN: true }), speed: fc.double({ min: 0.5, max: 6, noNaN: true }) }), { minLength: 1, maxLength: 3 }),
    experiments: fc.array(fc.record({ stretch: fc.boolean(), need: fc.integer({ min: 0, max: 4 }), hours: fc.double({ min: 0.01, max: 50, noNaN: true }) }), { minLength: 2, maxLength: 8 }),
    knobs: fc.record({ horizon: fc.integer({ min: 3, max: 60 }), electricity: fc.double({ min: 0.02, max: 0.8, noNaN: true }), work: fc.double({ min: 0.05, max: 20, noNaN: true }), cycle: fc.integer({ min: 1, max: 12 }) }),
  })
  .map(({ buys, clouds, experiments, knobs }): TriggerContext => {
    const options: HardwareOption[] = [option("current: C", "current")];
    buys.forEach((b, i) => options.push(option(`buy: B${i}`, "buy", { priceUsd: b.price, resaleFraction: b.resale, runWatts: b.watts, idleWatts: b.idle, upgrade: b.upgrade })));
    clouds.forEach((c, i) => options.push(option(`cloud: K${i}`, "cloud", { cloud: { provider: "P", usdPerHour: c.rate, kind: "on-demand", date: null, source: "t" } })));
    // rank: current 0; purchases 1..; clouds 4 (they run everything asked of them up to need 4)
    const rank = (i: number) => (options[i]!.kind === "current" ? 0 : options[i]!.kind === "buy" ? (buys[i - 1]!.upgrade ? i : 0) : 4);
    const speed = (i: number) => (options[i]!.kind === "current" ? 1 : options[i]!.kind === "buy" ? buys[i - 1]!.speed : clouds[i - 1 - buys.length]!.speed);
    const rows: MatrixRow[] = experiments.map((e, r) => ({
      experiment: experiment(r, e.stretch),
      cells: options.map((o, i) => {
        const hours = e.hours / speed(i);
        return cell(o, rank(i) >= e.need, hours * 3600, o.kind === "cloud" ? hours * o.cloud!.usdPerHour : (hours * o.runWatts * knobs.electricity) / 1000);
      }),
    }));
    const k: Knobs = { horizonMonths: knobs.horizon, electricityUsdPerKwh: knobs.electricity, priceFactor: 1, workFactor: knobs.work, cloudPriceFactor: 1, stretchFactor: 1, cycleMonths: knobs.cycle };
    return { rows, options, knobs: k };
  });

/** Today's pick holds everywhere between today's value and the threshold, and changes at the threshold. */
let checked = 0;
function checkAgreement(ctx: TriggerContext, samples: readonly number[]): void {
  const today = chooseOption(ctx.rows, ctx.options, ctx.knobs).best;
  for (const t of computeTriggers(ctx, "C").triggers) {
    if (t.kind !== "computed") continue;
    checked++;
    const { name, option, factor } = t.knob!;
    expect(t.passed).toBe(false);
    expect(t.direction === "above" ? t.now! < t.threshold! : t.now! > t.threshold!).toBe(true);
    expect(choiceAt(ctx, name, factor, option), `${t.id}: the pick changes at the threshold`).not.toBe(today);
    for (const u of samples) {
      const f = 1 + (factor - 1) * u * (1 - 1e-9);
      expect(choiceAt(ctx, name, f, option), `${t.id}: the pick holds at ${f} (threshold ${factor})`).toBe(today);
    }
  }
}

describe("triggers agree with the recommendation", () => {
  it("on random labs, prices and flags: not passed, no change before the threshold, a change at it", () => {
    fc.assert(
      fc.property(lab, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 5, maxLength: 20 }), (ctx, samples) => {
        checkAgreement(ctx, samples);
      }),
      // seeded, so that CI runs the same 300 labs every time; FITLAB_FC_SEED=<n> explores others (the property
      // has been run over 1,000,000 labs on many seeds without a counterexample)
      { numRuns: Number(process.env.FITLAB_FC_RUNS ?? 300), seed: Number(process.env.FITLAB_FC_SEED ?? 20261201) },
    );
    // the property is not vacuous: most random labs have thresholds to check
    expect(checked).toBeGreaterThan(150);
  });

  it("finds the flip of a simple case exactly where the costs cross", () => {
    // stay costs 10 $/month of bursts; a card at $480 with no resale and no power pays after 48 months of bursts;
    // with the 5% margin, buying needs cost < 0.95 x stay: 480 < 0.95 x 10 x H x f, so f > 480 / (9.5 x 24)
    const cur = option("current: C", "current", { runWatts: 0, idleWatts: 0 });
    const buy = option("buy: B", "buy", { priceUsd: 480, runWatts: 0, idleWatts: 0 });
    const cloud = option("cloud: K", "cloud");
    const ex = experiment(0, false);
    const rows: MatrixRow[] = [{ experiment: ex, cells: [cell(cur, false, 0, 0), cell(buy, true, 3600, 0), cell(cloud, true, 3600, 30)] }];
    const ctx: TriggerContext = { rows, options: [cur, buy, cloud], knobs: { horizonMonths: 24, electricityUsdPerKwh: 0.25, priceFactor: 1, workFactor: 1, cloudPriceFactor: 1, stretchFactor: 1, cycleMonths: 3 } };
    const t = computeTriggers(ctx, "C").triggers.find((x) => x.id === "cloud-price-above")!;
    expect(t.knob!.factor).toBeCloseTo(480 / (0.95 * 30 * 8), 9);
    expect(t.becomes).toBe("buy B");
  });

  it("states a threshold past today's value however small the amounts (the shrunk counterexample: cents that round to $0.00)", () => {
    // a stretch experiment the current card cannot run, rented for a tenth of a cent; a stretch experiment it
    // runs for 1,000 h at 300 W; a $500 card that runs both for a tenth of the energy. More stretch work makes
    // buying pay, at a burst spend of a few hundredths of a cent a month: today's value and the threshold both
    // rounded to $0.00 before, so the trigger read as passed.
    const cur = option("current: C", "current", { runWatts: 300, idleWatts: 0 });
    const buy = option("buy: B", "buy", { priceUsd: 500, runWatts: 100, idleWatts: 0 });
    const cloud = option("cloud: K", "cloud");
    const rows: MatrixRow[] = [
      { experiment: experiment(0, true), cells: [cell(cur, false, 0, 0), cell(buy, true, 3600, 0), cell(cloud, true, 60, 0.001)] },
      { experiment: experiment(1, true), cells: [cell(cur, true, 1000 * 3600, 75), cell(buy, true, 100 * 3600, 2.5), cell(cloud, true, 100 * 3600, 100)] },
    ];
    const ctx: TriggerContext = { rows, options: [cur, buy, cloud], knobs: { horizonMonths: 24, electricityUsdPerKwh: 0.25, priceFactor: 1, workFactor: 1, cloudPriceFactor: 1, stretchFactor: 1, cycleMonths: 3 } };
    const t = computeTriggers(ctx, "C").triggers.find((x) => x.id === "burst-spend-above")!;
    expect(t.becomes).toBe("buy B");
    expect(t.now).toBeCloseTo(0.001 / 24, 12);
    expect(t.threshold! / t.now!).toBeCloseTo(t.knob!.factor, 9);
    expect(t.now!).toBeLessThan(t.threshold!);
    checkAgreement(ctx, [0, 0.5, 0.9, 0.999]);
  });

  it("firstChange reports nothing when the pick never changes within the limit", () => {
    expect(firstChange(() => "same", "up", 1000)).toBeNull();
  });

  it("on the built-in plan's real matrix, with random horizons, work, electricity and prices", () => {
    const catalog = loadGpuCatalog();
    const plan = loadPlan();
    const book = loadPriceBook();
    checked = 0;
    for (const current of ["GeForce RTX 5060 Ti 16GB", "GeForce RTX 4090", "NVIDIA T4"]) {
      const options = hardwareOptions(catalog, catalog.find(current), book, "2026-11-30");
      const rows: MatrixRow[] = plan.experiments.map((ex) => ({ experiment: ex, cells: options.map((o) => feasibilityCell(ex, o, book.assumptions)) }));
      fc.assert(
        fc.property(
          fc.record({ horizon: fc.integer({ min: 6, max: 60 }), work: fc.double({ min: 0.1, max: 300, noNaN: true }), electricity: fc.double({ min: 0.05, max: 0.6, noNaN: true }), price: fc.double({ min: 0.3, max: 2, noNaN: true }), cloud: fc.double({ min: 0.2, max: 5, noNaN: true }) }),
          (k) => {
            const knobs: Knobs = { horizonMonths: k.horizon, electricityUsdPerKwh: k.electricity, priceFactor: k.price, workFactor: k.work, cloudPriceFactor: k.cloud, stretchFactor: 1, cycleMonths: plan.cycleMonths };
            checkAgreement({ rows, options, knobs }, [0, 0.25, 0.5, 0.75, 0.999]);
          },
        ),
        { numRuns: 40 },
      );
    }
    expect(checked).toBeGreaterThan(120);
  });
});
