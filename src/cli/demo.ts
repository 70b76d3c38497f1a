// `fitlab demo`: no downloads, CPU, a few minutes. Builds a tiny Qwen2-layout model with random weights,
// then runs a LoRA fine-tune on the bundled learnable pattern, a 3-point learning-rate sweep and the
// forgetting curve, and writes an HTML page with the pictures. The runs go to the run store that
// `fitlab runs list` and `fitlab ui` read by default (./runs or $FITLAB_RUNS; --runs DIR elsewhere).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { analyzeLoss } from "../analyze/loss-curve.js";
import { forgettingFindings } from "../analyze/forgetting.js";
import { compareSweep } from "../analyze/sweep.js";
import { loadPlan } from "../plan/load.js";
import { forgettingCurve } from "../runs/evaluate.js";
import { runsDir } from "../runs/env.js";
import { RunStore } from "../runs/store.js";
import { sweepInstanceId } from "../runs/sweeps.js";
import { readMetrics } from "../runs/train.js";
import { requireWorker, runJob } from "../runs/worker.js";
import { print } from "./output.js";
import { evaluationProgress } from "./progress.js";
import { describeRun, runSummary, settingsFromPlan, trainOne } from "./run.js";
import { forgettingChartList, lossChartSvg } from "./runs.js";
import { writeOut } from "./write.js";
import { demoTracks } from "./demo-tracks.js";
import { FitlabInputError } from "../errors.js";

const DEMO_DATA = fileURLToPath(new URL("../../data/demo/", import.meta.url));

export function demoPlan(modelDir: string): string {
  const d = (f: string) => JSON.stringify(path.join(DEMO_DATA, f));
  return `# written by \`fitlab demo\`: a tiny model and the bundled counting pattern
fitlab_plan: 1
name: fitlab demo (tiny Qwen2, CPU)
tracks:
  - id: D
    name: Demo
    experiments:
      - id: lora
        title: LoRA fine-tune on the counting pattern
        model: ${JSON.stringify(modelDir)}
        workload: { kind: lora, seq: 32, batch: 8, rank: 8, alpha: 16, targets: all-linear }
        data: { tokens: 50000, epochs: 1 }
        run:
          dataset: { train: ${d("train.jsonl")}, eval_fraction: 0.1 }
          learning_rate: 0.01
          max_steps: 120
          eval_every: 20
          checkpoint_every: 20
          general_text: ${d("general.txt")}
          multiple_choice: ${d("mc.jsonl")}
      - id: lr-sweep
        title: Learning-rate sweep (3 points)
        model: ${JSON.stringify(modelDir)}
        workload: { kind: lora, seq: 32, batch: 8, rank: 8, alpha: 16, targets: all-linear }
        data: { tokens: 30000, epochs: 1 }
        sweep: { param: learning_rate, values: [0.001, 0.01, 0.05] }
        run:
          dataset: { train: ${d("train.jsonl")}, eval_fraction: 0.1 }
          max_steps: 60
          eval_every: 20
          checkpoint_every: 60
`;
}

export function demoCommand(): Command {
  return new Command("demo")
    .description("build a tiny model locally and run, on CPU: Track A (LoRA fine-tune, 3-point learning-rate sweep, forgetting curve); --track B/C/BC: attention, base vs fine-tuned, hidden states and probes")
    .option("--dir <dir>", "where the demo writes its model and report", "fitlab-demo")
    .option("--runs <dir>", "run store for its runs (default ./runs or $FITLAB_RUNS, where `fitlab runs list` and `fitlab ui` look)")
    .option("--track <t>", "A (default), B (attention), C (representations), BC or all")
    .option("--json", "print the results as JSON")
    .action(async (o: { dir: string; runs?: string; json?: boolean; track?: string }) => {
      requireWorker();
      const track = (o.track ?? "A").toUpperCase();
      if (!["A", "B", "C", "BC", "ALL"].includes(track)) throw new FitlabInputError(`--track must be A, B, C, BC or all, got "${o.track}"`);
      const dir = path.resolve(o.dir);
      fs.mkdirSync(dir, { recursive: true });
      const say = (s: string) => (o.json ? undefined : process.stderr.write(`${s}\n`));
      if (o.runs) process.env.FITLAB_RUNS = path.resolve(o.runs);
      if (track !== "A" && track !== "ALL") {
        const t = await demoTracks(dir, [...track].filter((x): x is "B" | "C" => x === "B" || x === "C"), o.json === true, say);
        if (o.json) return print({ dir, report: t.html, runs: t.reports.map((r) => r.json) }, true);
        return print([...t.reports.map((r) => r.text), `pictures: ${t.html}`, `runs: in ${runsDir()}; see them with \`npx fitlab runs${o.runs ? ` --runs ${runsDir()}` : ""} list\` or \`npx fitlab ui${o.runs ? ` --runs ${runsDir()}` : ""}\``].join("\n"), false);
      }
      const modelDir = path.join(dir, "tiny-qwen2");
      if (!fs.existsSync(path.join(modelDir, "model.safetensors"))) {
        say("building a tiny Qwen2-layout model with random weights...");
        const words = JSON.parse(fs.readFileSync(path.join(DEMO_DATA, "words.json"), "utf8")) as string[];
        await runJob("make_tiny", { out_dir: modelDir, arch: "qwen2", words, seed: 0 });
      }
      const planFile = path.join(dir, "demo-plan.yaml");
      fs.writeFileSync(planFile, demoPlan(modelDir));
      const plan = loadPlan(planFile);
      const store = new RunStore();
      say(`runs go to ${store.dir}`);
      try {
        const lora = plan.experiments.find((e) => e.id === "lora")!;
        say("1/3 LoRA fine-tune...");
        const main = await trainOne(store, settingsFromPlan(lora)[0]!, o.json === true);
        say("2/3 learning-rate sweep (3 runs)...");
        const sweepId = sweepInstanceId("D.lr-sweep");
        const sweepRuns = [];
        for (const s of settingsFromPlan(plan.experiments.find((e) => e.id === "lr-sweep")!)) sweepRuns.push(await trainOne(store, { ...s, sweep: sweepId }, o.json === true));
        say("3/3 forgetting curve over the fine-tune's checkpoints...");
        const progress = o.json ? null : evaluationProgress("forgetting");
        const points = main.status === "done" ? await forgettingCurve(main, lora.run!.general_text!, lora.run!.multiple_choice!, progress ?? {}).finally(() => progress?.stop()) : [];
        const loss = analyzeLoss(readMetrics(main));
        const sweep = compareSweep(store.list({ sweep: sweepId }), "learning_rate");
        const forgetting = forgettingFindings(points);
        const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>fitlab demo</title><style>body{font-family:system-ui,sans-serif;max-width:900px;margin:2em auto}svg{width:100%;height:auto;border:1px solid #eee;margin:1em 0}</style></head><body>
<h1>fitlab demo: a tiny Qwen2 on CPU</h1>
<h2>LoRA fine-tune</h2><ul>${loss.findings.map((f) => `<li>${f.message}</li>`).join("")}</ul>${lossChartSvg([main])}
<h2>Learning-rate sweep</h2><ul>${sweep.verdict.map((v) => `<li>${v}</li>`).join("")}</ul>${lossChartSvg(store.list({ sweep: sweepId }))}
<h2>Forgetting</h2><ul>${forgetting.map((f) => `<li>${f}</li>`).join("")}</ul>${forgettingChartList(points).join("\n")}
</body></html>\n`;
        const report = path.join(dir, "report.html");
        writeOut(html, report);
        const result = { dir, runs_dir: store.dir, model: modelDir, report, run: runSummary(main), loss_findings: loss.findings, sweep, forgetting: { points, findings: forgetting }, sweep_runs: sweepRuns.map(runSummary) };
        if (track === "ALL") {
          const t = await demoTracks(dir, ["B", "C"], o.json === true, say);
          if (o.json) return print({ ...result, tracks: { report: t.html, runs: t.reports.map((r) => r.json) } }, true);
          print([describeRun(main), ...t.reports.map((r) => r.text), `pictures: ${report} and ${t.html}`].join("\n"), false);
          return;
        }
        if (o.json) return print(result, true);
        print(
          [
            describeRun(main),
            "loss curve:",
            ...loss.findings.map((f) => `  - ${f.message}`),
            "learning-rate sweep:",
            ...sweep.verdict.map((v) => `  - ${v}`),
            "forgetting:",
            ...forgetting.map((f) => `  - ${f}`),
            `pictures: ${report}`,
            `runs: in ${store.dir}; see them with \`npx fitlab runs${o.runs ? ` --runs ${store.dir}` : ""} list\` or \`npx fitlab ui${o.runs ? ` --runs ${store.dir}` : ""}\` (sweep D.lr-sweep: \`npx fitlab runs${o.runs ? ` --runs ${store.dir}` : ""} compare --sweep D.lr-sweep\`)`,
            "Tracks B and C (attention, base vs fine-tuned, hidden states, probes): npx fitlab demo --track BC",
          ].join("\n"),
          false,
        );
      } finally {
        store.close();
      }
    });
}
