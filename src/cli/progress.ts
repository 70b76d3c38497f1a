// A progress bar (cli-progress) on stderr for long steps; silent when stderr is not a terminal. Downloads
// (progress events of job "download", in bytes) get their own bar before the training steps.
import cliProgress from "cli-progress";
import type { WorkerEvent } from "../runs/protocol.js";

export function trainingProgress(label: string): { onEvent: (e: WorkerEvent) => void; stop: () => void } {
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {value}/{total} steps | loss {loss} | eval {eval}`, stream: process.stderr, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let download: cliProgress.SingleBar | null = null;
  let started = false;
  let lastEval = "-";
  const mib = (b: number) => (b / 2 ** 20).toFixed(b < 100 * 2 ** 20 ? 1 : 0);
  return {
    onEvent: (e) => {
      if (e.type === "progress" && e.job === "download") {
        if (e.total === undefined || e.step === undefined) return;
        if (!download) {
          download = new cliProgress.SingleBar({ format: `${label} download [{bar}] {percentage}% | {done}/{all} MiB`, stream: process.stderr, hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic);
          download.start(e.total, e.step, { done: mib(e.step), all: mib(e.total) });
        } else {
          download.setTotal(e.total);
          download.update(e.step, { done: mib(e.step), all: mib(e.total) });
        }
        return;
      }
      if (e.type === "progress" && e.total !== undefined && !started) {
        download?.stop();
        download = null;
        bar.start(e.total, e.step ?? 0, { loss: "-", eval: lastEval });
        started = true;
      } else if (e.type === "metric" && started) bar.update(e.step, { loss: e.loss.toFixed(3), eval: lastEval });
      else if (e.type === "eval") {
        lastEval = e.eval_loss.toFixed(3);
        if (started) bar.update(e.step, { eval: lastEval });
      }
    },
    stop: () => {
      download?.stop();
      if (started) bar.stop();
    },
  };
}

/**
 * Progress of the forgetting evaluations (the base model, then each checkpoint; each loads the model
 * afresh): a bar on a terminal, else one line per evaluation, so a long phase is never silent.
 */
export function evaluationProgress(label: string): { onStart: (total: number) => void; onPoint: (p: { step: number; perplexity: number | null; mc_accuracy: number | null }, done: number, total: number) => void; stop: () => void } {
  const tty = process.stderr.isTTY === true;
  const bar = tty ? new cliProgress.SingleBar({ format: `${label} [{bar}] {value}/{total} evaluations | {last}`, stream: process.stderr, hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic) : null;
  let started = false;
  const describe = (p: { step: number; perplexity: number | null; mc_accuracy: number | null }) =>
    `${p.step === 0 ? "base model" : `step ${p.step}`}: perplexity ${p.perplexity?.toFixed(2) ?? "-"}, MC ${p.mc_accuracy === null ? "-" : `${(p.mc_accuracy * 100).toFixed(0)}%`}`;
  return {
    onStart: (total) => {
      if (bar) {
        bar.start(total, 0, { last: "evaluating the base model..." });
        started = true;
      } else process.stderr.write(`${label}: ${total} evaluations (the base model and ${total - 1} checkpoints)\n`);
    },
    onPoint: (p, done, total) => {
      if (bar) bar.update(done, { last: describe(p) });
      else process.stderr.write(`${label}: ${done}/${total} ${describe(p)}\n`);
    },
    stop: () => {
      if (bar && started) bar.stop();
    },
  };
}

/** A bar over an inspection's steps (prompts, then layers for probes), from the worker's progress events. */
export function inspectProgress(label: string): { onEvent: (e: WorkerEvent) => void; stop: () => void } {
  const bar = new cliProgress.SingleBar({ format: `${label} [{bar}] {value}/{total} {unit}`, stream: process.stderr, hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    onEvent: (e) => {
      if (e.type !== "progress" || e.total === undefined) return;
      if (!started) {
        bar.start(e.total, e.step ?? 0, { unit: e.job === "probe" ? "steps" : "prompts" });
        started = true;
      } else bar.update(e.step ?? 0);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}
