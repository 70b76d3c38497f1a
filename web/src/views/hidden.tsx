// A hidden-state run (`fitlab inspect hidden`): the residual stream after the embeddings and each layer. Per
// layer the norm distribution, anisotropy (base and fine-tuned when an adapter was given) and outlier
// ("massive") dimensions; linear CKA between layers and between base and fine-tuned; the logit-lens table.
import { useMemo, useState } from "preact/hooks";
import { PlotFigure, Plot, color } from "../charts/plot.tsx";
import type { HiddenInspect, LensEntry, RunReport } from "../types.ts";
import { Findings, Loading, pointName, useInspection } from "./inspect-common.tsx";

function charts(d: HiddenInspect) {
  const names = d.layers.map(pointName);
  const x = { type: "point" as const, domain: names, label: null, tickRotate: names.length > 12 ? -45 : 0, padding: 0.3 };
  const norms: Plot.PlotOptions = {
    height: 260,
    marginLeft: 56,
    marginBottom: names.length > 12 ? 60 : 36,
    x,
    y: { type: "log", label: "L2 norm of a token's vector", grid: true },
    marks: [
      Plot.areaY(d.layers, { x: (l) => pointName(l), y1: "norm_p05", y2: "norm_p95", fill: color(0), fillOpacity: 0.15 }),
      Plot.lineY(d.layers, { x: (l) => pointName(l), y: "median_norm", stroke: color(0), strokeWidth: 2 }),
      Plot.lineY(d.layers, { x: (l) => pointName(l), y: "mean_norm", stroke: color(1), strokeDasharray: "5 3" }),
      Plot.dot(d.layers, { x: (l) => pointName(l), y: "max_norm", fill: color(2), r: 3, tip: { channels: { "5th pct": "norm_p05", median: "median_norm", mean: "mean_norm", "95th pct": "norm_p95", max: "max_norm" } } }),
    ],
  };
  const an = [...d.layers.map((l) => ({ point: pointName(l), model: d.base_layers ? "fine-tuned" : "model", anisotropy: l.anisotropy })), ...(d.base_layers ?? []).map((l) => ({ point: pointName(l), model: "base", anisotropy: l.anisotropy }))].filter((r) => r.anisotropy !== null);
  const models = [...new Set(an.map((r) => r.model))];
  const anisotropy: Plot.PlotOptions = {
    height: 260,
    marginLeft: 56,
    marginBottom: names.length > 12 ? 60 : 36,
    x,
    y: { label: "mean cosine of random token pairs", grid: true, domain: [Math.min(0, ...an.map((r) => r.anisotropy!)), Math.max(0.1, ...an.map((r) => r.anisotropy!))] },
    color: { domain: models, range: models.map((_, i) => color(i)), legend: models.length > 1 },
    marks: [Plot.ruleY([0], { stroke: "#bbb" }), Plot.lineY(an, { x: "point", y: "anisotropy", stroke: "model" }), Plot.dot(an, { x: "point", y: "anisotropy", fill: "model", r: 3, tip: true })],
  };
  const outl = d.layers.flatMap((l) => l.outlier_dims.map((o) => ({ point: pointName(l), dim: `dim ${o.dim}`, ratio: o.ratio, max_abs: o.max_abs, at: `prompt ${o.prompt}, position ${o.position}` })));
  const dims = [...new Set(outl.map((o) => o.dim))];
  const outliers: Plot.PlotOptions | null = outl.length
    ? {
        height: 260,
        marginLeft: 56,
        marginBottom: names.length > 12 ? 60 : 36,
        x,
        y: { type: "log", label: "max |activation| / layer median", grid: true },
        color: { domain: dims, range: dims.map((_, i) => color(i)), legend: true },
        marks: [Plot.ruleY([1000], { stroke: "#c0392b", strokeDasharray: "4 3" }), Plot.lineY(outl, { x: "point", y: "ratio", stroke: "dim", strokeOpacity: 0.5 }), Plot.dot(outl, { x: "point", y: "ratio", fill: "dim", r: 4, tip: { channels: { "max |value|": "max_abs", at: "at" } } })],
      }
    : null;
  const n = d.cka.length;
  const cell = Math.max(10, Math.min(40, Math.floor(440 / n)));
  const ckaCells = d.cka.flatMap((row, i) => row.map((v, j) => ({ a: names[i]!, b: names[j]!, cka: v })));
  const ckaLow = Math.min(...ckaCells.map((c) => c.cka));
  const cka: Plot.PlotOptions = {
    width: 110 + n * cell + 20,
    height: 20 + n * cell + 90,
    marginLeft: 110,
    marginBottom: 90,
    x: { type: "band", domain: names, label: null, tickRotate: -45 },
    y: { type: "band", domain: names, label: null },
    color: { type: "linear", scheme: "viridis", domain: [ckaLow, 1], legend: true, label: "linear CKA" },
    marks: [Plot.cell(ckaCells, { x: "b", y: "a", fill: "cka", inset: 0.5, tip: { format: { fill: (v: number) => v.toFixed(4) } } }), ...(n <= 12 ? [Plot.text(ckaCells, { x: "b", y: "a", text: (c: { cka: number }) => c.cka.toFixed(3), fill: (c: { cka: number }) => (c.cka - ckaLow > 0.6 * (1 - ckaLow) ? "#16181d" : "#fff"), fontSize: 9 })] : [])],
  };
  const bt = d.cka_base_tuned;
  const ckaTuned: Plot.PlotOptions | null = bt
    ? {
        height: 240,
        marginLeft: 56,
        marginBottom: names.length > 12 ? 60 : 36,
        x,
        y: { label: "CKA(base, fine-tuned)", grid: true, domain: [Math.min(0.9, ...bt), 1] },
        marks: [Plot.ruleY([0.999], { stroke: "#bbb", strokeDasharray: "4 3" }), Plot.lineY(bt.map((v, i) => ({ point: names[i]!, cka: v })), { x: "point", y: "cka", stroke: color(3) }), Plot.dot(bt.map((v, i) => ({ point: names[i]!, cka: v })), { x: "point", y: "cka", fill: color(3), r: 3, tip: true })],
      }
    : null;
  return { norms, anisotropy, outliers, cka, ckaTuned };
}

/** The logit lens of one prompt: per layer (rows) and position (columns) the lens's top token, shaded by its probability. */
function LensTable({ entry, names }: { entry: LensEntry; names: string[] }) {
  const scale = useMemo(() => Plot.scale({ color: { type: "linear", scheme: "blues", domain: [0, 1] } }), []);
  const text = (p: number) => (p > 0.55 ? "#fff" : "#16181d");
  return (
    <div class="scroll-x">
      <table class="lens" data-testid="logit-lens">
        <thead>
          <tr>
            <th>layer \ position</th>
            {entry.positions.map((pos, i) => (
              <th class="n" title={`position ${pos}`}>
                “{entry.tokens[i]}”
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {entry.layers.map((l) => (
            <tr>
              <th>{names[l.layer] ?? `point ${l.layer}`}</th>
              {l.top.map((top, i) => {
                const [tok, p] = top[0] ?? ["", 0];
                const hit = entry.next_tokens[i] !== undefined && tok === entry.next_tokens[i];
                return (
                  <td class={hit ? "n hit" : "n"} style={{ background: scale.apply(p) as string, color: text(p) }} title={top.map(([t, q]) => `${t}  ${(q * 100).toFixed(1)}%`).join("\n")}>
                    {tok} <span class="p">{(p * 100).toFixed(0)}%</span>
                  </td>
                );
              })}
            </tr>
          ))}
          <tr class="total">
            <th>next token</th>
            {entry.positions.map((_, i) => (
              <td class="n">{entry.next_tokens[i] ?? "?"}</td>
            ))}
          </tr>
        </tbody>
      </table>
    </div>
  );
}

export function HiddenView({ run }: { run: RunReport }) {
  const { data, error } = useInspection<HiddenInspect>(run.id);
  const [lensAt, setLensAt] = useState(0);
  const c = useMemo(() => (data ? charts(data) : null), [data]);
  if (!data || !c) return <Loading error={error} />;
  const names = data.layers.map(pointName);
  const entry = data.lens[lensAt];
  return (
    <div class="inspect" data-testid="inspect-hidden">
      <Findings data={data} />
      <p class="sub">
        {data.num_layers} layers (and the embeddings), {data.prompts} prompts, features at the {data.positions} position{data.positions === "all" ? "s" : ""}.
      </p>
      <div class="cols">
        <figure class="chart" data-testid="chart-norms">
          <figcaption>Norm of the residual stream per layer: median (line), mean (dashed), 5th–95th percentile (band), max (dots)</figcaption>
          <PlotFigure options={c.norms} />
        </figure>
        <figure class="chart" data-testid="chart-anisotropy">
          <figcaption>Anisotropy per layer{data.base_layers ? ": base and fine-tuned" : ""} (0 = directions spread evenly)</figcaption>
          <PlotFigure options={c.anisotropy} />
        </figure>
        <figure class="chart" data-testid="chart-outliers">
          <figcaption>Outlier dimensions: max |activation| against the layer's median (dashed: 1,000×, "massive")</figcaption>
          {c.outliers ? <PlotFigure options={c.outliers} /> : <p class="note">No dimension reaches 100× its layer's median.</p>}
        </figure>
        {c.ckaTuned ? (
          <figure class="chart" data-testid="chart-cka-tuned">
            <figcaption>Linear CKA between the base model and the fine-tune, per layer (below 0.999: changed)</figcaption>
            <PlotFigure options={c.ckaTuned} />
          </figure>
        ) : null}
        <figure class="chart" data-testid="chart-cka">
          <figcaption>Linear CKA between layers (1 = the same representation up to rotation and scale)</figcaption>
          <PlotFigure options={c.cka} />
        </figure>
      </div>
      <section>
        <h2>Logit lens</h2>
        {data.lens.length === 0 ? (
          <p class="note">No logit lens in this run.</p>
        ) : (
          <>
            <p class="sub">
              Each layer's residual stream through the final norm and the unembedding: the top token per position (hover for the top {entry?.layers[0]?.top[0]?.length ?? 0}); outlined where it is the prompt's actual next token.{" "}
              {data.lens.length > 1 ? (
                <select data-testid="lens-prompt" value={lensAt} onChange={(e) => setLensAt(Number((e.target as HTMLSelectElement).value))}>
                  {data.lens.map((l, i) => (
                    <option value={i}>prompt {l.prompt}</option>
                  ))}
                </select>
              ) : null}
            </p>
            {entry ? <LensTable entry={entry} names={names} /> : null}
          </>
        )}
      </section>
    </div>
  );
}
