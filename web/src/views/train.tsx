// A training run, live: loss (raw, smoothed, eval), learning rate, gradient norm, tokens/s and memory
// (measured per step against the planner's prediction), fed by the run's event stream: a snapshot, then
// each step as the worker writes it.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { PlotFigure, Plot, color } from "../charts/plot.tsx";
import { align, SeriesChart } from "../charts/series.tsx";
import { useEvents } from "../live.ts";
import type { ForgettingReport, RunReport, RunSeries, SeriesRow } from "../types.ts";

const GIB = 2 ** 30;
const empty = (): RunSeries => ({ train: { step: [], loss: [], smoothed: [], lr: [], grad_norm: [], tokens_per_s: [], peak_allocated_bytes: [], peak_reserved_bytes: [], cpu_rss_peak_bytes: [] }, eval: { step: [], eval_loss: [] } });

function append(s: RunSeries, rows: SeriesRow[]): void {
  for (const r of rows) {
    if (r.type === "eval") {
      s.eval.step.push(r.step);
      s.eval.eval_loss.push(r.eval_loss);
      continue;
    }
    const t = s.train;
    t.step.push(r.step);
    t.loss.push(r.loss ?? null);
    t.smoothed.push(r.smoothed);
    t.lr.push(r.lr ?? null);
    t.grad_norm.push(r.grad_norm ?? null);
    t.tokens_per_s.push(r.tokens_per_s ?? null);
    t.peak_allocated_bytes.push(r.peak_allocated_bytes ?? null);
    t.peak_reserved_bytes.push(r.peak_reserved_bytes ?? null);
    t.cpu_rss_peak_bytes.push(r.cpu_rss_peak_bytes ?? null);
  }
}

export function ForgettingCharts({ reports, names }: { reports: ForgettingReport[]; names: Record<string, string> }) {
  const rows = reports.flatMap((f) => f.points.map((p) => ({ ...p, run: names[f.run] ?? f.run })));
  const runs = reports.map((f) => names[f.run] ?? f.run);
  const opts = (y: "perplexity" | "mc_accuracy", title: string): Plot.PlotOptions => ({
    height: 240,
    marginLeft: 56,
    marginRight: 20,
    x: { label: "step (0 = base model)", grid: true },
    y: { label: title, grid: true, zero: false, ...(y === "mc_accuracy" ? { tickFormat: "%" } : {}) },
    color: { domain: runs, range: runs.map((_, i) => color(i)), legend: runs.length > 1 },
    marks: [Plot.lineY(rows.filter((r) => r[y] !== null), { x: "step", y, stroke: "run" }), Plot.dot(rows.filter((r) => r[y] !== null), { x: "step", y, fill: "run", r: 3, tip: true })],
  });
  const a = useMemo(() => opts("perplexity", "general-text perplexity"), [reports]);
  const b = useMemo(() => opts("mc_accuracy", "multiple-choice accuracy"), [reports]);
  return (
    <div class="cols" data-testid="forgetting">
      <figure class="chart">
        <figcaption>General-text perplexity over training</figcaption>
        <PlotFigure options={a} />
      </figure>
      <figure class="chart">
        <figcaption>Multiple-choice accuracy over training</figcaption>
        <PlotFigure options={b} />
      </figure>
    </div>
  );
}

export function TrainView({ run, onRunChanged }: { run: RunReport; onRunChanged: () => void }) {
  const series = useRef<RunSeries>(empty());
  const [version, setVersion] = useState(0);
  const status = useRef(run.status);
  const box = useRef<HTMLDivElement>(null);

  useEvents(`/api/runs/${run.id}/live`, {
    snapshot: (d) => {
      series.current = JSON.parse(d) as RunSeries;
      setVersion((v) => v + 1);
    },
    rows: (d) => {
      append(series.current, JSON.parse(d) as SeriesRow[]);
      setVersion((v) => v + 1);
    },
    run: (d) => {
      const s = (JSON.parse(d) as { status: string }).status;
      if (s !== status.current) {
        status.current = s;
        onRunChanged();
      }
    },
  });
  const forgetting = run.forgetting;

  const t = series.current.train;
  const e = series.current.eval;
  // when a step is on screen: the benchmark and tests read these
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    el.dataset.steps = String(t.step.length);
    el.dataset.lastStep = String(t.step.at(-1) ?? 0);
    el.dataset.lastStepAt = String(Date.now());
  }, [version]);

  const charts = useMemo(() => {
    const lossData = align([
      [t.step, t.loss, t.smoothed],
      [e.step, e.eval_loss],
    ]);
    const gpu = t.peak_allocated_bytes.some((x) => x !== null);
    const measured = (gpu ? t.peak_allocated_bytes : t.cpu_rss_peak_bytes).map((x) => (x === null ? null : x / GIB));
    const predicted = run.memory.predicted_allocated_bytes;
    const memData = [t.step, measured, t.step.map(() => (predicted === null ? null : predicted / GIB))] as [number[], (number | null)[], (number | null)[]];
    return { lossData, gpu, memData };
  }, [version]);

  return (
    <div ref={box} class="live" data-testid="live" data-version={version}>
      <div class="cols">
        <SeriesChart
          title="Loss"
          testid="chart-loss"
          yLabel="loss"
          data={charts.lossData}
          series={[
            { label: "train", stroke: "#9fb6d3", width: 1 },
            { label: "smoothed", stroke: color(0), width: 2 },
            { label: "eval", stroke: color(1), width: 2, points: true, spanGaps: true },
          ]}
        />
        <SeriesChart title="Learning rate" testid="chart-lr" yLabel="lr" data={[t.step, t.lr]} series={[{ label: "lr", stroke: color(2) }]} />
        <SeriesChart title="Gradient norm" testid="chart-grad" yLabel="norm" data={[t.step, t.grad_norm]} series={[{ label: "grad norm", stroke: color(3) }]} />
        <SeriesChart title="Tokens per second" testid="chart-speed" yLabel="tokens/s" data={[t.step, t.tokens_per_s]} series={[{ label: "tokens/s", stroke: color(4) }]} note={run.tokens_per_s.predicted !== null ? `predicted ${Math.round(run.tokens_per_s.predicted)}` : "no prediction without a GPU"} />
        <SeriesChart
          title={charts.gpu ? "Peak allocated GPU memory (GiB)" : "Memory (GiB): process RSS on the CPU"}
          testid="chart-memory"
          yLabel="GiB"
          data={charts.memData}
          series={[
            { label: charts.gpu ? "measured" : "process RSS (CPU run)", stroke: color(0), width: 2 },
            { label: "predicted (CUDA allocated)", stroke: color(1), dash: [6, 4] },
          ]}
          note={charts.gpu ? undefined : "a CPU run has no GPU memory to hold against the prediction"}
        />
      </div>
      {forgetting ? (
        <section>
          <h2>Forgetting</h2>
          <ul>
            {forgetting.findings.map((f) => (
              <li>{f}</li>
            ))}
          </ul>
          <ForgettingCharts reports={[forgetting]} names={{ [run.id]: run.name }} />
        </section>
      ) : null}
    </div>
  );
}
