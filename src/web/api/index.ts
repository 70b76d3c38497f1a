// The dashboard's API, loaded on the first /api request (it pulls in the planner, the decision and the
// run store; the server starts without them). Handlers are thin: each calls the function its CLI
// command calls and returns the same JSON.
import { Hono } from "hono";
import { FitlabInputError } from "../../errors.js";
import { RunStore } from "../../runs/store.js";
import { HttpError } from "./errors.js";
import { decisionAnswer, estimateAnswer, fitAnswerFor, gpusAnswer, modelsAnswer } from "./plan.js";
import { inspectRoutes } from "./inspect.js";
import { runRoutes } from "./runs.js";

const MAX_PLAN_BYTES = 512 * 1024;
const YAML_TYPES = /^(text\/yaml|application\/yaml|application\/x-yaml|text\/plain)\b/;

export function createApi(o: { runsDir: string }): { app: Hono; close: () => void } {
  const app = new Hono();
  let store: RunStore | null = null;
  const getStore = () => (store ??= new RunStore(o.runsDir));

  app.onError((e, c) => {
    if (e instanceof HttpError) return c.json({ error: e.message }, e.status);
    if (e instanceof FitlabInputError) return c.json({ error: e.message }, 400);
    return c.json({ error: `internal error: ${e.message.split("\n")[0]}` }, 500);
  });

  app.get("/api/health", (c) => c.json({ ok: true, runs_dir: o.runsDir }));
  app.get("/api/models", async (c) => c.json(await modelsAnswer()));
  app.get("/api/gpus", async (c) => c.json(await gpusAnswer()));
  app.get("/api/engines", async (c) => {
    const { engineProfiles } = await import("../../engines/profile.js");
    return c.json([...engineProfiles().keys()]);
  });
  app.get("/api/estimate", async (c) => c.json(await estimateAnswer(c.req.query())));
  app.get("/api/fit", async (c) => c.json(await fitAnswerFor(c.req.query())));

  const decision = async (q: Record<string, string>, uploaded: string | null) => {
    const format = q.format ?? "json";
    if (format !== "json" && format !== "html") throw new FitlabInputError(`format must be json or html, got "${format}"`);
    return { format, body: await decisionAnswer(q, uploaded, format) };
  };
  app.get("/api/decide", async (c) => {
    const d = await decision(c.req.query(), null);
    return d.format === "json" ? c.json(d.body) : c.html(d.body as string);
  });
  // an uploaded plan (the YAML text as the body); POST, so the Origin check applies
  app.post("/api/decide", async (c) => {
    if (!YAML_TYPES.test(c.req.header("content-type") ?? "")) throw new HttpError(415, "send the plan as text/yaml");
    if (Number(c.req.header("content-length") ?? 0) > MAX_PLAN_BYTES) throw new HttpError(413, `a plan over ${MAX_PLAN_BYTES / 1024} KiB is not a lab plan`);
    const text = await c.req.text();
    if (text.length > MAX_PLAN_BYTES) throw new HttpError(413, `a plan over ${MAX_PLAN_BYTES / 1024} KiB is not a lab plan`);
    const d = await decision(c.req.query(), text);
    return d.format === "json" ? c.json(d.body) : c.html(d.body as string);
  });

  runRoutes(app, getStore);
  inspectRoutes(app, getStore);
  app.all("/api/*", (c) => c.json({ error: `no ${c.req.method} ${new URL(c.req.url).pathname}` }, 404));
  return { app, close: () => store?.close() };
}
