/**
 * Buy-versus-rent cost model, as pure functions.
 *
 * Follows the notation and formulas of /work/shared/research/hardware-decision.md,
 * section 6 ("A consolidated cost model"), which generalises Dettmers' break-even
 * calculation (section 1.4 of the same document) with resale, idle power, a throughput
 * ratio, a spot overhead factor and ops cost.
 *
 * Units: money in USD (plain numbers, not integer cents), time in hours (horizons in
 * months of 730 h), power in watts (converted to kW = W/1000 inside the formulas).
 *
 * Notation (section 6): C = priceUsd, R = resaleFraction·C, L = horizonMonths,
 * P_run / P_idle = runWatts / idleWatts in kW, e = electricityUsdPerKwh, u = utilization,
 * O = opsUsdPerMonth, p = usdPerHour, f = spotOverhead, s = speedRatio.
 */
import { FitlabInputError } from "../errors.js";

/** Inputs for owning a card. */
export interface OwnInputs {
  /** C: capex in USD, the GPU plus any host or PSU upgrade. */
  priceUsd: number;
  /** R/C: expected resale value at the horizon as a fraction of the price, 0..1. */
  resaleFraction: number;
  /** L: horizon in months (0 < L <= 240). */
  horizonMonths: number;
  /** Wall power in watts while busy (host included, × PUE if any). */
  runWatts: number;
  /** Wall power in watts while idle (host included, × PUE if any). */
  idleWatts: number;
  /** e: electricity price in USD per kWh. */
  electricityUsdPerKwh: number;
  /** u: busy hours / wall hours, 0..1. */
  utilization: number;
  /** O: ops or admin cost in USD per month; default 0. */
  opsUsdPerMonth?: number;
}

/** Inputs for renting the equivalent card in the cloud. */
export interface CloudInputs {
  /** p: cloud price in USD per hour (on-demand or spot). */
  usdPerHour: number;
  /** f >= 1: spot overhead (restarts, recomputation since the last checkpoint); default 1. */
  spotOverhead?: number;
  /** s > 0: local job time / cloud job time for the same job; default 1. */
  speedRatio?: number;
  /** Extra billed hours per run in the cloud (provisioning, setup, data staging); default 0. */
  setupHoursPerRun?: number;
}

/** Hours in a month, as used by section 6 of hardware-decision.md. */
export const HOURS_PER_MONTH = 730;

/** Owning inputs without utilization, for break-even calculations. */
export type OwnInputsNoUtilization = Omit<OwnInputs, "utilization">;

// ---------------------------------------------------------------- validation

function checkRange(field: string, v: number, min: number, max: number, opts: { minExclusive?: boolean } = {}): void {
  const below = opts.minExclusive ? v <= min : v < min;
  if (typeof v !== "number" || !Number.isFinite(v) || below || v > max) {
    const lo = opts.minExclusive ? `greater than ${min}` : `at least ${min}`;
    throw new FitlabInputError(`${field} must be a finite number ${lo} and at most ${max} (got ${String(v)})`);
  }
}

function validateOwnBase(o: OwnInputsNoUtilization): void {
  checkRange("priceUsd", o.priceUsd, 0, 1e7);
  checkRange("resaleFraction", o.resaleFraction, 0, 1);
  checkRange("horizonMonths", o.horizonMonths, 0, 240, { minExclusive: true });
  checkRange("runWatts", o.runWatts, 0, 10000);
  checkRange("idleWatts", o.idleWatts, 0, 10000);
  checkRange("electricityUsdPerKwh", o.electricityUsdPerKwh, 0, 5);
  if (o.opsUsdPerMonth !== undefined) checkRange("opsUsdPerMonth", o.opsUsdPerMonth, 0, 1e7);
}

function validateUtilization(u: number): void {
  checkRange("utilization", u, 0, 1);
}

function validateOwn(o: OwnInputs): void {
  validateOwnBase(o);
  validateUtilization(o.utilization);
}

/** Validates cloud inputs and returns p, f, s and setup hours with defaults applied. */
function cloudParams(c: CloudInputs): { p: number; f: number; s: number; setup: number } {
  checkRange("usdPerHour", c.usdPerHour, 0, 1000);
  const f = c.spotOverhead ?? 1;
  checkRange("spotOverhead", f, 1, 1000);
  const s = c.speedRatio ?? 1;
  checkRange("speedRatio", s, 0, 1e6, { minExclusive: true });
  const setup = c.setupHoursPerRun ?? 0;
  checkRange("setupHoursPerRun", setup, 0, 1e6);
  return { p: c.usdPerHour, f, s, setup };
}

/** Derived owning quantities in section-6 notation (kW, not W). */
function ownParams(o: OwnInputsNoUtilization): { C: number; R: number; L: number; Prun: number; Pidle: number; e: number; O: number } {
  validateOwnBase(o);
  return {
    C: o.priceUsd,
    R: o.resaleFraction * o.priceUsd,
    L: o.horizonMonths,
    Prun: o.runWatts / 1000,
    Pidle: o.idleWatts / 1000,
    e: o.electricityUsdPerKwh,
    O: o.opsUsdPerMonth ?? 0,
  };
}

// ---------------------------------------------------------------- monthly costs

/**
 * Monthly cost of owning, in USD: amortized capex net of resale, electricity for busy and
 * idle hours, and ops.
 * @throws FitlabInputError on out-of-range inputs.
 */
export function ownMonthlyUsd(o: OwnInputs): number {
  validateOwn(o);
  const { C, R, L, Prun, Pidle, e, O } = ownParams(o);
  const u = o.utilization;
  return (C - R) / L + HOURS_PER_MONTH * e * (u * Prun + (1 - u) * Pidle) + O; // own_monthly, hardware-decision.md §6
}

/**
 * Monthly cost, in USD, of doing the same work in the cloud: the owned card's busy hours
 * (u·730) shrink by the speed ratio s and are inflated by the spot overhead f.
 * @throws FitlabInputError on out-of-range inputs.
 */
export function cloudMonthlyUsd(c: CloudInputs, utilization: number): number {
  const { p, f, s } = cloudParams(c);
  validateUtilization(utilization);
  return (p * f * (utilization * HOURS_PER_MONTH)) / s; // cloud_monthly, hardware-decision.md §6
}

// ---------------------------------------------------------------- break-even

/**
 * Break-even utilization u*: the utilization at which owning and renting cost the same per
 * month. Above u*, owning is cheaper.
 *
 * Returns null when the cloud is never dearer than the marginal cost of running the owned
 * card (denominator <= 0). May exceed 1, meaning buying never pays at this horizon: the raw
 * value is returned and callers decide.
 * @throws FitlabInputError on out-of-range inputs.
 */
export function breakEvenUtilization(o: OwnInputsNoUtilization, c: CloudInputs): number | null {
  const { C, R, L, Prun, Pidle, e, O } = ownParams(o);
  const { p, f, s } = cloudParams(c);
  const denominator = HOURS_PER_MONTH * ((p * f) / s - e * (Prun - Pidle));
  if (!(denominator > 0)) return null;
  return ((C - R) / L + HOURS_PER_MONTH * e * Pidle + O) / denominator; // u*, hardware-decision.md §6
}

/**
 * Break-even busy hours H*: the number of busy hours over the card's life after which the
 * net capex (C − R) has been repaid by the saving per busy hour against the cloud.
 * This is Dettmers' T* generalised with resale and the speed ratio; like his model, it
 * ignores idle power and ops cost.
 *
 * Returns null when the saving per busy hour is <= 0 (the cloud is never dearer).
 * @throws FitlabInputError on out-of-range inputs.
 */
export function breakEvenBusyHours(o: OwnInputsNoUtilization, c: CloudInputs): number | null {
  const { C, R, Prun, e } = ownParams(o);
  const { p, f, s } = cloudParams(c);
  const denominator = (p * f) / s - e * Prun;
  if (!(denominator > 0)) return null;
  return (C - R) / denominator; // H*, hardware-decision.md §6 (Dettmers' T*, §1.4, with resale and s)
}

/**
 * The monthly cloud bill, in USD, at the break-even utilization u*: the "reconsider buying
 * when cloud spend exceeds $X/month" trigger. Returns null when u* is null. Not capped at
 * u* <= 1 (a value above p·f·730/s means buying never pays at this horizon).
 * @throws FitlabInputError on out-of-range inputs.
 */
export function breakEvenMonthlyCloudSpendUsd(o: OwnInputsNoUtilization, c: CloudInputs): number | null {
  const uStar = breakEvenUtilization(o, c);
  if (uStar === null) return null;
  const { p, f, s } = cloudParams(c);
  return (p * f * (uStar * HOURS_PER_MONTH)) / s; // cloud_monthly at u = u*, hardware-decision.md §6
}

// ---------------------------------------------------------------- cumulative curves

/**
 * Cumulative cost in USD at the end of each month 0..months (so months + 1 entries).
 *
 * - "own": starts at C at month 0 and adds the monthly running cost
 *   730·e·(u·P_run + (1−u)·P_idle) + O each month; the resale R is credited once, at the
 *   first month index >= L (exactly at L when L is a whole number, where the value equals
 *   own_monthly × L). Months after the horizon keep accruing running costs (a simple
 *   extrapolation; callers normally plot up to L).
 * - "cloud": cloud_monthly × month.
 *
 * @param months whole number of months, 0..1200.
 * @throws FitlabInputError on out-of-range inputs.
 */
export function cumulativeCostUsd(kind: "own" | "cloud", o: OwnInputs, c: CloudInputs, months: number): number[] {
  if (!Number.isInteger(months) || months < 0 || months > 1200) {
    throw new FitlabInputError(`months must be a whole number between 0 and 1200 (got ${String(months)})`);
  }
  validateOwn(o);
  cloudParams(c);
  const out: number[] = [];
  if (kind === "cloud") {
    const monthly = cloudMonthlyUsd(c, o.utilization);
    for (let m = 0; m <= months; m++) out.push(monthly * m); // cloud_monthly × month, hardware-decision.md §6
    return out;
  }
  if (kind !== "own") throw new FitlabInputError(`kind must be "own" or "cloud" (got ${String(kind)})`);
  const { C, R, L, Prun, Pidle, e, O } = ownParams(o);
  const u = o.utilization;
  const running = HOURS_PER_MONTH * e * (u * Prun + (1 - u) * Pidle) + O; // running part of own_monthly, hardware-decision.md §6
  const resaleMonth = Math.ceil(L);
  for (let m = 0; m <= months; m++) {
    out.push(C + running * m - (m >= resaleMonth ? R : 0)); // C up front, running costs monthly, R credited at L (§6)
  }
  return out;
}

// ---------------------------------------------------------------- per-run costs

/**
 * Marginal electricity cost, in USD, of one job on an owned card (excludes capex and the
 * opportunity cost of the queue).
 * @param hours local job time (busy hours).
 * @throws FitlabInputError on out-of-range inputs.
 */
export function ownRunCostUsd(hours: number, runWatts: number, electricityUsdPerKwh: number): number {
  checkRange("hours", hours, 0, 1e6);
  checkRange("runWatts", runWatts, 0, 10000);
  checkRange("electricityUsdPerKwh", electricityUsdPerKwh, 0, 5);
  return electricityUsdPerKwh * (runWatts / 1000) * hours; // local marginal = e·P_run·t_local, hardware-decision.md §6
}

/**
 * Cloud cost, in USD, of one job: p·f·(t_cloud + setup), with t_cloud = hours / s.
 * @param hours the job's local time; it is divided by the speed ratio s to get cloud time.
 * @throws FitlabInputError on out-of-range inputs.
 */
export function cloudRunCostUsd(hours: number, c: CloudInputs): number {
  checkRange("hours", hours, 0, 1e6);
  const { p, f, s, setup } = cloudParams(c);
  return p * f * (hours / s + setup); // cloud = p·f·t_cloud (+ setup hours), hardware-decision.md §6
}
