// A progress bar (cli-progress) on stderr for long steps; silent when stderr is not a terminal.
import cliProgress from "cli-progress";
import type { WorkerEvent } from "../runs/protocol.js";

export function trainingProgress(label: string): { onEvent: (e: WorkerEvent) => void; stop: () => void } {
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {value}/{total} steps | loss {loss} | eval {eval}`, stream: process.stderr, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let lastEval = "-";
  return {
    onEvent: (e) => {
      if (e.type === "progress" && e.total !== undefined && !started) {
        bar.start(e.total, e.step ?? 0, { loss: "-", eval: lastEval });
        started = true;
      } else if (e.type === "metric" && started) bar.update(e.step, { loss: e.loss.toFixed(3), eval: lastEval });
      else if (e.type === "eval") {
        lastEval = e.eval_loss.toFixed(3);
        if (started) bar.update(e.step, { eval: lastEval });
      }
    },
    stop: () => {
      if (started) bar.stop();
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
