// What a card sustains: dense 16-bit matmul FLOP/s measured on real cards (data/sustained.yaml), and for
// cards without a measurement a rule from spec-sheet facts (nominal peak, board power, compute capability),
// fitted on the measurements and checked on them leave-one-out. The time model divides work by this rate.
import { z } from "zod";
import { loadYamlData } from "../input/data-file.js";
import { LIMITS } from "../input/limits.js";
import { gpuKey } from "./catalog.js";
import type { Gpu } from "./gpu.js";

const DATA_URL = new URL("../../data/sustained.yaml", import.meta.url);

const reportSchema = z.strictObject({ tflops: z.number().positive().max(100_000), kind: z.enum(["burst", "sustained"]), used: z.boolean().optional(), source: z.string().min(1) });
const specSchema = z.strictObject({
  nominal_tflops: z.number().positive().max(100_000),
  tdp_w: z.number().positive().max(5000),
  compute_capability: z.string().regex(/^\d+\.\d+$/),
  fp32_accumulate: z.enum(["half-rate", "full-rate"]),
});
const entrySchema = z.strictObject({
  gpu: z.string().min(1),
  aliases: z.array(z.string().min(1)).optional(),
  tflops: z.number().positive().max(100_000),
  spec: specSchema,
  reports: z.array(reportSchema).min(1),
});
const fileSchema = z.strictObject({ date: z.string(), measurements: z.array(entrySchema).min(1) });

export type AccumulateRate = "half-rate" | "full-rate";

/** One measured card, with the spec-sheet facts the rule needs. */
export interface Measurement {
  readonly gpu: string;
  readonly labels: readonly string[];
  readonly flopsPerS: number;
  readonly nominalFlopsPerS: number;
  readonly tdpWatts: number;
  readonly computeCapability: string;
  readonly accumulate: AccumulateRate;
  readonly sources: readonly string[];
}

/** The rule's parameters, fitted on a set of measurements. */
export interface RuleFit {
  /** sustained / nominal of cards not limited by power, per FP32-accumulate rate (median) */
  readonly clockFactor: Readonly<Record<AccumulateRate, number>>;
  /** FLOP/s per watt of board power of the power-limited cards, per compute capability (median) */
  readonly flopsPerWatt: Readonly<Record<string, number>>;
  /** the measured cards judged power-limited */
  readonly powerLimited: readonly string[];
}

export interface Sustained {
  readonly flopsPerS: number;
  readonly basis: "measured" | "rule";
  /** one line saying where the figure comes from */
  readonly detail: string;
  readonly warnings: readonly string[];
}

/** A full-rate card more than this share below its class's clock factor is judged power-limited (its clocks
 *  drop to hold the board power): the T4, L4 and L40S are. GeForce cards are never judged so: with FP32
 *  accumulate at half rate their tensor cores do half the work per clock and every measured one reaches
 *  97-114% of its nominal rate. */
const POWER_LIMITED_BELOW = 0.95;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

let loaded: readonly Measurement[] | undefined;

/** The measurements (parsed once), read through the input layer: a problem names the file, line and field. */
export function measurements(): readonly Measurement[] {
  if (loaded) return loaded;
  const f = loadYamlData(DATA_URL, "sustained rates", LIMITS.dataFileBytes, fileSchema);
  loaded = Object.freeze(
    f.data.measurements.map((e, i) => {
      const used = e.reports.filter((r) => r.used !== false).map((r) => r.tflops);
      if (used.length === 0) f.fail(["measurements", i, "reports"], `${e.gpu}: every report is marked used: false; the rate needs at least one`);
      const m = median(used);
      if (Math.abs(m - e.tflops) > 0.005 * m) f.fail(["measurements", i, "tflops"], `${e.gpu}: tflops ${e.tflops} is not the median of its reports (${m.toFixed(2)})`);
      return Object.freeze({
        gpu: e.gpu,
        labels: Object.freeze([e.gpu, ...(e.aliases ?? [])]),
        flopsPerS: e.tflops * 1e12,
        nominalFlopsPerS: e.spec.nominal_tflops * 1e12,
        tdpWatts: e.spec.tdp_w,
        computeCapability: e.spec.compute_capability,
        accumulate: e.spec.fp32_accumulate,
        sources: Object.freeze(e.reports.filter((r) => r.used !== false).map((r) => r.source)),
      });
    }),
  );
  return loaded;
}

/** Fit the rule: first a clock factor per accumulate rate over all cards, then drop the power-limited ones
 *  (more than 5% below it) and refit; their FLOP/s per watt gives the power ceiling of their compute capability. */
export function fitRule(ms: readonly Measurement[]): RuleFit {
  const rates: AccumulateRate[] = ["half-rate", "full-rate"];
  const ratio = (m: Measurement) => m.flopsPerS / m.nominalFlopsPerS;
  const clockFactor = {} as Record<AccumulateRate, number>;
  const limited: Measurement[] = [];
  for (const rate of rates) {
    const group = ms.filter((m) => m.accumulate === rate);
    if (group.length === 0) {
      clockFactor[rate] = 0.8;
      continue;
    }
    const first = median(group.map(ratio));
    const low = rate === "full-rate" ? group.filter((m) => ratio(m) < POWER_LIMITED_BELOW * first) : [];
    limited.push(...low);
    const rest = group.filter((m) => !low.includes(m));
    clockFactor[rate] = median((rest.length ? rest : group).map(ratio));
  }
  const flopsPerWatt: Record<string, number> = {};
  for (const cc of new Set(limited.map((m) => m.computeCapability))) {
    flopsPerWatt[cc] = median(limited.filter((m) => m.computeCapability === cc).map((m) => m.flopsPerS / m.tdpWatts));
  }
  return { clockFactor, flopsPerWatt, powerLimited: limited.map((m) => m.gpu) };
}

/** The rule: the lower of the clock-limited rate (nominal x clock factor) and the power-limited rate (board
 *  power x FLOP/s per watt of the compute capability, when a power-limited card of it has been measured). */
export function ruleFlopsPerS(fit: RuleFit, nominalFlopsPerS: number, accumulate: AccumulateRate, tdpWatts: number | null, computeCapability: string): number {
  const clock = nominalFlopsPerS * fit.clockFactor[accumulate];
  const perWatt = fit.flopsPerWatt[computeCapability];
  const power = perWatt !== undefined && tdpWatts !== null ? tdpWatts * perWatt : Infinity;
  return Math.min(clock, power);
}

/** Leave-one-out check of the rule on every measured card: the rule fitted without the card, against it. */
export function ruleCheck(ms: readonly Measurement[] = measurements()): { gpu: string; measured: number; rule: number; error: number; alone: boolean }[] {
  return ms.map((m) => {
    const others = ms.filter((x) => x !== m);
    const fit = fitRule(others);
    const rule = ruleFlopsPerS(fit, m.nominalFlopsPerS, m.accumulate, m.tdpWatts, m.computeCapability);
    return { gpu: m.gpu, measured: m.flopsPerS, rule, error: rule / m.flopsPerS - 1, alone: !others.some((x) => x.computeCapability === m.computeCapability) };
  });
}

let fitted: RuleFit | undefined;
const cache = new WeakMap<Gpu, Sustained>();

function accumulateOf(gpu: Gpu): AccumulateRate {
  // GeForce cards run FP16/BF16 with FP32 accumulate at half rate; the catalog's bf16 figure is already that
  // half rate (data/gpus.yaml header), and the rule's clock factor for GeForce cards is fitted on it
  return gpu.gpuClass === "consumer" ? "half-rate" : "full-rate";
}

/** Sustained dense 16-bit matmul FLOP/s of a card: measured when data/sustained.yaml names it, else the rule. */
export function sustainedMatmul(gpu: Gpu): Sustained {
  const hit = cache.get(gpu);
  if (hit) return hit;
  const ms = measurements();
  const keys = new Set([gpu.name, ...gpu.aliases].map(gpuKey));
  const m = ms.find((x) => x.labels.some((l) => keys.has(gpuKey(l))));
  let out: Sustained;
  if (m) {
    out = { flopsPerS: m.flopsPerS, basis: "measured", detail: `${(m.flopsPerS / 1e12).toFixed(1)} TFLOPS measured: ${m.sources.length > 1 ? `median of ${m.sources.length} published reports` : "1 published report"} in data/sustained.yaml`, warnings: [] };
  } else {
    fitted ??= fitRule(ms);
    const cc = gpu.computeCapability;
    const flops = ruleFlopsPerS(fitted, gpu.bf16DenseFlopsPerS, accumulateOf(gpu), gpu.tdpWatts, cc);
    const warnings: string[] = [];
    if (!ms.some((x) => x.computeCapability === cc)) warnings.push(`no measured card with compute capability ${cc}: ${gpu.name}'s sustained throughput comes from the spec-sheet rule unchecked`);
    else if (gpu.tdpWatts === null && accumulateOf(gpu) === "full-rate") warnings.push(`${gpu.name} has no published board power: a power limit, if any, is not modelled`);
    const perWatt = fitted.flopsPerWatt[cc];
    const powerBound = perWatt !== undefined && gpu.tdpWatts !== null && gpu.tdpWatts * perWatt <= flops * 1.000001;
    const why = powerBound ? `${gpu.tdpWatts} W x ${(perWatt! / 1e12).toFixed(2)} TFLOPS per watt (power-limited)` : `${gpu.bf16DenseFlopsPerS / 1e12} nominal x ${fitted.clockFactor[accumulateOf(gpu)].toFixed(2)}`;
    out = { flopsPerS: flops, basis: "rule", detail: `${(flops / 1e12).toFixed(1)} TFLOPS by the spec-sheet rule (${why})`, warnings };
  }
  cache.set(gpu, out);
  return out;
}
