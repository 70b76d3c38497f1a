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
