// `fitlab demo --track B|C|BC`: Tracks B and C on the CPU in a few minutes. A tiny Qwen2-layout model is built
// with planted structure so the pictures have something to find (make_tiny "plant"): a previous-token head in
// layer 1 that copies whether a word is in a-f to the next position, and a massive dimension on "count", the
// first word of every demo text. A short LoRA fine-tune on the counting pattern gives a base and a fine-tune to
// compare and checkpoints to probe. Everything runs as plan experiments through the same path as `fitlab run`.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadPlan, type Plan } from "../plan/load.js";
import { RunStore } from "../runs/store.js";
import { runJob } from "../runs/worker.js";
import { runInspection, settingsFromPlan as inspectSettings, type InspectReport } from "./inspect.js";
import { settingsFromPlan as trainSettings, trainOne } from "./run.js";

const DEMO_DATA = fileURLToPath(new URL("../../data/demo/", import.meta.url));
const A_TO_F = ["a", "b", "c", "d", "e", "f"];

/** What make_tiny plants in the demo model (engine/fitlab_worker/jobs/make_tiny.py). */
export const DEMO_PLANT = {
  prev_token_head: { layer: 1, head: 2, strength: 8 },
  copy: { from_dim: 5, to_dim: 9, gain: 6 },
  silence_before: 1,
  silence_mlp: true,
  word_sign: { dim: 5, positive: A_TO_F, value: 1 },
  massive: { word: "count", dim: 17, value: 300 },
} as const;

export function tracksPlan(modelDir: string): string {
  const d = (f: string) => JSON.stringify(path.join(DEMO_DATA, f));
  const m = JSON.stringify(modelDir);
  return `# written by \`fitlab demo --track\`: Tracks B and C on a tiny model with planted structure
fitlab_plan: 1
name: fitlab demo, Tracks B and C (tiny Qwen2, CPU)
tracks:
  - id: T
    name: Demo fine-tune
    experiments:
      - id: lora
        title: LoRA fine-tune on the counting pattern (the model that B and C compare and probe)
        model: ${m}
        workload: { kind: lora, seq: 32, batch: 8, rank: 8, alpha: 16, targets: all-linear }
        data: { tokens: 20000, epochs: 1 }
        run: { dataset: { train: ${d("train.jsonl")}, eval_fraction: 0.1 }, learning_rate: 0.01, max_steps: 40, eval_every: 20, checkpoint_every: 20, device: cpu }
  - id: B
    name: Attention
    experiments:
      - id: attention
        title: Attention of every layer and head
        model: ${m}
        workload: { kind: attention_extract, seq: 64, batch: 1 }
        data: { prompts: 4 }
        run: { prompts: ${d("prompts.txt")}, device: cpu }
      - id: compare
        title: Base vs fine-tuned attention
        model: ${m}
        workload: { kind: attention_extract, seq: 64, batch: 1 }
        data: { prompts: 4 }
        run: { prompts: ${d("prompts.txt")}, adapter: T.lora, inspect: compare, device: cpu }
  - id: C
    name: Representations
    experiments:
      - id: hidden
        title: Residual stream, base vs fine-tuned
        model: ${m}
        workload: { kind: hidden_extract, seq: 64, batch: 1 }
        data: { prompts: 4 }
        run: { prompts: ${d("prompts.txt")}, adapter: T.lora, device: cpu }
      - id: probes
        title: Linear probes over the fine-tune's checkpoints
        model: ${m}
        workload: { kind: probe, probeSamples: 96, probeClasses: 2 }
        run: { probe_data: ${d("probe.jsonl")}, probe_run: T.lora, device: cpu }
`;
}

export interface TracksDemo {
  readonly plan: Plan;
  readonly reports: readonly InspectReport[];
  readonly html: string;
}

const PICKS: Record<string, readonly RegExp[]> = {
  attention: [/heads-prev-token-share/, /model-view/, /head-1-2/],
  compare: [/diff-js/, /lora-update/, /pair-/],
  hidden: [/outliers/, /cka-base-tuned/, /logit-lens-0/],
  probe: [/probe-checkpoints-selectivity/, /probe-last/],
};

export async function demoTracks(dir: string, tracks: readonly ("B" | "C")[], quiet: boolean, say: (s: string) => void): Promise<TracksDemo> {
  const modelDir = path.join(dir, "tiny-qwen2-planted");
  if (!fs.existsSync(path.join(modelDir, "model.safetensors"))) {
    say("building a tiny Qwen2-layout model with planted structure (previous-token head, massive dimension)...");
    const words = JSON.parse(fs.readFileSync(path.join(DEMO_DATA, "words.json"), "utf8")) as string[];
    await runJob("make_tiny", { out_dir: modelDir, arch: "qwen2", words, seed: 0, num_layers: 4, num_heads: 4, num_kv_heads: 2, plant: DEMO_PLANT });
  }
  const planFile = path.join(dir, "tracks-plan.yaml");
  fs.writeFileSync(planFile, tracksPlan(modelDir));
  const plan = loadPlan(planFile);
  const ex = (key: string) => plan.experiments.find((e) => e.key === key)!;
  // the same store as the Track A demo: ./runs, $FITLAB_RUNS or `--runs`, where `fitlab runs list` and `fitlab ui` look
  const store = new RunStore();
  const reports: InspectReport[] = [];
  try {
    if (!store.list({ kind: "train", status: "done" }).some((r) => r.name === "T.lora" && r.model === modelDir)) {
      say("fine-tuning it with LoRA on the counting pattern (40 steps, checkpoints every 20)...");
      await trainOne(store, trainSettings(ex("T.lora"))[0]!, quiet);
    }
    const steps = [...(tracks.includes("B") ? ["B.attention", "B.compare"] : []), ...(tracks.includes("C") ? ["C.hidden", "C.probes"] : [])];
    for (const key of steps) {
      say(`${key}: ${ex(key).title}...`);
      reports.push(await runInspection(store, inspectSettings(ex(key)), quiet));
    }
  } finally {
    store.close();
  }
  const section = (r: InspectReport) => {
    const j = r.json as { kind: string; findings?: string[]; charts?: string[]; report?: string };
    const svgs = (j.charts ?? []).filter((c) => (PICKS[j.kind] ?? []).some((re) => re.test(path.basename(c)))).map((c) => fs.readFileSync(c, "utf8"));
    return `<h2>${r.run.name}: ${j.kind}</h2><p><a href="${path.relative(dir, j.report ?? "")}">full report</a> (run ${r.run.id})</p><ul>${(j.findings ?? []).map((f) => `<li>${esc(f)}</li>`).join("")}</ul>${svgs.join("\n")}`;
  };
  const html = path.join(dir, "tracks-report.html");
  fs.writeFileSync(
    html,
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>fitlab demo: Tracks B and C</title><style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}svg{max-width:100%;height:auto;display:block;margin:1em 0}</style></head><body>
<h1>fitlab demo: attention and representations of a tiny Qwen2 and its LoRA fine-tune (CPU)</h1>
<p>The model has planted structure: layer 1, head 2 attends to the previous token and copies whether that word is in a-f; dim 17 carries a massive value on "count". The pictures should find both.</p>
${reports.map(section).join("\n")}
</body></html>
`,
  );
  return { plan, reports, html };
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
