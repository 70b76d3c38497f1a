// Street prices and cost assumptions as data (data/prices.yaml, overridable with --prices), each dated and
// sourced, resolved once for `fitlab gpus` and `fitlab decide` so both show the same figure per card.
import fs from "node:fs";
import { z } from "zod";
import { parseYamlCached } from "../data/yaml-cache.js";
import { FitlabInputError } from "../errors.js";

const PRICES_URL = new URL("../../data/prices.yaml", import.meta.url);

const dateRe = /^\d{4}-\d{2}(-\d{2})?$/;
const date = z.string().regex(dateRe, "expected YYYY-MM or YYYY-MM-DD");
const assumption = z.object({ value: z.number(), source: z.string() }).strict();
const buySchema = z
  .object({
    gpu: z.string(),
    condition: z.enum(["new", "used"]),
    price_usd: z.number().positive().max(1e7),
    range_usd: z.tuple([z.number().positive(), z.number().positive()]).optional(),
    date: date.optional(),
    source: z.string(),
  })
  .strict();
const cloudSchema = z
  .object({ gpu: z.string(), provider: z.string(), usd_per_hour: z.number().positive().max(1000), kind: z.enum(["on-demand", "spot", "serverless"]).optional(), date: date.optional(), source: z.string() })
  .strict();
const pricesSchema = z
  .object({
    reviewed: z.string().optional(),
    /** older name of `reviewed`, still accepted in user files */
    date: z.string().optional(),
    stale_after_months: z.number().positive().max(120).optional(),
    assumptions: z.record(z.string(), assumption).optional(),
    buy: z.array(buySchema).optional(),
    cloud: z.array(cloudSchema).optional(),
  })
  .strict();

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

function readPrices(file: string | URL): z.infer<typeof pricesSchema> {
  const name = typeof file === "string" ? file : file.pathname;
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new FitlabInputError(`cannot read prices file ${name}`);
  }
  let raw: unknown;
  try {
    raw = parseYamlCached(text);
  } catch (e) {
    throw new FitlabInputError(`prices file ${name} is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  const r = pricesSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new FitlabInputError(`prices file ${name}: ${i.path.join(".")}: ${i.message}`);
  }
  for (const [i, b] of (r.data.buy ?? []).entries()) {
    if (b.range_usd && (b.range_usd[0] > b.range_usd[1] || b.price_usd < b.range_usd[0] || b.price_usd > b.range_usd[1])) {
      throw new FitlabInputError(`prices file ${name}: buy.${i}.range_usd: ${b.gpu} costs $${b.price_usd}, outside its range $${b.range_usd[0]}-${b.range_usd[1]}`);
    }
  }
  return r.data;
}

const num = (a: Record<string, { value: number }> | undefined, k: string, fallback: number) => a?.[k]?.value ?? fallback;

let builtin: z.infer<typeof pricesSchema> | undefined;

/** Built-in prices, with an optional user file whose entries replace same-GPU, same-condition entries and add new ones. */
export function loadPriceBook(userFile?: string): PriceBook {
  builtin ??= readPrices(PRICES_URL);
  const base = builtin;
  const user = userFile ? readPrices(userFile) : {};
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
