// Plan: the estimate as a form (model, GPU, workload, settings) with the memory breakdown as a stacked bar
// against the card's usable memory and the low–high band, redrawn as settings change; the fit search one
// click away; the decision document for the built-in lab plan or an uploaded one.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, get, postText } from "../api.ts";
import { PlotFigure, Plot } from "../charts/plot.tsx";
import { duration, gib, label, num } from "../format.ts";
import type { Estimate, FitAnswer, Gpu } from "../types.ts";
import { ATTN_IMPLS, DTYPES, GRAD_CKPT, LOSS_IMPLS, OPTIMIZERS, QUANTS, WORKLOAD_KINDS } from "../../../src/workload/types.ts";

type Settings = Record<string, string>;
const GIB = 2 ** 30;
const TRAINING = new Set(["full", "lora", "qlora"]);
const INFERENCE = new Set(["inference_prefill", "inference_decode"]);

/** The settings that apply to a workload kind (the CLI refuses the others). */
function applicable(kind: string): string[] {
  const common = ["seq", "batch", "quant", "dtype", "attn", "engine"];
  if (TRAINING.has(kind)) return [...common, "grad-accum", "optimizer", "grad-ckpt", "loss", "packed", "dataset-tokens", ...(kind === "full" ? [] : ["rank", "alpha"])];
  if (INFERENCE.has(kind)) return [...common, "prompt", "new-tokens"];
  return common;
}

export function queryOf(s: Settings): Record<string, string> {
  const keep = new Set(["model", "gpu", "workload", ...applicable(s.workload ?? "qlora")]);
  return Object.fromEntries(Object.entries(s).filter(([k, v]) => keep.has(k) && v !== ""));
}

const DEFAULTS: Settings = { model: "Qwen/Qwen2.5-7B", gpu: "GeForce RTX 5060 Ti 16GB", workload: "qlora" };

function Select(p: { name: string; value: string; options: readonly string[]; onChange: (v: string) => void; auto?: string; testid?: string }) {
  return (
    <label class="field">
      <span>{p.name}</span>
      <select value={p.value} data-testid={p.testid} onChange={(e) => p.onChange((e.target as HTMLSelectElement).value)}>
        {p.auto !== undefined ? <option value="">{`default (${p.auto})`}</option> : null}
        {p.options.map((o) => (
          <option value={o}>{o}</option>
        ))}
      </select>
    </label>
  );
}

/** A power-of-two slider with the exact number beside it. */
function Pow2(p: { name: string; value: number; min: number; max: number; onChange: (v: string) => void; testid?: string }) {
  const lo = Math.log2(p.min);
  const hi = Math.log2(p.max);
  return (
    <label class="field slider">
      <span>{p.name}</span>
      <input type="range" min={lo} max={hi} step={1} value={Math.round(Math.log2(Math.max(1, p.value)))} data-testid={p.testid} onInput={(e) => p.onChange(String(2 ** Number((e.target as HTMLInputElement).value)))} />
      <input type="number" class="exact" min={p.min} value={p.value} onChange={(e) => p.onChange((e.target as HTMLInputElement).value)} />
    </label>
  );
}

export function MemoryBar({ e }: { e: Estimate }) {
  const options = useMemo<Plot.PlotOptions>(() => {
    const rows = Object.entries(e.components)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => ({ row: "peak", component: label(k), gib: v / GIB }));
    const usable = e.gpu_usable_bytes / GIB;
    const top = Math.max(usable, e.peak.high_bytes / GIB, e.peak.device_bytes / GIB) * 1.06;
    return {
      height: 170,
      marginLeft: 70,
      marginRight: 20,
      x: { label: "GiB", domain: [0, top], grid: true },
      y: { label: null, domain: ["peak", "low–high"] },
      color: { legend: true, domain: rows.map((r) => r.component), scheme: "tableau10" },
      marks: [
        Plot.barX(rows, Plot.stackX({ x: "gib", y: "row", fill: "component", title: (d: { component: string; gib: number }) => `${d.component}: ${d.gib.toFixed(2)} GiB`, inset: 0.5 })),
        Plot.barX([{ row: "low–high", x1: e.peak.low_bytes / GIB, x2: e.peak.high_bytes / GIB }], { x1: "x1", x2: "x2", y: "row", fill: "#c9ced6", insetTop: 8, insetBottom: 8 }),
        Plot.tickX([{ row: "low–high", x: e.peak.device_bytes / GIB }], { x: "x", y: "row", stroke: "#111", strokeWidth: 2 }),
        Plot.ruleX([usable], { stroke: "#d62728", strokeWidth: 2, strokeDasharray: "5 3" }),
        Plot.text([usable], { x: (d: number) => d, frameAnchor: "top", dy: -2, text: () => `usable ${usable.toFixed(1)} GiB`, fill: "#d62728", textAnchor: "end", dx: -4 }),
      ],
    };
  }, [e]);
  return <PlotFigure options={options} testid="memory-bar" data={{ "device-bytes": String(e.peak.device_bytes), "usable-bytes": String(e.gpu_usable_bytes), fits: String(e.fits) }} />;
}

function EstimatePanel({ e }: { e: Estimate }) {
  const parts = Object.entries(e.components).filter(([, v]) => v > 0);
  return (
    <div class="estimate">
      <p class={`verdict ${e.fits ? "ok" : "bad"}`} data-testid="fit-verdict">
        {e.fits ? "Fits" : "Does not fit"} on {e.gpu}: peak {gib(e.peak.device_bytes)} of {gib(e.gpu_usable_bytes)} usable ({e.headroom_bytes >= 0 ? `${gib(e.headroom_bytes)} to spare` : `short by ${gib(-e.headroom_bytes)}`}); band {gib(e.peak.low_bytes)} – {gib(e.peak.high_bytes)}
      </p>
      <MemoryBar e={e} />
      <div class="cols">
        <table class="compact">
          <thead>
            <tr>
              <th>component (at the peak: {e.peak.phase})</th>
              <th class="n">memory</th>
            </tr>
          </thead>
          <tbody>
            {parts.map(([k, v]) => (
              <tr>
                <td>{label(k)}</td>
                <td class="n">{gib(v)}</td>
              </tr>
            ))}
            <tr class="total">
              <td>device peak (allocated {gib(e.peak.allocated_bytes)}, reserved {gib(e.peak.reserved_bytes)})</td>
              <td class="n">{gib(e.peak.device_bytes)}</td>
            </tr>
          </tbody>
        </table>
        <div>
          <p>
            <b>{num(e.tokens_per_s)}</b> tokens/s · step {duration(e.step_seconds)}
            {e.total_seconds !== null ? ` · total ${duration(e.total_seconds)}` : ""} · bound by {e.bottleneck}
          </p>
          {e.paged_host_bytes > 0 ? <p>paged optimizer state in host memory: {gib(e.paged_host_bytes)}</p> : null}
          {e.warnings.map((w) => (
            <p class="warn">⚠ {w}</p>
          ))}
        </div>
      </div>
    </div>
  );
}

function FitPanel({ fit, apply }: { fit: FitAnswer; apply: (w: NonNullable<FitAnswer["cheapest"]>["settings"]) => void }) {
  return (
    <div class="fit" data-testid="fit-answer">
      {fit.fits_as_is ? <p>Fits as it is.</p> : fit.cheapest ? (
        <p>
          Cheapest change ({fit.cheapest.cost === "none" ? "free" : `costs ${fit.cheapest.cost}`}): <b>{fit.cheapest.descriptions.join(" + ")}</b> → {gib(fit.cheapest.device_bytes)} at {num(fit.cheapest.tokens_per_s)} tokens/s{" "}
          <button onClick={() => apply(fit.cheapest!.settings)} data-testid="apply-fit">
            apply
          </button>
        </p>
      ) : (
        <p>Nothing in the ladder makes it fit this card: it needs a bigger GPU or several GPUs.</p>
      )}
      {fit.alternatives.length ? (
        <ul>
          {fit.alternatives.slice(0, 5).map((a) => (
            <li>
              also fits: {a.changes.join(" + ")} ({a.cost}) → {gib(a.device_bytes)}, {num(a.tokens_per_s)} tokens/s
            </li>
          ))}
        </ul>
      ) : null}
      <p>
        Longest sequence that fits{fit.cheapest ? " (with the change)" : ""}: {fit.max_seq_len === null ? "–" : num(fit.max_seq_len)} tokens · largest micro-batch: {fit.max_batch ?? "–"}
      </p>
    </div>
  );
}

function Decision({ gpus }: { gpus: Gpu[] }) {
  const [opts, setOpts] = useState<Settings>({});
  const [html, setHtml] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const query = () => ({ ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== "")), format: "html" });
  const run = async (f: () => Promise<string>) => {
    setBusy(true);
    setError(null);
    try {
      setHtml(await f());
    } catch (e) {
      setError((e as Error).message);
      setHtml(null);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    if (!box.current) return;
    if (!html) return void box.current.replaceChildren();
    // the document as `fitlab decide --format html` writes it; its body goes in the page (no scripts run: CSP)
    const doc = new DOMParser().parseFromString(html, "text/html");
    box.current.replaceChildren(...Array.from(doc.body.childNodes));
  }, [html]);
  const set = (k: string) => (e: Event) => setOpts({ ...opts, [k]: (e.target as HTMLInputElement).value });
  return (
    <section>
      <h2>Decision</h2>
      <div class="form-row">
        <label class="field">
          <span>current card (what if)</span>
          <select value={opts.gpu ?? ""} onChange={set("gpu")}>
            <option value="">the plan's (or this machine's)</option>
            {gpus.map((g) => (
              <option value={g.name}>{g.name}</option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>horizon (months)</span>
          <input type="number" min={1} max={240} value={opts["horizon-months"] ?? ""} placeholder="default" onChange={set("horizon-months")} />
        </label>
        <label class="field">
          <span>utilization (0–1)</span>
          <input type="number" step="0.05" min={0} max={1} value={opts.utilization ?? ""} placeholder="default" onChange={set("utilization")} />
        </label>
        <label class="field">
          <span>electricity ($/kWh)</span>
          <input type="number" step="0.01" min={0} value={opts.electricity ?? ""} placeholder="default" onChange={set("electricity")} />
        </label>
      </div>
      <div class="form-row">
        <button data-testid="decide-builtin" disabled={busy} onClick={() => run(() => get<string>("/api/decide", query()))}>
          Decision for the built-in lab plan
        </button>
        <label class="upload">
          or upload a lab plan (YAML):{" "}
          <input
            type="file"
            accept=".yaml,.yml,text/yaml"
            data-testid="plan-upload"
            onChange={async (e) => {
              const file = (e.target as HTMLInputElement).files?.[0];
              if (file) await run(async () => postText<string>("/api/decide", await file.text(), "text/yaml", query()));
            }}
          />
        </label>
        {busy ? <span class="note">deciding…</span> : null}
      </div>
      {error ? <p class="error">{error}</p> : null}
      <div class="decision" ref={box} data-testid="decision" />
    </section>
  );
}

export function PlanPage() {
  const [settings, setSettings] = useState<Settings>(DEFAULTS);
  const [models, setModels] = useState<{ id: string }[]>([]);
  const [gpus, setGpus] = useState<Gpu[]>([]);
  const [engines, setEngines] = useState<string[]>([]);
  const [est, setEst] = useState<Estimate | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [fit, setFit] = useState<FitAnswer | null>(null);
  const [fitBusy, setFitBusy] = useState(false);

  useEffect(() => {
    void get<{ id: string }[]>("/api/models").then(setModels);
    void get<Gpu[]>("/api/gpus").then(setGpus);
    void get<string[]>("/api/engines").then(setEngines);
  }, []);

  // the estimate follows the settings (debounced; a newer request cancels the older)
  useEffect(() => {
    const ctl = new AbortController();
    const t = setTimeout(() => {
      get<Estimate>("/api/estimate", queryOf(settings), ctl.signal)
        .then((e) => {
          setEst(e);
          setError(null);
        })
        .catch((e: Error) => {
          if (e.name !== "AbortError") setError(e instanceof ApiError ? e.message : String(e));
        });
    }, 80);
    setFit(null);
    return () => {
      clearTimeout(t);
      ctl.abort();
    };
  }, [settings]);

  const set = (k: string) => (v: string) => setSettings((s) => ({ ...s, [k]: v }));
  const setKind = (v: string) => setSettings((s) => ({ model: s.model!, gpu: s.gpu!, workload: v }));
  const w = est?.workload;
  const kind = settings.workload ?? "qlora";
  const has = new Set(applicable(kind));
  const applyFit = (x: NonNullable<FitAnswer["cheapest"]>["settings"]) =>
    setSettings((s) => ({
      model: s.model!,
      gpu: s.gpu!,
      workload: x.kind,
      seq: String(x.seqLen),
      batch: String(x.batch),
      "grad-accum": String(x.gradAccum),
      quant: x.quant,
      dtype: x.computeDtype,
      optimizer: x.optimizer,
      "grad-ckpt": x.gradCkpt,
      attn: x.attn,
      loss: x.loss,
      engine: x.engine,
      ...(x.lora ? { rank: String(x.lora.rank), alpha: String(x.lora.alpha) } : {}),
    }));

  return (
    <div class="page">
      <h1>Plan</h1>
      <section>
        <h2>Estimate</h2>
        <div class="form-row">
          <Select name="model" value={settings.model!} options={models.map((m) => m.id)} onChange={set("model")} testid="model" />
          <Select name="GPU" value={settings.gpu!} options={gpus.map((g) => g.name)} onChange={set("gpu")} testid="gpu" />
          <Select name="workload" value={kind} options={WORKLOAD_KINDS} onChange={setKind} testid="workload" />
        </div>
        <div class="form-row">
          <Pow2 name="sequence (tokens)" value={Number(settings.seq || w?.seqLen || 2048)} min={64} max={131072} onChange={set("seq")} testid="seq" />
          <Pow2 name="micro-batch" value={Number(settings.batch || w?.batch || 1)} min={1} max={256} onChange={set("batch")} testid="batch" />
          {has.has("rank") ? <Pow2 name="LoRA rank" value={Number(settings.rank || w?.lora?.rank || 16)} min={1} max={512} onChange={set("rank")} testid="rank" /> : null}
          {has.has("grad-accum") ? <Pow2 name="grad accumulation" value={Number(settings["grad-accum"] || w?.gradAccum || 1)} min={1} max={256} onChange={set("grad-accum")} /> : null}
        </div>
        <details class="more">
          <summary>more settings</summary>
          <div class="form-row">
            <Select name="quantization" value={settings.quant ?? ""} options={QUANTS} auto={w?.quant ?? ""} onChange={set("quant")} testid="quant" />
            <Select name="dtype" value={settings.dtype ?? ""} options={DTYPES} auto={w?.computeDtype ?? ""} onChange={set("dtype")} />
            <Select name="attention" value={settings.attn ?? ""} options={ATTN_IMPLS.filter((a) => a !== "unknown")} auto={w?.attn ?? ""} onChange={set("attn")} />
            <Select name="engine" value={settings.engine ?? ""} options={engines} auto={w?.engine ?? ""} onChange={set("engine")} />
            {has.has("optimizer") ? <Select name="optimizer" value={settings.optimizer ?? ""} options={OPTIMIZERS} auto={w?.optimizer ?? ""} onChange={set("optimizer")} /> : null}
            {has.has("grad-ckpt") ? <Select name="checkpointing" value={settings["grad-ckpt"] ?? ""} options={GRAD_CKPT} auto={w?.gradCkpt ?? ""} onChange={set("grad-ckpt")} /> : null}
            {has.has("loss") ? <Select name="loss" value={settings.loss ?? ""} options={LOSS_IMPLS.filter((a) => a !== "unknown")} auto={w?.loss ?? ""} onChange={set("loss")} /> : null}
            {has.has("dataset-tokens") ? (
              <label class="field">
                <span>dataset tokens × epochs</span>
                <input type="number" min={1} value={settings["dataset-tokens"] ?? ""} placeholder="for the total time" onChange={(e) => set("dataset-tokens")((e.target as HTMLInputElement).value)} />
              </label>
            ) : null}
            {has.has("new-tokens") ? (
              <label class="field">
                <span>generated tokens</span>
                <input type="number" min={0} value={settings["new-tokens"] ?? ""} placeholder="default" onChange={(e) => set("new-tokens")((e.target as HTMLInputElement).value)} />
              </label>
            ) : null}
          </div>
        </details>
        {error ? <p class="error" data-testid="estimate-error">{error}</p> : null}
        {est ? <EstimatePanel e={est} /> : <p class="note">estimating…</p>}
        <div class="form-row">
          <button
            data-testid="find-fit"
            disabled={fitBusy}
            onClick={async () => {
              setFitBusy(true);
              try {
                setFit(await get<FitAnswer>("/api/fit", queryOf(settings)));
              } catch (e) {
                setError((e as Error).message);
              } finally {
                setFitBusy(false);
              }
            }}
          >
            {fitBusy ? "searching…" : "What would make it fit? (fit search)"}
          </button>
        </div>
        {fit ? <FitPanel fit={fit} apply={applyFit} /> : null}
      </section>
      <Decision gpus={gpus} />
    </div>
  );
}
