// Tracks B and C of the built-in plan run: every core GPU inspection has a run section whose prompts or probe data
// come from a public hub set, and `fitlab run EXP --dry-run --json` resolves it (what it reads, the settings the
// worker gets, the planner's estimate of the job) without a worker, a network or a download. A training
// experiment's adapter is what compare and probe read, so a burst of one runs that training first.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { checkPlan, DEFAULT_PLAN_PATH, loadPlan } from "../../src/plan/load.js";
import { expectOneLineError, runCli } from "../helpers.js";

const ISOLATED = { FITLAB_HOME: path.join(os.tmpdir(), "fitlab-no-home"), HF_HUB_OFFLINE: "1", HF_ENDPOINT: "http://127.0.0.1:9" };
const dry = (exp: string) => {
  const r = runCli(["run", exp, "--dry-run", "--json"], ISOLATED);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out);
};

// Qwen2.5-7B (config.json: hidden 3584, 28 layers, 4 KV heads x 128, intermediate 18944). LoRA rank 16 on every
// linear layer (A.qlora-basic) holds r x (in + out) per module: q, o 3584+3584; k, v 3584+512; gate, up, down
// 3584+18944; 90,112 r per layer, x 28 layers x 16 = 40,370,176 parameters, kept in fp32 by PEFT: 161,480,704 B.
const QWEN7B_LORA16_FP32_BYTES = 161_480_704;

describe("Tracks B and C of the built-in plan", () => {
  const plan = loadPlan(DEFAULT_PLAN_PATH);
  const core = plan.experiments.filter((e) => (e.track === "B" || e.track === "C") && !e.cpuOnly);

  it("every core GPU experiment has a run section reading a public hub set, prompts long enough for the workload", () => {
    expect(core.map((e) => e.key)).toEqual(["B.attention-extract", "B.attention-compare", "C.activation-extract", "C.linear-probes"]);
    for (const e of core) {
      const r = e.run;
      expect(r, e.key).not.toBeNull();
      const w = e.runs[0]!.workload;
      if (w.kind === "probe") {
        expect(r!.probe_data).toMatchObject({ hub: "stanfordnlp/sst2", split: "train", fields: { text: "sentence", label: "label" } });
      } else {
        const p = r!.prompts as { hub: string; min_tokens: number };
        expect(p.hub, e.key).toBe("Salesforce/wikitext");
        // a prompt shorter than the workload's sequence would make the run measure something smaller than planned
        expect(p.min_tokens, e.key).toBeGreaterThanOrEqual(w.seqLen);
      }
    }
    expect(core.filter((e) => e.run!.adapterFrom).map((e) => [e.key, e.run!.adapterFrom])).toEqual([
      ["B.attention-compare", "A.qlora-basic"],
      ["C.linear-probes", "A.qlora-basic"],
    ]);
    expect(checkPlan(DEFAULT_PLAN_PATH).problems).toEqual([]);
  });

  it("--dry-run --json resolves each one offline: which inspection, its input sized to the plan, settings, an estimate that fits 16 GB", () => {
    const kinds: Record<string, string> = { "B.attention-extract": "attention", "B.attention-compare": "compare", "C.activation-extract": "hidden", "C.linear-probes": "probe" };
    for (const e of core) {
      const d = dry(e.key);
      const w = e.runs[0]!.workload;
      expect(d).toMatchObject({ experiment: e.key, kind: "inspect", inspect: kinds[e.key], model: { id: "Qwen/Qwen2.5-7B", revision: "main" }, adapter_from: e.run!.adapterFrom ?? null });
      expect(Object.keys(d)).toEqual(expect.arrayContaining(["model", "dataset", "settings", "estimate"]));
      expect(d.settings).toMatchObject({ seq: w.seqLen, max_tokens: w.seqLen, batch: 1, quant: "bnb-nf4-dq" });
      // the plan's count travels to the worker: data.prompts prompts, the probe workload's samples
      if (w.kind === "probe") expect(d.probe_data).toMatchObject({ hub: "stanfordnlp/sst2", examples: 5000 });
      else expect(d.prompts).toMatchObject({ hub: "Salesforce/wikitext", examples: e.data.prompts });
      expect(d.estimate.gpu).toMatchObject({ name: "GeForce RTX 5060 Ti 16GB", source: "plan" });
      expect(d.estimate.fits, e.key).toBe(true);
      // 7B weights in NF4 (about 4.5 GiB with the 16-bit embeddings and head) are the floor; the card the ceiling
      expect(d.estimate.peak.device_bytes).toBeGreaterThan(4.5 * 2 ** 30);
      expect(d.estimate.peak.device_bytes).toBeLessThan(d.estimate.gpu.usable_bytes);
    }
  });

  it("the estimate counts what the job holds beside the forward and how often it reads the prompts", () => {
    const att = dry("B.attention-extract");
    const cmp = dry("B.attention-compare");
    const hid = dry("C.activation-extract");
    const probe = dry("C.linear-probes");
    // compare and probe load A.qlora-basic's adapter (rank 16, all linear layers), attention and hidden load none
    expect(cmp.estimate.extra_bytes.adapter_bytes).toBe(QWEN7B_LORA16_FP32_BYTES);
    expect(probe.estimate.extra_bytes.adapter_bytes).toBe(QWEN7B_LORA16_FP32_BYTES);
    expect(att.estimate.extra_bytes).toEqual({ compare_bytes: 0, adapter_bytes: 0, probe_bytes: 0 });
    expect(hid.estimate.extra_bytes.adapter_bytes).toBe(0);
    // compare keeps the base pass's q/k and a second set of probabilities; the probe fits beside the model
    expect(cmp.estimate.extra_bytes.compare_bytes).toBeGreaterThan(0);
    expect(probe.estimate.extra_bytes.probe_bytes).toBeGreaterThan(0);
    expect(cmp.estimate.peak.device_bytes).toBeGreaterThan(att.estimate.peak.device_bytes + QWEN7B_LORA16_FP32_BYTES);
    // time: 200 prompts x 2,048 tokens once; compare twice (with and without the adapter); 5,000 prompts x 2,048
    expect(att.estimate.total_seconds).toBeCloseTo((200 * 2048) / att.estimate.tokens_per_s, -1);
    expect(cmp.estimate.passes).toBe(2);
    expect(cmp.estimate.total_seconds).toBeCloseTo((2 * 200 * 2048) / cmp.estimate.tokens_per_s, -1);
    expect(hid.estimate.total_seconds).toBeCloseTo((5000 * 2048) / hid.estimate.tokens_per_s, -1);
    // the probe reads the base and each checkpoint of A.qlora-basic: 5M tokens x 2 epochs in steps of 1,024 x 2 x 8
    // tokens is at least 611 steps, checkpoints every 200 and at the last: 200, 400, 600, 611 -> 5 models
    expect(probe.estimate.models_read).toBe(5);
    // the features of the 5 models, then 29 probes per model (the fits, at most a fifth of the job here)
    expect(probe.estimate.extraction_seconds).toBeCloseTo((5 * 5000 * 128) / probe.estimate.tokens_per_s, -1);
    expect(probe.estimate.probes_per_model).toBe(29);
    expect(probe.estimate.total_seconds).toBeGreaterThan(probe.estimate.extraction_seconds);
    expect(probe.estimate.total_seconds).toBeLessThan(1.2 * probe.estimate.extraction_seconds);
  });

  it("the text dry run names the inspection, its input and the run it reads", () => {
    const r = runCli(["run", "B.attention-compare", "--dry-run"], ISOLATED);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/compare of prompts \{"hub":"Salesforce\/wikitext".*"examples":200\}, with the newest finished run of A\.qlora-basic/);
    expect(r.out).toMatch(/-> fits/);
  });

  it("a burst of an experiment that reads a training run runs that training first, on the same card", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-burst-bc-"));
    const out = path.join(dir, "t.yaml");
    const r = runCli(["burst", "B.attention-compare", "--out", out], ISOLATED);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/^wrote .*t\.yaml: A\.qlora-basic then B\.attention-compare on 1 x /);
    const t = parse(fs.readFileSync(out, "utf8"));
    expect(t.run).toContain("npx fitlab run A.qlora-basic --plan data/plans/default.yaml && npx fitlab run B.attention-compare --plan data/plans/default.yaml");
    const alone = parse(runCli(["burst", "B.attention-extract"], ISOLATED).out);
    expect(alone.run).toContain("npx fitlab run B.attention-extract --plan");
    expect(alone.run).not.toContain("A.qlora-basic");
  });
});

describe("Track B and C run sections in a user's plan", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-bcplan-"));
  const write = (name: string, run: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(
      f,
      `fitlab_plan: 1
name: t
tracks:
  - id: T
    name: t
    experiments:
      - id: ft
        model: Qwen/Qwen2.5-0.5B
        workload: { kind: lora, seq: 256, batch: 2, rank: 8 }
        data: { tokens: 100000 }
        run: { dataset: a/b }
      - id: attn
        model: Qwen/Qwen2.5-0.5B
        workload: { kind: attention_extract, seq: 256, batch: 1, attentionCapture: per-layer }
        data: { prompts: 10 }
        run: ${run}
`,
    );
    return f;
  };

  it("a hub id string is a hub set; hub prompts keep their fields and take data.prompts as their count", () => {
    const p = loadPlan(write("ok.yaml", "{ prompts: Salesforce/wikitext }"));
    expect(p.experiments[1]!.run!.prompts).toEqual({ hub: "Salesforce/wikitext" });
    const d = JSON.parse(runCli(["run", "T.attn", "--plan", write("ok2.yaml", "{ prompts: { hub: Salesforce/wikitext, config: wikitext-2-raw-v1, select: first } }"), "--dry-run", "--json"], ISOLATED).out);
    expect(d.prompts).toEqual({ hub: "Salesforce/wikitext", config: "wikitext-2-raw-v1", select: "first", examples: 10 });
  });

  it("problems, each with its line: an unknown select, an unknown key, a bad id, adapter_from naming the experiment itself", () => {
    const select = checkPlan(write("select.yaml", "{ prompts: { hub: a/b, select: random } }"));
    expect(select.problems).toEqual([expect.objectContaining({ line: 16, message: expect.stringMatching(/select/) })]);
    const key = checkPlan(write("key.yaml", "{ prompts: { hub: a/b, rows: 3 } }"));
    expect(key.problems[0]).toMatchObject({ line: 16, message: expect.stringMatching(/rows/) });
    const id = checkPlan(write("id.yaml", "{ prompts: { hub: 'not an id!' } }"));
    expect(id.problems[0]!.message).toMatch(/a Hugging Face dataset id/);
    const from = checkPlan(write("from.yaml", "{ prompts: a/b, inspect: compare, adapter_from: T.attn }"));
    expect(from.problems).toEqual([expect.objectContaining({ line: 16, message: expect.stringMatching(/adapter_from names this experiment itself/) })]);
    expectOneLineError(runCli(["plan", "check", path.join(dir, "from.yaml")], ISOLATED), /from\.yaml:16: .*adapter_from names this experiment itself/);
    // naming another inspection: it trains nothing, so it leaves no adapter to read
    const other = write("other.yaml", "{ prompts: a/b }");
    fs.appendFileSync(other, "      - id: cmp\n        model: Qwen/Qwen2.5-0.5B\n        workload: { kind: attention_extract, seq: 256, batch: 1 }\n        data: { prompts: 10 }\n        run: { prompts: a/b, inspect: compare, adapter_from: T.attn }\n");
    expect(checkPlan(other).problems).toEqual([expect.objectContaining({ line: 21, message: expect.stringMatching(/adapter_from names T\.attn, which trains nothing/) })]);
  });
});
