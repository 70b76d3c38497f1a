// The decision document as Markdown. Pure function of the Decision object: same input, same text.
import type { Decision, DecisionExperiment } from "../decide/decision.js";
import { CAT, EST, gib, hours, mdTable, pct, usd } from "./units.js";

const shortOption = (name: string) => name.replace(/^(current|buy|cloud): /, "");

function settingsText(e: DecisionExperiment, i: number): string {
  const c = e.options[i]!;
  if (e.cpu_only) return "CPU";
  if (c.settings.kind === "probe") return "linear head on cached features";
  const s = c.settings as Record<string, unknown>;
  const parts = [`${s.kind}`, s.quant && s.quant !== "none" ? `${s.quant}` : "", `seq ${s.seqLen} × ${s.batch}`];
  if (c.changes.length) parts.push(`needs: ${c.changes.join(", ")}`);
  return parts.filter(Boolean).join(", ");
}

export function renderMarkdown(d: Decision): string {
  const out: string[] = [];
  const current = d.options.find((o) => o.kind === "current")!;
  const push = (...lines: string[]) => out.push(...lines);
  push(`# Hardware decision: ${d.plan}`, "");
  push(`Prices and specs as of ${d.data_date}. Figures marked ${EST} are estimated by the fitlab planner (validated against published measurements: \`fitlab validate\`); figures marked ${CAT} come from the dated catalogs (\`fitlab gpus\`, data/prices.yaml). No figure here is measured on your card yet.`, "");
  push(`**Recommendation: ${d.recommendation.choice}.**`, "");

  push("## Current setup", "");
  const srcWord = { "nvidia-smi": "detected with nvidia-smi", "--gpu": "given with --gpu", plan: "named by the plan", default: "the default (no GPU detected, none named)" }[d.current_gpu_source];
  push(`${d.current_gpu} (${srcWord}): ${gib(current.usable_bytes)}${CAT} usable, ${Math.round(current.bandwidth_bytes_per_s / 1e9)} GB/s${CAT}, ${(current.bf16_flops_per_s / 1e12).toFixed(0)} TFLOPS dense BF16${CAT}, about ${current.run_watts} W under load with the host${CAT}.`, "");

  const tracks = [...new Set(d.experiments.filter((e) => !e.stretch).map((e) => e.track))];
  for (const t of tracks) {
    const rows = d.experiments.filter((e) => e.track === t && !e.stretch);
    push(`## Track ${t}: ${rows[0]!.track_name}`, "");
    push(
      mdTable(
        ["experiment", "runs", "VRAM", "time", "bottleneck", "settings"],
        rows.map((e) => {
          const c = e.options[0]!;
          return [e.title, String(Math.max(e.runs, 1)), e.cpu_only ? "-" : c.fits ? `${gib(c.peak_bytes)}${EST}` : `needs ${gib(c.peak_bytes)}${EST}`, c.fits ? `${hours(c.seconds)}${EST}` : "does not fit", c.bottleneck, settingsText(e, 0)];
        }),
      ),
      "",
    );
  }

  push("## Not feasible on the current card", "");
  if (d.infeasible.length === 0) push("Every experiment in the plan fits.", "");
  else
    push(
      mdTable(
        ["experiment", "needs", "unlocked by (purchase)", "cheapest cloud run"],
        d.infeasible.map((i) => {
          const buys = i.unlocked_by.filter((o) => o.startsWith("buy: ")).map(shortOption);
          return [i.title, `${gib(i.needs_bytes)}${EST}`, buys.length ? buys.join(", ") : "no purchase candidate", i.cheapest_cloud ? `${shortOption(i.cheapest_cloud.option)}: ${usd(i.cheapest_cloud.cost_usd)}${EST}, ${hours(i.cheapest_cloud.seconds)}${EST}` : "nothing in the catalog"];
        }),
      ),
      "",
    );

  push("## Research directions (stretch work)", "");
  const stretch = d.experiments.filter((e) => e.stretch);
  push(
    mdTable(
      ["direction", "on the current card", "cheapest way to run it", "resource need"],
      stretch.map((e) => {
        const here = e.options[0]!;
        let best = null as (typeof e.options)[number] | null;
        for (const c of e.options) if (c.fits && c.kind === "cloud" && (best === null || c.cost_usd < best.cost_usd)) best = c;
        const need = here.fits ? `${gib(here.peak_bytes)}${EST}, ${hours(here.seconds)}${EST} here` : `${gib(here.peak_bytes)}${EST}${here.bottleneck === "gpu count" ? `, ${(here.settings as { gpus: number }).gpus} GPUs` : ""}`;
        return [e.title, here.fits ? `fits${here.changes.length ? ` with ${here.changes.join(", ")}` : ""}` : `no (${here.bottleneck})`, best ? `${shortOption(best.option)}: ${usd(best.cost_usd)}${EST}, ${hours(best.seconds)}${EST}` : "-", need];
      }),
    ),
    "",
  );

  push("## Upgrade options", "");
  const stay = d.strategies.find((s) => s.kind === "current")!;
  push(
    mdTable(
      ["option", "cost", "capability", "gain", "downside", `total over ${d.assumptions.horizon_months} months`],
      d.strategies.map((s) => {
        const o = d.options.find((x) => x.name === s.option)!;
        const unlocked = s.runs_locally.filter((k) => !stay.runs_locally.includes(k));
        const coreSpeed = stay.local_hours_per_month > 0 && s.local_hours_per_month > 0 ? stay.local_hours_per_month / s.local_hours_per_month : 1;
        const downside = s.kind === "current" ? "stretch work must be rented" : [o.condition === "used" ? "used: no warranty" : "", o.gpu.includes("SXM4") ? "SXM module: needs a server board" : "", o.run_watts > 500 ? `${o.run_watts} W under load` : "", `${usd(s.capex_usd - s.resale_usd)}${EST} lost to depreciation`].filter(Boolean).join("; ");
        return [
          s.kind === "current" ? `stay (${shortOption(s.option)})` : shortOption(s.option),
          s.kind === "current" ? "owned" : `${usd(s.capex_usd)}${CAT}${o.price_range_usd ? ` (${usd(o.price_range_usd[0])}–${usd(o.price_range_usd[1])})` : ""}`,
          s.kind === "current" ? `${s.runs_locally.length} experiments` : `${s.runs_locally.length} experiments${unlocked.length ? ` (+${unlocked.join(", ")})` : ""}`,
          s.kind === "current" ? "-" : `core plan ${coreSpeed.toFixed(1)}× faster${EST}`,
          downside,
          `${usd(s.horizon_cost_usd)}${EST}`,
        ];
      }),
    ),
    "",
  );
  const cloud = d.options.filter((o) => o.kind === "cloud").sort((x, y) => (x.usd_per_hour ?? 0) - (y.usd_per_hour ?? 0));
  push(`Cloud, by the hour${CAT}: ${cloud.map((o) => `${o.gpu} ${usd(o.usd_per_hour ?? 0)}/h (${o.provider}, ${o.price_date ?? "undated"})`).join("; ")}.`, "");

  push("## Recommendation", "", `**${d.recommendation.choice}.**`, "");
  for (const r of d.recommendation.rationale) push(`- ${r}`);
  push("");

  push("## When to reconsider", "");
  for (const t of d.triggers) {
    const v = t.unit === "USD/month" ? `${usd(t.threshold)}/month` : t.unit === "USD" ? usd(t.threshold) : t.unit === "share of hours" ? pct(t.threshold) : `${t.threshold} ${t.unit}`;
    const now = t.now === null ? "" : t.unit === "USD/month" ? ` (now ${usd(t.now)}/month)` : t.unit === "share of hours" ? ` (now ${pct(t.now)})` : t.unit === "USD" ? ` (now ${usd(t.now)})` : ` (now ${t.now})`;
    push(`- ${t.what[0]!.toUpperCase()}${t.what.slice(1)}: **${v}**${EST}${now}.`);
  }
  push("");

  push("## Sensitivity", "", "How the recommendation moves when one input changes (the others as above):", "");
  push(mdTable(["input", "value", "choice", "stay", "best purchase"], d.sensitivity.map((s) => [s.factor, String(s.value), s.choice, usd(s.stay_cost_usd), usd(s.best_buy_cost_usd)])), "");

  push("## Summary", "");
  for (const qa of d.summary) push(`**${qa.q}** ${qa.a}`, "");

  push("## Assumptions and sources", "");
  push(`Horizon ${d.assumptions.horizon_months} months; electricity ${usd(d.assumptions.electricity_usd_per_kwh)}/kWh; the core tracks run once every ${d.assumptions.cycle_months} months${d.assumptions.work_factor !== 1 ? ` (× ${d.assumptions.work_factor} to match the given utilization)` : ""}, stretch work once; cloud runs add ${d.assumptions.cloud_setup_hours_per_run} h of set-up each.`, "");
  for (const [k, v] of Object.entries(d.assumptions.sources)) push(`- ${k}: ${v}`);
  push("");
  for (const o of d.options.filter((x) => x.kind !== "cloud")) push(`- ${o.name}: ${o.source}`);
  push("");
  return out.join("\n");
}
