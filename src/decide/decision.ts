// The hardware decision: feasibility matrix, strategies over the horizon, the recommendation with a
// rationale drawn from the numbers, computed triggers, a sensitivity table and a summary Q&A.
// Integer bytes, seconds and dollars; the renderers in src/report format them.
import type { GpuCatalog } from "../hardware/catalog.js";
import type { Gpu } from "../hardware/gpu.js";
import type { Plan } from "../plan/load.js";
import { breakEvenMonthlyCloudSpendUsd, breakEvenUtilization, HOURS_PER_MONTH } from "./cost.js";
import { feasibilityCell, type Cell } from "./feasibility.js";
import { hardwareOptions, type HardwareOption, type PriceBook } from "./options.js";
import { cheapestCloudCell, chooseStrategy, MAX_LOCAL_UTILIZATION, type Knobs, type MatrixRow, type StrategyResult } from "./strategy.js";

export interface DecisionInput {
  readonly plan: Plan;
  readonly catalog: GpuCatalog;
  readonly current: Gpu;
  readonly currentSource: "nvidia-smi" | "--gpu" | "plan" | "default";
  readonly book: PriceBook;
  readonly horizonMonths?: number;
  readonly electricityUsdPerKwh?: number;
  /** busy share of the current card per month; scales the amount of core work */
  readonly utilization?: number;
}

export interface DecisionExperiment {
  readonly track: string;
  readonly track_name: string;
  readonly key: string;
  readonly name: string;
  readonly title: string;
  readonly stretch: boolean;
  readonly cpu_only: boolean;
  readonly runs: number;
  readonly model: string | null;
  readonly options: readonly Cell[];
}

export interface Trigger {
  readonly what: string;
  readonly threshold: number;
  readonly unit: string;
  readonly now: number | null;
}

export interface Decision {
  readonly plan: string;
  readonly data_date: string;
  readonly current_gpu: string;
  readonly current_gpu_source: DecisionInput["currentSource"];
  readonly assumptions: {
    readonly horizon_months: number;
    readonly electricity_usd_per_kwh: number;
    readonly cycle_months: number;
    readonly work_factor: number;
    readonly spot_overhead: number;
    readonly cloud_setup_hours_per_run: number;
    readonly sources: Readonly<Record<string, string>>;
  };
  readonly options: readonly {
    readonly name: string;
    readonly kind: HardwareOption["kind"];
    readonly gpu: string;
    readonly usable_bytes: number;
    readonly bandwidth_bytes_per_s: number;
    readonly bf16_flops_per_s: number;
    readonly price_usd: number | null;
    readonly price_range_usd: readonly [number, number] | null;
    readonly condition: string | null;
    readonly usd_per_hour: number | null;
    readonly provider: string | null;
    readonly price_date: string | null;
    readonly source: string;
    readonly run_watts: number;
  }[];
  readonly experiments: readonly DecisionExperiment[];
  readonly strategies: readonly StrategyResult[];
  readonly infeasible: readonly {
    readonly experiment: string;
    readonly title: string;
    readonly needs_bytes: number;
    readonly unlocked_by: readonly string[];
    readonly cheapest_cloud: { readonly option: string; readonly cost_usd: number; readonly seconds: number } | null;
  }[];
  readonly recommendation: { readonly choice: string; readonly option: string; readonly rationale: readonly string[] };
  readonly triggers: readonly Trigger[];
  readonly sensitivity: readonly { readonly factor: string; readonly value: number; readonly choice: string; readonly stay_cost_usd: number; readonly best_buy_cost_usd: number }[];
  readonly summary: readonly { readonly q: string; readonly a: string }[];
}

const usd = (x: number) => (x !== 0 && Math.abs(x) < 10 ? `$${x.toFixed(2)}` : `$${Math.round(x).toLocaleString("en-US")}`);
const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
const hours = (h: number) => (h < 1 ? `${Math.round(h * 60)} min` : `${h.toFixed(h < 10 ? 1 : 0)} h`);

export function decide(input: DecisionInput): Decision {
  const { plan, catalog, current, book } = input;
  const a = book.assumptions;
  const horizon = input.horizonMonths ?? a.horizonMonths;
  const electricity = input.electricityUsdPerKwh ?? a.electricityUsdPerKwh;
  const options = hardwareOptions(catalog, current, book);
  const assumptions = { ...a, electricityUsdPerKwh: electricity };
  const rows: MatrixRow[] = plan.experiments.map((ex) => ({ experiment: ex, cells: options.map((o) => feasibilityCell(ex, o, assumptions)) }));
  const currentIdx = 0;

  // work factor: by default the plan as written; --utilization rescales the core work so that the
  // current card is busy that share of the month
  const baseKnobs: Knobs = { horizonMonths: horizon, electricityUsdPerKwh: electricity, priceFactor: 1, workFactor: 1, cycleMonths: plan.cycleMonths };
  let workFactor = 1;
  if (input.utilization !== undefined) {
    const coreHoursPerMonth = rows.reduce((s, r) => s + (r.experiment.stretch || !r.cells[currentIdx]!.fits ? 0 : r.cells[currentIdx]!.seconds / 3600), 0) / plan.cycleMonths;
    workFactor = coreHoursPerMonth > 0 ? (input.utilization * HOURS_PER_MONTH) / coreHoursPerMonth : 1;
  }
  const knobs: Knobs = { ...baseKnobs, workFactor };
  const { best, all } = chooseStrategy(rows, options, knobs);
  const stay = all.find((s) => s.kind === "current")!;
  const buys = all.filter((s) => s.kind === "buy").sort((x, y) => x.horizon_cost_usd - y.horizon_cost_usd);
  const bestBuy = buys[0] ?? null;

  const experiments: DecisionExperiment[] = rows.map((r) => ({
    track: r.experiment.track,
    track_name: r.experiment.trackName,
    key: r.experiment.key,
    name: r.experiment.id,
    title: r.experiment.title,
    stretch: r.experiment.stretch,
    cpu_only: r.experiment.cpuOnly,
    runs: r.experiment.runs.length,
    model: r.experiment.modelName,
    options: r.cells,
  }));

  const infeasible = rows
    .filter((r) => !r.cells[currentIdx]!.fits)
    .map((r) => {
      const cloud = cheapestCloudCell(r);
      return {
        experiment: r.experiment.key,
        title: r.experiment.title,
        needs_bytes: r.cells[currentIdx]!.peak_bytes,
        unlocked_by: r.cells.filter((c) => c.fits && c.kind !== "current").map((c) => c.option),
        cheapest_cloud: cloud ? { option: cloud.option, cost_usd: cloud.cost_usd, seconds: cloud.seconds } : null,
      };
    });

  // --- triggers, computed -------------------------------------------------------------------------
  const triggers: Trigger[] = [];
  const coreRows = rows.filter((r) => !r.experiment.stretch && !r.experiment.cpuOnly);
  if (bestBuy) {
    const opt = options.find((o) => o.name === bestBuy.option)!;
    // compare with renting the same card when the cloud has it (s = 1); else with the cloud offer that
    // runs the core plan cheapest, at the measured speed ratio between the two
    const same = options.find((o) => o.kind === "cloud" && o.gpu.name === opt.gpu.name);
    let cloudOpt = same;
    let speedRatio = 1;
    if (!cloudOpt) {
      const idx = options.map((o, i) => ({ o, i })).filter(({ o }) => o.kind === "cloud");
      let bestCost = Infinity;
      for (const { o, i } of idx) {
        const cells = coreRows.map((r) => r.cells[i]!);
        if (cells.some((c) => !c.fits)) continue;
        const cost = cells.reduce((s, c) => s + c.cost_usd, 0);
        if (cost < bestCost) {
          bestCost = cost;
          cloudOpt = o;
        }
      }
      if (cloudOpt) {
        const ci = options.indexOf(cloudOpt);
        const oi = options.indexOf(opt);
        const localS = coreRows.reduce((s, r) => s + r.cells[oi]!.seconds, 0);
        const cloudS = coreRows.reduce((s, r) => s + r.cells[ci]!.seconds, 0);
        if (localS > 0 && cloudS > 0) speedRatio = localS / cloudS;
      }
    }
    if (cloudOpt?.cloud) {
      const own = { priceUsd: opt.priceUsd ?? 0, resaleFraction: opt.resaleFraction, horizonMonths: horizon, runWatts: opt.runWatts, idleWatts: opt.idleWatts, electricityUsdPerKwh: electricity };
      const cloud = { usdPerHour: cloudOpt.cloud.usdPerHour, spotOverhead: 1, speedRatio };
      const x = breakEvenMonthlyCloudSpendUsd(own, cloud);
      const u = breakEvenUtilization(own, cloud);
      if (x !== null) triggers.push({ what: `monthly cloud GPU spend above which buying ${opt.gpu.name} pays for itself (against renting ${cloudOpt.gpu.name} at $${cloudOpt.cloud.usdPerHour.toFixed(2)}/h)`, threshold: Math.round(x), unit: "USD/month", now: stay.cloud_usd_per_month });
      if (u !== null) triggers.push({ what: `GPU busy share above which owning ${opt.gpu.name} beats renting ${cloudOpt.gpu.name}`, threshold: Math.round(u * 1000) / 1000, unit: "share of hours", now: stay.utilization });
    }
    // price at which buying ties with staying at today's usage: total is linear in the price
    const slope = 1 - opt.resaleFraction;
    const tie = (opt.priceUsd ?? 0) - (bestBuy.horizon_cost_usd - stay.horizon_cost_usd) / slope;
    if (tie > 0) triggers.push({ what: `${opt.gpu.name} price below which buying costs no more than staying over ${horizon} months`, threshold: Math.round(tie), unit: "USD", now: opt.priceUsd });
  }
  // how much more work flips the answer to buying: bisect the work factor
  if (best.kind === "current" && buys.length > 0) {
    const flips = (f: number) => chooseStrategy(rows, options, { ...knobs, workFactor: workFactor * f }).best.kind === "buy";
    // scan geometrically for the first amount of work that flips the answer, then bisect below it
    let lo = 1;
    let hi = 0;
    for (let f = 1.25; f <= 10000; f *= 1.25) {
      if (flips(f)) {
        hi = f;
        break;
      }
      lo = f;
    }
    if (hi > 0) {
      for (let i = 0; i < 20; i++) {
        const mid = Math.sqrt(lo * hi);
        if (flips(mid)) hi = mid;
        else lo = mid;
      }
      const at = chooseStrategy(rows, options, { ...knobs, workFactor: workFactor * hi });
      const stayAt = at.all.find((s) => s.kind === "current")!;
      triggers.push({ what: `GPU hours of work per month above which ${at.best.choice.replace(/^buy /, "buying ")} becomes cheaper than staying (${hi.toFixed(1)}x the plan's work; beyond ${Math.round(MAX_LOCAL_UTILIZATION * 100)}% busy the overflow is rented)`, threshold: Math.round((stay.local_hours_per_month * hi * 10)) / 10, unit: "hours/month", now: stay.local_hours_per_month });
    }
  }
  // cloud price at which staying stops winning
  if (bestBuy && stay.bursts.length > 0) {
    const burstCost = stay.bursts.reduce((s, b) => s + b.cost_usd, 0);
    const extra = bestBuy.horizon_cost_usd - stay.horizon_cost_usd;
    if (burstCost > 0) triggers.push({ what: "rise in cloud prices above which buying beats bursting", threshold: Math.round((1 + extra / burstCost) * 100) / 100, unit: "x today's prices", now: 1 });
  }

  // --- sensitivity --------------------------------------------------------------------------------
  const sensitivity: Decision["sensitivity"][number][] = [];
  const probe = (factor: string, value: number, k: Knobs) => {
    const r = chooseStrategy(rows, options, k);
    const b = r.all.filter((s) => s.kind === "buy").sort((x, y) => x.horizon_cost_usd - y.horizon_cost_usd)[0];
    sensitivity.push({ factor, value, choice: r.best.choice, stay_cost_usd: r.all.find((s) => s.kind === "current")!.horizon_cost_usd, best_buy_cost_usd: b?.horizon_cost_usd ?? 0 });
  };
  for (const f of [0.7, 1, 1.3]) probe("purchase price (x today)", f, { ...knobs, priceFactor: f });
  for (const f of [0.5, 1, 2, 4, 8]) probe("amount of work (x the plan)", f, { ...knobs, workFactor: workFactor * f });
  for (const h of [12, 24, 36]) probe("horizon (months)", h, { ...knobs, horizonMonths: h });
  for (const e of [0.15, 0.25, 0.4]) probe("electricity (USD/kWh)", e, { ...knobs, electricityUsdPerKwh: e });

  // --- rationale, from the numbers ------------------------------------------------------------------
  const gpuCore = coreRows.length;
  const fitAsPlanned = coreRows.filter((r) => r.cells[currentIdx]!.fits && r.cells[currentIdx]!.changes.length === 0).length;
  const fitChanged = coreRows.filter((r) => r.cells[currentIdx]!.fits && r.cells[currentIdx]!.changes.length > 0);
  const stretchRows = rows.filter((r) => r.experiment.stretch);
  const stretchLocal = stretchRows.filter((r) => r.cells[currentIdx]!.fits).length;
  const rationale: string[] = [];
  rationale.push(`${fitAsPlanned + fitChanged.length} of ${gpuCore} core GPU experiments run on the ${current.name}${fitChanged.length ? ` (${fitChanged.map((r) => `${r.experiment.id} with ${r.cells[currentIdx]!.changes.join(" + ")}`).join("; ")})` : ""}; the core plan keeps it busy ${hours(stay.local_hours_per_month)} a month (${pct(stay.utilization)} of the time).`);
  rationale.push(`${stretchLocal} of ${stretchRows.length} stretch experiments fit it; bursting the other ${stay.bursts.length} to the cheapest cloud card that fits costs ${usd(stay.bursts.reduce((s, b) => s + b.cost_usd, 0))} over ${horizon} months.`);
  if (bestBuy) {
    const unlocks = bestBuy.runs_locally.filter((k) => !stay.runs_locally.includes(k));
    rationale.push(`The best purchase, ${bestBuy.choice}, costs ${usd(bestBuy.capex_usd)} (about ${usd(bestBuy.resale_usd)} back at resale) and ${usd(bestBuy.horizon_cost_usd)} in all over ${horizon} months, against ${usd(stay.horizon_cost_usd)} for staying${unlocks.length ? `; it would run ${unlocks.join(", ")} locally` : ""}.`);
    const tr = triggers.find((t) => t.unit === "USD/month");
    if (tr) rationale.push(`Buying pays only once cloud spend passes ${usd(tr.threshold)}/month; staying spends ${usd(stay.cloud_usd_per_month)}/month on bursts.`);
  }
  if (stay.impossible.length) rationale.push(`Nothing in the catalog runs ${stay.impossible.join(", ")} as planned.`);
  if (best.kind === "current") rationale.push(`So: keep the ${current.name} for the core tracks and rent cloud GPUs by the hour for the rest.`);
  else rationale.push(`So: buy ${best.choice.replace(/^buy /, "")}; it is ${usd(stay.horizon_cost_usd - best.horizon_cost_usd)} cheaper than staying over ${horizon} months.`);

  const choice = best.kind === "current" ? "stay, and burst to the cloud" : best.choice;
  const burstOptions = [...new Set(stay.bursts.map((b) => b.option))];
  const summary = [
    { q: `Can the ${current.name} do the lab?`, a: `The core tracks, yes: ${fitAsPlanned + fitChanged.length} of ${gpuCore} GPU experiments fit, ${hours(stay.local_hours_per_month)} of GPU time a month.` },
    { q: "What can it not do?", a: infeasible.length ? infeasible.map((i) => `${i.experiment} (needs ${gib(i.needs_bytes)})`).join("; ") : "Nothing in this plan." },
    { q: "Should I buy a bigger card?", a: best.kind === "current" ? `Not now: ${bestBuy ? `the best purchase costs ${usd((bestBuy?.horizon_cost_usd ?? 0) - stay.horizon_cost_usd)} more than staying over ${horizon} months.` : "no purchase candidate is priced."}` : `Yes: ${best.choice}.` },
    { q: "Where do I burst?", a: burstOptions.length ? burstOptions.join("; ") : "Nowhere: everything runs locally." },
    { q: "When should I reconsider?", a: triggers.filter((t) => t.unit === "USD/month" || t.unit === "hours/month").map((t) => `${t.unit === "USD/month" ? `when cloud spend passes ${usd(t.threshold)}/month` : `when the work passes ${t.threshold} GPU-hours/month`}`).join(", or ") || "When the plan changes." },
  ];

  return {
    plan: plan.name,
    data_date: book.date,
    current_gpu: current.name,
    current_gpu_source: input.currentSource,
    assumptions: {
      horizon_months: horizon,
      electricity_usd_per_kwh: electricity,
      cycle_months: plan.cycleMonths,
      work_factor: Math.round(workFactor * 1000) / 1000,
      spot_overhead: a.spotOverhead,
      cloud_setup_hours_per_run: a.cloudSetupHoursPerRun,
      sources: a.sources,
    },
    options: options.map((o) => ({
      name: o.name,
      kind: o.kind,
      gpu: o.gpu.name,
      usable_bytes: o.gpu.usableBytes,
      bandwidth_bytes_per_s: o.gpu.memBandwidthBytesPerS,
      bf16_flops_per_s: o.gpu.bf16DenseFlopsPerS,
      price_usd: o.priceUsd,
      price_range_usd: o.priceRangeUsd,
      condition: o.condition,
      usd_per_hour: o.cloud?.usdPerHour ?? null,
      provider: o.cloud?.provider ?? null,
      price_date: o.cloud?.date ?? (o.kind === "buy" ? book.date : null),
      source: o.priceSource,
      run_watts: o.runWatts,
    })),
    experiments,
    strategies: all,
    infeasible,
    recommendation: { choice, option: best.option, rationale },
    triggers,
    sensitivity,
    summary,
  };
}
