// The Inspect views' data beyond `GET /api/runs/:id/inspect` (the object `fitlab inspect ... --json` printed):
// a kept prompt's tokens and pooled-bin edges, and one head's attention map as little-endian float32 (rows x
// cols, row = query token or bin). Runs by id, prompts, layers and heads by number, the map's side and
// resolution from fixed words: no name from the client reaches the file system, and every file the run's
// result names must match the worker's naming and lie inside the run's folder (symlinks resolved).
import fs from "node:fs";
import path from "node:path";
import type { Hono } from "hono";
import { FitlabInputError } from "../../errors.js";
import { headMap, promptMaps, type MapResolution, type MapSide } from "../../runs/inspect-maps.js";
import type { RunRecord, RunStore } from "../../runs/store.js";
import { HttpError } from "./errors.js";
import { confinedRun } from "./runs.js";

const INDEX = /^\d{1,6}$/;
const SIDES: readonly MapSide[] = ["attention", "base", "tuned", "difference"];
const RESOLUTIONS: readonly MapResolution[] = ["pooled", "full"];

function index(what: string, v: string): number {
  if (!INDEX.test(v)) throw new HttpError(400, `${what} must be a whole number, got "${v}"`);
  return Number(v);
}

const inside = (p: string, root: string) => p === root || p.startsWith(root + path.sep);

/** The run's result.json, parsed once per version of the file. */
const results = new Map<string, { stamp: string; raw: Record<string, unknown> }>();
function resultOf(run: RunRecord): Record<string, unknown> {
  const file = path.join(run.dir, "result.json");
  let stamp: string;
  try {
    const st = fs.statSync(file);
    stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    throw new HttpError(404, `run ${run.id} has no result yet (status ${run.status})`);
  }
  const hit = results.get(run.id);
  if (hit && hit.stamp === stamp) return hit.raw;
  const raw = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  results.set(run.id, { stamp, raw });
  if (results.size > 32) results.delete(results.keys().next().value!);
  return raw;
}

/** A file the run's result names, confirmed to lie inside the run's own folder. */
function fileOf(run: RunRecord): (rel: string) => string {
  const root = fs.realpathSync(run.dir);
  return (rel) => {
    const p = path.join(run.dir, rel);
    if (!fs.existsSync(p)) throw new HttpError(404, `run ${run.id} has no ${rel}`);
    if (!inside(fs.realpathSync(p), root)) throw new HttpError(403, `${rel} of run ${run.id} points outside its folder`);
    return p;
  };
}

function mapsRun(store: RunStore, id: string): RunRecord {
  const run = confinedRun(store, id);
  if (run.kind !== "attention" && run.kind !== "compare") throw new HttpError(404, `${run.kind} runs keep no attention maps`);
  return run;
}

export function inspectRoutes(app: Hono, store: () => RunStore): void {
  app.get("/api/runs/:id/maps/:prompt", (c) => {
    const q = c.req.query();
    if (Object.keys(q).length) throw new FitlabInputError(`unknown parameter "${Object.keys(q)[0]}"; parameters: none`);
    const run = mapsRun(store(), c.req.param("id"));
    return c.json(promptMaps(run, resultOf(run), index("prompt", c.req.param("prompt")), fileOf(run)));
  });

  // `side` attention (an attention run) or base, tuned, difference (a compare run); `res` pooled or full
  app.get("/api/runs/:id/maps/:prompt/:layer/:head", (c) => {
    const q = c.req.query();
    for (const k of Object.keys(q)) if (k !== "side" && k !== "res") throw new FitlabInputError(`unknown parameter "${k}"; parameters: side, res`);
    const run = mapsRun(store(), c.req.param("id"));
    const side = (q.side ?? (run.kind === "attention" ? "attention" : "tuned")) as MapSide;
    if (!SIDES.includes(side)) throw new FitlabInputError(`side must be ${SIDES.join(", ")}, got "${q.side}"`);
    const resolution = (q.res ?? "pooled") as MapResolution;
    if (!RESOLUTIONS.includes(resolution)) throw new FitlabInputError(`res must be pooled or full, got "${q.res}"`);
    const m = headMap(run, resultOf(run), { prompt: index("prompt", c.req.param("prompt")), layer: index("layer", c.req.param("layer")), head: index("head", c.req.param("head")), side, resolution }, fileOf(run));
    const body = new Uint8Array(m.data.buffer as ArrayBuffer, m.data.byteOffset, m.data.byteLength);
    return c.body(body, 200, { "Content-Type": "application/octet-stream", "X-Fitlab-Shape": `${m.rows},${m.cols}`, "X-Fitlab-Resolution": m.resolution, "X-Fitlab-Side": m.side, "Cache-Control": "no-cache" });
  });
}
