// Lazy start-up: each command loads only its own modules. The modules a command line loads are traced with an
// ESM resolve hook (test/fixtures/trace); CommonJS packages (better-sqlite3, yaml) are seen through Node's
// require cache printed at exit. Timing goals are measured by bench/startup.mjs, not here.
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

function loaded(args: readonly string[]): { code: number | null; modules: string[] } {
  const trace = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-trace-")), "modules.txt");
  fs.writeFileSync(trace, "");
  const pre = path.join(path.dirname(trace), "cjs.cjs");
  fs.writeFileSync(pre, PRINT_CJS);
  const r = spawnSync(process.execPath, ["--require", pre, "--import", REGISTER, BIN, ...args], { encoding: "utf8", env: { ...process.env, FITLAB_NO_NVIDIA_SMI: "1", FITLAB_TRACE: trace } });
  return { code: r.status, modules: fs.readFileSync(trace, "utf8").split("\n").filter(Boolean) };
}

const has = (mods: readonly string[], part: string) => mods.some((m) => m.includes(part));

describe("lazy start-up", () => {
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

  it("every registered command builds, with the name and description the help lists", async () => {
    for (const c of COMMANDS) {
      const cmd = await c.load();
      expect(cmd.name()).toBe(c.name);
      expect(cmd.description()).toBe(c.description);
    }
  });
});
