#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli/bin.js, from `tsc`) into dist/cli-bundle/: the entry and one chunk per
// lazily loaded command (src/cli/registry.ts keeps its dynamic imports, so each command still loads only its
// own code), with commander, zod and yaml inlined. Resolving and reading ~150 small ES modules (zod alone is
// ~100) is a large share of a CLI call's start-up; a few chunks cost far less (bench/startup.mjs).
// Packages with native parts, files of their own or heavy optional weight stay external: Node loads them from
// node_modules when a command needs them. dist/cli-bundle sits two folders under the root, as every dist/<dir>
// does, so the data paths the modules build from import.meta.url ("../../data/...") hold in the bundle too.
// bin/fitlab.js runs the bundle when it is at least as new as every compiled module in it (inputs.txt), else the
// plain modules: a partial emit (`tsc --watch`, a single file) never runs stale code.
// Usage: node scripts/bundle-cli.mjs   (npm run build runs it after tsc)
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outdir = path.join(root, "dist/cli-bundle");
fs.rmSync(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: ["dist/cli/bin.js"],
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // CommonJS packages bundled into ES modules call require(): give them Node's
  banner: { js: 'import { createRequire as __fitlabRequire } from "node:module"; const require = __fitlabRequire(import.meta.url);' },
  external: ["better-sqlite3", "@hono/node-server", "hono", "linkedom", "@observablehq/plot", "cli-progress", "csv-parse", "playwright-core"],
  metafile: true,
  logLevel: "warning",
  legalComments: "none",
});
// which modules each output file holds: the start-up test maps loaded chunks back to the modules in them
fs.writeFileSync(path.join(outdir, "meta.json"), JSON.stringify(result.metafile));
// the compiled modules the bundle holds, for bin/fitlab.js's freshness check (a short list, read at every start)
const compiled = Object.keys(result.metafile.inputs).filter((f) => f.startsWith("dist/")).map((f) => path.relative("dist", f));
fs.writeFileSync(path.join(outdir, "inputs.txt"), `${compiled.join("\n")}\n`);
const outputs = Object.keys(result.metafile.outputs).filter((f) => f.endsWith(".js"));
console.log(`bundled the CLI into ${path.relative(root, outdir)}: ${outputs.length} files`);
