// Strategies over the horizon: keep the current card (or buy an upgrade), run what fits locally and burst the
// rest to the cheapest cloud offer that fits it without risk (else the cheapest tight one). Costs from cost.ts;
// the matrix gives hours and fits. The same
// function chooses the recommendation, fills the sensitivity table and finds the triggers (decision.ts), so
// what the document says about "when to reconsider" is what this model would decide.
import { HOURS_PER_MONTH } from "./cost.js";
import type { Cell, Verdict } from "./feasibility.js";
import type { HardwareOption } from "./options.js";
import type { PlanExperiment } from "../plan/load.js";

export interface MatrixRow {
  readonly experiment: PlanExperiment;
  readonly cells: readonly Cell[]; // same order as the options
}

export interface Knobs {
  readonly horizonMonths: number;
  readonly electricityUsdPerKwh: number;
  /** multiplies every purchase price (sensitivity) */
  readonly priceFactor: number;
  /** multiplies the amount of core work per month (sensitivity / --utilization / triggers) */
  readonly workFactor: number;
  /** multiplies every cloud rate (triggers, sensitivity) */
  readonly cloudPriceFactor: number;
  /** how many times the stretch work is done over the horizon (1 = once) */
  readonly stretchFactor: number;
  /** purchase price of one option, replacing its catalog price (triggers) */
  readonly priceOverride?: { readonly option: string; readonly priceUsd: number };
  readonly cycleMonths: number;
}

export interface Burst {
  readonly experiment: string;
  readonly option: string;
  readonly gpus: number;
  /** the cell's verdict on that offer: "tight" only when no offer fits without risk */
  readonly verdict: Cell["verdict"];
  /** the fit-search changes the run needs there (empty when it runs as planned) */
  readonly changes: readonly string[];
  readonly times: number;
  readonly cost_usd: number;
  readonly hours: number;
}

export interface StrategyResult {
  readonly choice: string; // "stay" or "buy <gpu>"
  readonly option: string;
  readonly kind: "current" | "buy";
  /** purchases only: an upgrade on the current card (more or equal memory, FLOP/s and bandwidth); staying is one */
  readonly eligible: boolean;
  readonly horizon_cost_usd: number;
  readonly monthly_cost_usd: number;
  readonly capex_usd: number;
  readonly resale_usd: number;
  /** the cost, line by line, over the horizon: depreciation + job electricity + idle electricity + cloud = total */
  readonly breakdown: {
    readonly depreciation_usd: number;
    readonly job_electricity_usd: number;
    readonly idle_electricity_usd: number;
    readonly idle_watts: number;
    readonly cloud_usd: number;
  };
  readonly local_hours_per_month: number;
  readonly utilization: number;
  /** core work per month asked of this card, before the 80% cap (hours) */
  readonly demand_hours_per_month: number;
  readonly cloud_usd_per_month: number;
  readonly bursts: readonly Burst[];
  /** experiments that fit this card (planned or with fit-search changes) */
  readonly runs_locally: readonly string[];
  /** experiments nothing available can run */
  readonly impossible: readonly string[];
  /** total wall hours of all work over the horizon, local plus cloud */
  readonly hours_over_horizon: number;
}

/** How the decision rents an experiment: one cloud offer, as many GPUs as the run spans, and the changes it
 *  runs with there. */
export interface CloudRun {
  readonly option: string;
  readonly gpus: number;
  readonly cost_usd: number;
  readonly seconds: number;
  /** fits: without risk of running out of memory (the whole estimate band fits); tight: no offer fits without
   *  risk, so the cheapest tight one */
  readonly verdict: Verdict;
  /** the fit-search changes it runs with (empty: as planned) */
  readonly changes: readonly string[];
  readonly departs_from_plan: readonly string[];
}

/** Order of preference: without risk before tight; then, as the experiment's title says (same method,
 *  precision, weights and optimizer) before a departure from it; then the bill. */
const rank = (r: CloudRun) => (r.verdict === "fits" ? 0 : 2) + (r.departs_from_plan.length ? 1 : 0);

/** Where an experiment is rented: the cloud offer on which it fits without risk, as planned or with the
 *  changes that bring the whole band inside the card (a tight cell's `safe` variant), preferring a run that is
 *  what its title says, cheapest first; only when no offer fits without risk, the tight ones in the same order.
 *  At today's rates: a common factor on every rate does not change the order. */
export function preferredCloudRun(row: MatrixRow): CloudRun | null {
  let best: CloudRun | null = null;
  const consider = (r: CloudRun) => {
    if (best === null || rank(r) < rank(best) || (rank(r) === rank(best) && r.cost_usd < best.cost_usd)) best = r;
  };
  for (const c of row.cells) {
    if (c.kind !== "cloud" || !c.fits) continue;
    consider({ option: c.option, gpus: c.gpus, cost_usd: c.cost_usd, seconds: c.seconds, verdict: c.verdict, changes: c.changes, departs_from_plan: c.departs_from_plan });
    if (c.verdict === "tight" && c.safe) consider({ option: c.option, gpus: c.gpus, cost_usd: c.safe.cost_usd, seconds: c.safe.seconds, verdict: "fits", changes: c.safe.changes, departs_from_plan: c.safe.departs_from_plan });
  }
  return best;
}

/** The most of its wall time one card can be kept busy by a single learner's queue; work beyond it
 *  overflows to the cloud (assumption: nights and weekends included, minus maintenance and idle gaps). */
export const MAX_LOCAL_UTILIZATION = 0.8;

export function evaluateStrategy(rows: readonly MatrixRow[], options: readonly HardwareOption[], index: number, k: Knobs): StrategyResult {
  const opt = options[index]!;
  const cycles = k.horizonMonths / k.cycleMonths;
  let localHours = 0;
  let cloudCost = 0;
  let cloudHours = 0;
  const bursts: Burst[] = [];
  const local: string[] = [];
  const localRows: { row: MatrixRow; times: number; hours: number }[] = [];
  const impossible: string[] = [];
  let coreDemand = 0;
  for (const row of rows) {
    const ex = row.experiment;
    if (ex.cpuOnly) continue;
    const times = ex.stretch ? k.stretchFactor : cycles * k.workFactor;
    const cell = row.cells[index]!;
    if (cell.fits) {
      const h = (times * cell.seconds) / 3600;
      localHours += h;
      if (!ex.stretch) coreDemand += h;
      local.push(ex.key);
      localRows.push({ row, times, hours: h });
      continue;
    }
    const cloud = preferredCloudRun(row);
    if (!cloud) {
      impossible.push(ex.key);
      continue;
    }
    cloudCost += times * cloud.cost_usd * k.cloudPriceFactor;
    cloudHours += (times * cloud.seconds) / 3600;
    bursts.push({ experiment: ex.key, option: cloud.option, gpus: cloud.gpus, verdict: cloud.verdict, changes: cloud.changes, times, cost_usd: times * cloud.cost_usd * k.cloudPriceFactor, hours: (times * cloud.seconds) / 3600 });
  }
  const wallHours = k.horizonMonths * HOURS_PER_MONTH;
  // more local work than the card can do in the horizon: the overflow share of every local run is rented
  const capacity = wallHours * MAX_LOCAL_UTILIZATION;
  if (localHours > capacity) {
    const share = 1 - capacity / localHours;
    for (const { row, times } of localRows) {
      const cloud = preferredCloudRun(row);
      if (!cloud) continue;
      const n = times * share;
      cloudCost += n * cloud.cost_usd * k.cloudPriceFactor;
      cloudHours += (n * cloud.seconds) / 3600;
      bursts.push({ experiment: `${row.experiment.key} (overflow)`, option: cloud.option, gpus: cloud.gpus, verdict: cloud.verdict, changes: cloud.changes, times: n, cost_usd: n * cloud.cost_usd * k.cloudPriceFactor, hours: (n * cloud.seconds) / 3600 });
    }
    localHours = capacity;
  }
  const utilization = Math.min(1, localHours / wallHours);
  const listPrice = k.priceOverride?.option === opt.name ? k.priceOverride.priceUsd : (opt.priceUsd ?? 0) * k.priceFactor;
  const price = opt.kind === "buy" ? listPrice : 0;
  const resale = price * opt.resaleFraction;
  // own_monthly of hardware-decision.md §6, line by line: (C - R) over the horizon, busy-hour electricity at
  // P_run, idle-hour electricity at P_idle (the card's idle draw by default: a stated assumption)
  const busyHours = localHours;
  const idleHours = wallHours - busyHours;
  const jobElectricity = (busyHours * opt.runWatts * k.electricityUsdPerKwh) / 1000;
  const idleElectricity = (idleHours * opt.idleWatts * k.electricityUsdPerKwh) / 1000;
  const depreciation = price - resale;
  const total = depreciation + jobElectricity + idleElectricity + cloudCost;
  return {
    choice: opt.kind === "current" ? "stay" : `buy ${opt.gpu.name}${opt.condition === "used" ? " (used)" : ""}`,
    option: opt.name,
    kind: opt.kind === "current" ? "current" : "buy",
    eligible: opt.kind === "current" || opt.upgrade,
    horizon_cost_usd: Math.round(total),
    monthly_cost_usd: Math.round((total / k.horizonMonths) * 100) / 100,
    capex_usd: Math.round(price),
    resale_usd: Math.round(resale),
    breakdown: {
      depreciation_usd: Math.round(depreciation * 100) / 100,
      job_electricity_usd: Math.round(jobElectricity * 100) / 100,
      idle_electricity_usd: Math.round(idleElectricity * 100) / 100,
      idle_watts: opt.idleWatts,
      cloud_usd: Math.round(cloudCost * 100) / 100,
    },
    local_hours_per_month: Math.round((localHours / k.horizonMonths) * 10) / 10,
    utilization: Math.round(utilization * 10000) / 10000,
    demand_hours_per_month: Math.round((coreDemand / k.horizonMonths) * 10) / 10,
    cloud_usd_per_month: Math.round((cloudCost / k.horizonMonths) * 100) / 100,
    bursts,
    runs_locally: local,
    impossible,
    hours_over_horizon: Math.round(localHours + cloudHours),
  };
}

/** Buying must beat staying by more than this share of the stay cost: equal money favours not buying. */
export const HYSTERESIS = 0.05;

/** Per-option sums over the matrix that make a strategy's total O(1) for any knobs: GPU-hours of the rows that
 *  fit (core, stretch), the cheapest cloud bill of the rows that do not (bursts), and of the rows that do (what
 *  their overflow would cost). Computed once per matrix. */
interface Sums {
  readonly localCore: number;
  readonly localStretch: number;
  readonly burstCore: number;
  readonly burstStretch: number;
  readonly overflowCore: number;
  readonly overflowStretch: number;
}

const sumsCache = new WeakMap<readonly MatrixRow[], Sums[]>();

function sumsOf(rows: readonly MatrixRow[], options: readonly HardwareOption[]): Sums[] {
  const hit = sumsCache.get(rows);
  if (hit && hit.length === options.length) return hit;
  const cheapest = rows.map((r) => preferredCloudRun(r)?.cost_usd ?? null);
  const out = options.map((_, i) => {
    const s = { localCore: 0, localStretch: 0, burstCore: 0, burstStretch: 0, overflowCore: 0, overflowStretch: 0 };
    rows.forEach((row, r) => {
      if (row.experiment.cpuOnly) return;
      const cell = row.cells[i]!;
      const stretch = row.experiment.stretch;
      if (cell.fits) {
        if (stretch) s.localStretch += cell.seconds / 3600;
        else s.localCore += cell.seconds / 3600;
        if (cheapest[r] !== null) {
          if (stretch) s.overflowStretch += cheapest[r]!;
          else s.overflowCore += cheapest[r]!;
        }
      } else if (cheapest[r] !== null) {
        if (stretch) s.burstStretch += cheapest[r]!;
        else s.burstCore += cheapest[r]!;
      }
    });
    return s;
  });
  sumsCache.set(rows, out);
  return out;
}

/** The horizon cost of keeping option `i` (the current card, or a purchase), exactly as evaluateStrategy counts
 *  it, from the precomputed sums. */
export function strategyTotal(rows: readonly MatrixRow[], options: readonly HardwareOption[], i: number, k: Knobs): number {
  const s = sumsOf(rows, options)[i]!;
  const opt = options[i]!;
  const core = (k.horizonMonths / k.cycleMonths) * k.workFactor;
  const sf = k.stretchFactor;
  let local = core * s.localCore + sf * s.localStretch;
  let cloud = k.cloudPriceFactor * (core * s.burstCore + sf * s.burstStretch);
  const wall = k.horizonMonths * HOURS_PER_MONTH;
  const capacity = wall * MAX_LOCAL_UTILIZATION;
  if (local > capacity) {
    cloud += k.cloudPriceFactor * (1 - capacity / local) * (core * s.overflowCore + sf * s.overflowStretch);
    local = capacity;
  }
  const listPrice = k.priceOverride?.option === opt.name ? k.priceOverride.priceUsd : (opt.priceUsd ?? 0) * k.priceFactor;
  const price = opt.kind === "buy" ? listPrice : 0;
  return price * (1 - opt.resaleFraction) + (local * opt.runWatts * k.electricityUsdPerKwh) / 1000 + ((wall - local) * opt.idleWatts * k.electricityUsdPerKwh) / 1000 + cloud;
}

/** The option the chooser picks (its name): the cheapest eligible purchase if it beats staying by more than the
 *  hysteresis, else the current card. Purchases that are not upgrades are never chosen. */
export function chooseOption(rows: readonly MatrixRow[], options: readonly HardwareOption[], k: Knobs): { best: string; bestBuy: string | null } {
  const stay = strategyTotal(rows, options, 0, k);
  let bestBuy: string | null = null;
  let bestCost = Infinity;
  options.forEach((o, i) => {
    if (o.kind !== "buy" || !o.upgrade) return;
    const c = strategyTotal(rows, options, i, k);
    if (c < bestCost) {
      bestCost = c;
      bestBuy = o.name;
    }
  });
  return { best: bestBuy !== null && bestCost < stay * (1 - HYSTERESIS) ? bestBuy : options[0]!.name, bestBuy };
}

/** Evaluate "stay" and every purchase in full; the choice is chooseOption's. */
export function chooseStrategy(rows: readonly MatrixRow[], options: readonly HardwareOption[], k: Knobs): { best: StrategyResult; bestBuy: StrategyResult | null; all: StrategyResult[] } {
  const all: StrategyResult[] = [];
  options.forEach((o, i) => {
    if (o.kind !== "cloud") all.push(evaluateStrategy(rows, options, i, k));
  });
  const pick = chooseOption(rows, options, k);
  return { best: all.find((s) => s.option === pick.best)!, bestBuy: all.find((s) => s.option === pick.bestBuy) ?? null, all };
}
