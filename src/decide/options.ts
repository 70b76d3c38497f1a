// Hardware options of the decision: the current card, purchase candidates and cloud offers, each with its
// price, power and source, as data (data/prices.yaml + data/gpus.yaml, overridable with --prices).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { parseYamlCached } from "../data/yaml-cache.js";
import { z } from "zod";
import { FitlabInputError } from "../errors.js";
import type { GpuCatalog } from "../hardware/catalog.js";
import type { CloudOffer, Gpu } from "../hardware/gpu.js";

const PRICES_PATH = fileURLToPath(new URL("../../data/prices.yaml", import.meta.url));

const assumption = z.object({ value: z.number(), source: z.string() }).strict();
const buySchema = z
  .object({
    gpu: z.string(),
    condition: z.enum(["new", "used"]),
    price_usd: z.number().positive().max(1e7),
    range_usd: z.tuple([z.number().positive(), z.number().positive()]).optional(),
    source: z.string(),
  })
  .strict();
const cloudSchema = z
  .object({ gpu: z.string(), provider: z.string(), usd_per_hour: z.number().positive().max(1000), kind: z.enum(["on-demand", "spot", "serverless"]).optional(), date: z.string().optional(), source: z.string() })
  .strict();
const pricesSchema = z
  .object({
    date: z.string().optional(),
    assumptions: z.record(z.string(), assumption).optional(),
    buy: z.array(buySchema).optional(),
    cloud: z.array(cloudSchema).optional(),
  })
  .strict();

export interface Assumptions {
  readonly electricityUsdPerKwh: number;
  readonly horizonMonths: number;
  readonly hostRunWatts: number;
  readonly hostIdleWatts: number;
  readonly spotOverhead: number;
  readonly cloudSetupHoursPerRun: number;
  readonly resaleFractionNew: number;
  readonly resaleFractionUsed: number;
  /** where each value comes from */
  readonly sources: Readonly<Record<string, string>>;
}

export interface HardwareOption {
  /** unique display name */
  readonly name: string;
  readonly kind: "current" | "buy" | "cloud";
  readonly gpu: Gpu;
  readonly priceUsd: number | null;
  readonly priceRangeUsd: readonly [number, number] | null;
  readonly condition: "new" | "used" | null;
  readonly resaleFraction: number;
  readonly priceSource: string;
  readonly cloud: CloudOffer | null;
  readonly runWatts: number;
  readonly idleWatts: number;
}

export interface PriceBook {
  readonly date: string;
  readonly assumptions: Assumptions;
  readonly buy: z.infer<typeof buySchema>[];
  readonly cloud: z.infer<typeof cloudSchema>[];
}

function readPrices(file: string): z.infer<typeof pricesSchema> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new FitlabInputError(`cannot read prices file ${file}`);
  }
  let raw: unknown;
  try {
    raw = parseYamlCached(text);
  } catch (e) {
    throw new FitlabInputError(`prices file ${file} is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  const r = pricesSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new FitlabInputError(`prices file ${file}: ${i.path.join(".")}: ${i.message}`);
  }
  return r.data;
}

const num = (a: Record<string, { value: number }> | undefined, k: string, fallback: number) => a?.[k]?.value ?? fallback;

/** Built-in prices, with an optional user file whose entries replace same-GPU entries and add new ones. */
export function loadPriceBook(userFile?: string): PriceBook {
  const base = readPrices(PRICES_PATH);
  const user = userFile ? readPrices(userFile) : {};
  const a = { ...base.assumptions, ...user.assumptions };
  const sources = Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v.source]));
  const assumptions: Assumptions = {
    electricityUsdPerKwh: num(a, "electricity_usd_per_kwh", 0.25),
    horizonMonths: num(a, "horizon_months", 24),
    hostRunWatts: num(a, "host_run_watts", 120),
    hostIdleWatts: num(a, "host_idle_watts", 45),
    spotOverhead: num(a, "spot_overhead", 1.1),
    cloudSetupHoursPerRun: num(a, "cloud_setup_hours_per_run", 0.25),
    resaleFractionNew: num(a, "resale_fraction_new", 0.55),
    resaleFractionUsed: num(a, "resale_fraction_used", 0.6),
    sources,
  };
  const userBuy = user.buy ?? [];
  const buy = [...(base.buy ?? []).filter((b) => !userBuy.some((u) => u.gpu === b.gpu && u.condition === b.condition)), ...userBuy];
  return { date: user.date ?? base.date ?? "", assumptions, buy, cloud: user.cloud ?? [] };
}

/** The GPU in this machine, from nvidia-smi, matched against the catalog; null when there is none. */
export function detectGpu(catalog: GpuCatalog): Gpu | null {
  if (process.env.FITLAB_NO_NVIDIA_SMI) return null;
  try {
    const out = execFileSync("nvidia-smi", ["--query-gpu=name", "--format=csv,noheader"], { encoding: "utf8", timeout: 3000, stdio: ["ignore", "pipe", "ignore"] });
    const name = out.split("\n")[0]?.trim();
    return name ? (catalog.tryFind(name) ?? null) : null;
  } catch {
    return null;
  }
}

function cheapestOnDemand(gpu: Gpu, extra: readonly z.infer<typeof cloudSchema>[]): CloudOffer | null {
  const offers: CloudOffer[] = [
    ...gpu.cloud.filter((c) => c.kind === "on-demand"),
    ...extra.filter((c) => gpu.name === c.gpu || gpu.aliases.includes(c.gpu)).map((c) => ({ provider: c.provider, usdPerHour: c.usd_per_hour, kind: c.kind ?? "on-demand", date: c.date ?? null, source: c.source })),
  ].filter((c) => c.kind === "on-demand");
  offers.sort((x, y) => x.usdPerHour - y.usdPerHour);
  return offers[0] ?? null;
}

export function hardwareOptions(catalog: GpuCatalog, current: Gpu, book: PriceBook): HardwareOption[] {
  const a = book.assumptions;
  const power = (g: Gpu) => ({ runWatts: (g.tdpWatts ?? 300) + a.hostRunWatts, idleWatts: a.hostIdleWatts });
  const currentBuy = book.buy.find((b) => catalog.tryFind(b.gpu)?.name === current.name);
  const options: HardwareOption[] = [
    {
      name: `current: ${current.name}`,
      kind: "current",
      gpu: current,
      priceUsd: null,
      priceRangeUsd: null,
      condition: null,
      resaleFraction: 0,
      priceSource: currentBuy?.source ?? "owned (sunk cost)",
      cloud: null,
      ...power(current),
    },
  ];
  for (const b of book.buy) {
    const gpu = catalog.find(b.gpu);
    if (gpu.name === current.name) continue;
    options.push({
      name: `buy: ${gpu.name} (${b.condition})`,
      kind: "buy",
      gpu,
      priceUsd: b.price_usd,
      priceRangeUsd: b.range_usd ?? null,
      condition: b.condition,
      resaleFraction: b.condition === "new" ? a.resaleFractionNew : a.resaleFractionUsed,
      priceSource: b.source,
      cloud: null,
      ...power(gpu),
    });
  }
  for (const gpu of catalog.all()) {
    const offer = cheapestOnDemand(gpu, book.cloud);
    if (!offer) continue;
    options.push({ name: `cloud: ${gpu.name} (${offer.provider})`, kind: "cloud", gpu, priceUsd: null, priceRangeUsd: null, condition: null, resaleFraction: 0, priceSource: offer.source, cloud: offer, ...power(gpu) });
  }
  return options;
}
