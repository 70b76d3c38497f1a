// Street prices and cost assumptions as data (data/prices.yaml, overridable with --prices), each dated and
// sourced, resolved once for `fitlab gpus` and `fitlab decide` so both show the same figure per card.
import { z } from "zod";
import { rankBySimilarity } from "../data/match.js";
import { dateProblem, loadYamlData, type DataFile } from "../input/data-file.js";
import { LIMITS } from "../input/limits.js";
import { shownString } from "../input/shown.js";
import { loadGpuCatalog, type GpuCatalog } from "./catalog.js";

const PRICES_URL = new URL("../../data/prices.yaml", import.meta.url);

const text = z.string().min(1);
const usd = z.number().positive().max(1e7);
/** Each assumption the decision reads, with the range a real value falls in (the CLI flags use the same). */
export const ASSUMPTION_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  electricity_usd_per_kwh: [0, 5],
  horizon_months: [1, 240],
  host_run_watts: [0, 5000],
  card_idle_watts_consumer: [0, 2000],
  card_idle_watts_datacenter: [0, 2000],
  host_idle_watts: [0, 5000],
  spot_overhead: [1, 10],
  cloud_setup_hours_per_run: [0, 100],
  cloud_max_gpus_per_instance: [1, 64],
  resale_fraction_new: [0, 1],
  resale_fraction_used: [0, 1],
};
const assumption = z.object({ value: z.number(), source: text }).strict();
const buySchema = z
  .object({
    gpu: text,
    condition: z.enum(["new", "used"]),
    price_usd: usd,
    range_usd: z.tuple([usd, usd]).optional(),
    date: z.string().optional(),
    source: text,
  })
  .strict();
const cloudSchema = z
  .object({ gpu: text, provider: text, usd_per_hour: z.number().positive().max(1000), kind: z.enum(["on-demand", "spot", "serverless"]).optional(), date: z.string().optional(), source: text })
  .strict();
const pricesSchema = z
  .object({
    reviewed: z.string().optional(),
    /** older name of `reviewed`, still accepted in user files */
    date: z.string().optional(),
    stale_after_months: z.number().positive().max(120).optional(),
    assumptions: z.record(z.string(), assumption).optional(),
    buy: z.array(buySchema).max(10_000).optional(),
    cloud: z.array(cloudSchema).max(10_000).optional(),
  })
  .strict();
type PricesFile = z.infer<typeof pricesSchema>;

export interface Assumptions {
  readonly electricityUsdPerKwh: number;
  readonly horizonMonths: number;
  /** extra wall power of the host while a GPU job runs */
  readonly hostRunWatts: number;
  /** the card's own idle draw, by class (the default idle assumption: the card only) */
  readonly cardIdleWattsConsumer: number;
  readonly cardIdleWattsDatacenter: number;
  /** extra idle draw charged to the GPU (0: the desktop is on anyway) */
  readonly hostIdleWatts: number;
  readonly spotOverhead: number;
  readonly cloudSetupHoursPerRun: number;
  readonly cloudMaxGpusPerInstance: number;
  readonly resaleFractionNew: number;
  readonly resaleFractionUsed: number;
  /** where each value comes from */
  readonly sources: Readonly<Record<string, string>>;
}

export interface BuyPrice {
  readonly gpu: string;
  readonly condition: "new" | "used";
  readonly priceUsd: number;
  readonly rangeUsd: readonly [number, number] | null;
  /** YYYY-MM or YYYY-MM-DD; null when the source shows no date */
  readonly date: string | null;
  readonly source: string;
}

export interface ExtraCloudOffer {
  readonly gpu: string;
  readonly provider: string;
  readonly usdPerHour: number;
  readonly kind: "on-demand" | "spot" | "serverless";
  readonly date: string | null;
  readonly source: string;
}

export interface PriceBook {
  /** when the price file was last reviewed */
  readonly reviewed: string;
  readonly staleAfterMonths: number;
  readonly assumptions: Assumptions;
  readonly buy: readonly BuyPrice[];
  readonly cloud: readonly ExtraCloudOffer[];
}

/** Cross-field rules: ranges that hold, dates that exist and are not in the future, assumptions fitlab
 *  knows (a misspelt key would silently leave the default in force), cards the catalog knows. */
function priceRules(f: DataFile<PricesFile>, catalog: GpuCatalog, asOf: string): void {
  const p = f.data;
  for (const k of ["reviewed", "date"] as const) {
    const v = p[k];
    if (v !== undefined) {
      const bad = dateProblem(v, asOf);
      if (bad) f.fail([k], bad);
    }
  }
  for (const [k, a] of Object.entries(p.assumptions ?? {})) {
    const range = ASSUMPTION_RANGES[k];
    if (!range) f.fail(["assumptions", k], `unknown assumption ${shownString(k)}; did you mean ${rankBySimilarity(k, Object.keys(ASSUMPTION_RANGES))[0]}? (known: ${Object.keys(ASSUMPTION_RANGES).join(", ")})`);
    const [lo, hi] = range!;
    if (!(a.value >= lo && a.value <= hi)) f.fail(["assumptions", k, "value"], `must be between ${lo} and ${hi}${/watts/.test(k) && a.value < 0 ? " (watts cannot be negative)" : ""}, found ${a.value}`);
    if (k === "cloud_max_gpus_per_instance" && !Number.isInteger(a.value)) f.fail(["assumptions", k, "value"], `must be a whole number of GPUs, found ${a.value}`);
  }
  const known = (gpu: string, path: (string | number)[]) => {
    if (catalog.tryFind(gpu) === undefined) {
      const closest = rankBySimilarity(gpu, catalog.all().map((g) => g.name)).slice(0, 3);
      f.fail(path, `unknown GPU ${shownString(gpu)} (not in the catalog; closest: ${closest.join(", ")}); add it with --gpu-file`);
    }
  };
  (p.buy ?? []).forEach((b, i) => {
    known(b.gpu, ["buy", i, "gpu"]);
    if (b.range_usd) {
      const [lo, hi] = b.range_usd;
      if (lo > hi) f.fail(["buy", i, "range_usd"], `low $${lo} is above high $${hi} (write [low, high])`);
      if (b.price_usd < lo || b.price_usd > hi) f.fail(["buy", i, "price_usd"], `${b.gpu} costs $${b.price_usd}, outside its range $${lo}-${hi}`);
    }
    if (b.date !== undefined) {
      const bad = dateProblem(b.date, asOf);
      if (bad) f.fail(["buy", i, "date"], bad);
    }
  });
  (p.cloud ?? []).forEach((c, i) => {
    known(c.gpu, ["cloud", i, "gpu"]);
    if (c.date !== undefined) {
      const bad = dateProblem(c.date, asOf);
      if (bad) f.fail(["cloud", i, "date"], bad);
    }
  });
}

function readPrices(file: string | URL, what: string, catalog: GpuCatalog, asOf: string): PricesFile {
  return loadYamlData(file, what, LIMITS.dataFileBytes, pricesSchema, (f) => priceRules(f, catalog, asOf)).data;
}

const num = (a: Record<string, { value: number }> | undefined, k: string, fallback: number) => a?.[k]?.value ?? fallback;

let builtin: PricesFile | undefined;

/** Built-in prices, with an optional user file whose entries replace same-GPU, same-condition entries and add new ones.
 *  `catalog` is the one the prices are for (with --gpu-file's cards); `asOf` the day dates may not pass. */
export function loadPriceBook(userFile?: string, catalog?: GpuCatalog, asOf: string = today()): PriceBook {
  // the built-in file's dates are checked against its own review, not today (a clock set back is no reason to fail)
  builtin ??= readPrices(PRICES_URL, "built-in prices", loadGpuCatalog(), "9999-12-31");
  const base = builtin;
  const user: PricesFile = userFile ? readPrices(userFile, "prices file", catalog ?? loadGpuCatalog(), asOf) : {};
  const a = { ...base.assumptions, ...user.assumptions };
  const sources = Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v.source]));
  const assumptions: Assumptions = {
    electricityUsdPerKwh: num(a, "electricity_usd_per_kwh", 0.25),
    horizonMonths: num(a, "horizon_months", 24),
    hostRunWatts: num(a, "host_run_watts", 120),
    cardIdleWattsConsumer: num(a, "card_idle_watts_consumer", 15),
    cardIdleWattsDatacenter: num(a, "card_idle_watts_datacenter", 40),
    hostIdleWatts: num(a, "host_idle_watts", 0),
    spotOverhead: num(a, "spot_overhead", 1.1),
    cloudSetupHoursPerRun: num(a, "cloud_setup_hours_per_run", 0.25),
    cloudMaxGpusPerInstance: num(a, "cloud_max_gpus_per_instance", 8),
    resaleFractionNew: num(a, "resale_fraction_new", 0.55),
    resaleFractionUsed: num(a, "resale_fraction_used", 0.6),
    sources,
  };
  const toBuy = (b: z.infer<typeof buySchema>): BuyPrice => ({ gpu: b.gpu, condition: b.condition, priceUsd: b.price_usd, rangeUsd: b.range_usd ?? null, date: b.date ?? null, source: b.source });
  const userBuy = user.buy ?? [];
  const buy = [...(base.buy ?? []).filter((b) => !userBuy.some((u) => u.gpu === b.gpu && u.condition === b.condition)), ...userBuy].map(toBuy);
  const cloud = [...(base.cloud ?? []), ...(user.cloud ?? [])].map((c): ExtraCloudOffer => ({ gpu: c.gpu, provider: c.provider, usdPerHour: c.usd_per_hour, kind: c.kind ?? "on-demand", date: c.date ?? null, source: c.source }));
  return { reviewed: user.reviewed ?? user.date ?? base.reviewed ?? base.date ?? "", staleAfterMonths: user.stale_after_months ?? base.stale_after_months ?? 6, assumptions, buy, cloud };
}

/** Whole months from a price date (YYYY-MM counts from the 1st) to `asOf` (YYYY-MM-DD), rounded down. */
export function ageMonths(priceDate: string, asOf: string): number {
  const [y, m, d] = priceDate.split("-").map(Number) as [number, number, number | undefined];
  const [ay, am, ad] = asOf.split("-").map(Number) as [number, number, number];
  let months = (ay - y) * 12 + (am - m);
  if ((ad ?? 1) < (d ?? 1)) months -= 1;
  return months;
}

export type Freshness = "fresh" | "stale" | "undated";

/** A price is stale when it is `staleAfterMonths` or more old on `asOf`; undated prices are reported as such. */
export function freshness(priceDate: string | null, asOf: string, staleAfterMonths: number): Freshness {
  if (priceDate === null) return "undated";
  return ageMonths(priceDate, asOf) >= staleAfterMonths ? "stale" : "fresh";
}

/** Today's date as YYYY-MM-DD (the CLI's default `asOf`; tests pass a fixed one). */
export function today(): string {
  return new Date().toISOString().slice(0, 10);
}
