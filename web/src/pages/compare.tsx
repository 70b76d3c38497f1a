// Compare: any set of runs overlaid, a sweep with its verdict (`fitlab runs compare --json`), the
// forgetting curves of the runs that have them, and predicted against measured across runs.
import { useEffect, useMemo, useState } from "preact/hooks";
import { get } from "../api.ts";
import { PlotFigure, Plot, color } from "../charts/plot.tsx";
import { align, SeriesChart, type SeriesSpec } from "../charts/series.tsx";
import { gib, loss, num } from "../format.ts";
import { href, type Route } from "../router.ts";
import type { Comparison, ForgettingReport, RunReport, RunSeries, RunSummary, SweepSummary } from "../types.ts";
import { ForgettingCharts } from "../views/train.tsx";

const GIB = 2 ** 30;

function Overlay({ ids, names, series }: { ids: string[]; names: Record<string, string>; series: Record<string, RunSeries> }) {
  const { data, specs } = useMemo(() => {
    const have = ids.filter((id) => series[id]);
    const tables: [number[], ...(number | null)[][]][] = [];
    const specs: SeriesSpec[] = [];
    have.forEach((id, i) => {
      const s = series[id]!;
      tables.push([s.train.step, s.train.smoothed]);
      specs.push({ label: `${names[id] ?? id}`, stroke: color(i), width: 1.6 });
    });
    have.forEach((id, i) => {
      const s = series[id]!;
      if (s.eval.step.length === 0) return;
      tables.push([s.eval.step, s.eval.eval_loss]);
      specs.push({ label: `${names[id] ?? id} eval`, stroke: color(i), dash: [6, 4], points: true, spanGaps: true, width: 1.2 });
    });
    const t0 = performance.now();
    const data = tables.length ? align(tables) : ([[]] as unknown as ReturnType<typeof align>);
    // how long aligning the runs on one step axis took (the benchmark reads it)
    document.body.dataset.overlayAlignMs = (performance.now() - t0).toFixed(1);
    return { data, specs };
  }, [ids.join(","), Object.keys(series).length]);
  if (specs.length === 0) return <p class="note">no metrics yet</p>;
  return <SeriesChart title="Loss curves: smoothed train (solid), eval (dashed)" testid="overlay" yLabel="loss" height={340} data={data} series={specs} />;
}

function PredictedVsMeasured({ runs }: { runs: RunSummary[] }) {
  const mem = runs.filter((r) => r.memory.predicted_allocated_bytes !== null && r.memory.measured_allocated_bytes !== null).map((r) => ({ name: r.name, predicted: r.memory.predicted_allocated_bytes! / GIB, measured: r.memory.measured_allocated_bytes! / GIB }));
  const speed = runs.filter((r) => r.tokens_per_s.predicted !== null && r.tokens_per_s.measured !== null).map((r) => ({ name: r.name, predicted: r.tokens_per_s.predicted!, measured: r.tokens_per_s.measured! }));
  const scatter = (rows: { name: string; predicted: number; measured: number }[], unit: string): Plot.PlotOptions => {
    const top = Math.max(...rows.flatMap((r) => [r.predicted, r.measured])) * 1.1;
    return {
      height: 280,
      marginLeft: 56,
      x: { label: `predicted ${unit}`, domain: [0, top], grid: true },
      y: { label: `measured ${unit}`, domain: [0, top], grid: true },
      marks: [Plot.line([[0, 0], [top, top]], { stroke: "#aaa", strokeDasharray: "4 3" }), Plot.dot(rows, { x: "predicted", y: "measured", fill: color(0), r: 4, tip: true, title: (d: { name: string; predicted: number; measured: number }) => `${d.name}\npredicted ${d.predicted.toFixed(2)}\nmeasured ${d.measured.toFixed(2)}` })],
    };
  };
  const a = useMemo(() => (mem.length ? scatter(mem, "GiB (peak allocated)") : null), [runs]);
  const b = useMemo(() => (speed.length ? scatter(speed, "tokens/s") : null), [runs]);
  return (
    <section data-testid="pred-vs-meas">
      <h2>Predicted vs measured</h2>
      {!a && !b ? <p class="note">None of these runs has a prediction and a measurement to hold against each other (CPU runs measure no GPU memory, and nothing predicts CPU speed).</p> : null}
      <div class="cols">
        {a ? (
          <figure class="chart">
            <figcaption>Peak allocated memory, {mem.length} runs (the dashed line is a perfect prediction)</figcaption>
            <PlotFigure options={a} />
          </figure>
        ) : null}
        {b ? (
          <figure class="chart">
            <figcaption>Tokens per second, {speed.length} runs</figcaption>
            <PlotFigure options={b} />
          </figure>
        ) : null}
      </div>
      <table class="compact">
        <thead>
          <tr>
            <th>run</th>
            <th class="n">pred alloc</th>
            <th class="n">meas alloc</th>
            <th class="n">pred tok/s</th>
            <th class="n">meas tok/s</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr>
              <td>{r.name}</td>
              <td class="n">{gib(r.memory.predicted_allocated_bytes)}</td>
              <td class="n">{r.device === "cpu" ? "n/a (cpu)" : gib(r.memory.measured_allocated_bytes)}</td>
              <td class="n">{num(r.tokens_per_s.predicted)}</td>
              <td class="n">{num(r.tokens_per_s.measured)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function ComparePage({ route }: { route: Route }) {
  const sweep = route.query.get("sweep") ?? "";
  const ids = (route.query.get("runs") ?? "").split(",").filter(Boolean);
  const param = route.query.get("param") ?? "";
  const [cmp, setCmp] = useState<Comparison | null>(null);
  const [all, setAll] = useState<RunSummary[]>([]);
  const [sweeps, setSweeps] = useState<SweepSummary[]>([]);
  const [series, setSeries] = useState<Record<string, RunSeries>>({});
  const [forgetting, setForgetting] = useState<ForgettingReport[]>([]);
  const [error, setError] = useState<string | null>(null);
  const chosen = sweep !== "" || ids.length > 0;

  useEffect(() => {
    void get<RunSummary[]>("/api/runs").then(setAll);
    void get<SweepSummary[]>("/api/sweeps").then(setSweeps);
  }, []);

  useEffect(() => {
    setCmp(null);
    setSeries({});
    setForgetting([]);
    setError(null);
    if (!chosen) return;
    let live = true;
    (async () => {
      try {
        const c = await get<Comparison>("/api/compare", { runs: ids.join(","), sweep, param });
        if (!live) return;
        setCmp(c);
        const runIds = c.rows.map((r) => r.run);
        const t0 = performance.now();
        const got = await Promise.all(runIds.map((id) => get<RunSeries>(`/api/runs/${id}/series`, { fields: "smoothed" })));
        if (!live) return;
        document.body.dataset.seriesFetchMs = (performance.now() - t0).toFixed(1);
        setSeries(Object.fromEntries(runIds.map((id, i) => [id, got[i]!])));
        const reports = await Promise.all(runIds.map((id) => get<RunReport>(`/api/runs/${id}`)));
        if (live) setForgetting(reports.map((r) => r.forgetting).filter((x): x is ForgettingReport => x !== null));
      } catch (e) {
        if (live) setError((e as Error).message);
      }
    })();
    return () => {
      live = false;
    };
  }, [sweep, ids.join(","), param]);

  const names = Object.fromEntries(all.map((r) => [r.id, cmp?.sweep ? `${cmp.param}=${r.sweep_value ?? r.name}` : r.name]));
  const compared = cmp ? all.filter((r) => cmp.rows.some((x) => x.run === r.id)) : all;

  return (
    <div class="page">
      <h1>Compare</h1>
      <div class="form-row">
        <span>Sweeps:</span>
        {sweeps.length === 0 ? <span class="note">none yet</span> : null}
        {[...new Map(sweeps.map((s) => [s.key, s])).values()].map((s) => (
          <a class={`button ${s.key === sweep ? "on" : ""}`} href={href("/compare", { sweep: s.key })} data-testid={`sweep-${s.key}`}>
            {s.key} ({s.runs})
          </a>
        ))}
        <span class="note">or tick runs on the Runs page and press Compare.</span>
      </div>
      {error ? <p class="error">{error}</p> : null}
      {cmp ? (
        <>
          <section>
            <h2>{cmp.sweep ? `Sweep ${cmp.sweep.key}` : `${cmp.rows.length} runs`}</h2>
            {cmp.sweep ? (
              <p class="sub">
                {cmp.sweep.instance}
                {cmp.sweep.instances > 1 ? ` (the latest of ${cmp.sweep.instances} runs of this sweep)` : ""}
              </p>
            ) : null}
            <ul class="verdict-list" data-testid="verdict">
              {cmp.verdict.map((v) => (
                <li>{v}</li>
              ))}
            </ul>
            <Overlay ids={cmp.rows.map((r) => r.run)} names={names} series={series} />
            <table class="compact" data-testid="compare-table">
              <thead>
                <tr>
                  <th>run</th>
                  <th>{cmp.param}</th>
                  <th>status</th>
                  <th class="n">final eval</th>
                  <th class="n">best eval</th>
                  <th class="n">pred alloc</th>
                  <th class="n">meas alloc</th>
                  <th class="n">meas tok/s</th>
                </tr>
              </thead>
              <tbody>
                {cmp.rows.map((r, i) => (
                  <tr>
                    <td>
                      <span class="swatch" style={{ background: color(i) }} />
                      <a href={href(`/runs/${r.run}`)}>{r.run}</a>
                    </td>
                    <td>{r.value}</td>
                    <td>{r.status}</td>
                    <td class="n">{loss(r.final_eval_loss)}</td>
                    <td class="n">{loss(r.best_eval_loss)}</td>
                    <td class="n">{gib(r.predicted_allocated_bytes)}</td>
                    <td class="n">{gib(r.measured_allocated_bytes)}</td>
                    <td class="n">{num(r.measured_tokens_per_s)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          {forgetting.length ? (
            <section>
              <h2>Forgetting</h2>
              {forgetting.map((f) => (
                <p class="sub">
                  {names[f.run] ?? f.run}: {f.findings.join("; ")}
                </p>
              ))}
              <ForgettingCharts reports={forgetting} names={names} />
            </section>
          ) : null}
        </>
      ) : chosen && !error ? (
        <p class="note">loading…</p>
      ) : null}
      <PredictedVsMeasured runs={compared} />
    </div>
  );
}
