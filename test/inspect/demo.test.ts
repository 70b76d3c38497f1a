// `fitlab demo --track BC` end to end: the planted model, a LoRA fine-tune, and the four inspections run as
// plan experiments; the findings name what was planted. Then `fitlab run` runs one of the plan's inspection
// experiments by its key, as a learner would.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fitlab, ready, storeRows, tmpDir } from "./worker-helpers.js";
import { spawnSync } from "node:child_process";
import { BIN } from "./worker-helpers.js";

describe.runIf(ready)("demo, Tracks B and C", () => {
  it("finds the planted previous-token head and massive dimension, compares, and probes every checkpoint", () => {
    const dir = tmpDir("demo-bc");
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [BIN, "demo", "--track", "BC", "--dir", dir, "--runs", path.join(dir, "runs"), "--json"], { encoding: "utf8", env: { ...process.env, FITLAB_NO_NVIDIA_SMI: "1" } });
    console.log(`demo --track BC: ${((Date.now() - t0) / 1000).toFixed(0)} s wall`);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { report: string; runs: { kind: string; findings: string[]; parent_run: string | null }[] };
    expect(j.runs.map((x) => x.kind)).toEqual(["attention", "compare", "hidden", "probe"]);
    const [attention, compare, hidden, probe] = j.runs as [(typeof j.runs)[0], (typeof j.runs)[0], (typeof j.runs)[0], (typeof j.runs)[0]];
    expect(attention.findings[0]).toMatch(/^1 of 16 heads attend mostly to the previous token .*: L1H2/);
    expect(compare.findings[0]).toMatch(/non-zero in 4 of 4 layers/);
    expect(hidden.findings[0]).toMatch(/^dim 17 is massive/);
    expect(probe.findings.join(" ")).toMatch(/decodable from layer 1 on/);
    // the comparison and the probes point at the fine-tune they read
    const rows = storeRows(path.join(dir, "runs"));
    const lora = rows.find((x) => x.kind === "train")!;
    expect(rows.filter((x) => x.parent_run === lora.id).map((x) => x.kind).sort()).toEqual(["compare", "hidden", "probe"]);
    expect(fs.readFileSync(j.report, "utf8")).toContain("<svg");
    // a plan experiment of kind attention_extract runs through `fitlab run`
    const run = fitlab(["run", "B.attention", "--plan", path.join(dir, "tracks-plan.yaml"), "--json"], path.join(dir, "runs"));
    expect(run.code, run.err).toBe(0);
    expect((run.json.runs as { kind: string }[])[0]!.kind).toBe("attention");
  }, 600_000);
});
