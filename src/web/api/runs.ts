// The run store over HTTP: the same objects as `fitlab runs list|show|compare|sweeps|forgetting --json`,
// a run's series for charts, live updates as server-sent events, and a run's files by name. Runs are
// addressed by id only; every file read is checked to lie inside the run store (symlinks included).
import fs from "node:fs";
import path from "node:path";
import type { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { compareRuns, runReport, runSeries, storedForgettingReport } from "../../analyze/run-report.js";
import { FitlabInputError } from "../../errors.js";
import { findRuns, parseRunFilter } from "../../runs/query.js";
import type { RunRecord, RunStore } from "../../runs/store.js";
import { runSummary } from "../../runs/summary.js";
import { listSweeps } from "../../runs/sweeps.js";
import { inspectorOf } from "../inspect.js";
import { LiveSeries } from "../live.js";
import { HttpError } from "./errors.js";

/** How run ids look (store.ts newId: r20260412103000-1a2b3c); names are not accepted here. */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

const inside = (p: string, root: string) => p === root || p.startsWith(root + path.sep);
const real = (p: string) => fs.realpathSync(p);

/** The run `id`, with its folder confirmed inside the store: the record's folder, or <store>/<id> if the store moved. */
export function confinedRun(store: RunStore, id: string): RunRecord {
  if (!RUN_ID.test(id)) throw new HttpError(400, `"${id}" is not a run id`);
  let r: RunRecord;
  try {
    r = store.get(id);
  } catch {
    throw new HttpError(404, `no run ${id}`);
  }
  if (r.id !== id) throw new HttpError(404, `no run ${id}`);
  const root = real(store.dir);
  const candidates = [r.dir, path.join(store.dir, r.id)];
  const dir = candidates.find((d) => fs.existsSync(d) && inside(real(d), root));
  if (!dir) throw new HttpError(403, `the folder of run ${id} is not inside the run store`);
  for (const f of inspectorOf(r.kind).artefacts) {
    const file = path.join(dir, f);
    if (fs.existsSync(file) && !inside(real(file), root)) throw new HttpError(403, `${f} of run ${id} points outside the run store`);
  }
  return { ...r, dir };
}

const noExtra = (q: Record<string, string>, allowed: readonly string[]) => {
  for (const k of Object.keys(q)) if (!allowed.includes(k)) throw new FitlabInputError(`unknown parameter "${k}"; parameters: ${allowed.join(", ") || "none"}`);
};

/**
 * Answers that read a run's metrics.jsonl (its series, its report), kept while the files and the row stay
 * the same: an overlay of long runs parses each file once, not on every view.
 */
const cache = new Map<string, unknown>();
function cached<T>(kind: string, r: RunRecord, make: () => T): T {
  const stamp = (f: string) => {
    try {
      const st = fs.statSync(path.join(r.dir, f));
      return `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      return "-";
    }
  };
  const key = `${kind}|${r.id}|${stamp("metrics.jsonl")}|${stamp("forgetting.json")}|${r.status}|${r.finished_at}|${r.steps}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit as T;
  const value = make();
  cache.set(key, value);
  if (cache.size > 64) cache.delete(cache.keys().next().value!);
  return value;
}

const TYPES: Record<string, string> = { ".json": "application/json", ".jsonl": "application/x-ndjson", ".txt": "text/plain; charset=utf-8", ".svg": "image/svg+xml", ".safetensors": "application/octet-stream" };

export function runRoutes(app: Hono, store: () => RunStore): void {
  app.get("/api/runs", (c) => {
    const q = c.req.query();
    noExtra(q, ["kind", "status", "experiment", "sweep"]);
    return c.json(findRuns(store(), parseRunFilter(q)).map(runSummary));
  });

  // the run list's live view: an event whenever another process commits to the store
  app.get("/api/runs/stream", (c) =>
    streamSSE(c, async (s) => {
      let version = store().dataVersion();
      let ticks = 0;
      await s.writeSSE({ event: "hello", data: "{}", retry: 1000 });
      const timer = setInterval(() => {
        const v = store().dataVersion();
        ticks++;
        // every 5 s anyway: a run whose process died shows as interrupted without any write
        if (v !== version || ticks % 20 === 0) void s.writeSSE({ event: "changed", data: JSON.stringify({ version: v }) });
        version = v;
      }, 250);
      await new Promise<void>((res) => s.onAbort(res));
      clearInterval(timer);
    }),
  );

  app.get("/api/sweeps", (c) => {
    noExtra(c.req.query(), []);
    return c.json(listSweeps(store()));
  });

  app.get("/api/compare", (c) => {
    const q = c.req.query();
    noExtra(q, ["runs", "sweep", "param"]);
    const ids = (q.runs ?? "").split(",").filter(Boolean);
    for (const id of ids) confinedRun(store(), id);
    const { runs: _runs, ...cmp } = compareRuns(store(), { ids, ...(q.sweep ? { sweep: q.sweep } : {}), ...(q.param ? { param: q.param } : {}) });
    return c.json(cmp);
  });

  app.get("/api/runs/:id", (c) => {
    const r = confinedRun(store(), c.req.param("id"));
    // the status as shown (interrupted) depends on a process, not on the files: never cached
    return c.json({ ...cached("report", r, () => runReport(r)), status: runSummary(r).status });
  });
  // `fields=smoothed,lr`: only those train columns (an overlay of many long runs needs one)
  app.get("/api/runs/:id/series", (c) => {
    const q = c.req.query();
    noExtra(q, ["fields"]);
    const r = confinedRun(store(), c.req.param("id"));
    const s = cached("series", r, () => runSeries(r));
    if (!q.fields) return c.json(s);
    const want = q.fields.split(",");
    for (const f of want) if (!(f in s.train) || f === "step") throw new FitlabInputError(`unknown series "${f}"; series: ${Object.keys(s.train).filter((k) => k !== "step").join(", ")}`);
    return c.json({ train: Object.fromEntries(Object.entries(s.train).filter(([k]) => k === "step" || want.includes(k))), eval: s.eval });
  });

  app.get("/api/runs/:id/forgetting", (c) => {
    const r = confinedRun(store(), c.req.param("id"));
    const f = storedForgettingReport(r);
    if (!f) throw new HttpError(404, `no forgetting results stored for run ${r.id} (fitlab runs forgetting ${r.id} --general FILE --mc FILE measures them)`);
    return c.json(f);
  });

  app.get("/api/runs/:id/inspect", async (c) => {
    const r = confinedRun(store(), c.req.param("id"));
    const answer = inspectorOf(r.kind).answer;
    if (!answer) throw new HttpError(404, `no inspect view for ${r.kind} runs yet`);
    return c.json(await answer(r));
  });

  app.get("/api/runs/:id/artefacts/:name", (c) => {
    const r = confinedRun(store(), c.req.param("id"));
    const name = c.req.param("name");
    if (!inspectorOf(r.kind).artefacts.includes(name)) throw new HttpError(404, `${r.kind} runs have no file "${name}" to show; files: ${inspectorOf(r.kind).artefacts.join(", ")}`);
    const file = path.join(r.dir, name);
    if (!fs.existsSync(file)) throw new HttpError(404, `run ${r.id} has no ${name} (yet)`);
    return c.body(fs.readFileSync(file), 200, { "Content-Type": TYPES[path.extname(name)] ?? "application/octet-stream" });
  });

  // one run, live: a snapshot of its series, then each new step within moments of being written
  app.get("/api/runs/:id/live", (c) => {
    const r = confinedRun(store(), c.req.param("id"));
    return streamSSE(c, async (s) => {
      const live = new LiveSeries(path.join(r.dir, "metrics.jsonl"));
      let busy = false;
      let summary = "";
      const sendRun = async () => {
        const now = JSON.stringify(runSummary(store().get(r.id)));
        if (now !== summary) await s.writeSSE({ event: "run", data: now });
        summary = now;
      };
      live.poll();
      await s.writeSSE({ event: "snapshot", data: JSON.stringify(live.builder.series), retry: 1000 });
      await sendRun();
      const pump = async (checkRun: boolean) => {
        if (busy || s.aborted || s.closed) return;
        busy = true;
        try {
          const { rows, reset } = live.poll();
          if (reset) await s.writeSSE({ event: "snapshot", data: JSON.stringify(live.builder.series) });
          else if (rows.length) await s.writeSSE({ event: "rows", data: JSON.stringify(rows) });
          if (checkRun) await sendRun();
        } finally {
          busy = false;
        }
      };
      // inotify wakes us as the worker writes; the timer catches anything a watcher misses, and status
      let watcher: fs.FSWatcher | null = null;
      try {
        watcher = fs.watch(r.dir, (_e, f) => {
          if (f === "metrics.jsonl") void pump(false);
        });
      } catch {
        watcher = null;
      }
      const timer = setInterval(() => void pump(true), 500);
      const ping = setInterval(() => void s.write(": ping\n\n"), 15_000);
      await new Promise<void>((res) => s.onAbort(res));
      watcher?.close();
      clearInterval(timer);
      clearInterval(ping);
    });
  });
}
