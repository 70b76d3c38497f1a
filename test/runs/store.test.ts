// The run store's schema: a store written by an older fitlab opens, keeps its runs, and gains the new columns.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { RunStore } from "../../src/runs/store.js";

// the schema of version 1 (fitlab 0.1.0), verbatim
const V1 = `CREATE TABLE runs (id TEXT PRIMARY KEY, name TEXT NOT NULL, experiment TEXT, sweep TEXT, sweep_value TEXT,
  status TEXT NOT NULL CHECK (status IN ('running','done','failed')), created_at TEXT NOT NULL, finished_at TEXT, pid INTEGER,
  dir TEXT NOT NULL, model TEXT NOT NULL, method TEXT NOT NULL, device TEXT, predicted_allocated_bytes INTEGER,
  predicted_reserved_bytes INTEGER, predicted_tokens_per_s REAL, measured_allocated_bytes INTEGER, measured_reserved_bytes INTEGER,
  measured_tokens_per_s REAL, initial_eval_loss REAL, final_eval_loss REAL, best_eval_loss REAL, steps INTEGER, error_kind TEXT,
  error TEXT, suggestion TEXT); CREATE INDEX runs_sweep ON runs(sweep);`;

describe("RunStore", () => {
  it("new RunStore(dir) migrates a version-1 store: old runs kept as kind train, oom becomes a status", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-store-"));
    const db = new Database(path.join(dir, "fitlab.sqlite"));
    db.exec(V1);
    db.prepare("INSERT INTO runs (id, name, status, created_at, dir, model, method, steps) VALUES ('r1', 'old', 'done', '2026-01-01T00:00:00Z', '/x', 'm', 'lora', 7)").run();
    db.close();
    const store = new RunStore(dir);
    const old = store.get("r1");
    expect(old.kind).toBe("train");
    expect(old.steps).toBe(7);
    expect(old.parent_run).toBeNull();
    store.update("r1", { status: "oom" });
    expect(store.get("r1").status).toBe("oom");
    const probe = store.create({ kind: "probe", name: "p", parentRun: "r1", model: "m", method: "probe", config: {}, estimate: null });
    expect(store.list({ kind: "probe" }).map((r) => r.id)).toEqual([probe.id]);
    expect(store.list({ kind: "train", status: "oom" }).map((r) => r.id)).toEqual(["r1"]);
    store.close();
    // opening again is a no-op
    const again = new RunStore(dir);
    expect(again.list()).toHaveLength(2);
    again.close();
  });

  it("refuses a status outside the vocabulary (the CHECK constraint survives the migration)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-store-"));
    const store = new RunStore(dir);
    const r = store.create({ name: "x", model: "m", method: "lora", config: {}, estimate: null });
    expect(() => store.update(r.id, { status: "weird" as never })).toThrow(/CHECK/);
    store.close();
  });
});
