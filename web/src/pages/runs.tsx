// Runs: every run in the store, filtered by kind, status, experiment and sweep (the server filters, as
// `fitlab runs list --kind ... --json` does), updated as other processes write; pick runs to compare.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { get } from "../api.ts";
import { gib, loss, num } from "../format.ts";
import { useEvents } from "../live.ts";
import { go, href, type Route } from "../router.ts";
import { RUN_KINDS, SHOWN_STATUSES, type RunSummary, type SweepSummary } from "../types.ts";

const FILTERS = ["kind", "status", "experiment", "sweep"] as const;

export function StatusBadge({ s }: { s: string }) {
  return <span class={`badge ${s}`}>{s}</span>;
}

/** Every row has this height (CSS: table.runs tbody tr), so a long list renders only the rows in view. */
const ROW_PX = 44;
/** Up to this many runs, every row is in the page; beyond, only those near the viewport. */
const ALL_ROWS = 200;

function useWindow(count: number, table: { current: HTMLElement | null }): [number, number] {
  const [range, setRange] = useState<[number, number]>([0, Math.min(count, ALL_ROWS)]);
  useEffect(() => {
    if (count <= ALL_ROWS) return setRange([0, count]);
    let frame = 0;
    const measure = () => {
      frame = 0;
      const el = table.current;
      if (!el) return;
      const top = el.getBoundingClientRect().top + 36; // below the header row
      const first = Math.max(0, Math.floor(-top / ROW_PX) - 10);
      const last = Math.min(count, Math.ceil((innerHeight - top) / ROW_PX) + 10);
      setRange((r) => (r[0] === first && r[1] === last ? r : [first, Math.max(first, last)]));
    };
    const on = () => {
      if (!frame) frame = requestAnimationFrame(measure);
    };
    measure();
    addEventListener("scroll", on, { passive: true });
    addEventListener("resize", on);
    return () => {
      removeEventListener("scroll", on);
      removeEventListener("resize", on);
      cancelAnimationFrame(frame);
    };
  }, [count]);
  return range;
}

function RunRow({ r, picked, toggle }: { r: RunSummary; picked: boolean; toggle: (id: string) => void }) {
  return (
    <tr data-run={r.id}>
      <td>
        <input type="checkbox" checked={picked} onChange={() => toggle(r.id)} aria-label={`pick ${r.name}`} />
      </td>
      <td title={r.name}>
        <a href={href(`/runs/${r.id}`)}>{r.name}</a>
        <div class="sub">{r.id}</div>
      </td>
      <td>{r.kind}</td>
      <td>
        <StatusBadge s={r.status} />
      </td>
      <td>
        {r.experiment ?? "–"}
        {r.sweep ? <div class="sub">{`${r.sweep} · ${r.sweep_value ?? ""}`}</div> : null}
      </td>
      <td class="n">{r.steps ?? "–"}</td>
      <td class="n">{loss(r.eval_loss.final)}</td>
      <td class="n">{loss(r.eval_loss.best)}</td>
      <td class="n">
        {gib(r.memory.predicted_allocated_bytes)} / {r.device === "cpu" ? "n/a (cpu)" : gib(r.memory.measured_allocated_bytes)}
      </td>
      <td class="n">
        {num(r.tokens_per_s.predicted)} / {num(r.tokens_per_s.measured)}
      </td>
      <td class="sub">{r.created_at.replace("T", " ").slice(0, 19)}</td>
    </tr>
  );
}

export function RunsPage({ route }: { route: Route }) {
  const filter = Object.fromEntries(FILTERS.map((k) => [k, route.query.get(k) ?? ""])) as Record<(typeof FILTERS)[number], string>;
  const [runs, setRuns] = useState<RunSummary[] | null>(null);
  const [all, setAll] = useState<RunSummary[]>([]);
  const [sweeps, setSweeps] = useState<SweepSummary[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const loaded = useRef(0);
  const table = useRef<HTMLTableElement>(null);
  const [first, last] = useWindow(runs?.length ?? 0, table);
  const key = JSON.stringify(filter);

  const load = useCallback(async () => {
    try {
      const [list, everything, sw] = await Promise.all([get<RunSummary[]>("/api/runs", filter), key === JSON.stringify({ kind: "", status: "", experiment: "", sweep: "" }) ? null : get<RunSummary[]>("/api/runs"), get<SweepSummary[]>("/api/sweeps")]);
      setRuns(list);
      setAll(everything ?? list);
      setSweeps(sw);
      setError(null);
      loaded.current = performance.now();
      document.body.dataset.runsLoadedAt = String(loaded.current);
    } catch (e) {
      setError((e as Error).message);
    }
  }, [key]);

  useEffect(() => void load(), [load]);
  // another process wrote to the store: fetch again (coalesced)
  const pending = useRef<number | null>(null);
  useEvents("/api/runs/stream", {
    changed: () => {
      if (pending.current === null) pending.current = window.setTimeout(() => ((pending.current = null), void load()), 200);
    },
  });

  const setFilter = (k: string, v: string) => go("/runs", { ...filter, [k]: v });
  const experiments = [...new Set(all.map((r) => r.experiment).filter((x): x is string => !!x))].sort();
  const sweepKeys = [...new Set(sweeps.map((s) => s.key))];
  const toggle = (id: string) => {
    const n = new Set(picked);
    if (n.has(id)) n.delete(id);
    else n.add(id);
    setPicked(n);
  };

  return (
    <div class="page">
      <h1>Runs</h1>
      <div class="form-row filters">
        {(
          [
            ["kind", RUN_KINDS],
            ["status", SHOWN_STATUSES],
            ["experiment", experiments],
            ["sweep", sweepKeys],
          ] as const
        ).map(([k, options]) => (
          <label class="field">
            <span>{k}</span>
            <select value={filter[k]} data-testid={`filter-${k}`} onChange={(e) => setFilter(k, (e.target as HTMLSelectElement).value)}>
              <option value="">all</option>
              {options.map((o) => (
                <option value={o}>{o}</option>
              ))}
            </select>
          </label>
        ))}
        <button disabled={picked.size === 0} data-testid="compare-picked" onClick={() => go("/compare", { runs: [...picked].join(",") })}>
          Compare {picked.size || ""} selected
        </button>
        {filter.sweep ? (
          <a class="button" href={href("/compare", { sweep: filter.sweep })}>
            Compare sweep {filter.sweep}
          </a>
        ) : null}
      </div>
      {error ? <p class="error">{error}</p> : null}
      {runs === null ? (
        <p class="note">loading…</p>
      ) : runs.length === 0 ? (
        <p class="note" data-testid="no-runs">
          No runs{Object.values(filter).some(Boolean) ? " match the filter" : " in this store yet"}. Start one with <code>npx fitlab demo</code> or <code>npx fitlab run ...</code>; it appears here as it starts.
        </p>
      ) : (
        <table class="runs" ref={table} data-testid="runs-table" data-count={runs.length} data-rendered={last - first}>
          <colgroup>
            <col style={{ width: "32px" }} />
            <col style={{ width: "21%" }} />
            <col style={{ width: "64px" }} />
            <col style={{ width: "96px" }} />
            <col style={{ width: "15%" }} />
            <col style={{ width: "60px" }} />
            <col style={{ width: "80px" }} />
            <col style={{ width: "80px" }} />
            <col style={{ width: "180px" }} />
            <col style={{ width: "120px" }} />
            <col style={{ width: "140px" }} />
          </colgroup>
          <thead>
            <tr>
              <th />
              <th>run</th>
              <th>kind</th>
              <th>status</th>
              <th>experiment / sweep</th>
              <th class="n">steps</th>
              <th class="n">final eval</th>
              <th class="n">best eval</th>
              <th class="n">pred / meas alloc</th>
              <th class="n">pred / meas tok/s</th>
              <th>started</th>
            </tr>
          </thead>
          <tbody>
            {first > 0 ? (
              <tr class="spacer">
                <td colSpan={11} style={{ height: `${first * ROW_PX}px` }} />
              </tr>
            ) : null}
            {runs.slice(first, last).map((r) => (
              <RunRow key={r.id} r={r} picked={picked.has(r.id)} toggle={toggle} />
            ))}
            {last < runs.length ? (
              <tr class="spacer">
                <td colSpan={11} style={{ height: `${(runs.length - last) * ROW_PX}px` }} />
              </tr>
            ) : null}
          </tbody>
        </table>
      )}
    </div>
  );
}
