// Strategies over the horizon: keep the current card (or buy one), run what fits locally and burst the
// rest to the cheapest cloud offer that fits. Costs from cost.ts; the matrix gives hours and fits.
import { HOURS_PER_MONTH, ownMonthlyUsd } from "./cost.js";
import type { Cell } from "./feasibility.js";
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
  /** multiplies the amount of core work per month (sensitivity / --utilization) */
  readonly workFactor: number;
  readonly cycleMonths: number;
}

export interface Burst {
  readonly experiment: string;
  readonly option: string;
  readonly times: number;
  readonly cost_usd: number;
  readonly hours: number;
}

export interface StrategyResult {
  readonly choice: string; // "stay" or "buy: <gpu>"
  readonly option: string;
  readonly kind: "current" | "buy";
  readonly horizon_cost_usd: number;
  readonly monthly_cost_usd: number;
  readonly capex_usd: number;
  readonly resale_usd: number;
  readonly local_hours_per_month: number;
  readonly utilization: number;
  readonly cloud_usd_per_month: number;
  readonly bursts: readonly Burst[];
  /** experiments that fit this card (planned or with fit-search changes) */
  readonly runs_locally: readonly string[];
  /** experiments nothing available can run */
  readonly impossible: readonly string[];
  /** total wall hours of all work over the horizon, local plus cloud */
  readonly hours_over_horizon: number;
}

export function cheapestCloudCell(row: MatrixRow): Cell | null {
  let best: Cell | null = null;
  for (const c of row.cells) if (c.kind === "cloud" && c.fits && (best === null || c.cost_usd < best.cost_usd)) best = c;
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
  for (const row of rows) {
    const ex = row.experiment;
    if (ex.cpuOnly) continue;
    const times = ex.stretch ? 1 : cycles * k.workFactor;
    const cell = row.cells[index]!;
    if (cell.fits) {
      localHours += (times * cell.seconds) / 3600;
      local.push(ex.key);
      localRows.push({ row, times, hours: (times * cell.seconds) / 3600 });
      continue;
    }
    const cloud = cheapestCloudCell(row);
    if (!cloud) {
      impossible.push(ex.key);
      continue;
    }
    cloudCost += times * cloud.cost_usd;
    cloudHours += (times * cloud.seconds) / 3600;
    bursts.push({ experiment: ex.key, option: cloud.option, times, cost_usd: times * cloud.cost_usd, hours: (times * cloud.seconds) / 3600 });
  }
  const wallHours = k.horizonMonths * HOURS_PER_MONTH;
  // more local work than the card can do in the horizon: the overflow share of every local run is rented
  const capacity = wallHours * MAX_LOCAL_UTILIZATION;
  if (localHours > capacity) {
    const share = 1 - capacity / localHours;
    for (const { row, times } of localRows) {
      const cloud = cheapestCloudCell(row);
      if (!cloud) continue;
      const n = times * share;
      cloudCost += n * cloud.cost_usd;
      cloudHours += (n * cloud.seconds) / 3600;
      bursts.push({ experiment: `${row.experiment.key} (overflow)`, option: cloud.option, times: n, cost_usd: n * cloud.cost_usd, hours: (n * cloud.seconds) / 3600 });
    }
    localHours = capacity;
  }
  const utilization = Math.min(1, localHours / wallHours);
  const price = opt.kind === "buy" ? (opt.priceUsd ?? 0) * k.priceFactor : 0;
  const own = ownMonthlyUsd({
    priceUsd: price,
    resaleFraction: opt.resaleFraction,
    horizonMonths: k.horizonMonths,
    runWatts: opt.runWatts,
    idleWatts: opt.idleWatts,
    electricityUsdPerKwh: k.electricityUsdPerKwh,
    utilization,
  });
  const total = own * k.horizonMonths + cloudCost;
  return {
    choice: opt.kind === "current" ? "stay" : `buy ${opt.gpu.name}${opt.condition === "used" ? " (used)" : ""}`,
    option: opt.name,
    kind: opt.kind === "current" ? "current" : "buy",
    horizon_cost_usd: Math.round(total),
    monthly_cost_usd: Math.round((total / k.horizonMonths) * 100) / 100,
    capex_usd: Math.round(price),
    resale_usd: Math.round(price * opt.resaleFraction),
    local_hours_per_month: Math.round((localHours / k.horizonMonths) * 10) / 10,
    utilization: Math.round(utilization * 10000) / 10000,
    cloud_usd_per_month: Math.round((cloudCost / k.horizonMonths) * 100) / 100,
    bursts,
    runs_locally: local,
    impossible,
    hours_over_horizon: Math.round(localHours + cloudHours),
  };
}

/** Evaluate "stay" and every purchase; the cheapest over the horizon wins. Buying must beat staying by
 *  more than `hysteresis` (a share of the stay cost) to be recommended: equal money favours not buying. */
export function chooseStrategy(rows: readonly MatrixRow[], options: readonly HardwareOption[], k: Knobs, hysteresis = 0.05): { best: StrategyResult; all: StrategyResult[] } {
  const all: StrategyResult[] = [];
  options.forEach((o, i) => {
    if (o.kind !== "cloud") all.push(evaluateStrategy(rows, options, i, k));
  });
  const stay = all.find((s) => s.kind === "current")!;
  let bestBuy: StrategyResult | null = null;
  for (const s of all) {
    if (s.kind !== "buy") continue;
    if (bestBuy === null || s.impossible.length < bestBuy.impossible.length || (s.impossible.length === bestBuy.impossible.length && s.horizon_cost_usd < bestBuy.horizon_cost_usd)) bestBuy = s;
  }
  const best = bestBuy && bestBuy.impossible.length <= stay.impossible.length && bestBuy.horizon_cost_usd < stay.horizon_cost_usd * (1 - hysteresis) ? bestBuy : stay;
  return { best, all };
}
