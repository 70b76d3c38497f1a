// The hardware decision: feasibility matrix with verdicts, strategies over the horizon, the recommendation with
// a rationale drawn from the numbers and the plan's goal, triggers found by the same chooser, a sensitivity
// table and a summary Q&A. Integer bytes, seconds and dollars; the renderers in src/report format them.
import { currentCalibration } from "../engines/calibration.js";
import { archFacts } from "../hardware/arch.js";
import type { GpuCatalog } from "../hardware/catalog.js";
import type { Gpu } from "../hardware/gpu.js";
import { today as todayIso } from "../hardware/prices.js";
import { sustainedMatmul } from "../hardware/sustained.js";
import type { Plan } from "../plan/load.js";
import { HOURS_PER_MONTH } from "./cost.js";
import { isEvaluation } from "../runs/evaluation-plan.js";
import { isInspection } from "../runs/inspect-plan.js";
import { feasibilityCell, type Cell, type Verdict } from "./feasibility.js";
import { hardwareOptions, type HardwareOption, type PriceBook } from "./options.js";
import { chooseStrategy, MAX_LOCAL_UTILIZATION, preferredCloudRun, type CloudRun, type Knobs, type MatrixRow, type StrategyResult } from "./strategy.js";

export type { CloudRun } from "./strategy.js";
import { computeTriggers, type Trigger } from "./triggers.js";

export type { Trigger } from "./triggers.js";

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
  /** idle wall power charged to each owned card, replacing the per-class assumption */
  readonly idleWatts?: number;
  /** the day the document is written (YYYY-MM-DD), for price freshness; default today */
  readonly asOf?: string;
}

export interface DecisionExperiment {
  readonly track: string;
  readonly track_name: string;
  readonly key: string;
  readonly name: string;
  readonly title: string;
  readonly stretch: boolean;
  readonly cpu_only: boolean;
  /** runs `fitlab run` records: one per sweep value or repetition; one for an inspection (Track B or C), which
   *  is one worker job whatever its plan's runs say (the probes it fits, the passes it makes) */
  readonly runs: number;
  readonly model: string | null;
  readonly impact: string | null;
  /** one cell per option, same order as `options` */
  readonly options: readonly Cell[];
  /** where it would be rented (the cheapest cloud offer that fits without risk, else the cheapest tight one) */
  readonly cloud_run: CloudRun | null;
  /** training experiments with a run section: the loss `fitlab run` uses for them (its run.loss, else "auto":
   *  fused on CUDA cards of compute capability 8.0+, chunked elsewhere); null otherwise. The estimates above
   *  follow the plan's workload, whose engine may use the standard loss. */
  readonly run_loss: "auto" | "standard" | "chunked" | "fused" | null;
}

export interface TrackVerdict {
  readonly id: string;
  readonly name: string;
  readonly stretch: boolean;
  /** yes: every GPU experiment fits the current card; partly: some need another card; no: none fits */
  readonly verdict: "yes" | "partly" | "no";
  readonly gpu_experiments: number;
  readonly fit: readonly string[];
  readonly tight: readonly string[];
  readonly not_here: readonly string[];
  /** GPU seconds of one pass through the track on the current card (experiments that fit) */
  readonly gpu_seconds_per_pass: number;
}

export interface Unlock {
  readonly option: string;
  readonly verdict: Verdict;
  readonly gpus: number;
  readonly changes: readonly string[];
  readonly departs_from_plan: readonly string[];
  /** tight: the changes with which it fits without risk there, when there are any */
  readonly safe: Cell["safe"];
}

export interface Decision {
  readonly plan: string;
  readonly plan_goal: string | null;
  /** when the price file was last reviewed */
  readonly data_date: string;
  /** the day this document was written (price freshness is judged on it) */
  readonly as_of: string;
  readonly current_gpu: string;
  readonly current_gpu_source: DecisionInput["currentSource"];
  readonly current_card: {
    readonly name: string;
    readonly arch: string;
    readonly family: string;
    readonly sm: string;
    readonly compute_capability: string;
    readonly min_cuda: string | null;
    readonly min_torch: string | null;
    readonly tensor_formats: readonly string[];
    readonly notes: readonly string[];
    readonly mem_type: string;
    readonly usable_bytes: number;
    readonly bandwidth_bytes_per_s: number;
    readonly nominal_flops_per_s: number;
    readonly sustained_flops_per_s: number;
    readonly sustained_detail: string;
    readonly run_watts: number;
    readonly idle_watts: number;
  };
  readonly assumptions: {
    readonly horizon_months: number;
    readonly electricity_usd_per_kwh: number;
    readonly cycle_months: number;
    readonly work_factor: number;
    readonly spot_overhead: number;
    readonly cloud_setup_hours_per_run: number;
    readonly max_local_utilization: number;
    /** idle power charged to the current card, and what it stands for */
    readonly idle_watts: number;
    readonly idle_assumption: string;
    readonly sources: Readonly<Record<string, string>>;
  };
  readonly prices: {
    readonly stale_after_months: number;
    readonly stale: readonly { readonly option: string; readonly date: string }[];
    readonly undated: readonly string[];
    readonly oldest: string | null;
  };
  readonly options: readonly {
    readonly name: string;
    readonly kind: HardwareOption["kind"];
    readonly gpu: string;
    readonly usable_bytes: number;
    readonly bandwidth_bytes_per_s: number;
    readonly bf16_flops_per_s: number;
    readonly sustained_flops_per_s: number;
    readonly price_usd: number | null;
    readonly price_range_usd: readonly [number, number] | null;
    readonly condition: string | null;
    readonly usd_per_hour: number | null;
    readonly provider: string | null;
    readonly max_gpus: number;
    readonly price_date: string | null;
    readonly price_freshness: string | null;
    readonly source: string;
    readonly run_watts: number;
    readonly idle_watts: number;
    readonly upgrade: boolean;
    readonly not_upgrade: string | null;
    readonly dominated_by: string | null;
  }[];
  /** what "tight" is measured against: the estimate band's half-width, and how the cross-validated
   *  measurements fell (cases, and how many were more than the band above their estimate) */
  readonly uncertainty: { readonly band: number; readonly cases: number | null; readonly exceeded_band: number | null };
  readonly experiments: readonly DecisionExperiment[];
  readonly tracks: readonly TrackVerdict[];
  readonly strategies: readonly StrategyResult[];
  readonly infeasible: readonly {
    readonly experiment: string;
    readonly title: string;
    /** per GPU when `gpus` > 1 */
    readonly needs_bytes: number;
    readonly gpus: number;
    readonly unlocked_by: readonly Unlock[];
    /** where the decision rents it: the cheapest cloud offer that fits without risk, else the cheapest tight one */
    readonly cloud_run: CloudRun | null;
  }[];
  readonly recommendation: {
    readonly choice: string;
    readonly option: string;
    readonly best_upgrade: string | null;
    readonly rationale: readonly string[];
    /** the reasons that are not numbers: what the lab is for, when to look again */
    readonly qualitative: readonly string[];
  };
  readonly triggers: readonly Trigger[];
  /** inputs scanned without any change of the recommendation, in words */
  readonly stable_under: readonly string[];
  readonly sensitivity: readonly { readonly factor: string; readonly value: number; readonly choice: string; readonly stay_cost_usd: number; readonly best_buy_cost_usd: number | null }[];
  readonly summary: readonly { readonly q: string; readonly a: string }[];
}

// the rationale is prose written here (the renderers print it as is): money without Intl, which costs start-up time
const usd = (x: number) => (x !== 0 && Math.abs(x) < 10 ? `$${x.toFixed(2)}` : `$${String(Math.round(x)).replace(/\B(?=(\d{3})+(?!\d))/g, ",")}`);
const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
const hours = (h: number) => (h < 1 ? `${Math.round(h * 60)} min` : `${h.toFixed(h < 10 ? 1 : 0)} h`);
const short = (option: string) => option.replace(/^(current|buy|cloud): /, "");
const list = (xs: readonly string[]) => (xs.length <= 1 ? xs.join("") : `${xs.slice(0, -1).join(", ")} and ${xs.at(-1)}`);

export function decide(input: DecisionInput): Decision {
  const { plan, catalog, current, book } = input;
  const a = book.assumptions;
  const asOf = input.asOf ?? todayIso();
  const horizon = input.horizonMonths ?? a.horizonMonths;
  const electricity = input.electricityUsdPerKwh ?? a.electricityUsdPerKwh;
  const options = hardwareOptions(catalog, current, book, asOf, input.idleWatts);
  const assumptions = { ...a, electricityUsdPerKwh: electricity };
  const rows: MatrixRow[] = plan.experiments.map((ex) => ({ experiment: ex, cells: options.map((o) => feasibilityCell(ex, o, assumptions, plan.experiments)) }));
  const here = (r: MatrixRow) => r.cells[0]!;

  // work factor: by default the plan as written; --utilization rescales the core work so that the
  // current card is busy that share of the month
  const baseKnobs: Knobs = { horizonMonths: horizon, electricityUsdPerKwh: electricity, priceFactor: 1, workFactor: 1, cloudPriceFactor: 1, stretchFactor: 1, cycleMonths: plan.cycleMonths };
  let workFactor = 1;
  if (input.utilization !== undefined) {
    const coreHoursPerMonth = rows.reduce((s, r) => s + (r.experiment.stretch || !here(r).fits ? 0 : here(r).seconds / 3600), 0) / plan.cycleMonths;
    workFactor = coreHoursPerMonth > 0 ? (input.utilization * HOURS_PER_MONTH) / coreHoursPerMonth : 1;
  }
  const knobs: Knobs = { ...baseKnobs, workFactor };
  const { best, bestBuy, all } = chooseStrategy(rows, options, knobs);
  const stay = all.find((s) => s.kind === "current")!;

  const experiments: DecisionExperiment[] = rows.map((r) => ({
    track: r.experiment.track,
    track_name: r.experiment.trackName,
    key: r.experiment.key,
    name: r.experiment.id,
    title: r.experiment.title,
    stretch: r.experiment.stretch,
    cpu_only: r.experiment.cpuOnly,
    runs: isInspection(r.experiment) || isEvaluation(r.experiment) ? 1 : r.experiment.runs.length,
    model: r.experiment.modelName,
    impact: r.experiment.impact,
    options: r.cells,
    cloud_run: r.experiment.cpuOnly ? null : preferredCloudRun(r),
    run_loss: r.experiment.run && ["full", "lora", "qlora"].includes(r.experiment.runs[0]?.workload.kind ?? "") ? (r.experiment.run.loss ?? "auto") : null,
  }));
  const cal = currentCalibration();
  const uncertainty = { band: cal.bandMemory, cases: cal.heldOut?.cases ?? null, exceeded_band: cal.heldOut ? cal.heldOut.above.filter((x) => x > cal.bandMemory).length : null };

  // --- verdict per track --------------------------------------------------------------------------------
  const trackIds = [...new Set(rows.map((r) => r.experiment.track))];
  const tracks: TrackVerdict[] = trackIds.map((id) => {
    const tr = rows.filter((r) => r.experiment.track === id);
    const gpuRows = tr.filter((r) => !r.experiment.cpuOnly);
    const fit = gpuRows.filter((r) => here(r).fits).map((r) => r.experiment.key);
    const tight = gpuRows.filter((r) => here(r).verdict === "tight").map((r) => r.experiment.key);
    const notHere = gpuRows.filter((r) => !here(r).fits).map((r) => r.experiment.key);
    return {
      id,
      name: tr[0]!.experiment.trackName,
      stretch: tr[0]!.experiment.stretch,
      verdict: notHere.length === 0 ? "yes" : fit.length === 0 ? "no" : "partly",
      gpu_experiments: gpuRows.length,
      fit,
      tight,
      not_here: notHere,
      gpu_seconds_per_pass: gpuRows.filter((r) => here(r).fits).reduce((s, r) => s + here(r).seconds, 0),
    };
  });

  const infeasible = rows
    .filter((r) => !here(r).fits)
    .map((r) => {
      return {
        experiment: r.experiment.key,
        title: r.experiment.title,
        needs_bytes: here(r).peak_bytes,
        gpus: here(r).gpus,
        unlocked_by: r.cells.filter((c) => c.fits && c.kind !== "current").map((c): Unlock => ({ option: c.option, verdict: c.verdict, gpus: c.gpus, changes: c.changes, departs_from_plan: c.departs_from_plan, safe: c.safe })),
        cloud_run: experiments[rows.indexOf(r)]!.cloud_run,
      };
    });

  // --- triggers: where the same chooser would choose differently ----------------------------------------------
  const scan = computeTriggers({ rows, options, knobs }, current.name);
  const triggers: Trigger[] = scan.triggers;
  // always-on access: not a cost threshold but a need; the figure shows what renting around the clock would cost
  const coreGpuRows = rows.filter((r) => !r.experiment.stretch && !r.experiment.cpuOnly);
  const allCoreCloud = options
    .map((o, i) => ({ o, i }))
    .filter(({ o, i }) => o.kind === "cloud" && coreGpuRows.every((r) => r.cells[i]!.fits))
    .sort((x, y) => x.o.cloud!.usdPerHour - y.o.cloud!.usdPerHour)[0];
  triggers.push({
    id: "always-on",
    kind: "qualitative",
    what: "always-on access: if you come to need a GPU around the clock (a model served to others, an agent, runs that must not wait or be interrupted), owning wins whatever the numbers above say",
    direction: null,
    threshold: null,
    unit: "",
    now: null,
    passed: false,
    becomes: bestBuy?.choice ?? null,
    knob: null,
    note: allCoreCloud ? `renting the cheapest cloud card that runs the core plan, a ${allCoreCloud.o.gpu.name} at ${allCoreCloud.o.cloud!.provider}, around the clock costs ${usd(allCoreCloud.o.cloud!.usdPerHour * HOURS_PER_MONTH)}/month` : null,
  });

  // --- sensitivity ---------------------------------------------------------------------------------------
  const sensitivity: Decision["sensitivity"][number][] = [];
  const probe = (factor: string, value: number, k: Knobs) => {
    const r = chooseStrategy(rows, options, k);
    sensitivity.push({ factor, value, choice: r.best.choice, stay_cost_usd: r.all.find((s) => s.kind === "current")!.horizon_cost_usd, best_buy_cost_usd: r.bestBuy?.horizon_cost_usd ?? null });
  };
  for (const f of [0.7, 1, 1.3]) probe("purchase prices (x today)", f, { ...knobs, priceFactor: f });
  for (const f of [0.5, 1, 2, 4]) probe("cloud rates (x today)", f, { ...knobs, cloudPriceFactor: f });
  for (const f of [0.5, 1, 2, 4, 8]) probe("amount of core work (x the plan)", f, { ...knobs, workFactor: workFactor * f });
  for (const h of [12, 24, 36]) probe("horizon (months)", h, { ...knobs, horizonMonths: h });
  for (const e of [0.15, 0.25, 0.4]) probe("electricity (USD/kWh)", e, { ...knobs, electricityUsdPerKwh: e });

  // --- prices: how fresh -------------------------------------------------------------------------------------
  const priced = options.filter((o) => o.kind !== "current");
  const stale = priced.filter((o) => o.priceFreshness === "stale").map((o) => ({ option: o.name, date: o.priceDate! }));
  const undated = priced.filter((o) => o.priceFreshness === "undated").map((o) => o.name);
  const dates = priced.map((o) => o.priceDate).filter((d): d is string => d !== null).sort();

  // --- rationale, from the numbers ----------------------------------------------------------------------------
  const coreTracks = tracks.filter((t) => !t.stretch);
  const gpuCore = coreGpuRows.length;
  const coreFit = coreGpuRows.filter((r) => here(r).fits);
  const coreTight = coreGpuRows.filter((r) => here(r).verdict === "tight");
  const coreChanged = coreFit.filter((r) => here(r).changes.length > 0);
  const stretchRows = rows.filter((r) => r.experiment.stretch && !r.experiment.cpuOnly);
  const stretchLocal = stretchRows.filter((r) => here(r).fits).length;
  const burstCost = stay.bursts.reduce((s, b) => s + b.cost_usd, 0);
  const curUsable = gib(current.usableBytes);
  // tight, in words: the room left, how often held-out measurements went past it, and the way out
  const tightWords = (cells: readonly Cell[]) => {
    const margins = cells.map((c) => c.margin ?? 0);
    const room = margins.length > 1 ? `${pct(Math.min(...margins))} to ${pct(Math.max(...margins))}` : pct(margins[0] ?? 0);
    const risks = cells.map((c) => c.risk).filter((x): x is NonNullable<Cell["risk"]> => x !== null);
    const seen = risks.length ? ` (of ${risks[0]!.cases} published measurements the planner was not fitted on, ${risks.length > 1 ? `${Math.min(...risks.map((x) => x.exceeded))} to ${Math.max(...risks.map((x) => x.exceeded))}` : risks[0]!.exceeded} came out that much above their estimate)` : "";
    const safe = cells.filter((c) => c.safe !== null).length;
    const way = safe === cells.length ? `; ${cells.length > 1 ? "each has" : "it has"} a change that fits even the top of the band (the track tables name it)` : safe > 0 ? `; ${safe} of them ${safe > 1 ? "have" : "has"} a change that fits even the top of the band` : "";
    return `the expected peak leaves ${room} of it free, less than the estimate's ±${(uncertainty.band * 100).toFixed(1)}% uncertainty, so a run can run out of memory if its real peak comes out higher${seen}${way}`;
  };
  const rationale: string[] = [];
  rationale.push(
    `${coreFit.length} of ${gpuCore} core GPU experiments run on the ${current.name}${coreChanged.length ? ` (${coreChanged.map((r) => `${r.experiment.id} with ${here(r).changes.join(" + ")}`).join("; ")})` : ""}${coreTight.length ? `; ${list(coreTight.map((r) => r.experiment.id))} ${coreTight.length > 1 ? "are" : "is"} tight: ${tightWords(coreTight.map(here))}` : ""}; the core plan keeps it busy ${hours(stay.local_hours_per_month)} a month (${pct(stay.utilization)} of the time).`,
  );
  const rentedTight = stay.bursts.filter((b) => !b.experiment.endsWith("(overflow)") && b.verdict === "tight").map((b) => b.experiment);
  if (stretchRows.length) rationale.push(`${stretchLocal} of ${stretchRows.length} stretch experiments fit it; renting the other ${stay.bursts.filter((b) => !b.experiment.endsWith("(overflow)")).length} once on the cheapest cloud offer that runs each without risk of running out of memory costs ${usd(burstCost)} over ${horizon} months${rentedTight.length ? ` (${list(rentedTight)}: no cloud offer fits ${rentedTight.length > 1 ? "them" : "it"} with the whole band, so the cheapest tight one is counted)` : ""}.`);
  const bd = stay.breakdown;
  rationale.push(`Staying costs ${usd(stay.horizon_cost_usd)} over ${horizon} months: ${usd(bd.job_electricity_usd)} of electricity during jobs, ${usd(bd.idle_electricity_usd)} for the card's idle draw (${bd.idle_watts} W assumed whenever it is not busy; its own line in the assumptions) and ${usd(bd.cloud_usd)} of cloud bursts.`);
  const notUpgrades = options.filter((o) => o.kind === "buy" && !o.upgrade);
  if (bestBuy) {
    const opt = options.find((o) => o.name === bestBuy.option)!;
    const unlocks = bestBuy.runs_locally.filter((k) => !stay.runs_locally.includes(k));
    const idx = options.indexOf(opt);
    const withChanges = unlocks.map((k) => {
      const c = rows.find((r) => r.experiment.key === k)!.cells[idx]!;
      const departs = c.departs_from_plan.map((d) => d.replace(/^(\w+): (\S+) -> (\S+)$/, "runs $1 $3, not $2 as its title says"));
      const tight = c.verdict === "tight" ? "tight" : "";
      return c.changes.length ? `${k} (${tight ? `${tight}, ` : ""}only with ${c.changes.join(", ")}${departs.length ? `; ${departs.join(", ")}` : ""})` : tight ? `${k} (${tight})` : k;
    });
    rationale.push(`The cheapest upgrade, ${bestBuy.choice.replace(/^buy /, "a ")}, costs ${usd(bestBuy.capex_usd)} (about ${usd(bestBuy.resale_usd)} back at resale) and ${usd(bestBuy.horizon_cost_usd)} in all over ${horizon} months, against ${usd(stay.horizon_cost_usd)} for staying${unlocks.length ? `; it would run ${list(withChanges)} locally` : ""}.`);
  } else {
    rationale.push(`No purchase candidate is an upgrade on the ${current.name} (at least its memory, sustained throughput and bandwidth).`);
  }
  if (notUpgrades.length) rationale.push(`Not counted as upgrades: ${notUpgrades.map((o) => `the ${short(o.name)}, ${o.notUpgrade}`).join("; ")}.`);
  if (stay.impossible.length) rationale.push(`Nothing in the catalog runs ${list(stay.impossible)} as planned.`);
  if (best.kind === "current") rationale.push(`So: keep the ${current.name} for the core tracks and rent cloud GPUs by the hour for the rest.`);
  else rationale.push(`So: buy ${best.choice.replace(/^buy /, "")}; it is ${usd(stay.horizon_cost_usd - best.horizon_cost_usd)} cheaper than staying over ${horizon} months.`);

  const qualitative: string[] = [];
  const coreAll = coreTracks.every((t) => t.verdict === "yes");
  if (plan.goal) qualitative.push(`What the lab is for: ${plan.goal}. ${coreAll ? `Every core track runs on the ${current.name}, so the card meets that goal; a bigger card would make runs faster, not teach more.` : `Not every core track runs on the ${current.name}: ${coreTracks.filter((t) => t.verdict !== "yes").map((t) => `track ${t.id}`).join(", ")} need${coreTracks.filter((t) => t.verdict !== "yes").length > 1 ? "" : "s"} another card or the cloud.`}`);
  const stretchImpact = stretchRows.filter((r) => r.experiment.impact?.startsWith("high"));
  if (stretchImpact.length) qualitative.push(`The stretch work with the highest impact on the lab's goals (${list(stretchImpact.map((r) => r.experiment.id))}) ${stretchImpact.every((r) => here(r).fits) ? "runs on the current card" : "can be rented when it is reached"}.`);
  qualitative.push(`Reassess after the first pass through the lab (${plan.cycleMonths} months): by then \`fitlab runs\` holds measured run times and peaks in place of these estimates, and you know which stretch directions you want.`);
  if (stale.length || undated.length) qualitative.push(`Before buying, re-price: ${stale.length} of ${priced.length} prices here are more than ${book.staleAfterMonths} months old${dates[0] ? ` (oldest ${dates[0]})` : ""}${undated.length ? `, ${undated.length} undated` : ""}; \`--prices FILE\` replaces them.`);

  const choice = best.kind === "current" ? "stay, and burst to the cloud" : best.choice;
  const burstGroups = new Map<string, string[]>();
  for (const b of stay.bursts) {
    const how = [b.verdict === "tight" ? "tight" : "", b.changes.length ? `with ${b.changes.join(" + ")}` : ""].filter(Boolean).join(", ");
    const label = `${short(b.option)}${b.gpus > 1 ? ` ×${b.gpus}` : ""}${how ? ` (${how})` : ""}`;
    burstGroups.set(label, [...(burstGroups.get(label) ?? []), b.experiment]);
  }
  const burstLabels = [...burstGroups.entries()].map(([label, keys]) => `${label} for ${list(keys)}`);
  const computed = triggers.filter((t) => t.kind === "computed");
  const trigWords = (t: Trigger) =>
    t.unit === "USD/month" ? `cloud spend on bursts passes ${usd(t.threshold!)}/month` : t.unit === "GPU-hours/month" ? `core work passes ${Math.round(t.threshold!)} GPU-hours a month` : t.unit === "USD" ? `the ${t.what.replace(/^price of the /, "").replace(/, (above|below) which.*$/, "")} costs ${t.direction === "below" ? "less" : "more"} than ${usd(t.threshold!)}` : `cloud rates reach ${t.threshold!.toFixed(1)}× today's`;
  const summary = [
    { q: `Can the ${current.name} do the lab?`, a: coreTracks.map((t) => `Track ${t.id} (${t.name}): ${t.verdict}${t.verdict !== "no" ? `, ${t.fit.length} of ${t.gpu_experiments} GPU experiments fit` : ""}${t.tight.length ? ` (${list(t.tight.map((k) => k.split(".")[1]!))} tight: less room than the estimate's uncertainty, so they can run out of memory; the track table gives the odds and the change that removes the risk)` : ""}`).join("; ") + "." },
    { q: "What can it not do?", a: infeasible.length ? `${infeasible.map((i) => `${i.experiment} (needs ${gib(i.needs_bytes)}${i.gpus > 1 ? ` per GPU × ${i.gpus} GPUs` : ""})`).join("; ")}.` : "Nothing in this plan." },
    { q: "Should I buy a different card?", a: best.kind === "current" ? `Not now: ${bestBuy ? `the cheapest upgrade (${bestBuy.choice.replace(/^buy /, "")}) costs ${usd(bestBuy.horizon_cost_usd - stay.horizon_cost_usd)} more than staying over ${horizon} months.` : `no purchase candidate is an upgrade on the ${current.name}.`}` : `Yes: ${best.choice}.` },
    { q: "Where do I burst?", a: burstLabels.length ? `${burstLabels.join("; ")}.` : "Nowhere: everything runs locally." },
    { q: "When should I reconsider?", a: [...computed.filter((t) => t.direction === (best.kind === "current" ? "above" : "below") || t.unit === "USD").map((t) => `when ${trigWords(t)}`), "if you need a GPU always on", `after the first pass through the lab (${plan.cycleMonths} months)`].join("; ") + "." },
  ];

  const curSustained = sustainedMatmul(current);
  const arch = archFacts(current);
  const curOpt = options[0]!;
  return {
    plan: plan.name,
    plan_goal: plan.goal,
    data_date: book.reviewed,
    as_of: asOf,
    current_gpu: current.name,
    current_gpu_source: input.currentSource,
    current_card: {
      name: current.name,
      arch: current.arch,
      family: arch.family,
      sm: arch.sm,
      compute_capability: arch.computeCapability,
      min_cuda: arch.minCuda,
      min_torch: arch.minTorch,
      tensor_formats: arch.tensorFormats,
      notes: arch.notes,
      mem_type: current.memType,
      usable_bytes: current.usableBytes,
      bandwidth_bytes_per_s: current.memBandwidthBytesPerS,
      nominal_flops_per_s: current.bf16DenseFlopsPerS,
      sustained_flops_per_s: curSustained.flopsPerS,
      sustained_detail: curSustained.detail,
      run_watts: curOpt.runWatts,
      idle_watts: curOpt.idleWatts,
    },
    assumptions: {
      horizon_months: horizon,
      electricity_usd_per_kwh: electricity,
      cycle_months: plan.cycleMonths,
      work_factor: Math.round(workFactor * 1000) / 1000,
      spot_overhead: a.spotOverhead,
      cloud_setup_hours_per_run: a.cloudSetupHoursPerRun,
      max_local_utilization: MAX_LOCAL_UTILIZATION,
      idle_watts: curOpt.idleWatts,
      idle_assumption: input.idleWatts !== undefined ? `${input.idleWatts} W given with --idle-watts, charged to the card whenever it is not busy` : `the card's own idle draw (${curOpt.idleWatts} W), charged whenever it is not busy; the desktop is assumed on anyway (host_idle_watts ${a.hostIdleWatts} W)`,
      sources: a.sources,
    },
    prices: { stale_after_months: book.staleAfterMonths, stale, undated, oldest: dates[0] ?? null },
    options: options.map((o) => ({
      name: o.name,
      kind: o.kind,
      gpu: o.gpu.name,
      usable_bytes: o.gpu.usableBytes,
      bandwidth_bytes_per_s: o.gpu.memBandwidthBytesPerS,
      bf16_flops_per_s: o.gpu.bf16DenseFlopsPerS,
      sustained_flops_per_s: Math.round(o.sustainedFlopsPerS),
      price_usd: o.priceUsd,
      price_range_usd: o.priceRangeUsd,
      condition: o.condition,
      usd_per_hour: o.cloud?.usdPerHour ?? null,
      provider: o.cloud?.provider ?? null,
      max_gpus: o.maxGpus,
      price_date: o.priceDate,
      price_freshness: o.priceFreshness,
      source: o.priceSource,
      run_watts: o.runWatts,
      idle_watts: o.idleWatts,
      upgrade: o.upgrade,
      not_upgrade: o.notUpgrade,
      dominated_by: o.dominatedBy,
    })),
    uncertainty,
    experiments,
    tracks,
    strategies: all,
    infeasible,
    recommendation: { choice, option: best.option, best_upgrade: bestBuy?.option ?? null, rationale, qualitative },
    triggers,
    stable_under: scan.stable,
    sensitivity,
    summary,
  };
}
