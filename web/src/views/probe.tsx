// A probe run (`fitlab inspect probe`): linear probes per layer with held-out accuracy, a control task
// (Hewitt & Liang 2019) and selectivity = accuracy - control accuracy; with --run, the same at every
// checkpoint of a training run (step 0 = the base model), as a step x layer heat map and one curve per step.
import { useMemo, useState } from "preact/hooks";
import { PlotFigure, Plot, color } from "../charts/plot.tsx";
import type { ProbeInspect, ProbeLayer, RunReport } from "../types.ts";
import { Findings, Loading, pointName, useInspection } from "./inspect-common.tsx";

const SERIES = [
  { key: "accuracy", label: "accuracy (held out)", dash: undefined },
  { key: "control_accuracy", label: "control task accuracy", dash: "5 3" },
  { key: "selectivity", label: "selectivity", dash: undefined },
  { key: "majority", label: "majority class", dash: "2 3" },
] as const;

function perLayer(layers: readonly ProbeLayer[]): Plot.PlotOptions {
  const names = layers.map(pointName);
  const rows = layers.flatMap((l) => SERIES.map((s) => ({ point: pointName(l), series: s.label, value: l[s.key] })));
  const labels = SERIES.map((s) => s.label);
  return {
    height: 300,
    marginLeft: 50,
    marginBottom: names.length > 12 ? 60 : 36,
    x: { type: "point", domain: names, label: null, tickRotate: names.length > 12 ? -45 : 0, padding: 0.3 },
    y: { label: "share of held-out examples", grid: true, domain: [Math.min(0, ...rows.map((r) => r.value)), 1] },
    color: { domain: labels, range: [color(0), "#888", color(2), "#bbb"], legend: true },
    marks: [
      Plot.ruleY([0], { stroke: "#ccc" }),
      ...SERIES.map((s) => Plot.lineY(rows.filter((r) => r.series === s.label), { x: "point", y: "value", stroke: "series", strokeWidth: s.key === "selectivity" || s.key === "accuracy" ? 2 : 1.2, ...(s.dash ? { strokeDasharray: s.dash } : {}) })),
      Plot.dot(rows.filter((r) => r.series !== "majority class"), { x: "point", y: "value", fill: "series", r: 3, tip: { format: { y: (v: number) => v.toFixed(3) } } }),
    ],
  };
}

function acrossCheckpoints(cks: NonNullable<ProbeInspect["checkpoints"]>, metric: "selectivity" | "accuracy"): Plot.PlotOptions {
  const names = cks[0]!.layers.map(pointName);
  const steps = cks.map((c) => `step ${c.step}`);
  const cells = cks.flatMap((c) => c.layers.map((l) => ({ step: `step ${c.step}`, point: pointName(l), value: l[metric] })));
  const cell = Math.max(16, Math.min(44, Math.floor(520 / names.length)));
  return {
    width: 80 + names.length * cell + 20,
    height: 20 + steps.length * 30 + (names.length > 12 ? 80 : 50),
    marginLeft: 80,
    marginBottom: names.length > 12 ? 80 : 50,
    x: { type: "band", domain: names, label: null, tickRotate: names.length > 8 ? -45 : 0 },
    y: { type: "band", domain: steps, label: null },
    color: metric === "selectivity" ? { type: "diverging", scheme: "rdbu", reverse: true, domain: [-1, 1], legend: true, label: "selectivity" } : { type: "linear", scheme: "blues", domain: [0, 1], legend: true, label: "accuracy" },
    marks: [Plot.cell(cells, { x: "point", y: "step", fill: "value", inset: 0.5, tip: { format: { fill: (v: number) => v.toFixed(3) } } }), ...(names.length <= 14 ? [Plot.text(cells, { x: "point", y: "step", text: (c: { value: number }) => c.value.toFixed(2), fontSize: 10, fill: (c: { value: number }) => (Math.abs(c.value) > 0.6 ? "#fff" : "#16181d") })] : [])],
  };
}

function selectivityCurves(cks: NonNullable<ProbeInspect["checkpoints"]>): Plot.PlotOptions {
  const names = cks[0]!.layers.map(pointName);
  const rows = cks.flatMap((c) => c.layers.map((l) => ({ step: c.step, point: pointName(l), selectivity: l.selectivity })));
  return {
    height: 280,
    marginLeft: 50,
    marginBottom: names.length > 12 ? 60 : 36,
    x: { type: "point", domain: names, label: null, tickRotate: names.length > 12 ? -45 : 0, padding: 0.3 },
    y: { label: "selectivity", grid: true },
    color: { type: "linear", scheme: "viridis", domain: [cks[0]!.step, Math.max(cks.at(-1)!.step, cks[0]!.step + 1)], legend: true, label: "training step" },
    marks: [Plot.ruleY([0], { stroke: "#ccc" }), Plot.lineY(rows, { x: "point", y: "selectivity", z: "step", stroke: "step" }), Plot.dot(rows, { x: "point", y: "selectivity", fill: "step", r: 3, tip: true })],
  };
}

export function ProbeView({ run }: { run: RunReport }) {
  const { data, error } = useInspection<ProbeInspect>(run.id);
  const cks = data?.checkpoints ?? null;
  const [at, setAt] = useState<number | null>(null);
  const layers = cks ? cks[at ?? cks.length - 1]!.layers : (data?.layers ?? []);
  const main = useMemo(() => (data ? perLayer(layers) : null), [data, at]);
  const heat = useMemo(() => (cks ? { sel: acrossCheckpoints(cks, "selectivity"), acc: acrossCheckpoints(cks, "accuracy"), curves: selectivityCurves(cks) } : null), [data]);
  if (!data || !main) return <Loading error={error} />;
  const step = cks ? cks[at ?? cks.length - 1]!.step : null;
  return (
    <div class="inspect" data-testid="inspect-probe">
      <Findings data={data} />
      <p class="sub">
        {data.level}-level probe, {data.examples} examples, classes {data.classes.map(String).join(", ")}
        {cks ? `; ${cks.length} checkpoints (step 0 is the base model)` : ""}.
      </p>
      <div class="cols">
        <figure class="chart" data-testid="chart-probe">
          <figcaption>
            Linear probe per layer{step !== null ? ` at step ${step}` : ""}: accuracy, control task, selectivity
            {cks ? (
              <>
                {" "}
                <select data-testid="probe-step" value={at ?? cks.length - 1} onChange={(e) => setAt(Number((e.target as HTMLSelectElement).value))}>
                  {cks.map((c, i) => (
                    <option value={i}>step {c.step}</option>
                  ))}
                </select>
              </>
            ) : null}
          </figcaption>
          <PlotFigure options={main} />
        </figure>
        {heat ? (
          <>
            <figure class="chart" data-testid="chart-probe-curves">
              <figcaption>Selectivity per layer at each checkpoint</figcaption>
              <PlotFigure options={heat.curves} />
            </figure>
            <figure class="chart" data-testid="chart-probe-selectivity">
              <figcaption>Selectivity across checkpoints (rows) and layers (columns)</figcaption>
              <PlotFigure options={heat.sel} />
            </figure>
            <figure class="chart" data-testid="chart-probe-accuracy">
              <figcaption>Held-out accuracy across checkpoints and layers</figcaption>
              <PlotFigure options={heat.acc} />
            </figure>
          </>
        ) : null}
      </div>
      <table class="compact" data-testid="probe-table">
        <thead>
          <tr>
            <th>{step !== null ? `step ${step}` : "layer"}</th>
            <th class="n">accuracy</th>
            <th class="n">control</th>
            <th class="n">selectivity</th>
            <th class="n">train accuracy</th>
            <th class="n">majority</th>
          </tr>
        </thead>
        <tbody>
          {layers.map((l) => (
            <tr>
              <td>{pointName(l)}</td>
              <td class="n">{l.accuracy.toFixed(3)}</td>
              <td class="n">{l.control_accuracy.toFixed(3)}</td>
              <td class="n">{l.selectivity.toFixed(3)}</td>
              <td class="n">{l.train_accuracy.toFixed(3)}</td>
              <td class="n">{l.majority.toFixed(3)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
