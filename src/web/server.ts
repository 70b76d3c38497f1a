// `fitlab ui`: one Node process serving the dashboard (the built front end from dist/app) and its API
// on 127.0.0.1 by default. Hono routes every request through the guard (token, Host, Origin, paths);
// the API and everything heavy behind it load on the first API request, so the server answers at once.
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { Hono } from "hono";
import { FitlabInputError } from "../errors.js";
import { guardMiddleware, makeGuard, type Guard } from "./security.js";
import { appFiles } from "./static.js";

export interface UiOptions {
  readonly host: string;
  readonly port: number;
  readonly runsDir: string;
  /** fixed token (tests); default: 32 random bytes */
  readonly token?: string;
}

export interface RunningUi {
  readonly url: string;
  readonly port: number;
  readonly guard: Guard;
  close(): Promise<void>;
}

function appFor(guard: Guard, runsDir: string): { app: Hono; close: () => void } {
  const app = new Hono();
  app.use("*", guardMiddleware(guard));
  let api: Promise<{ app: Hono; close: () => void }> | null = null;
  app.all("/api/*", async (c) => {
    api ??= import("./api/index.js").then((m) => m.createApi({ runsDir }));
    return (await api).app.fetch(c.req.raw, c.env);
  });
  app.get("*", (c) => {
    const files = appFiles();
    if (files.size === 0) return c.text("the front end is not built: run `npm run build` in the fitlab folder", 500);
    const f = files.get(c.req.path === "/" ? "/index.html" : c.req.path);
    if (!f) return c.text("not found", 404);
    return c.body(new Uint8Array(f.body), 200, { "Content-Type": f.type, "Cache-Control": f.immutable ? "public, max-age=31536000, immutable" : "no-cache" });
  });
  return { app, close: () => void api?.then((a) => a.close()) };
}

/** Listen; resolves once the port is bound (port 0: a free one). */
export function startUi(o: UiOptions): Promise<RunningUi> {
  return new Promise((resolve, reject) => {
    let server: ServerType;
    let closeApp = () => {};
    const onError = (e: NodeJS.ErrnoException) => {
      if (e.code === "EADDRINUSE") reject(new FitlabInputError(`port ${o.port} on ${o.host} is in use: give another --port, or --port 0 for a free one`));
      else if (e.code === "EADDRNOTAVAIL" || e.code === "ENOTFOUND") reject(new FitlabInputError(`cannot listen on ${o.host}: not an address of this machine`));
      else if (e.code === "EACCES") reject(new FitlabInputError(`port ${o.port} needs privileges: use one above 1023, or --port 0`));
      else reject(e);
    };
    // the guard needs the real port, known only once bound: route through a holder until then
    let handler: Hono | null = null;
    server = serve({ fetch: (req, env) => (handler ? handler.fetch(req, env) : new Response("starting", { status: 503 })), hostname: o.host, port: o.port }, (info) => {
      const port = (info as AddressInfo).port;
      const guard = makeGuard(o.host, port, o.token);
      const built = appFor(guard, o.runsDir);
      handler = built.app;
      closeApp = built.close;
      const shown = o.host === "0.0.0.0" || o.host === "::" ? "127.0.0.1" : o.host.includes(":") ? `[${o.host}]` : o.host;
      resolve({
        url: `http://${shown}:${port}/?token=${guard.token}`,
        port,
        guard,
        close: () =>
          new Promise<void>((res) => {
            closeApp();
            server.close(() => res());
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      });
    });
    server.once("error", onError);
  });
}
