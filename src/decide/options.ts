// Hardware options of the decision: the current card, purchase candidates and cloud offers, each with its
// price (dated, sourced), power, what it sustains, whether it is an upgrade on the current card, and whether
// another option gives as much for the same money or less (dominated).
import { execFileSync } from "node:child_process";
import type { GpuCatalog } from "../hardware/catalog.js";
import type { CloudOffer, Gpu } from "../hardware/gpu.js";
import { freshness, loadPriceBook, type Assumptions, type Freshness, type PriceBook } from "../hardware/prices.js";
import { sustainedMatmul } from "../hardware/sustained.js";

export { loadPriceBook };
export type { Assumptions, PriceBook };

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
  /** date of the purchase price or cloud rate; null when undated (or owned) */
  readonly priceDate: string | null;
  readonly priceFreshness: Freshness | null;
  readonly cloud: CloudOffer | null;
  /** cloud: most GPUs of this type one instance rents (multi-GPU experiments) */
  readonly maxGpus: number;
  readonly runWatts: number;
  /** idle wall power charged to the GPU: the card's idle draw (+ host idle, 0 by default) */
  readonly idleWatts: number;
  /** sustained dense 16-bit matmul FLOP/s (measured or by the spec-sheet rule) */
  readonly sustainedFlopsPerS: number;
  /** purchases only: at least the current card's usable memory, sustained FLOP/s and bandwidth */
  readonly upgrade: boolean;
  /** why a purchase is not an upgrade ("less memory", "slower"), else null */
  readonly notUpgrade: string | null;
  /** the option that gives at least as much (memory, FLOP/s, bandwidth) for no more money, else null */
  readonly dominatedBy: string | null;
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

/** The cloud offer the decision rents for a card: its cheapest on-demand rate (catalog plus price-file offers). */
export function cheapestOnDemand(gpu: Gpu, catalog: GpuCatalog, book: PriceBook): CloudOffer | null {
  const offers: CloudOffer[] = [
    ...gpu.cloud.filter((c) => c.kind === "on-demand"),
    ...book.cloud.filter((c) => catalog.tryFind(c.gpu)?.name === gpu.name).map((c) => ({ provider: c.provider, usdPerHour: c.usdPerHour, kind: c.kind, date: c.date, source: c.source })),
  ].filter((c) => c.kind === "on-demand");
  offers.sort((x, y) => x.usdPerHour - y.usdPerHour);
  return offers[0] ?? null;
}

/** The card's idle draw charged to the GPU: the stated per-class assumption plus host idle (0 by default). */
export function idleWattsOf(gpu: Gpu, a: Assumptions): number {
  return (gpu.gpuClass === "consumer" ? a.cardIdleWattsConsumer : a.cardIdleWattsDatacenter) + a.hostIdleWatts;
}

/** `a` gives at least what `b` gives: memory, sustained FLOP/s and bandwidth. */
function atLeast(a: Gpu, b: Gpu): boolean {
  return a.usableBytes >= b.usableBytes && sustainedMatmul(a).flopsPerS >= sustainedMatmul(b).flopsPerS && a.memBandwidthBytesPerS >= b.memBandwidthBytesPerS;
}

export function hardwareOptions(catalog: GpuCatalog, current: Gpu, book: PriceBook, asOf = "9999-12-31", idleWattsOverride?: number): HardwareOption[] {
  const a = book.assumptions;
  const power = (g: Gpu) => ({ runWatts: (g.tdpWatts ?? 300) + a.hostRunWatts, idleWatts: idleWattsOverride ?? idleWattsOf(g, a) });
  const fresh = (d: string | null) => freshness(d, asOf, book.staleAfterMonths);
  const curSustained = sustainedMatmul(current).flopsPerS;
  const base = { maxGpus: 1, upgrade: false, notUpgrade: null, dominatedBy: null };
  const options: HardwareOption[] = [
    { ...base, name: `current: ${current.name}`, kind: "current", gpu: current, priceUsd: null, priceRangeUsd: null, condition: null, resaleFraction: 0, priceSource: "owned (sunk cost)", priceDate: null, priceFreshness: null, cloud: null, sustainedFlopsPerS: curSustained, ...power(current) },
  ];
  for (const b of book.buy) {
    const gpu = catalog.find(b.gpu);
    if (gpu.name === current.name) continue;
    const why = [gpu.usableBytes < current.usableBytes ? "less memory" : "", sustainedMatmul(gpu).flopsPerS < curSustained ? "slower" : "", gpu.memBandwidthBytesPerS < current.memBandwidthBytesPerS ? "less bandwidth" : ""].filter(Boolean);
    options.push({
      ...base,
      name: `buy: ${gpu.name} (${b.condition})`,
      kind: "buy",
      gpu,
      priceUsd: b.priceUsd,
      priceRangeUsd: b.rangeUsd,
      condition: b.condition,
      resaleFraction: b.condition === "new" ? a.resaleFractionNew : a.resaleFractionUsed,
      priceSource: b.source,
      priceDate: b.date,
      priceFreshness: fresh(b.date),
      cloud: null,
      sustainedFlopsPerS: sustainedMatmul(gpu).flopsPerS,
      upgrade: why.length === 0,
      notUpgrade: why.length ? `${why.join(", ")} than the ${current.name}` : null,
      ...power(gpu),
    });
  }
  for (const gpu of catalog.all()) {
    const offer = cheapestOnDemand(gpu, catalog, book);
    if (!offer) continue;
    options.push({
      ...base,
      name: `cloud: ${gpu.name} (${offer.provider})`,
      kind: "cloud",
      gpu,
      priceUsd: null,
      priceRangeUsd: null,
      condition: null,
      resaleFraction: 0,
      priceSource: offer.source,
      priceDate: offer.date,
      priceFreshness: fresh(offer.date),
      cloud: offer,
      maxGpus: a.cloudMaxGpusPerInstance,
      sustainedFlopsPerS: sustainedMatmul(gpu).flopsPerS,
      ...power(gpu),
    });
  }
  // dominated: another option of the same kind costs no more and gives at least as much, and differs
  const cost = (o: HardwareOption) => (o.kind === "cloud" ? o.cloud!.usdPerHour : (o.priceUsd ?? Infinity));
  return options.map((o) => {
    if (o.kind === "current") return o;
    const by = options.find((x) => x !== o && x.kind === o.kind && cost(x) <= cost(o) && atLeast(x.gpu, o.gpu) && (cost(x) < cost(o) || !atLeast(o.gpu, x.gpu)));
    return by ? { ...o, dominatedBy: by.name } : o;
  });
}
