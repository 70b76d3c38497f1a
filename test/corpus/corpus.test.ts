// fitlab's own corpus of bad inputs (make-corpus.mjs): every case refused with one line on stderr, the
// expected exit code (2 for bad input, 1 for a full disk), no stack trace, no "internal error", within 20 s,
// and nothing written to the run store. Run in this process (main() with argv) so several hundred cases
// take seconds on CI's two cores; a sample also runs through real processes, as users run fitlab.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { loadCalibration } from "../../src/engines/calibration.js";
import { loadEngineProfiles } from "../../src/engines/profile.js";
import { FitlabInputError } from "../../src/errors.js";
import { BIN } from "../helpers.js";
import { runInProcess } from "./in-process.js";
import { makeCorpus, type CorpusCase } from "./make-corpus.mjs";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-corpus-"));
const { cases, store } = makeCorpus(root);
const env = { FITLAB_NO_NVIDIA_SMI: "1", FITLAB_RUNS: store };
const LIMIT_MS = 20_000;

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A case through the CLI (its own environment added), or, for a data file no flag names, through its loader:
 *  a FitlabInputError is what main() prints as "fitlab: MESSAGE" with exit 2; anything else would be exit 1. */
async function runCase(c: CorpusCase): Promise<{ code: number; err: string; ms: number }> {
  if (!c.load) return runInProcess(c.argv, { ...env, ...c.env });
  const t0 = performance.now();
  try {
    if (c.load.kind === "engines") loadEngineProfiles(c.load.file);
    else loadCalibration(c.load.file);
    return { code: 0, err: "", ms: performance.now() - t0 };
  } catch (e) {
    const input = e instanceof FitlabInputError;
    if (input) expect(e.message, `${c.what}: names the file`).toContain(c.load.file);
    return { code: input ? 2 : 1, err: `fitlab: ${input ? e.message : String(e)}\n`, ms: performance.now() - t0 };
  }
}

function expectRefused(c: CorpusCase, r: { code: number | null; err: string; out?: string }): void {
  const lines = r.err.trim().split("\n");
  expect(r.code, `${c.what}: exit code (stderr: ${r.err.trim()})`).toBe(c.exit);
  expect(lines, `${c.what}: one line on stderr, got: ${r.err.slice(0, 2000)}`).toHaveLength(1);
  expect(lines[0]).toMatch(/^fitlab: \S/);
  expect(r.err).not.toMatch(/\n\s+at |internal error|Error: |\u0000/);
  // the message is printable: no raw control bytes from the input
  expect(r.err.trim()).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
}

/** No run rows and no run folders: a refused input leaves the store as it was (empty or absent). */
function expectStoreUntouched(): void {
  if (!fs.existsSync(store)) return;
  const entries = fs.readdirSync(store).filter((n) => !/^fitlab\.sqlite(-wal|-shm)?$/.test(n));
  expect(entries, "run folders in the store").toEqual([]);
  const db = path.join(store, "fitlab.sqlite");
  if (fs.existsSync(db)) {
    const d = new Database(db, { readonly: true });
    try {
      expect((d.prepare("SELECT COUNT(*) AS n FROM runs").get() as { n: number }).n).toBe(0);
    } finally {
      d.close();
    }
  }
}

describe(`the corpus of ${cases.length} bad inputs`, () => {
  it("is several hundred cases across every kind of input", () => {
    expect(cases.length).toBeGreaterThanOrEqual(400);
    const kinds = new Set(cases.map((c) => c.kind));
    for (const k of ["config", "safetensors", "index", "pickle", "gguf", "plan", "dataset", "flags", "store", "output", "prices", "gpufile", "cases", "calibration", "engines", "calibration-yaml"]) expect(kinds).toContain(k);
  });

  it.each(cases.map((c) => [`${c.id} ${c.what}`, c] as const))("%s: refused in one line", async (_name, c) => {
    const r = await runCase(c);
    expectRefused(c, r);
    expect(r.ms).toBeLessThan(LIMIT_MS);
    expectStoreUntouched();
  });

  // refused by its size before a byte is parsed (how fast that is belongs to a benchmark, not to this test)
  it("a 50 MB plan is refused by its size, not parsed", async () => {
    const c = cases.find((x) => x.what === "50 MB plan")!;
    const r = await runInProcess(c.argv, env);
    expect(r.err).toMatch(/above the 1 MiB limit/);
  });

  // every 15th case, plus the ones whose failure shows only in a real process (stack depth, stream errors)
  const sample = cases.filter((c, i) => !c.load && (i % 15 === 0 || /nested 100000|\/dev\/full|alias bomb \(billion|\/dev\/zero \(|100 GiB/.test(c.what)));
  it.each(sample.map((c) => [`${c.id} ${c.what}`, c] as const))("%s: the same through a real process", (_name, c) => {
    const r = spawnSync(process.execPath, [BIN, ...c.argv], { encoding: "utf8", env: { ...process.env, ...env, ...c.env }, timeout: LIMIT_MS });
    expect(r.error, "finished within 20 s").toBeUndefined();
    expectRefused(c, { code: r.status, err: r.stderr });
    expectStoreUntouched();
  });
});
