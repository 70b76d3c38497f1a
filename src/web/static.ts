// The built front end (Vite's output in dist/app, made by `npm run build`), read once into memory: a
// request can only ever get one of these files, so no client-given path reaches the file system.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** dist/app, from src/web (tests) or dist/web (the package): both sit two folders under the root */
export const APP_DIR = fileURLToPath(new URL("../../dist/app/", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
};

export interface StaticFile {
  readonly body: Buffer;
  readonly type: string;
  /** hashed asset names never change: cache them; index.html is always fetched again */
  readonly immutable: boolean;
}

let files: Map<string, StaticFile> | null = null;

function walk(dir: string, prefix: string, out: Map<string, StaticFile>): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    const url = `${prefix}/${e.name}`;
    if (e.isDirectory()) walk(full, url, out);
    else if (e.isFile()) out.set(url, { body: fs.readFileSync(full), type: TYPES[path.extname(e.name)] ?? "application/octet-stream", immutable: url.startsWith("/assets/") });
  }
}

/** The front end's files by URL path; empty when it was not built. */
export function appFiles(dir: string = APP_DIR): ReadonlyMap<string, StaticFile> {
  if (files) return files;
  const out = new Map<string, StaticFile>();
  if (fs.existsSync(dir)) walk(dir, "", out);
  files = out;
  return out;
}
