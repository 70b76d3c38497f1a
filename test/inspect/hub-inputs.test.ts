// Tracks B and C from the hub: the inspection jobs take a model by id, prompts from a hub text set and labelled
// probe data from a hub set, with the worker's real loading code (huggingface_hub, the `datasets` library)
// against the local stand-in (test/support/hub-standin.ts) through HF_ENDPOINT. Then a plan whose B and C
// experiments have run sections (hub prompts and probe data sized to the plan, adapter_from a training
// experiment) runs through `fitlab run`, and `--dry-run --json` resolves each without a download.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { venvPython } from "../../src/runs/env.js";
import { runJob } from "../../src/runs/worker.js";
import { startHubStandin, type HubStandin } from "../support/hub-standin.js";
import { ready, tmpDir } from "./worker-helpers.js";
import { runCliAsync, workerFailure } from "../helpers.js";

const DEMO = fileURLToPath(new URL("../../data/demo/", import.meta.url));
const FIXTURES = fileURLToPath(new URL("../support/make_hub_fixtures.py", import.meta.url));
const tmp = tmpDir("hub-inputs");
const model = path.join(tmp, "tiny-qwen2");
let hub: HubStandin;
const env = () => ({ HF_ENDPOINT: hub.url, HF_HOME: path.join(tmp, "hf-home"), HF_TOKEN: "", HF_HUB_OFFLINE: "0", HF_HUB_DISABLE_TELEMETRY: "1" });

/** The CLI against the stand-in hub. */
const fitlab = (args: string[]) => runCliAsync(args, env());

const lines = (file: string) => fs.readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);

describe.runIf(ready)("inspection inputs by hub id, against a local stand-in hub", () => {
  beforeAll(async () => {
    await runJob("make_tiny", { out_dir: model, arch: "qwen2", words: JSON.parse(fs.readFileSync(path.join(DEMO, "words.json"), "utf8")) });
    const fx = path.join(tmp, "fx");
    const r = spawnSync(venvPython(), [FIXTURES, fx, path.join(DEMO, "words.json")], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    hub = await startHubStandin([
      { type: "model", id: "fitlab-test/tiny-qwen2", dir: model },
      { type: "dataset", id: "fitlab-test/wikitext", dir: path.join(fx, "wikitext") },
      { type: "dataset", id: "fitlab-test/sst2", dir: path.join(fx, "sst2") },
      { type: "dataset", id: "fitlab-test/conll", dir: path.join(fx, "conll") },
    ]);
  }, 180_000);
  afterAll(async () => hub?.close());

  it("attention on a hub model with hub prompts: rows joined into prompts of at least min_tokens, cut to max_tokens, kept in the run folder with their source", async () => {
    const out = path.join(tmp, "attention");
    const r = await runJob(
      "attention",
      { model: "fitlab-test/tiny-qwen2", prompts: { hub: "fitlab-test/wikitext", config: "wikitext-2-raw-v1", split: "train", select: "first", examples: 3, min_tokens: 30 }, max_tokens: 30, device: "cpu", output_dir: out },
      { env: env() },
    );
    expect(r.prompts).toBe(3);
    expect(r.prompt_tokens).toEqual([30, 30, 30]);
    expect(r.model_source).toEqual({ id: "fitlab-test/tiny-qwen2", revision: "main", sha: hub.sha("fitlab-test/tiny-qwen2"), source: "hub" });
    expect(r.prompts_source).toMatchObject({ id: "fitlab-test/wikitext", config: "wikitext-2-raw-v1", split: "train", sha: hub.sha("fitlab-test/wikitext"), prompts: 3, min_tokens: 30, rows: 40 });
    // each fixture row is 12 words (12 tokens): three rows make a prompt of 36 words, consecutive rows in order
    const prompts = lines(path.join(out, "prompts.jsonl")).map((p) => String(p.text));
    expect(prompts.map((p) => p.split(/\s+/).length)).toEqual([36, 36, 36]);
    const rows = spawnSync(venvPython(), ["-c", `import pyarrow.parquet as pq; print("\\n".join(pq.read_table("${path.join(tmp, "fx", "wikitext", "wikitext-2-raw-v1", "train-00000-of-00001.parquet")}").column("text").to_pylist()[:3]))`], { encoding: "utf8" }).stdout.trim();
    expect(prompts[0]).toBe(rows);
    // a seeded sample: other rows, the same on a second run
    const sample = (seed: number, dir: string) => runJob("attention", { model: "fitlab-test/tiny-qwen2", prompts: { hub: "fitlab-test/wikitext", config: "wikitext-2-raw-v1", split: "train", select: "sample", examples: 2 }, device: "cpu", seed, output_dir: path.join(tmp, dir) }, { env: env() });
    await sample(1, "s1");
    await sample(1, "s2");
    expect(lines(path.join(tmp, "s1", "prompts.jsonl"))).toEqual(lines(path.join(tmp, "s2", "prompts.jsonl")));
    expect(lines(path.join(tmp, "s1", "prompts.jsonl"))).toHaveLength(2);
  }, 300_000);

  it("probe data by id: sentence labels named by the set's ClassLabel, token tags likewise, unlabelled rows and spaced words left out", async () => {
    const s = await runJob("probe", { model: model, data: { hub: "fitlab-test/sst2", split: "train", examples: 30, fields: { text: "sentence", label: "label" } }, device: "cpu", output_dir: path.join(tmp, "probe-sst") }, { env: env() });
    expect(s).toMatchObject({ level: "sentence", examples: 30, classes: ["negative", "positive"] });
    expect(s.data_source).toMatchObject({ id: "fitlab-test/sst2", level: "sentence", class_names: ["negative", "positive"], examples: 30, rows: 60 });
    expect((s.layers as unknown[]).length).toBe(3); // embeddings + 2 layers
    const t = await runJob("probe", { model: model, data: { hub: "fitlab-test/conll" }, device: "cpu", output_dir: path.join(tmp, "probe-conll") }, { env: env() });
    expect(t).toMatchObject({ level: "token", examples: 40 });
    expect(t.data_source).toMatchObject({ level: "token", fields: { tokens: "tokens", labels: "pos_tags" }, skipped: 1, class_names: ["NN", "DT", "VB"] });
    expect(new Set(lines(path.join(tmp, "probe-conll", "probe.jsonl")).flatMap((r) => r.labels as string[]))).toEqual(new Set(["NN", "DT", "VB"]));
    // SST-2's test split has no labels (-1): one line, nothing to probe
    const e = await workerFailure(runJob("probe", { model: model, data: { hub: "fitlab-test/sst2", split: "test" }, device: "cpu", output_dir: path.join(tmp, "probe-test") }, { env: env() }));
    expect(e.kind).toBe("input");
    expect(e.message).toMatch(/^dataset fitlab-test\/sst2 split test has no labelled rows for a probe$/);
    const cols = await workerFailure(runJob("attention", { model: model, prompts: { hub: "fitlab-test/sst2", split: "train" }, device: "cpu", output_dir: path.join(tmp, "no-text") }, { env: env() }));
    expect(cols.message).toMatch(/^dataset fitlab-test\/sst2 has no column 'text' for prompts \(columns: idx, sentence, label\)/);
  }, 300_000);

  describe("a plan's B and C experiments with run sections", () => {
    let plan: string;
    let runs: string;
    beforeAll(() => {
      runs = path.join(tmp, "runs");
      plan = path.join(tmp, "plan.yaml");
      const prompts = "{ hub: fitlab-test/wikitext, config: wikitext-2-raw-v1, split: train, select: sample, min_tokens: 16 }";
      fs.writeFileSync(
        plan,
        `fitlab_plan: 1
name: tracks from the hub
current_gpu: GeForce RTX 5060 Ti 16GB
tracks:
  - id: A
    name: fine-tune
    experiments:
      - id: ft
        model: ${model}
        workload: { kind: lora, seq: 32, batch: 4, rank: 4, alpha: 8 }
        data: { tokens: 2000 }
        run: { dataset: { train: ${path.join(DEMO, "train.jsonl")} }, max_steps: 4, checkpoint_every: 2, eval_every: 2, learning_rate: 0.01, device: cpu }
  - id: B
    name: attention
    experiments:
      - id: attn
        model: ${model}
        workload: { kind: attention_extract, seq: 16, batch: 1, attentionCapture: per-layer }
        data: { prompts: 3 }
        run: { prompts: ${prompts}, device: cpu }
      - id: cmp
        model: ${model}
        workload: { kind: attention_extract, seq: 16, batch: 1, attentionCapture: per-layer }
        data: { prompts: 2 }
        runs: 2
        run: { inspect: compare, adapter_from: A.ft, prompts: ${prompts}, device: cpu }
  - id: C
    name: representations
    experiments:
      - id: probe
        model: ${model}
        workload: { kind: probe, seq: 16, probeSamples: 24, probeClasses: 2 }
        run: { adapter_from: A.ft, probe_data: { hub: fitlab-test/sst2, split: train, fields: { text: sentence, label: label } }, device: cpu }
`,
      );
    });

    it("--dry-run --json: the prompts and probe data sized to the plan, the settings and an estimate, nothing fetched", async () => {
      const before = hub.requests.length;
      const attn = JSON.parse((await fitlab(["run", "B.attn", "--plan", plan, "--dry-run", "--json"])).out);
      expect(attn).toMatchObject({ kind: "inspect", inspect: "attention", prompts: { hub: "fitlab-test/wikitext", examples: 3, min_tokens: 16 }, settings: { workload: "attention_extract", seq: 16, max_tokens: 16 } });
      expect(attn.estimate.fits).toBe(true);
      const probe = JSON.parse((await fitlab(["run", "C.probe", "--plan", plan, "--dry-run", "--json"])).out);
      expect(probe).toMatchObject({ inspect: "probe", adapter_from: "A.ft", probe_data: { hub: "fitlab-test/sst2", examples: 24 } });
      const cmp = JSON.parse((await fitlab(["run", "B.cmp", "--plan", plan, "--dry-run", "--json"])).out);
      expect(cmp.estimate.extra_bytes.adapter_bytes).toBeGreaterThan(0);
      expect(cmp.estimate.passes).toBe(2);
      expect(hub.requests.length).toBe(before);
    }, 120_000);

    it("runs: attention on hub prompts; compare and probe read the newest finished run of adapter_from (one line when there is none)", async () => {
      const early = await fitlab(["run", "B.cmp", "--plan", plan, "--runs", runs, "--json"]);
      expect(early.code).toBe(2);
      expect(early.err.trim()).toMatch(/^fitlab: experiment B.cmp reads the newest finished run of A.ft, and there is none in .*: run `fitlab run A.ft` first$/);
      const attn = await fitlab(["run", "B.attn", "--plan", plan, "--runs", runs, "--json"]);
      expect(attn.code, attn.err).toBe(0);
      const a = JSON.parse(attn.out).runs[0];
      expect(a.tokens).toBe(48); // three prompts of 16 tokens
      const ft = await fitlab(["run", "A.ft", "--plan", plan, "--runs", runs, "--json"]);
      expect(ft.code, ft.err).toBe(0);
      const parent = JSON.parse(ft.out).runs[0].id as string;
      const cmp = await fitlab(["run", "B.cmp", "--plan", plan, "--runs", runs, "--json"]);
      expect(cmp.code, cmp.err).toBe(0);
      const c = JSON.parse(cmp.out).runs[0];
      expect(c.heads.length).toBe(2 * 4); // layers x heads of the tiny model
      expect(c.modules.length).toBeGreaterThan(0);
      const probe = await fitlab(["run", "C.probe", "--plan", plan, "--runs", runs, "--json"]);
      expect(probe.code, probe.err).toBe(0);
      const p = JSON.parse(probe.out).runs[0];
      // the base model (step 0) and each checkpoint of A.ft's run
      expect(p.checkpoints.map((x: { step: number }) => x.step)).toEqual([0, 2, 4]);
      const listed = JSON.parse((await fitlab(["runs", "list", "--runs", runs, "--json"])).out) as { id: string; kind: string; parent_run: string | null }[];
      expect(listed.filter((r) => r.kind === "compare" || r.kind === "probe").every((r) => r.parent_run === parent)).toBe(true);
    }, 600_000);
  });
});
