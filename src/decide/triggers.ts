// When to reconsider: each computed trigger is the point where the chooser (strategy.ts, the function that
// makes the recommendation) would choose differently, found by scanning one input away from today's value
// and bisecting the first change. So a trigger is never "passed" while the recommendation stands, and the
// recommendation never changes before one is passed (for the inputs scanned). Thresholds are in the units
// people count: GPU-hours of work a month, dollars a month of cloud bursts, x today's cloud rates, dollars.
import { chooseOption, chooseStrategy, MAX_LOCAL_UTILIZATION, preferredCloudRun, type Knobs, type MatrixRow, type StrategyResult } from "./strategy.js";
import { HOURS_PER_MONTH } from "./cost.js";
import type { HardwareOption } from "./options.js";

export type KnobName = "work" | "stretch" | "cloud-price" | "purchase-price";

export interface Trigger {
  readonly id: string;
  readonly kind: "computed" | "qualitative";
  /** what is measured, in words */
  readonly what: string;
  /** the choice changes when the value goes above (or below) the threshold */
  readonly direction: "above" | "below" | null;
  readonly threshold: number | null;
  readonly unit: string;
  /** today's value, same unit */
  readonly now: number | null;
  /** whether today's value is past the threshold (never, for a computed trigger: the choice would already differ) */
  readonly passed: boolean;
  /** what the chooser picks past the threshold */
  readonly becomes: string | null;
  /** the scanned input and the multiple of today's value at the threshold (for checks and the JSON reader) */
  readonly knob: { readonly name: KnobName; readonly option: string | null; readonly factor: number } | null;
  readonly note: string | null;
}

export interface TriggerContext {
  readonly rows: readonly MatrixRow[];
  readonly options: readonly HardwareOption[];
  readonly knobs: Knobs;
}

/** The knobs with one input scaled by `factor` (1 = today). */
export function scaled(ctx: TriggerContext, name: KnobName, factor: number, option: string | null = null): Knobs {
  const k = ctx.knobs;
  switch (name) {
    case "work":
      return { ...k, workFactor: k.workFactor * factor };
    case "stretch":
      return { ...k, stretchFactor: k.stretchFactor * factor };
    case "cloud-price":
      return { ...k, cloudPriceFactor: k.cloudPriceFactor * factor };
    case "purchase-price": {
      const o = ctx.options.find((x) => x.name === option)!;
      return { ...k, priceOverride: { option: o.name, priceUsd: (o.priceUsd ?? 0) * k.priceFactor * factor } };
    }
  }
}

/** The chooser's pick with one input scaled (the option name). */
export function choiceAt(ctx: TriggerContext, name: KnobName, factor: number, option: string | null = null): string {
  return chooseOption(ctx.rows, ctx.options, scaled(ctx, name, factor, option)).best;
}

/** The full strategies with one input scaled. */
export function chooseAt(ctx: TriggerContext, name: KnobName, factor: number, option: string | null = null): ReturnType<typeof chooseStrategy> {
  return chooseStrategy(ctx.rows, ctx.options, scaled(ctx, name, factor, option));
}

/** Geometric scan step: fine enough that a change of choice and back inside one step is not missed in practice
 *  (the property test in test/decide/triggers.test.ts samples between today and each threshold). */
const STEP = 1.1;

/** The first factor past which the choice differs from today's, scanning geometrically up (to `limit`) or
 *  down (to 1/limit), then bisecting; `at` is a factor where it differs, `last` the closest where it does not. */
export function firstChange(choiceAt: (f: number) => string, direction: "up" | "down", limit: number): { last: number; at: number } | null {
  const today = choiceAt(1);
  let last = 1;
  let at = 0;
  const step = direction === "up" ? STEP : 1 / STEP;
  for (let f = step; direction === "up" ? f <= limit : f >= 1 / limit; f *= step) {
    if (choiceAt(f) !== today) {
      at = f;
      break;
    }
    last = f;
  }
  if (at === 0) return null;
  for (let i = 0; i < 40; i++) {
    const mid = Math.sqrt(last * at);
    if (choiceAt(mid) !== today) at = mid;
    else last = mid;
  }
  return { last, at };
}

const stayOf = (r: { all: StrategyResult[] }) => r.all.find((s) => s.kind === "current")!;

/** The computed triggers, and in words the inputs scanned without any change of choice ("cloud rates up to
 *  1000x today's"), so that a document can say the recommendation is stable rather than stay silent. */
export function computeTriggers(ctx: TriggerContext, currentGpu: string): { triggers: Trigger[]; stable: string[] } {
  const today = chooseStrategy(ctx.rows, ctx.options, ctx.knobs);
  const out: Trigger[] = [];
  const stable: string[] = [];
  const name = (s: StrategyResult) => (s.kind === "current" ? "staying" : s.choice.replace(/^buy /, "buying the "));
  const add = (id: string, knob: KnobName, option: string | null, limit: number, value: (f: number) => number, describe: (dir: "above" | "below", becomes: string) => { what: string; unit: string; note?: string | null }, range: string) => {
    const before = out.length;
    for (const direction of ["up", "down"] as const) {
      const hit = firstChange((f) => choiceAt(ctx, knob, f, option), direction, limit);
      if (!hit) continue;
      const after = chooseAt(ctx, knob, hit.at, option).best;
      const dir = direction === "up" ? "above" : "below";
      const d = describe(dir, name(after));
      out.push({ id: `${id}-${dir}`, kind: "computed", what: d.what, direction: dir, threshold: value(hit.at), unit: d.unit, now: value(1), passed: false, becomes: after.choice, knob: { name: knob, option, factor: hit.at }, note: d.note ?? null });
    }
    if (out.length === before) stable.push(range);
  };
  const stay = stayOf(today);
  const capacityHours = HOURS_PER_MONTH * MAX_LOCAL_UTILIZATION;
  const k = ctx.knobs;
  // the values are exact multiples of today's (never the rounded figures of a StrategyResult): a threshold is
  // then strictly past today's value whenever its factor is, however small the amounts
  // core work: GPU-hours a month the plan asks of the current card (before the 80% cap), as evaluateStrategy counts it
  const coreDemand = ctx.rows.reduce((s, r) => (r.experiment.cpuOnly || r.experiment.stretch || !r.cells[0]!.fits ? s : s + r.cells[0]!.seconds / 3600), 0) * (k.horizonMonths / k.cycleMonths) * k.workFactor / k.horizonMonths;
  if (coreDemand > 0) {
    add("work", "work", null, 1000, (f) => coreDemand * f, (dir, becomes) => ({
      what: `core work on the ${currentGpu}, ${dir} which ${becomes} is cheaper`,
      unit: "GPU-hours/month",
      note: null,
    }), "core work from 1/1000 to 1000 times the plan's");
    const w = out.find((t) => t.id === "work-above");
    if (w && w.threshold! > capacityHours) out[out.indexOf(w)] = { ...w, note: `more than the ${Math.round(capacityHours)} h a month one card can run (${Math.round(MAX_LOCAL_UTILIZATION * 100)}% busy): the excess is rented, so the threshold is reached only with overflow to the cloud` };
  }
  // stretch work rented as bursts while staying: dollars a month on the stretch experiments the current card
  // cannot run (the knob scales all stretch work, local and rented alike; this is its rented part, in money)
  const stretchBursts = ctx.rows.reduce((s, r) => {
    if (r.experiment.cpuOnly || !r.experiment.stretch || r.cells[0]!.fits) return s;
    const c = preferredCloudRun(r);
    return c ? s + c.cost_usd : s;
  }, 0) * k.stretchFactor * k.cloudPriceFactor / k.horizonMonths;
  if (stretchBursts > 0) {
    add("burst-spend", "stretch", null, 1000, (f) => stretchBursts * f, (dir, becomes) => ({
      what: `monthly cloud spend on stretch bursts (the stretch work the ${currentGpu} cannot run, rented while staying; the rest of the stretch work grows with it), ${dir} which ${becomes} is cheaper`,
      unit: "USD/month",
    }), "stretch work from 1/1000 to 1000 times the plan's");
  }
  // cloud rates
  if (today.all.some((s) => s.cloud_usd_per_month > 0)) {
    add("cloud-price", "cloud-price", null, 1000, (f) => f, (dir, becomes) => ({ what: `cloud rates, ${dir} which ${becomes} is cheaper`, unit: "x today's cloud rates" }), "cloud rates from 1/1000 to 1000 times today's");
  }
  // the price of the best upgrade (or of the card being bought)
  const priced = today.best.kind === "buy" ? today.best : today.bestBuy;
  if (priced) {
    const opt = ctx.options.find((o) => o.name === priced.option)!;
    const base = (opt.priceUsd ?? 0) * ctx.knobs.priceFactor;
    if (base > 0) {
      add("purchase-price", "purchase-price", opt.name, 100, (f) => base * f, (dir, becomes) => ({
        what: `price of the ${opt.gpu.name}${opt.condition === "used" ? " (used)" : ""}, ${dir} which ${becomes} is cheaper`,
        unit: "USD",
      }), `the ${opt.gpu.name}${opt.condition === "used" ? " (used)" : ""} at any price from 1% to 100 times today's`);
    }
  }
  return { triggers: out, stable };
}
