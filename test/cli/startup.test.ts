// Lazy start-up: each command loads only its own modules. The modules a command line loads are traced with an
// ESM resolve hook (test/fixtures/trace); CommonJS packages (better-sqlite3, yaml) are seen through Node's
// require cache printed at exit. Both ways bin/fitlab.js can run are checked: the bundle (dist/cli-bundle, from
// scripts/bundle-cli.mjs), whose loaded chunks are mapped back to the modules in them through its meta.json,
// and the plain compiled modules (FITLAB_NO_BUNDLE=1). Timing goals are measured by bench/startup.mjs, not here.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../../src/cli/registry.js";
import { BIN } from "../helpers.js";

const REGISTER = fileURLToPath(new URL("../fixtures/trace/register.mjs", import.meta.url));
const PRINT_CJS = `process.on("exit", () => { const c = Object.keys(require("node:module")._cache ?? {}); if (process.env.FITLAB_TRACE) require("node:fs").appendFileSync(process.env.FITLAB_TRACE, c.join("\\n") + "\\n"); });`;

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BUNDLE_DIR = path.join(ROOT, "dist/cli-bundle");

/** what a bundle chunk holds: its output path (relative to the root) -> the modules esbuild put in it */
function bundleInputs(): Map<string, string[]> {
  const meta = JSON.parse(fs.readFileSync(path.join(BUNDLE_DIR, "meta.json"), "utf8")) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
  return new Map(Object.entries(meta.outputs).map(([out, o]) => [path.join(ROOT, out), Object.keys(o.inputs).map((i) => path.join(ROOT, i))]));
}

function traceLoad(args: readonly string[], noBundle: boolean): { code: number | null; modules: string[]; chunks: number } {
  const trace = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-trace-")), "modules.txt");
  fs.writeFileSync(trace, "");
  const pre = path.join(path.dirname(trace), "cjs.cjs");
  fs.writeFileSync(pre, PRINT_CJS);
  const r = spawnSync(process.execPath, ["--require", pre, "--import", REGISTER, BIN, ...args], { encoding: "utf8", env: { ...process.env, FITLAB_NO_NVIDIA_SMI: "1", FITLAB_TRACE: trace, FITLAB_NO_BUNDLE: noBundle ? "1" : "" } });
  const seen = fs.readFileSync(trace, "utf8").split("\n").filter(Boolean).map((m) => (m.startsWith("file:") ? fileURLToPath(m) : m));
  const inputs = noBundle ? new Map<string, string[]>() : bundleInputs();
  const chunks = seen.filter((m) => inputs.has(m));
  return { code: r.status, modules: [...seen, ...chunks.flatMap((c) => inputs.get(c) ?? [])], chunks: chunks.length };
}

const has = (mods: readonly string[], part: string) => mods.some((m) => m.includes(part));

describe.each([
  { how: "bundled", noBundle: false },
  { how: "plain modules (FITLAB_NO_BUNDLE=1)", noBundle: true },
])("lazy start-up, $how", ({ noBundle }) => {
  const loaded = (args: readonly string[]) => traceLoad(args, noBundle);

  it("runs the way it says: the bundle's chunks, or none of them", () => {
    const { code, chunks } = loaded(["--version"]);
    expect(code).toBe(0);
    if (noBundle) expect(chunks).toBe(0);
    else expect(chunks).toBeGreaterThan(0);
  });

  it("`fitlab --version` loads commander and nothing of fitlab's commands", () => {
    const { code, modules } = loaded(["--version"]);
    expect(code).toBe(0);
    expect(has(modules, "commander")).toBe(true);
    for (const heavy of ["zod", "better-sqlite3", "@observablehq", "linkedom", "/dist/planner.js", "/dist/cli/estimate.js", "/dist/decide/", "node_modules/yaml"]) expect(has(modules, heavy), heavy).toBe(false);
  });

  it("`fitlab estimate` loads the planner but not SQLite, Plot or the decision", () => {
    const { code, modules } = loaded(["estimate"]);
    expect(code).toBe(0);
    expect(has(modules, "/dist/planner.js")).toBe(true);
    for (const heavy of ["better-sqlite3", "@observablehq", "linkedom", "/dist/decide/", "/dist/cli/decide.js", "/dist/runs/"]) expect(has(modules, heavy), heavy).toBe(false);
  });

  it("`fitlab decide` loads Plot only for HTML, and never SQLite", () => {
    const md = loaded(["decide"]);
    expect(md.code).toBe(0);
    for (const heavy of ["better-sqlite3", "@observablehq", "linkedom", "/dist/runs/store.js"]) expect(has(md.modules, heavy), heavy).toBe(false);
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-")), "d.html");
    const html = loaded(["decide", "--format", "html", "--out", out]);
    expect(html.code).toBe(0);
    expect(has(html.modules, "@observablehq")).toBe(true);
    expect(has(html.modules, "better-sqlite3")).toBe(false);
  });

  it("the trace sees what a command really loads (a control: the run store loads SQLite)", () => {
    const { code, modules } = loaded(["runs", "--help"]);
    expect(code).toBe(0);
    expect(has(modules, "better-sqlite3")).toBe(true);
  });

});

describe("lazy start-up, the registry", () => {
  it("every registered command builds, with the name and description the help lists", async () => {
    for (const c of COMMANDS) {
      const cmd = await c.load();
      expect(cmd.name()).toBe(c.name);
      expect(cmd.description()).toBe(c.description);
    }
  });
});

describe("the bundle keeps data paths", () => {
  // dist/cli-bundle/ sits two folders under the root, as dist/<dir>/ does: a path a module builds from its own
  // URL ("../../data/gpus.yaml") resolves alike from both. A module one folder deep (src/planner.ts) or deeper
  // would resolve differently once bundled, so every module that builds a path from import.meta.url must sit at
  // src/<dir>/<file>.ts.
  it("every module that builds a path from import.meta.url sits at src/<dir>/<file>", () => {
    const src = path.join(ROOT, "src");
    const users = (fs.readdirSync(src, { recursive: true }) as string[])
      .filter((f) => f.endsWith(".ts") && /new URL\([^)]*import\.meta\.url|createRequire\(import\.meta\.url/.test(fs.readFileSync(path.join(src, f), "utf8")));
    expect(users.length).toBeGreaterThan(5); // the catalogs, prices, plans, engine and app folders
    for (const f of users) expect(f.split(path.sep).length, f).toBe(2);
  });
});

describe("the bundle keeps named exports", () => {
  // esbuild turns a CommonJS package reached through a dynamic import("pkg") into a chunk with a default export
  // only: `const { parse } = await import("yaml")` then finds no parse, and the dashboard's check of uploaded
  // plans once passed every plan that way. A bare package may be imported dynamically only if its chunk in the
  // bundle has named exports.
  it("every package a module imports dynamically keeps its named exports in the bundle", async () => {
    const src = path.join(ROOT, "src");
    const pkgs = new Set<string>();
    for (const f of fs.readdirSync(src, { recursive: true }) as string[]) {
      if (!f.endsWith(".ts")) continue;
      for (const m of fs.readFileSync(path.join(src, f), "utf8").matchAll(/(?<!typeof )import\("([^./"][^"]*)"\)/g)) pkgs.add(m[1]!);
    }
    // a package imported dynamically is an entry of its own in the bundle: its chunk's entryPoint names it
    const meta = JSON.parse(fs.readFileSync(path.join(BUNDLE_DIR, "meta.json"), "utf8")) as { outputs: Record<string, { entryPoint?: string }> };
    const external = new Set(["better-sqlite3", "@hono/node-server", "hono", "linkedom", "@observablehq/plot", "cli-progress", "csv-parse", "playwright-core"]);
    expect(pkgs.size).toBeGreaterThan(0);
    for (const pkg of pkgs) {
      if (external.has(pkg)) continue; // Node loads it from node_modules, with its own exports
      const chunks = Object.entries(meta.outputs).filter(([, o]) => o.entryPoint?.startsWith(`node_modules/${pkg}/`)).map(([f]) => f);
      expect(chunks, `${pkg}: imported dynamically in src/ but no chunk of the bundle is its entry`).toHaveLength(1);
      const mod = (await import(path.join(ROOT, chunks[0]!))) as Record<string, unknown>;
      expect(Object.keys(mod).filter((k) => k !== "default").length, `${pkg} (${chunks[0]}) has only a default export in the bundle`).toBeGreaterThan(0);
    }
  });
});

describe("the bundle is never stale", () => {
  it("a compiled module newer than the bundle (a partial `tsc`) makes bin/fitlab.js run the plain modules", () => {
    const bin = path.join(BUNDLE_DIR, "bin.js");
    expect(traceLoad(["--version"], false).chunks).toBeGreaterThan(0);
    const planner = path.join(ROOT, "dist/planner.js");
    const { atime, mtime } = fs.statSync(planner);
    const later = new Date(fs.statSync(bin).mtimeMs + 5000);
    fs.utimesSync(planner, later, later);
    try {
      const r = traceLoad(["--version"], false);
      expect(r.code).toBe(0);
      expect(r.chunks).toBe(0);
      expect(has(r.modules, "/dist/cli/main.js")).toBe(true);
    } finally {
      fs.utimesSync(planner, atime, mtime);
    }
    expect(traceLoad(["--version"], false).chunks).toBeGreaterThan(0);
  });
});
