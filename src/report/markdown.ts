// The decision document as Markdown. Pure function of the Decision object: same input, same text.
import type { CloudRun, Decision, DecisionExperiment } from "../decide/decision.js";
import type { Cell } from "../decide/feasibility.js";
import type { Trigger } from "../decide/triggers.js";
import { CAT, EST, gib, hours, mdTable, pct, thousands, usd } from "./units.js";

const shortOption = (name: string) => name.replace(/^(current|buy|cloud): /, "");
const withCount = (name: string, gpus: number) => `${shortOption(name)}${gpus > 1 ? ` ×${gpus}` : ""}`;
const tflops = (f: number) => `${(f / 1e12).toFixed(f < 100e12 ? 1 : 0)} TFLOPS`;
const VERDICT_WORD = { fits: "fits", tight: "tight", no: "no" } as const;

/** "15.1 GiB" or, when the band crosses the card's memory, "15.1 GiB (band to 16.3)". */
function vram(c: Cell): string {
  if (c.verdict === "no") return `needs ${gib(c.peak_bytes)}${EST}${c.gpus > 1 ? ` per GPU × ${c.gpus}` : ""}`;
  return `${gib(c.peak_bytes)}${EST}${c.verdict === "tight" ? ` (band to ${(c.high_bytes / 2 ** 30).toFixed(1)})` : ""}${c.gpus > 1 ? ` per GPU × ${c.gpus}` : ""}`;
}

/** "with paged-adamw-8bit, chunked-loss; runs optimizer paged-adamw8bit, not adamw as planned" */
function changesText(c: { changes: readonly string[]; departs_from_plan: readonly string[] }): string {
  const parts: string[] = [];
  if (c.changes.length) parts.push(`only with ${c.changes.join(", ")}`);
  for (const d of c.departs_from_plan) {
    const m = d.match(/^(\w+): (\S+) -> (\S+)$/);
    parts.push(m ? `⚠ ${m[1]} ${m[3]}, not ${m[2]} as planned` : `⚠ ${d}`);
  }
  return parts.join("; ");
}

/** A cloud run as the decision rents it: "GeForce RTX 4090 (RunPod) ×4 (tight: no cloud offer fits the whole
 *  band; only with chunked-loss): $2.85ᵉ, 56 minᵉ". */
function cloudRunText(r: CloudRun): string {
  const how = [r.verdict === "tight" ? "tight: no cloud offer fits the whole band" : "", changesText(r)].filter(Boolean).join("; ");
  return `${withCount(r.option, r.gpus)}${how ? ` (${how})` : ""}: ${usd(r.cost_usd)}${EST}, ${hours(r.seconds)}${EST}`;
}

/** "chunked-loss (chunked cross-entropy, no full fp32 logits)": ids with what they do, one pair of brackets. */
const changesWithWords = (ids: readonly string[], words: readonly string[]) => ids.map((id, i) => `${id} (${(words[i] ?? id).replace(/ \((.*)\)$/, ", $1")})`).join(" + ");

/** How likely a tight run is to run out of memory, in words, from the share of held-out measurements that
 *  went further above their estimate than this run's room. */
function odds(c: Cell): string {
  if (!c.risk) return "it may run out of memory";
  const share = c.risk.exceeded / c.risk.cases;
  const seen = `${c.risk.exceeded} of ${c.risk.cases} published measurements the planner was not fitted on came out more than ${pct(c.margin ?? 0)} above their estimate`;
  return `${share <= 0.15 ? "it will most likely run" : share <= 0.4 ? "it will probably run, but may well run out of memory" : share <= 0.6 ? "it is about as likely to run out of memory as not" : "it will more likely than not run out of memory"} (${seen})`;
}

const LOSS_CHANGES = new Set(["chunked-loss", "fused-loss", "smaller-loss-chunks"]);

/** Why a tight verdict is tight, and what to do: the room left, how likely a run is to run past it, and the
 *  change that fits even the top of the band (to make from the start when it costs nothing). */
function tightNote(e: DecisionExperiment, c: Cell, usableBytes: number): string {
  const parts = [`**${e.title}**: ${gib(usableBytes - c.peak_bytes)}${EST} free at the expected peak (${pct(c.margin ?? 0)} of it); ${odds(c)}`];
  if (c.safe) {
    const slower = c.seconds > 0 ? c.safe.seconds / c.seconds - 1 : 0;
    const free = slower < 0.05 && c.safe.departs_from_plan.length === 0;
    const with_ = `${changesWithWords(c.safe.changes, c.safe.change_descriptions)} brings even the top of the band down to ${gib(c.safe.high_bytes)}${EST}, ${free ? "about as fast" : `${hours(c.safe.seconds)}${EST} instead of ${hours(c.seconds)}`}${c.safe.departs_from_plan.length ? ` (⚠ ${c.safe.departs_from_plan.join(", ")})` : ""}`;
    parts.push(free ? `worth doing from the start, since it costs nothing: ${with_}` : `if it does run out of memory, ${with_}`);
    // the estimate follows the plan's workload; `fitlab run` may already run the loss that removes the risk
    if (e.run_loss !== null && e.run_loss !== "standard" && c.safe.changes.every((x) => LOSS_CHANGES.has(x))) parts.push(`\`fitlab run\` already does this (its loss is ${e.run_loss === "auto" ? "fused on CUDA cards of compute capability 8.0 or newer, chunked on others" : e.run_loss}), so the risk is that of a plain Hugging Face training script with the standard loss`);
  } else parts.push("no change the decision may make (same method, length and swept setting) fits the top of the band: if it runs out of memory, lower what the experiment sweeps or rent a larger card");
  return `- ${parts.join("; ")}.`;
}

function settingsText(e: DecisionExperiment, i: number): string {
  const c = e.options[i]!;
  if (e.cpu_only) return "CPU";
  if (c.settings.kind === "probe") return "linear head on cached features";
  const s = c.settings as Record<string, unknown>;
  const parts = [`${s.kind}`, s.quant && s.quant !== "none" ? `${s.quant}` : "", `seq ${s.seqLen} × ${s.batch}`];
  const ch = changesText(c);
  if (ch) parts.push(ch);
  return parts.filter(Boolean).join(", ");
}

function triggerValue(t: Trigger, v: number): string {
  switch (t.unit) {
    case "USD/month":
      return `${usd(v)}/month`;
    case "USD":
      return usd(v);
    case "GPU-hours/month":
      return `${thousands(Math.round(v))} GPU-hours/month, ${pct(v / 730)} of the month`;
    case "x today's cloud rates":
      return `${v.toFixed(v < 10 ? 2 : 1)}× today's cloud rates`;
    default:
      return `${v} ${t.unit}`;
  }
}

/** What the three verdicts mean, with the planner's uncertainty in numbers. */
function tightLegend(d: Decision): string {
  const u = d.uncertainty;
  const band = `±${(u.band * 100).toFixed(1)}%`;
  const held = u.cases !== null ? ` (${u.cases - (u.exceeded_band ?? 0)} of ${u.cases} published measurements it was not fitted on came out no more than ${(u.band * 100).toFixed(1)}% above their estimate)` : "";
  return `Verdicts: **fits**: the expected peak fits with more room than the planner's uncertainty, ${band}${held}. **tight**: the expected peak fits, with less room than that: the run works unless its real peak comes out higher than estimated by more than the room left; each tight experiment below says how much room that is, how often held-out measurements went that far, and the change that removes the risk. **no**: even the expected peak does not fit.`;
}

export function renderMarkdown(d: Decision): string {
  const out: string[] = [];
  const push = (...lines: string[]) => out.push(...lines);
  const cc = d.current_card;
  const horizon = d.assumptions.horizon_months;
  push(`# Hardware decision: ${d.plan}`, "");
  push(`Written ${d.as_of}; prices reviewed ${d.data_date}. Figures marked ${EST} are estimated by the fitlab planner (validated against published measurements: \`fitlab validate\`); figures marked ${CAT} come from the dated catalogs (\`fitlab gpus\`, data/prices.yaml, data/sustained.yaml). No figure here is measured on your card yet.`, "");
  if (d.prices.stale.length || d.prices.undated.length) {
    push(`⚠ ${d.prices.stale.length} price${d.prices.stale.length === 1 ? " is" : "s are"} more than ${d.prices.stale_after_months} months old on ${d.as_of}${d.prices.oldest ? ` (oldest ${d.prices.oldest})` : ""}${d.prices.undated.length ? ` and ${d.prices.undated.length} undated` : ""}: re-price before acting on them (\`fitlab decide --prices FILE\`).`, "");
  }
  push(`**Recommendation: ${d.recommendation.choice}.**`, "");

  push("## Current setup", "");
  const srcWord = { "nvidia-smi": "detected with nvidia-smi", "--gpu": "given with --gpu", plan: "named by the plan", default: "the default (no GPU detected, none named)" }[d.current_gpu_source];
  push(
    `${cc.name} (${srcWord}): ${cc.family}, ${cc.arch.split(" ").slice(1).join(" ") || cc.arch}, **${cc.sm}** (compute capability ${cc.compute_capability}); ${gib(cc.usable_bytes)}${CAT} usable (${cc.mem_type}), ${Math.round(cc.bandwidth_bytes_per_s / 1e9)} GB/s${CAT}; ${tflops(cc.nominal_flops_per_s)} dense BF16 on the datasheet, ${tflops(cc.sustained_flops_per_s)} sustained${CAT} (${cc.sustained_detail.replace(/^[\d.]+ TFLOPS /, "")}); about ${cc.run_watts} W under load with the host, ${cc.idle_watts} W idle (assumed).`,
    "",
  );
  const sw: string[] = [];
  if (cc.min_cuda) sw.push(`software must target ${cc.sm}: CUDA ${cc.min_cuda} or newer${cc.min_torch ? `, PyTorch ${cc.min_torch} or newer` : ""}`);
  if (cc.tensor_formats.length) sw.push(`tensor-core formats: ${cc.tensor_formats.join(", ")}`);
  sw.push(...cc.notes);
  if (sw.length) push(`Architecture: ${sw.join("; ")}.`, "");

  push("## Verdict per track", "");
  push(
    mdTable(
      ["track", "verdict", "GPU experiments that fit", "tight", `GPU time per pass on the ${cc.name}`],
      d.tracks.map((t) => [`${t.id}: ${t.name}${t.stretch ? " (stretch)" : ""}`, t.verdict, `${t.fit.length} of ${t.gpu_experiments}`, t.tight.length ? t.tight.map((k) => k.split(".")[1]!).join(", ") : "-", t.gpu_seconds_per_pass ? `${hours(t.gpu_seconds_per_pass)}${EST}` : "-"]),
    ),
    "",
    tightLegend(d),
    "",
  );

  const trackIds = [...new Set(d.experiments.filter((e) => !e.stretch).map((e) => e.track))];
  for (const t of trackIds) {
    const rows = d.experiments.filter((e) => e.track === t && !e.stretch);
    push(`## Track ${t}: ${rows[0]!.track_name}`, "");
    push(
      mdTable(
        ["experiment", "runs", "verdict", "VRAM", "time", "bottleneck", "settings"],
        rows.map((e) => {
          const c = e.options[0]!;
          return [e.title, String(Math.max(e.runs, 1)), e.cpu_only ? "-" : VERDICT_WORD[c.verdict], e.cpu_only ? "-" : vram(c), c.fits ? `${hours(c.seconds)}${EST}` : "does not fit", c.bottleneck, settingsText(e, 0)];
        }),
      ),
      "",
    );
    const tight = rows.filter((e) => !e.cpu_only && e.options[0]!.verdict === "tight");
    if (tight.length) push(`Tight on the ${cc.name} (${gib(cc.usable_bytes)} usable):`, "", ...tight.map((e) => tightNote(e, e.options[0]!, cc.usable_bytes)), "");
  }

  push("## Not feasible on the current card", "");
  if (d.infeasible.length === 0) push("Every experiment in the plan fits.", "");
  else
    push(
      mdTable(
        ["experiment", "needs", "unlocked by (purchase)", "cloud run (without risk, as planned where possible, cheapest)"],
        d.infeasible.map((i) => {
          const buys = i.unlocked_by.filter((u) => u.option.startsWith("buy: "));
          const unlock = buys.map((u) => `${shortOption(u.option)}${u.verdict === "tight" ? ` (tight${u.safe ? `; without risk with ${u.safe.changes.join(", ")}` : ""})` : ""}${u.changes.length || u.departs_from_plan.length ? `: ${changesText(u)}` : ""}`);
          return [i.title, `${gib(i.needs_bytes)}${EST}${i.gpus > 1 ? ` per GPU × ${i.gpus} GPUs` : ""}`, unlock.length ? unlock.join("; ") : "no purchase candidate", i.cloud_run ? cloudRunText(i.cloud_run) : "nothing in the catalog"];
        }),
      ),
      "",
    );

  push("## Research directions (stretch work)", "");
  const stretch = d.experiments.filter((e) => e.stretch);
  push(
    mdTable(
      ["direction", "impact", "on the current card", "cloud run (without risk, as planned where possible, cheapest)", "resource need"],
      stretch.map((e) => {
        const here = e.options[0]!;
        const best = e.cloud_run;
        const need = here.fits ? `${vram(here)}, ${hours(here.seconds)}${EST} here` : `${gib(here.peak_bytes)}${EST}${here.gpus > 1 ? ` per GPU × ${here.gpus} GPUs` : ""}`;
        const onCard = here.fits ? `${VERDICT_WORD[here.verdict]}${changesText(here) ? ` (${changesText(here)})` : ""}` : `no (${here.bottleneck})`;
        return [e.title, e.impact ?? "-", onCard, best ? cloudRunText(best) : "-", need];
      }),
    ),
    "",
  );
  const stretchTight = stretch.filter((e) => !e.cpu_only && e.options[0]!.verdict === "tight");
  if (stretchTight.length) push(`Tight on the ${cc.name}:`, "", ...stretchTight.map((e) => tightNote(e, e.options[0]!, cc.usable_bytes)), "");

  push("## Purchase options", "");
  const stay = d.strategies.find((s) => s.kind === "current")!;
  push(
    mdTable(
      ["option", "price", "an upgrade?", "runs locally", "gain", "downside", `total over ${horizon} months`],
      d.strategies.map((s) => {
        const o = d.options.find((x) => x.name === s.option)!;
        const unlocked = s.runs_locally.filter((k) => !stay.runs_locally.includes(k));
        const coreSpeed = stay.local_hours_per_month > 0 && s.local_hours_per_month > 0 ? stay.demand_hours_per_month / s.demand_hours_per_month : 1;
        const downside = s.kind === "current" ? "stretch work must be rented" : [o.condition === "used" ? "used: no warranty" : "", o.run_watts > 500 ? `${o.run_watts} W under load` : "", `${usd(s.capex_usd - s.resale_usd)}${EST} lost to depreciation`].filter(Boolean).join("; ");
        const upgrade = s.kind === "current" ? "-" : o.upgrade ? (o.dominated_by ? `yes, but dominated by ${shortOption(o.dominated_by)}` : "yes") : `no: ${o.not_upgrade}`;
        return [
          s.kind === "current" ? `stay (${shortOption(s.option)})` : shortOption(s.option),
          s.kind === "current" ? "owned" : `${usd(s.capex_usd)}${CAT}${o.price_range_usd ? ` (${usd(o.price_range_usd[0])}–${usd(o.price_range_usd[1])})` : ""}, ${o.price_date ?? "undated"}${o.price_freshness === "stale" ? " ⚠ stale" : ""}`,
          upgrade,
          `${s.runs_locally.length} experiments${unlocked.length ? ` (+${unlocked.join(", ")})` : ""}`,
          s.kind === "current" ? "-" : coreSpeed >= 1 ? `core plan ${coreSpeed.toFixed(1)}× faster${EST}` : `core plan ${(1 / coreSpeed).toFixed(1)}× slower${EST}`,
          downside,
          `${usd(s.horizon_cost_usd)}${EST}`,
        ];
      }),
    ),
    "",
  );
  push(`What each total is made of, over ${horizon} months${EST}:`, "");
  push(
    mdTable(
      ["option", "depreciation (price − resale)", "electricity during jobs", "idle draw", "cloud bursts", "total"],
      d.strategies.map((s) => [s.kind === "current" ? `stay (${shortOption(s.option)})` : shortOption(s.option), usd(s.breakdown.depreciation_usd), usd(s.breakdown.job_electricity_usd), `${usd(s.breakdown.idle_electricity_usd)} (${s.breakdown.idle_watts} W)`, usd(s.breakdown.cloud_usd), usd(s.horizon_cost_usd)]),
    ),
    "",
  );
  const cloud = d.options.filter((o) => o.kind === "cloud").sort((x, y) => (x.usd_per_hour ?? 0) - (y.usd_per_hour ?? 0));
  push(`Cloud, by the hour per GPU${CAT} (instances of up to ${cloud[0]?.max_gpus ?? 8} GPUs at that rate per GPU): ${cloud.map((o) => `${o.gpu} ${usd(o.usd_per_hour ?? 0)}/h (${o.provider}, ${o.price_date ?? "undated"}${o.price_freshness === "stale" ? ", stale" : ""}${o.dominated_by ? `; dominated by ${shortOption(o.dominated_by)}` : ""})`).join("; ")}.`, "");

  push("## Recommendation", "", `**${d.recommendation.choice}.**`, "");
  for (const r of d.recommendation.rationale) push(`- ${r}`);
  push("");
  if (d.recommendation.qualitative.length) {
    push("Beyond the numbers:", "");
    for (const r of d.recommendation.qualitative) push(`- ${r}`);
    push("");
  }

  push("## When to reconsider", "");
  push(`Each threshold is where the cost model that made the recommendation would choose differently (the other inputs as today).`, "");
  for (const t of d.triggers) {
    if (t.kind === "qualitative") {
      push(`- ${t.what[0]!.toUpperCase()}${t.what.slice(1)}${t.note ? ` (${t.note})` : ""}.`);
      continue;
    }
    push(`- ${t.what[0]!.toUpperCase()}${t.what.slice(1)}: **${triggerValue(t, t.threshold!)}**${EST} (now ${triggerValue(t, t.now!)}).${t.note ? ` ${t.note[0]!.toUpperCase()}${t.note.slice(1)}.` : ""}`);
  }
  if (d.stable_under.length) push(`- Nothing within these ranges changes the recommendation: ${d.stable_under.join("; ")}.`);
  push("");

  push("## Sensitivity", "", "How the recommendation moves when one input changes (the others as above):", "");
  push(mdTable(["input", "value", "choice", "stay", "cheapest upgrade"], d.sensitivity.map((s) => [s.factor, String(s.value), s.choice, usd(s.stay_cost_usd), s.best_buy_cost_usd === null ? "-" : usd(s.best_buy_cost_usd)])), "");

  push("## Summary", "");
  for (const qa of d.summary) push(`**${qa.q}** ${qa.a}`, "");

  push("## Assumptions and sources", "");
  push(`Horizon ${horizon} months; electricity ${usd(d.assumptions.electricity_usd_per_kwh)}/kWh; the core tracks run once every ${d.assumptions.cycle_months} months${d.assumptions.work_factor !== 1 ? ` (× ${d.assumptions.work_factor} to match the given utilization)` : ""}, stretch work once; one card is kept at most ${pct(d.assumptions.max_local_utilization)} busy (the rest is rented); cloud runs add ${d.assumptions.cloud_setup_hours_per_run} h of set-up each.`, "");
  push(`Idle power: ${d.assumptions.idle_assumption}. Over ${horizon} months that is ${usd(stay.breakdown.idle_electricity_usd)} of the ${usd(stay.horizon_cost_usd)} for staying (\`--idle-watts\` changes it).`, "");
  for (const [k, v] of Object.entries(d.assumptions.sources)) push(`- ${k}: ${v}`);
  push("");
  for (const o of d.options.filter((x) => x.kind !== "cloud")) push(`- ${o.name}: ${o.kind === "current" ? o.source : `${usd(o.price_usd ?? 0)}, ${o.price_date ?? "undated"}${o.price_freshness === "stale" ? " (stale)" : ""}: ${o.source}`}`);
  push("");
  return out.join("\n");
}
