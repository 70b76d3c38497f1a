// Following metrics.jsonl as the worker writes it: only complete lines, smoothing as the full read does,
// and a resumed run (the file rewritten in place) starts the follower over.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { analyzeLoss } from "../../src/analyze/loss-curve.js";
import { LiveSeries } from "../../src/web/live.js";
import { trainLine } from "../fixtures/seed-store.mjs";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-live-"));
const line = (s: number, loss = 3 / s) => `${JSON.stringify(trainLine(s, loss))}\n`;

describe("LiveSeries", () => {
  it("takes complete lines only; a half-written line waits for its end", () => {
    const f = path.join(dir, "a.jsonl");
    const live = new LiveSeries(f);
    expect(live.poll()).toEqual({ rows: [], reset: false }); // no file yet
    fs.writeFileSync(f, line(1) + line(2));
    expect(live.poll().rows.map((r) => r.step)).toEqual([1, 2]);
    const third = line(3);
    fs.appendFileSync(f, third.slice(0, 20));
    expect(live.poll().rows).toEqual([]);
    fs.appendFileSync(f, third.slice(20) + JSON.stringify({ type: "eval", step: 3, eval_loss: 0.9 }) + "\n");
    const rows = live.poll().rows;
    expect(rows.map((r) => [r.type, r.step])).toEqual([["train", 3], ["eval", 3]]);
    expect(live.offset).toBe(fs.statSync(f).size);
  });
  it("smooths step by step exactly as the loss-curve analysis smooths the whole run", () => {
    const f = path.join(dir, "b.jsonl");
    const live = new LiveSeries(f);
    const losses = Array.from({ length: 50 }, (_, i) => 2 + Math.sin(i) / (i + 1));
    const got: (number | null)[] = [];
    losses.forEach((l, i) => {
      fs.appendFileSync(f, line(i + 1, l));
      for (const r of live.poll().rows) if (r.type === "train") got.push(r.smoothed);
    });
    expect(got).toEqual(analyzeLoss(losses.map((loss, i) => ({ type: "train" as const, step: i + 1, loss }))).points.map((p) => p.smoothed));
  });
  it("a file rewritten by a resume (a new file in its place, or shorter) resets the follower", () => {
    const f = path.join(dir, "c.jsonl");
    fs.writeFileSync(f, line(1) + line(2) + line(3));
    const live = new LiveSeries(f);
    live.poll();
    // the worker keeps the lines up to the checkpoint and replaces the file (tmp + rename)
    fs.writeFileSync(`${f}.tmp`, line(1) + line(2));
    fs.renameSync(`${f}.tmp`, f);
    const r = live.poll();
    expect(r.reset).toBe(true);
    expect(live.builder.series.train.step).toEqual([1, 2]);
    fs.appendFileSync(f, line(3));
    expect(live.poll()).toMatchObject({ reset: false, rows: [{ step: 3 }] });
  });
});
