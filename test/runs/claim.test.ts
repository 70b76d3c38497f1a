// One process runs a run at a time (RunStore.claim, one SQLite write transaction); a run is not started
// where its checkpoints cannot be written (requireFreeDisk); a store newer than this fitlab is refused.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { freeBytes, requireFreeDisk } from "../../src/runs/disk.js";
import { RunStore } from "../../src/runs/store.js";
import { inputError } from "../helpers.js";

const newRun = (store: RunStore) => store.create({ name: "t", model: "m", method: "lora", config: {}, estimate: null });

describe("claiming a run", () => {
  it("a second process cannot take a run a live process holds; a dead holder's run can be taken", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-claim-"));
    const a = new RunStore(dir);
    const b = new RunStore(dir);
    try {
      const run = newRun(a);
      // the creating process holds a new run; claiming it again from that process is fine
      expect(run.pid).toBe(process.pid);
      expect(a.claim(run.id).pid).toBe(process.pid);
      // a live process that is not this one holds the run
      const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"], { stdio: "ignore" });
      try {
        a.update(run.id, { pid: holder.pid! });
        expect(inputError(() => b.claim(run.id)).message).toBe(`run ${run.id} is being run by process ${holder.pid}: wait for it, or stop that process first`);
        expect(b.get(run.id).pid).toBe(holder.pid);
      } finally {
        holder.kill("SIGKILL");
        await new Promise((res) => holder.once("exit", res));
      }
      // the holder is gone: the run shows as interrupted and the next process takes it
      expect(RunStore.displayStatus(b.get(run.id))).toBe("interrupted");
      expect(b.claim(run.id).pid).toBe(process.pid);
    } finally {
      a.close();
      b.close();
    }
  });

  it("a store written by a newer fitlab is refused, not migrated backwards", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-claim-"));
    const db = new Database(path.join(dir, "fitlab.sqlite"));
    db.pragma("user_version = 99");
    db.exec("CREATE TABLE runs (id TEXT, name TEXT, status TEXT, dir TEXT)");
    db.close();
    expect(inputError(() => new RunStore(dir)).message).toMatch(/schema version 99, newer than this fitlab \(\d+\): update fitlab/);
  });
});

describe("free disk before a run", () => {
  it("refuses when the checkpoints would not fit, naming both sizes; passes when they do", () => {
    const dir = os.tmpdir();
    const free = freeBytes(dir)!;
    expect(free).toBeGreaterThan(0);
    expect(inputError(() => requireFreeDisk(dir, free + 2 ** 30, "the checkpoints of t")).message).toMatch(/^not enough free disk in .* for the checkpoints of t: needs [\d,]+ MiB, [\d,]+ MiB free/);
    expect(() => requireFreeDisk(dir, 1024, "the checkpoints of t")).not.toThrow();
  });
});
