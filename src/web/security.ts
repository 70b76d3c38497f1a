// Safe by default, for a server that reads a person's runs on their own machine:
// - a token made at start (printed in the URL once), swapped for an HttpOnly, SameSite=Strict cookie;
//   `Authorization: Bearer TOKEN` works too (scripts, curl);
// - the Host header must name the bound address (DNS rebinding: a loopback bind alone does not stop a
//   page on evil.example that re-points its name at 127.0.0.1; CVE-2025-66414 in the MCP TypeScript SDK);
// - state-changing requests must come from our own Origin (CSRF); WebSocket upgrades are not served;
// - no parameter may hold a path: `..`, an absolute path, a backslash or NUL anywhere in the URL is refused;
// - a strict content-security policy (scripts from this origin only, nothing inline, no eval), no framing.
// Conventions follow MLflow 3.5's security middleware and Jupyter's token login (research Area 3, §3.4).
import crypto from "node:crypto";
import os from "node:os";
import type { IncomingMessage } from "node:http";
import type { MiddlewareHandler } from "hono";

export interface Guard {
  readonly token: string;
  /** per port: cookies are shared by every port of a host */
  readonly cookieName: string;
  readonly hosts: ReadonlySet<string>;
  readonly origins: ReadonlySet<string>;
}

const LOOPBACK = ["127.0.0.1", "localhost", "[::1]"];
const WILDCARD = new Set(["0.0.0.0", "::", "[::]"]);

export const isLoopback = (host: string) => host === "127.0.0.1" || host === "localhost" || host === "::1" || host === "[::1]" || host.startsWith("127.");

/** The names a browser may use to reach a server bound to `host`:`port`. */
export function allowedHostNames(host: string, port: number): string[] {
  const bracket = (h: string) => (h.includes(":") && !h.startsWith("[") ? `[${h}]` : h);
  const names = new Set<string>();
  if (WILDCARD.has(host)) {
    for (const l of LOOPBACK) names.add(l);
    for (const addrs of Object.values(os.networkInterfaces())) for (const a of addrs ?? []) names.add(bracket(a.address));
  } else {
    names.add(bracket(host));
    if (isLoopback(host)) for (const l of LOOPBACK) names.add(l);
  }
  return [...names].map((n) => `${n.toLowerCase()}:${port}`);
}

export function makeGuard(host: string, port: number, token: string = crypto.randomBytes(32).toString("base64url")): Guard {
  const hosts = new Set(allowedHostNames(host, port));
  return { token, cookieName: `fitlab_${port}`, hosts, origins: new Set([...hosts].map((h) => `http://${h}`)) };
}

function sameToken(given: string | undefined | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Why a raw request target holds a path-like value, or null when it holds none. */
export function pathProblem(rawTarget: string): string | null {
  const q = rawTarget.indexOf("?");
  const pathPart = q >= 0 ? rawTarget.slice(0, q) : rawTarget;
  // "/api/runs//etc/passwd": an absolute path pasted into the path
  if (pathPart.includes("//")) return "an absolute path";
  const values: string[] = [];
  for (const seg of pathPart.split("/").slice(1)) values.push(seg);
  if (q >= 0) {
    for (const pair of rawTarget.slice(q + 1).split("&")) {
      const eq = pair.indexOf("=");
      values.push(eq >= 0 ? pair.slice(0, eq) : pair, eq >= 0 ? pair.slice(eq + 1) : "");
    }
  }
  for (const raw of values) {
    let v: string;
    try {
      // decode twice: %252e%252e is ".." after a second decode somewhere downstream
      v = decodeURIComponent(decodeURIComponent(raw.replace(/\+/g, " ")));
    } catch {
      return "a malformed escape";
    }
    if (v.includes("\0")) return "a NUL byte";
    if (v.includes("\\")) return "a backslash";
    if (v === ".." || v.startsWith("../") || v.endsWith("/..") || v.includes("/../")) return "a parent-folder step (..)";
    if (v.startsWith("/") || /^[a-zA-Z]:[\\/]/.test(v) || v.startsWith("~")) return "an absolute path";
  }
  return null;
}

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // the charts' SVG (Observable Plot) carries a small <style> of its own; no script can be inlined
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join("; ");

function headers(set: (k: string, v: string) => void): void {
  set("Content-Security-Policy", CSP);
  set("X-Frame-Options", "DENY");
  set("X-Content-Type-Options", "nosniff");
  set("Referrer-Policy", "no-referrer");
  set("Cross-Origin-Opener-Policy", "same-origin");
  set("Cross-Origin-Resource-Policy", "same-origin");
}

const SAFE_METHODS = new Set(["GET", "HEAD"]);

/** Every request passes here first; nothing else runs unless it passes. */
export function guardMiddleware(g: Guard): MiddlewareHandler<{ Bindings: { incoming: IncomingMessage } }> {
  return async (c, next) => {
    const deny = (status: 401 | 403 | 400 | 405, message: string) => {
      const res = c.json({ error: message }, status);
      headers((k, v) => res.headers.set(k, v));
      return res;
    };
    const host = (c.req.header("host") ?? "").toLowerCase();
    if (!g.hosts.has(host)) return deny(403, `host "${host}" is not this server's address (DNS rebinding guard)`);
    if (c.req.header("upgrade")) return deny(400, "no WebSocket here: live updates are server-sent events");
    const raw = c.env?.incoming?.url ?? new URL(c.req.url).pathname + new URL(c.req.url).search;
    const problem = pathProblem(raw);
    if (problem) return deny(400, `refused: the request holds ${problem}; runs are addressed by id only`);

    const url = new URL(c.req.url);
    const viaCookie = sameToken(cookie(c.req.header("cookie"), g.cookieName), g.token);
    const bearer = /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "")?.[1];
    const viaBearer = sameToken(bearer, g.token);
    // the printed URL: swap the token for a cookie and drop it from the address bar
    if (url.searchParams.has("token") && c.req.method === "GET" && url.pathname === "/") {
      if (!sameToken(url.searchParams.get("token"), g.token)) return deny(401, "wrong token: open the URL `fitlab ui` printed");
      const res = c.redirect("/", 302);
      res.headers.append("Set-Cookie", `${g.cookieName}=${g.token}; HttpOnly; SameSite=Strict; Path=/`);
      headers((k, v) => res.headers.set(k, v));
      return res;
    }
    if (!viaCookie && !viaBearer) return deny(401, "no token: open the URL `fitlab ui` printed (or send Authorization: Bearer TOKEN)");
    if (!SAFE_METHODS.has(c.req.method)) {
      const origin = c.req.header("origin");
      const site = c.req.header("sec-fetch-site");
      if (origin ? !g.origins.has(origin.toLowerCase()) : !viaBearer) return deny(403, `origin "${origin ?? "none"}" may not change anything here`);
      if (site && site !== "same-origin" && site !== "none") return deny(403, `a ${site} request may not change anything here`);
    }
    await next();
    headers((k, v) => c.res.headers.set(k, v));
  };
}
